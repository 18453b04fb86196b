-- Every published version of a settings document, so that a run names the policy version it
-- graded by and old versions stay readable. The versions written before are carried over.
CREATE TABLE settings_history (
    key TEXT NOT NULL,
    version BIGINT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (key, version)
);
INSERT INTO settings_history (key, version, value)
    SELECT key, (value::json->>'version')::BIGINT, value FROM settings
    WHERE key IN ('company', 'allowance_policy', 'dunning_policy', 'credit_template', 'credit_policy');

-- A segmentation run is a job (same id): the job holds its state and progress, the run what
-- it graded by and what it found.
CREATE TABLE segmentation_runs (
    id TEXT PRIMARY KEY REFERENCES jobs (id),
    as_of DATE NOT NULL,
    policy_version BIGINT NOT NULL,
    sales_unit_id TEXT REFERENCES sales_units (id),
    currency TEXT NOT NULL,
    models TEXT,
    excluded_orders BIGINT,
    pareto TEXT,
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id)
);
CREATE INDEX segmentation_runs_as_of_idx ON segmentation_runs (as_of, id);

-- One customer's grades in one run; the columns lists filter on, the explanation in detail.
CREATE TABLE segmentation_results (
    run_id TEXT NOT NULL REFERENCES segmentation_runs (id),
    customer_id TEXT NOT NULL REFERENCES customers (id),
    sales_unit_id TEXT,
    abc_class TEXT NOT NULL,
    abc_rank BIGINT NOT NULL,
    measure_minor BIGINT NOT NULL,
    score_total DOUBLE PRECISION NOT NULL,
    grade TEXT NOT NULL,
    rfm_segment TEXT,
    quadrant TEXT,
    tier TEXT NOT NULL,
    churn_probability DOUBLE PRECISION,
    clv_minor BIGINT,
    negative_value BOOLEAN NOT NULL,
    detail TEXT NOT NULL,
    PRIMARY KEY (run_id, customer_id)
);
CREATE INDEX segmentation_results_customer_idx ON segmentation_results (customer_id, run_id);

-- A manual grade, in force once another person approved it, until it expires.
CREATE TABLE segmentation_overrides (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    grade TEXT NOT NULL,
    reason TEXT NOT NULL,
    expires_on DATE NOT NULL,
    status TEXT NOT NULL,
    requested_by TEXT NOT NULL REFERENCES users (id),
    requested_at TIMESTAMP NOT NULL,
    decided_by TEXT REFERENCES users (id),
    decided_at TIMESTAMP
);
CREATE INDEX segmentation_overrides_customer_idx ON segmentation_overrides (customer_id, requested_at);
