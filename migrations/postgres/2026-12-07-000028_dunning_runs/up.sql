-- A dunning run is a job (same id), dry or acting, started by a person or by the day's
-- schedule: the job holds its state and progress, the run what it was asked and what it
-- found, counted as it goes; its entries are what it did (or would do) to each customer.
CREATE TABLE dunning_runs (
    id TEXT PRIMARY KEY REFERENCES jobs (id),
    as_of DATE NOT NULL,
    dry_run BOOLEAN NOT NULL,
    policy_version BIGINT,
    action_count BIGINT NOT NULL,
    held_back_count BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id)
);
CREATE INDEX dunning_runs_created_idx ON dunning_runs (created_at, id);

-- One customer in one run: an action (its level, and the level's rank: 1 the first) or a
-- customer held back (rank 0), as the API shows it.
CREATE TABLE dunning_run_entries (
    run_id TEXT NOT NULL REFERENCES dunning_runs (id),
    customer_id TEXT NOT NULL,
    held_back BOOLEAN NOT NULL,
    level_rank BIGINT NOT NULL,
    level TEXT,
    entry TEXT NOT NULL,
    PRIMARY KEY (run_id, customer_id)
);
CREATE INDEX dunning_run_entries_page_idx
    ON dunning_run_entries (run_id, held_back, level_rank, customer_id);

-- The daily runs made before runs were recorded, with what their jobs counted.
INSERT INTO dunning_runs (id, as_of, dry_run, policy_version, action_count, held_back_count,
                          created_at, created_by)
SELECT id, (payload::json->>'as_of')::DATE, FALSE, NULL,
       COALESCE((result::json->>'actions')::BIGINT, 0),
       COALESCE((result::json->>'held_back')::BIGINT, 0),
       created_at, COALESCE(created_by, '00000000-0000-0000-0000-000000000000')
FROM jobs WHERE kind = 'dunning';
