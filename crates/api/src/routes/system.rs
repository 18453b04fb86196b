//! Liveness, readiness and the OpenAPI document.

use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::reply::Reply;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: String,
}

/// The generated OpenAPI document, rendered once at start.
pub struct SpecJson(pub String);

/// Is the process up
///
/// 200 while the process runs, whatever the database does: a liveness probe.
#[utoipa::path(
    tag = "system",
    operation_id = "health",
    responses((status = 200, description = "The process is up", body = Health)),
    security(())
)]
#[get("/health")]
pub async fn health() -> HttpResponse {
    Reply::ok(&Health {
        status: "ok".into(),
    })
    .into_response()
}

/// Can the server reach its database
///
/// 200 when the database answers, 503 when it does not: a readiness probe.
#[utoipa::path(
    tag = "system",
    operation_id = "ready",
    responses(
        (status = 200, description = "The database answers", body = Health),
        (status = 503, description = "The database cannot be reached (`database_unavailable`)", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(())
)]
#[get("/ready")]
pub async fn ready(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let db = state.db.clone();
    if web::block(move || db.ping()).await? {
        Ok(Reply::ok(&Health {
            status: "ready".into(),
        })
        .into_response())
    } else {
        Err(ApiError::new(
            ErrorCode::DatabaseUnavailable,
            "the database does not answer",
        ))
    }
}

/// This OpenAPI document
///
/// The OpenAPI 3.1 document this server implements, equal to `openapi/openapi.json` in the
/// repository; browsable at `/docs`.
#[utoipa::path(
    tag = "system",
    operation_id = "getOpenApi",
    responses((status = 200, description = "The OpenAPI 3.1 document of this server", content_type = "application/json", body = Object)),
    security(())
)]
#[get("/api/v1/openapi.json")]
pub async fn openapi_json(spec: web::Data<SpecJson>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(spec.0.clone())
}
