//! Credit evaluations: the two models of seed 004 applied to a customer's statement, with
//! everything they read recorded so that an evaluation reproduces and explains itself.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use credo_core::{Currency, FieldCode, FieldError};
use credo_credit::application::ApplicationStatus;
use credo_credit::characteristic::{Characteristic, GivenScore, Template};
use credo_credit::evaluation::{conclude, Facts, ManualAdjustment};
use credo_credit::policy::CreditPolicy;
use credo_credit::working_capital::WorkingCapital;
use credo_store::credit::{self as repo, applications, NewEvaluation};
use credo_store::{fx, settings, DbConnection, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::Body;
use crate::reply::{self, idempotent, Reply};
use crate::routes::customers::{referenced_customer, visible_customer};
use crate::state::AppState;

/// An evaluation to make.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[derive(Clone)]
pub struct EvaluationInput {
    pub customer_id: Uuid,
    /// One of the customer's statements; the evaluation is in its currency.
    pub statement_id: Uuid,
    /// The credit application the evaluation answers, when there is one: of the same
    /// customer and currency, not yet decided.
    pub application_id: Option<Uuid>,
    #[schema(example = 100_000_000)]
    pub requested_limit_minor: i64,
    /// The statement's currency.
    #[schema(example = "CNY")]
    pub currency: String,
    /// The evaluator's scores; every point the statement does not pre-score needs one, and
    /// a score given wins over a pre-score.
    pub characteristic_scores: Vec<GivenScore>,
    pub manual_adjustment: Option<ManualAdjustment>,
}

/// An evaluation, with everything it read: it reproduces and explains itself after the
/// template or the policy changed. Together with the statement it is the credit
/// investigation report (inputs, method, result, evaluator, reviewer).
#[derive(Debug, Serialize, ToSchema)]
pub struct Evaluation {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub statement_id: Uuid,
    #[schema(required = true)]
    pub application_id: Option<Uuid>,
    #[schema(value_type = String, example = "CNY")]
    pub currency: Currency,
    #[schema(example = 100_000_000)]
    pub requested_limit_minor: i64,
    pub characteristic_scores: Vec<GivenScore>,
    #[schema(required = true)]
    pub manual_adjustment: Option<ManualAdjustment>,
    pub working_capital: WorkingCapital,
    pub characteristic: Characteristic,
    /// The working-capital limit times the characteristic grade's factor, at most the
    /// amount applied for.
    #[schema(example = 90_000_000)]
    pub recommended_limit_minor: i64,
    /// The manual adjustment's limit when given, else the recommendation.
    #[schema(example = 90_000_000)]
    pub final_limit_minor: i64,
    /// From the final limit in the company currency: "1A" to "5A".
    #[schema(example = "3A")]
    pub limit_grade: String,
    /// The limit grade then the characteristic grade.
    #[schema(example = "3A2")]
    pub rating: String,
    /// How the result was reached, in words.
    pub method: String,
    /// The exchange rate the limit grade read, when the evaluation is not in the company
    /// currency.
    #[schema(required = true, value_type = Option<String>, example = json!(null))]
    pub company_rate: Option<rust_decimal::Decimal>,
    #[schema(required = true, example = json!(null))]
    pub company_rate_on: Option<NaiveDate>,
    pub template_version: i64,
    pub template: Template,
    pub policy_version: i64,
    pub policy: CreditPolicy,
    /// Who evaluated.
    pub evaluator_id: Uuid,
    /// Who reviewed it: set by the approval of its application.
    #[schema(required = true, example = json!(null))]
    pub reviewer_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

const METHOD: &str = "Working-capital model: base = (current assets - current liabilities + \
equity) / 2; evaluation value = (current ratio + quick ratio) - (current liabilities / equity + \
total liabilities / equity), to 2 decimals; the policy's band gives the share of the base. \
Characteristic model: each point's score (the evaluator's, else pre-scored from the \
statement) times its item's weight, summed; the template's cut-offs give the grade. \
Recommended limit = working-capital limit x the grade's factor, at most the amount applied \
for; a manual adjustment with its reason gives the final limit, whose size in the company \
currency gives the limit grade.";

fn invalid(field: &str, code: FieldCode, message: &str) -> Vec<FieldError> {
    vec![FieldError::new(field, code, message)]
}

/// Reads the facts under the customer's lock, decides, records: 201 with the record, or
/// the fields at fault.
fn evaluate(
    conn: &mut DbConnection,
    input: EvaluationInput,
    today: NaiveDate,
    actor: Uuid,
) -> Result<Result<Evaluation, Vec<FieldError>>, StoreError> {
    let Some(statement) = repo::statement(conn, input.customer_id, input.statement_id)? else {
        return Ok(Err(invalid(
            "statement_id",
            FieldCode::NotFound,
            "the customer has no statement with this id",
        )));
    };
    if let Some(application_id) = input.application_id {
        let refusal = match applications::application(conn, application_id)? {
            None => Some((FieldCode::NotFound, "no credit application has this id")),
            Some(a) if a.customer_id != statement.customer_id => Some((
                FieldCode::OtherCustomer,
                "the application is for another customer",
            )),
            Some(a) if a.currency != statement.currency => Some((
                FieldCode::CurrencyMismatch,
                "the application is in another currency than the statement",
            )),
            Some(a) if !ApplicationStatus::UNDECIDED.contains(&a.status) => {
                Some((FieldCode::InvalidValue, "the application has been decided"))
            }
            Some(_) => None,
        };
        if let Some((code, message)) = refusal {
            return Ok(Err(invalid("application_id", code, message)));
        }
    }
    if input.currency != statement.currency.as_str() {
        return Ok(Err(invalid(
            "currency",
            FieldCode::CurrencyMismatch,
            "an evaluation is in its statement's currency",
        )));
    }
    let company = settings::company(conn)?.settings.currency;
    let rate = if statement.currency == company {
        None
    } else {
        match fx::on_or_before(conn, statement.currency, today)? {
            Some(rate) => Some(rate),
            None => {
                return Ok(Err(invalid(
                    "currency",
                    FieldCode::InvalidRate,
                    "no exchange rate into the company currency is recorded for this currency",
                )))
            }
        }
    };
    let template = settings::document::<Template>(conn)?;
    let policy = settings::document::<CreditPolicy>(conn)?;
    let facts = Facts {
        figures: &statement.figures,
        template: &template.settings,
        policy: &policy.settings,
        statement_in_company_digits: rate.is_none().then(|| company.minor_digits()),
        company_digits: company.minor_digits(),
    };
    let in_company = |limit: i64| {
        rate.as_ref()
            .map_or(Some(limit), |r| r.to_company_minor(limit, company))
            .unwrap_or(i64::MAX)
    };
    let conclusion = match conclude(
        &facts,
        &input.characteristic_scores,
        input.requested_limit_minor,
        input.manual_adjustment.as_ref(),
        in_company,
    ) {
        Ok(conclusion) => conclusion,
        Err(errors) => return Ok(Err(errors)),
    };
    let evaluation = Evaluation {
        id: Uuid::now_v7(),
        customer_id: statement.customer_id,
        statement_id: statement.id,
        application_id: input.application_id,
        currency: statement.currency,
        requested_limit_minor: input.requested_limit_minor,
        characteristic_scores: input.characteristic_scores,
        manual_adjustment: input.manual_adjustment,
        working_capital: conclusion.working_capital,
        characteristic: conclusion.characteristic,
        recommended_limit_minor: conclusion.recommended_limit_minor,
        final_limit_minor: conclusion.final_limit_minor,
        limit_grade: conclusion.limit_grade,
        rating: conclusion.rating,
        method: METHOD.to_owned(),
        company_rate: rate.as_ref().map(|r| r.rate),
        company_rate_on: rate.as_ref().map(|r| r.on),
        template_version: template.version,
        template: template.settings,
        policy_version: policy.version,
        policy: policy.settings,
        evaluator_id: actor,
        reviewer_id: None,
        created_at: credo_store::now(),
    };
    repo::record_evaluation(
        conn,
        NewEvaluation {
            id: evaluation.id,
            customer_id: evaluation.customer_id,
            statement_id: evaluation.statement_id,
            currency: evaluation.currency,
            final_limit_minor: evaluation.final_limit_minor,
            rating: evaluation.rating.clone(),
            record: serde_json::to_value(&evaluation)?,
        },
        actor,
    )?;
    Ok(Ok(evaluation))
}

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
            Ok(match evaluate(conn, input.clone(), today, actor)? {
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
