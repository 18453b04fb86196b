-- The change feed: an entry for every committed insert or update of the records a field
-- app syncs, written by triggers in the writing transaction (no code path can forget one).
-- Each entry keeps the scope the record is in (the owner and unit it is seen through: its
-- customer's, or for tasks and leads their own) and, when the change moved it, the scope it
-- left, so that a reader who saw it there is told to delete it. `version` is the record's
-- version, or for records without one the count of their changes.

CREATE TABLE changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    -- Writers commit one at a time: `seq` is commit order.
    txid BIGINT NOT NULL DEFAULT 0,
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
    changed_at TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);
CREATE INDEX changes_feed_idx ON changes (txid, seq);
CREATE INDEX changes_record_idx ON changes (entity_type, entity_id, seq);
CREATE INDEX changes_age_idx ON changes (changed_at);

CREATE TRIGGER customers_change_insert AFTER INSERT ON customers BEGIN
    INSERT INTO changes (entity_type, entity_id, customer_id, op, version, owner_id, unit_id,
                         left_owner_id, left_unit_id, creator_id)
    VALUES ('customer', NEW.id, NEW.id, 'upsert', NEW.version,
            NEW.owner_id, NEW.sales_unit_id, NULL, NULL, NULL);
END;

CREATE TRIGGER customers_change_update AFTER UPDATE ON customers BEGIN
    INSERT INTO changes (entity_type, entity_id, customer_id, op, version, owner_id, unit_id,
                         left_owner_id, left_unit_id, creator_id)
    VALUES ('customer', NEW.id, NEW.id, 'upsert', NEW.version,
            NEW.owner_id, NEW.sales_unit_id, CASE WHEN (OLD.owner_id IS NOT NEW.owner_id OR OLD.sales_unit_id IS NOT NEW.sales_unit_id) THEN OLD.owner_id END, CASE WHEN (OLD.owner_id IS NOT NEW.owner_id OR OLD.sales_unit_id IS NOT NEW.sales_unit_id) THEN OLD.sales_unit_id END, NULL);
END;

CREATE TRIGGER contacts_change_insert AFTER INSERT ON contacts BEGIN
    INSERT INTO changes (entity_type, entity_id, customer_id, op, version, owner_id, unit_id)
    SELECT 'contact', NEW.id, NEW.customer_id, CASE WHEN NEW.archived_at IS NULL THEN 'upsert' ELSE 'delete' END, NEW.version,
           c.owner_id, c.sales_unit_id
    FROM customers c WHERE c.id = NEW.customer_id;
END;

CREATE TRIGGER contacts_change_update AFTER UPDATE ON contacts BEGIN
    INSERT INTO changes (entity_type, entity_id, customer_id, op, version, owner_id, unit_id)
    SELECT 'contact', NEW.id, NEW.customer_id, CASE WHEN NEW.archived_at IS NULL THEN 'upsert' ELSE 'delete' END, NEW.version,
           c.owner_id, c.sales_unit_id
    FROM customers c WHERE c.id = NEW.customer_id;
END;

CREATE TRIGGER orders_change_insert AFTER INSERT ON orders BEGIN
    INSERT INTO changes (entity_type, entity_id, customer_id, op, version, owner_id, unit_id)
    SELECT 'order', NEW.id, NEW.customer_id, 'upsert', NEW.version,
           c.owner_id, c.sales_unit_id
    FROM customers c WHERE c.id = NEW.customer_id;
END;

CREATE TRIGGER orders_change_update AFTER UPDATE ON orders BEGIN
    INSERT INTO changes (entity_type, entity_id, customer_id, op, version, owner_id, unit_id)
    SELECT 'order', NEW.id, NEW.customer_id, 'upsert', NEW.version,
           c.owner_id, c.sales_unit_id
    FROM customers c WHERE c.id = NEW.customer_id;
END;

CREATE TRIGGER visits_change_insert AFTER INSERT ON visits BEGIN
    INSERT INTO changes (entity_type, entity_id, customer_id, op, version, owner_id, unit_id)
    SELECT 'visit', NEW.id, NEW.customer_id, 'upsert', NEW.version,
           c.owner_id, c.sales_unit_id
    FROM customers c WHERE c.id = NEW.customer_id;
END;

CREATE TRIGGER visits_change_update AFTER UPDATE ON visits BEGIN
    INSERT INTO changes (entity_type, entity_id, customer_id, op, version, owner_id, unit_id)
    SELECT 'visit', NEW.id, NEW.customer_id, 'upsert', NEW.version,
           c.owner_id, c.sales_unit_id
    FROM customers c WHERE c.id = NEW.customer_id;
END;

CREATE TRIGGER tasks_change_insert AFTER INSERT ON tasks BEGIN
    INSERT INTO changes (entity_type, entity_id, customer_id, op, version, owner_id, unit_id,
                         left_owner_id, left_unit_id, creator_id)
    VALUES ('task', NEW.id, NEW.customer_id, 'upsert', NEW.version,
            NEW.assignee_id, NEW.sales_unit_id, NULL, NULL, NEW.created_by);
END;

CREATE TRIGGER tasks_change_update AFTER UPDATE ON tasks BEGIN
    INSERT INTO changes (entity_type, entity_id, customer_id, op, version, owner_id, unit_id,
                         left_owner_id, left_unit_id, creator_id)
    VALUES ('task', NEW.id, NEW.customer_id, 'upsert', NEW.version,
            NEW.assignee_id, NEW.sales_unit_id, CASE WHEN (OLD.assignee_id IS NOT NEW.assignee_id OR OLD.sales_unit_id IS NOT NEW.sales_unit_id) THEN OLD.assignee_id END, CASE WHEN (OLD.assignee_id IS NOT NEW.assignee_id OR OLD.sales_unit_id IS NOT NEW.sales_unit_id) THEN OLD.sales_unit_id END, NEW.created_by);
END;

CREATE TRIGGER interactions_change_insert AFTER INSERT ON interactions BEGIN
    INSERT INTO changes (entity_type, entity_id, customer_id, op, version, owner_id, unit_id)
    SELECT 'interaction', NEW.id, NEW.customer_id, 'upsert', (SELECT COALESCE(MAX(version), 0) + 1 FROM changes WHERE entity_type = 'interaction' AND entity_id = NEW.id),
           c.owner_id, c.sales_unit_id
    FROM customers c WHERE c.id = NEW.customer_id;
END;

CREATE TRIGGER interactions_change_update AFTER UPDATE ON interactions BEGIN
    INSERT INTO changes (entity_type, entity_id, customer_id, op, version, owner_id, unit_id)
    SELECT 'interaction', NEW.id, NEW.customer_id, 'upsert', (SELECT COALESCE(MAX(version), 0) + 1 FROM changes WHERE entity_type = 'interaction' AND entity_id = NEW.id),
           c.owner_id, c.sales_unit_id
    FROM customers c WHERE c.id = NEW.customer_id;
END;

CREATE TRIGGER customer_notes_change_insert AFTER INSERT ON customer_notes BEGIN
    INSERT INTO changes (entity_type, entity_id, customer_id, op, version, owner_id, unit_id)
    SELECT 'note', NEW.id, NEW.customer_id, 'upsert', (SELECT COALESCE(MAX(version), 0) + 1 FROM changes WHERE entity_type = 'note' AND entity_id = NEW.id),
           c.owner_id, c.sales_unit_id
    FROM customers c WHERE c.id = NEW.customer_id;
END;

CREATE TRIGGER customer_notes_change_update AFTER UPDATE ON customer_notes BEGIN
    INSERT INTO changes (entity_type, entity_id, customer_id, op, version, owner_id, unit_id)
    SELECT 'note', NEW.id, NEW.customer_id, 'upsert', (SELECT COALESCE(MAX(version), 0) + 1 FROM changes WHERE entity_type = 'note' AND entity_id = NEW.id),
           c.owner_id, c.sales_unit_id
    FROM customers c WHERE c.id = NEW.customer_id;
END;

CREATE TRIGGER customer_events_change_insert AFTER INSERT ON customer_events BEGIN
    INSERT INTO changes (entity_type, entity_id, customer_id, op, version, owner_id, unit_id)
    SELECT 'event', NEW.id, NEW.customer_id, 'upsert', (SELECT COALESCE(MAX(version), 0) + 1 FROM changes WHERE entity_type = 'event' AND entity_id = NEW.id),
           c.owner_id, c.sales_unit_id
    FROM customers c WHERE c.id = NEW.customer_id;
END;

CREATE TRIGGER customer_events_change_update AFTER UPDATE ON customer_events BEGIN
    INSERT INTO changes (entity_type, entity_id, customer_id, op, version, owner_id, unit_id)
    SELECT 'event', NEW.id, NEW.customer_id, 'upsert', (SELECT COALESCE(MAX(version), 0) + 1 FROM changes WHERE entity_type = 'event' AND entity_id = NEW.id),
           c.owner_id, c.sales_unit_id
    FROM customers c WHERE c.id = NEW.customer_id;
END;

CREATE TRIGGER receivables_change_insert AFTER INSERT ON receivables BEGIN
    INSERT INTO changes (entity_type, entity_id, customer_id, op, version, owner_id, unit_id)
    SELECT 'receivable', NEW.id, NEW.customer_id, 'upsert', (SELECT COALESCE(MAX(version), 0) + 1 FROM changes WHERE entity_type = 'receivable' AND entity_id = NEW.id),
           c.owner_id, c.sales_unit_id
    FROM customers c WHERE c.id = NEW.customer_id;
END;

CREATE TRIGGER receivables_change_update AFTER UPDATE ON receivables BEGIN
    INSERT INTO changes (entity_type, entity_id, customer_id, op, version, owner_id, unit_id)
    SELECT 'receivable', NEW.id, NEW.customer_id, 'upsert', (SELECT COALESCE(MAX(version), 0) + 1 FROM changes WHERE entity_type = 'receivable' AND entity_id = NEW.id),
           c.owner_id, c.sales_unit_id
    FROM customers c WHERE c.id = NEW.customer_id;
END;

CREATE TRIGGER payments_change_insert AFTER INSERT ON payments BEGIN
    INSERT INTO changes (entity_type, entity_id, customer_id, op, version, owner_id, unit_id)
    SELECT 'payment', NEW.id, NEW.customer_id, 'upsert', (SELECT COALESCE(MAX(version), 0) + 1 FROM changes WHERE entity_type = 'payment' AND entity_id = NEW.id),
           c.owner_id, c.sales_unit_id
    FROM customers c WHERE c.id = NEW.customer_id;
END;

CREATE TRIGGER payments_change_update AFTER UPDATE ON payments BEGIN
    INSERT INTO changes (entity_type, entity_id, customer_id, op, version, owner_id, unit_id)
    SELECT 'payment', NEW.id, NEW.customer_id, 'upsert', (SELECT COALESCE(MAX(version), 0) + 1 FROM changes WHERE entity_type = 'payment' AND entity_id = NEW.id),
           c.owner_id, c.sales_unit_id
    FROM customers c WHERE c.id = NEW.customer_id;
END;

CREATE TRIGGER credit_agreements_change_insert AFTER INSERT ON credit_agreements BEGIN
    INSERT INTO changes (entity_type, entity_id, customer_id, op, version, owner_id, unit_id)
    SELECT 'credit_agreement', NEW.id, NEW.customer_id, 'upsert', (SELECT COALESCE(MAX(version), 0) + 1 FROM changes WHERE entity_type = 'credit_agreement' AND entity_id = NEW.id),
           c.owner_id, c.sales_unit_id
    FROM customers c WHERE c.id = NEW.customer_id;
END;

CREATE TRIGGER credit_agreements_change_update AFTER UPDATE ON credit_agreements BEGIN
    INSERT INTO changes (entity_type, entity_id, customer_id, op, version, owner_id, unit_id)
    SELECT 'credit_agreement', NEW.id, NEW.customer_id, 'upsert', (SELECT COALESCE(MAX(version), 0) + 1 FROM changes WHERE entity_type = 'credit_agreement' AND entity_id = NEW.id),
           c.owner_id, c.sales_unit_id
    FROM customers c WHERE c.id = NEW.customer_id;
END;

CREATE TRIGGER leads_change_insert AFTER INSERT ON leads BEGIN
    INSERT INTO changes (entity_type, entity_id, customer_id, op, version, owner_id, unit_id,
                         left_owner_id, left_unit_id, creator_id)
    VALUES ('lead', NEW.id, NEW.customer_id, 'upsert', NEW.version,
            NEW.owner_id, NEW.sales_unit_id, NULL, NULL, NULL);
END;

CREATE TRIGGER leads_change_update AFTER UPDATE ON leads BEGIN
    INSERT INTO changes (entity_type, entity_id, customer_id, op, version, owner_id, unit_id,
                         left_owner_id, left_unit_id, creator_id)
    VALUES ('lead', NEW.id, NEW.customer_id, 'upsert', NEW.version,
            NEW.owner_id, NEW.sales_unit_id, CASE WHEN (OLD.owner_id IS NOT NEW.owner_id OR OLD.sales_unit_id IS NOT NEW.sales_unit_id) THEN OLD.owner_id END, CASE WHEN (OLD.owner_id IS NOT NEW.owner_id OR OLD.sales_unit_id IS NOT NEW.sales_unit_id) THEN OLD.sales_unit_id END, NULL);
END;

CREATE TRIGGER customers_change_move AFTER UPDATE ON customers
WHEN OLD.owner_id IS NOT NEW.owner_id OR OLD.sales_unit_id IS NOT NEW.sales_unit_id
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
    SELECT 'interaction', r.id, r.customer_id, 'upsert', (SELECT COALESCE(MAX(version), 0) + 1 FROM changes WHERE entity_type = 'interaction' AND entity_id = r.id),
           NEW.owner_id, NEW.sales_unit_id, OLD.owner_id, OLD.sales_unit_id
    FROM interactions r WHERE r.customer_id = NEW.id;
    INSERT INTO changes (entity_type, entity_id, customer_id, op, version, owner_id, unit_id,
                         left_owner_id, left_unit_id)
    SELECT 'note', r.id, r.customer_id, 'upsert', (SELECT COALESCE(MAX(version), 0) + 1 FROM changes WHERE entity_type = 'note' AND entity_id = r.id),
           NEW.owner_id, NEW.sales_unit_id, OLD.owner_id, OLD.sales_unit_id
    FROM customer_notes r WHERE r.customer_id = NEW.id;
    INSERT INTO changes (entity_type, entity_id, customer_id, op, version, owner_id, unit_id,
                         left_owner_id, left_unit_id)
    SELECT 'event', r.id, r.customer_id, 'upsert', (SELECT COALESCE(MAX(version), 0) + 1 FROM changes WHERE entity_type = 'event' AND entity_id = r.id),
           NEW.owner_id, NEW.sales_unit_id, OLD.owner_id, OLD.sales_unit_id
    FROM customer_events r WHERE r.customer_id = NEW.id;
    INSERT INTO changes (entity_type, entity_id, customer_id, op, version, owner_id, unit_id,
                         left_owner_id, left_unit_id)
    SELECT 'receivable', r.id, r.customer_id, 'upsert', (SELECT COALESCE(MAX(version), 0) + 1 FROM changes WHERE entity_type = 'receivable' AND entity_id = r.id),
           NEW.owner_id, NEW.sales_unit_id, OLD.owner_id, OLD.sales_unit_id
    FROM receivables r WHERE r.customer_id = NEW.id;
    INSERT INTO changes (entity_type, entity_id, customer_id, op, version, owner_id, unit_id,
                         left_owner_id, left_unit_id)
    SELECT 'payment', r.id, r.customer_id, 'upsert', (SELECT COALESCE(MAX(version), 0) + 1 FROM changes WHERE entity_type = 'payment' AND entity_id = r.id),
           NEW.owner_id, NEW.sales_unit_id, OLD.owner_id, OLD.sales_unit_id
    FROM payments r WHERE r.customer_id = NEW.id;
    INSERT INTO changes (entity_type, entity_id, customer_id, op, version, owner_id, unit_id,
                         left_owner_id, left_unit_id)
    SELECT 'credit_agreement', r.id, r.customer_id, 'upsert', (SELECT COALESCE(MAX(version), 0) + 1 FROM changes WHERE entity_type = 'credit_agreement' AND entity_id = r.id),
           NEW.owner_id, NEW.sales_unit_id, OLD.owner_id, OLD.sales_unit_id
    FROM credit_agreements r WHERE r.customer_id = NEW.id;
END;

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
