//! Successful answers, the ETag they carry, and the replay of answers under an
//! Idempotency-Key.

use std::cell::Cell;
use std::future::Future;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse};
use credo_core::Principal;
use credo_store::idempotency::{self, Claim, StoredResponse};
use credo_store::jobs::{RunRequest, MAX_WAITING_RUNS};
use credo_store::versioned::Updated;
use credo_store::{write_transaction, DbConnection, Outcome, StoreError};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract;
use crate::state::AppState;

/// The strong ETag of a record version.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// A GET or HEAD whose `If-None-Match` names the ETag of its answer (weak comparison, RFC
/// 9110 13.1.2) is answered 304 with the ETag and no body: a client that holds the version
/// moves no bytes.
pub async fn not_modified(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let held = matches!(*req.method(), Method::GET | Method::HEAD)
        .then(|| {
            req.headers()
                .get(header::IF_NONE_MATCH)?
                .to_str()
                .ok()
                .map(str::to_owned)
        })
        .flatten();
    let response = next.call(req).await?;
    let current = response
        .headers()
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    match (held, current) {
        (Some(held), Some(current))
            if response.status() == StatusCode::OK && names_tag(&held, &current) =>
        {
            let (req, _) = response.into_parts();
            let unchanged = HttpResponse::NotModified()
                .insert_header((header::ETAG, current))
                .finish();
            Ok(ServiceResponse::new(req, unchanged).map_into_right_body())
        }
        _ => Ok(response.map_into_left_body()),
    }
}

/// Whether an `If-None-Match` value names `etag` under the weak comparison.
fn names_tag(held: &str, etag: &str) -> bool {
    let opaque = |tag: &str| tag.trim().trim_start_matches("W/").to_owned();
    held.trim() == "*" || held.split(',').any(|tag| opaque(tag) == opaque(etag))
}

/// 412 `version_mismatch` for a stale `If-Match`, carrying the record as it is now (and its
/// ETag) so that the client can merge and retry.
pub fn version_mismatch(what: &str, current: &impl Serialize, version: i64) -> ApiError {
    ApiError::new(
        ErrorCode::VersionMismatch,
        format!("the {what} has changed; merge with `current` and retry"),
    )
    .with_current(
        serde_json::to_value(current).expect("serialisable"),
        etag(version),
    )
}

/// The answer to a change of a versioned record: 200 with the record and its ETag, 412 with
/// the current one, 404, or what `refused` makes of the refusal.
pub fn updated<R: Serialize, E>(
    outcome: Updated<R, E>,
    what: &str,
    version: impl Fn(&R) -> i64,
    refused: impl FnOnce(E) -> ApiError,
) -> ApiResult<Reply> {
    match outcome {
        Updated::Updated(record) => Ok(Reply::ok(&record).with_version(version(&record))),
        Updated::Stale(current) => Err(version_mismatch(what, &current, version(&current))),
        Updated::NotFound => Err(ApiError::not_found()),
        Updated::Refused(refusal) => Err(refused(refusal)),
    }
}

/// A JSON answer before it becomes an HTTP response, so that it can be kept for replay.
pub struct Reply {
    pub status: StatusCode,
    pub body: String,
    pub etag: Option<String>,
    pub location: Option<String>,
}

/// A reply is an answer that keeps its write; refusals are `ApiError`s.
impl Outcome for Reply {}

impl Reply {
    pub fn json(status: StatusCode, value: &impl Serialize) -> Self {
        Self {
            status,
            body: serde_json::to_string(value).expect("serialisable"),
            etag: None,
            location: None,
        }
    }

    pub fn ok(value: &impl Serialize) -> Self {
        Self::json(StatusCode::OK, value)
    }

    pub fn created(value: &impl Serialize, location: String) -> Self {
        Self {
            location: Some(location),
            ..Self::json(StatusCode::CREATED, value)
        }
    }

    pub fn with_version(mut self, version: i64) -> Self {
        self.etag = Some(etag(version));
        self
    }

    fn stored(&self) -> StoredResponse {
        StoredResponse {
            status: self.status.as_u16(),
            body: self.body.clone(),
            etag: self.etag.clone(),
            location: self.location.clone(),
        }
    }

    fn from_stored(stored: StoredResponse) -> Self {
        Self {
            status: StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK),
            body: stored.body,
            etag: stored.etag,
            location: stored.location,
        }
    }

    pub fn into_response(self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response.content_type("application/json");
        if let Some(etag) = self.etag {
            response.insert_header((header::ETAG, etag));
        }
        if let Some(location) = self.location {
            response.insert_header((header::LOCATION, location));
        }
        response.body(self.body)
    }
}

/// The Idempotency-Key the running request claimed, and whether its answer is kept yet.
struct Pending {
    user: Uuid,
    key: String,
    kept: Cell<bool>,
}

tokio::task_local! {
    static PENDING: Pending;
}

/// Runs a POST at most once per `Idempotency-Key`: a retry with the same key and body gets
/// the first answer again; the same key with another body is 422. Without the header the
/// request simply runs. The answer is kept in the transaction of the write it answers (see
/// `write`), so a write never commits without it; failed requests release their key so a
/// retry can succeed.
pub async fn idempotent<F, Fut>(
    state: &AppState,
    caller: &Principal,
    req: &HttpRequest,
    body: &serde_json::Value,
    run: F,
) -> ApiResult<HttpResponse>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = ApiResult<Reply>>,
{
    let Some(key) = extract::idempotency_key(req)? else {
        return Ok(run().await?.into_response());
    };
    let fingerprint = format!(
        "{:x}",
        Sha256::digest(format!("{} {}\n{}", req.method(), req.path(), body).as_bytes())
    );
    let user = caller.user_id;
    let claim_key = key.clone();
    let claim = state
        .db(move |conn| idempotency::claim(conn, user, &claim_key, &fingerprint))
        .await?;
    match claim {
        Claim::Replay(stored) => Ok(Reply::from_stored(stored).into_response()),
        Claim::Mismatch => Err(ApiError::new(
            ErrorCode::IdempotencyKeyReused,
            "this Idempotency-Key was used with a different request",
        )),
        Claim::InProgress => Err(ApiError::new(
            ErrorCode::IdempotencyInProgress,
            "the first request with this key is still running",
        )
        .with_retry_after(1)),
        Claim::Claimed => {
            let pending = Pending {
                user,
                key: key.clone(),
                kept: Cell::new(false),
            };
            let (result, kept) = PENDING
                .scope(pending, async {
                    let result = run().await;
                    (result, PENDING.with(|p| p.kept.get()))
                })
                .await;
            match result {
                Ok(reply) if kept => Ok(reply.into_response()),
                // A request that wrote nothing through `write` keeps its answer now.
                Ok(reply) => {
                    let stored = reply.stored();
                    state
                        .db(move |conn| idempotency::complete(conn, user, &key, &stored))
                        .await?;
                    Ok(reply.into_response())
                }
                Err(error) => {
                    state
                        .db(move |conn| idempotency::release(conn, user, &key))
                        .await?;
                    Err(error)
                }
            }
        }
    }
}

/// Runs a write and makes its answer in one transaction, on the blocking pool. A request
/// under an Idempotency-Key keeps the answer in that same transaction: the write and the
/// answer a retry replays commit together or not at all. An error answer rolls back.
pub async fn write(
    state: &AppState,
    mut work: impl FnMut(&mut DbConnection) -> Result<ApiResult<Reply>, StoreError> + Send + 'static,
) -> ApiResult<Reply> {
    let pending = PENDING.try_with(|p| (p.user, p.key.clone())).ok();
    let keeps = pending.is_some();
    let answer = state
        .db(move |conn| {
            write_transaction(conn, |conn| {
                let answer = work(conn)?;
                if let (Ok(reply), Some((user, key))) = (&answer, &pending) {
                    idempotency::complete(conn, *user, key, &reply.stored())?;
                }
                Ok(answer)
            })
        })
        .await?;
    if keeps && answer.is_ok() {
        PENDING.with(|p| p.kept.set(true));
    }
    answer
}

/// How long a client asking for a run while the queue is full waits before it asks again.
const RUN_QUEUE_RETRY_SECONDS: u64 = 60;

/// The answer to asking for a run (a job with a record of its own at `location`): 202 with
/// the run and its `Location`, `409 run_in_progress` naming the same run, or
/// `429 too_many_runs` with `Retry-After`.
pub fn queued_run<R: Serialize>(
    request: RunRequest<R>,
    location: impl Fn(&R) -> String,
) -> ApiResult<Reply> {
    match request {
        RunRequest::Queued(run) => Ok(Reply {
            location: Some(location(&run)),
            ..Reply::json(StatusCode::ACCEPTED, &run)
        }),
        RunRequest::Identical(run) => Err(ApiError::new(
            ErrorCode::RunInProgress,
            "the same run is queued or running; Location names it",
        )
        .with_location(location(&run))),
        RunRequest::QueueFull => Err(ApiError::new(
            ErrorCode::TooManyRuns,
            format!("{MAX_WAITING_RUNS} runs wait already; retry when one has started"),
        )
        .with_retry_after(RUN_QUEUE_RETRY_SECONDS)),
    }
}
