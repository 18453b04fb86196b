//! The change feed: what changed since a device's last sync, in an order no later commit can
//! go before, each record as its GET answers it now, and what left the caller's view.

use std::collections::HashMap;
use std::time::Duration;

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use credo_core::feed::{told, FeedOp, FeedType};
use credo_core::{FieldCode, FieldError, Principal};
use credo_credit::agreement::AgreementView;
use credo_store::changes::{self as repo, Entry, Position, Reader};
use credo_store::{activity, contacts, credit, customers, leads, orders, receivables, tasks};
use credo_store::{visits, DbConnection, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorCode, Problem};
use crate::extract::{invalid_query, Query};
use crate::pagination::{decode, encode, in_range};
use crate::reply::Reply;
use crate::state::AppState;

/// Entries a page holds at most, and by default.
const LIMIT_MAX: i64 = 1000;
const LIMIT_DEFAULT: i64 = 200;
/// The longest a reader may wait for a change.
const WAIT_MAX_SECONDS: u64 = 30;
/// How often a waiting reader looks again when no new entry woke it: a writer that ended
/// late can make older entries readable without writing one.
const RECHECK: Duration = Duration::from_secs(1);

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChangeParams {
    /// `next_since` of the page before, or any item's `seq`; absent: from the beginning (a
    /// new device's first full sync).
    pub since: Option<String>,
    /// Comma-separated record types (default all): customer, contact, order, visit, task,
    /// interaction, note, event, receivable, payment, credit_agreement, lead.
    #[param(example = "customer,contact,task")]
    pub types: Option<String>,
    /// Entries read, 1 to 1000 (default 200); a record changed several times in them is one
    /// item.
    #[param(minimum = 1, maximum = 1000, example = 200)]
    pub limit: Option<i64>,
    /// Seconds to wait for a change when there is none (0 to 30, default 0).
    #[param(minimum = 0, maximum = 30, example = 25)]
    pub wait: Option<u64>,
}

/// One record that changed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeItem {
    /// Its place in the feed; may be sent as `since`.
    pub seq: String,
    #[serde(rename = "type")]
    pub kind: FeedType,
    pub id: Uuid,
    /// `delete`: the record is gone, or left your view (e.g. its customer was transferred).
    pub op: FeedOp,
    /// The record's version (for records without one, the count of their changes).
    #[schema(example = 3)]
    pub version: i64,
    pub changed_at: DateTime<Utc>,
    /// What the record's GET answers now; absent for `delete`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub record: Option<serde_json::Value>,
}

/// A page of the feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangePage {
    pub items: Vec<ChangeItem>,
    /// Send as `since` for what follows.
    pub next_since: String,
    /// More changes are there already: ask again at once.
    pub has_more: bool,
}

/// A place in the feed as a client holds it (signed, so it cannot be forged).
#[derive(Serialize, Deserialize)]
struct Token {
    t: i64,
    s: i64,
}

fn token(position: Position) -> String {
    encode(&Token {
        t: position.txid,
        s: position.seq,
    })
}

/// The feed's start: before every entry.
const START: Position = Position { txid: 0, seq: 0 };

fn types(raw: Option<&str>) -> ApiResult<Vec<FeedType>> {
    let Some(raw) = raw.filter(|raw| !raw.is_empty()) else {
        return Ok(Vec::new());
    };
    raw.split(',')
        .map(|name| {
            FeedType::parse(name.trim()).ok_or_else(|| {
                invalid_query(
                    "types",
                    FieldError::new(
                        "",
                        FieldCode::InvalidValue,
                        format!("{name:?} is no record type of the feed"),
                    ),
                )
            })
        })
        .collect()
}

/// List changes since a sync
///
/// Every committed change of the records you see, oldest first, once: a reader following
/// the feed while others write sees each change exactly once and nothing out of order. A
/// record changed several times is one item, its newest; `record` is what its GET answers
/// now. A record that leaves your view (deleted, or its customer transferred away from you)
/// comes as `delete`; one that enters it as `upsert`. With `wait`, an empty answer waits up
/// to that many seconds for a change. A `since` from before changes the feed no longer keeps
/// (`CREDO_CHANGES_RETENTION_DAYS`, 90) is `410 sync_token_expired`: sync again from the
/// beginning.
#[utoipa::path(
    tag = "changes",
    operation_id = "listChanges",
    params(ChangeParams),
    responses(
        (status = 200, description = "What changed", body = ChangePage),
        (status = 400, description = "A `since` this feed did not issue (`invalid_cursor`), an unknown type, or `limit` or `wait` out of range (`invalid_query`)", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "`since` is older than the feed keeps (`sync_token_expired`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/changes")]
pub async fn list_changes(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    params: Query<ChangeParams>,
) -> ApiResult<HttpResponse> {
    let params = params.into_inner();
    let since = match params.since.as_deref().filter(|s| !s.is_empty()) {
        Some(raw) => {
            let token: Token = decode(raw)?;
            Some(Position {
                txid: token.t,
                seq: token.s,
            })
        }
        None => None,
    };
    let types = types(params.types.as_deref())?;
    let limit = in_range("limit", params.limit, 1..=LIMIT_MAX, LIMIT_DEFAULT)?;
    let wait = in_range("wait", params.wait, 0..=WAIT_MAX_SECONDS, 0)?;
    if let Some(since) = since {
        let horizon = state.db(repo::horizon).await?;
        if horizon.is_some_and(|horizon| since < horizon) {
            return Err(ApiError::new(
                ErrorCode::SyncTokenExpired,
                "changes after this point were purged; sync again from the beginning",
            ));
        }
    }
    let today = state.today().await?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(wait);
    let mut woken = state.feed.subscribe();
    loop {
        let reader = caller.clone();
        let types = types.clone();
        let page = state
            .db(move |conn| page(conn, &reader, since, &types, limit, today))
            .await?;
        let now = tokio::time::Instant::now();
        if !page.items.is_empty() || page.has_more || now >= deadline {
            return Ok(Reply::ok(&page).into_response());
        }
        let recheck = (now + RECHECK).min(deadline);
        let _ = tokio::time::timeout_at(recheck, woken.changed()).await;
    }
}

/// Reads a page: the entries after `since`, each record folded into its newest entry and
/// told to the reader as it stands now.
fn page(
    conn: &mut DbConnection,
    reader: &Principal,
    since: Option<Position>,
    types: &[FeedType],
    limit: i64,
    today: NaiveDate,
) -> Result<ChangePage, StoreError> {
    let who = Reader {
        user_id: reader.user_id,
        scope: reader.scope(),
    };
    let entries = repo::read(conn, since, types, &who, limit)?;
    let has_more = i64::try_from(entries.len()).unwrap_or(i64::MAX) == limit;
    let next = entries
        .last()
        .map(|entry| entry.position)
        .or(since)
        .unwrap_or(START);
    // The newest entry of each record, in the order of their newest entries.
    let mut newest: HashMap<(FeedType, Uuid), usize> = HashMap::new();
    for (at, entry) in entries.iter().enumerate() {
        newest.insert((entry.entity_type, entry.entity_id), at);
    }
    let mut items = Vec::with_capacity(newest.len());
    let mut seen_customers = HashMap::new();
    for (at, entry) in entries.iter().enumerate() {
        if newest[&(entry.entity_type, entry.entity_id)] != at {
            continue;
        }
        let record = match entry.op {
            FeedOp::Upsert => record_now(conn, reader, entry, today, &mut seen_customers)?,
            FeedOp::Delete => None,
        };
        let Some(op) = told(reader, entry.op, &entry.scope, record.is_some()) else {
            continue;
        };
        items.push(ChangeItem {
            seq: token(entry.position),
            kind: entry.entity_type,
            id: entry.entity_id,
            op,
            version: entry.version,
            changed_at: entry.changed_at,
            record: record.filter(|_| op == FeedOp::Upsert),
        });
    }
    Ok(ChangePage {
        items,
        next_since: token(next),
        has_more,
    })
}

fn json<T: Serialize>(record: &T) -> Result<serde_json::Value, StoreError> {
    Ok(serde_json::to_value(record)?)
}

/// The record of `entry` as its GET answers it now, when `reader` sees it; `None` when it
/// is gone or out of the reader's view. `seen` keeps whether the reader sees each customer
/// looked up for the page, so a customer's many records cost one lookup.
fn record_now(
    conn: &mut DbConnection,
    reader: &Principal,
    entry: &Entry,
    today: NaiveDate,
    seen: &mut HashMap<Uuid, bool>,
) -> Result<Option<serde_json::Value>, StoreError> {
    let id = entry.entity_id;
    let shown: Option<serde_json::Value> = match entry.entity_type {
        FeedType::Customer => customers::get(conn, id)?
            .filter(|c| reader.can_see(c.owner_id, c.sales_unit_id))
            .map(|c| json(&c))
            .transpose()?,
        FeedType::Task => tasks::get(conn, id)?
            .filter(|task| crate::routes::tasks::can_see(reader, task))
            .map(|t| json(&t))
            .transpose()?,
        FeedType::Lead => leads::get(conn, id)?
            .filter(|lead| crate::routes::leads::can_see(reader, lead))
            .map(|l| json(&l))
            .transpose()?,
        // Records seen through their customer: visible when the customer is.
        kind => {
            let Some(customer) = entry.customer_id else {
                return Ok(None);
            };
            let visible = match seen.get(&customer) {
                Some(visible) => *visible,
                None => {
                    let visible = customers::ownership(conn, customer)?
                        .is_some_and(|(owner, unit)| reader.can_see(owner, unit));
                    seen.insert(customer, visible);
                    visible
                }
            };
            if !visible {
                return Ok(None);
            }
            match kind {
                FeedType::Contact => contacts::get(conn, customer, id)?.map(|r| json(&r)),
                FeedType::Order => orders::get(conn, id)?.map(|r| json(&r)),
                FeedType::Visit => visits::get(conn, id)?.map(|r| json(&r)),
                FeedType::Interaction => activity::interaction(conn, id)?.map(|r| json(&r)),
                FeedType::Note => activity::note(conn, id)?.map(|r| json(&r)),
                FeedType::Event => activity::event(conn, id)?.map(|r| json(&r)),
                FeedType::Receivable => receivables::get(conn, id)?.map(|r| json(&r)),
                FeedType::Payment => receivables::payment(conn, id)?.map(|r| json(&r)),
                FeedType::CreditAgreement => credit::agreements::agreement(conn, id)?
                    .map(|agreement| json(&AgreementView::of(agreement, today))),
                FeedType::Customer | FeedType::Task | FeedType::Lead => None,
            }
            .transpose()?
        }
    };
    Ok(shown)
}
