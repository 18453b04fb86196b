DROP TABLE fx_rate_changes;
