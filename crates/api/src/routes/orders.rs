//! Sales orders: quotations that are edited, then moved through the status machine by one
//! explicit endpoint per step (confirm and ship are where the credit check will run),
//! listed by customer, unit, owner, status and dates, with their claims.

use crate::any_of::{self, AnyOf};
use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use credo_core::audit::AuditEntry;
use credo_core::FieldCode;
use credo_core::Principal;
use credo_sales::claim::ClaimDecisionInput;
use credo_sales::order::TransitionError;
use credo_sales::{
    CancelInput, Claim, ClaimInput, Order, OrderInput, OrderStatus, ShipInput, StepInput,
    TransitionInput,
};
use credo_store::orders::{
    self as repo, ClaimRefused, CreateOrderOutcome, DecideOutcome, NewOrder, OrderChange,
    OrderListQuery, OrderRefusal, UpdateOrderOutcome,
};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorCode, Problem};
use crate::export::Export;
use crate::extract::{self, Body, OptionalBody, Query};
use crate::merge_patch::{merge_patch, Patch};
use crate::pagination::{list_sort, Page, PageParams, SortDirection, SortedPage};
use crate::reply::{self, idempotent, Reply};
use crate::routes::credit::checks::tell_blocked;
use crate::routes::customers::{referenced_customer, visible_record};
use crate::state::AppState;

merge_patch!(
    /// Changes to a draft order, as a JSON merge patch: members sent change, `null` clears,
    /// absent members stay. The customer, the trial and the status are read-only; the status
    /// moves by the step operations.
    OrderPatch of OrderInput,
    read_only: ["id", "customer_id", "product_trial_id", "status"]
);

fn location(id: Uuid) -> String {
    format!("/api/v1/orders/{id}")
}

pub fn require_seller(caller: &Principal) -> ApiResult<()> {
    if caller.can_write_orders() {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "your role may read orders but not record them",
        ))
    }
}

/// An order whose customer the caller may see; anything else is 404.
pub async fn visible_order(state: &AppState, caller: &Principal, id: Uuid) -> ApiResult<Order> {
    visible_record(
        state,
        caller,
        move |conn| repo::get(conn, id),
        |order: &Order| order.draft.customer_id,
    )
    .await
}

fn updated(outcome: UpdateOrderOutcome) -> ApiResult<Reply> {
    reply::updated(
        outcome,
        "order",
        |o| o.stamps.version,
        |refusal| match refusal {
            OrderRefusal::NotEditable(status) => not_editable(status),
            OrderRefusal::Blocked(check) => ApiError::new(
                ErrorCode::CreditLimitExceeded,
                check
                    .check
                    .reasons
                    .iter()
                    .map(|r| format!("{}: {}", r.code, r.message))
                    .collect::<Vec<_>>()
                    .join("; "),
            )
            .with_credit_check(check),
            OrderRefusal::Invalid(errors)
            | OrderRefusal::Transition(TransitionError::Invalid(errors)) => {
                ApiError::validation(errors)
            }
            OrderRefusal::Transition(TransitionError::NotAllowed { from, to }) => {
                let next: Vec<&str> = from.successors().iter().map(|s| s.as_str()).collect();
                ApiError::new(
                    ErrorCode::InvalidTransition,
                    format!(
                        "a {} order cannot become {}; it may become: {}",
                        from.as_str(),
                        to.as_str(),
                        if next.is_empty() {
                            "nothing".into()
                        } else {
                            next.join(", ")
                        }
                    ),
                )
            }
        },
    )
}

fn not_editable(status: OrderStatus) -> ApiError {
    ApiError::new(
        ErrorCode::OrderNotEditable,
        format!(
            "the order is {}; lines and terms are fixed once confirmed",
            status.as_str()
        ),
    )
}

/// Create an order
///
/// Starts as a quotation (`quoted`). Totals, cost, profit and profit rate are computed from
/// the lines, exactly, in integer minor units. The order is credited to the customer's
/// current owner and sales unit. Naming a `product_trial_id` concludes that new-product
/// trial.
#[utoipa::path(
    tag = "orders",
    operation_id = "createOrder",
    request_body = OrderInput,
    responses(
        (status = 201, description = "Created", body = Order, headers(("ETag" = String), ("Location" = String))),
        (status = 409, description = "An order with this id exists (`id_conflict`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/orders")]
pub async fn create_order(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    body: Body<OrderInput>,
) -> ApiResult<HttpResponse> {
    require_seller(&caller)?;
    let Body { value: input, raw } = body;
    idempotent(&state, &caller, &req, &raw, || async {
        let id = input.id.unwrap_or_else(Uuid::now_v7);
        let today = state.today().await?;
        let draft = input.validate(today).map_err(ApiError::validation)?;
        referenced_customer(&state, &caller, draft.customer_id, "customer_id").await?;
        let new = NewOrder {
            id,
            draft,
            actor: caller.user_id,
            today,
        };
        let caller = caller.clone();
        reply::write(&state, move |conn| {
            Ok(match repo::create(conn, new.clone())? {
                CreateOrderOutcome::Created(order) => {
                    Ok(Reply::created(&order, location(order.id))
                        .with_version(order.stamps.version))
                }
                CreateOrderOutcome::IdTaken(existing) => {
                    let error =
                        ApiError::new(ErrorCode::IdConflict, "an order with this id exists");
                    if caller.can_see(existing.owner_id, existing.sales_unit_id) {
                        Err(error.with_existing_id(existing.id))
                    } else {
                        Err(error)
                    }
                }
                CreateOrderOutcome::TrialRefused(error) => Err(ApiError::validation(vec![error])),
                CreateOrderOutcome::CustomerArchived => Err(ApiError::field(
                    "customer_id",
                    FieldCode::Archived,
                    "the customer is archived; restore it first",
                )),
            })
        })
        .await
    })
    .await
}

/// Get an order
///
/// An order with its lines, exact totals (amount, cost, profit, profit rate), status and
/// dates, and its `ETag`.
#[utoipa::path(
    tag = "orders",
    operation_id = "getOrder",
    params(("id" = Uuid, Path, description = "Order id")),
    responses((status = 200, description = "The order", body = Order, headers(("ETag" = String)))),
    security(("bearer" = []))
)]
#[get("/orders/{id}")]
pub async fn get_order(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let order = visible_order(&state, &caller, id.into_inner()).await?;
    Ok(Reply::ok(&order)
        .with_version(order.stamps.version)
        .into_response())
}

/// Change a quotation
///
/// A JSON merge patch (RFC 7396) of the `OrderInput` fields except `customer_id` and
/// `product_trial_id`; `lines`, when sent, replaces all lines. Only `quoted` orders change
/// (409 `order_not_editable` after that). `If-Match` is required.
#[utoipa::path(
    tag = "orders",
    operation_id = "patchOrder",
    params(
        ("id" = Uuid, Path, description = "Order id"),
        ("If-Match" = String, Header, description = "ETag of the version you changed"),
    ),
    request_body(content = OrderPatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Changed", body = Order, headers(("ETag" = String))),
        (status = 409, description = "The order is past quotation (`order_not_editable`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match; `current` holds the order", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/orders/{id}")]
pub async fn patch_order(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    patch: Patch<OrderPatch>,
) -> ApiResult<HttpResponse> {
    require_seller(&caller)?;
    let expected = extract::if_match(&req)?;
    let patch = patch.body;
    let current = visible_order(&state, &caller, id.into_inner()).await?;
    let (id, actor) = (current.id, caller.user_id);
    let change = OrderChange::Patch {
        patch,
        today: state.today().await?,
    };
    let outcome = state
        .db(move |conn| repo::update(conn, id, &expected, change, actor))
        .await?;
    Ok(updated(outcome)?.into_response())
}

/// Moves an order one step; every step endpoint is this with its target status.
async fn step(
    state: web::Data<AppState>,
    caller: Principal,
    req: HttpRequest,
    id: Uuid,
    body: Body<impl Into<TransitionInput>>,
    to: OrderStatus,
) -> ApiResult<HttpResponse> {
    require_seller(&caller)?;
    if to == OrderStatus::Paid && !caller.can_record_payments() {
        return Err(ApiError::forbidden(
            "payments are recorded by finance and admins",
        ));
    }
    let expected = extract::optional_if_match(&req)?;
    let Body { value: input, raw } = body;
    let input: TransitionInput = input.into();
    idempotent(&state, &caller, &req, &raw, || async {
        let order = visible_order(&state, &caller, id).await?;
        let (actor, today) = (caller.user_id, state.today().await?);
        let change = OrderChange::Transition { to, input, today };
        let answer = reply::write(&state, move |conn| {
            Ok(updated(repo::update(
                conn,
                order.id,
                &expected,
                change.clone(),
                actor,
            )?))
        })
        .await;
        if let Some(check) = answer.as_ref().err().and_then(ApiError::blocking_check) {
            let customer = order.draft.customer_id;
            tell_blocked(&state, customer, Some(order.id), check).await?;
        }
        answer
    })
    .await
}

/// Declares one step endpoint: its path, operation id, target status, body (and how the spec
/// shows it: `Option<_>` when it may be left out) and description.
macro_rules! order_step {
    ($name:ident, $path:literal, $operation:literal, $status:expr, $input:ty, $content:ty, $summary:literal, $doc:literal) => {
        #[doc = $summary]
        #[doc = ""]
        #[doc = $doc]
        #[doc = " `on` (default today) may not lie in the future or before the order's last step. \
                  `If-Match` is checked when sent. A step the status machine does not allow is \
                  409 `invalid_transition`."]
        #[utoipa::path(
            tag = "orders",
            operation_id = $operation,
            params(
                ("id" = Uuid, Path, description = "Order id"),
                ("If-Match" = Option<String>, Header, description = "ETag of the version you move"),
            ),
            request_body(content = $content, description = "When it happened"),
            responses(
                (status = 200, description = "Moved", body = Order, headers(("ETag" = String))),
                (status = 409, description = "Not allowed from the current status (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
                (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
            ),
            security(("bearer" = []))
        )]
        #[post($path)]
        pub async fn $name(
            state: web::Data<AppState>,
            Caller(caller): Caller,
            req: HttpRequest,
            id: web::Path<Uuid>,
            OptionalBody(body): OptionalBody<$input>,
        ) -> ApiResult<HttpResponse> {
            step(state, caller, req, id.into_inner(), body, $status).await
        }
    };
}

order_step!(
    confirm_order,
    "/orders/{id}/confirm",
    "confirmOrder",
    OrderStatus::Confirmed,
    StepInput, Option<StepInput>,
    "Confirm an order",
    "The customer accepted the quotation: `quoted -> confirmed`; lines and terms are fixed from here."
);
order_step!(
    start_order_production,
    "/orders/{id}/start-production",
    "startOrderProduction",
    OrderStatus::InProduction,
    StepInput,
    Option<StepInput>,
    "Start production of an order",
    "`confirmed -> in_production`."
);
order_step!(
    ship_order,
    "/orders/{id}/ship",
    "shipOrder",
    OrderStatus::Shipped,
    ShipInput, Option<ShipInput>,
    "Ship an order",
    "`confirmed | in_production -> shipped`. `completed_on` records when the goods were ready (shipping efficiency)."
);
order_step!(
    invoice_order,
    "/orders/{id}/invoice",
    "invoiceOrder",
    OrderStatus::Invoiced,
    StepInput, Option<StepInput>,
    "Invoice an order",
    "`shipped -> invoiced`: invoice and shipping documents sent (`documents_sent_on`); the credit days run from here. \
     Opens the order's receivable (due `credit_days` after), under the order's reference, unless an item for the order was posted already."
);
order_step!(
    pay_order,
    "/orders/{id}/pay",
    "payOrder",
    OrderStatus::Paid,
    StepInput,
    Option<StepInput>,
    "Record an order as paid",
    "`invoiced -> paid` (`paid_on`): records one payment of what the order's items have open and allocates it to them. \
     Settling the items by allocations pays the order by itself. Finance and admins only: who sells does not record the money."
);
order_step!(
    close_order,
    "/orders/{id}/close",
    "closeOrder",
    OrderStatus::Closed,
    StepInput,
    Option<StepInput>,
    "Close an order",
    "`paid -> closed`."
);
order_step!(
    cancel_order,
    "/orders/{id}/cancel",
    "cancelOrder",
    OrderStatus::Cancelled,
    CancelInput, CancelInput,
    "Cancel an order",
    "`quoted | confirmed | in_production -> cancelled`, with a required `reason`; shipped goods are not cancelled."
);

/// Filters and page of the order list. Unknown parameters are rejected.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrderListParams {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    pub customer_id: Option<Uuid>,
    /// The account manager credited with the order.
    pub owner_id: Option<Uuid>,
    pub sales_unit_id: Option<Uuid>,
    /// Any of these statuses, comma-separated (`confirmed,in_production`).
    #[param(inline, value_type = Option<Vec<OrderStatus>>, style = Form, explode = false)]
    pub status: Option<AnyOf<OrderStatus>>,
    /// Ordered on or after this day.
    pub ordered_from: Option<NaiveDate>,
    /// Ordered on or before this day.
    pub ordered_to: Option<NaiveDate>,
    /// Only records changed at or after this time (RFC 3339): what a sync has not seen.
    pub updated_since: Option<DateTime<Utc>>,
    /// The column to sort by (default `ordered_on`).
    #[param(inline)]
    pub sort: Option<OrderSort>,
    /// Which way (default `desc`: newest first).
    #[param(inline)]
    pub order: Option<SortDirection>,
}

list_sort!(
    /// Columns the order list sorts by.
    OrderSort => repo::SortField { OrderedOn, CreatedAt, UpdatedAt }
);

/// List orders
///
/// Newest first by order date unless sorted otherwise, keyset-paginated. Agents see the orders of their customers,
/// unit managers those of their unit's customers.
#[utoipa::path(
    tag = "orders",
    operation_id = "listOrders",
    params(OrderListParams),
    responses((status = 200, description = "One page", body = Page<Order>)),
    security(("bearer" = []))
)]
#[get("/orders")]
pub async fn list_orders(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    params: Query<OrderListParams>,
    export: Export,
) -> ApiResult<HttpResponse> {
    let p = params.into_inner();
    let page = SortedPage::read(
        p.limit,
        p.cursor.as_deref(),
        p.sort.unwrap_or_default(),
        p.order.unwrap_or(SortDirection::Desc),
    )?;
    let query = OrderListQuery {
        scope: caller.scope(),
        customer_id: p.customer_id,
        owner_id: p.owner_id,
        sales_unit_id: p.sales_unit_id,
        statuses: any_of::values(p.status),
        ordered_from: p.ordered_from,
        ordered_to: p.ordered_to,
        updated_since: p.updated_since,
    };
    page.answer(
        &state,
        export,
        move |conn, sorting, rows| repo::list(conn, &query, &sorting, rows),
        |item, sort| (repo::sort_key(item, sort.into()), item.id),
    )
    .await
}

/// Get an order's change history
///
/// Every change to the order, oldest first, its status steps included: who, when, and
/// each field old and new.
#[utoipa::path(
    tag = "orders",
    operation_id = "getOrderHistory",
    params(("id" = Uuid, Path, description = "Order id"), PageParams),
    responses((status = 200, description = "Audit entries, oldest first", body = Page<AuditEntry>)),
    security(("bearer" = []))
)]
#[get("/orders/{id}/history")]
pub async fn order_history(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
    page: Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let order = visible_order(&state, &caller, id.into_inner()).await?;
    page.answer(
        &state,
        move |conn, window| repo::history(conn, order.id, window),
        |entry| (entry.at, entry.id),
    )
    .await
}

/// List an order's claims
///
/// The claims raised against the order, with their decisions.
#[utoipa::path(
    tag = "orders",
    operation_id = "listOrderClaims",
    params(("id" = Uuid, Path, description = "Order id"), PageParams),
    responses((status = 200, description = "Claims, oldest first", body = Page<Claim>)),
    security(("bearer" = []))
)]
#[get("/orders/{id}/claims")]
pub async fn list_claims(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
    page: Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let order = visible_order(&state, &caller, id.into_inner()).await?;
    page.answer(
        &state,
        move |conn, window| repo::claims_of_order(conn, order.id, window),
        |claim| (claim.created_at, claim.id),
    )
    .await
}

/// Record a claim against an order
///
/// Only delivered orders (shipped or later) take claims; the amount is in the order's
/// currency and the claim opens as `open`.
#[utoipa::path(
    tag = "orders",
    operation_id = "createOrderClaim",
    params(("id" = Uuid, Path, description = "Order id")),
    request_body = ClaimInput,
    responses(
        (status = 201, description = "Created", body = Claim, headers(("Location" = String))),
        (status = 409, description = "The order has not been shipped (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/orders/{id}/claims")]
pub async fn create_claim(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Body<ClaimInput>,
) -> ApiResult<HttpResponse> {
    require_seller(&caller)?;
    let id = id.into_inner();
    let Body { value: input, raw } = body;
    idempotent(&state, &caller, &req, &raw, || async {
        let order = visible_order(&state, &caller, id).await?;
        let today = state.today().await?;
        let actor = caller.user_id;
        reply::write(&state, move |conn| {
            let validate = |shipped_on| input.validate(shipped_on, today);
            Ok(match repo::add_claim(conn, &order, validate, actor)? {
                Ok(record) => Ok(Reply::created(&record, format!("{}/claims", location(id)))),
                Err(ClaimRefused::Invalid(errors)) => Err(ApiError::validation(errors)),
                Err(ClaimRefused::NotDelivered(status)) => Err(ApiError::new(
                    ErrorCode::InvalidTransition,
                    format!(
                        "a {} order has not been delivered; only shipped goods are claimed against",
                        status.as_str()
                    ),
                )),
            })
        })
        .await
    })
    .await
}

/// Decide a claim
///
/// Accept (settling the claimed amount or less) or reject an open claim, once. Admins and
/// unit managers decide.
#[utoipa::path(
    tag = "orders",
    operation_id = "decideOrderClaim",
    params(
        ("id" = Uuid, Path, description = "Order id"),
        ("claim_id" = Uuid, Path, description = "Claim id"),
    ),
    request_body = ClaimDecisionInput,
    responses(
        (status = 200, description = "Decided", body = Claim),
        (status = 403, description = "Your role may not decide claims (`forbidden`), or you raised or sold it (`same_person`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Decided before (`claim_already_decided`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/orders/{id}/claims/{claim_id}/decision")]
pub async fn decide_claim(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
    body: Body<ClaimDecisionInput>,
) -> ApiResult<HttpResponse> {
    if !caller.can_decide_claims() {
        return Err(ApiError::forbidden(
            "only admins and unit managers decide claims",
        ));
    }
    let (order_id, claim_id) = path.into_inner();
    let Body { value: input, raw } = body;
    idempotent(&state, &caller, &req, &raw, || async {
        let order = visible_order(&state, &caller, order_id).await?;
        let actor = caller.user_id;
        reply::write(&state, move |conn| {
            let outcome = repo::decide_claim(
                conn,
                claim_id,
                order.id,
                |claim| input.validate(claim.amount.amount_minor),
                actor,
            )?;
            Ok(match outcome {
                Err(errors) => Err(ApiError::validation(errors)),
                Ok(DecideOutcome::Decided(claim)) => Ok(Reply::ok(&claim)),
                Ok(DecideOutcome::NotFound) => Err(ApiError::not_found()),
                Ok(DecideOutcome::AlreadyDecided(claim)) => Err(ApiError::new(
                    ErrorCode::ClaimAlreadyDecided,
                    format!("the claim was {} already", claim.status.as_str()),
                )),
                Ok(DecideOutcome::SamePerson) => Err(ApiError::new(
                    ErrorCode::SamePerson,
                    "you raised this claim; someone else decides it",
                )),
            })
        })
        .await
    })
    .await
}
