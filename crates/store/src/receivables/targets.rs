//! Collection targets and what each collector collected: the allocations dated in a period
//! on the items issued under them, in one currency.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use credo_core::audit::AuditAction;
use credo_core::{Currency, Scope};
use credo_receivables::ledger::ReductionKind;
use credo_receivables::targets::Period;
use diesel::prelude::*;
use uuid::Uuid;

use crate::aggregate::sum;
use crate::convert::{parse_id, to_db_time};
use crate::db::{lock_row, write_transaction, MultiBackend};
use crate::schema::{collection_targets, receivable_reductions, receivables, users};
use crate::{audit, now, users as user_store, DbConnection, StoreError};

pub const TARGET_ENTITY: &str = "collection_target";

/// Sets a collector's target for the month starting `month_start`, replacing the one set
/// before; audited. `NotFound` when the collector is no one's account.
pub fn set_target(
    conn: &mut DbConnection,
    collector: Uuid,
    month_start: NaiveDate,
    currency: Currency,
    target_minor: i64,
    actor: Uuid,
) -> Result<(), StoreError> {
    write_transaction(conn, |conn| {
        lock_row(conn, "users", collector)?;
        if user_store::get(conn, collector)?.is_none() {
            return Err(StoreError::NotFound);
        }
        let key = (
            collector.to_string(),
            month_start,
            currency.as_str().to_owned(),
        );
        let before: Option<i64> = collection_targets::table
            .find(key.clone())
            .select(collection_targets::target_minor)
            .first(conn)
            .optional()?;
        diesel::delete(collection_targets::table.find(key)).execute(conn)?;
        diesel::insert_into(collection_targets::table)
            .values((
                collection_targets::collector_id.eq(collector.to_string()),
                collection_targets::month_start.eq(month_start),
                collection_targets::currency.eq(currency.as_str()),
                collection_targets::target_minor.eq(target_minor),
                collection_targets::set_at.eq(to_db_time(now())),
                collection_targets::set_by.eq(actor.to_string()),
            ))
            .execute(conn)?;
        let change = |target: Option<i64>| {
            serde_json::json!({"month": month_start, "currency": currency.as_str(),
                               "target_minor": target})
        };
        audit::record(
            conn,
            TARGET_ENTITY,
            collector,
            AuditAction::Updated,
            actor,
            &credo_core::json::changes(&change(before), &change(Some(target_minor))),
        )
    })
}

/// One collector's target and collections over a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectorResult {
    pub collector_id: Uuid,
    pub name: String,
    /// The sum of the period's monthly targets.
    pub target_minor: i64,
    pub achieved_minor: i64,
}

/// The targets and collections of every collector the scope covers (an agent: itself; a
/// unit manager: the unit's people) with a target or a collection in the period, by name.
pub fn target_results(
    conn: &mut DbConnection,
    period: Period,
    currency: Currency,
    scope: &Scope,
) -> Result<Vec<CollectorResult>, StoreError> {
    let (first, last) = (period.first, period.last());
    let mut people = users::table
        .select((users::id, users::display_name))
        .into_boxed::<MultiBackend>();
    match scope {
        Scope::All => {}
        Scope::Unit(unit) => {
            people = people.filter(users::sales_unit_id.eq(unit.map(|u| u.to_string())));
        }
        Scope::Owner(me) => people = people.filter(users::id.eq(me.to_string())),
    }
    let names: BTreeMap<String, String> = people.load(conn)?.into_iter().collect();
    let ids: Vec<&String> = names.keys().collect();
    let targets: Vec<(String, i64)> = collection_targets::table
        .filter(collection_targets::collector_id.eq_any(&ids))
        .filter(collection_targets::month_start.ge(first))
        .filter(collection_targets::month_start.le(last))
        .filter(collection_targets::currency.eq(currency.as_str()))
        .group_by(collection_targets::collector_id)
        .select((collection_targets::collector_id, sum("target_minor")))
        .load(conn)?;
    let achieved: Vec<(String, i64)> = receivable_reductions::table
        .inner_join(receivables::table.on(receivables::id.eq(receivable_reductions::receivable_id)))
        .filter(receivable_reductions::kind.eq(ReductionKind::Allocation.as_str()))
        .filter(receivable_reductions::reduced_on.ge(first))
        .filter(receivable_reductions::reduced_on.le(last))
        .filter(receivables::currency.eq(currency.as_str()))
        .filter(receivables::owner_id.eq_any(&ids))
        .group_by(receivables::owner_id)
        .select((
            receivables::owner_id,
            sum("receivable_reductions.amount_minor"),
        ))
        .load(conn)?;
    let mut results: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for (collector, target) in targets {
        results.entry(collector).or_default().0 = target;
    }
    for (collector, amount) in achieved {
        results.entry(collector).or_default().1 = amount;
    }
    let mut rows = results
        .into_iter()
        .map(|(collector, (target_minor, achieved_minor))| {
            Ok(CollectorResult {
                name: names.get(&collector).cloned().unwrap_or_default(),
                collector_id: parse_id(&collector)?,
                target_minor,
                achieved_minor,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    rows.sort_by(|a, b| (&a.name, a.collector_id).cmp(&(&b.name, b.collector_id)));
    Ok(rows)
}
