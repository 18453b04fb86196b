-- Dunning (seed 004's follow-up timeline): what each run sent to whom, and which level each
-- item had, so that an item gets every level once.

-- The account the rules act as: disabled, no password, a username no one can choose.
INSERT INTO users (id, username, display_name, email, role, sales_unit_id, password_hash,
                   disabled, created_at, updated_at, version)
VALUES ('00000000-0000-0000-0000-000000000000', '#rules', 'Credo rules', NULL, 'viewer', NULL,
        '!', TRUE, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1);

-- One communication to a customer: the highest level due across its items on a day.
CREATE TABLE dunning_actions (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    as_of DATE NOT NULL,
    level TEXT NOT NULL,
    action TEXT NOT NULL,
    effect TEXT NOT NULL,
    -- The account manager's task to carry it out.
    task_id TEXT NOT NULL REFERENCES tasks (id),
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id)
);
CREATE INDEX dunning_actions_customer_idx ON dunning_actions (customer_id, as_of, id);
CREATE INDEX dunning_actions_effect_idx ON dunning_actions (effect, customer_id);

-- The level an item reached in an action; an item reaches each level once.
CREATE TABLE dunning_notices (
    receivable_id TEXT NOT NULL REFERENCES receivables (id),
    level TEXT NOT NULL,
    action_id TEXT NOT NULL REFERENCES dunning_actions (id),
    PRIMARY KEY (receivable_id, level)
);
CREATE INDEX dunning_notices_action_idx ON dunning_notices (action_id);

-- A run reads the items still open by due day (shipment levels come earlier).
CREATE INDEX receivables_open_due_idx ON receivables (due_on) WHERE open_minor > 0;
