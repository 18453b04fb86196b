DROP INDEX contacts_updated_idx;
DROP INDEX tasks_updated_idx;
DROP INDEX leads_updated_idx;
DROP INDEX orders_updated_idx;
