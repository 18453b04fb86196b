-- Collection targets (seed 004): what each collector (the account manager items were issued
-- under) is to collect in a month, in one currency.
CREATE TABLE collection_targets (
    collector_id TEXT NOT NULL REFERENCES users (id),
    month_start DATE NOT NULL,
    currency TEXT NOT NULL,
    target_minor BIGINT NOT NULL CHECK (target_minor > 0),
    set_at TIMESTAMP NOT NULL,
    set_by TEXT NOT NULL REFERENCES users (id),
    PRIMARY KEY (collector_id, month_start, currency)
);
-- What was collected in a period: allocations by day.
CREATE INDEX receivable_reductions_day_idx ON receivable_reductions (reduced_on, kind);
