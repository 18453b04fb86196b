-- `updated_since` on the order, lead, task and contact lists: what a sync has not seen.
CREATE INDEX orders_updated_idx ON orders (updated_at, id);
CREATE INDEX leads_updated_idx ON leads (updated_at, id);
CREATE INDEX tasks_updated_idx ON tasks (updated_at, id);
CREATE INDEX contacts_updated_idx ON contacts (customer_id, updated_at);
