-- Early warnings: one per customer, kind and day, each with the account manager's task.
CREATE TABLE credit_alerts (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    kind TEXT NOT NULL,
    detail TEXT NOT NULL,
    raised_on DATE NOT NULL,
    task_id TEXT NOT NULL REFERENCES tasks (id),
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX credit_alerts_once_idx ON credit_alerts (customer_id, kind, raised_on);
CREATE INDEX credit_alerts_raised_idx ON credit_alerts (raised_on, id);
