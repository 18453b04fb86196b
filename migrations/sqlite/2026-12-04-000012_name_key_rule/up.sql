-- Which rule the stored name keys (customers.search_key and name_key, contacts.search_key,
-- leads.company_key and contact_key) were computed by. When credo_core's rule changes, the
-- server recomputes the keys once at start and records the new rule here.
CREATE TABLE name_key_rule (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO name_key_rule (id, version) VALUES (1, 1);
