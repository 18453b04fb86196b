-- Credit overrides: one order let through a blocking credit check once, approved by someone
-- whose approval limit covers the amount; `used_at` marks the single use.
CREATE TABLE credit_overrides (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders (id),
    customer_id TEXT NOT NULL REFERENCES customers (id),
    currency TEXT NOT NULL,
    amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
    reason TEXT NOT NULL,
    expires_on DATE NOT NULL,
    used_at TIMESTAMP,
    used_step TEXT,
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id)
);
CREATE INDEX credit_overrides_order_idx ON credit_overrides (order_id, created_at);

-- The credit check reads a customer's open items on every order step.
CREATE INDEX receivables_open_customer_idx ON receivables (customer_id, currency, due_on)
    WHERE open_minor > 0;
