-- Every change of an exchange rate: a day's first rate or a correction of it, applied at once
-- within the company's band, else pending until a second rate keeper approves (or rejects)
-- it. Applied changes are the history of each day's rate: a correction keeps the rate it
-- replaced.
CREATE TABLE fx_rate_changes (
    id TEXT PRIMARY KEY NOT NULL,
    currency TEXT NOT NULL,
    rate_on DATE NOT NULL,
    rate TEXT NOT NULL,
    previous_rate TEXT,
    reason TEXT,
    deviation_bp BIGINT,
    status TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at TIMESTAMP NOT NULL,
    decided_by TEXT,
    decided_at TIMESTAMP,
    decision_note TEXT
);
CREATE INDEX fx_rate_changes_by_time ON fx_rate_changes (requested_at, id);
CREATE INDEX fx_rate_changes_by_day ON fx_rate_changes (currency, rate_on);
