//! New-product trials of a customer: inquiry, sample, then an order (which names the trial)
//! or dropped. Their success rate is value indicator 7 of seed 001.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use credo_core::Principal;
use credo_sales::trial::TrialStepError;
use credo_sales::{Trial, TrialInput, TrialStage, TrialStepInput};
use credo_store::orders::{self as repo, TrialMove};
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorCode, Problem};
use crate::extract::{Body, OptionalBody, Query};
use crate::pagination::{Page, PageParams};
use crate::reply::{self, idempotent, Reply};
use crate::routes::customers::{visible_customer, visible_record};
use crate::routes::orders::require_seller;
use crate::state::AppState;

/// List a customer's new-product trials
///
/// The customer's new-product trials: inquiry, sample, concluded by an order, or dropped.
#[utoipa::path(
    tag = "orders",
    operation_id = "listProductTrials",
    params(("id" = Uuid, Path, description = "Customer id"), PageParams),
    responses((status = 200, description = "Trials, newest inquiry first", body = Page<Trial>)),
    security(("bearer" = []))
)]
#[get("/customers/{id}/product-trials")]
pub async fn list_trials(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
    page: Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let customer = visible_customer(&state, &caller, id.into_inner()).await?;
    page.answer(
        &state,
        move |conn, window| repo::trials_of_customer(conn, customer.id, window),
        |trial| (trial.inquired_on, trial.id),
    )
    .await
}

/// Record a new-product inquiry
///
/// Opens a trial at the inquiry; `POST /product-trials/{id}/sample` and `/drop` move it on,
/// and an order naming it (`product_trial_id`) concludes it.
#[utoipa::path(
    tag = "orders",
    operation_id = "createProductTrial",
    params(("id" = Uuid, Path, description = "Customer id")),
    request_body = TrialInput,
    responses((status = 201, description = "Created", body = Trial, headers(("Location" = String)))),
    security(("bearer" = []))
)]
#[post("/customers/{id}/product-trials")]
pub async fn create_trial(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Body<TrialInput>,
) -> ApiResult<HttpResponse> {
    require_seller(&caller)?;
    let customer_id = id.into_inner();
    let Body { value: input, raw } = body;
    idempotent(&state, &caller, &req, &raw, || async {
        let customer = visible_customer(&state, &caller, customer_id).await?;
        let trial = input
            .validate(state.today().await?)
            .map_err(ApiError::validation)?;
        let actor = caller.user_id;
        reply::write(&state, move |conn| {
            let record = repo::add_trial(conn, customer.id, trial.clone(), actor)?;
            Ok(Ok(Reply::created(
                &record,
                format!("/api/v1/customers/{customer_id}/product-trials"),
            )))
        })
        .await
    })
    .await
}

async fn advance(
    state: &AppState,
    caller: &Principal,
    req: &HttpRequest,
    id: Uuid,
    body: Body<TrialStepInput>,
    to: TrialStage,
) -> ApiResult<HttpResponse> {
    require_seller(caller)?;
    let Body { value: input, raw } = body;
    idempotent(state, caller, req, &raw, || async {
        visible_record(
            state,
            caller,
            move |conn| repo::trial(conn, id),
            |trial: &Trial| trial.customer_id,
        )
        .await?;
        let (today, actor) = (state.today().await?, caller.user_id);
        let on = input.on.unwrap_or(today);
        let step = TrialMove {
            to,
            on,
            order_id: None,
            today,
        };
        reply::write(state, move |conn| {
            Ok(reply::updated(
                repo::advance_trial(conn, id, None, step.clone(), actor)?,
                "trial",
                |t| t.stamps.version,
                |refusal| match refusal {
                    TrialStepError::NotAllowed(stage) => ApiError::new(
                        ErrorCode::InvalidTransition,
                        format!(
                            "the trial is at {}; it cannot move to {}",
                            stage.as_str(),
                            to.as_str()
                        ),
                    ),
                    TrialStepError::Invalid(errors) => ApiError::validation(errors),
                },
            ))
        })
        .await
    })
    .await
}

/// Record that a sample was sent
///
/// `inquiry -> sample`; `on` defaults to today.
#[utoipa::path(
    tag = "orders",
    operation_id = "sampleProductTrial",
    params(("id" = Uuid, Path, description = "Trial id")),
    request_body(content = Option<TrialStepInput>, description = "When it happened"),
    responses(
        (status = 200, description = "Moved", body = Trial),
        (status = 409, description = "Not at inquiry (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/product-trials/{id}/sample")]
pub async fn sample_trial(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    OptionalBody(body): OptionalBody<TrialStepInput>,
) -> ApiResult<HttpResponse> {
    advance(
        &state,
        &caller,
        &req,
        id.into_inner(),
        body,
        TrialStage::Sample,
    )
    .await
}

/// Drop a trial
///
/// `inquiry | sample -> dropped`: the customer did not order the new product.
#[utoipa::path(
    tag = "orders",
    operation_id = "dropProductTrial",
    params(("id" = Uuid, Path, description = "Trial id")),
    request_body(content = Option<TrialStepInput>, description = "When it happened"),
    responses(
        (status = 200, description = "Moved", body = Trial),
        (status = 409, description = "Ordered or dropped already (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/product-trials/{id}/drop")]
pub async fn drop_trial(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    OptionalBody(body): OptionalBody<TrialStepInput>,
) -> ApiResult<HttpResponse> {
    advance(
        &state,
        &caller,
        &req,
        id.into_inner(),
        body,
        TrialStage::Dropped,
    )
    .await
}
