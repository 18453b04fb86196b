DROP TABLE leads;
DROP INDEX customers_name_key_idx;
ALTER TABLE customers DROP COLUMN name_key;
