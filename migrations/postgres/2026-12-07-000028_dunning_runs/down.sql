DROP TABLE dunning_run_entries;
DROP TABLE dunning_runs;
