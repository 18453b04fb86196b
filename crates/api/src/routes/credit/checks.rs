//! The credit check clients ask before they sell, and the overrides that let one blocked
//! order through once.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use credo_core::money::input_amount;
use credo_core::webhooks::EventType;
use credo_core::{Currency, FieldErrors, Principal};
use credo_credit::check::{CheckDecision, CreditCheck, Stage};
use credo_credit::overrides::{CreditOverride, CreditOverrideInput};
use credo_sales::OrderStatus;
use credo_store::credit::checks as repo;
use credo_store::webhooks;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::applications::decided;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::Body;
use crate::reply::{self, idempotent, Reply};
use crate::routes::customers::{referenced_customer, visible_record};
use crate::routes::orders::visible_order;
use crate::state::AppState;

/// A sale to check.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditCheckInput {
    pub customer_id: Uuid,
    /// The part sold on credit (not prepaid), in minor units of `currency`; 0 for a fully
    /// prepaid sale.
    #[schema(example = 30_000_000, minimum = 0, maximum = 9_007_199_254_740_991_i64)]
    pub amount_minor: i64,
    #[schema(example = "CNY")]
    pub currency: String,
    /// `order` when the order is taken, `shipment` when the goods leave: a dunning credit
    /// hold stops shipments and only warns on orders.
    pub stage: Stage,
}

/// Check a sale on credit
///
/// What the order steps `confirm` and `ship` will say of a sale, as things stand:
/// `allow`, `warn` or `block`, with every reason, the line in force, the exposure (open
/// receivables plus confirmed orders not yet invoiced), what is available and what is
/// overdue. With the default policy: within the available amount allows; over it by at most
/// 10 % of the limit warns; beyond blocks; no line, a line run out, a credit hold at
/// shipment, the warning list or an item a month (30 days) overdue block; a fully prepaid sale
/// (`amount_minor` 0) is allowed. Anyone who sees the customer; nothing is recorded.
#[utoipa::path(
    tag = "credit",
    operation_id = "checkCredit",
    request_body = CreditCheckInput,
    responses((status = 200, description = "The decision", body = CreditCheck)),
    security(("bearer" = []))
)]
#[post("/credit/check")]
pub async fn check_credit(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    body: Body<CreditCheckInput>,
) -> ApiResult<HttpResponse> {
    let input = body.value;
    let customer = referenced_customer(&state, &caller, input.customer_id, "customer_id").await?;
    let mut errors = FieldErrors::new();
    let currency = errors.check("currency", Currency::parse(&input.currency));
    errors.check("amount_minor", input_amount(input.amount_minor, 0));
    let currency = errors
        .finish(|| currency.expect("checked"))
        .map_err(ApiError::validation)?;
    let today = state.today().await?;
    let (amount, stage) = (input.amount_minor, input.stage);
    let check = state
        .db(move |conn| repo::check_sale(conn, customer.id, amount, currency, stage, today))
        .await?;
    if check.decision == CheckDecision::Block {
        tell_blocked(&state, customer.id, None, &check).await?;
    }
    Ok(Reply::ok(&check).into_response())
}

/// What `credit.check_blocked` receivers are told: the customer, the order whose step was
/// refused (none for a check asked for), and the check as its answer showed it.
#[derive(Serialize)]
struct BlockedCheck<C> {
    customer_id: Uuid,
    order_id: Option<Uuid>,
    check: C,
}

/// Tells webhook receivers that a check blocked, in a transaction of its own.
pub(crate) async fn tell_blocked(
    state: &AppState,
    customer_id: Uuid,
    order_id: Option<Uuid>,
    check: &(impl Serialize + Clone + Send + 'static),
) -> ApiResult<()> {
    let told = BlockedCheck {
        customer_id,
        order_id,
        check: check.clone(),
    };
    state
        .db(move |conn| webhooks::publish(conn, EventType::CreditCheckBlocked, &told))
        .await
}

/// Grant a credit override
///
/// Lets one order through a blocking credit check once (at `confirm` or `ship`), when its
/// credit part is at most `amount_minor` and the override has not expired; the step's check
/// then warns `override_used` and keeps the reasons it overrode. Credit managers up to their
/// approval limit (403 `approval_limit_exceeded` beyond), admins any amount; audited.
#[utoipa::path(
    tag = "credit",
    operation_id = "createCreditOverride",
    request_body = CreditOverrideInput,
    responses(
        (status = 201, description = "Granted", body = CreditOverride, headers(("Location" = String))),
        (status = 403, description = "Your role may not grant overrides (`forbidden`), or not this large (`approval_limit_exceeded`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/credit/overrides")]
pub async fn create_override(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    body: Body<CreditOverrideInput>,
) -> ApiResult<HttpResponse> {
    if !caller.can_decide_credit() {
        return Err(ApiError::forbidden(
            "overrides are granted by the credit department (credit managers and admins)",
        ));
    }
    let Body { value: input, raw } = body;
    idempotent(&state, &caller, &req, &raw, || async {
        let order = match visible_order(&state, &caller, input.order_id).await {
            Ok(order) => order,
            Err(_) => {
                return Err(ApiError::field(
                    "order_id",
                    credo_core::FieldCode::NotFound,
                    "no order with this id in your data scope",
                ))
            }
        };
        if !matches!(
            order.status,
            OrderStatus::Quoted | OrderStatus::Confirmed | OrderStatus::InProduction
        ) {
            return Err(ApiError::field(
                "order_id",
                credo_core::FieldCode::InvalidValue,
                "the order has passed its last credit check (shipped, invoiced or cancelled)",
            ));
        }
        let today = state.today().await?;
        let new = input.validate(today).map_err(ApiError::validation)?;
        let approver = caller.clone();
        reply::write(&state, move |conn| {
            let outcome = repo::grant_override(conn, &order, new.clone(), &approver, today)?;
            Ok(decided(outcome, |granted| {
                let location = format!("/api/v1/credit/overrides/{}", granted.id);
                Reply::created(&granted, location)
            }))
        })
        .await
    })
    .await
}

async fn visible_override(
    state: &AppState,
    caller: &Principal,
    id: Uuid,
) -> ApiResult<CreditOverride> {
    visible_record(
        state,
        caller,
        move |conn| repo::credit_override(conn, id),
        |granted: &CreditOverride| granted.customer_id,
    )
    .await
}

/// Get a credit override
///
/// Whether and when it was used, and at which step.
#[utoipa::path(
    tag = "credit",
    operation_id = "getCreditOverride",
    params(("id" = Uuid, Path, description = "Override id")),
    responses((status = 200, description = "The override", body = CreditOverride)),
    security(("bearer" = []))
)]
#[get("/credit/overrides/{id}")]
pub async fn get_override(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let granted = visible_override(&state, &caller, id.into_inner()).await?;
    Ok(Reply::ok(&granted).into_response())
}
