//! Credit: customers' financial statements and their analysis, the characteristic template
//! and the credit policy, evaluations, applications and agreements.

pub mod agreements;
pub mod alerts;
pub mod applications;
pub mod checks;
pub mod documents;
pub mod evaluations;

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use credo_core::date::not_in_future;
use credo_core::{Currency, FieldErrors};
use credo_credit::statement::{
    Altman, BalanceSheet, CashFlow, Figures, IncomeStatement, Ratios, Statement,
};
use credo_store::credit::{self as repo, Filed, NewStatement};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorCode, Problem};
use crate::extract::{Body, Query};
use crate::pagination::{Page, PageParams};
use crate::reply::{self, idempotent, Reply};
use crate::routes::customers::{require_writer, visible_customer};
use crate::state::AppState;

/// A financial statement as a client files it; amounts in minor units of `currency`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatementInput {
    /// The last day of the period the statement covers; not in the future.
    #[schema(example = "2025-12-31")]
    pub period_end: NaiveDate,
    #[schema(example = "CNY")]
    pub currency: String,
    /// Whether an auditor signed it. A period may have one audited and one unaudited
    /// statement.
    pub audited: bool,
    pub balance_sheet: BalanceSheet,
    pub income_statement: IncomeStatement,
    pub cash_flow: Option<CashFlow>,
    /// For listed companies: enables the original Altman Z.
    #[schema(example = 24_000_000_000_i64)]
    pub market_value_of_equity_minor: Option<i64>,
}

/// A filed statement with its analysis.
#[derive(Debug, Serialize, ToSchema)]
pub struct FinancialStatement {
    pub id: Uuid,
    pub customer_id: Uuid,
    #[schema(example = "2025-12-31")]
    pub period_end: NaiveDate,
    #[schema(value_type = String, example = "CNY")]
    pub currency: Currency,
    pub audited: bool,
    pub balance_sheet: BalanceSheet,
    pub income_statement: IncomeStatement,
    #[schema(required = true)]
    pub cash_flow: Option<CashFlow>,
    #[schema(required = true, example = json!(null))]
    pub market_value_of_equity_minor: Option<i64>,
    /// Seed 004's short- and long-term indicators, to 4 decimals; a zero divisor gives
    /// `null` with the reason.
    pub ratios: Ratios,
    /// The three Altman scores with their zones.
    pub altman: Altman,
    pub created_at: DateTime<Utc>,
    pub created_by: Uuid,
}

impl From<Statement> for FinancialStatement {
    fn from(statement: Statement) -> Self {
        let figures = statement.figures;
        Self {
            id: statement.id,
            customer_id: statement.customer_id,
            period_end: statement.period_end,
            currency: statement.currency,
            audited: statement.audited,
            balance_sheet: figures.balance_sheet,
            income_statement: figures.income_statement,
            cash_flow: figures.cash_flow,
            market_value_of_equity_minor: figures.market_value_of_equity_minor,
            ratios: Ratios::of(&figures),
            altman: Altman::of(&figures),
            created_at: statement.created_at,
            created_by: statement.created_by,
        }
    }
}

fn statement_location(customer_id: Uuid, id: Uuid) -> String {
    format!("/api/v1/customers/{customer_id}/financial-statements/{id}")
}

/// File a financial statement
///
/// A customer's balance sheet and income statement for a period (cash flow and the market
/// value of equity optional), answered with its ratios and Altman scores. Impossible
/// statements are refused naming the fields: negative assets or liabilities, a part larger
/// than its whole (inventory or cash above current assets, current above total), total
/// assets off liabilities plus equity by more than 1 %. One statement per period end and
/// audit status (409 `statement_exists` with its id). Anyone who may change the customer's
/// file; audited.
#[utoipa::path(
    tag = "credit",
    operation_id = "fileFinancialStatement",
    params(("id" = Uuid, Path, description = "Customer id")),
    request_body = StatementInput,
    responses(
        (status = 201, description = "Filed", body = FinancialStatement, headers(("Location" = String))),
        (status = 409, description = "A statement for this period and audit status exists", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/customers/{id}/financial-statements")]
pub async fn file_statement(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Body<StatementInput>,
) -> ApiResult<HttpResponse> {
    require_writer(&caller)?;
    let customer_id = id.into_inner();
    let Body { value: input, raw } = body;
    idempotent(&state, &caller, &req, &raw, || async {
        let customer = visible_customer(&state, &caller, customer_id).await?;
        let today = state.today().await?;
        let mut errors = FieldErrors::new();
        let period_end = errors.check("period_end", not_in_future(input.period_end, today));
        let currency = errors.check("currency", Currency::parse(&input.currency));
        let figures = Figures {
            balance_sheet: input.balance_sheet,
            income_statement: input.income_statement,
            cash_flow: input.cash_flow,
            market_value_of_equity_minor: input.market_value_of_equity_minor,
        };
        let mut errors = errors.into_vec();
        errors.extend(figures.check().err().into_iter().flatten());
        let (Some(period_end), Some(currency), true) = (period_end, currency, errors.is_empty())
        else {
            return Err(ApiError::validation(errors));
        };
        let new = NewStatement {
            customer_id: customer.id,
            period_end,
            currency,
            audited: input.audited,
            figures,
        };
        let actor = caller.user_id;
        reply::write(&state, move |conn| {
            Ok(match repo::file_statement(conn, new.clone(), actor)? {
                Filed::Filed(statement) => Ok(Reply::created(
                    &FinancialStatement::from(statement.clone()),
                    statement_location(statement.customer_id, statement.id),
                )),
                Filed::Exists(existing) => Err(ApiError::new(
                    ErrorCode::StatementExists,
                    "the customer has a statement for this period end and audit status",
                )
                .with_existing_id(existing)),
            })
        })
        .await
    })
    .await
}

/// List a customer's financial statements
///
/// With their ratios and Altman scores, the latest period first.
#[utoipa::path(
    tag = "credit",
    operation_id = "listFinancialStatements",
    params(("id" = Uuid, Path, description = "Customer id"), PageParams),
    responses((status = 200, description = "One page", body = Page<FinancialStatement>)),
    security(("bearer" = []))
)]
#[get("/customers/{id}/financial-statements")]
pub async fn list_statements(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
    page: Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let customer = visible_customer(&state, &caller, id.into_inner()).await?;
    page.answer(
        &state,
        move |conn, window| {
            let statements = repo::statements(conn, customer.id, window)?;
            Ok(statements
                .into_iter()
                .map(FinancialStatement::from)
                .collect())
        },
        |statement: &FinancialStatement| (statement.period_end, statement.id),
    )
    .await
}

/// Get a financial statement
///
/// The statement as filed, with its ratios and Altman scores.
#[utoipa::path(
    tag = "credit",
    operation_id = "getFinancialStatement",
    params(
        ("id" = Uuid, Path, description = "Customer id"),
        ("statement_id" = Uuid, Path, description = "Statement id"),
    ),
    responses((status = 200, description = "The statement", body = FinancialStatement)),
    security(("bearer" = []))
)]
#[get("/customers/{id}/financial-statements/{statement_id}")]
pub async fn get_statement(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (customer_id, statement_id) = path.into_inner();
    let customer = visible_customer(&state, &caller, customer_id).await?;
    let statement = state
        .db(move |conn| repo::statement(conn, customer.id, statement_id))
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Reply::ok(&FinancialStatement::from(statement)).into_response())
}
