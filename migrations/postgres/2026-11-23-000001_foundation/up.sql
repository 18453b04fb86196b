-- Foundation: settings, sales units, users, sessions, idempotency, the customer file, audit.
-- Ids are UUID text, times UTC TIMESTAMP, money BIGINT minor units (see docs/API.md).

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE sales_units (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    email TEXT,
    role TEXT NOT NULL,
    sales_unit_id TEXT REFERENCES sales_units (id),
    password_hash TEXT NOT NULL,
    disabled BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX users_sales_unit_idx ON users (sales_unit_id);

CREATE TABLE refresh_tokens (
    id TEXT PRIMARY KEY,
    family_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    token_hash TEXT NOT NULL UNIQUE,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    revoked_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);

CREATE TABLE login_failures (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    failed_at TIMESTAMP NOT NULL
);
CREATE INDEX login_failures_username_idx ON login_failures (username, failed_at);

CREATE TABLE idempotency_keys (
    user_id TEXT NOT NULL REFERENCES users (id),
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status_code BIGINT,
    response_body TEXT,
    response_etag TEXT,
    response_location TEXT,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, idempotency_key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

CREATE TABLE customers (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    legal_name TEXT NOT NULL,
    short_name TEXT,
    search_key TEXT NOT NULL,
    country TEXT,
    region TEXT,
    address TEXT,
    industry TEXT,
    source_channel TEXT,
    communication_status TEXT,
    uscc TEXT UNIQUE,
    operating_status TEXT,
    founded_on DATE,
    birthday DATE,
    -- Descriptive fields no query filters on, as one JSON object (store::customers::Details).
    details TEXT NOT NULL,
    lifecycle_stage TEXT NOT NULL,
    owner_id TEXT NOT NULL REFERENCES users (id),
    sales_unit_id TEXT REFERENCES sales_units (id),
    archived_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    updated_at TIMESTAMP NOT NULL,
    updated_by TEXT NOT NULL REFERENCES users (id),
    version BIGINT NOT NULL
);
-- Keyset pagination: every sort order has an index ending in the id tie-breaker.
CREATE INDEX customers_name_idx ON customers (legal_name, id);
CREATE INDEX customers_created_idx ON customers (created_at, id);
CREATE INDEX customers_updated_idx ON customers (updated_at, id);
CREATE INDEX customers_owner_idx ON customers (owner_id, legal_name, id);
CREATE INDEX customers_unit_idx ON customers (sales_unit_id, legal_name, id);
CREATE INDEX customers_lifecycle_idx ON customers (lifecycle_stage, legal_name, id);
CREATE INDEX customers_country_idx ON customers (country, legal_name, id);
CREATE INDEX customers_industry_idx ON customers (industry, legal_name, id);
-- In public, so that databases holding several schemas (one per test) share one copy.
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
CREATE INDEX customers_search_trgm_idx ON customers USING gin (search_key public.gin_trgm_ops);

CREATE TABLE customer_tags (
    customer_id TEXT NOT NULL REFERENCES customers (id),
    tag TEXT NOT NULL,
    PRIMARY KEY (customer_id, tag)
);
CREATE INDEX customer_tags_tag_idx ON customer_tags (tag, customer_id);

CREATE TABLE contacts (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    name TEXT NOT NULL,
    search_key TEXT NOT NULL,
    role TEXT,
    title TEXT,
    phone TEXT,
    email TEXT,
    decision_authority TEXT,
    is_primary BOOLEAN NOT NULL,
    notes TEXT,
    archived_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    updated_at TIMESTAMP NOT NULL,
    updated_by TEXT NOT NULL REFERENCES users (id),
    version BIGINT NOT NULL
);
CREATE INDEX contacts_customer_idx ON contacts (customer_id, name, id);
CREATE INDEX contacts_search_trgm_idx ON contacts USING gin (search_key public.gin_trgm_ops);

CREATE TABLE ownership_transfers (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    from_owner_id TEXT NOT NULL REFERENCES users (id),
    to_owner_id TEXT NOT NULL REFERENCES users (id),
    from_sales_unit_id TEXT REFERENCES sales_units (id),
    to_sales_unit_id TEXT REFERENCES sales_units (id),
    reason TEXT NOT NULL,
    transferred_by TEXT NOT NULL REFERENCES users (id),
    transferred_at TIMESTAMP NOT NULL
);
CREATE INDEX ownership_transfers_customer_idx ON ownership_transfers (customer_id, transferred_at);

CREATE TABLE customer_notes (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    department TEXT NOT NULL,
    body TEXT NOT NULL,
    author_id TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX customer_notes_customer_idx ON customer_notes (customer_id, created_at, id);

CREATE TABLE assessments (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    department TEXT NOT NULL,
    topic TEXT NOT NULL,
    rating BIGINT NOT NULL,
    comment TEXT,
    assessed_on DATE NOT NULL,
    author_id TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX assessments_customer_idx ON assessments (customer_id, created_at, id);

CREATE TABLE audit_log (
    id TEXT PRIMARY KEY,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    action TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    at TIMESTAMP NOT NULL,
    changes TEXT NOT NULL
);
CREATE INDEX audit_log_entity_idx ON audit_log (entity_type, entity_id, at, id);
