//! The receivables ledger: open items, payments and their dated reductions. Every reduction
//! is decided by `credo_receivables::ledger` on rows locked in its transaction (the payment,
//! then the item), and keeps `receivables.open_minor` and `payments.unallocated_minor` with
//! it, so that concurrent allocations queue and can never together exceed either.

mod dunning;
mod dunning_runs;
mod reports;
mod snapshots;
mod targets;
mod terms;
mod warning;

pub use dunning_runs::{
    actions as dunning_run_actions, execute as execute_dunning_run, get_run as dunning_run,
    held_back as dunning_run_held_back, policy as dunning_policy, queue_run as queue_dunning_run,
    runs as dunning_runs, schedule_daily_run as schedule_daily_dunning, RUN_JOB as DUNNING_JOB,
};
pub use reports::{
    ageing, collection_facts, double_ten, group_names, AgeingGroup, AgeingQuery, AgeingReport,
    CustomerStanding, DoubleTen, LedgerSlice, DOUBLE_TEN,
};
pub use snapshots::{take_snapshot, trend as ageing_trend, Snapshot, Taken};
pub use targets::{set_target, target_results, CollectorResult, TARGET_ENTITY};
pub use terms::{
    decide_extension, extensions, request_extension, set_dispute, Terms, TermsRefusal,
    EXTENSION_ENTITY,
};
pub use warning::{change_warning, entry_of as warning_entry_of, warning_list, WARNING_ENTITY};

use credo_core::webhooks::EventType;
use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use credo_core::audit::AuditAction;
use credo_core::json::changes;
use credo_core::{Currency, FieldCode, FieldError, Money, Scope};
use credo_receivables::ledger::{
    allocate as allocate_rule, AllocationInput, ItemBalance, NewPayment, NewReceivable,
    PaymentBalance, Reduction, ReductionKind, ReductionRefusal,
};
use credo_receivables::terms::Dispute;
use credo_receivables::{Payment, Receivable, ReductionRecord};
use credo_sales::order::paid_by_items;
use credo_sales::{Order, OrderStatus, TransitionInput};
use diesel::prelude::*;
use uuid::Uuid;

use crate::aggregate::sum;
use crate::convert::{
    from_db_time, parse_currency, parse_id, parse_name, parse_optional_id, to_db_time,
};
use crate::db::{
    insert_chunks, lock_key, lock_money, write_transaction, MoneyRows, MultiBackend, Outcome,
};
use crate::keyset::{keyset, of_visible_customers, Window};
use crate::orders::{self as order_store, OrderChange};
use crate::schema::{orders, payments, receivable_reductions, receivables};
use crate::versioned::{Expected, Updated};
use crate::webhooks;
use crate::{audit, customers, now, DbConnection, StoreError};

pub const RECEIVABLE_ENTITY: &str = "receivable";
pub const PAYMENT_ENTITY: &str = "payment";
pub const REDUCTION_ENTITY: &str = "receivable_reduction";

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = receivables)]
struct ItemRow {
    id: String,
    customer_id: String,
    sales_unit_id: Option<String>,
    owner_id: String,
    order_id: Option<String>,
    currency: String,
    amount_minor: i64,
    issued_on: NaiveDate,
    due_on: NaiveDate,
    shipped_on: Option<NaiveDate>,
    reference: String,
    open_minor: i64,
    settled_on: Option<NaiveDate>,
    original_due_on: Option<NaiveDate>,
    disputed_on: Option<NaiveDate>,
    dispute_reason: Option<String>,
    dispute_until: Option<NaiveDate>,
    created_at: NaiveDateTime,
    created_by: String,
}

impl ItemRow {
    fn from_item(r: &Receivable) -> Self {
        Self {
            id: r.id.to_string(),
            customer_id: r.customer_id.to_string(),
            sales_unit_id: r.sales_unit_id.map(|u| u.to_string()),
            owner_id: r.owner_id.to_string(),
            order_id: r.order_id.map(|o| o.to_string()),
            currency: r.currency.as_str().to_owned(),
            amount_minor: r.amount_minor,
            issued_on: r.issued_on,
            due_on: r.due_on,
            shipped_on: r.shipped_on,
            reference: r.reference.clone(),
            open_minor: r.open_minor,
            settled_on: r.settled_on,
            original_due_on: r.original_due_on,
            disputed_on: r.dispute.as_ref().map(|d| d.since),
            dispute_reason: r.dispute.as_ref().map(|d| d.reason.clone()),
            dispute_until: r.dispute.as_ref().map(|d| d.until),
            created_at: to_db_time(r.created_at),
            created_by: r.created_by.to_string(),
        }
    }

    fn into_item(self) -> Result<Receivable, StoreError> {
        Ok(Receivable {
            id: parse_id(&self.id)?,
            customer_id: parse_id(&self.customer_id)?,
            sales_unit_id: parse_optional_id(self.sales_unit_id.as_deref())?,
            owner_id: parse_id(&self.owner_id)?,
            order_id: parse_optional_id(self.order_id.as_deref())?,
            currency: parse_currency(&self.currency)?,
            amount_minor: self.amount_minor,
            open_minor: self.open_minor,
            issued_on: self.issued_on,
            due_on: self.due_on,
            shipped_on: self.shipped_on,
            reference: self.reference,
            settled_on: self.settled_on,
            original_due_on: self.original_due_on,
            dispute: match (self.disputed_on, self.dispute_reason, self.dispute_until) {
                (Some(since), Some(reason), Some(until)) => Some(Dispute {
                    since,
                    reason,
                    until,
                }),
                _ => None,
            },
            created_at: from_db_time(self.created_at),
            created_by: parse_id(&self.created_by)?,
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = payments)]
struct PaymentRow {
    id: String,
    customer_id: String,
    currency: String,
    amount_minor: i64,
    received_on: NaiveDate,
    reference: String,
    unallocated_minor: i64,
    created_at: NaiveDateTime,
    created_by: String,
}

impl PaymentRow {
    fn from_payment(p: &Payment) -> Self {
        Self {
            id: p.id.to_string(),
            customer_id: p.customer_id.to_string(),
            currency: p.currency.as_str().to_owned(),
            amount_minor: p.amount_minor,
            received_on: p.received_on,
            reference: p.reference.clone(),
            unallocated_minor: p.unallocated_minor,
            created_at: to_db_time(p.created_at),
            created_by: p.created_by.to_string(),
        }
    }

    fn into_payment(self) -> Result<Payment, StoreError> {
        Ok(Payment {
            id: parse_id(&self.id)?,
            customer_id: parse_id(&self.customer_id)?,
            currency: parse_currency(&self.currency)?,
            amount_minor: self.amount_minor,
            unallocated_minor: self.unallocated_minor,
            received_on: self.received_on,
            reference: self.reference,
            created_at: from_db_time(self.created_at),
            created_by: parse_id(&self.created_by)?,
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = receivable_reductions)]
struct ReductionRow {
    id: String,
    receivable_id: String,
    kind: String,
    payment_id: Option<String>,
    amount_minor: i64,
    reduced_on: NaiveDate,
    reason: Option<String>,
    created_at: NaiveDateTime,
    created_by: String,
}

impl ReductionRow {
    fn from_record(r: &ReductionRecord) -> Self {
        Self {
            id: r.id.to_string(),
            receivable_id: r.receivable_id.to_string(),
            kind: r.kind.as_str().to_owned(),
            payment_id: r.payment_id.map(|p| p.to_string()),
            amount_minor: r.amount_minor,
            reduced_on: r.on,
            reason: r.reason.clone(),
            created_at: to_db_time(r.created_at),
            created_by: r.created_by.to_string(),
        }
    }

    fn into_record(self) -> Result<ReductionRecord, StoreError> {
        Ok(ReductionRecord {
            id: parse_id(&self.id)?,
            receivable_id: parse_id(&self.receivable_id)?,
            kind: parse_name(&self.kind, ReductionKind::parse)?,
            payment_id: parse_optional_id(self.payment_id.as_deref())?,
            amount_minor: self.amount_minor,
            on: self.reduced_on,
            reason: self.reason,
            created_at: from_db_time(self.created_at),
            created_by: parse_id(&self.created_by)?,
        })
    }
}

/// What posting a record identified by (customer, reference) came to.
#[derive(Debug)]
pub enum Posted<T> {
    Created(T),
    /// The same record was posted before: it is answered again and nothing is written.
    Existing(T),
    /// Another record has this reference: the one posted before.
    Conflict(T),
}

impl<T> Posted<T> {
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Posted<U> {
        match self {
            Posted::Created(record) => Posted::Created(f(record)),
            Posted::Existing(record) => Posted::Existing(f(record)),
            Posted::Conflict(record) => Posted::Conflict(f(record)),
        }
    }
}

impl<T> Outcome for Posted<T> {
    fn is_refusal(&self) -> bool {
        !matches!(self, Posted::Created(_))
    }
}

/// Rows per multi-row INSERT: under SQLite's 32,766 bound parameters (19 columns an item).
const IMPORT_CHUNK: usize = 1000;

/// The ledger's history (from a legacy system, or the demo), with `open_minor`,
/// `unallocated_minor` and `settled_on` as its reductions leave them, in multi-row inserts
/// without audit entries: the history predates Credo. Caller runs it in a transaction.
pub fn import(
    conn: &mut DbConnection,
    items: &[Receivable],
    payments: &[Payment],
    reductions: &[ReductionRecord],
) -> Result<(), StoreError> {
    let items: Vec<ItemRow> = items.iter().map(ItemRow::from_item).collect();
    let payments: Vec<PaymentRow> = payments.iter().map(PaymentRow::from_payment).collect();
    let reductions: Vec<ReductionRow> = reductions.iter().map(ReductionRow::from_record).collect();
    insert_chunks!(conn, receivables::table, items, IMPORT_CHUNK);
    insert_chunks!(conn, payments::table, payments, IMPORT_CHUNK);
    insert_chunks!(conn, receivable_reductions::table, reductions, IMPORT_CHUNK);
    Ok(())
}

pub fn get(conn: &mut DbConnection, id: Uuid) -> Result<Option<Receivable>, StoreError> {
    receivables::table
        .find(id.to_string())
        .select(ItemRow::as_select())
        .first(conn)
        .optional()?
        .map(ItemRow::into_item)
        .transpose()
}

fn item_by_reference(
    conn: &mut DbConnection,
    customer_id: Uuid,
    reference: &str,
) -> Result<Option<Receivable>, StoreError> {
    receivables::table
        .filter(receivables::customer_id.eq(customer_id.to_string()))
        .filter(receivables::reference.eq(reference))
        .select(ItemRow::as_select())
        .first(conn)
        .optional()?
        .map(ItemRow::into_item)
        .transpose()
}

/// Posts an open item under the customer's current unit and owner; the same invoice number
/// of the same customer posted again is the item posted before. `order_id`, when given,
/// names an order of this customer in the item's currency.
pub fn post(
    conn: &mut DbConnection,
    new: NewReceivable,
    actor: Uuid,
) -> Result<Result<Posted<Receivable>, FieldError>, StoreError> {
    let posted = post_schedule(conn, vec![new], actor)?;
    Ok(posted.map(|posted| posted.map(|items| items.into_iter().next().expect("one item"))))
}

/// Posts the items of a schedule (a lease's instalments, or one invoice) in one transaction:
/// all or none. Posted before with the same items, it answers them; when any reference is
/// taken by another item, the conflict names that item.
pub fn post_schedule(
    conn: &mut DbConnection,
    items: Vec<NewReceivable>,
    actor: Uuid,
) -> Result<Result<Posted<Vec<Receivable>>, FieldError>, StoreError> {
    write_transaction(conn, |conn| {
        let Some(first) = items.first() else {
            return Ok(Ok(Posted::Created(Vec::new())));
        };
        lock_key(
            conn,
            &format!("receivable:{}:{}", first.customer_id, first.reference),
        )?;
        let mut before = Vec::new();
        for new in &items {
            if let Some(item) = item_by_reference(conn, new.customer_id, &new.reference)? {
                if !same_item(&item, new) {
                    return Ok(Ok(Posted::Conflict(vec![item])));
                }
                before.push(item);
            }
        }
        if before.len() == items.len() {
            return Ok(Ok(Posted::Existing(before)));
        }
        if let Some(item) = before.into_iter().next() {
            return Ok(Ok(Posted::Conflict(vec![item])));
        }
        for new in &items {
            if let Some(order_id) = new.order_id {
                if let Err(error) = order_of(conn, order_id, new.customer_id, new.amount.currency)?
                {
                    return Ok(Err(error));
                }
            }
        }
        items
            .iter()
            .map(|new| insert_item(conn, new.clone(), actor))
            .collect::<Result<Vec<_>, _>>()
            .map(|items| Ok(Posted::Created(items)))
    })
}

/// Whether a stored item is the one `new` posts again.
fn same_item(item: &Receivable, new: &NewReceivable) -> bool {
    item.amount_minor == new.amount.amount_minor
        && item.currency == new.amount.currency
        && item.issued_on == new.issued_on
        && item.due_on == new.due_on
        && item.order_id == new.order_id
        && item.shipped_on == new.shipped_on
}

/// Writes a new open item under its customer's current unit and owner.
fn insert_item(
    conn: &mut DbConnection,
    new: NewReceivable,
    actor: Uuid,
) -> Result<Receivable, StoreError> {
    let (owner_id, sales_unit_id) =
        customers::ownership(conn, new.customer_id)?.ok_or(StoreError::NotFound)?;
    let item = Receivable {
        id: Uuid::now_v7(),
        customer_id: new.customer_id,
        sales_unit_id,
        owner_id,
        order_id: new.order_id,
        currency: new.amount.currency,
        amount_minor: new.amount.amount_minor,
        open_minor: new.amount.amount_minor,
        issued_on: new.issued_on,
        due_on: new.due_on,
        shipped_on: new.shipped_on,
        reference: new.reference,
        settled_on: None,
        original_due_on: None,
        dispute: None,
        created_at: now(),
        created_by: actor,
    };
    diesel::insert_into(receivables::table)
        .values(ItemRow::from_item(&item))
        .execute(conn)?;
    let created = changes(&serde_json::Value::Null, &audit::view(&item)?);
    audit::record(
        conn,
        RECEIVABLE_ENTITY,
        item.id,
        AuditAction::Created,
        actor,
        &created,
    )?;
    webhooks::emit(conn, EventType::ReceivableCreated, &item)?;
    Ok(item)
}

/// `Err` naming `order_id` unless the order is the customer's, in `currency`.
fn order_of(
    conn: &mut DbConnection,
    order_id: Uuid,
    customer_id: Uuid,
    currency: Currency,
) -> Result<Result<(), FieldError>, StoreError> {
    let order = orders::table
        .find(order_id.to_string())
        .select((orders::customer_id, orders::currency))
        .first::<(String, String)>(conn)
        .optional()?;
    Ok(match order {
        None => Err(FieldError::new(
            "order_id",
            FieldCode::NotFound,
            "no order has this id",
        )),
        Some((customer, _)) if customer != customer_id.to_string() => Err(FieldError::new(
            "order_id",
            FieldCode::OtherCustomer,
            "the order is another customer's",
        )),
        Some((_, cur)) if cur != currency.as_str() => Err(FieldError::new(
            "order_id",
            FieldCode::CurrencyMismatch,
            format!("the order is in {cur}"),
        )),
        Some(_) => Ok(()),
    })
}

pub fn payment(conn: &mut DbConnection, id: Uuid) -> Result<Option<Payment>, StoreError> {
    payments::table
        .find(id.to_string())
        .select(PaymentRow::as_select())
        .first(conn)
        .optional()?
        .map(PaymentRow::into_payment)
        .transpose()
}

/// Records a payment; the same bank reference of the same customer posted again is the
/// payment recorded before, so a retried import never counts money twice.
pub fn record_payment(
    conn: &mut DbConnection,
    new: NewPayment,
    actor: Uuid,
) -> Result<Posted<Payment>, StoreError> {
    write_transaction(conn, |conn| {
        lock_key(
            conn,
            &format!("payment:{}:{}", new.customer_id, new.reference),
        )?;
        let before = payments::table
            .filter(payments::customer_id.eq(new.customer_id.to_string()))
            .filter(payments::reference.eq(&new.reference))
            .select(PaymentRow::as_select())
            .first(conn)
            .optional()?
            .map(PaymentRow::into_payment)
            .transpose()?;
        if let Some(before) = before {
            let same = before.amount_minor == new.amount.amount_minor
                && before.currency == new.amount.currency
                && before.received_on == new.received_on;
            return Ok(if same {
                Posted::Existing(before)
            } else {
                Posted::Conflict(before)
            });
        }
        insert_payment(conn, new.clone(), actor).map(Posted::Created)
    })
}

fn insert_payment(
    conn: &mut DbConnection,
    new: NewPayment,
    actor: Uuid,
) -> Result<Payment, StoreError> {
    let payment = Payment {
        id: Uuid::now_v7(),
        customer_id: new.customer_id,
        currency: new.amount.currency,
        amount_minor: new.amount.amount_minor,
        unallocated_minor: new.amount.amount_minor,
        received_on: new.received_on,
        reference: new.reference,
        created_at: now(),
        created_by: actor,
    };
    diesel::insert_into(payments::table)
        .values(PaymentRow::from_payment(&payment))
        .execute(conn)?;
    let created = changes(&serde_json::Value::Null, &audit::view(&payment)?);
    audit::record(
        conn,
        PAYMENT_ENTITY,
        payment.id,
        AuditAction::Created,
        actor,
        &created,
    )?;
    webhooks::emit(conn, EventType::PaymentReceived, &payment)?;
    Ok(payment)
}

/// What a reduction came to.
#[derive(Debug)]
pub enum Reduced {
    Reduced(ReductionRecord),
    /// No such item (or payment) in the caller's reach.
    NotFound,
    Refused(ReductionRefusal),
}

impl Outcome for Reduced {
    fn is_refusal(&self) -> bool {
        !matches!(self, Reduced::Reduced(_))
    }
}

fn balance_of(item: &Receivable) -> ItemBalance {
    ItemBalance {
        customer_id: item.customer_id,
        currency: item.currency,
        issued_on: item.issued_on,
        open_minor: item.open_minor,
    }
}

/// Whose money an item is: its customer and its order. Neither ever changes, so they may be
/// read before the item is locked, to lock the customer's money in order.
fn item_holders(
    conn: &mut DbConnection,
    id: Uuid,
) -> Result<Option<(Uuid, Option<Uuid>)>, StoreError> {
    receivables::table
        .find(id.to_string())
        .select((receivables::customer_id, receivables::order_id))
        .first::<(String, Option<String>)>(conn)
        .optional()?
        .map(|(customer, order)| Ok((parse_id(&customer)?, parse_optional_id(order.as_deref())?)))
        .transpose()
}

/// Locks item `id` with its customer and order (and `payments`), in the money's lock order.
fn lock_item(conn: &mut DbConnection, id: Uuid, payments: &[Uuid]) -> Result<(), StoreError> {
    let (customer, order) = item_holders(conn, id)?.unzip();
    let order = order.flatten();
    lock_money(
        conn,
        MoneyRows {
            customer,
            orders: order.as_slice(),
            receivables: &[id],
            payments,
        },
    )
}

/// Applies part of payment `payment_id` to item `receivable_id` as `decide` rules on both,
/// read under the locks of the customer's money.
pub fn allocate(
    conn: &mut DbConnection,
    payment_id: Uuid,
    receivable_id: Uuid,
    mut decide: impl FnMut(&ItemBalance, &PaymentBalance) -> Result<Reduction, ReductionRefusal>,
    today: NaiveDate,
    actor: Uuid,
) -> Result<Reduced, StoreError> {
    write_transaction(conn, |conn| {
        lock_item(conn, receivable_id, &[payment_id])?;
        let Some(paid) = payment(conn, payment_id)? else {
            return Ok(Reduced::NotFound);
        };
        let Some(item) = get(conn, receivable_id)? else {
            return Ok(Reduced::Refused(ReductionRefusal::Invalid(vec![
                FieldError::new(
                    "receivable_id",
                    FieldCode::NotFound,
                    "no open item with this id in your data scope",
                ),
            ])));
        };
        let reduction = match decide(&balance_of(&item), &payment_balance(&paid)) {
            Ok(reduction) => reduction,
            Err(refusal) => return Ok(Reduced::Refused(refusal)),
        };
        let record = apply_allocation(conn, &paid, &item, reduction, actor)?;
        settle_order(conn, &item, &record, today, actor)?;
        Ok(Reduced::Reduced(record))
    })
}

fn payment_balance(payment: &Payment) -> PaymentBalance {
    PaymentBalance {
        customer_id: payment.customer_id,
        currency: payment.currency,
        received_on: payment.received_on,
        unallocated_minor: payment.unallocated_minor,
    }
}

/// Writes a decided allocation of the locked `payment` to the locked `item`.
fn apply_allocation(
    conn: &mut DbConnection,
    payment: &Payment,
    item: &Receivable,
    reduction: Reduction,
    actor: Uuid,
) -> Result<ReductionRecord, StoreError> {
    let written = diesel::update(
        payments::table
            .find(payment.id.to_string())
            .filter(payments::unallocated_minor.ge(reduction.amount_minor)),
    )
    .set(payments::unallocated_minor.eq(payments::unallocated_minor - reduction.amount_minor))
    .execute(conn)?;
    if written == 0 {
        // Decided on a balance read under the lock: a writer slipped past it.
        return Err(StoreError::Conflict(format!("payment {}", payment.id)));
    }
    write_reduction(conn, item, Some(payment.id), reduction, actor)
}

/// Records a credit note or a write-off against item `id` as `decide` rules on it, locked.
pub fn adjust(
    conn: &mut DbConnection,
    id: Uuid,
    mut decide: impl FnMut(&ItemBalance) -> Result<Reduction, ReductionRefusal>,
    today: NaiveDate,
    actor: Uuid,
) -> Result<Reduced, StoreError> {
    write_transaction(conn, |conn| {
        lock_item(conn, id, &[])?;
        let Some(item) = get(conn, id)? else {
            return Ok(Reduced::NotFound);
        };
        let reduction = match decide(&balance_of(&item)) {
            Ok(reduction) => reduction,
            Err(refusal) => return Ok(Reduced::Refused(refusal)),
        };
        let record = write_reduction(conn, &item, None, reduction, actor)?;
        settle_order(conn, &item, &record, today, actor)?;
        Ok(Reduced::Reduced(record))
    })
}

/// When `record` settled the last open item of an invoiced order, the order is paid on the
/// day its items were settled (not before its last step): the ledger is the one source of
/// the money, the order's status follows it.
fn settle_order(
    conn: &mut DbConnection,
    item: &Receivable,
    record: &ReductionRecord,
    today: NaiveDate,
    actor: Uuid,
) -> Result<(), StoreError> {
    let Some(order_id) = item
        .order_id
        .filter(|_| item.open_minor == record.amount_minor)
    else {
        return Ok(());
    };
    let Some(order) = order_store::get(conn, order_id)? else {
        return Ok(());
    };
    let items = receivables::table.filter(receivables::order_id.eq(order_id.to_string()));
    let still_open = items
        .clone()
        .filter(receivables::open_minor.gt(0))
        .count()
        .get_result::<i64>(conn)?;
    let settled_on = items
        .select(diesel::dsl::max(receivables::settled_on))
        .first::<Option<NaiveDate>>(conn)?
        .unwrap_or(record.on);
    let Some(on) = paid_by_items(order.status, still_open, settled_on, order.dates.latest()) else {
        return Ok(());
    };
    let change = OrderChange::Transition {
        to: OrderStatus::Paid,
        input: TransitionInput {
            on: Some(on),
            ..TransitionInput::default()
        },
        today,
    };
    match order_store::update(conn, order_id, &Expected::Any, change, actor)? {
        Updated::Updated(_) => Ok(()),
        _ => Err(StoreError::Internal(format!(
            "the settled order {order_id} could not be marked paid"
        ))),
    }
}

/// The open item of an order at its invoice step, issued `issued_on` and due after the
/// order's credit days, under the order's reference (or its id when the customer has an item
/// with that reference already). An item an ERP posted for the order before stands for it.
pub(crate) fn post_for_order(
    conn: &mut DbConnection,
    order: &Order,
    issued_on: NaiveDate,
    actor: Uuid,
) -> Result<(), StoreError> {
    let posted_before = receivables::table
        .filter(receivables::order_id.eq(order.id.to_string()))
        .count()
        .get_result::<i64>(conn)?;
    if posted_before > 0 {
        return Ok(());
    }
    let customer_id = order.draft.customer_id;
    let reference = match &order.draft.reference {
        Some(reference) if item_by_reference(conn, customer_id, reference)?.is_none() => {
            reference.clone()
        }
        _ => order.id.to_string(),
    };
    let days = u64::try_from(order.draft.terms.credit_days).unwrap_or(0);
    let new = NewReceivable {
        customer_id,
        amount: order.totals.amount,
        issued_on,
        due_on: issued_on + chrono::Days::new(days),
        reference,
        order_id: Some(order.id),
        shipped_on: order.dates.shipped_on,
    };
    insert_item(conn, new, actor).map(drop)
}

/// The order's pay step: one payment of what its items have open, received `on`, allocated
/// to each of them by the ledger's rule.
pub(crate) fn pay_order_items(
    conn: &mut DbConnection,
    order: &Order,
    on: NaiveDate,
    today: NaiveDate,
    actor: Uuid,
) -> Result<(), StoreError> {
    let of_order = || receivables::table.filter(receivables::order_id.eq(order.id.to_string()));
    let ids = of_order()
        .select(receivables::id)
        .load::<String>(conn)?
        .iter()
        .map(|id| parse_id(id))
        .collect::<Result<Vec<_>, _>>()?;
    // The order step holds the customer and the order already; the items come next.
    lock_money(
        conn,
        MoneyRows {
            customer: Some(order.draft.customer_id),
            orders: &[order.id],
            receivables: &ids,
            ..MoneyRows::default()
        },
    )?;
    let open: Vec<Receivable> = of_order()
        .filter(receivables::open_minor.gt(0))
        .order(receivables::id)
        .select(ItemRow::as_select())
        .load(conn)?
        .into_iter()
        .map(ItemRow::into_item)
        .collect::<Result<_, _>>()?;
    let total: i64 = open.iter().map(|item| item.open_minor).sum();
    if total == 0 {
        return Ok(());
    }
    let new = NewPayment {
        customer_id: order.draft.customer_id,
        amount: Money::new(total, order.draft.currency),
        received_on: on,
        reference: format!("order {} paid", order.id),
    };
    let mut payment = insert_payment(conn, new, actor)?;
    for item in open {
        let input = AllocationInput {
            receivable_id: item.id,
            amount_minor: item.open_minor,
            on: Some(on),
        };
        let reduction = allocate_rule(
            &input,
            &balance_of(&item),
            &payment_balance(&payment),
            today,
        )
        .map_err(|refusal| {
            StoreError::Internal(format!("paying order {}: {refusal:?}", order.id))
        })?;
        payment.unallocated_minor -= reduction.amount_minor;
        apply_allocation(conn, &payment, &item, reduction, actor)?;
    }
    Ok(())
}

/// Writes a decided reduction of the locked `item` and what it leaves open: when nothing
/// is, the item is settled on its latest reduction day.
fn write_reduction(
    conn: &mut DbConnection,
    item: &Receivable,
    payment_id: Option<Uuid>,
    reduction: Reduction,
    actor: Uuid,
) -> Result<ReductionRecord, StoreError> {
    let record = ReductionRecord {
        id: Uuid::now_v7(),
        receivable_id: item.id,
        kind: reduction.kind,
        payment_id,
        amount_minor: reduction.amount_minor,
        on: reduction.on,
        reason: reduction.reason,
        created_at: now(),
        created_by: actor,
    };
    diesel::insert_into(receivable_reductions::table)
        .values(ReductionRow::from_record(&record))
        .execute(conn)?;
    // Relative to the row, and never below zero: a balance decided on a stale read cannot
    // write over what another writer took.
    let written = diesel::update(
        receivables::table
            .find(item.id.to_string())
            .filter(receivables::open_minor.ge(record.amount_minor)),
    )
    .set(receivables::open_minor.eq(receivables::open_minor - record.amount_minor))
    .execute(conn)?;
    if written == 0 {
        return Err(StoreError::Conflict(format!("receivable {}", item.id)));
    }
    if item.open_minor == record.amount_minor {
        let settled_on = receivable_reductions::table
            .filter(receivable_reductions::receivable_id.eq(item.id.to_string()))
            .select(diesel::dsl::max(receivable_reductions::reduced_on))
            .first::<Option<NaiveDate>>(conn)?;
        diesel::update(receivables::table.find(item.id.to_string()))
            .set(receivables::settled_on.eq(settled_on))
            .execute(conn)?;
        let settled = get(conn, item.id)?.ok_or(StoreError::NotFound)?;
        webhooks::emit(conn, EventType::ReceivableSettled, &settled)?;
    }
    let created = changes(&serde_json::Value::Null, &audit::view(&record)?);
    audit::record(
        conn,
        REDUCTION_ENTITY,
        record.id,
        AuditAction::Created,
        actor,
        &created,
    )?;
    Ok(record)
}

/// A page of an item's reductions, oldest first.
pub fn reductions(
    conn: &mut DbConnection,
    receivable_id: Uuid,
    window: &Window<chrono::DateTime<chrono::Utc>>,
) -> Result<Vec<ReductionRecord>, StoreError> {
    let mut query = receivable_reductions::table
        .filter(receivable_reductions::receivable_id.eq(receivable_id.to_string()))
        .select(ReductionRow::as_select())
        .into_boxed::<MultiBackend>();
    keyset!(
        query,
        receivable_reductions::created_at,
        receivable_reductions::id,
        window.after_db_time(),
        false
    );
    query
        .limit(window.limit)
        .load::<ReductionRow>(conn)?
        .into_iter()
        .map(ReductionRow::into_record)
        .collect()
}

#[derive(Debug, Clone)]
pub struct ItemQuery {
    pub scope: Scope,
    pub customer_id: Option<Uuid>,
    pub sales_unit_id: Option<Uuid>,
    pub currency: Option<Currency>,
    /// Items with something open as of this day, which `open_minor` is as of.
    pub open_on: NaiveDate,
    /// Only items past due as of `open_on`.
    pub overdue: bool,
}

/// Items with something open as of `q.open_on`, by due day, with what is open then.
pub fn open_items(
    conn: &mut DbConnection,
    q: &ItemQuery,
    window: &Window<NaiveDate>,
) -> Result<Vec<Receivable>, StoreError> {
    let day = q.open_on;
    let mut query = receivables::table
        .filter(receivables::issued_on.le(day))
        .filter(
            receivables::settled_on
                .is_null()
                .or(receivables::settled_on.gt(day)),
        )
        .select(ItemRow::as_select())
        .into_boxed::<MultiBackend>();
    of_visible_customers!(query, receivables::customer_id, &q.scope);
    if let Some(customer) = q.customer_id {
        query = query.filter(receivables::customer_id.eq(customer.to_string()));
    }
    if let Some(unit) = q.sales_unit_id {
        query = query.filter(receivables::sales_unit_id.eq(unit.to_string()));
    }
    if let Some(currency) = q.currency {
        query = query.filter(receivables::currency.eq(currency.as_str().to_owned()));
    }
    if q.overdue {
        query = query.filter(receivables::due_on.lt(day));
    }
    keyset!(
        query,
        receivables::due_on,
        receivables::id,
        window.after,
        false
    );
    let rows = query.limit(window.limit).load::<ItemRow>(conn)?;
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let reduced: HashMap<String, i64> = receivable_reductions::table
        .filter(receivable_reductions::receivable_id.eq_any(&ids))
        .filter(receivable_reductions::reduced_on.le(day))
        .group_by(receivable_reductions::receivable_id)
        .select((receivable_reductions::receivable_id, sum("amount_minor")))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect();
    rows.into_iter()
        .map(|row| {
            let mut item = row.into_item()?;
            item.open_minor = item.amount_minor - reduced.get(&item.id.to_string()).unwrap_or(&0);
            // Settled after the day: as of the day it was not.
            item.settled_on = None;
            Ok(item)
        })
        .collect()
}

#[derive(Debug, Clone)]
pub struct PaymentQuery {
    pub scope: Scope,
    pub customer_id: Option<Uuid>,
    /// Only payments with something left to allocate.
    pub unallocated: bool,
    pub window: Window<chrono::DateTime<chrono::Utc>>,
}

/// Payments, oldest first.
pub fn payments(conn: &mut DbConnection, q: &PaymentQuery) -> Result<Vec<Payment>, StoreError> {
    let mut query = payments::table
        .select(PaymentRow::as_select())
        .into_boxed::<MultiBackend>();
    of_visible_customers!(query, payments::customer_id, &q.scope);
    if let Some(customer) = q.customer_id {
        query = query.filter(payments::customer_id.eq(customer.to_string()));
    }
    if q.unallocated {
        query = query.filter(payments::unallocated_minor.gt(0));
    }
    keyset!(
        query,
        payments::created_at,
        payments::id,
        q.window.after_db_time(),
        false
    );
    query
        .limit(q.window.limit)
        .load::<PaymentRow>(conn)?
        .into_iter()
        .map(PaymentRow::into_payment)
        .collect()
}
