DROP TABLE tasks;
DROP TABLE visits;
DROP TABLE interactions;
DROP TABLE customer_events;
DROP INDEX customers_review_due_idx;
DROP INDEX customers_refreshed_idx;
ALTER TABLE customers DROP COLUMN credit_data_refreshed_at;
ALTER TABLE customers DROP COLUMN credit_review_due_since;
