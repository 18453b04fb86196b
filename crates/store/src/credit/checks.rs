//! The credit check's facts (exposure, overdue items, dunning effects, the warning list, the
//! line), the check of an order's steps, and the overrides that let one order through.

use chrono::{NaiveDate, NaiveDateTime};
use credo_core::audit::AuditAction;
use credo_core::json::changes;
use credo_core::{Currency, Principal};
use credo_credit::alert::{limit_use, AlertKind};
use credo_credit::application::{ApplicationStatus, StepRefusal};
use credo_credit::check::{
    check, credit_part, CheckDecision, CheckFacts, CheckPolicy, CreditCheck, Exposure, Stage,
    StepCheck,
};
use credo_credit::overrides::{let_through, CreditOverride, NewOverride};
use credo_credit::policy::CreditPolicy;
use credo_receivables::dunning::Effect;
use credo_sales::{Order, OrderStatus};
use diesel::dsl::{max, min};
use diesel::prelude::*;
use uuid::Uuid;

use super::{agreements, alerts};
use super::{in_company_minor, within_approval_limit, Decided};
use crate::aggregate;
use crate::convert::{from_db_time, parse_currency, parse_id, to_db_time};
use crate::db::write_transaction;
use crate::receivables::warning_entry_of;
use crate::schema::{
    credit_applications, credit_overrides, dunning_actions, dunning_notices, orders, receivables,
};
use crate::{audit, customers, now, settings, DbConnection, StoreError};

pub const OVERRIDE_ENTITY: &str = "credit_override";

/// The facts a sale of the customer in `currency` is judged on under `policy`; `excluding`
/// leaves out the order being checked, whose own amount is the sale.
pub fn facts(
    conn: &mut DbConnection,
    customer_id: Uuid,
    currency: Currency,
    excluding: Option<Uuid>,
    policy: &CheckPolicy,
    today: NaiveDate,
) -> Result<CheckFacts, StoreError> {
    let customer = customer_id.to_string();
    let open_items = receivables::table
        .filter(receivables::customer_id.eq(&customer))
        .filter(receivables::open_minor.gt(0));
    let open_receivables_minor = open_items
        .filter(receivables::currency.eq(currency.as_str()))
        .select(aggregate::sum("open_minor"))
        .first::<i64>(conn)?;
    let overdue_minor = open_items
        .filter(receivables::currency.eq(currency.as_str()))
        .filter(receivables::due_on.lt(today))
        .select(aggregate::sum("open_minor"))
        .first::<i64>(conn)?;
    let oldest_overdue_due_on = open_items
        .filter(receivables::due_on.lt(today))
        .select(min(receivables::due_on))
        .first::<Option<NaiveDate>>(conn)?;
    let uninvoiced = [
        OrderStatus::Confirmed,
        OrderStatus::InProduction,
        OrderStatus::Shipped,
    ]
    .map(|s| s.as_str());
    let uninvoiced_orders_minor = orders::table
        .filter(orders::customer_id.eq(&customer))
        .filter(orders::currency.eq(currency.as_str()))
        .filter(orders::id.ne(excluding.map(|id| id.to_string()).unwrap_or_default()))
        .filter(orders::status.eq_any(uninvoiced))
        .select((orders::amount_minor, orders::prepayment_bp))
        .load::<(i64, i64)>(conn)?
        .into_iter()
        .fold(0_i64, |sum, (amount, bp)| {
            sum.saturating_add(credit_part(amount, bp))
        });
    let effects = dunning_notices::table
        .inner_join(dunning_actions::table.on(dunning_actions::id.eq(dunning_notices::action_id)))
        .inner_join(receivables::table.on(receivables::id.eq(dunning_notices::receivable_id)))
        .filter(receivables::customer_id.eq(&customer))
        .filter(receivables::open_minor.gt(0))
        .select(dunning_actions::effect)
        .distinct()
        .load::<String>(conn)?;
    let has = |effect: Effect| effects.iter().any(|e| e == effect.as_str());
    // A green-channel application counts once the unit head acknowledged it (pre-reviewed)
    // and until it is evaluated.
    let green_channel_requested = credit_applications::table
        .filter(credit_applications::customer_id.eq(&customer))
        .filter(credit_applications::currency.eq(currency.as_str()))
        .filter(credit_applications::green_channel.eq(true))
        .filter(credit_applications::status.eq(ApplicationStatus::PreReviewed.as_str()))
        .select(max(credit_applications::requested_limit_minor))
        .first::<Option<i64>>(conn)?;
    let green_channel_minor = match green_channel_requested {
        Some(requested) => green_channel_within_cap(conn, requested, currency, policy, today)?,
        None => None,
    };
    let blacklisted_since = warning_entry_of(conn, customer_id, today)?
        .and_then(|entry| entry.reasons.iter().map(|r| r.since).min());
    Ok(CheckFacts {
        agreement: agreements::active(conn, customer_id, currency)?,
        exposure: Exposure {
            open_receivables_minor,
            uninvoiced_orders_minor,
        },
        overdue_minor,
        oldest_overdue_due_on,
        credit_warning: has(Effect::CreditWarning),
        credit_hold: has(Effect::CreditHold) || has(Effect::Blacklist),
        blacklisted_since,
        green_channel_minor,
    })
}

/// What a green-channel request of `requested_minor` in `currency` lets the customer owe:
/// the request, scaled down to the policy's cap (in the company currency) when above it.
/// Without a rate for the currency the cap cannot be told, so the green channel does not
/// count.
fn green_channel_within_cap(
    conn: &mut DbConnection,
    requested_minor: i64,
    currency: Currency,
    policy: &CheckPolicy,
    today: NaiveDate,
) -> Result<Option<i64>, StoreError> {
    let company = settings::company(conn)?.settings.currency;
    let cap_minor = policy
        .green_channel_up_to_major
        .saturating_mul(10_i64.pow(u32::from(company.minor_digits())));
    let requested = (requested_minor, currency);
    let Ok(requested_company) = in_company_minor(conn, requested, company, "currency", today)?
    else {
        return Ok(None);
    };
    if requested_company <= cap_minor {
        return Ok(Some(requested_minor));
    }
    let scaled =
        i128::from(requested_minor) * i128::from(cap_minor) / i128::from(requested_company);
    Ok(Some(i64::try_from(scaled).unwrap_or(i64::MAX)))
}

/// Checks a sale of `amount_minor` on credit to the customer in `currency` at `stage` under
/// the credit policy, as things stand.
pub fn check_sale(
    conn: &mut DbConnection,
    customer_id: Uuid,
    amount_minor: i64,
    currency: Currency,
    stage: Stage,
    today: NaiveDate,
) -> Result<CreditCheck, StoreError> {
    let policy = settings::document::<CreditPolicy>(conn)?.settings;
    let facts = facts(conn, customer_id, currency, None, &policy.check, today)?;
    Ok(check(amount_minor, stage, &facts, &policy.check, today))
}

/// Checks the step `step` of `order` (confirming a quotation is the order stage, shipping
/// the shipment stage). The order's step holds its customer's lock (`Order::lock`), so steps
/// of one customer are judged one after the other, each seeing what the last did. A block is let through
/// once by an unused, unexpired override of the order that covers its credit part; the
/// override is then used up.
pub(crate) fn check_order_step(
    conn: &mut DbConnection,
    order: &Order,
    step: &str,
    today: NaiveDate,
    actor: Uuid,
) -> Result<StepCheck, StoreError> {
    let customer_id = order.draft.customer_id;
    let amount_minor = credit_part(
        order.totals.amount.amount_minor,
        order.draft.terms.prepayment_bp,
    );
    let policy = settings::document::<CreditPolicy>(conn)?.settings;
    let facts = facts(
        conn,
        customer_id,
        order.draft.currency,
        Some(order.id),
        &policy.check,
        today,
    )?;
    let stage = if order.status == OrderStatus::Quoted {
        Stage::Order
    } else {
        Stage::Shipment
    };
    let judged = check(amount_minor, stage, &facts, &policy.check, today);
    let overrides = if judged.decision == CheckDecision::Block {
        overrides_of(conn, order.id)?
    } else {
        Vec::new()
    };
    let (judged, used) = let_through(judged, &overrides, amount_minor, step, today, now());
    let override_id = used.as_ref().map(|used| used.id);
    if let Some(used) = used {
        // Only an unused override lets a check through: before, it was this one unused.
        let unused = CreditOverride {
            used_at: None,
            used_step: None,
            ..used.clone()
        };
        diesel::update(credit_overrides::table.find(used.id.to_string()))
            .set((
                credit_overrides::used_at.eq(used.used_at.map(to_db_time)),
                credit_overrides::used_step.eq(&used.used_step),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            OVERRIDE_ENTITY,
            used.id,
            AuditAction::Updated,
            actor,
            &changes(&audit::view(&unused)?, &audit::view(&used)?),
        )?;
    }
    if let (Some(limit), true) = (judged.limit_minor, judged.decision != CheckDecision::Block) {
        let after = judged.exposure_minor.saturating_add(amount_minor);
        if let Some(detail) = limit_use(after, limit, policy.check.alert_use_bp) {
            alerts::raise(conn, customer_id, AlertKind::LimitUse, detail, today, actor)?;
        }
    }
    Ok(StepCheck {
        step: step.to_owned(),
        check: judged,
        amount_minor,
        override_id,
        checked_at: now(),
    })
}

type OverrideRow = (
    String,
    String,
    String,
    String,
    i64,
    String,
    NaiveDate,
    Option<NaiveDateTime>,
    Option<String>,
    NaiveDateTime,
    String,
);

const COLUMNS: (
    credit_overrides::id,
    credit_overrides::order_id,
    credit_overrides::customer_id,
    credit_overrides::currency,
    credit_overrides::amount_minor,
    credit_overrides::reason,
    credit_overrides::expires_on,
    credit_overrides::used_at,
    credit_overrides::used_step,
    credit_overrides::created_at,
    credit_overrides::created_by,
) = (
    credit_overrides::id,
    credit_overrides::order_id,
    credit_overrides::customer_id,
    credit_overrides::currency,
    credit_overrides::amount_minor,
    credit_overrides::reason,
    credit_overrides::expires_on,
    credit_overrides::used_at,
    credit_overrides::used_step,
    credit_overrides::created_at,
    credit_overrides::created_by,
);

fn override_of(row: OverrideRow) -> Result<CreditOverride, StoreError> {
    let (
        id,
        order_id,
        customer_id,
        currency,
        amount_minor,
        reason,
        expires_on,
        used_at,
        used_step,
        created_at,
        created_by,
    ) = row;
    Ok(CreditOverride {
        id: parse_id(&id)?,
        order_id: parse_id(&order_id)?,
        customer_id: parse_id(&customer_id)?,
        currency: parse_currency(&currency)?,
        amount_minor,
        reason,
        expires_on,
        used_at: used_at.map(from_db_time),
        used_step,
        created_at: from_db_time(created_at),
        created_by: parse_id(&created_by)?,
    })
}

/// The overrides of an order, oldest first.
pub fn overrides_of(
    conn: &mut DbConnection,
    order_id: Uuid,
) -> Result<Vec<CreditOverride>, StoreError> {
    credit_overrides::table
        .filter(credit_overrides::order_id.eq(order_id.to_string()))
        .order((credit_overrides::created_at, credit_overrides::id))
        .select(COLUMNS)
        .load::<OverrideRow>(conn)?
        .into_iter()
        .map(override_of)
        .collect()
}

pub fn credit_override(
    conn: &mut DbConnection,
    id: Uuid,
) -> Result<Option<CreditOverride>, StoreError> {
    credit_overrides::table
        .find(id.to_string())
        .select(COLUMNS)
        .first::<OverrideRow>(conn)
        .optional()?
        .map(override_of)
        .transpose()
}

/// Records an override of `order` under its customer's lock: within the approver's limit
/// (in the company currency at today's rate); audited.
pub fn grant_override(
    conn: &mut DbConnection,
    order: &Order,
    new: NewOverride,
    approver: &Principal,
    today: NaiveDate,
) -> Result<Decided<CreditOverride, StepRefusal>, StoreError> {
    write_transaction(conn, |conn| {
        customers::lock_writable_file(conn, order.draft.customer_id)?;
        let policy = settings::document::<CreditPolicy>(conn)?.settings.approval;
        let currency = order.draft.currency;
        let amount = (new.amount_minor, currency);
        if let Err(refusal) =
            within_approval_limit(conn, &policy, approver, amount, "amount_minor", today)?
        {
            return Ok(Decided::Refused(refusal));
        }
        let granted = CreditOverride {
            id: Uuid::now_v7(),
            order_id: order.id,
            customer_id: order.draft.customer_id,
            currency,
            amount_minor: new.amount_minor,
            reason: new.reason.clone(),
            expires_on: new.expires_on,
            used_at: None,
            used_step: None,
            created_at: now(),
            created_by: approver.user_id,
        };
        diesel::insert_into(credit_overrides::table)
            .values((
                credit_overrides::id.eq(granted.id.to_string()),
                credit_overrides::order_id.eq(granted.order_id.to_string()),
                credit_overrides::customer_id.eq(granted.customer_id.to_string()),
                credit_overrides::currency.eq(granted.currency.as_str()),
                credit_overrides::amount_minor.eq(granted.amount_minor),
                credit_overrides::reason.eq(&granted.reason),
                credit_overrides::expires_on.eq(granted.expires_on),
                credit_overrides::created_at.eq(to_db_time(granted.created_at)),
                credit_overrides::created_by.eq(granted.created_by.to_string()),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            OVERRIDE_ENTITY,
            granted.id,
            AuditAction::Created,
            approver.user_id,
            &changes(&serde_json::Value::Null, &audit::view(&granted)?),
        )?;
        Ok(Decided::Done(granted))
    })
}
