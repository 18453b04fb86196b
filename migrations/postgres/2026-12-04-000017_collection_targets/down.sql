DROP INDEX receivable_reductions_day_idx;
DROP TABLE collection_targets;
