//! Webhook endpoints (Standard Webhooks 1.0): admins register receivers of events, rotate
//! their secrets, read their delivery logs, replay and test them.

use std::net::{IpAddr, ToSocketAddrs};

use actix_web::http::StatusCode;
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use credo_core::webhooks::{
    check_address, check_endpoint, rotation_overlap, Delivery, DeliveryStatus, EndpointInput,
    ReceiverUrl, Secret,
};
use credo_core::{FieldCode, FieldError};
use credo_customers::Stamps;
use credo_store::keyset::Window;
use credo_store::versioned::Expected;
use credo_store::webhooks::{self as repo, Endpoint, Replay, Replayed};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::{require_admin, Person};
use crate::error::{ApiError, ApiResult, ErrorCode, Problem};
use crate::extract::{self, Body, Query};
use crate::pagination::{Page, PageParams};
use crate::reply::{self, idempotent, Reply};
use crate::state::AppState;

/// A receiver of events.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookEndpoint {
    pub id: Uuid,
    #[schema(example = "https://erp.example.com/credo/webhooks")]
    pub url: String,
    #[schema(example = "ERP: blocks and credit lines")]
    pub description: Option<String>,
    /// Event types sent to it; `*` for all.
    #[schema(example = json!(["customer.updated", "credit.line_granted"]))]
    pub event_types: Vec<String>,
    pub enabled: bool,
    /// Why it was disabled: by an admin, a 410 answer, or every delivery failing for 5 days.
    #[schema(example = json!(null))]
    pub disabled_reason: Option<String>,
    /// Until when the secret replaced by the last rotation still signs beside the new one.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    #[serde(flatten)]
    pub stamps: Stamps,
}

impl WebhookEndpoint {
    fn of(endpoint: Endpoint) -> Self {
        Self {
            id: endpoint.id,
            url: endpoint.url,
            description: endpoint.description,
            event_types: endpoint.event_types,
            enabled: endpoint.enabled,
            disabled_reason: endpoint.disabled_reason,
            previous_secret_expires_at: endpoint.previous_secret.map(|(_, until)| until),
            stamps: endpoint.stamps,
        }
    }
}

/// An endpoint with its signing secret: shown on creation and rotation only.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookEndpointWithSecret {
    #[serde(flatten)]
    pub endpoint: WebhookEndpoint,
    /// `whsec_` and the base64 of 32 random bytes; verify `webhook-signature` with it.
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwmVbJMjA0Mzg=")]
    pub secret: String,
}

/// An endpoint to register.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// https (http only where `CREDO_WEBHOOKS_ALLOW_PRIVATE` is on); never a loopback,
    /// private, link-local or multicast address.
    #[schema(example = "https://erp.example.com/credo/webhooks", max_length = 2000)]
    pub url: String,
    /// Event types to send; `*` for all.
    #[schema(example = json!(["customer.updated", "credit.line_granted"]))]
    pub event_types: Vec<String>,
    #[schema(example = "ERP: blocks and credit lines", max_length = 500)]
    pub description: Option<String>,
    /// Default true.
    pub enabled: Option<bool>,
}

/// Changes to an endpoint, as a merge patch.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhook {
    #[serde(default, deserialize_with = "credo_core::json::unclearable")]
    #[schema(nullable = false, example = "https://erp.example.com/credo/hooks")]
    pub url: Option<String>,
    #[serde(default, deserialize_with = "credo_core::json::unclearable")]
    #[schema(nullable = false, example = json!(["*"]))]
    pub event_types: Option<Vec<String>>,
    /// `null` removes it.
    #[serde(default, deserialize_with = "credo_core::json::clearable")]
    #[schema(value_type = Option<String>, nullable, max_length = 500)]
    pub description: Option<Option<String>>,
    /// `true` enables a disabled endpoint again (its waiting deliveries are sent); `false`
    /// pauses it.
    #[serde(default, deserialize_with = "credo_core::json::unclearable")]
    #[schema(nullable = false)]
    pub enabled: Option<bool>,
}

/// Why an admin's disabling is recorded.
const DISABLED_BY_ADMIN: &str = "disabled by an admin";

/// The reasons a receiver URL is refused: the URL itself (its scheme, credentials, a literal
/// address) or an address its host name resolves to.
async fn checked_url(state: &AppState, url: ReceiverUrl) -> ApiResult<ReceiverUrl> {
    let allow_private = state.webhooks_allow_private;
    let Some(host) = url.host_name.clone().filter(|_| !allow_private) else {
        return Ok(url);
    };
    let port = url.port;
    // A name that does not resolve yet is taken: every delivery resolves it again and
    // refuses what it must then.
    let addresses: Vec<IpAddr> = web::block(move || {
        (host.as_str(), port)
            .to_socket_addrs()
            .map(|found| found.map(|a| a.ip()).collect())
            .unwrap_or_default()
    })
    .await?;
    for address in addresses {
        check_address(address, false).map_err(|error| refused(vec![error]))?;
    }
    Ok(url)
}

/// 422 for field errors: `webhook_url_not_allowed` when the URL is one a server may not call.
fn refused(errors: Vec<FieldError>) -> ApiError {
    if errors.iter().any(|e| e.code == FieldCode::NotAllowed) {
        ApiError::new(
            ErrorCode::WebhookUrlNotAllowed,
            "the URL is not one Credo may call: https, and not a loopback, private, \
             link-local or multicast address",
        )
        .with_errors(errors)
    } else {
        ApiError::validation(errors)
    }
}

async fn checked(
    state: &AppState,
    url: &str,
    event_types: &[String],
    description: Option<&str>,
) -> ApiResult<EndpointInput> {
    let mut input = check_endpoint(url, event_types, description, state.webhooks_allow_private)
        .map_err(|errors| refused(errors.into_vec()))?;
    input.url = checked_url(state, input.url).await?;
    Ok(input)
}

fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    Secret::from_bytes(bytes).encode()
}

fn with_secret(endpoint: Endpoint) -> WebhookEndpointWithSecret {
    let secret = endpoint.secret.clone();
    WebhookEndpointWithSecret {
        endpoint: WebhookEndpoint::of(endpoint),
        secret,
    }
}

/// Register a webhook endpoint
///
/// Events of the listed types are sent to `url` as Standard Webhooks messages (`webhook-id`,
/// `webhook-timestamp`, `webhook-signature`), each written in the transaction of the change
/// it tells of: a change rolled back sends nothing, a committed one is sent even if the
/// server dies right after. The answer carries the signing `secret`, shown this once (and
/// on rotation). Admins, signed in as themselves.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "createWebhook",
    request_body = CreateWebhook,
    responses(
        (status = 201, description = "Registered; `secret` is shown this once", body = WebhookEndpointWithSecret, headers(("Location" = String), ("ETag" = String))),
        (status = 422, description = "No event types or an unknown one, a URL that is not absolute https (`validation_failed`), or one that is or resolves to a loopback, private, link-local or multicast address (`webhook_url_not_allowed`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/webhooks")]
pub async fn create_webhook(
    state: web::Data<AppState>,
    Person(caller): Person,
    req: HttpRequest,
    body: Body<CreateWebhook>,
) -> ApiResult<HttpResponse> {
    require_admin(&caller, "webhooks")?;
    let Body { value: input, raw } = body;
    let checked = checked(
        &state,
        &input.url,
        &input.event_types,
        input.description.as_deref(),
    )
    .await?;
    let enabled = input.enabled.unwrap_or(true);
    idempotent(&state, &caller, &req, &raw, || async {
        let (new, secret, actor) = (checked.clone(), new_secret(), caller.user_id);
        let endpoint = state
            .db(move |conn| repo::create(conn, new, secret, enabled, actor))
            .await?;
        let location = format!("/api/v1/webhooks/{}", endpoint.id);
        let version = endpoint.stamps.version;
        Ok(Reply::created(&with_secret(endpoint), location).with_version(version))
    })
    .await
}

/// List webhook endpoints
///
/// Every endpoint, the newest first; never a secret. Admins.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "listWebhooks",
    params(PageParams),
    responses((status = 200, description = "One page", body = Page<WebhookEndpoint>)),
    security(("bearer" = []))
)]
#[get("/webhooks")]
pub async fn list_webhooks(
    state: web::Data<AppState>,
    Person(caller): Person,
    page: Query<PageParams>,
) -> ApiResult<HttpResponse> {
    require_admin(&caller, "webhooks")?;
    page.answer(
        &state,
        move |conn, window: &Window<_>| {
            repo::list(conn, window).map(|all| all.into_iter().map(WebhookEndpoint::of).collect())
        },
        |endpoint: &WebhookEndpoint| (endpoint.stamps.created_at, endpoint.id),
    )
    .await
}

async fn endpoint_or_404(state: &AppState, id: Uuid) -> ApiResult<Endpoint> {
    state
        .db(move |conn| repo::get(conn, id))
        .await?
        .ok_or_else(ApiError::not_found)
}

/// Get a webhook endpoint
///
/// Admins.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "getWebhook",
    params(("id" = Uuid, Path, description = "Endpoint id")),
    responses((status = 200, description = "The endpoint", body = WebhookEndpoint, headers(("ETag" = String)))),
    security(("bearer" = []))
)]
#[get("/webhooks/{id}")]
pub async fn get_webhook(
    state: web::Data<AppState>,
    Person(caller): Person,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    require_admin(&caller, "webhooks")?;
    let endpoint = endpoint_or_404(&state, id.into_inner()).await?;
    let version = endpoint.stamps.version;
    Ok(Reply::ok(&WebhookEndpoint::of(endpoint))
        .with_version(version)
        .into_response())
}

/// Change a webhook endpoint
///
/// A merge patch with `If-Match`: its URL (checked as on registration), event types,
/// description, or `enabled` (enabling a disabled endpoint clears its reason and sends the
/// deliveries that waited). Audited. Admins, signed in as themselves.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "updateWebhook",
    params(
        ("id" = Uuid, Path, description = "Endpoint id"),
        ("If-Match" = String, Header, description = "ETag of the version you changed"),
    ),
    request_body = UpdateWebhook,
    responses(
        (status = 200, description = "Changed", body = WebhookEndpoint, headers(("ETag" = String))),
        (status = 412, description = "Stale If-Match; `current` holds the endpoint", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "As on registration", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/webhooks/{id}")]
pub async fn update_webhook(
    state: web::Data<AppState>,
    Person(caller): Person,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Body<UpdateWebhook>,
) -> ApiResult<HttpResponse> {
    require_admin(&caller, "webhooks")?;
    let expected = extract::if_match(&req)?;
    let id = id.into_inner();
    let patch = body.value;
    let current = endpoint_or_404(&state, id).await?;
    let description = match &patch.description {
        Some(description) => description.clone(),
        None => current.description.clone(),
    };
    let input = checked(
        &state,
        patch.url.as_deref().unwrap_or(&current.url),
        patch.event_types.as_deref().unwrap_or(&current.event_types),
        description.as_deref(),
    )
    .await?;
    let enabled = patch.enabled;
    let actor = caller.user_id;
    let outcome = state
        .db(move |conn| {
            repo::update(conn, id, &expected, actor, |current| {
                let mut next = Endpoint {
                    url: input.url.url.clone(),
                    event_types: input.event_types.clone(),
                    description: input.description.clone(),
                    ..current.clone()
                };
                match enabled {
                    Some(true) if !current.enabled => {
                        next.enabled = true;
                        next.disabled_reason = None;
                        next.failing_since = None;
                    }
                    Some(false) if current.enabled => {
                        next.enabled = false;
                        next.disabled_reason = Some(DISABLED_BY_ADMIN.to_owned());
                    }
                    _ => {}
                }
                next
            })
        })
        .await?
        .map(WebhookEndpoint::of);
    Ok(reply::updated(
        outcome,
        "webhook",
        |e| e.stamps.version,
        |()| ApiError::not_found(),
    )?
    .into_response())
}

/// Delete a webhook endpoint
///
/// The endpoint and its delivery log are gone; nothing more is sent to it. Audited. Admins,
/// signed in as themselves.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "deleteWebhook",
    params(("id" = Uuid, Path, description = "Endpoint id")),
    responses((status = 204, description = "Deleted")),
    security(("bearer" = []))
)]
#[delete("/webhooks/{id}")]
pub async fn delete_webhook(
    state: web::Data<AppState>,
    Person(caller): Person,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    require_admin(&caller, "webhooks")?;
    let (id, actor) = (id.into_inner(), caller.user_id);
    if state.db(move |conn| repo::delete(conn, id, actor)).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::not_found())
    }
}

/// Rotate a webhook endpoint's secret
///
/// A new secret signs from now on, answered this once; the one it replaces keeps signing
/// beside it (space-separated signatures) for 24 hours, so receivers can switch without
/// losing a message. Audited (never the secrets). Admins, signed in as themselves.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "rotateWebhookSecret",
    params(("id" = Uuid, Path, description = "Endpoint id")),
    responses((status = 200, description = "Rotated; `secret` is shown this once", body = WebhookEndpointWithSecret, headers(("ETag" = String)))),
    security(("bearer" = []))
)]
#[post("/webhooks/{id}/rotate-secret")]
pub async fn rotate_webhook_secret(
    state: web::Data<AppState>,
    Person(caller): Person,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    require_admin(&caller, "webhooks")?;
    let (id, actor) = (id.into_inner(), caller.user_id);
    idempotent(&state, &caller, &req, &serde_json::Value::Null, || async {
        let secret = new_secret();
        let outcome = state
            .db(move |conn| {
                repo::update(conn, id, &Expected::Any, actor, |current| Endpoint {
                    secret: secret.clone(),
                    previous_secret: Some((
                        current.secret.clone(),
                        credo_store::now() + rotation_overlap(),
                    )),
                    ..current.clone()
                })
            })
            .await?
            .map(with_secret);
        reply::updated(
            outcome,
            "webhook",
            |e| e.endpoint.stamps.version,
            |()| ApiError::not_found(),
        )
    })
    .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryParams {
    /// Only deliveries in this state.
    pub status: Option<DeliveryStatus>,
}

/// List a webhook endpoint's deliveries
///
/// Each event sent (or to be sent) to the endpoint, the newest first, with every attempt:
/// when, the answer's status, how long it took, and the first KiB of the answer or what went
/// wrong. A failed delivery is retried about 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h
/// after its attempts (sooner or later when the receiver sent `Retry-After`), then `failed`.
/// Admins.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "listWebhookDeliveries",
    params(("id" = Uuid, Path, description = "Endpoint id"), DeliveryParams, PageParams),
    responses((status = 200, description = "One page", body = Page<Delivery>)),
    security(("bearer" = []))
)]
#[get("/webhooks/{id}/deliveries")]
pub async fn list_webhook_deliveries(
    state: web::Data<AppState>,
    Person(caller): Person,
    id: web::Path<Uuid>,
    params: Query<DeliveryParams>,
    page: Query<PageParams>,
) -> ApiResult<HttpResponse> {
    require_admin(&caller, "webhooks")?;
    let endpoint = endpoint_or_404(&state, id.into_inner()).await?.id;
    let status = params.into_inner().status;
    page.answer(
        &state,
        move |conn, window: &Window<_>| repo::deliveries(conn, endpoint, status, window),
        |delivery: &Delivery| (delivery.created_at, delivery.id),
    )
    .await
}

/// What to send again: every event since a time, or the events named.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayRequest {
    /// Every kept event since then of the types the endpoint subscribes to.
    #[schema(example = "2026-12-06T00:00:00Z")]
    pub since: Option<DateTime<Utc>>,
    /// These events (their `webhook-id`s), whatever their types.
    #[schema(example = json!(null))]
    pub event_ids: Option<Vec<String>>,
}

/// How many events a replay queued.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReplayQueued {
    #[schema(example = 12)]
    pub queued: usize,
}

/// Replay events to a webhook endpoint
///
/// Queues the events again for this endpoint, each with its original `webhook-id` (so a
/// receiver that has one already can tell), on a fresh retry schedule. Name either `since`
/// or `event_ids` (at most 1000). Events are kept 30 days. Admins, signed in as themselves.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "replayWebhook",
    params(("id" = Uuid, Path, description = "Endpoint id")),
    request_body = ReplayRequest,
    responses(
        (status = 202, description = "Queued", body = ReplayQueued),
        (status = 422, description = "Neither or both of `since` and `event_ids`, or an event that is not kept (`event_ids[i]`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/webhooks/{id}/replay")]
pub async fn replay_webhook(
    state: web::Data<AppState>,
    Person(caller): Person,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Body<ReplayRequest>,
) -> ApiResult<HttpResponse> {
    require_admin(&caller, "webhooks")?;
    let id = id.into_inner();
    let Body { value, raw } = body;
    let replay = match value {
        ReplayRequest {
            since: Some(since),
            event_ids: None,
        } => Replay::Since(since),
        ReplayRequest {
            since: None,
            event_ids: Some(ids),
        } if !ids.is_empty() && ids.len() <= REPLAY_MAX => Replay::Events(ids),
        ReplayRequest {
            since: None,
            event_ids: Some(ids),
        } => {
            return Err(ApiError::field(
                "event_ids",
                FieldCode::OutOfRange,
                &format!("name 1 to {REPLAY_MAX} events ({} named)", ids.len()),
            ))
        }
        _ => {
            return Err(ApiError::field(
                "since",
                FieldCode::Conflicting,
                "name either `since` or `event_ids`",
            ))
        }
    };
    idempotent(&state, &caller, &req, &raw, || async {
        let replayed = state
            .db(move |conn| repo::replay(conn, id, &replay))
            .await?;
        queued(replayed)
    })
    .await
}

/// The answer to a replay.
fn queued(replayed: Replayed) -> ApiResult<Reply> {
    match replayed {
        Replayed::Queued(queued) => Ok(Reply::json(StatusCode::ACCEPTED, &ReplayQueued { queued })),
        Replayed::NoEndpoint => Err(ApiError::not_found()),
        Replayed::Unknown(ids) => Err(ApiError::validation(
            ids.into_iter()
                .map(|(at, id)| {
                    FieldError::new(
                        format!("event_ids[{at}]"),
                        FieldCode::NotFound,
                        format!("no event {id:?} is kept"),
                    )
                })
                .collect(),
        )),
    }
}

/// Events a replay may name.
const REPLAY_MAX: usize = 1000;

/// What a test message carries.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookTest {
    pub endpoint_id: Uuid,
    pub sent_by: Uuid,
    #[schema(example = "a test message from Credo")]
    pub message: String,
}

/// The event a test queued.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookTestQueued {
    /// Its `webhook-id`: find it in the delivery log.
    #[schema(example = "msg_0193a5c27d4e7b1a9c3f2f6d8e1a4b5c")]
    pub event_id: String,
}

/// Send a test event to a webhook endpoint
///
/// Queues a `webhook.test` event for this endpoint only, whatever types it subscribes to;
/// its delivery shows in the log like any other. A disabled endpoint is sent it once
/// enabled. Admins.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "testWebhook",
    params(("id" = Uuid, Path, description = "Endpoint id")),
    responses((status = 202, description = "Queued", body = WebhookTestQueued)),
    security(("bearer" = []))
)]
#[post("/webhooks/{id}/test")]
pub async fn test_webhook(
    state: web::Data<AppState>,
    Person(caller): Person,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    require_admin(&caller, "webhooks")?;
    let id = id.into_inner();
    let data = WebhookTest {
        endpoint_id: id,
        sent_by: caller.user_id,
        message: "a test message from Credo".into(),
    };
    idempotent(&state, &caller, &req, &serde_json::Value::Null, || async {
        let event_id = state
            .db(move |conn| repo::send_test(conn, id, &data))
            .await?
            .ok_or_else(ApiError::not_found)?;
        Ok(Reply::json(
            StatusCode::ACCEPTED,
            &WebhookTestQueued { event_id },
        ))
    })
    .await
}
