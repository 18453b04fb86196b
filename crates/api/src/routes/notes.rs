//! Source-tagged notes and subjective assessments: every department's view of a customer,
//! side by side.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use credo_customers::{AssessmentInput, AssessmentRecord, Department, Note, NoteInput};
use credo_store::activity;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, Query};
use crate::pagination::{Page, PageParams};
use crate::reply::{self, idempotent, Reply};
use crate::routes::customers::{require_writer, visible_customer};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NoteListParams {
    /// Only notes of this department.
    #[param(inline)]
    pub department: Option<Department>,
}

/// List a customer's notes
///
/// Notes tagged with the department that wrote them, newest first; `department` gives one
/// department's notes.
#[utoipa::path(
    tag = "notes",
    operation_id = "listNotes",
    params(("id" = Uuid, Path, description = "Customer id"), NoteListParams, PageParams),
    responses((status = 200, description = "Notes, newest first", body = Page<Note>)),
    security(("bearer" = []))
)]
#[get("/customers/{id}/notes")]
pub async fn list_notes(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
    params: Query<NoteListParams>,
    page: Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let customer = visible_customer(&state, &caller, id.into_inner()).await?;
    let department = params.department;
    page.answer(
        &state,
        move |conn, window| activity::notes(conn, customer.id, department, window),
        |note| (note.created_at, note.id),
    )
    .await
}

/// Add a note to a customer
///
/// A free-text note tagged with the writing department. While the customer is archived,
/// 409 `customer_archived`.
#[utoipa::path(
    tag = "notes",
    operation_id = "createNote",
    params(("id" = Uuid, Path, description = "Customer id")),
    request_body = NoteInput,
    responses((status = 201, description = "Created", body = Note, headers(("Location" = String)))),
    security(("bearer" = []))
)]
#[post("/customers/{id}/notes")]
pub async fn create_note(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Body<NoteInput>,
) -> ApiResult<HttpResponse> {
    require_writer(&caller)?;
    let customer_id = id.into_inner();
    let Body { value: input, raw } = body;
    idempotent(&state, &caller, &req, &raw, || async {
        let customer = visible_customer(&state, &caller, customer_id).await?;
        let body = input.validated_body().map_err(ApiError::validation)?;
        let (department, author) = (input.department, caller.user_id);
        reply::write(&state, move |conn| {
            let note = activity::add_note(conn, customer.id, department, &body, author)?;
            Ok(Ok(Reply::created(
                &note,
                format!("/api/v1/customers/{customer_id}/notes"),
            )))
        })
        .await
    })
    .await
}

/// List a customer's assessments
///
/// Subjective assessments by department and topic (strategy, management, growth,
/// cooperation, reputation, payment willingness), newest first.
#[utoipa::path(
    tag = "notes",
    operation_id = "listAssessments",
    params(("id" = Uuid, Path, description = "Customer id"), PageParams),
    responses((status = 200, description = "Assessments, newest first", body = Page<AssessmentRecord>)),
    security(("bearer" = []))
)]
#[get("/customers/{id}/assessments")]
pub async fn list_assessments(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
    page: Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let customer = visible_customer(&state, &caller, id.into_inner()).await?;
    page.answer(
        &state,
        move |conn, window| activity::assessments(conn, customer.id, window),
        |assessment| (assessment.created_at, assessment.id),
    )
    .await
}

/// Record a subjective assessment of a customer
///
/// Structured judgements that objective data misses (the controller's strategy, management
/// capability, growth potential ...), rated 1 to 5 with the author's department.
#[utoipa::path(
    tag = "notes",
    operation_id = "createAssessment",
    params(("id" = Uuid, Path, description = "Customer id")),
    request_body = AssessmentInput,
    responses((status = 201, description = "Created", body = AssessmentRecord, headers(("Location" = String)))),
    security(("bearer" = []))
)]
#[post("/customers/{id}/assessments")]
pub async fn create_assessment(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Body<AssessmentInput>,
) -> ApiResult<HttpResponse> {
    require_writer(&caller)?;
    let customer_id = id.into_inner();
    let Body { value: input, raw } = body;
    idempotent(&state, &caller, &req, &raw, || async {
        let customer = visible_customer(&state, &caller, customer_id).await?;
        let assessment = input
            .validate(state.today().await?)
            .map_err(ApiError::validation)?;
        let author = caller.user_id;
        reply::write(&state, move |conn| {
            let record = activity::add_assessment(conn, customer.id, assessment.clone(), author)?;
            Ok(Ok(Reply::created(
                &record,
                format!("/api/v1/customers/{customer_id}/assessments"),
            )))
        })
        .await
    })
    .await
}
