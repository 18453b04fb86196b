-- `updated_since` on the order, lead, task and contact lists: what a sync has not seen; and
-- the columns those lists sort by (`sort=`) that no earlier index leads with.
CREATE INDEX orders_updated_idx ON orders (updated_at, id);
CREATE INDEX orders_created_idx ON orders (created_at, id);
CREATE INDEX leads_updated_idx ON leads (updated_at, id);
CREATE INDEX tasks_updated_idx ON tasks (updated_at, id);
CREATE INDEX tasks_created_idx ON tasks (created_at, id);
CREATE INDEX tasks_due_idx ON tasks (due_on, id);
CREATE INDEX contacts_updated_idx ON contacts (customer_id, updated_at);
-- `GET /customers?phone=` and `?email=`: the customer behind a caller's number or address.
CREATE INDEX contacts_phone_idx ON contacts (phone);
CREATE INDEX contacts_email_idx ON contacts (lower(email));
