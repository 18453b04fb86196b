//! Credit evaluations: the two models of seed 004 applied to a customer's statement, with
//! everything they read recorded so that an evaluation reproduces and explains itself.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use credo_credit::evaluation::{Evaluation, EvaluationInput};
use credo_store::credit as repo;
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::Body;
use crate::reply::{self, idempotent, Reply};
use crate::routes::customers::{referenced_customer, visible_customer};
use crate::state::AppState;

/// Evaluate a customer's credit
///
/// Applies the working-capital model (under the credit policy) and the characteristic
/// model (the active template; financial points pre-scored from the statement, the rest
/// scored by the evaluator) to one of the customer's statements: the recommended limit,
/// the final limit (a manual adjustment needs a reason), the limit grade 1A-5A and the
/// rating "3A2". The answer records every input and the template and policy as used.
/// Credit managers and admins.
#[utoipa::path(
    tag = "credit",
    operation_id = "createCreditEvaluation",
    request_body = EvaluationInput,
    responses((status = 201, description = "Evaluated", body = Evaluation, headers(("Location" = String)))),
    security(("bearer" = []))
)]
#[post("/credit/evaluations")]
pub async fn create_evaluation(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    body: Body<EvaluationInput>,
) -> ApiResult<HttpResponse> {
    if !caller.can_decide_credit() {
        return Err(ApiError::forbidden(
            "credit is evaluated by the credit department (credit managers and admins)",
        ));
    }
    let Body { value: input, raw } = body;
    idempotent(&state, &caller, &req, &raw, || async {
        referenced_customer(&state, &caller, input.customer_id, "customer_id").await?;
        let today = state.today().await?;
        let actor = caller.user_id;
        reply::write(&state, move |conn| {
            Ok(match repo::evaluate(conn, &input, today, actor)? {
                Ok(evaluation) => Ok(Reply::created(
                    &evaluation,
                    format!("/api/v1/credit/evaluations/{}", evaluation.id),
                )),
                Err(errors) => Err(ApiError::validation(errors)),
            })
        })
        .await
    })
    .await
}

/// Get a credit evaluation
///
/// The evaluation as recorded: inputs, pre-scores, template and policy as used, results.
#[utoipa::path(
    tag = "credit",
    operation_id = "getCreditEvaluation",
    params(("id" = Uuid, Path, description = "Evaluation id")),
    responses((status = 200, description = "The evaluation", body = Evaluation)),
    security(("bearer" = []))
)]
#[get("/credit/evaluations/{id}")]
pub async fn get_evaluation(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let (customer_id, record) = state
        .db(move |conn| repo::evaluation(conn, id))
        .await?
        .ok_or_else(ApiError::not_found)?;
    visible_customer(&state, &caller, customer_id).await?;
    Ok(Reply::ok(&record).into_response())
}
