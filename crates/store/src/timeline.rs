//! The customer timeline: the newest entries of each source after the cursor, merged. Each
//! source reads at most one page through an index on (customer_id, time, id).

use chrono::{DateTime, NaiveDateTime, Utc};
use credo_core::{Currency, Money};
use credo_customers::timeline::{merge_newest, summary_line};
use credo_customers::{TimelineEntry, TimelineKind};
use diesel::prelude::*;
use uuid::Uuid;

use crate::convert::{from_db_time, parse_id};
use crate::db::MultiBackend;
use crate::keyset::{keyset, Window};
use crate::schema::{
    assessments, customer_events, customer_notes, interactions, orders, ownership_transfers, visits,
};
use crate::{DbConnection, StoreError};

type EntryRow = (String, NaiveDateTime, String, String);

/// One source's newest entries before `before`: (id, time, summary text, actor).
macro_rules! newest {
    ($conn:expr, $table:ident, $customer:expr, $at:ident, $summary:ident, $actor:ident, $before:expr, $limit:expr) => {{
        let mut query = $table::table
            .filter($table::customer_id.eq($customer))
            .select(($table::id, $table::$at, $table::$summary, $table::$actor))
            .into_boxed::<MultiBackend>();
        keyset!(query, $table::$at, $table::id, $before, true);
        query.limit($limit).load::<EntryRow>($conn)?
    }};
}

fn entries(kind: TimelineKind, rows: Vec<EntryRow>) -> Result<Vec<TimelineEntry>, StoreError> {
    rows.into_iter()
        .map(|(id, at, summary, actor)| {
            Ok(TimelineEntry {
                kind,
                id: parse_id(&id)?,
                at: from_db_time(at),
                summary: summary_line(&summary),
                actor_id: parse_id(&actor)?,
            })
        })
        .collect()
}

/// A page of the customer's entries, newest first.
pub fn timeline(
    conn: &mut DbConnection,
    customer_id: Uuid,
    window: &Window<DateTime<Utc>>,
) -> Result<Vec<TimelineEntry>, StoreError> {
    let customer = customer_id.to_string();
    let (before, limit) = (window.after_db_time(), window.limit);
    let mut feeds = vec![
        entries(
            TimelineKind::Interaction,
            newest!(
                conn,
                interactions,
                &customer,
                occurred_at,
                summary,
                created_by,
                before,
                limit
            ),
        )?,
        entries(
            TimelineKind::Visit,
            newest!(conn, visits, &customer, planned_at, purpose, agent_id, before, limit),
        )?,
        entries(
            TimelineKind::Note,
            newest!(
                conn,
                customer_notes,
                &customer,
                created_at,
                body,
                author_id,
                before,
                limit
            ),
        )?,
        entries(
            TimelineKind::Assessment,
            newest!(
                conn,
                assessments,
                &customer,
                created_at,
                topic,
                author_id,
                before,
                limit
            ),
        )?,
        entries(
            TimelineKind::Event,
            newest!(
                conn,
                customer_events,
                &customer,
                created_at,
                description,
                created_by,
                before,
                limit
            ),
        )?,
        entries(
            TimelineKind::Transfer,
            newest!(
                conn,
                ownership_transfers,
                &customer,
                transferred_at,
                reason,
                transferred_by,
                before,
                limit
            ),
        )?,
    ];
    // Orders read as "status amount (reference)".
    let mut query = orders::table
        .filter(orders::customer_id.eq(&customer))
        .select((
            orders::id,
            orders::created_at,
            orders::status,
            orders::created_by,
            orders::amount_minor,
            orders::currency,
            orders::reference,
        ))
        .into_boxed::<MultiBackend>();
    keyset!(query, orders::created_at, orders::id, before, true);
    let order_rows = query
        .limit(limit)
        .load::<(
            String,
            NaiveDateTime,
            String,
            String,
            i64,
            String,
            Option<String>,
        )>(conn)?
        .into_iter()
        .map(|(id, at, status, actor, amount, currency, reference)| {
            let amount = Currency::parse(&currency)
                .map(|c| Money::new(amount, c).to_string())
                .unwrap_or_default();
            let mut summary = format!("{status} {amount}");
            if let Some(reference) = reference {
                summary.push_str(&format!(" ({reference})"));
            }
            (id, at, summary, actor)
        })
        .collect();
    feeds.push(entries(TimelineKind::Order, order_rows)?);
    Ok(merge_newest(feeds, usize::try_from(limit).unwrap_or(0)))
}
