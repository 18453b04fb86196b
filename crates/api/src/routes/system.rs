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

/// docs/API.md, compiled in: the conventions reach an integrator who has only the server.
const CONVENTIONS: &str = include_str!("../../../../docs/API.md");

/// The API's conventions
///
/// The rules every endpoint follows (URLs, authentication and authorization, separation of
/// duties, locks on money, errors, paging, writing with ETags and idempotency keys, values),
/// as Markdown: `docs/API.md` of the release this server runs.
#[utoipa::path(
    tag = "system",
    operation_id = "getConventions",
    responses((status = 200, description = "docs/API.md", content_type = "text/markdown", body = String)),
    security(())
)]
#[get("/docs/conventions")]
pub async fn conventions() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/markdown; charset=utf-8")
        .body(CONVENTIONS)
}

/// Every problem code (`code`) with its HTTP status and title, and every field rule
/// (`errors[].code`), as Markdown, from the tables the server answers by.
fn error_codes_page() -> String {
    let mut page = String::from(
        "# Credo problem codes\n\nEvery error is `application/problem+json` with one of these \
         `code`s (stable; `type` is `urn:credo:problem:` and the code).\n\n\
         | code | status | title |\n| --- | --- | --- |\n",
    );
    for code in ErrorCode::ALL {
        page.push_str(&format!(
            "| `{}` | {} | {} |\n",
            code.as_str(),
            code.status().as_u16(),
            code.title()
        ));
    }
    page.push_str(
        "\n## Field rules\n\nA `validation_failed` problem lists `errors[]`, each with the JSON \
         path of the offending `field` and one of these `code`s:\n\n",
    );
    for code in credo_core::FieldCode::ALL {
        page.push_str(&format!("- `{}`\n", code.as_str()));
    }
    page
}

/// The problem codes
///
/// Every `code` a problem answer carries, with its HTTP status and title, and every field
/// rule of `errors[].code`, as Markdown, generated from the server's own tables.
#[utoipa::path(
    tag = "system",
    operation_id = "getProblemCodes",
    responses((status = 200, description = "The problem and field codes", content_type = "text/markdown", body = String)),
    security(())
)]
#[get("/docs/errors")]
pub async fn problem_codes() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/markdown; charset=utf-8")
        .body(error_codes_page())
}
