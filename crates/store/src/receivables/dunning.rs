//! Dunning one customer. Candidates are read in one query (customers with an open item some
//! level may have reached); each is then dunned under its row lock (taken by the run): its
//! open items, the levels they had and its unallocated payments are read, the pure rule
//! decides, and the action, the items' notices and the account manager's task are written.
//! Two runs of one day (the schedule's and a person's, or two instances) queue on the
//! customer row and the second finds nothing new.

use chrono::NaiveDate;
use credo_core::webhooks::EventType;
use credo_credit::alert::AlertKind;
use credo_customers::TaskKind;
use credo_receivables::dunning::{
    decide, Anchor, Dunning, DunningAction, DunningItem, DunningPolicy, Effect, HeldBack,
};
use diesel::prelude::*;
use uuid::Uuid;

use super::ItemRow;
use crate::convert::{parse_id, to_db_time};
use crate::db::MultiBackend;
use crate::schema::{dunning_actions, dunning_notices, payments, receivables};
use crate::tasks;
use crate::webhooks;
use crate::{credit, now, DbConnection, StoreError};

/// What dunning one customer came to.
pub(super) enum Dunned {
    Nothing,
    Acted(DunningAction),
    HeldBack(HeldBack),
}

/// The customers with an item open now and issued by `as_of` whose anchor day is early
/// enough for some level, and that has not had the last level.
pub(super) fn candidates(
    conn: &mut DbConnection,
    policy: &DunningPolicy,
    as_of: NaiveDate,
) -> Result<Vec<Uuid>, StoreError> {
    let due_by = policy.latest_anchor(Anchor::Due, as_of);
    let shipped_by = policy.latest_anchor(Anchor::Shipment, as_of);
    let had_last = dunning_notices::table
        .filter(dunning_notices::receivable_id.eq(receivables::id))
        .filter(dunning_notices::level.eq(policy.top_key().to_owned()));
    let mut query = receivables::table
        .filter(receivables::open_minor.gt(0))
        .filter(receivables::issued_on.le(as_of))
        .into_boxed::<MultiBackend>();
    query = match (due_by, shipped_by) {
        (Some(due), Some(shipped)) => query.filter(
            receivables::due_on
                .le(due)
                .or(receivables::shipped_on.le(shipped)),
        ),
        (Some(due), None) => query.filter(receivables::due_on.le(due)),
        (None, Some(shipped)) => query.filter(receivables::shipped_on.le(shipped)),
        (None, None) => return Ok(Vec::new()),
    };
    query
        .filter(diesel::dsl::not(diesel::dsl::exists(had_last)))
        .select(receivables::customer_id)
        .distinct()
        .order(receivables::customer_id)
        .load::<String>(conn)?
        .iter()
        .map(|id| parse_id(id))
        .collect()
}

/// Duns one customer: decides on its open items and, unless `actor` is `None` (a dry run),
/// records the action, the notices and the task.
pub(super) fn dun(
    conn: &mut DbConnection,
    policy: &DunningPolicy,
    customer: Uuid,
    as_of: NaiveDate,
    actor: Option<Uuid>,
) -> Result<Dunned, StoreError> {
    let rows = receivables::table
        .filter(receivables::customer_id.eq(customer.to_string()))
        .filter(receivables::open_minor.gt(0))
        .filter(receivables::issued_on.le(as_of))
        .select(ItemRow::as_select())
        .load::<ItemRow>(conn)?;
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let notices: Vec<(String, String)> = dunning_notices::table
        .filter(dunning_notices::receivable_id.eq_any(&ids))
        .select((dunning_notices::receivable_id, dunning_notices::level))
        .load(conn)?;
    let items = rows
        .into_iter()
        .map(|row| {
            let had = notices
                .iter()
                .filter(|(item, _)| *item == row.id)
                .map(|(_, level)| level.clone())
                .collect();
            Ok(DunningItem::new(&row.into_item()?, had, as_of))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let unallocated: Vec<String> = payments::table
        .filter(payments::customer_id.eq(customer.to_string()))
        .filter(payments::unallocated_minor.gt(0))
        .select(payments::id)
        .order(payments::id)
        .load(conn)?;
    let (level, level_rank, notices) = match decide(policy, &items, !unallocated.is_empty(), as_of)
    {
        Dunning::Nothing => return Ok(Dunned::Nothing),
        Dunning::AllocateFirst => {
            return Ok(Dunned::HeldBack(HeldBack {
                customer_id: customer,
                reason: "allocate_first".into(),
                payment_ids: unallocated
                    .iter()
                    .map(|id| parse_id(id))
                    .collect::<Result<_, _>>()?,
            }))
        }
        Dunning::Act {
            level,
            rank,
            notices,
        } => (level, rank, notices),
    };
    let mut action = DunningAction {
        id: None,
        customer_id: customer,
        as_of,
        level: level.key,
        level_rank,
        action: level.action,
        effect: level.effect,
        receivable_ids: notices.iter().map(|n| n.receivable_id).collect(),
        task_id: None,
    };
    let Some(actor) = actor else {
        return Ok(Dunned::Acted(action));
    };
    let task =
        tasks::for_account_manager(conn, customer, TaskKind::Collection, as_of, actor, |name| {
            let note = format!(
                "{name}: dunning level {} on {} item(s)",
                action.level,
                notices.len()
            );
            (action.action.clone(), note)
        })?;
    let id = Uuid::now_v7();
    diesel::insert_into(dunning_actions::table)
        .values((
            dunning_actions::id.eq(id.to_string()),
            dunning_actions::customer_id.eq(customer.to_string()),
            dunning_actions::as_of.eq(as_of),
            dunning_actions::level.eq(&action.level),
            dunning_actions::action.eq(&action.action),
            dunning_actions::effect.eq(action.effect.as_str()),
            dunning_actions::task_id.eq(task.id.to_string()),
            dunning_actions::created_at.eq(to_db_time(now())),
            dunning_actions::created_by.eq(actor.to_string()),
        ))
        .execute(conn)?;
    // One row at a time: batch inserts do not go through the two-backend connection.
    for notice in &notices {
        diesel::insert_into(dunning_notices::table)
            .values((
                dunning_notices::receivable_id.eq(notice.receivable_id.to_string()),
                dunning_notices::level.eq(&notice.level),
                dunning_notices::action_id.eq(id.to_string()),
            ))
            .execute(conn)?;
    }
    if action.effect != Effect::None {
        let detail = format!(
            "dunning level {} ({}) on {} item(s)",
            action.level,
            action.effect,
            notices.len()
        );
        credit::alerts::raise(conn, customer, AlertKind::Overdue, detail, as_of, actor)?;
    }
    action.id = Some(id);
    action.task_id = Some(task.id);
    webhooks::emit(conn, EventType::DunningLevelReached, &action)?;
    Ok(Dunned::Acted(action))
}
