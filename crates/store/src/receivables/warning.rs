//! The warning list, read from four sources each grouped by customer in the database (suits
//! since the last lifting, listings by hand, non-credit arrears, overdue credit sales) and
//! merged by customer id, the order a page runs in.

use credo_core::webhooks::EventType;
use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use credo_core::audit::AuditAction;
use credo_customers::EventKind;
use credo_receivables::warning::{
    arrears_cutoffs, lawsuit_reasons, non_credit_arrears, overdue_credit_sale, WarningCode,
    WarningEntry, WarningReason,
};
use diesel::dsl::{exists, max, min, not};
use diesel::prelude::*;
use uuid::Uuid;

use crate::convert::{parse_id, to_db_time};
use crate::db::write_transaction;
use crate::keyset::Window;
use crate::schema::{customer_events, customers, receivables, warning_list_changes};
use crate::webhooks;
use crate::{audit, customers as customer_store, now, DbConnection, StoreError};

pub const WARNING_ENTITY: &str = "warning_list";

/// A page of the list as of `today`, by customer id.
pub fn warning_list(
    conn: &mut DbConnection,
    today: NaiveDate,
    window: &Window<()>,
) -> Result<Vec<WarningEntry>, StoreError> {
    let after = window
        .after
        .map(|(_, id)| id.to_string())
        .unwrap_or_default();
    // Above every id: ids are lower-case hexadecimal with hyphens.
    entries(conn, today, &after, "~", window.limit)
}

/// The customer's entry on the list as of `today`, if it is on it.
pub fn entry_of(
    conn: &mut DbConnection,
    customer_id: Uuid,
    today: NaiveDate,
) -> Result<Option<WarningEntry>, StoreError> {
    let id = customer_id.to_string();
    // The ids after `just_before` up to `id` are `id` alone: `just_before` is `id` with its
    // last character lowered by one ('0' to '/', 'a' to '`'), and no other id lies between.
    let mut just_before = id.clone();
    let last = just_before.pop().expect("a uuid has characters");
    just_before.push(char::from(last as u8 - 1));
    Ok(entries(conn, today, &just_before, &id, 1)?.pop())
}

/// The entries of customers whose ids lie after `after` and up to `through`, at most
/// `limit`, by id.
fn entries(
    conn: &mut DbConnection,
    today: NaiveDate,
    after: &str,
    through: &str,
    limit: i64,
) -> Result<Vec<WarningEntry>, StoreError> {
    let mut sources: Vec<Vec<(String, Vec<WarningReason>)>> = Vec::new();

    // Suits filed after the customer was last lifted.
    let lifted_since = warning_list_changes::table
        .filter(warning_list_changes::customer_id.eq(customer_events::customer_id))
        .filter(warning_list_changes::listed.eq(false))
        .filter(warning_list_changes::created_at.ge(customer_events::created_at));
    let suits = customer_events::table
        .filter(customer_events::kind.eq(EventKind::Litigation.as_str()))
        .filter(customer_events::customer_id.gt(after))
        .filter(customer_events::customer_id.le(through))
        .filter(not(exists(lifted_since)))
        .group_by(customer_events::customer_id)
        .select((
            customer_events::customer_id,
            min(customer_events::occurred_on),
            max(customer_events::occurred_on),
        ))
        .order(customer_events::customer_id)
        .limit(limit)
        .load::<(String, Option<NaiveDate>, Option<NaiveDate>)>(conn)?;
    sources.push(
        suits
            .into_iter()
            .filter_map(|(customer, first, last)| {
                Some((customer, lawsuit_reasons(first?, last?, today)))
            })
            .collect(),
    );

    // Listed by hand, where that is the customer's last change.
    let later = diesel::alias!(warning_list_changes as later);
    let superseded = later
        .filter(
            later
                .field(warning_list_changes::customer_id)
                .eq(warning_list_changes::customer_id),
        )
        .filter(
            later
                .field(warning_list_changes::created_at)
                .gt(warning_list_changes::created_at),
        );
    let listed = warning_list_changes::table
        .filter(warning_list_changes::listed.eq(true))
        .filter(warning_list_changes::customer_id.gt(after))
        .filter(warning_list_changes::customer_id.le(through))
        .filter(not(exists(superseded)))
        .select((
            warning_list_changes::customer_id,
            warning_list_changes::changed_on,
            warning_list_changes::reason,
        ))
        .order(warning_list_changes::customer_id)
        .limit(limit)
        .load::<(String, NaiveDate, String)>(conn)?;
    sources.push(
        listed
            .into_iter()
            .map(|(customer, since, note)| {
                let reason = WarningReason {
                    code: WarningCode::Listed,
                    since,
                    note: Some(note),
                };
                (customer, vec![reason])
            })
            .collect(),
    );

    // The ledger: open items without credit terms issued long ago, credit items long overdue.
    let (issued_before, due_through) = arrears_cutoffs(today);
    let open_items = receivables::table
        .filter(receivables::open_minor.gt(0))
        .filter(receivables::customer_id.gt(after))
        .filter(receivables::customer_id.le(through));
    let non_credit = open_items
        .filter(receivables::due_on.le(receivables::issued_on))
        .filter(receivables::issued_on.lt(issued_before))
        .group_by(receivables::customer_id)
        .select((receivables::customer_id, min(receivables::issued_on)))
        .order(receivables::customer_id)
        .limit(limit)
        .load::<(String, Option<NaiveDate>)>(conn)?;
    sources.push(
        non_credit
            .into_iter()
            .filter_map(|(customer, oldest)| Some((customer, vec![non_credit_arrears(oldest?)])))
            .collect(),
    );
    let overdue = open_items
        .filter(receivables::due_on.gt(receivables::issued_on))
        .filter(receivables::due_on.le(due_through))
        .group_by(receivables::customer_id)
        .select((receivables::customer_id, min(receivables::due_on)))
        .order(receivables::customer_id)
        .limit(limit)
        .load::<(String, Option<NaiveDate>)>(conn)?;
    sources.push(
        overdue
            .into_iter()
            .filter_map(|(customer, oldest)| Some((customer, vec![overdue_credit_sale(oldest?)])))
            .collect(),
    );

    let merged = merge(sources, limit);
    let ids: Vec<&str> = merged.keys().map(String::as_str).collect();
    let names: BTreeMap<String, String> = customers::table
        .filter(customers::id.eq_any(&ids))
        .select((customers::id, customers::legal_name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    merged
        .into_iter()
        .map(|(customer, mut reasons)| {
            reasons.sort_by_key(|r| r.since);
            Ok(WarningEntry {
                customer_id: parse_id(&customer)?,
                name: names.get(&customer).cloned().unwrap_or_default(),
                reasons,
            })
        })
        .collect()
}

/// The first `limit` customers over sources that each hold their first `limit` customers in
/// order. A source that came back full may have more beyond its last customer, so nothing
/// past the earliest such last customer is known to be complete.
fn merge(
    sources: Vec<Vec<(String, Vec<WarningReason>)>>,
    limit: i64,
) -> BTreeMap<String, Vec<WarningReason>> {
    let limit = usize::try_from(limit).unwrap_or(0);
    let complete_through = sources
        .iter()
        .filter(|rows| rows.len() >= limit)
        .filter_map(|rows| rows.last().map(|(customer, _)| customer.clone()))
        .min();
    let mut merged: BTreeMap<String, Vec<WarningReason>> = BTreeMap::new();
    for (customer, reasons) in sources.into_iter().flatten() {
        if complete_through.as_ref().is_none_or(|end| customer <= *end) {
            merged.entry(customer).or_default().extend(reasons);
        }
    }
    while merged.len() > limit {
        merged.pop_last();
    }
    merged
}

/// What receivers are told of a listing or lifting by hand: the change, and the customer's
/// entry on the list after it (none when it is off the list).
#[derive(serde::Serialize)]
struct WarningChange<'a> {
    customer_id: Uuid,
    listed: bool,
    reason: &'a str,
    changed_on: NaiveDate,
    entry: Option<WarningEntry>,
}

/// Lists a customer by hand (`listed`) or lifts it, which also closes its suits filed
/// before; audited. `NotFound` for an unknown customer.
pub fn change_warning(
    conn: &mut DbConnection,
    customer: Uuid,
    listed: bool,
    reason: String,
    today: NaiveDate,
    actor: Uuid,
) -> Result<(), StoreError> {
    write_transaction(conn, |conn| {
        if customer_store::ownership(conn, customer)?.is_none() {
            return Err(StoreError::NotFound);
        }
        let at: NaiveDateTime = to_db_time(now());
        diesel::insert_into(warning_list_changes::table)
            .values((
                warning_list_changes::id.eq(Uuid::now_v7().to_string()),
                warning_list_changes::customer_id.eq(customer.to_string()),
                warning_list_changes::listed.eq(listed),
                warning_list_changes::reason.eq(&reason),
                warning_list_changes::changed_on.eq(today),
                warning_list_changes::created_at.eq(at),
                warning_list_changes::created_by.eq(actor.to_string()),
            ))
            .execute(conn)?;
        let change = serde_json::json!({"listed": listed, "reason": reason, "on": today});
        audit::record(
            conn,
            WARNING_ENTITY,
            customer,
            AuditAction::StatusChanged,
            actor,
            &credo_core::json::changes(&serde_json::Value::Null, &change),
        )?;
        let event = if listed {
            EventType::WarningListListed
        } else {
            EventType::WarningListLifted
        };
        let told = WarningChange {
            customer_id: customer,
            listed,
            reason: &reason,
            changed_on: today,
            entry: entry_of(conn, customer, today)?,
        };
        webhooks::emit(conn, event, &told)
    })
}
