//! Webhooks: the endpoints admins register, the outbox of events written in the transaction
//! of the change each tells of, and the deliveries senders claim (one sender at a time, under
//! a lease, like jobs) and try on the retry schedule.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use credo_core::audit::AuditAction;
use credo_core::webhooks::{
    failed_too_long, subscribes, AttemptRecord, Delivery, DeliveryStatus, EndpointInput, EventType,
    Next, FAILING_REASON, GONE_REASON,
};
use credo_customers::Stamps;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};
use serde::Serialize;
use uuid::Uuid;

use crate::convert::{from_db_time, parse_id, parse_name, stamps, to_db_time};
use crate::db::{insert_chunks, write_transaction, MultiBackend, Outcome};
use crate::keyset::{keyset, Window};
use crate::schema::{webhook_attempts, webhook_deliveries, webhook_endpoints, webhook_events};
use crate::users::RULES_USER;
use crate::versioned::{self, stamps_field, Expected, Updated, Versioned};
use crate::{audit, now, DbConnection, StoreError};

pub const ENTITY: &str = "webhook_endpoint";

/// A receiver of events, with the secrets that sign what it is sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    pub id: Uuid,
    pub url: String,
    pub description: Option<String>,
    pub event_types: Vec<String>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub secret: String,
    /// The secret a rotation replaced, and until when it signs beside the new one.
    pub previous_secret: Option<(String, DateTime<Utc>)>,
    /// Since when every delivery failed (none since the last success).
    pub failing_since: Option<DateTime<Utc>>,
    pub stamps: Stamps,
}

impl Outcome for Endpoint {}

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = webhook_endpoints, treat_none_as_null = true)]
struct Row {
    id: String,
    url: String,
    description: Option<String>,
    event_types: String,
    enabled: bool,
    disabled_reason: Option<String>,
    secret: String,
    previous_secret: Option<String>,
    previous_secret_until: Option<NaiveDateTime>,
    failing_since: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
    created_by: String,
    updated_at: NaiveDateTime,
    updated_by: String,
    version: i64,
}

impl Row {
    fn of(endpoint: &Endpoint) -> Result<Self, StoreError> {
        let (previous_secret, previous_secret_until) = match &endpoint.previous_secret {
            Some((secret, until)) => (Some(secret.clone()), Some(to_db_time(*until))),
            None => (None, None),
        };
        Ok(Row {
            id: endpoint.id.to_string(),
            url: endpoint.url.clone(),
            description: endpoint.description.clone(),
            event_types: serde_json::to_string(&endpoint.event_types)?,
            enabled: endpoint.enabled,
            disabled_reason: endpoint.disabled_reason.clone(),
            secret: endpoint.secret.clone(),
            previous_secret,
            previous_secret_until,
            failing_since: endpoint.failing_since.map(to_db_time),
            created_at: to_db_time(endpoint.stamps.created_at),
            created_by: endpoint.stamps.created_by.to_string(),
            updated_at: to_db_time(endpoint.stamps.updated_at),
            updated_by: endpoint.stamps.updated_by.to_string(),
            version: endpoint.stamps.version,
        })
    }

    fn into_endpoint(self) -> Result<Endpoint, StoreError> {
        Ok(Endpoint {
            id: parse_id(&self.id)?,
            url: self.url,
            description: self.description,
            event_types: serde_json::from_str(&self.event_types)?,
            enabled: self.enabled,
            disabled_reason: self.disabled_reason,
            secret: self.secret,
            previous_secret: self
                .previous_secret
                .zip(self.previous_secret_until.map(from_db_time)),
            failing_since: self.failing_since.map(from_db_time),
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

impl Versioned for Endpoint {
    const TABLE: &'static str = "webhook_endpoints";
    const ENTITY: &'static str = ENTITY;
    stamps_field!();

    /// Never the secrets: a rotation is recorded as such, without them.
    fn audit_view(&self) -> Result<serde_json::Value, StoreError> {
        Ok(serde_json::json!({
            "url": self.url,
            "description": self.description,
            "event_types": self.event_types,
            "enabled": self.enabled,
            "disabled_reason": self.disabled_reason,
            "secret_rotated_until": self.previous_secret.as_ref().map(|(_, until)| until),
        }))
    }

    fn write(conn: &mut DbConnection, current: &Self, next: &Self) -> Result<usize, StoreError> {
        Ok(diesel::update(
            webhook_endpoints::table
                .find(current.id.to_string())
                .filter(webhook_endpoints::version.eq(current.stamps.version)),
        )
        .set(Row::of(next)?)
        .execute(conn)?)
    }
}

const DISABLED_ON_CREATION: &str = "registered disabled";

/// Registers an endpoint with its first secret.
pub fn create(
    conn: &mut DbConnection,
    input: EndpointInput,
    secret: String,
    enabled: bool,
    actor: Uuid,
) -> Result<Endpoint, StoreError> {
    write_transaction(conn, |conn| {
        let at = now();
        let endpoint = Endpoint {
            id: Uuid::now_v7(),
            url: input.url.url.clone(),
            description: input.description.clone(),
            event_types: input.event_types.clone(),
            enabled,
            disabled_reason: (!enabled).then(|| DISABLED_ON_CREATION.to_owned()),
            secret: secret.clone(),
            previous_secret: None,
            failing_since: None,
            stamps: Stamps {
                created_at: at,
                created_by: actor,
                updated_at: at,
                updated_by: actor,
                version: 1,
            },
        };
        diesel::insert_into(webhook_endpoints::table)
            .values(Row::of(&endpoint)?)
            .execute(conn)?;
        let created = credo_core::json::changes(&serde_json::json!({}), &endpoint.audit_view()?);
        audit::record(
            conn,
            ENTITY,
            endpoint.id,
            AuditAction::Created,
            actor,
            &created,
        )?;
        Ok(endpoint)
    })
}

pub fn get(conn: &mut DbConnection, id: Uuid) -> Result<Option<Endpoint>, StoreError> {
    webhook_endpoints::table
        .find(id.to_string())
        .select(Row::as_select())
        .first::<Row>(conn)
        .optional()?
        .map(Row::into_endpoint)
        .transpose()
}

/// Endpoints, the newest first.
pub fn list(
    conn: &mut DbConnection,
    window: &Window<DateTime<Utc>>,
) -> Result<Vec<Endpoint>, StoreError> {
    let mut query = webhook_endpoints::table
        .select(Row::as_select())
        .into_boxed::<MultiBackend>();
    keyset!(
        query,
        webhook_endpoints::created_at,
        webhook_endpoints::id,
        window.after_db_time(),
        true
    );
    query
        .limit(window.limit)
        .load::<Row>(conn)?
        .into_iter()
        .map(Row::into_endpoint)
        .collect()
}

/// Changes an endpoint as `change` makes it of the endpoint read under the lock.
pub fn update(
    conn: &mut DbConnection,
    id: Uuid,
    expected: &Expected,
    actor: Uuid,
    mut change: impl FnMut(&Endpoint) -> Endpoint,
) -> Result<Updated<Endpoint, ()>, StoreError> {
    versioned::update(
        conn,
        id,
        expected,
        actor,
        |conn| get(conn, id),
        |_, current| Ok(Ok((change(current), AuditAction::Updated))),
    )
}

/// Deletes an endpoint with its deliveries; `false` when there was none.
pub fn delete(conn: &mut DbConnection, id: Uuid, actor: Uuid) -> Result<bool, StoreError> {
    write_transaction(conn, |conn| {
        let Some(endpoint) = get(conn, id)? else {
            return Ok(false);
        };
        // Its deliveries and their attempts go with it (ON DELETE CASCADE).
        diesel::delete(webhook_endpoints::table.find(id.to_string())).execute(conn)?;
        let gone = credo_core::json::changes(&endpoint.audit_view()?, &serde_json::json!({}));
        audit::record(conn, ENTITY, id, AuditAction::Archived, actor, &gone)?;
        Ok(true)
    })
}

/// The outbox of one transaction's events: the endpoints, read once, and the events written
/// for those subscribed. A disabled endpoint's events are kept but not sent, so that a
/// replay recovers them once it is enabled again.
pub struct Outbox {
    endpoints: Vec<Subscriber>,
}

struct Subscriber {
    id: String,
    event_types: Vec<String>,
    enabled: bool,
}

impl Outbox {
    /// Reads the endpoints; call inside the writing transaction.
    pub fn open(conn: &mut DbConnection) -> Result<Self, StoreError> {
        let endpoints = webhook_endpoints::table
            .select((
                webhook_endpoints::id,
                webhook_endpoints::event_types,
                webhook_endpoints::enabled,
            ))
            .load::<(String, String, bool)>(conn)?
            .into_iter()
            .map(|(id, types, enabled)| {
                Ok(Subscriber {
                    id,
                    event_types: serde_json::from_str(&types)?,
                    enabled,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(Self { endpoints })
    }

    /// Whether any endpoint asks for events of `kind`.
    pub fn wants(&self, kind: EventType) -> bool {
        self.endpoints
            .iter()
            .any(|endpoint| subscribes(&endpoint.event_types, kind))
    }

    /// Writes an event of `kind` about `data` with a delivery to each enabled endpoint
    /// subscribed; nothing when no endpoint is.
    pub fn emit<T: Serialize>(
        &self,
        conn: &mut DbConnection,
        kind: EventType,
        data: &T,
    ) -> Result<(), StoreError> {
        self.emit_all(conn, kind, std::slice::from_ref(data))
    }

    /// `emit` for many records, in multi-row inserts.
    pub fn emit_all<T: Serialize>(
        &self,
        conn: &mut DbConnection,
        kind: EventType,
        data: &[T],
    ) -> Result<(), StoreError> {
        if !self.wants(kind) || data.is_empty() {
            return Ok(());
        }
        let receivers: Vec<&str> = self
            .endpoints
            .iter()
            .filter(|endpoint| endpoint.enabled && subscribes(&endpoint.event_types, kind))
            .map(|endpoint| endpoint.id.as_str())
            .collect();
        let at = now();
        let events = data
            .iter()
            .map(|data| new_event(kind, data, at))
            .collect::<Result<Vec<_>, _>>()?;
        insert_chunks!(conn, webhook_events::table, events, 1000);
        let created_at = to_db_time(at);
        let deliveries: Vec<NewDelivery> = events
            .iter()
            .flat_map(|event| {
                receivers.iter().map(move |endpoint| NewDelivery {
                    id: Uuid::now_v7().to_string(),
                    event_id: &event.id,
                    endpoint_id: endpoint,
                    status: PENDING,
                    attempts: 0,
                    next_attempt_at: created_at,
                    created_at,
                })
            })
            .collect();
        insert_chunks!(conn, webhook_deliveries::table, deliveries, 1000);
        Ok(())
    }
}

/// Writes an event of `kind` about `data`, with a delivery to each enabled endpoint
/// subscribed; call inside the transaction of the change it tells of.
pub fn emit(
    conn: &mut DbConnection,
    kind: EventType,
    data: &impl Serialize,
) -> Result<(), StoreError> {
    Outbox::open(conn)?.emit(conn, kind, data)
}

/// Writes an event of `kind` about `data` in a transaction of its own: for what is observed,
/// not changed (a blocked credit check, whose refused step writes nothing).
pub fn publish(
    conn: &mut DbConnection,
    kind: EventType,
    data: &impl Serialize,
) -> Result<(), StoreError> {
    write_transaction(conn, |conn| emit(conn, kind, data))
}

/// The body every receiver gets: `{"type", "timestamp", "data"}`.
#[derive(Serialize)]
struct Body<'a, T> {
    #[serde(rename = "type")]
    kind: EventType,
    timestamp: DateTime<Utc>,
    data: &'a T,
}

#[derive(Insertable)]
#[diesel(table_name = webhook_events)]
struct NewEvent {
    id: String,
    event_type: &'static str,
    body: String,
    created_at: NaiveDateTime,
}

fn new_event(
    kind: EventType,
    data: &impl Serialize,
    at: DateTime<Utc>,
) -> Result<NewEvent, StoreError> {
    let body = serde_json::to_string(&Body {
        kind,
        timestamp: at,
        data,
    })?;
    Ok(NewEvent {
        id: format!("msg_{}", Uuid::now_v7().simple()),
        event_type: kind.as_str(),
        body,
        created_at: to_db_time(at),
    })
}

#[derive(Insertable)]
#[diesel(table_name = webhook_deliveries)]
struct NewDelivery<'a> {
    id: String,
    event_id: &'a str,
    endpoint_id: &'a str,
    status: &'static str,
    attempts: i64,
    next_attempt_at: NaiveDateTime,
    created_at: NaiveDateTime,
}

/// Queues `event` for each endpoint, due at `at`: a new delivery, or a finished one of the
/// same event started afresh (a replay).
fn queue(
    conn: &mut DbConnection,
    event: &str,
    endpoints: &[&str],
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let at = to_db_time(at);
    let existing: Vec<String> = webhook_deliveries::table
        .filter(webhook_deliveries::event_id.eq(event))
        .filter(webhook_deliveries::endpoint_id.eq_any(endpoints))
        .select(webhook_deliveries::endpoint_id)
        .load(conn)?;
    diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::event_id.eq(event))
            .filter(webhook_deliveries::endpoint_id.eq_any(&existing))
            .filter(webhook_deliveries::status.ne(SENDING)),
    )
    .set((
        webhook_deliveries::status.eq(PENDING),
        webhook_deliveries::attempts.eq(0),
        webhook_deliveries::next_attempt_at.eq(at),
        webhook_deliveries::finished_at.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)?;
    let rows: Vec<NewDelivery> = endpoints
        .iter()
        .filter(|endpoint| !existing.iter().any(|e| e == *endpoint))
        .map(|endpoint| NewDelivery {
            id: Uuid::now_v7().to_string(),
            event_id: event,
            endpoint_id: endpoint,
            status: PENDING,
            attempts: 0,
            next_attempt_at: at,
            created_at: at,
        })
        .collect();
    insert_chunks!(conn, webhook_deliveries::table, rows, 1000);
    Ok(())
}

/// Sends a `webhook.test` event to one endpoint; `None` when there is no such endpoint.
pub fn send_test(
    conn: &mut DbConnection,
    id: Uuid,
    data: &impl Serialize,
) -> Result<Option<String>, StoreError> {
    write_transaction(conn, |conn| {
        if get(conn, id)?.is_none() {
            return Ok(None);
        }
        let event = new_event(EventType::WebhookTest, data, now())?;
        diesel::insert_into(webhook_events::table)
            .values(&event)
            .execute(conn)?;
        queue(conn, &event.id, &[&id.to_string()], now())?;
        Ok(Some(event.id))
    })
}

/// Which events a replay sends again.
pub enum Replay {
    /// Every kept event since then that the endpoint subscribes to.
    Since(DateTime<Utc>),
    /// These events.
    Events(Vec<String>),
}

/// What a replay came to.
#[derive(Debug)]
pub enum Replayed {
    Queued(usize),
    NoEndpoint,
    /// These events of the list (at their places in it) are not kept (never were, or purged).
    Unknown(Vec<(usize, String)>),
}

impl Outcome for Replayed {
    fn is_refusal(&self) -> bool {
        !matches!(self, Replayed::Queued(_))
    }
}

/// Queues the events `replay` names for endpoint `id` again, each due now.
pub fn replay(conn: &mut DbConnection, id: Uuid, replay: &Replay) -> Result<Replayed, StoreError> {
    write_transaction(conn, |conn| {
        let Some(endpoint) = get(conn, id)? else {
            return Ok(Replayed::NoEndpoint);
        };
        let events: Vec<String> = match replay {
            Replay::Since(since) => webhook_events::table
                .filter(webhook_events::created_at.ge(to_db_time(*since)))
                .select((webhook_events::id, webhook_events::event_type))
                .order((webhook_events::created_at, webhook_events::id))
                .load::<(String, String)>(conn)?
                .into_iter()
                .filter(|(_, kind)| {
                    EventType::parse(kind).is_some_and(|k| subscribes(&endpoint.event_types, k))
                })
                .map(|(id, _)| id)
                .collect(),
            Replay::Events(ids) => {
                let kept: Vec<String> = webhook_events::table
                    .filter(webhook_events::id.eq_any(ids))
                    .select(webhook_events::id)
                    .load(conn)?;
                let unknown: Vec<(usize, String)> = ids
                    .iter()
                    .enumerate()
                    .filter(|(_, id)| !kept.contains(id))
                    .map(|(at, id)| (at, id.clone()))
                    .collect();
                if !unknown.is_empty() {
                    return Ok(Replayed::Unknown(unknown));
                }
                kept
            }
        };
        let receiver = id.to_string();
        let at = now();
        for event in &events {
            queue(conn, event, &[&receiver], at)?;
        }
        Ok(Replayed::Queued(events.len()))
    })
}

const PENDING: &str = "pending";
const SENDING: &str = "sending";
const DELIVERED: &str = "delivered";
const FAILED: &str = "failed";

/// A delivery as its sender gets it.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub delivery_id: Uuid,
    pub endpoint_id: Uuid,
    pub event_id: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub url: String,
    /// The secrets that sign it: the endpoint's, and the one it replaced while that signs.
    pub secrets: Vec<String>,
    /// Attempts made, this one included.
    pub attempts: u32,
}

#[derive(QueryableByName)]
struct Due {
    #[diesel(sql_type = Text)]
    id: String,
}

/// Whether any delivery is due at `at` (a read: an idle sender takes no write lock).
fn anything_due(conn: &mut DbConnection, at: NaiveDateTime) -> Result<bool, StoreError> {
    Ok(webhook_deliveries::table
        .filter(
            (webhook_deliveries::status
                .eq(PENDING)
                .and(webhook_deliveries::next_attempt_at.le(at)))
            .or(webhook_deliveries::status
                .eq(SENDING)
                .and(webhook_deliveries::lease_until.lt(at))),
        )
        .select(webhook_deliveries::id)
        .first::<String>(conn)
        .optional()?
        .is_some())
}

/// Claims up to `limit` due deliveries to enabled endpoints for `sender` under a lease of
/// `lease`: on PostgreSQL with `SKIP LOCKED`, so senders of many instances share the work
/// without waiting on each other; on SQLite in the exclusive write transaction.
pub fn claim(
    conn: &mut DbConnection,
    sender: Uuid,
    limit: i64,
    lease: Duration,
) -> Result<Vec<Claimed>, StoreError> {
    if !anything_due(conn, to_db_time(now()))? {
        return Ok(Vec::new());
    }
    write_transaction(conn, |conn| {
        let at = now();
        let due_sql = "SELECT d.id FROM webhook_deliveries d \
             JOIN webhook_endpoints e ON e.id = d.endpoint_id \
             WHERE e.enabled AND ((d.status = 'pending' AND d.next_attempt_at <= $1) \
                OR (d.status = 'sending' AND d.lease_until < $1)) \
             ORDER BY d.next_attempt_at, d.id LIMIT $2";
        let due: Vec<Due> = match conn {
            DbConnection::Postgres(pg) => {
                diesel::sql_query(format!("{due_sql} FOR UPDATE OF d SKIP LOCKED"))
                    .bind::<Timestamp, _>(to_db_time(at))
                    .bind::<BigInt, _>(limit)
                    .load(pg)?
            }
            DbConnection::Sqlite(lite) => diesel::sql_query(due_sql)
                .bind::<Timestamp, _>(to_db_time(at))
                .bind::<BigInt, _>(limit)
                .load(lite)?,
        };
        if due.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = due.into_iter().map(|d| d.id).collect();
        diesel::update(webhook_deliveries::table.filter(webhook_deliveries::id.eq_any(&ids)))
            .set((
                webhook_deliveries::status.eq(SENDING),
                webhook_deliveries::sender.eq(sender.to_string()),
                webhook_deliveries::lease_until.eq(to_db_time(at + lease)),
                webhook_deliveries::attempts.eq(webhook_deliveries::attempts + 1),
            ))
            .execute(conn)?;
        webhook_deliveries::table
            .inner_join(webhook_events::table)
            .inner_join(webhook_endpoints::table)
            .filter(webhook_deliveries::id.eq_any(&ids))
            .select((
                webhook_deliveries::id,
                webhook_deliveries::event_id,
                webhook_deliveries::attempts,
                webhook_events::body,
                webhook_events::created_at,
                Row::as_select(),
            ))
            .load::<(String, String, i64, String, NaiveDateTime, Row)>(conn)?
            .into_iter()
            .map(|(id, event_id, attempts, body, created_at, endpoint)| {
                let endpoint = endpoint.into_endpoint()?;
                let mut secrets = vec![endpoint.secret];
                secrets.extend(
                    endpoint
                        .previous_secret
                        .filter(|(_, until)| *until > at)
                        .map(|(secret, _)| secret),
                );
                Ok(Claimed {
                    delivery_id: parse_id(&id)?,
                    endpoint_id: endpoint.id,
                    event_id,
                    body,
                    created_at: from_db_time(created_at),
                    url: endpoint.url,
                    secrets,
                    attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                })
            })
            .collect()
    })
}

/// An attempt made, and what follows it.
pub struct Attempted {
    pub delivery_id: Uuid,
    pub endpoint_id: Uuid,
    pub record: AttemptRecord,
    pub next: Next,
}

/// Records the attempts of `sender`'s batch and what follows each, on the deliveries and on
/// their endpoints, in one transaction; answers how many it still held (an attempt whose
/// claim was taken over is not recorded).
pub fn finish_attempts(
    conn: &mut DbConnection,
    sender: Uuid,
    attempts: &[Attempted],
) -> Result<usize, StoreError> {
    write_transaction(conn, |conn| {
        let mut held = Vec::with_capacity(attempts.len());
        for attempted in attempts {
            let at = to_db_time(attempted.record.at);
            let (status, next_at) = match attempted.next {
                Next::Delivered => (DELIVERED, None),
                Next::RetryAt(when) => (PENDING, Some(to_db_time(when))),
                Next::Failed | Next::Disable => (FAILED, None),
            };
            let written = diesel::update(
                webhook_deliveries::table
                    .find(attempted.delivery_id.to_string())
                    .filter(webhook_deliveries::sender.eq(sender.to_string()))
                    .filter(webhook_deliveries::status.eq(SENDING)),
            )
            .set((
                webhook_deliveries::status.eq(status),
                webhook_deliveries::next_attempt_at.eq(next_at),
                webhook_deliveries::lease_until.eq(None::<NaiveDateTime>),
                webhook_deliveries::finished_at.eq(next_at.is_none().then_some(at)),
            ))
            .execute(conn)?;
            if written == 1 {
                held.push(attempted);
            }
        }
        let rows: Vec<NewAttempt> = held
            .iter()
            .map(|attempted| NewAttempt {
                id: Uuid::now_v7().to_string(),
                delivery_id: attempted.delivery_id.to_string(),
                at: to_db_time(attempted.record.at),
                status_code: attempted.record.status_code,
                duration_ms: attempted.record.duration_ms,
                response: attempted.record.response.as_deref(),
                error: attempted.record.error.as_deref(),
            })
            .collect();
        insert_chunks!(conn, webhook_attempts::table, rows, 1000);
        // Each endpoint is judged once: by an attempt that disables it (a 410 stays a 410
        // whatever came after it in the batch), else by its last attempt.
        let mut verdicts: Vec<&Attempted> = Vec::new();
        for &attempted in &held {
            match verdicts
                .iter_mut()
                .find(|v| v.endpoint_id == attempted.endpoint_id)
            {
                Some(verdict) if verdict.next != Next::Disable => *verdict = attempted,
                Some(_) => {}
                None => verdicts.push(attempted),
            }
        }
        for attempted in verdicts {
            judge_endpoint(
                conn,
                attempted.endpoint_id,
                attempted.next,
                attempted.record.at,
            )?;
        }
        Ok(held.len())
    })
}

#[derive(Insertable)]
#[diesel(table_name = webhook_attempts)]
struct NewAttempt<'a> {
    id: String,
    delivery_id: String,
    at: NaiveDateTime,
    status_code: Option<i64>,
    duration_ms: i64,
    response: Option<&'a str>,
    error: Option<&'a str>,
}

/// What an attempt tells of its endpoint: a success clears its failing streak; a failure
/// starts one or, five days into it, disables the endpoint, as a 410 does at once.
fn judge_endpoint(
    conn: &mut DbConnection,
    id: Uuid,
    next: Next,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let failing = || webhook_endpoints::table.find(id.to_string());
    match next {
        Next::Delivered => {
            diesel::update(failing().filter(webhook_endpoints::failing_since.is_not_null()))
                .set(webhook_endpoints::failing_since.eq(None::<NaiveDateTime>))
                .execute(conn)?;
        }
        Next::RetryAt(_) | Next::Failed | Next::Disable => {
            let since: Option<NaiveDateTime> = failing()
                .select(webhook_endpoints::failing_since)
                .first(conn)?;
            let since = since.map(from_db_time).unwrap_or(at);
            let reason = match next {
                Next::Disable => Some(GONE_REASON),
                _ if failed_too_long(Some(since), at) => Some(FAILING_REASON),
                _ => None,
            };
            diesel::update(failing())
                .set(webhook_endpoints::failing_since.eq(to_db_time(since)))
                .execute(conn)?;
            if let Some(reason) = reason {
                update(conn, id, &Expected::Any, RULES_USER, |current| Endpoint {
                    enabled: false,
                    disabled_reason: Some(reason.to_owned()),
                    ..current.clone()
                })?;
            }
        }
    }
    Ok(())
}

/// Deliveries to endpoint `id`, the newest first, of one status or all.
pub fn deliveries(
    conn: &mut DbConnection,
    id: Uuid,
    status: Option<DeliveryStatus>,
    window: &Window<DateTime<Utc>>,
) -> Result<Vec<Delivery>, StoreError> {
    let mut query = webhook_deliveries::table
        .inner_join(webhook_events::table)
        .filter(webhook_deliveries::endpoint_id.eq(id.to_string()))
        .select((
            webhook_deliveries::id,
            webhook_deliveries::event_id,
            webhook_events::event_type,
            webhook_deliveries::status,
            webhook_deliveries::created_at,
            webhook_deliveries::next_attempt_at,
            webhook_deliveries::finished_at,
        ))
        .into_boxed::<MultiBackend>();
    if let Some(status) = status {
        query = query.filter(webhook_deliveries::status.eq(status.as_str()));
    }
    keyset!(
        query,
        webhook_deliveries::created_at,
        webhook_deliveries::id,
        window.after_db_time(),
        true
    );
    type DeliveryRow = (
        String,
        String,
        String,
        String,
        NaiveDateTime,
        Option<NaiveDateTime>,
        Option<NaiveDateTime>,
    );
    let rows = query.limit(window.limit).load::<DeliveryRow>(conn)?;
    let ids: Vec<&str> = rows.iter().map(|row| row.0.as_str()).collect();
    let mut attempts = webhook_attempts::table
        .filter(webhook_attempts::delivery_id.eq_any(&ids))
        .order((webhook_attempts::delivery_id, webhook_attempts::at))
        .select((
            webhook_attempts::delivery_id,
            webhook_attempts::at,
            webhook_attempts::status_code,
            webhook_attempts::duration_ms,
            webhook_attempts::response,
            webhook_attempts::error,
        ))
        .load::<(
            String,
            NaiveDateTime,
            Option<i64>,
            i64,
            Option<String>,
            Option<String>,
        )>(conn)?;
    rows.into_iter()
        .map(
            |(id, event_id, event_type, status, created_at, next_attempt_at, finished_at)| {
                let mine = attempts
                    .extract_if(.., |attempt| attempt.0 == id)
                    .map(
                        |(_, at, status_code, duration_ms, response, error)| AttemptRecord {
                            at: from_db_time(at),
                            status_code,
                            duration_ms,
                            response,
                            error,
                        },
                    )
                    .collect();
                Ok(Delivery {
                    id: parse_id(&id)?,
                    event_id,
                    event_type: parse_name(&event_type, EventType::parse)?,
                    status: parse_name(&status, DeliveryStatus::parse)?,
                    created_at: from_db_time(created_at),
                    next_attempt_at: next_attempt_at.map(from_db_time),
                    finished_at: finished_at.map(from_db_time),
                    attempts: mine,
                })
            },
        )
        .collect()
}

/// Deletes events older than `before` with nothing left to send.
pub fn purge(conn: &mut DbConnection, before: DateTime<Utc>) -> Result<usize, StoreError> {
    write_transaction(conn, |conn| {
        let old = webhook_events::table
            .filter(webhook_events::created_at.lt(to_db_time(before)))
            .filter(diesel::dsl::not(diesel::dsl::exists(
                webhook_deliveries::table
                    .filter(webhook_deliveries::event_id.eq(webhook_events::id))
                    .filter(webhook_deliveries::status.eq_any([PENDING, SENDING])),
            )))
            .select(webhook_events::id)
            .load::<String>(conn)?;
        // Their deliveries and attempts go with them (ON DELETE CASCADE).
        for chunk in old.chunks(1000) {
            diesel::delete(webhook_events::table.filter(webhook_events::id.eq_any(chunk)))
                .execute(conn)?;
        }
        Ok(old.len())
    })
}
