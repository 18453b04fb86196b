-- PostgreSQL searches names through the pg_trgm indexes of the foundation migration;
-- this migration exists so that both backends keep the same migration names.
SELECT 1;
