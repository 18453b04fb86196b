ALTER TABLE orders DROP COLUMN product_kinds;
ALTER TABLE orders DROP COLUMN cost_minor;
