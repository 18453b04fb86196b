//! Credit agreements: lines carried over from an old system, revoked lines, and a
//! customer's credit as it stands.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use credo_core::Principal;
use credo_credit::agreement::{Agreement, AgreementInput, AgreementView, RevokeRefusal};
use credo_credit::application::{Application, ApplicationStatus};
use credo_credit::evaluation::EvaluationSummary;
use credo_credit::policy::CreditPolicy;
use credo_credit::review::ReviewDue;
use credo_store::credit::agreements as repo;
use credo_store::credit::applications::{self as applications, ApplicationFilter};
use credo_store::credit::{self as evaluations, Decided};
use credo_store::keyset::Window;
use credo_store::settings;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::applications::decided;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorCode, Problem};
use crate::extract::{Body, Query};
use crate::pagination::{Page, PageParams};
use crate::reply::{self, idempotent, Reply};
use crate::routes::customers::{referenced_customer, visible_customer, visible_record};
use crate::state::AppState;

fn location(id: Uuid) -> String {
    format!("/api/v1/credit/agreements/{id}")
}

fn require_credit_department(caller: &Principal) -> ApiResult<()> {
    if caller.can_decide_credit() {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "credit lines are granted and revoked by the credit department (credit managers \
             and admins)",
        ))
    }
}

/// Record a carried-over credit line
///
/// A line granted in an old system, recorded directly with the reason; it supersedes the
/// customer's active line in its currency. Within the recorder's approval limit (credit
/// managers up to the policy's limit in the company currency, 403
/// `approval_limit_exceeded` beyond; admins any amount). Audited.
#[utoipa::path(
    tag = "credit",
    operation_id = "createCreditAgreement",
    request_body = AgreementInput,
    responses(
        (status = 201, description = "Recorded", body = AgreementView, headers(("Location" = String))),
        (status = 403, description = "Your role may not grant lines (`forbidden`), or not this large (`approval_limit_exceeded`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/credit/agreements")]
pub async fn create_agreement(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    body: Body<AgreementInput>,
) -> ApiResult<HttpResponse> {
    require_credit_department(&caller)?;
    let Body { value: input, raw } = body;
    idempotent(&state, &caller, &req, &raw, || async {
        let customer =
            referenced_customer(&state, &caller, input.customer_id, "customer_id").await?;
        let today = state.today().await?;
        let recorder = caller.clone();
        reply::write(&state, move |conn| {
            let outcome = repo::carry_over(conn, customer.id, &input, &recorder, today)?;
            Ok(decided(outcome, |agreement| {
                let id = agreement.id;
                Reply::created(&AgreementView::of(agreement, today), location(id))
            }))
        })
        .await
    })
    .await
}

async fn visible_agreement(state: &AppState, caller: &Principal, id: Uuid) -> ApiResult<Agreement> {
    visible_record(
        state,
        caller,
        move |conn| repo::agreement(conn, id),
        |agreement: &Agreement| agreement.customer_id,
    )
    .await
}

/// Get a credit agreement
///
/// The line with its terms, where it came from, and whether it holds today.
#[utoipa::path(
    tag = "credit",
    operation_id = "getCreditAgreement",
    params(("id" = Uuid, Path, description = "Agreement id")),
    responses((status = 200, description = "The agreement", body = AgreementView)),
    security(("bearer" = []))
)]
#[get("/credit/agreements/{id}")]
pub async fn get_agreement(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let agreement = visible_agreement(&state, &caller, id.into_inner()).await?;
    let today = state.today().await?;
    Ok(Reply::ok(&AgreementView::of(agreement, today)).into_response())
}

/// Why a line is revoked.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeInput {
    #[schema(example = "客户涉诉,暂停授信", min_length = 1, max_length = 2000)]
    pub reason: String,
}

/// Revoke a credit agreement
///
/// The line stops holding at once (the credit check then finds no agreement). Only an
/// active line (409 `invalid_transition` otherwise). Credit managers and admins; audited.
#[utoipa::path(
    tag = "credit",
    operation_id = "revokeCreditAgreement",
    params(("id" = Uuid, Path, description = "Agreement id")),
    request_body = RevokeInput,
    responses(
        (status = 200, description = "Revoked", body = AgreementView),
        (status = 409, description = "Superseded or revoked already (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/credit/agreements/{id}/revoke")]
pub async fn revoke_agreement(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Body<RevokeInput>,
) -> ApiResult<HttpResponse> {
    require_credit_department(&caller)?;
    let Body { value: input, raw } = body;
    idempotent(&state, &caller, &req, &raw, || async {
        let agreement = visible_agreement(&state, &caller, id.into_inner()).await?;
        let (today, actor) = (state.today().await?, caller.user_id);
        reply::write(&state, move |conn| {
            Ok(
                match repo::revoke_agreement(conn, agreement.id, &input.reason, actor, today)? {
                    Decided::Done(revoked) => Ok(Reply::ok(&AgreementView::of(revoked, today))),
                    Decided::NotFound => Err(ApiError::not_found()),
                    Decided::Refused(RevokeRefusal::NotActive(status)) => Err(ApiError::new(
                        ErrorCode::InvalidTransition,
                        format!("the line is {status}; only an active line is revoked"),
                    )),
                    Decided::Refused(RevokeRefusal::Invalid(errors)) => {
                        Err(ApiError::validation(errors))
                    }
                },
            )
        })
        .await
    })
    .await
}

/// A customer's credit as it stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerCredit {
    pub customer_id: Uuid,
    /// Today in the company time zone: what `standing` is judged on.
    pub as_of: NaiveDate,
    /// The active line of each currency, with its rating and whether it holds today.
    pub agreements: Vec<AgreementView>,
    /// The latest evaluation, approved or not.
    #[schema(required = true)]
    pub latest_evaluation: Option<EvaluationSummary>,
    /// Applications not yet decided, the newest first.
    pub open_applications: Vec<Application>,
}

/// Applications a customer has open: at most this many are listed.
const OPEN_APPLICATIONS_SHOWN: i64 = 20;

/// Get a customer's credit
///
/// The customer's active line in each currency with its rating and standing, the latest
/// evaluation, and the applications not yet decided.
#[utoipa::path(
    tag = "credit",
    operation_id = "getCustomerCredit",
    params(("id" = Uuid, Path, description = "Customer id")),
    responses((status = 200, description = "The customer's credit", body = CustomerCredit)),
    security(("bearer" = []))
)]
#[get("/customers/{id}/credit")]
pub async fn get_customer_credit(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let customer = visible_customer(&state, &caller, id.into_inner()).await?;
    let today = state.today().await?;
    let customer_id = customer.id;
    let (agreements, latest, applications) = state
        .db(move |conn| {
            let agreements = repo::active_lines(conn, customer_id)?;
            let latest = evaluations::latest_evaluation(conn, customer_id)?;
            let filter = ApplicationFilter {
                scope: credo_core::Scope::All,
                customer_id: Some(customer_id),
                statuses: ApplicationStatus::UNDECIDED.to_vec(),
            };
            let window = Window {
                after: None,
                limit: OPEN_APPLICATIONS_SHOWN,
            };
            let open = applications::applications(conn, &filter, &window)?;
            Ok((agreements, latest, open))
        })
        .await?;
    let credit = CustomerCredit {
        customer_id,
        as_of: today,
        agreements: agreements
            .into_iter()
            .map(|a| AgreementView::of(a, today))
            .collect(),
        latest_evaluation: latest,
        open_applications: applications,
    };
    Ok(Reply::ok(&credit).into_response())
}

/// List credit reviews due
///
/// Customers whose credit is due for review today, by id: a line (and the rating it
/// carries) running out within the policy's notice (default 30 days) or run out, credit
/// data older than the policy allows (default 180 days) for a customer with a line, or an
/// event of a kind that calls for a review (`credit_review_due_since`). Each with its
/// reasons and the day each holds from. Within the caller's data scope.
#[utoipa::path(
    tag = "credit",
    operation_id = "listCreditReviewsDue",
    params(PageParams),
    responses((status = 200, description = "One page", body = Page<ReviewDue>)),
    security(("bearer" = []))
)]
#[get("/credit/reviews/due")]
pub async fn reviews_due(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    page: Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let (today, scope) = (state.today().await?, caller.scope());
    page.answer(
        &state,
        move |conn, window| {
            let policy = settings::document::<CreditPolicy>(conn)?.settings.reviews;
            repo::reviews_due(conn, &scope, &policy, today, window)
        },
        |due: &ReviewDue| ((), due.customer_id),
    )
    .await
}
