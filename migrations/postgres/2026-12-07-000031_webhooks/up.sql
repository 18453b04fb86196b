-- Receivers of events (Standard Webhooks). The secret signs what is sent, so it is kept as
-- is; after a rotation the one it replaced signs beside it until `previous_secret_until`.
CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    description TEXT,
    event_types TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    disabled_reason TEXT,
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_secret_until TIMESTAMP,
    -- The first failure since the last success: every delivery failing for 5 days disables.
    failing_since TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    updated_at TIMESTAMP NOT NULL,
    updated_by TEXT NOT NULL REFERENCES users (id),
    version BIGINT NOT NULL
);
CREATE INDEX webhook_endpoints_created_idx ON webhook_endpoints (created_at, id);

-- The outbox: an event is written in the transaction of the change it tells of, with a
-- delivery for each endpoint subscribed then, so a rolled-back change sends nothing and a
-- committed one is sent even if the process dies right after.
CREATE TABLE webhook_events (
    id TEXT PRIMARY KEY,
    event_type TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX webhook_events_created_idx ON webhook_events (created_at, id);

-- One event to one endpoint: claimed by one sender at a time (a lease, like jobs), tried on
-- the retry schedule until delivered or failed.
CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at TIMESTAMP,
    lease_until TIMESTAMP,
    sender TEXT,
    created_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (event_id);

-- Each attempt of a delivery: when, the answer's status (none when no answer came), how
-- long it took, the first KiB of the answer or what went wrong.
CREATE TABLE webhook_attempts (
    id TEXT PRIMARY KEY,
    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    at TIMESTAMP NOT NULL,
    status_code BIGINT,
    duration_ms BIGINT NOT NULL,
    response TEXT,
    error TEXT
);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id, at);
