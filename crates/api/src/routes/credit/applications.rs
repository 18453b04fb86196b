//! Credit applications: a sales unit applies, its head pre-reviews, the credit department
//! evaluates, and someone other than the evaluator approves (the line becomes an agreement)
//! or rejects.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use credo_core::{Principal, Role};
use credo_credit::application::{
    Application, ApplicationInput, ApplicationStatus, ApprovalInput, StepRefusal,
};
use credo_store::credit::applications::{self as repo, ApplicationFilter, Step};
use credo_store::credit::Decided;
use credo_store::keyset::Window;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorCode, Problem};
use crate::extract::{Body, OptionalBody, Query};
use crate::pagination::{Page, PageParams};
use crate::reply::{self, idempotent, Reply};
use crate::routes::customers::{referenced_customer, visible_record};
use crate::state::AppState;

fn location(id: Uuid) -> String {
    format!("/api/v1/credit/applications/{id}")
}

/// The answer to a credit write that may be refused by the workflow's rules.
pub(super) fn decided<T>(
    outcome: Decided<T, StepRefusal>,
    ok: impl FnOnce(T) -> Reply,
) -> ApiResult<Reply> {
    match outcome {
        Decided::Done(record) => Ok(ok(record)),
        Decided::NotFound => Err(ApiError::not_found()),
        Decided::Refused(refusal) => Err(match refusal {
            StepRefusal::Forbidden(why) => ApiError::forbidden(why),
            StepRefusal::NotAllowed { from, to } => ApiError::new(
                ErrorCode::InvalidTransition,
                format!("an application {from} does not move to {to}"),
            ),
            StepRefusal::SamePerson => ApiError::new(
                ErrorCode::SamePerson,
                "whoever evaluated the line does not approve it",
            ),
            StepRefusal::OverApprovalLimit { up_to_minor } => ApiError::new(
                ErrorCode::ApprovalLimitExceeded,
                format!(
                    "the line is above what your role approves ({up_to_minor} minor units of \
                     the company currency)"
                ),
            ),
            StepRefusal::Invalid(errors) => ApiError::validation(errors),
        }),
    }
}

/// Apply for a credit line
///
/// A sales unit asks for a line for one of its customers: the amount, currency, credit
/// term and reason. `green_channel` (an urgent group, project or government sale) lets the
/// customer buy before the evaluation, flagged until evaluated, and skips the pre-review.
/// Admins, unit managers and agents, for customers they see; audited.
#[utoipa::path(
    tag = "credit",
    operation_id = "createCreditApplication",
    request_body = ApplicationInput,
    responses((status = 201, description = "Submitted", body = Application, headers(("Location" = String)))),
    security(("bearer" = []))
)]
#[post("/credit/applications")]
pub async fn create_application(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    body: Body<ApplicationInput>,
) -> ApiResult<HttpResponse> {
    if !matches!(caller.role, Role::Admin | Role::UnitManager | Role::Agent) {
        return Err(ApiError::forbidden(
            "credit lines are applied for by the sales units (agents, unit managers, admins)",
        ));
    }
    let Body { value: input, raw } = body;
    idempotent(&state, &caller, &req, &raw, || async {
        let customer =
            referenced_customer(&state, &caller, input.customer_id, "customer_id").await?;
        let new = input.validate().map_err(ApiError::validation)?;
        let actor = caller.user_id;
        reply::write(&state, move |conn| {
            let application = repo::submit(conn, customer.id, new.clone(), actor)?;
            Ok(Ok(Reply::created(&application, location(application.id))))
        })
        .await
    })
    .await
}

/// An application whose customer the caller may see; anything else is 404.
async fn visible_application(
    state: &AppState,
    caller: &Principal,
    id: Uuid,
) -> ApiResult<Application> {
    visible_record(
        state,
        caller,
        move |conn| repo::application(conn, id),
        |application: &Application| application.customer_id,
    )
    .await
}

/// Get a credit application
///
/// The application with every step taken: who, when, with what note.
#[utoipa::path(
    tag = "credit",
    operation_id = "getCreditApplication",
    params(("id" = Uuid, Path, description = "Application id")),
    responses((status = 200, description = "The application", body = Application)),
    security(("bearer" = []))
)]
#[get("/credit/applications/{id}")]
pub async fn get_application(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let application = visible_application(&state, &caller, id.into_inner()).await?;
    Ok(Reply::ok(&application).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApplicationListParams {
    pub customer_id: Option<Uuid>,
    /// Only applications at this step: `pre_reviewed` is the credit department's queue.
    #[param(inline)]
    pub status: Option<ApplicationStatus>,
}

/// List credit applications
///
/// Newest first, keyset-paginated, within the caller's data scope.
#[utoipa::path(
    tag = "credit",
    operation_id = "listCreditApplications",
    params(ApplicationListParams, PageParams),
    responses((status = 200, description = "One page", body = Page<Application>)),
    security(("bearer" = []))
)]
#[get("/credit/applications")]
pub async fn list_applications(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    params: Query<ApplicationListParams>,
    page: Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let filter = ApplicationFilter {
        scope: caller.scope(),
        customer_id: params.customer_id,
        statuses: params.status.into_iter().collect(),
    };
    page.answer(
        &state,
        move |conn, window: &Window<_>| repo::applications(conn, &filter, window),
        |application: &Application| (application.created_at, application.id),
    )
    .await
}

/// Takes a step on an application the caller sees; the rules decide under the customer's
/// lock.
async fn step(
    state: web::Data<AppState>,
    caller: Principal,
    req: HttpRequest,
    id: Uuid,
    raw: serde_json::Value,
    step: Step,
) -> ApiResult<HttpResponse> {
    idempotent(&state, &caller, &req, &raw, || async {
        let application = visible_application(&state, &caller, id).await?;
        let (today, actor) = (state.today().await?, caller.clone());
        reply::write(&state, move |conn| {
            let outcome = repo::take_step(conn, application.id, step.clone(), &actor, today)?;
            Ok(decided(outcome, |application| Reply::ok(&application)))
        })
        .await
    })
    .await
}

/// A step's optional note.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepNote {
    #[schema(example = "客户经营稳定,同意上报", max_length = 2000)]
    pub note: Option<String>,
}

/// The evaluation the credit department attaches.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluateInput {
    /// An evaluation of the application's customer, in its currency, made for this
    /// application or for none.
    pub evaluation_id: Uuid,
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

/// Why an application is rejected.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectInput {
    #[schema(example = "财务报表显示资不抵债", min_length = 1, max_length = 2000)]
    pub reason: String,
}

/// Pre-review a credit application
///
/// The head of the application's sales unit (or an admin) passes it on to the credit
/// department: `submitted -> pre_reviewed`. Illegal moves are 409 `invalid_transition`.
#[utoipa::path(
    tag = "credit",
    operation_id = "preReviewCreditApplication",
    params(("id" = Uuid, Path, description = "Application id")),
    request_body(content = Option<StepNote>, description = "An optional note"),
    responses(
        (status = 200, description = "Pre-reviewed", body = Application),
        (status = 409, description = "Not from its status (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/credit/applications/{id}/pre-review")]
pub async fn pre_review_application(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    OptionalBody(body): OptionalBody<StepNote>,
) -> ApiResult<HttpResponse> {
    let Body { value, raw } = body;
    let step_taken = Step::PreReview { note: value.note };
    step(state, caller, req, id.into_inner(), raw, step_taken).await
}

/// Evaluate a credit application
///
/// The credit department attaches its evaluation (`POST /credit/evaluations`) of the
/// customer in the application's currency: `pre_reviewed -> evaluated` (a green-channel
/// application also from `submitted`). Credit managers and admins.
#[utoipa::path(
    tag = "credit",
    operation_id = "evaluateCreditApplication",
    params(("id" = Uuid, Path, description = "Application id")),
    request_body = EvaluateInput,
    responses(
        (status = 200, description = "Evaluated", body = Application),
        (status = 409, description = "Not from its status (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/credit/applications/{id}/evaluate")]
pub async fn evaluate_application(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Body<EvaluateInput>,
) -> ApiResult<HttpResponse> {
    let Body { value, raw } = body;
    let step_taken = Step::Evaluate {
        evaluation_id: value.evaluation_id,
        note: value.note,
    };
    step(state, caller, req, id.into_inner(), raw, step_taken).await
}

/// Approve a credit application
///
/// `evaluated -> approved`: the line becomes the customer's active agreement in its
/// currency (the evaluation's final limit, the term applied for, the validity and
/// guarantees given), superseding the one before; the approver becomes the evaluation's
/// reviewer. Never by whoever evaluated (403 `same_person`); credit managers up to the
/// policy's approval limit (default 5,000,000 in the company currency, 403
/// `approval_limit_exceeded` beyond), admins any amount.
#[utoipa::path(
    tag = "credit",
    operation_id = "approveCreditApplication",
    params(("id" = Uuid, Path, description = "Application id")),
    request_body(content = Option<ApprovalInput>, description = "Validity, guarantees, a note"),
    responses(
        (status = 200, description = "Approved; `agreement_id` names the line", body = Application),
        (status = 403, description = "Your role may not approve (`forbidden`), you evaluated (`same_person`), or the line is above your limit (`approval_limit_exceeded`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not from its status (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/credit/applications/{id}/approve")]
pub async fn approve_application(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    OptionalBody(body): OptionalBody<ApprovalInput>,
) -> ApiResult<HttpResponse> {
    let Body { value, raw } = body;
    step(
        state,
        caller,
        req,
        id.into_inner(),
        raw,
        Step::Approve(value),
    )
    .await
}

/// Reject a credit application
///
/// Ends it with the reason: the credit department at any step before the decision, the
/// unit head before the pre-review.
#[utoipa::path(
    tag = "credit",
    operation_id = "rejectCreditApplication",
    params(("id" = Uuid, Path, description = "Application id")),
    request_body = RejectInput,
    responses(
        (status = 200, description = "Rejected", body = Application),
        (status = 409, description = "Decided already (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/credit/applications/{id}/reject")]
pub async fn reject_application(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Body<RejectInput>,
) -> ApiResult<HttpResponse> {
    let Body { value, raw } = body;
    let step_taken = Step::Reject {
        reason: value.reason,
    };
    step(state, caller, req, id.into_inner(), raw, step_taken).await
}
