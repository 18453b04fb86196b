-- An order's cost and number of distinct products, kept with its amount: what analysis
-- (the value score's profit and order structure) reads of every order without its lines.
ALTER TABLE orders ADD COLUMN cost_minor BIGINT NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN product_kinds BIGINT NOT NULL DEFAULT 0;
UPDATE orders SET
    cost_minor = COALESCE((SELECT SUM(l.quantity * l.unit_cost_minor) FROM order_lines l
                           WHERE l.order_id = orders.id), 0),
    product_kinds = (SELECT COUNT(DISTINCT l.product_code) FROM order_lines l
                     WHERE l.order_id = orders.id);
