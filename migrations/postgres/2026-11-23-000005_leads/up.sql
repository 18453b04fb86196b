-- The legal name folded as credo_core::text::search_key folds it, for exact duplicate checks
-- of imported leads. Rows written before this column are folded here by lower(); the
-- server writes the exact key from now on.
ALTER TABLE customers ADD COLUMN name_key TEXT NOT NULL DEFAULT '';
UPDATE customers SET name_key = lower(trim(legal_name));
CREATE INDEX customers_name_key_idx ON customers (name_key);

CREATE TABLE leads (
    id TEXT PRIMARY KEY,
    company_name TEXT NOT NULL,
    company_key TEXT NOT NULL,
    contact_name TEXT,
    contact_key TEXT NOT NULL,
    contact_title TEXT,
    phone TEXT,
    email TEXT,
    country TEXT,
    channel TEXT NOT NULL,
    source_detail TEXT,
    note TEXT,
    money BOOLEAN NOT NULL,
    authority BOOLEAN NOT NULL,
    need BOOLEAN NOT NULL,
    stage TEXT NOT NULL,
    furthest_stage TEXT NOT NULL,
    stage_changed_at TIMESTAMP NOT NULL,
    lost_reason TEXT,
    customer_id TEXT REFERENCES customers (id),
    owner_id TEXT NOT NULL REFERENCES users (id),
    sales_unit_id TEXT REFERENCES sales_units (id),
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    updated_at TIMESTAMP NOT NULL,
    updated_by TEXT NOT NULL REFERENCES users (id),
    version BIGINT NOT NULL
);
CREATE INDEX leads_duplicate_idx ON leads (company_key, contact_key);
CREATE INDEX leads_created_idx ON leads (created_at, id);
CREATE INDEX leads_owner_idx ON leads (owner_id, created_at, id);
CREATE INDEX leads_unit_idx ON leads (sales_unit_id, created_at, id);
CREATE INDEX leads_stage_idx ON leads (stage, created_at, id);
