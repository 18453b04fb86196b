DROP INDEX receivables_open_customer_idx;
DROP TABLE credit_overrides;
