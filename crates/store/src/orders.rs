//! Sales orders with their lines, claims against them, and new-product trials. Status
//! changes run the domain's status machine inside the write transaction, on the locked row.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use credo_core::audit::AuditAction;
use credo_core::json::{changes, patched};
use credo_core::{FieldCode, FieldError, Money, Scope};
use credo_credit::check::{CheckDecision, StepCheck};
use credo_customers::Stamps;
use credo_sales::claim::{claimable_since, fits_order, Decision, DecisionRefusal, NewClaim};
use credo_sales::order::{transition, TransitionError};
use credo_sales::trial::{NewTrial, TrialStepError};
use credo_sales::{
    Claim, ClaimStatus, Order, OrderDates, OrderDraft, OrderInput, OrderLine, OrderStatus,
    PaymentTerms, TransitionInput, Trial, TrialStage,
};
use diesel::prelude::*;
use uuid::Uuid;

use crate::convert::{
    from_db_time, parse_currency, parse_id, parse_name, parse_optional_id, stamps, to_db_time,
};
use crate::db::{
    insert_chunks, lock_money, lock_row, write_transaction, MoneyRows, MultiBackend, Outcome,
};
use crate::keyset::{keyset, of_visible_customers, SortKey, Sorting, Window};
use crate::schema::{order_claims, order_lines, orders, product_trials};
use crate::versioned::{self, Expected, Updated, Versioned};
use crate::webhooks;
use crate::{audit, credit, customers, now, receivables, DbConnection, StoreError};
use credo_core::webhooks::EventType;

pub const ENTITY: &str = "order";
pub const CLAIM_ENTITY: &str = "order_claim";
pub const TRIAL_ENTITY: &str = "product_trial";

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = orders, treat_none_as_null = true)]
struct Row {
    id: String,
    customer_id: String,
    status: String,
    reference: Option<String>,
    currency: String,
    ordered_on: NaiveDate,
    prepayment_bp: i64,
    credit_days: i64,
    amount_minor: i64,
    product_trial_id: Option<String>,
    note: Option<String>,
    confirmed_on: Option<NaiveDate>,
    completed_on: Option<NaiveDate>,
    shipped_on: Option<NaiveDate>,
    documents_sent_on: Option<NaiveDate>,
    paid_on: Option<NaiveDate>,
    closed_on: Option<NaiveDate>,
    cancelled_on: Option<NaiveDate>,
    cancel_reason: Option<String>,
    owner_id: String,
    sales_unit_id: Option<String>,
    created_at: NaiveDateTime,
    created_by: String,
    updated_at: NaiveDateTime,
    updated_by: String,
    version: i64,
    credit_check: Option<String>,
    cost_minor: i64,
    product_kinds: i64,
}

impl Row {
    fn from_order(o: &Order) -> Self {
        let d = &o.draft;
        Row {
            id: o.id.to_string(),
            customer_id: d.customer_id.to_string(),
            status: o.status.as_str().to_owned(),
            reference: d.reference.clone(),
            currency: d.currency.as_str().to_owned(),
            ordered_on: d.ordered_on,
            prepayment_bp: d.terms.prepayment_bp,
            credit_days: d.terms.credit_days,
            amount_minor: o.totals.amount.amount_minor,
            product_trial_id: d.product_trial_id.map(|t| t.to_string()),
            note: d.note.clone(),
            confirmed_on: o.dates.confirmed_on,
            completed_on: o.dates.completed_on,
            shipped_on: o.dates.shipped_on,
            documents_sent_on: o.dates.documents_sent_on,
            paid_on: o.dates.paid_on,
            closed_on: o.dates.closed_on,
            cancelled_on: o.dates.cancelled_on,
            cancel_reason: o.cancel_reason.clone(),
            owner_id: o.owner_id.to_string(),
            sales_unit_id: o.sales_unit_id.map(|u| u.to_string()),
            created_at: to_db_time(o.stamps.created_at),
            created_by: o.stamps.created_by.to_string(),
            updated_at: to_db_time(o.stamps.updated_at),
            updated_by: o.stamps.updated_by.to_string(),
            version: o.stamps.version,
            credit_check: o
                .credit_check
                .as_ref()
                .map(|c| serde_json::to_string(c).expect("a step check serialises")),
            cost_minor: o.totals.cost.amount_minor,
            product_kinds: i64::try_from(d.product_kinds()).unwrap_or(i64::MAX),
        }
    }

    fn into_order(self, lines: Vec<OrderLine>) -> Result<Order, StoreError> {
        let draft = OrderDraft {
            customer_id: parse_id(&self.customer_id)?,
            reference: self.reference,
            currency: parse_currency(&self.currency)?,
            ordered_on: self.ordered_on,
            terms: PaymentTerms {
                prepayment_bp: self.prepayment_bp,
                credit_days: self.credit_days,
            },
            lines,
            product_trial_id: parse_optional_id(self.product_trial_id.as_deref())?,
            note: self.note,
        };
        let totals = credo_sales::OrderTotals::of(&draft.lines, draft.currency)
            .map_err(|_| StoreError::Internal("stored order lines overflow".into()))?;
        Ok(Order {
            id: parse_id(&self.id)?,
            status: parse_name(&self.status, OrderStatus::parse)?,
            draft,
            totals,
            dates: OrderDates {
                confirmed_on: self.confirmed_on,
                completed_on: self.completed_on,
                shipped_on: self.shipped_on,
                documents_sent_on: self.documents_sent_on,
                paid_on: self.paid_on,
                closed_on: self.closed_on,
                cancelled_on: self.cancelled_on,
            },
            cancel_reason: self.cancel_reason,
            credit_check: self
                .credit_check
                .as_deref()
                .map(serde_json::from_str)
                .transpose()?,
            owner_id: parse_id(&self.owner_id)?,
            sales_unit_id: parse_optional_id(self.sales_unit_id.as_deref())?,
            stamps: stamps(
                self.created_at,
                &self.created_by,
                self.updated_at,
                &self.updated_by,
                self.version,
            )?,
        })
    }
}

type LineRow = (String, i64, String, String, i64, i64, i64);

/// Loads the lines of many orders with one query.
fn lines_of(
    conn: &mut DbConnection,
    ids: &[String],
) -> Result<HashMap<String, Vec<OrderLine>>, StoreError> {
    let mut lines: HashMap<String, Vec<OrderLine>> = HashMap::new();
    if ids.is_empty() {
        return Ok(lines);
    }
    let rows = order_lines::table
        .filter(order_lines::order_id.eq_any(ids))
        .order((order_lines::order_id, order_lines::line_no))
        .load::<LineRow>(conn)?;
    for (order, _, code, name, quantity, price, cost) in rows {
        let line = OrderLine::new(code, name, quantity, price, cost)
            .map_err(|_| StoreError::Internal("stored order line overflows".into()))?;
        lines.entry(order).or_default().push(line);
    }
    Ok(lines)
}

fn with_lines(conn: &mut DbConnection, rows: Vec<Row>) -> Result<Vec<Order>, StoreError> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut lines = lines_of(conn, &ids)?;
    rows.into_iter()
        .map(|row| {
            let own = lines.remove(&row.id).unwrap_or_default();
            row.into_order(own)
        })
        .collect()
}

fn replace_lines(
    conn: &mut DbConnection,
    order_id: Uuid,
    lines: &[OrderLine],
) -> Result<(), StoreError> {
    let id = order_id.to_string();
    diesel::delete(order_lines::table.filter(order_lines::order_id.eq(&id))).execute(conn)?;
    // One row at a time: multi-row inserts do not go through the MultiConnection enum.
    for (no, line) in (1_i64..).zip(lines) {
        diesel::insert_into(order_lines::table)
            .values((
                order_lines::order_id.eq(&id),
                order_lines::line_no.eq(no),
                order_lines::product_code.eq(&line.product_code),
                order_lines::product_name.eq(&line.product_name),
                order_lines::quantity.eq(line.quantity),
                order_lines::unit_price_minor.eq(line.unit_price_minor),
                order_lines::unit_cost_minor.eq(line.unit_cost_minor),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn get(conn: &mut DbConnection, id: Uuid) -> Result<Option<Order>, StoreError> {
    let Some(row) = orders::table
        .find(id.to_string())
        .select(Row::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(None);
    };
    Ok(with_lines(conn, vec![row])?.pop())
}

#[derive(Clone)]
pub struct NewOrder {
    pub id: Uuid,
    pub draft: OrderDraft,
    pub actor: Uuid,
    pub today: NaiveDate,
}

pub enum CreateOrderOutcome {
    Created(Order),
    IdTaken(Order),
    /// The named product trial cannot be concluded by this order.
    TrialRefused(FieldError),
    /// The customer's file is archived (read-only until restored).
    CustomerArchived,
}

impl Outcome for CreateOrderOutcome {
    fn is_refusal(&self) -> bool {
        !matches!(self, CreateOrderOutcome::Created(_))
    }
}

/// Creates an order under its customer's lock, owned where the customer is owned as it
/// stands then; refused while the customer's file is archived.
pub fn create(conn: &mut DbConnection, new: NewOrder) -> Result<CreateOrderOutcome, StoreError> {
    write_transaction(conn, |conn| {
        let customer_id = new.draft.customer_id;
        lock_money(
            conn,
            MoneyRows {
                customer: Some(customer_id),
                ..MoneyRows::default()
            },
        )?;
        let customer = customers::get(conn, customer_id)?.ok_or(StoreError::NotFound)?;
        if customer.is_read_only() {
            return Ok(CreateOrderOutcome::CustomerArchived);
        }
        if let Some(existing) = get(conn, new.id)? {
            return Ok(CreateOrderOutcome::IdTaken(existing));
        }
        let at = now();
        let order = Order {
            id: new.id,
            status: OrderStatus::Quoted,
            totals: new.draft.totals(),
            draft: new.draft.clone(),
            dates: OrderDates::default(),
            cancel_reason: None,
            credit_check: None,
            owner_id: customer.owner_id,
            sales_unit_id: customer.sales_unit_id,
            stamps: Stamps {
                created_at: at,
                created_by: new.actor,
                updated_at: at,
                updated_by: new.actor,
                version: 1,
            },
        };
        diesel::insert_into(orders::table)
            .values(Row::from_order(&order))
            .execute(conn)?;
        replace_lines(conn, order.id, &order.draft.lines)?;
        if let Some(trial_id) = order.draft.product_trial_id {
            let concluded = advance_trial(
                conn,
                trial_id,
                Some(order.draft.customer_id),
                TrialMove {
                    to: TrialStage::Ordered,
                    on: order.draft.ordered_on,
                    order_id: Some(order.id),
                    today: new.today,
                },
                new.actor,
            )?;
            let refused = |code: FieldCode, message: &str| {
                Ok(CreateOrderOutcome::TrialRefused(FieldError::new(
                    "product_trial_id",
                    code,
                    message,
                )))
            };
            match concluded {
                Updated::Updated(_) => {}
                Updated::NotFound | Updated::Stale(_) => {
                    return refused(FieldCode::NotFound, "no such trial of this customer")
                }
                Updated::Refused(TrialStepError::NotAllowed(stage)) => {
                    let message = format!("the trial is {} already", stage.as_str());
                    return refused(FieldCode::TrialClosed, &message);
                }
                Updated::Refused(TrialStepError::Invalid(_)) => {
                    return refused(
                        FieldCode::BeforeEarlierDate,
                        "the order date lies before the trial's last step",
                    )
                }
            }
        }
        let created = changes(&serde_json::Value::Null, &audit::view(&order)?);
        audit::record(
            conn,
            ENTITY,
            order.id,
            AuditAction::Created,
            new.actor,
            &created,
        )?;
        webhooks::emit(conn, EventType::OrderCreated, &order)?;
        Ok(CreateOrderOutcome::Created(order))
    })
}

/// A change to one order.
#[derive(Clone)]
pub enum OrderChange {
    /// A JSON merge patch of the lines and terms (the `OrderInput` form); only while the
    /// order is a quotation. `today` bounds its dates.
    Patch {
        patch: serde_json::Value,
        today: NaiveDate,
    },
    /// A move of the status machine.
    Transition {
        to: OrderStatus,
        input: TransitionInput,
        today: NaiveDate,
    },
}

/// Why a change to an order was refused.
#[derive(Debug)]
pub enum OrderRefusal {
    /// The order is past quotation; its lines and terms are fixed.
    NotEditable(OrderStatus),
    /// The patched order breaks these rules.
    Invalid(Vec<FieldError>),
    Transition(TransitionError),
    /// The step's check said stop.
    Blocked(StepCheck),
}

pub type UpdateOrderOutcome = Updated<Order, OrderRefusal>;

impl Versioned for Order {
    const TABLE: &'static str = "orders";
    const ENTITY: &'static str = ENTITY;

    /// An order's steps move its customer's money (the credit check weighs the customer's
    /// exposure, invoicing and paying write its items): its customer is locked first. An
    /// order's customer never changes, so reading it before the lock is safe.
    fn lock(conn: &mut DbConnection, id: Uuid) -> Result<(), StoreError> {
        let customer = orders::table
            .find(id.to_string())
            .select(orders::customer_id)
            .first::<String>(conn)
            .optional()?
            .map(|customer| parse_id(&customer))
            .transpose()?;
        lock_money(
            conn,
            MoneyRows {
                customer,
                orders: &[id],
                ..MoneyRows::default()
            },
        )
    }

    versioned::stamps_field!();

    fn audit_view(&self) -> Result<serde_json::Value, StoreError> {
        audit::view(self)
    }

    fn tell(conn: &mut DbConnection, current: &Self, next: &Self) -> Result<(), StoreError> {
        match next
            .status
            .event()
            .filter(|_| next.status != current.status)
        {
            Some(event) => webhooks::emit(conn, event, next),
            None => Ok(()),
        }
    }

    fn write(conn: &mut DbConnection, current: &Self, next: &Self) -> Result<usize, StoreError> {
        let written = diesel::update(
            orders::table
                .find(current.id.to_string())
                .filter(orders::version.eq(current.stamps.version)),
        )
        .set(Row::from_order(next))
        .execute(conn)?;
        if next.draft.lines != current.draft.lines {
            replace_lines(conn, next.id, &next.draft.lines)?;
        }
        Ok(written)
    }
}

pub fn update(
    conn: &mut DbConnection,
    id: Uuid,
    expected: &Expected,
    change: OrderChange,
    actor: Uuid,
) -> Result<UpdateOrderOutcome, StoreError> {
    versioned::update(
        conn,
        id,
        expected,
        actor,
        |conn| get(conn, id),
        |conn, current| {
            let mut next = current.clone();
            Ok(match change.clone() {
                OrderChange::Patch { patch, today } => {
                    if !current.status.is_editable() {
                        return Ok(Err(OrderRefusal::NotEditable(current.status)));
                    }
                    let draft = patched::<OrderInput>(&current.draft.input(), &patch)
                        .and_then(|input| input.validate(today));
                    match draft {
                        Ok(draft) => {
                            next.totals = draft.totals();
                            next.draft = draft;
                            Ok((next, AuditAction::Updated))
                        }
                        Err(errors) => Err(OrderRefusal::Invalid(errors)),
                    }
                }
                OrderChange::Transition { to, input, today } => {
                    let (dates, reason) = match transition(
                        current.status,
                        current.draft.ordered_on,
                        &current.dates,
                        to,
                        &input,
                        today,
                    ) {
                        Ok(moved) => moved,
                        Err(refused) => return Ok(Err(OrderRefusal::Transition(refused))),
                    };
                    if matches!(to, OrderStatus::Confirmed | OrderStatus::Shipped) {
                        let check = credit::checks::check_order_step(
                            conn,
                            current,
                            to.as_str(),
                            today,
                            actor,
                        )?;
                        if check.check.decision == CheckDecision::Block {
                            return Ok(Err(OrderRefusal::Blocked(check)));
                        }
                        next.credit_check = Some(check);
                    }
                    // The ledger follows the money steps: invoicing opens the order's item,
                    // paying settles what it has open.
                    match (to, dates.documents_sent_on, dates.paid_on) {
                        (OrderStatus::Invoiced, Some(issued_on), _) => {
                            receivables::post_for_order(conn, current, issued_on, actor)?
                        }
                        (OrderStatus::Paid, _, Some(paid_on)) => {
                            receivables::pay_order_items(conn, current, paid_on, today, actor)?
                        }
                        _ => {}
                    }
                    next.status = to;
                    next.dates = dates;
                    next.cancel_reason = reason.or(next.cancel_reason);
                    Ok((next, AuditAction::StatusChanged))
                }
            })
        },
    )
}

#[derive(Debug, Clone)]
pub struct OrderListQuery {
    pub scope: Scope,
    pub customer_id: Option<Uuid>,
    pub owner_id: Option<Uuid>,
    pub sales_unit_id: Option<Uuid>,
    /// Any of these; all when empty.
    pub statuses: Vec<OrderStatus>,
    pub ordered_from: Option<NaiveDate>,
    pub ordered_to: Option<NaiveDate>,
    /// Only records changed at or after this time.
    pub updated_since: Option<chrono::DateTime<chrono::Utc>>,
}

/// The columns the order list sorts by.
#[derive(Debug, Clone, Copy)]
pub enum SortField {
    OrderedOn,
    CreatedAt,
    UpdatedAt,
}

/// An order's value in the sort column, to continue after it.
pub fn sort_key(order: &Order, sort: SortField) -> SortKey {
    match sort {
        SortField::OrderedOn => SortKey::Day(order.draft.ordered_on),
        SortField::CreatedAt => SortKey::at(order.stamps.created_at),
        SortField::UpdatedAt => SortKey::at(order.stamps.updated_at),
    }
}

/// Orders in the asked sort. The caller's scope follows the customer's current owner, so an
/// account manager who takes over a customer sees its order history.
pub fn list(
    conn: &mut DbConnection,
    q: &OrderListQuery,
    sorting: &Sorting<SortField>,
    limit: i64,
) -> Result<Vec<Order>, StoreError> {
    let mut query = orders::table
        .select(Row::as_select())
        .into_boxed::<MultiBackend>();
    of_visible_customers!(query, orders::customer_id, &q.scope);
    if let Some(customer) = q.customer_id {
        query = query.filter(orders::customer_id.eq(customer.to_string()));
    }
    if let Some(owner) = q.owner_id {
        query = query.filter(orders::owner_id.eq(owner.to_string()));
    }
    if let Some(unit) = q.sales_unit_id {
        query = query.filter(orders::sales_unit_id.eq(unit.to_string()));
    }
    if !q.statuses.is_empty() {
        query = query.filter(orders::status.eq_any(q.statuses.iter().map(|s| s.as_str())));
    }
    if let Some(from) = q.ordered_from {
        query = query.filter(orders::ordered_on.ge(from));
    }
    if let Some(to) = q.ordered_to {
        query = query.filter(orders::ordered_on.le(to));
    }
    if let Some(since) = q.updated_since {
        query = query.filter(orders::updated_at.ge(to_db_time(since)));
    }
    let descending = sorting.descending;
    match sorting.field {
        SortField::OrderedOn => {
            let after = sorting.after(SortKey::day)?;
            keyset!(query, orders::ordered_on, orders::id, after, descending);
        }
        SortField::CreatedAt => {
            let after = sorting.after(SortKey::time)?;
            keyset!(query, orders::created_at, orders::id, after, descending);
        }
        SortField::UpdatedAt => {
            let after = sorting.after(SortKey::time)?;
            keyset!(query, orders::updated_at, orders::id, after, descending);
        }
    }
    let rows = query.limit(limit).load::<Row>(conn)?;
    with_lines(conn, rows)
}

pub fn history(
    conn: &mut DbConnection,
    id: Uuid,
    window: &crate::keyset::Window<chrono::DateTime<chrono::Utc>>,
) -> Result<Vec<credo_core::audit::AuditEntry>, StoreError> {
    audit::history(conn, ENTITY, id, window)
}

type ClaimRow = (
    String,
    String,
    String,
    i64,
    String,
    String,
    NaiveDate,
    String,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<NaiveDateTime>,
    String,
    NaiveDateTime,
);

fn claim_from_row(row: ClaimRow) -> Result<Claim, StoreError> {
    let (
        id,
        order,
        customer,
        amount,
        cur,
        reason,
        raised_on,
        status,
        settled,
        note,
        by,
        at,
        creator,
        created,
    ) = row;
    Ok(Claim {
        id: parse_id(&id)?,
        order_id: parse_id(&order)?,
        customer_id: parse_id(&customer)?,
        amount: Money::new(amount, parse_currency(&cur)?),
        reason,
        raised_on,
        status: parse_name(&status, ClaimStatus::parse)?,
        settled_amount_minor: settled,
        decision_note: note,
        decided_by: parse_optional_id(by.as_deref())?,
        decided_at: at.map(from_db_time),
        created_by: parse_id(&creator)?,
        created_at: from_db_time(created),
    })
}

macro_rules! claim_columns {
    () => {
        (
            order_claims::id,
            order_claims::order_id,
            order_claims::customer_id,
            order_claims::amount_minor,
            order_claims::currency,
            order_claims::reason,
            order_claims::raised_on,
            order_claims::status,
            order_claims::settled_amount_minor,
            order_claims::decision_note,
            order_claims::decided_by,
            order_claims::decided_at,
            order_claims::created_by,
            order_claims::created_at,
        )
    };
}

/// Why a claim is not recorded.
#[derive(Debug)]
pub enum ClaimRefused {
    /// The order has not been delivered (its status): nothing to claim against yet.
    NotDelivered(OrderStatus),
    Invalid(Vec<FieldError>),
}

/// Records a claim against `order` (its customer's money locked, the order read again
/// under the lock): `validate` makes the claim of the request given the delivery day, and it
/// must fit beside the order's standing claims, so that concurrent claims cannot together
/// exceed it.
pub fn add_claim(
    conn: &mut DbConnection,
    order: &Order,
    mut validate: impl FnMut(NaiveDate) -> Result<NewClaim, Vec<FieldError>>,
    actor: Uuid,
) -> Result<Result<Claim, ClaimRefused>, StoreError> {
    write_transaction(conn, |conn| {
        lock_money(
            conn,
            MoneyRows {
                customer: Some(order.draft.customer_id),
                orders: &[order.id],
                ..MoneyRows::default()
            },
        )?;
        let current = get(conn, order.id)?.ok_or(StoreError::NotFound)?;
        let since = match claimable_since(current.status, current.dates.shipped_on) {
            Ok(since) => since,
            Err(status) => return Ok(Err(ClaimRefused::NotDelivered(status))),
        };
        let claim = match validate(since) {
            Ok(claim) => claim,
            Err(errors) => return Ok(Err(ClaimRefused::Invalid(errors))),
        };
        let every = Window {
            after: None,
            limit: i64::MAX,
        };
        let standing = claims_of_order(conn, current.id, &every)?;
        if let Err(error) = fits_order(
            current.totals.amount.amount_minor,
            &standing,
            claim.amount_minor,
        ) {
            return Ok(Err(ClaimRefused::Invalid(vec![error])));
        }
        let record = Claim {
            id: Uuid::now_v7(),
            order_id: current.id,
            customer_id: current.draft.customer_id,
            amount: Money::new(claim.amount_minor, current.draft.currency),
            reason: claim.reason,
            raised_on: claim.raised_on,
            status: ClaimStatus::Open,
            settled_amount_minor: None,
            decision_note: None,
            decided_by: None,
            decided_at: None,
            created_by: actor,
            created_at: now(),
        };
        diesel::insert_into(order_claims::table)
            .values((
                order_claims::id.eq(record.id.to_string()),
                order_claims::order_id.eq(record.order_id.to_string()),
                order_claims::customer_id.eq(record.customer_id.to_string()),
                order_claims::amount_minor.eq(record.amount.amount_minor),
                order_claims::currency.eq(record.amount.currency.as_str()),
                order_claims::reason.eq(&record.reason),
                order_claims::raised_on.eq(record.raised_on),
                order_claims::status.eq(record.status.as_str()),
                order_claims::created_by.eq(actor.to_string()),
                order_claims::created_at.eq(to_db_time(record.created_at)),
            ))
            .execute(conn)?;
        let created = changes(&serde_json::Value::Null, &audit::view(&record)?);
        audit::record(
            conn,
            CLAIM_ENTITY,
            record.id,
            AuditAction::Created,
            actor,
            &created,
        )?;
        Ok(Ok(record))
    })
}

pub fn claim(conn: &mut DbConnection, id: Uuid) -> Result<Option<Claim>, StoreError> {
    order_claims::table
        .find(id.to_string())
        .select(claim_columns!())
        .first::<ClaimRow>(conn)
        .optional()?
        .map(claim_from_row)
        .transpose()
}

/// A page of an order's claims, oldest first.
pub fn claims_of_order(
    conn: &mut DbConnection,
    order_id: Uuid,
    window: &Window<chrono::DateTime<chrono::Utc>>,
) -> Result<Vec<Claim>, StoreError> {
    let mut query = order_claims::table
        .filter(order_claims::order_id.eq(order_id.to_string()))
        .into_boxed::<MultiBackend>();
    keyset!(
        query,
        order_claims::created_at,
        order_claims::id,
        window.after_db_time(),
        false
    );
    query
        .limit(window.limit)
        .select(claim_columns!())
        .load::<ClaimRow>(conn)?
        .into_iter()
        .map(claim_from_row)
        .collect()
}

pub enum DecideOutcome {
    Decided(Claim),
    NotFound,
    /// Decided before: a claim is decided once.
    AlreadyDecided(Claim),
    /// The decider raised the claim: someone else decides it.
    SamePerson,
}

impl Outcome for DecideOutcome {
    fn is_refusal(&self) -> bool {
        !matches!(self, DecideOutcome::Decided(_))
    }
}

/// Decides claim `id` of order `order_id`.
pub fn decide_claim(
    conn: &mut DbConnection,
    id: Uuid,
    order_id: Uuid,
    mut decide: impl FnMut(&Claim) -> Result<Decision, Vec<FieldError>>,
    actor: Uuid,
) -> Result<Result<DecideOutcome, Vec<FieldError>>, StoreError> {
    write_transaction(conn, |conn| {
        lock_row(conn, "order_claims", id)?;
        let Some(current) = claim(conn, id)?.filter(|c| c.order_id == order_id) else {
            return Ok(Ok(DecideOutcome::NotFound));
        };
        match current.may_decide(actor) {
            Ok(()) => {}
            Err(DecisionRefusal::AlreadyDecided) => {
                return Ok(Ok(DecideOutcome::AlreadyDecided(current)))
            }
            Err(DecisionRefusal::SamePerson) => return Ok(Ok(DecideOutcome::SamePerson)),
        }
        let decision = match decide(&current) {
            Ok(decision) => decision,
            Err(errors) => return Ok(Err(errors)),
        };
        let mut next = current.clone();
        next.status = decision.status;
        next.settled_amount_minor = decision.settled_amount_minor;
        next.decision_note = decision.note;
        next.decided_by = Some(actor);
        next.decided_at = Some(now());
        diesel::update(order_claims::table.find(id.to_string()))
            .set((
                order_claims::status.eq(next.status.as_str()),
                order_claims::settled_amount_minor.eq(next.settled_amount_minor),
                order_claims::decision_note.eq(&next.decision_note),
                order_claims::decided_by.eq(actor.to_string()),
                order_claims::decided_at.eq(next.decided_at.map(to_db_time)),
            ))
            .execute(conn)?;
        let diff = changes(&audit::view(&current)?, &audit::view(&next)?);
        audit::record(conn, CLAIM_ENTITY, id, AuditAction::Updated, actor, &diff)?;
        Ok(Ok(DecideOutcome::Decided(next)))
    })
}

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = product_trials, treat_none_as_null = true)]
struct TrialRow {
    id: String,
    customer_id: String,
    product_code: String,
    product_name: String,
    stage: String,
    inquired_on: NaiveDate,
    sampled_on: Option<NaiveDate>,
    ordered_on: Option<NaiveDate>,
    dropped_on: Option<NaiveDate>,
    order_id: Option<String>,
    note: Option<String>,
    created_at: NaiveDateTime,
    created_by: String,
    updated_at: NaiveDateTime,
    updated_by: String,
    version: i64,
}

impl TrialRow {
    fn from_trial(t: &Trial) -> Self {
        TrialRow {
            id: t.id.to_string(),
            customer_id: t.customer_id.to_string(),
            product_code: t.product_code.clone(),
            product_name: t.product_name.clone(),
            stage: t.stage.as_str().to_owned(),
            inquired_on: t.inquired_on,
            sampled_on: t.sampled_on,
            ordered_on: t.ordered_on,
            dropped_on: t.dropped_on,
            order_id: t.order_id.map(|o| o.to_string()),
            note: t.note.clone(),
            created_at: to_db_time(t.stamps.created_at),
            created_by: t.stamps.created_by.to_string(),
            updated_at: to_db_time(t.stamps.updated_at),
            updated_by: t.stamps.updated_by.to_string(),
            version: t.stamps.version,
        }
    }

    fn into_trial(self) -> Result<Trial, StoreError> {
        Ok(Trial {
            id: parse_id(&self.id)?,
            customer_id: parse_id(&self.customer_id)?,
            product_code: self.product_code,
            product_name: self.product_name,
            stage: parse_name(&self.stage, TrialStage::parse)?,
            inquired_on: self.inquired_on,
            sampled_on: self.sampled_on,
            ordered_on: self.ordered_on,
            dropped_on: self.dropped_on,
            order_id: parse_optional_id(self.order_id.as_deref())?,
            note: self.note,
            stamps: stamps(
                self.created_at,
                &self.created_by,
                self.updated_at,
                &self.updated_by,
                self.version,
            )?,
        })
    }
}

impl Outcome for Trial {}
impl Outcome for Claim {}

pub fn add_trial(
    conn: &mut DbConnection,
    customer_id: Uuid,
    new: NewTrial,
    actor: Uuid,
) -> Result<Trial, StoreError> {
    let at = now();
    let trial = Trial {
        id: Uuid::now_v7(),
        customer_id,
        product_code: new.product_code,
        product_name: new.product_name,
        stage: TrialStage::Inquiry,
        inquired_on: new.inquired_on,
        sampled_on: None,
        ordered_on: None,
        dropped_on: None,
        order_id: None,
        note: new.note,
        stamps: Stamps {
            created_at: at,
            created_by: actor,
            updated_at: at,
            updated_by: actor,
            version: 1,
        },
    };
    write_transaction(conn, |conn| {
        diesel::insert_into(product_trials::table)
            .values(TrialRow::from_trial(&trial))
            .execute(conn)?;
        let created = changes(&serde_json::Value::Null, &audit::view(&trial)?);
        audit::record(
            conn,
            TRIAL_ENTITY,
            trial.id,
            AuditAction::Created,
            actor,
            &created,
        )?;
        Ok(trial.clone())
    })
}

pub fn trial(conn: &mut DbConnection, id: Uuid) -> Result<Option<Trial>, StoreError> {
    product_trials::table
        .find(id.to_string())
        .select(TrialRow::as_select())
        .first(conn)
        .optional()?
        .map(TrialRow::into_trial)
        .transpose()
}

/// A page of a customer's trials, newest inquiry first.
pub fn trials_of_customer(
    conn: &mut DbConnection,
    customer_id: Uuid,
    window: &Window<NaiveDate>,
) -> Result<Vec<Trial>, StoreError> {
    let mut query = product_trials::table
        .filter(product_trials::customer_id.eq(customer_id.to_string()))
        .into_boxed::<MultiBackend>();
    keyset!(
        query,
        product_trials::inquired_on,
        product_trials::id,
        window.after,
        true
    );
    query
        .limit(window.limit)
        .select(TrialRow::as_select())
        .load(conn)?
        .into_iter()
        .map(TrialRow::into_trial)
        .collect()
}

impl Versioned for Trial {
    const TABLE: &'static str = "product_trials";
    const ENTITY: &'static str = TRIAL_ENTITY;

    versioned::stamps_field!();

    fn audit_view(&self) -> Result<serde_json::Value, StoreError> {
        audit::view(self)
    }

    fn write(conn: &mut DbConnection, current: &Self, next: &Self) -> Result<usize, StoreError> {
        Ok(diesel::update(
            product_trials::table
                .find(current.id.to_string())
                .filter(product_trials::version.eq(current.stamps.version)),
        )
        .set(TrialRow::from_trial(next))
        .execute(conn)?)
    }
}

/// A step of a product trial: to a sample, dropped, or concluded by an order.
#[derive(Clone)]
pub struct TrialMove {
    pub to: TrialStage,
    pub on: NaiveDate,
    pub order_id: Option<Uuid>,
    pub today: NaiveDate,
}

pub type TrialStepOutcome = Updated<Trial, TrialStepError>;

/// Moves trial `id` (of `customer_id`, when given) one step, on its locked row: two orders
/// cannot both conclude one trial.
pub fn advance_trial(
    conn: &mut DbConnection,
    id: Uuid,
    customer_id: Option<Uuid>,
    step: TrialMove,
    actor: Uuid,
) -> Result<TrialStepOutcome, StoreError> {
    versioned::update(
        conn,
        id,
        &Expected::Any,
        actor,
        |conn| Ok(trial(conn, id)?.filter(|t| customer_id.is_none_or(|c| t.customer_id == c))),
        |_, current| {
            Ok(current
                .advance(step.to, step.on, step.order_id, step.today)
                .map(|next| (next, AuditAction::StatusChanged)))
        },
    )
}

#[derive(Insertable)]
#[diesel(table_name = order_lines)]
struct NewLineRow<'a> {
    order_id: String,
    line_no: i64,
    product_code: &'a str,
    product_name: &'a str,
    quantity: i64,
    unit_price_minor: i64,
    unit_cost_minor: i64,
}

/// Rows per multi-row INSERT: under SQLite's 32,766 bound parameters.
const IMPORT_CHUNK: usize = 1000;

/// Imports finished order history (from a legacy system, or the demo) in multi-row inserts,
/// without audit entries: the history predates Credo. Caller runs it in a transaction.
pub fn import(conn: &mut DbConnection, batch: &[Order]) -> Result<(), StoreError> {
    let rows: Vec<Row> = batch.iter().map(Row::from_order).collect();
    let lines: Vec<NewLineRow> = batch
        .iter()
        .flat_map(|order| {
            (1_i64..)
                .zip(&order.draft.lines)
                .map(|(no, line)| NewLineRow {
                    order_id: order.id.to_string(),
                    line_no: no,
                    product_code: &line.product_code,
                    product_name: &line.product_name,
                    quantity: line.quantity,
                    unit_price_minor: line.unit_price_minor,
                    unit_cost_minor: line.unit_cost_minor,
                })
        })
        .collect();
    insert_chunks!(conn, orders::table, rows, IMPORT_CHUNK / 2);
    insert_chunks!(conn, order_lines::table, lines, IMPORT_CHUNK * 2);
    Ok(())
}
