DROP TABLE financial_statements;
