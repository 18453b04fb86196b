-- Substring search over customer and contact names for SQLite: an FTS5 trigram index
-- (PostgreSQL uses pg_trgm GIN indexes on search_key instead). One row per customer and per
-- live contact; rows are written by credo-store in the same transaction as their source.
CREATE VIRTUAL TABLE name_search USING fts5(customer_id UNINDEXED, text, tokenize = 'trigram');

-- Which index row belongs to which customer or contact.
CREATE TABLE name_search_rows (
    source_id TEXT PRIMARY KEY,
    row_id INTEGER NOT NULL UNIQUE
);

-- Index what exists already.
INSERT INTO name_search_rows (source_id, row_id)
SELECT id, ROW_NUMBER() OVER (ORDER BY id)
FROM (SELECT id FROM customers UNION ALL SELECT id FROM contacts WHERE archived_at IS NULL);
INSERT INTO name_search (rowid, customer_id, text)
SELECT r.row_id, c.id, c.search_key FROM name_search_rows r JOIN customers c ON c.id = r.source_id;
INSERT INTO name_search (rowid, customer_id, text)
SELECT r.row_id, k.customer_id, k.search_key FROM name_search_rows r JOIN contacts k ON k.id = r.source_id;
