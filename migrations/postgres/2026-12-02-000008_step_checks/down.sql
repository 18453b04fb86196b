ALTER TABLE orders DROP COLUMN credit_check;
