-- Why customers were lost (seed 002), the latest a customer's current reason.
CREATE TABLE customer_losses (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    reason TEXT NOT NULL,
    note TEXT,
    lost_on DATE NOT NULL,
    recorded_by TEXT NOT NULL REFERENCES users (id),
    recorded_at TIMESTAMP NOT NULL
);
CREATE INDEX customer_losses_customer_idx ON customer_losses (customer_id, recorded_at);
