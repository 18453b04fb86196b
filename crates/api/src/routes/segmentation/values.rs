//! A customer's value: why it has its grade, its grade history, and manual overrides with
//! maker-checker approval.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use credo_core::audit::AuditEntry;
use credo_segmentation::loss::{Loss, LossInput};
use credo_segmentation::overrides::{
    may_override, ApprovalRefusal, GradeOverride, GradeOverrideInput,
};
use credo_segmentation::policy::SegmentationPolicy;
use credo_segmentation::record::{CustomerValue, GradeEntry};
use credo_store::credit::Decided;
use credo_store::keyset::Window;
use credo_store::segmentation as repo;
use credo_store::settings;
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorCode, Problem};
use crate::extract::{Body, Query};
use crate::pagination::{Page, PageParams};
use crate::reply::{self, idempotent, Reply};
use crate::routes::customers::{require_writer, visible_customer};
use crate::state::AppState;

/// Get a customer's value
///
/// Explains the grade in force: the latest finished run's ABC class, rank and measure; the
/// twelve-indicator score with each indicator's raw input, score, weight and a note that
/// names missing inputs; RFM; lifetime value and churn (frequency, recency and T in the
/// model's unit, P(alive), churn probability, expected purchases over the horizon, expected
/// spend per purchase and lifetime value in minor units of `currency`); the value x
/// potential quadrant with its budget guidance; the tier and its service; and the approved
/// override in force, whose grade then is the grade. The same data gives the same grade in
/// every unit, whoever owns the customer. 404 before any run graded the customer.
#[utoipa::path(
    tag = "segmentation",
    operation_id = "getCustomerValue",
    params(("id" = Uuid, Path, description = "Customer id")),
    responses((status = 200, description = "The customer's value", body = CustomerValue)),
    security(("bearer" = []))
)]
#[get("/customers/{id}/value")]
pub async fn get_value(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let customer = visible_customer(&state, &caller, id.into_inner()).await?;
    let today = state.today().await?;
    let value = state
        .db(move |conn| repo::value(conn, customer.id, today))
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Reply::ok(&value).into_response())
}

/// Record why a customer was lost
///
/// The reason (`dissatisfied`, `competitor`, `negative_value`, `involuntary`), a note and the
/// day (today or earlier); answered with the treatment the segmentation policy recommends for
/// the reason, which the customer's value shows from then on. Whoever may change the
/// customer's file; audited. A later record replaces the reason.
#[utoipa::path(
    tag = "segmentation",
    operation_id = "recordCustomerLoss",
    params(("id" = Uuid, Path, description = "Customer id")),
    request_body = LossInput,
    responses((status = 201, description = "Recorded", body = Loss)),
    security(("bearer" = []))
)]
#[post("/customers/{id}/loss")]
pub async fn record_loss(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Body<LossInput>,
) -> ApiResult<HttpResponse> {
    require_writer(&caller)?;
    let customer = visible_customer(&state, &caller, id.into_inner()).await?;
    let Body { value: input, raw } = body;
    idempotent(&state, &caller, &req, &raw, || async {
        let today = state.today().await?;
        let record = input.validate(today).map_err(ApiError::validation)?;
        let (customer_id, actor) = (customer.id, caller.user_id);
        reply::write(&state, move |conn| {
            let loss = repo::record_loss(conn, customer_id, record.clone(), actor)?;
            let location = format!("/api/v1/customers/{customer_id}/value");
            Ok(Ok(Reply::created(&loss, location)))
        })
        .await
    })
    .await
}

/// Get a customer's grade history
///
/// The grade each finished run gave the customer, the latest day first, a page at a time
/// (the overrides asked for are `GET /customers/{id}/grade-overrides`).
#[utoipa::path(
    tag = "segmentation",
    operation_id = "getCustomerGradeHistory",
    params(("id" = Uuid, Path, description = "Customer id"), PageParams),
    responses((status = 200, description = "One page", body = Page<GradeEntry>)),
    security(("bearer" = []))
)]
#[get("/customers/{id}/grades")]
pub async fn get_grade_history(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
    page: Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let customer_id = visible_customer(&state, &caller, id.into_inner()).await?.id;
    page.answer(
        &state,
        move |conn, window: &Window<NaiveDate>| repo::grade_history(conn, customer_id, window),
        |entry: &GradeEntry| (entry.as_of, entry.run_id),
    )
    .await
}

/// List a customer's grade overrides
///
/// Every override asked for the customer, approved, pending or expired, the latest asked
/// for first, a page at a time.
#[utoipa::path(
    tag = "segmentation",
    operation_id = "listCustomerGradeOverrides",
    params(("id" = Uuid, Path, description = "Customer id"), PageParams),
    responses((status = 200, description = "One page", body = Page<GradeOverride>)),
    security(("bearer" = []))
)]
#[get("/customers/{id}/grade-overrides")]
pub async fn list_grade_overrides(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
    page: Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let customer_id = visible_customer(&state, &caller, id.into_inner()).await?.id;
    page.answer(
        &state,
        move |conn, window: &Window<DateTime<Utc>>| repo::overrides_page(conn, customer_id, window),
        |o: &GradeOverride| (o.requested_at, o.id),
    )
    .await
}

/// Ask for a grade override
///
/// A manual grade for a customer the caller sees, with a reason and a last day; it takes
/// effect once someone else approves it. Admins, credit managers and unit managers; audited.
#[utoipa::path(
    tag = "segmentation",
    operation_id = "requestGradeOverride",
    request_body = GradeOverrideInput,
    responses((status = 201, description = "Pending approval", body = GradeOverride, headers(("Location" = String)))),
    security(("bearer" = []))
)]
#[post("/segmentation/overrides")]
pub async fn request_override(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    body: Body<GradeOverrideInput>,
) -> ApiResult<HttpResponse> {
    if !may_override(&caller) {
        return Err(ApiError::forbidden(
            "overrides are asked for by admins, credit managers and unit managers",
        ));
    }
    let Body { value: input, raw } = body;
    idempotent(&state, &caller, &req, &raw, || async {
        if visible_customer(&state, &caller, input.customer_id)
            .await
            .is_err()
        {
            return Err(ApiError::field(
                "customer_id",
                credo_core::FieldCode::NotFound,
                "no customer with this id in your data scope",
            ));
        }
        let today = state.today().await?;
        let policy = state
            .db(settings::document::<SegmentationPolicy>)
            .await?
            .settings;
        let request = input
            .validate(&policy, today)
            .map_err(ApiError::validation)?;
        let actor = caller.user_id;
        reply::write(&state, move |conn| {
            let asked = repo::request_override(conn, request.clone(), actor)?;
            let location = format!("/api/v1/segmentation/overrides/{}", asked.id);
            Ok(Ok(Reply::created(&asked, location)))
        })
        .await
    })
    .await
}

/// An override of a customer the caller sees; anything else is 404.
async fn visible_override(
    state: &AppState,
    caller: &credo_core::Principal,
    id: Uuid,
) -> ApiResult<GradeOverride> {
    let found = state
        .db(move |conn| repo::get_override(conn, id))
        .await?
        .ok_or_else(ApiError::not_found)?;
    visible_customer(state, caller, found.customer_id).await?;
    Ok(found)
}

/// Get a grade override
///
/// Pending or approved, with who asked, who approved and until when it holds; for a
/// customer the caller sees.
#[utoipa::path(
    tag = "segmentation",
    operation_id = "getGradeOverride",
    params(("id" = Uuid, Path, description = "Override id")),
    responses((status = 200, description = "The override", body = GradeOverride)),
    security(("bearer" = []))
)]
#[get("/segmentation/overrides/{id}")]
pub async fn get_override(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let found = visible_override(&state, &caller, id.into_inner()).await?;
    Ok(Reply::ok(&found).into_response())
}

/// Get a grade override's audit trail
///
/// Who asked for the override and who approved it, when, with the fields each step set;
/// oldest first, for a customer the caller sees.
#[utoipa::path(
    tag = "segmentation",
    operation_id = "getGradeOverrideHistory",
    params(("id" = Uuid, Path, description = "Override id"), PageParams),
    responses((status = 200, description = "Audit entries, oldest first", body = Page<AuditEntry>)),
    security(("bearer" = []))
)]
#[get("/segmentation/overrides/{id}/history")]
pub async fn get_override_history(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
    page: Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let found = visible_override(&state, &caller, id.into_inner()).await?;
    page.answer(
        &state,
        move |conn, window| repo::override_history(conn, found.id, window),
        |entry| (entry.at, entry.id),
    )
    .await
}

/// Approve a grade override
///
/// Puts the override in force until its last day. Someone other than who asked (403
/// `same_person`): an admin, a credit manager or a unit manager who sees the customer.
/// Approving twice or after it expired is 409 `invalid_transition`.
#[utoipa::path(
    tag = "segmentation",
    operation_id = "approveGradeOverride",
    params(("id" = Uuid, Path, description = "Override id")),
    responses(
        (status = 200, description = "Approved", body = GradeOverride),
        (status = 403, description = "Your role may not approve (`forbidden`), or you asked (`same_person`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Approved already or expired (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/segmentation/overrides/{id}/approve")]
pub async fn approve_override(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let today = state.today().await?;
    visible_override(&state, &caller, id).await?;
    let approver = caller.clone();
    let reply = reply::write(&state, move |conn| {
        Ok(match repo::approve_override(conn, id, &approver, today)? {
            Decided::Done(approved) => Ok(Reply::ok(&approved)),
            Decided::NotFound => Err(ApiError::not_found()),
            Decided::Refused(refusal) => Err(match refusal {
                ApprovalRefusal::Forbidden => ApiError::forbidden(
                    "overrides are approved by admins, credit managers and unit managers",
                ),
                ApprovalRefusal::SamePerson => ApiError::new(
                    ErrorCode::SamePerson,
                    "someone other than who asked approves the override",
                ),
                ApprovalRefusal::AlreadyApproved => ApiError::new(
                    ErrorCode::InvalidTransition,
                    "the override is approved already",
                ),
                ApprovalRefusal::Expired => ApiError::new(
                    ErrorCode::InvalidTransition,
                    "the override expired before it was approved",
                ),
            }),
        })
    })
    .await?;
    Ok(reply.into_response())
}
