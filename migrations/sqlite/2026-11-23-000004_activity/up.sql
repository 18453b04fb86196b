-- Credit-review flag set by customer events, and the day the basic credit data was last
-- refreshed (seed 004: every 6 months). A file counts as refreshed when it was created.
ALTER TABLE customers ADD COLUMN credit_review_due_since TEXT;
ALTER TABLE customers ADD COLUMN credit_data_refreshed_at TEXT NOT NULL DEFAULT '1970-01-01 00:00:00';
UPDATE customers SET credit_data_refreshed_at = created_at;
CREATE INDEX customers_refreshed_idx ON customers (credit_data_refreshed_at, id);
CREATE INDEX customers_review_due_idx ON customers (credit_review_due_since, id);

CREATE TABLE customer_events (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    kind TEXT NOT NULL,
    occurred_on TEXT NOT NULL,
    department TEXT NOT NULL,
    description TEXT NOT NULL,
    opens_credit_review INTEGER NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TEXT NOT NULL
);
CREATE INDEX customer_events_customer_idx ON customer_events (customer_id, created_at, id);

CREATE TABLE interactions (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    channel TEXT NOT NULL,
    direction TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    -- {"user_ids": [...], "contact_ids": [...]}
    participants TEXT NOT NULL,
    summary TEXT NOT NULL,
    outcome TEXT,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TEXT NOT NULL
);
CREATE INDEX interactions_customer_idx ON interactions (customer_id, occurred_at, id);

CREATE TABLE visits (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    agent_id TEXT NOT NULL REFERENCES users (id),
    contact_id TEXT REFERENCES contacts (id),
    planned_at TEXT NOT NULL,
    purpose TEXT NOT NULL,
    status TEXT NOT NULL,
    -- Positions in micro-degrees.
    check_in_at TEXT,
    check_in_lat INTEGER,
    check_in_lon INTEGER,
    check_out_at TEXT,
    check_out_lat INTEGER,
    check_out_lon INTEGER,
    outcome TEXT,
    next_step TEXT,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL REFERENCES users (id),
    version INTEGER NOT NULL
);
CREATE INDEX visits_agent_idx ON visits (agent_id, planned_at, id);
CREATE INDEX visits_customer_idx ON visits (customer_id, planned_at, id);

CREATE TABLE tasks (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    assignee_id TEXT NOT NULL REFERENCES users (id),
    customer_id TEXT REFERENCES customers (id),
    due_on TEXT NOT NULL,
    note TEXT,
    status TEXT NOT NULL,
    sales_unit_id TEXT REFERENCES sales_units (id),
    completed_at TEXT,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL REFERENCES users (id),
    version INTEGER NOT NULL
);
CREATE INDEX tasks_assignee_idx ON tasks (assignee_id, due_on, id);
CREATE INDEX tasks_unit_idx ON tasks (sales_unit_id, due_on, id);
CREATE INDEX tasks_customer_idx ON tasks (customer_id, due_on, id);
