//! API keys for integration scripts: made by admins for a (service) user whose rights the
//! key has, shown once, revoked at once on every instance.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use credo_core::directory::{check_api_key, ApiKey};
use credo_core::FieldCode;
use credo_store::api_keys::{self as repo, NewKey};
use credo_store::keyset::Window;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::{new_api_key, require_admin, Person};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Body, Query};
use crate::pagination::{Page, PageParams};
use crate::reply::{idempotent, Reply};
use crate::state::AppState;

/// A key to make.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyInput {
    #[schema(example = "ERP nightly sync", max_length = 100)]
    pub name: String,
    /// The user whose rights the key has: make a service user with the role and unit the
    /// script needs.
    pub user_id: Uuid,
    /// The key works until this day begins; absent: until revoked.
    #[schema(example = "2027-12-31")]
    pub expires_on: Option<NaiveDate>,
}

/// A key just made, with the key itself: shown this once, kept only as a hash.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyCreated {
    #[serde(flatten)]
    pub record: ApiKey,
    /// Send as `Authorization: Bearer <key>`.
    #[schema(example = "credo_k7x2m9qa_Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHF1dXg")]
    pub key: String,
}

/// Create an API key
///
/// A key acting as `user_id` (`credo_<prefix>_<secret>`, 256 random bits), answered once;
/// only a keyed hash is kept. Admins, signed in as themselves: a key cannot make keys.
#[utoipa::path(
    tag = "api-keys",
    operation_id = "createApiKey",
    request_body = ApiKeyInput,
    responses(
        (status = 201, description = "Made; `key` is shown this once", body = ApiKeyCreated, headers(("Location" = String))),
        (status = 422, description = "No name, an end not after today, or no such active user (`user_id`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/api-keys")]
pub async fn create_api_key(
    state: web::Data<AppState>,
    Person(caller): Person,
    req: HttpRequest,
    body: Body<ApiKeyInput>,
) -> ApiResult<HttpResponse> {
    require_admin(&caller, "API keys")?;
    let Body { value: input, raw } = body;
    let today = state.today().await?;
    let name = check_api_key(&input.name, input.expires_on, today).map_err(ApiError::validation)?;
    let user_id = input.user_id;
    let active = state
        .db(move |conn| credo_store::users::active_ids(conn, &[user_id]))
        .await?;
    if active.is_empty() {
        return Err(ApiError::field(
            "user_id",
            FieldCode::UnknownUser,
            "no active user has this id",
        ));
    }
    idempotent(&state, &caller, &req, &raw, || async {
        let (key, prefix, secret_hash) = new_api_key(&state.api_key_pepper);
        let new = NewKey {
            prefix,
            secret_hash,
            name: name.clone(),
            user_id,
            expires_on: input.expires_on,
        };
        let actor = caller.user_id;
        let record = state.db(move |conn| repo::create(conn, new, actor)).await?;
        let location = format!("/api/v1/api-keys/{}", record.id);
        Ok(Reply {
            location: Some(location),
            ..Reply::json(StatusCode::CREATED, &ApiKeyCreated { record, key })
        })
    })
    .await
}

/// List API keys
///
/// Every key, the newest first: prefix, name, user, made, end, last use (to the minute),
/// revocation. Never the key. Admins.
#[utoipa::path(
    tag = "api-keys",
    operation_id = "listApiKeys",
    params(PageParams),
    responses((status = 200, description = "One page", body = Page<ApiKey>)),
    security(("bearer" = []))
)]
#[get("/api-keys")]
pub async fn list_api_keys(
    state: web::Data<AppState>,
    Person(caller): Person,
    page: Query<PageParams>,
) -> ApiResult<HttpResponse> {
    require_admin(&caller, "API keys")?;
    page.answer(
        &state,
        move |conn, window: &Window<_>| repo::list(conn, window),
        |key: &ApiKey| (key.created_at, key.id),
    )
    .await
}

/// Revoke an API key
///
/// The key stops working at once, on every instance; revoking it again changes nothing.
/// Audited. Admins, signed in as themselves.
#[utoipa::path(
    tag = "api-keys",
    operation_id = "revokeApiKey",
    params(("id" = Uuid, Path, description = "Key id")),
    responses((status = 200, description = "Revoked", body = ApiKey)),
    security(("bearer" = []))
)]
#[post("/api-keys/{id}/revoke")]
pub async fn revoke_api_key(
    state: web::Data<AppState>,
    Person(caller): Person,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    require_admin(&caller, "API keys")?;
    let (id, actor) = (id.into_inner(), caller.user_id);
    idempotent(&state, &caller, &req, &serde_json::Value::Null, || async {
        let key = state
            .db(move |conn| repo::revoke(conn, id, actor))
            .await?
            .ok_or_else(ApiError::not_found)?;
        Ok(Reply::ok(&key))
    })
    .await
}
