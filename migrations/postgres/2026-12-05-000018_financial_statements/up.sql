-- Customers' financial statements (seed 004's financial analysis): one per customer, period
-- end and audit status. The figures are the statement as filed, a JSON document of integer
-- minor units (balance sheet, income statement, optional cash flow and market value of
-- equity): read whole, never queried by amount; the ratios are derived on read.
CREATE TABLE financial_statements (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    period_end DATE NOT NULL,
    currency TEXT NOT NULL,
    audited BOOLEAN NOT NULL,
    figures TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id)
);
CREATE UNIQUE INDEX financial_statements_period_idx
    ON financial_statements (customer_id, period_end, audited);
