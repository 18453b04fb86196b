DROP INDEX contacts_updated_idx;
DROP INDEX tasks_due_idx;
DROP INDEX tasks_created_idx;
DROP INDEX tasks_updated_idx;
DROP INDEX leads_updated_idx;
DROP INDEX orders_created_idx;
DROP INDEX orders_updated_idx;
