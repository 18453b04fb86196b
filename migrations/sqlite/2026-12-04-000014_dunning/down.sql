DROP INDEX receivables_open_due_idx;
DROP TABLE dunning_notices;
DROP TABLE dunning_actions;
DELETE FROM users WHERE id = '00000000-0000-0000-0000-000000000000';
