-- The ageing structure of each sales unit at month ends, as the ledger read when the
-- snapshot was taken (a month-end job, or on demand for a past month), for the trend.
CREATE TABLE ageing_snapshots (
    month_end DATE NOT NULL,
    currency TEXT NOT NULL,
    -- '' for the items issued outside any sales unit.
    sales_unit_key TEXT NOT NULL,
    -- The day limits the buckets were cut at, comma-separated, and the amounts as a JSON array.
    bucket_limits TEXT NOT NULL,
    buckets_minor TEXT NOT NULL,
    outstanding_minor BIGINT NOT NULL,
    taken_at TIMESTAMP NOT NULL,
    PRIMARY KEY (month_end, currency, sales_unit_key)
);
