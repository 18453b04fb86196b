-- Sales orders (seed 001). Totals are not stored: they are summed from the lines, exactly.
CREATE TABLE orders (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    status TEXT NOT NULL,
    reference TEXT,
    currency TEXT NOT NULL,
    ordered_on DATE NOT NULL,
    prepayment_bp BIGINT NOT NULL,
    credit_days BIGINT NOT NULL,
    -- Kept so that lists filter and sort without summing lines.
    amount_minor BIGINT NOT NULL,
    product_trial_id TEXT,
    note TEXT,
    confirmed_on DATE,
    completed_on DATE,
    shipped_on DATE,
    documents_sent_on DATE,
    paid_on DATE,
    closed_on DATE,
    cancelled_on DATE,
    cancel_reason TEXT,
    owner_id TEXT NOT NULL REFERENCES users (id),
    sales_unit_id TEXT REFERENCES sales_units (id),
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    updated_at TIMESTAMP NOT NULL,
    updated_by TEXT NOT NULL REFERENCES users (id),
    version BIGINT NOT NULL
);
-- Keyset pagination newest first, within each filter.
CREATE INDEX orders_ordered_idx ON orders (ordered_on, id);
CREATE INDEX orders_customer_idx ON orders (customer_id, ordered_on, id);
CREATE INDEX orders_owner_idx ON orders (owner_id, ordered_on, id);
CREATE INDEX orders_unit_idx ON orders (sales_unit_id, ordered_on, id);
CREATE INDEX orders_status_idx ON orders (status, ordered_on, id);

CREATE TABLE order_lines (
    order_id TEXT NOT NULL REFERENCES orders (id),
    line_no BIGINT NOT NULL,
    product_code TEXT NOT NULL,
    product_name TEXT NOT NULL,
    quantity BIGINT NOT NULL,
    unit_price_minor BIGINT NOT NULL,
    unit_cost_minor BIGINT NOT NULL,
    PRIMARY KEY (order_id, line_no)
);

CREATE TABLE order_claims (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders (id),
    customer_id TEXT NOT NULL REFERENCES customers (id),
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    reason TEXT NOT NULL,
    raised_on DATE NOT NULL,
    status TEXT NOT NULL,
    settled_amount_minor BIGINT,
    decision_note TEXT,
    decided_by TEXT REFERENCES users (id),
    decided_at TIMESTAMP,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX order_claims_order_idx ON order_claims (order_id, created_at, id);
CREATE INDEX order_claims_customer_idx ON order_claims (customer_id, created_at, id);

CREATE TABLE product_trials (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    product_code TEXT NOT NULL,
    product_name TEXT NOT NULL,
    stage TEXT NOT NULL,
    inquired_on DATE NOT NULL,
    sampled_on DATE,
    ordered_on DATE,
    dropped_on DATE,
    order_id TEXT REFERENCES orders (id),
    note TEXT,
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    updated_at TIMESTAMP NOT NULL,
    updated_by TEXT NOT NULL REFERENCES users (id),
    version BIGINT NOT NULL
);
CREATE INDEX product_trials_customer_idx ON product_trials (customer_id, inquired_on, id);
