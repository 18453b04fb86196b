DROP INDEX customer_events_kind_idx;
DROP TABLE warning_list_changes;
