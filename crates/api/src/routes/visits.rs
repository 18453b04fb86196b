//! Field visits: planned, checked in and out on site, or posted whole after the fact by a
//! device that was offline; and each agent's agenda.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use credo_core::FieldCode;
use credo_core::Principal;
use credo_customers::visit::{CheckInInput, CheckOutInput, VisitStepError};
use credo_customers::{Visit, VisitInput};
use credo_store::contacts;
use credo_store::visits::{self as repo, CreateVisitOutcome};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorCode, Problem};
use crate::export::Export;
use crate::extract::{self, Body, Query};
use crate::pagination::{Page, PageParams};
use crate::reply::{self, idempotent, Reply};
use crate::routes::customers::{referenced_customer, require_writer, visible_record};
use crate::routes::directory::{assignable_user, sees_customer};
use crate::state::AppState;

fn location(id: Uuid) -> String {
    format!("/api/v1/visits/{id}")
}

/// A visit whose customer the caller may see; anything else is 404.
async fn visible_visit(state: &AppState, caller: &Principal, id: Uuid) -> ApiResult<Visit> {
    visible_record(
        state,
        caller,
        move |conn| repo::get(conn, id),
        |visit: &Visit| visit.customer_id,
    )
    .await
}

/// Plan a visit, or post one that happened offline
///
/// A plan names the customer, when and why (and optionally the contact and another agent in
/// the caller's scope). A device that was offline posts the whole visit with the id it gave
/// it and its own `check_in`/`check_out` timestamps, which are kept; posting the same visit
/// again answers 200 with the stored one, a different visit under a taken id is 409.
#[utoipa::path(
    tag = "activity",
    operation_id = "createVisit",
    request_body = VisitInput,
    responses(
        (status = 201, description = "Created", body = Visit, headers(("ETag" = String), ("Location" = String))),
        (status = 200, description = "Posted before: the stored visit", body = Visit, headers(("ETag" = String), ("Location" = String))),
        (status = 409, description = "The id belongs to another visit (`id_conflict`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/visits")]
pub async fn create_visit(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    body: Body<VisitInput>,
) -> ApiResult<HttpResponse> {
    require_writer(&caller)?;
    let Body { value: input, raw } = body;
    idempotent(&state, &caller, &req, &raw, || async {
        let plan = input
            .validate(credo_store::now())
            .map_err(ApiError::validation)?;
        let customer =
            referenced_customer(&state, &caller, plan.customer_id, "customer_id").await?;
        let agent = assignable_user(
            &state,
            &caller,
            input.agent_id.unwrap_or(caller.user_id),
            "agent_id",
            "you may plan visits for yourself and people in your data scope",
        )
        .await?;
        sees_customer(&agent, &customer, "agent_id")?;
        if let Some(contact) = plan.contact_id {
            let known = state
                .db(move |conn| contacts::live_ids(conn, customer.id, &[contact]))
                .await?;
            if known.is_empty() {
                return Err(ApiError::field(
                    "contact_id",
                    FieldCode::UnknownContact,
                    "no live contact of this customer has this id",
                ));
            }
        }
        let id = input.id.unwrap_or_else(Uuid::now_v7);
        let (agent_id, actor) = (agent.id, caller.user_id);
        reply::write(&state, move |conn| {
            Ok(
                match repo::create(conn, id, agent_id, plan.clone(), actor)? {
                    CreateVisitOutcome::Created(visit) => {
                        Ok(Reply::created(&visit, location(visit.id))
                            .with_version(visit.stamps.version))
                    }
                    CreateVisitOutcome::Replayed(visit) => {
                        let mut reply = Reply::ok(&visit).with_version(visit.stamps.version);
                        reply.location = Some(location(visit.id));
                        Ok(reply)
                    }
                    CreateVisitOutcome::IdTaken(_) => Err(ApiError::new(
                        ErrorCode::IdConflict,
                        "another visit has this id",
                    )),
                },
            )
        })
        .await
    })
    .await
}

/// Get a visit
///
/// A field visit with its plan, check-in and check-out positions and report, and its
/// `ETag`; visible with the visit's customer.
#[utoipa::path(
    tag = "activity",
    operation_id = "getVisit",
    params(("id" = Uuid, Path, description = "Visit id")),
    responses((status = 200, description = "The visit", body = Visit, headers(("ETag" = String)))),
    security(("bearer" = []))
)]
#[get("/visits/{id}")]
pub async fn get_visit(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let visit = visible_visit(&state, &caller, id.into_inner()).await?;
    Ok(Reply::ok(&visit)
        .with_version(visit.stamps.version)
        .into_response())
}

async fn step(
    state: &AppState,
    caller: &Principal,
    req: &HttpRequest,
    id: Uuid,
    raw: &serde_json::Value,
    mut apply: impl FnMut(&Visit) -> Result<Visit, VisitStepError> + Send + 'static,
) -> ApiResult<HttpResponse> {
    require_writer(caller)?;
    let expected = extract::optional_if_match(req)?;
    idempotent(state, caller, req, raw, || async {
        let visit = visible_visit(state, caller, id).await?;
        let actor = caller.user_id;
        reply::write(state, move |conn| {
            Ok(reply::updated(
                repo::step(conn, visit.id, &expected, &mut apply, actor)?,
                "visit",
                |v| v.stamps.version,
                |refusal| match refusal {
                    VisitStepError::NotAllowed(status) => ApiError::new(
                        ErrorCode::InvalidTransition,
                        format!("the visit is {}", status.as_str()),
                    ),
                    VisitStepError::Invalid(errors) => ApiError::validation(errors),
                },
            ))
        })
        .await
    })
    .await
}

/// Check in at the customer
///
/// `planned -> checked_in` with the device's time and position.
#[utoipa::path(
    tag = "activity",
    operation_id = "checkInVisit",
    params(
        ("id" = Uuid, Path, description = "Visit id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version you move"),
    ),
    request_body = CheckInInput,
    responses(
        (status = 200, description = "Checked in", body = Visit, headers(("ETag" = String))),
        (status = 409, description = "Not planned (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/visits/{id}/check-in")]
pub async fn check_in(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Body<CheckInInput>,
) -> ApiResult<HttpResponse> {
    let Body { value: input, raw } = body;
    let now = credo_store::now();
    step(&state, &caller, &req, id.into_inner(), &raw, move |v| {
        v.check_in(&input, now)
    })
    .await
}

/// Check out and report the visit
///
/// `checked_in -> completed` with the device's time and position, the outcome and the next
/// step.
#[utoipa::path(
    tag = "activity",
    operation_id = "checkOutVisit",
    params(
        ("id" = Uuid, Path, description = "Visit id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version you move"),
    ),
    request_body = CheckOutInput,
    responses(
        (status = 200, description = "Completed", body = Visit, headers(("ETag" = String))),
        (status = 409, description = "Not checked in (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/visits/{id}/check-out")]
pub async fn check_out(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Body<CheckOutInput>,
) -> ApiResult<HttpResponse> {
    let Body { value: input, raw } = body;
    let now = credo_store::now();
    step(&state, &caller, &req, id.into_inner(), &raw, move |v| {
        v.check_out(&input, now)
    })
    .await
}

/// Cancel a planned visit
///
/// Only a planned visit is cancelled; a started or finished one is 409
/// `invalid_transition`.
#[utoipa::path(
    tag = "activity",
    operation_id = "cancelVisit",
    params(
        ("id" = Uuid, Path, description = "Visit id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version you cancel"),
    ),
    responses(
        (status = 200, description = "Cancelled", body = Visit, headers(("ETag" = String))),
        (status = 409, description = "Not planned (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/visits/{id}/cancel")]
pub async fn cancel_visit(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let raw = serde_json::Value::Null;
    step(&state, &caller, &req, id.into_inner(), &raw, Visit::cancel).await
}

/// Longest agenda window.
const MAX_AGENDA_DAYS: i64 = 92;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AgendaParams {
    /// Start of the window (RFC 3339, inclusive); defaults to now.
    pub from: Option<DateTime<Utc>>,
    /// End of the window (exclusive); defaults to 7 days after `from`, at most 92 days.
    pub to: Option<DateTime<Utc>>,
}

/// My visit agenda
///
/// The caller's visits planned in the window, earliest first, of the customers the caller
/// sees (a visit of a customer handed over to someone else leaves the agenda).
#[utoipa::path(
    tag = "activity",
    operation_id = "listMyVisits",
    params(AgendaParams, PageParams),
    responses((status = 200, description = "Visits, earliest first", body = Page<Visit>)),
    security(("bearer" = []))
)]
#[get("/me/visits")]
pub async fn my_visits(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    params: Query<AgendaParams>,
    page: Query<PageParams>,
    export: Export,
) -> ApiResult<HttpResponse> {
    let from = params.from.unwrap_or_else(Utc::now);
    let to = params.to.unwrap_or(from + Duration::days(7));
    if to <= from || to - from > Duration::days(MAX_AGENDA_DAYS) {
        return Err(extract::invalid_query(
            "to",
            credo_core::FieldError::new(
                "",
                FieldCode::OutOfRange,
                format!("after from, within {MAX_AGENDA_DAYS} days"),
            ),
        ));
    }
    let agenda = repo::AgendaQuery {
        agent_id: caller.user_id,
        scope: caller.scope(),
        from,
        to,
    };
    page.answer_or_export(
        &state,
        export,
        move |conn, window| repo::agenda(conn, &agenda, window),
        |visit| (visit.planned_at, visit.id),
    )
    .await
}
