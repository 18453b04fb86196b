-- The change feed: an entry for every committed insert or update of the records a field
-- app syncs, written by triggers in the writing transaction (no code path can forget one).
-- Each entry keeps the scope the record is in (the owner and unit it is seen through: its
-- customer's, or for tasks and leads their own) and, when the change moved it, the scope it
-- left, so that a reader who saw it there is told to delete it. `version` is the record's
-- version, or for records without one the count of their changes.

CREATE TABLE changes (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The writing transaction: `seq` is not commit order here, so readers take entries in
    -- (txid, seq) order and only below the oldest running transaction.
    txid BIGINT NOT NULL DEFAULT (pg_current_xact_id()::TEXT::BIGINT),
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    customer_id TEXT,
    op TEXT NOT NULL,
    version BIGINT NOT NULL,
    owner_id TEXT,
    unit_id TEXT,
    left_owner_id TEXT,
    left_unit_id TEXT,
    creator_id TEXT,
    changed_at TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'UTC')
);
CREATE INDEX changes_feed_idx ON changes (txid, seq);
CREATE INDEX changes_record_idx ON changes (entity_type, entity_id, seq);
CREATE INDEX changes_age_idx ON changes (changed_at);

-- The next version of a record without a version column: the count of its changes.
CREATE FUNCTION credo_change_count(kind TEXT, id TEXT) RETURNS BIGINT LANGUAGE sql STABLE AS $$
    SELECT COALESCE(MAX(version), 0) + 1 FROM changes WHERE entity_type = kind AND entity_id = id
$$;

-- Arguments: the record type; the column of the user its scope is keyed to, or 'customer'
-- for records seen through their customer; the column whose being set makes it gone ('').
CREATE FUNCTION credo_record_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    kind TEXT := TG_ARGV[0];
    scope_column TEXT := TG_ARGV[1];
    gone_column TEXT := TG_ARGV[2];
    now_row JSONB := to_jsonb(NEW);
    before_row JSONB := CASE WHEN TG_OP = 'UPDATE' THEN to_jsonb(OLD) END;
    owner TEXT;
    unit TEXT;
    moved BOOLEAN := FALSE;
BEGIN
    IF scope_column = 'customer' THEN
        SELECT owner_id, sales_unit_id INTO owner, unit FROM customers
        WHERE id = now_row->>'customer_id';
    ELSE
        owner := now_row->>scope_column;
        unit := now_row->>'sales_unit_id';
        moved := before_row IS NOT NULL
            AND (before_row->>scope_column IS DISTINCT FROM owner
                 OR before_row->>'sales_unit_id' IS DISTINCT FROM unit);
    END IF;
    INSERT INTO changes (entity_type, entity_id, customer_id, op, version, owner_id, unit_id,
                         left_owner_id, left_unit_id, creator_id)
    VALUES (kind, now_row->>'id',
            CASE WHEN kind = 'customer' THEN now_row->>'id' ELSE now_row->>'customer_id' END,
            CASE WHEN gone_column <> '' AND now_row->>gone_column IS NOT NULL
                 THEN 'delete' ELSE 'upsert' END,
            COALESCE((now_row->>'version')::BIGINT, credo_change_count(kind, now_row->>'id')),
            owner, unit,
            CASE WHEN moved THEN before_row->>scope_column END,
            CASE WHEN moved THEN before_row->>'sales_unit_id' END,
            CASE WHEN kind = 'task' THEN now_row->>'created_by' END);
    RETURN NULL;
END
$$;

CREATE TRIGGER customers_change AFTER INSERT OR UPDATE ON customers
    FOR EACH ROW EXECUTE FUNCTION credo_record_change('customer', 'owner_id', '');
CREATE TRIGGER contacts_change AFTER INSERT OR UPDATE ON contacts
    FOR EACH ROW EXECUTE FUNCTION credo_record_change('contact', 'customer', 'archived_at');
CREATE TRIGGER orders_change AFTER INSERT OR UPDATE ON orders
    FOR EACH ROW EXECUTE FUNCTION credo_record_change('order', 'customer', '');
CREATE TRIGGER visits_change AFTER INSERT OR UPDATE ON visits
    FOR EACH ROW EXECUTE FUNCTION credo_record_change('visit', 'customer', '');
CREATE TRIGGER tasks_change AFTER INSERT OR UPDATE ON tasks
    FOR EACH ROW EXECUTE FUNCTION credo_record_change('task', 'assignee_id', '');
CREATE TRIGGER interactions_change AFTER INSERT OR UPDATE ON interactions
    FOR EACH ROW EXECUTE FUNCTION credo_record_change('interaction', 'customer', '');
CREATE TRIGGER customer_notes_change AFTER INSERT OR UPDATE ON customer_notes
    FOR EACH ROW EXECUTE FUNCTION credo_record_change('note', 'customer', '');
CREATE TRIGGER customer_events_change AFTER INSERT OR UPDATE ON customer_events
    FOR EACH ROW EXECUTE FUNCTION credo_record_change('event', 'customer', '');
CREATE TRIGGER receivables_change AFTER INSERT OR UPDATE ON receivables
    FOR EACH ROW EXECUTE FUNCTION credo_record_change('receivable', 'customer', '');
CREATE TRIGGER payments_change AFTER INSERT OR UPDATE ON payments
    FOR EACH ROW EXECUTE FUNCTION credo_record_change('payment', 'customer', '');
CREATE TRIGGER credit_agreements_change AFTER INSERT OR UPDATE ON credit_agreements
    FOR EACH ROW EXECUTE FUNCTION credo_record_change('credit_agreement', 'customer', '');
CREATE TRIGGER leads_change AFTER INSERT OR UPDATE ON leads
    FOR EACH ROW EXECUTE FUNCTION credo_record_change('lead', 'owner_id', '');

-- A customer that moves takes the records seen through it along.
CREATE FUNCTION credo_customer_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO changes (entity_type, entity_id, customer_id, op, version, owner_id, unit_id,
                         left_owner_id, left_unit_id)
    SELECT 'contact', r.id, r.customer_id, 'upsert', r.version,
           NEW.owner_id, NEW.sales_unit_id, OLD.owner_id, OLD.sales_unit_id
    FROM contacts r WHERE r.customer_id = NEW.id AND r.archived_at IS NULL;
    INSERT INTO changes (entity_type, entity_id, customer_id, op, version, owner_id, unit_id,
                         left_owner_id, left_unit_id)
    SELECT 'order', r.id, r.customer_id, 'upsert', r.version,
           NEW.owner_id, NEW.sales_unit_id, OLD.owner_id, OLD.sales_unit_id
    FROM orders r WHERE r.customer_id = NEW.id;
    INSERT INTO changes (entity_type, entity_id, customer_id, op, version, owner_id, unit_id,
                         left_owner_id, left_unit_id)
    SELECT 'visit', r.id, r.customer_id, 'upsert', r.version,
           NEW.owner_id, NEW.sales_unit_id, OLD.owner_id, OLD.sales_unit_id
    FROM visits r WHERE r.customer_id = NEW.id;
    INSERT INTO changes (entity_type, entity_id, customer_id, op, version, owner_id, unit_id,
                         left_owner_id, left_unit_id)
    SELECT 'interaction', r.id, r.customer_id, 'upsert', credo_change_count('interaction', r.id),
           NEW.owner_id, NEW.sales_unit_id, OLD.owner_id, OLD.sales_unit_id
    FROM interactions r WHERE r.customer_id = NEW.id;
    INSERT INTO changes (entity_type, entity_id, customer_id, op, version, owner_id, unit_id,
                         left_owner_id, left_unit_id)
    SELECT 'note', r.id, r.customer_id, 'upsert', credo_change_count('note', r.id),
           NEW.owner_id, NEW.sales_unit_id, OLD.owner_id, OLD.sales_unit_id
    FROM customer_notes r WHERE r.customer_id = NEW.id;
    INSERT INTO changes (entity_type, entity_id, customer_id, op, version, owner_id, unit_id,
                         left_owner_id, left_unit_id)
    SELECT 'event', r.id, r.customer_id, 'upsert', credo_change_count('event', r.id),
           NEW.owner_id, NEW.sales_unit_id, OLD.owner_id, OLD.sales_unit_id
    FROM customer_events r WHERE r.customer_id = NEW.id;
    INSERT INTO changes (entity_type, entity_id, customer_id, op, version, owner_id, unit_id,
                         left_owner_id, left_unit_id)
    SELECT 'receivable', r.id, r.customer_id, 'upsert', credo_change_count('receivable', r.id),
           NEW.owner_id, NEW.sales_unit_id, OLD.owner_id, OLD.sales_unit_id
    FROM receivables r WHERE r.customer_id = NEW.id;
    INSERT INTO changes (entity_type, entity_id, customer_id, op, version, owner_id, unit_id,
                         left_owner_id, left_unit_id)
    SELECT 'payment', r.id, r.customer_id, 'upsert', credo_change_count('payment', r.id),
           NEW.owner_id, NEW.sales_unit_id, OLD.owner_id, OLD.sales_unit_id
    FROM payments r WHERE r.customer_id = NEW.id;
    INSERT INTO changes (entity_type, entity_id, customer_id, op, version, owner_id, unit_id,
                         left_owner_id, left_unit_id)
    SELECT 'credit_agreement', r.id, r.customer_id, 'upsert', credo_change_count('credit_agreement', r.id),
           NEW.owner_id, NEW.sales_unit_id, OLD.owner_id, OLD.sales_unit_id
    FROM credit_agreements r WHERE r.customer_id = NEW.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER customers_change_move AFTER UPDATE ON customers FOR EACH ROW
    WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id
          OR OLD.sales_unit_id IS DISTINCT FROM NEW.sales_unit_id)
    EXECUTE FUNCTION credo_customer_moved();

-- What exists already, once each, so that a new device's first sync from the beginning
-- finds every record.
INSERT INTO changes (entity_type, entity_id, customer_id, op, version, owner_id, unit_id, creator_id)
SELECT 'customer', r.id, r.id, 'upsert', r.version, r.owner_id, r.sales_unit_id, NULL
FROM customers r;
INSERT INTO changes (entity_type, entity_id, customer_id, op, version, owner_id, unit_id)
SELECT 'contact', r.id, r.customer_id, 'upsert', r.version, c.owner_id, c.sales_unit_id
FROM contacts r JOIN customers c ON c.id = r.customer_id WHERE r.archived_at IS NULL;
INSERT INTO changes (entity_type, entity_id, customer_id, op, version, owner_id, unit_id)
SELECT 'order', r.id, r.customer_id, 'upsert', r.version, c.owner_id, c.sales_unit_id
FROM orders r JOIN customers c ON c.id = r.customer_id;
INSERT INTO changes (entity_type, entity_id, customer_id, op, version, owner_id, unit_id)
SELECT 'visit', r.id, r.customer_id, 'upsert', r.version, c.owner_id, c.sales_unit_id
FROM visits r JOIN customers c ON c.id = r.customer_id;
INSERT INTO changes (entity_type, entity_id, customer_id, op, version, owner_id, unit_id, creator_id)
SELECT 'task', r.id, r.customer_id, 'upsert', r.version, r.assignee_id, r.sales_unit_id, r.created_by
FROM tasks r;
INSERT INTO changes (entity_type, entity_id, customer_id, op, version, owner_id, unit_id)
SELECT 'interaction', r.id, r.customer_id, 'upsert', 1, c.owner_id, c.sales_unit_id
FROM interactions r JOIN customers c ON c.id = r.customer_id;
INSERT INTO changes (entity_type, entity_id, customer_id, op, version, owner_id, unit_id)
SELECT 'note', r.id, r.customer_id, 'upsert', 1, c.owner_id, c.sales_unit_id
FROM customer_notes r JOIN customers c ON c.id = r.customer_id;
INSERT INTO changes (entity_type, entity_id, customer_id, op, version, owner_id, unit_id)
SELECT 'event', r.id, r.customer_id, 'upsert', 1, c.owner_id, c.sales_unit_id
FROM customer_events r JOIN customers c ON c.id = r.customer_id;
INSERT INTO changes (entity_type, entity_id, customer_id, op, version, owner_id, unit_id)
SELECT 'receivable', r.id, r.customer_id, 'upsert', 1, c.owner_id, c.sales_unit_id
FROM receivables r JOIN customers c ON c.id = r.customer_id;
INSERT INTO changes (entity_type, entity_id, customer_id, op, version, owner_id, unit_id)
SELECT 'payment', r.id, r.customer_id, 'upsert', 1, c.owner_id, c.sales_unit_id
FROM payments r JOIN customers c ON c.id = r.customer_id;
INSERT INTO changes (entity_type, entity_id, customer_id, op, version, owner_id, unit_id)
SELECT 'credit_agreement', r.id, r.customer_id, 'upsert', 1, c.owner_id, c.sales_unit_id
FROM credit_agreements r JOIN customers c ON c.id = r.customer_id;
INSERT INTO changes (entity_type, entity_id, customer_id, op, version, owner_id, unit_id, creator_id)
SELECT 'lead', r.id, r.customer_id, 'upsert', r.version, r.owner_id, r.sales_unit_id, NULL
FROM leads r;
