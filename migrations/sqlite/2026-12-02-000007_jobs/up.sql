-- Background jobs. A runner claims a queued job whose time has come (or a running one whose
-- lease ran out: its runner died) and holds it under a lease it renews while it works.
-- `schedule_key` makes a periodic job exist once per period however many instances schedule it.
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    payload TEXT NOT NULL,
    schedule_key TEXT UNIQUE,
    run_at TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    max_attempts INTEGER NOT NULL,
    runner TEXT,
    lease_until TEXT,
    processed INTEGER NOT NULL,
    total INTEGER,
    started_at TEXT,
    finished_at TEXT,
    error TEXT,
    result TEXT,
    result_link TEXT,
    created_at TEXT NOT NULL,
    created_by TEXT
);
CREATE INDEX jobs_due_idx ON jobs (state, run_at);
