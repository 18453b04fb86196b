-- Credit applications (seed 004's workflow) and the agreements approval makes. The
-- workflow's steps are columns: who took each, when, with what note.
CREATE TABLE credit_applications (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    sales_unit_id TEXT REFERENCES sales_units (id),
    currency TEXT NOT NULL,
    requested_limit_minor BIGINT NOT NULL CHECK (requested_limit_minor > 0),
    term_days BIGINT NOT NULL CHECK (term_days >= 0),
    reason TEXT NOT NULL,
    green_channel BOOLEAN NOT NULL,
    status TEXT NOT NULL,
    pre_reviewed_by TEXT REFERENCES users (id),
    pre_reviewed_at TIMESTAMP,
    pre_review_note TEXT,
    evaluation_id TEXT REFERENCES credit_evaluations (id),
    evaluated_by TEXT REFERENCES users (id),
    evaluated_at TIMESTAMP,
    evaluation_note TEXT,
    decided_by TEXT REFERENCES users (id),
    decided_at TIMESTAMP,
    decision_note TEXT,
    agreement_id TEXT,
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id)
);
CREATE INDEX credit_applications_customer_idx ON credit_applications (customer_id, created_at);
CREATE INDEX credit_applications_status_idx ON credit_applications (status, created_at);

-- One line in force per customer and currency: a new one supersedes the old.
CREATE TABLE credit_agreements (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    currency TEXT NOT NULL,
    limit_minor BIGINT NOT NULL CHECK (limit_minor >= 0),
    term_days BIGINT NOT NULL CHECK (term_days >= 0),
    valid_from DATE NOT NULL,
    valid_to DATE NOT NULL CHECK (valid_to >= valid_from),
    guarantees TEXT NOT NULL,
    source TEXT NOT NULL,
    application_id TEXT REFERENCES credit_applications (id),
    evaluation_id TEXT REFERENCES credit_evaluations (id),
    rating TEXT,
    reason TEXT,
    status TEXT NOT NULL,
    ended_by TEXT REFERENCES users (id),
    ended_at TIMESTAMP,
    end_reason TEXT,
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id)
);
CREATE UNIQUE INDEX credit_agreements_active_idx ON credit_agreements (customer_id, currency)
    WHERE status = 'active';
CREATE INDEX credit_agreements_customer_idx ON credit_agreements (customer_id, created_at);
