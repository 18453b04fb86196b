DROP TABLE product_trials;
DROP TABLE order_claims;
DROP TABLE order_lines;
DROP TABLE orders;
