-- The receivables ledger (seed 004): open items (invoices), payments, and the dated
-- reductions of items: allocations of payments, credit notes and write-offs.

CREATE TABLE receivables (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    -- The customer's unit and account manager when the item was issued: ageing by unit or
    -- owner reports who sold, whoever holds the customer since.
    sales_unit_id TEXT REFERENCES sales_units (id),
    owner_id TEXT NOT NULL REFERENCES users (id),
    order_id TEXT REFERENCES orders (id),
    currency TEXT NOT NULL,
    amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
    issued_on DATE NOT NULL,
    due_on DATE NOT NULL,
    shipped_on DATE,
    reference TEXT NOT NULL,
    -- The amount less every reduction, kept with each reduction in its transaction: what
    -- may still be allocated, read from one locked row.
    open_minor BIGINT NOT NULL CHECK (open_minor >= 0 AND open_minor <= amount_minor),
    -- The latest reduction day once nothing is open: the item is open as of D exactly when
    -- issued_on <= D and (settled_on IS NULL OR settled_on > D).
    settled_on DATE,
    -- The due day before the first approved extension moved it.
    original_due_on DATE,
    -- An open dispute pauses dunning: since when, why, and until when at the latest.
    disputed_on DATE,
    dispute_reason TEXT,
    dispute_until DATE,
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id)
);
-- One item per invoice number and customer: an import posted twice is one item.
CREATE UNIQUE INDEX receivables_reference_idx ON receivables (customer_id, reference);
CREATE INDEX receivables_customer_idx ON receivables (customer_id, issued_on, id);
CREATE INDEX receivables_order_idx ON receivables (order_id);
-- Ageing reads the items open as of a day in one currency.
CREATE INDEX receivables_ageing_idx ON receivables (currency, settled_on, issued_on);

CREATE TABLE payments (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    currency TEXT NOT NULL,
    amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
    received_on DATE NOT NULL,
    reference TEXT NOT NULL,
    -- The amount less every allocation of it, kept like receivables.open_minor.
    unallocated_minor BIGINT NOT NULL CHECK (unallocated_minor >= 0 AND unallocated_minor <= amount_minor),
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id)
);
-- A payment is posted once per bank reference and customer.
CREATE UNIQUE INDEX payments_reference_idx ON payments (customer_id, reference);
CREATE INDEX payments_customer_idx ON payments (customer_id, received_on, id);

-- Requests for more time (seed 004: typhoons delay a Hainan dealer), each decided once by
-- someone other than who asked.
CREATE TABLE receivable_extensions (
    id TEXT PRIMARY KEY,
    receivable_id TEXT NOT NULL REFERENCES receivables (id),
    previous_due_on DATE NOT NULL,
    requested_due_on DATE NOT NULL,
    reason TEXT NOT NULL,
    status TEXT NOT NULL,
    decision_note TEXT,
    requested_by TEXT NOT NULL REFERENCES users (id),
    requested_at TIMESTAMP NOT NULL,
    decided_by TEXT REFERENCES users (id),
    decided_at TIMESTAMP
);
CREATE INDEX receivable_extensions_item_idx ON receivable_extensions (receivable_id, requested_at, id);

CREATE TABLE receivable_reductions (
    id TEXT PRIMARY KEY,
    receivable_id TEXT NOT NULL REFERENCES receivables (id),
    kind TEXT NOT NULL,
    -- Set on allocations only.
    payment_id TEXT REFERENCES payments (id),
    amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
    reduced_on DATE NOT NULL,
    reason TEXT,
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id)
);
CREATE INDEX receivable_reductions_item_idx ON receivable_reductions (receivable_id, reduced_on);
CREATE INDEX receivable_reductions_payment_idx ON receivable_reductions (payment_id);
