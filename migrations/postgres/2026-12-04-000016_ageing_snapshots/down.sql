DROP TABLE ageing_snapshots;
