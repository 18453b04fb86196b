-- The check an order's last confirm or ship step passed (JSON: decision, reasons, the
-- customer's open orders when checked).
ALTER TABLE orders ADD COLUMN credit_check TEXT;
