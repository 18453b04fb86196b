DROP TABLE segmentation_overrides;
DROP TABLE segmentation_results;
DROP TABLE segmentation_runs;
DROP TABLE settings_history;
