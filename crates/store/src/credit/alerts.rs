//! Early warnings, raised inside the writes that find them (an order step, an approval, a
//! litigation event, a dunning run), once per customer, kind and day.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use credo_core::webhooks::EventType;
use credo_core::Scope;
use credo_credit::alert::{Alert, AlertKind};
use credo_customers::task::TaskKind;
use diesel::prelude::*;
use uuid::Uuid;

use crate::convert::{from_db_time, parse_id, parse_name, to_db_time};
use crate::db::MultiBackend;
use crate::keyset::{keyset, of_visible_customers, Window};
use crate::schema::credit_alerts;
use crate::tasks;
use crate::webhooks;
use crate::{now, DbConnection, StoreError};

/// Raises a `kind` alert for the customer on `on` unless one was raised that day: an alert
/// row and a review task for the customer's account manager. Runs in the caller's
/// transaction.
pub(crate) fn raise(
    conn: &mut DbConnection,
    customer_id: Uuid,
    kind: AlertKind,
    detail: String,
    on: NaiveDate,
    actor: Uuid,
) -> Result<(), StoreError> {
    let raised = credit_alerts::table
        .filter(credit_alerts::customer_id.eq(customer_id.to_string()))
        .filter(credit_alerts::kind.eq(kind.as_str()))
        .filter(credit_alerts::raised_on.eq(on))
        .count()
        .get_result::<i64>(conn)?;
    if raised > 0 {
        return Ok(());
    }
    let task =
        tasks::for_account_manager(conn, customer_id, TaskKind::Review, on, actor, |name| {
            (format!("Credit alert ({kind}): {name}"), detail.clone())
        })?;
    let alert = Alert {
        id: Uuid::now_v7(),
        customer_id,
        kind,
        detail,
        raised_on: on,
        task_id: task.id,
        created_at: now(),
    };
    diesel::insert_into(credit_alerts::table)
        .values((
            credit_alerts::id.eq(alert.id.to_string()),
            credit_alerts::customer_id.eq(customer_id.to_string()),
            credit_alerts::kind.eq(kind.as_str()),
            credit_alerts::detail.eq(&alert.detail),
            credit_alerts::raised_on.eq(on),
            credit_alerts::task_id.eq(task.id.to_string()),
            credit_alerts::created_at.eq(to_db_time(alert.created_at)),
        ))
        .execute(conn)?;
    webhooks::emit(conn, EventType::CreditAlertRaised, &alert)
}

/// Which alerts a list shows.
pub struct AlertFilter {
    pub scope: Scope,
    pub customer_id: Option<Uuid>,
    pub kind: Option<AlertKind>,
}

type AlertRow = (
    String,
    String,
    String,
    String,
    NaiveDate,
    String,
    NaiveDateTime,
);

/// A page of alerts, the latest first.
pub fn alerts(
    conn: &mut DbConnection,
    filter: &AlertFilter,
    window: &Window<DateTime<Utc>>,
) -> Result<Vec<Alert>, StoreError> {
    let mut query = credit_alerts::table.into_boxed::<MultiBackend>();
    of_visible_customers!(query, credit_alerts::customer_id, &filter.scope);
    if let Some(customer_id) = filter.customer_id {
        query = query.filter(credit_alerts::customer_id.eq(customer_id.to_string()));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(credit_alerts::kind.eq(kind.as_str()));
    }
    keyset!(
        query,
        credit_alerts::created_at,
        credit_alerts::id,
        window.after_db_time(),
        true
    );
    query
        .limit(window.limit)
        .select((
            credit_alerts::id,
            credit_alerts::customer_id,
            credit_alerts::kind,
            credit_alerts::detail,
            credit_alerts::raised_on,
            credit_alerts::task_id,
            credit_alerts::created_at,
        ))
        .load::<AlertRow>(conn)?
        .into_iter()
        .map(
            |(id, customer_id, kind, detail, raised_on, task_id, created_at)| {
                Ok(Alert {
                    id: parse_id(&id)?,
                    customer_id: parse_id(&customer_id)?,
                    kind: parse_name(&kind, AlertKind::parse)?,
                    detail,
                    raised_on,
                    task_id: parse_id(&task_id)?,
                    created_at: from_db_time(created_at),
                })
            },
        )
        .collect()
}
