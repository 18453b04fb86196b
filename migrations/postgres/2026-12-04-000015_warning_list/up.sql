-- The bad-customer warning list (seed 004): listing and lifting by hand, with a reason. The
-- other reasons (suits, arrears) are read from the customer events and the ledger.
CREATE TABLE warning_list_changes (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    -- TRUE: listed by hand; FALSE: lifted (which also closes the suits filed before).
    listed BOOLEAN NOT NULL,
    reason TEXT NOT NULL,
    changed_on DATE NOT NULL,
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id)
);
CREATE INDEX warning_list_changes_customer_idx ON warning_list_changes (customer_id, created_at);
CREATE INDEX customer_events_kind_idx ON customer_events (kind, customer_id);
