-- Credit evaluations (seed 004): the working-capital and characteristic models applied to
-- a statement, with the limits and rating they gave. `record` is the whole evaluation as
-- answered (inputs, pre-scores, template and policy as used, results), so it reads back
-- and explains itself after the template or policy change; the columns are what lists and
-- the credit check select by.
CREATE TABLE credit_evaluations (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    statement_id TEXT NOT NULL REFERENCES financial_statements (id),
    currency TEXT NOT NULL,
    final_limit_minor BIGINT NOT NULL CHECK (final_limit_minor >= 0),
    rating TEXT NOT NULL,
    record TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id)
);
CREATE INDEX credit_evaluations_customer_idx ON credit_evaluations (customer_id, created_at);
