//! Receivables and collections: open items, payments and their allocation, credit notes,
//! write-offs and lease schedules; the reports and the changes of terms live beside.

pub mod dunning;
pub mod reports;
pub mod snapshots;
pub mod targets;
pub mod terms;
pub mod warning;

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use credo_core::{Currency, FieldError, Principal};
use credo_receivables::ledger::{
    adjust, allocate, AdjustmentInput, AllocationInput, PaymentInput, ReceivableInput,
    ReductionKind, ReductionRefusal,
};
use credo_receivables::schedule::{Instalment, LeaseInput};
use credo_receivables::{Payment, Receivable, ReductionRecord};
use credo_store::keyset::Window;
use credo_store::receivables::{self as repo, ItemQuery, PaymentQuery, Posted, Reduced};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorCode, Problem};
use crate::export::Export;
use crate::extract::{self, Body, Query};
use crate::pagination::{Page, PageParams};
use crate::reply::{self, idempotent, Reply};
use crate::routes::customers::{referenced_customer, visible_record};
use crate::state::AppState;

pub(super) fn item_location(id: Uuid) -> String {
    format!("/api/v1/receivables/{id}")
}

fn payment_location(id: Uuid) -> String {
    format!("/api/v1/payments/{id}")
}

/// The day a report or a list is as of: the one asked for, else today.
pub(super) async fn report_day(state: &AppState, asked: Option<NaiveDate>) -> ApiResult<NaiveDate> {
    match asked {
        Some(day) => Ok(day),
        None => state.today().await,
    }
}

/// Finance and admins post invoices and money; who sells does not (separation of duties).
fn require_finance(caller: &Principal) -> ApiResult<()> {
    if caller.can_record_payments() {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "invoices, payments and credit notes are recorded by finance and admins",
        ))
    }
}

/// The answer to posting a record identified by its customer and reference: 201 for a new
/// one, 200 with the one posted before for a repeat, 409 `reference_conflict` naming it when
/// the reference is taken by another.
fn posted<T: Serialize>(
    outcome: Posted<T>,
    id: impl Fn(&T) -> Uuid,
    location: fn(Uuid) -> String,
) -> ApiResult<Reply> {
    match outcome {
        Posted::Created(record) => Ok(Reply::created(&record, location(id(&record)))),
        Posted::Existing(record) => Ok(Reply::ok(&record)),
        Posted::Conflict(record) => Err(ApiError::new(
            ErrorCode::ReferenceConflict,
            "this customer has another record with this reference",
        )
        .with_existing_id(id(&record))),
    }
}

/// The answer to a reduction: 201 with it, 404, 422 naming the fields, or 409
/// `over_allocation` saying what is left.
fn reduced(outcome: Reduced, location: String) -> ApiResult<Reply> {
    match outcome {
        Reduced::Reduced(record) => Ok(Reply::created(&record, location)),
        Reduced::NotFound => Err(ApiError::not_found()),
        Reduced::Refused(ReductionRefusal::Invalid(errors)) => Err(ApiError::validation(errors)),
        Reduced::Refused(ReductionRefusal::OverAllocation {
            open_minor,
            unallocated_minor,
        }) => {
            let left = match unallocated_minor {
                Some(unallocated) => format!(
                    "the item has {open_minor} open and the payment {unallocated} unallocated"
                ),
                None => format!("the item has {open_minor} open"),
            };
            Err(ApiError::new(
                ErrorCode::OverAllocation,
                format!("more than is left: {left} (minor units)"),
            ))
        }
    }
}

/// Post an open item
///
/// An invoice of a customer, as an ERP import or a finance clerk posts it: it stays open
/// until payments, credit notes or write-offs settle it. The customer's sales unit and
/// account manager are kept with it as they are now. Posting the same invoice number of the
/// same customer again answers 200 with the item posted before (a retried import counts
/// nothing twice); with other amounts or days, 409 `reference_conflict`. Finance and admins.
#[utoipa::path(
    tag = "receivables",
    operation_id = "postReceivable",
    request_body = ReceivableInput,
    responses(
        (status = 201, description = "Posted", body = Receivable, headers(("Location" = String))),
        (status = 200, description = "Posted before: the item as it is", body = Receivable),
        (status = 409, description = "Another item of this customer has this reference (`reference_conflict`, with `existing_id`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/receivables")]
pub async fn post_receivable(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    body: Body<ReceivableInput>,
) -> ApiResult<HttpResponse> {
    require_finance(&caller)?;
    let Body { value: input, raw } = body;
    idempotent(&state, &caller, &req, &raw, || async {
        let new = input
            .validate(state.today().await?)
            .map_err(ApiError::validation)?;
        referenced_customer(&state, &caller, new.customer_id, "customer_id").await?;
        let actor = caller.user_id;
        reply::write(&state, move |conn| {
            Ok(repo::post(conn, new.clone(), actor)?
                .map_err(|error| ApiError::validation(vec![error]))
                .and_then(|outcome| posted(outcome, |r| r.id, item_location)))
        })
        .await
    })
    .await
}

/// A lease billed as its schedule.
#[derive(Debug, Serialize, ToSchema)]
pub struct LeaseSchedulePosted {
    /// Principal and interest by month; the principal parts sum to the principal exactly.
    pub instalments: Vec<Instalment>,
    /// The open item of each instalment, `REFERENCE/1` first.
    pub items: Vec<Receivable>,
}

/// Post a lease's schedule
///
/// A lease (seed 000: about 36 monthly instalments of principal and interest) as an annuity:
/// equal monthly instalments, each month's interest the balance times the monthly rate,
/// rounded half up to the minor unit, the last instalment repaying what principal is left.
/// Each instalment is an open item `REFERENCE/k` due monthly from `first_due_on`, all
/// issued on the contract day. Posting the same lease again answers 200 with its items;
/// a reference taken by other items is 409 `reference_conflict`. Finance and admins.
#[utoipa::path(
    tag = "receivables",
    operation_id = "postLeaseSchedule",
    request_body = LeaseInput,
    responses(
        (status = 201, description = "Posted", body = LeaseSchedulePosted, headers(("Location" = String))),
        (status = 200, description = "Posted before: its items as they are", body = LeaseSchedulePosted),
        (status = 409, description = "Another item of this customer has one of the references (`reference_conflict`, with `existing_id`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/receivables/leases")]
pub async fn post_lease(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    body: Body<LeaseInput>,
) -> ApiResult<HttpResponse> {
    require_finance(&caller)?;
    let Body { value: input, raw } = body;
    idempotent(&state, &caller, &req, &raw, || async {
        let schedule = input
            .validate(state.today().await?)
            .map_err(ApiError::validation)?;
        referenced_customer(&state, &caller, input.customer_id, "customer_id").await?;
        let (actor, customer_id) = (caller.user_id, input.customer_id);
        reply::write(&state, move |conn| {
            let answer = |items| LeaseSchedulePosted {
                instalments: schedule.instalments.clone(),
                items,
            };
            let posted = match repo::post_schedule(conn, schedule.items.clone(), actor)? {
                Ok(posted) => posted,
                Err(error) => return Ok(Err(ApiError::validation(vec![error]))),
            };
            Ok(match posted {
                Posted::Created(items) => Ok(Reply::created(
                    &answer(items),
                    format!("/api/v1/receivables?customer_id={customer_id}"),
                )),
                Posted::Existing(items) => Ok(Reply::ok(&answer(items))),
                Posted::Conflict(items) => Err(ApiError::new(
                    ErrorCode::ReferenceConflict,
                    "this customer has other items with this lease's references",
                )
                .with_existing_id(items[0].id)),
            })
        })
        .await
    })
    .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ItemListParams {
    pub customer_id: Option<Uuid>,
    /// Items issued under this sales unit.
    pub sales_unit_id: Option<Uuid>,
    /// Items in this currency (ISO 4217).
    #[param(value_type = Option<String>, pattern = "^[A-Za-z]{3}$")]
    pub currency: Option<String>,
    /// The day the items are open on and `open_minor` is as of (default today).
    pub open_on: Option<NaiveDate>,
    /// `true`: only items past due on `open_on`.
    pub overdue: Option<bool>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the page before; absent for the first page.
    pub cursor: Option<String>,
}

/// List open items
///
/// The items with something open on `open_on` (default today), earliest due first: the
/// drill-down of an ageing report. `open_minor` is what was open on that day; nothing dated
/// after it counts. Row scope as everywhere: an agent sees its customers' items.
#[utoipa::path(
    tag = "receivables",
    operation_id = "listReceivables",
    params(ItemListParams),
    responses((status = 200, description = "Open items, earliest due first", body = Page<Receivable>)),
    security(("bearer" = []))
)]
#[get("/receivables")]
pub async fn list_receivables(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    params: Query<ItemListParams>,
    export: Export,
) -> ApiResult<HttpResponse> {
    let params = params.into_inner();
    let currency = extract::parsed_query("currency", params.currency.as_deref(), Currency::parse)?;
    let page = PageParams {
        limit: params.limit,
        cursor: params.cursor,
    };
    let query = ItemQuery {
        scope: caller.scope(),
        customer_id: params.customer_id,
        sales_unit_id: params.sales_unit_id,
        currency,
        open_on: report_day(&state, params.open_on).await?,
        overdue: params.overdue.unwrap_or(false),
    };
    page.answer_or_export(
        &state,
        export,
        move |conn, window| repo::open_items(conn, &query, window),
        |item: &Receivable| (item.due_on, item.id),
    )
    .await
}

/// An item whose customer the caller may see; anything else is 404.
pub(super) async fn visible_item(
    state: &AppState,
    caller: &Principal,
    id: Uuid,
) -> ApiResult<Receivable> {
    visible_record(
        state,
        caller,
        move |conn| repo::get(conn, id),
        |item: &Receivable| item.customer_id,
    )
    .await
}

/// Get an open item
///
/// The item with what is open of it today.
#[utoipa::path(
    tag = "receivables",
    operation_id = "getReceivable",
    params(("id" = Uuid, Path, description = "Item id")),
    responses((status = 200, description = "The item", body = Receivable)),
    security(("bearer" = []))
)]
#[get("/receivables/{id}")]
pub async fn get_receivable(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let item = visible_item(&state, &caller, id.into_inner()).await?;
    Ok(Reply::ok(&item).into_response())
}

/// List an item's reductions
///
/// The allocations, credit notes and write-offs of an item, oldest first.
#[utoipa::path(
    tag = "receivables",
    operation_id = "listReceivableReductions",
    params(("id" = Uuid, Path, description = "Item id"), PageParams),
    responses((status = 200, description = "Reductions, oldest first", body = Page<ReductionRecord>)),
    security(("bearer" = []))
)]
#[get("/receivables/{id}/reductions")]
pub async fn list_reductions(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
    page: Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let item = visible_item(&state, &caller, id.into_inner()).await?;
    page.answer(
        &state,
        move |conn, window| repo::reductions(conn, item.id, window),
        |reduction| (reduction.created_at, reduction.id),
    )
    .await
}

/// Adjusts item `id` by a credit note or a write-off: the rule decides on the locked item.
async fn adjust_item(
    state: &AppState,
    caller: &Principal,
    req: &HttpRequest,
    id: Uuid,
    kind: ReductionKind,
    body: Body<AdjustmentInput>,
) -> ApiResult<HttpResponse> {
    let Body { value: input, raw } = body;
    idempotent(state, caller, req, &raw, || async {
        visible_item(state, caller, id).await?;
        let today = state.today().await?;
        let actor = caller.user_id;
        reply::write(state, move |conn| {
            let decide = |item: &_| adjust(kind, &input, item, today);
            let outcome = repo::adjust(conn, id, decide, today, actor)?;
            Ok(reduced(
                outcome,
                format!("{}/reductions", item_location(id)),
            ))
        })
        .await
    })
    .await
}

/// Issue a credit note
///
/// Lowers what an item bills (a return, a price correction) from the day given, with the
/// reason. At most what is open: else 409 `over_allocation`. Finance and admins.
#[utoipa::path(
    tag = "receivables",
    operation_id = "createCreditNote",
    params(("id" = Uuid, Path, description = "Item id")),
    request_body = AdjustmentInput,
    responses(
        (status = 201, description = "Recorded", body = ReductionRecord, headers(("Location" = String))),
        (status = 409, description = "More than is open (`over_allocation`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/receivables/{id}/credit-notes")]
pub async fn create_credit_note(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Body<AdjustmentInput>,
) -> ApiResult<HttpResponse> {
    require_finance(&caller)?;
    adjust_item(
        &state,
        &caller,
        &req,
        id.into_inner(),
        ReductionKind::CreditNote,
        body,
    )
    .await
}

/// Write an item off
///
/// Gives up (part of) an item as uncollectable from the day given, with the reason. At most
/// what is open: else 409 `over_allocation`. Credit managers and admins decide write-offs.
#[utoipa::path(
    tag = "receivables",
    operation_id = "createWriteOff",
    params(("id" = Uuid, Path, description = "Item id")),
    request_body = AdjustmentInput,
    responses(
        (status = 201, description = "Recorded", body = ReductionRecord, headers(("Location" = String))),
        (status = 409, description = "More than is open (`over_allocation`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/receivables/{id}/write-offs")]
pub async fn create_write_off(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Body<AdjustmentInput>,
) -> ApiResult<HttpResponse> {
    if !caller.can_decide_credit() {
        return Err(ApiError::forbidden(
            "write-offs are decided by credit managers and admins",
        ));
    }
    adjust_item(
        &state,
        &caller,
        &req,
        id.into_inner(),
        ReductionKind::WriteOff,
        body,
    )
    .await
}

/// Record a payment
///
/// Money received from a customer, to allocate to its open items. Posting the same bank
/// reference of the same customer again answers 200 with the payment recorded before, so a
/// payment is never counted twice; with another amount or day, 409 `reference_conflict`.
/// Finance and admins.
#[utoipa::path(
    tag = "receivables",
    operation_id = "recordPayment",
    request_body = PaymentInput,
    responses(
        (status = 201, description = "Recorded", body = Payment, headers(("Location" = String))),
        (status = 200, description = "Recorded before: the payment as it is", body = Payment),
        (status = 409, description = "Another payment of this customer has this reference (`reference_conflict`, with `existing_id`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/payments")]
pub async fn record_payment(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    body: Body<PaymentInput>,
) -> ApiResult<HttpResponse> {
    require_finance(&caller)?;
    let Body { value: input, raw } = body;
    idempotent(&state, &caller, &req, &raw, || async {
        let new = input
            .validate(state.today().await?)
            .map_err(ApiError::validation)?;
        referenced_customer(&state, &caller, new.customer_id, "customer_id").await?;
        let actor = caller.user_id;
        reply::write(&state, move |conn| {
            let outcome = repo::record_payment(conn, new.clone(), actor)?;
            Ok(posted(outcome, |p| p.id, payment_location))
        })
        .await
    })
    .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PaymentListParams {
    pub customer_id: Option<Uuid>,
    /// `true`: only payments with something left to allocate.
    pub unallocated: Option<bool>,
}

/// List payments
///
/// Payments in the order recorded; `unallocated=true` lists what collectors still have to
/// apply (a customer with unallocated money is asked to allocate before it is dunned).
#[utoipa::path(
    tag = "receivables",
    operation_id = "listPayments",
    params(PaymentListParams, PageParams),
    responses((status = 200, description = "Payments, oldest first", body = Page<Payment>)),
    security(("bearer" = []))
)]
#[get("/payments")]
pub async fn list_payments(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    params: Query<PaymentListParams>,
    page: Query<PageParams>,
    export: Export,
) -> ApiResult<HttpResponse> {
    let (scope, customer_id) = (caller.scope(), params.customer_id);
    let unallocated = params.unallocated.unwrap_or(false);
    page.answer_or_export(
        &state,
        export,
        move |conn, window: &Window<_>| {
            let query = PaymentQuery {
                scope: scope.clone(),
                customer_id,
                unallocated,
                window: window.clone(),
            };
            repo::payments(conn, &query)
        },
        |payment| (payment.created_at, payment.id),
    )
    .await
}

/// A payment whose customer the caller may see; anything else is 404.
async fn visible_payment(state: &AppState, caller: &Principal, id: Uuid) -> ApiResult<Payment> {
    visible_record(
        state,
        caller,
        move |conn| repo::payment(conn, id),
        |payment: &Payment| payment.customer_id,
    )
    .await
}

/// Get a payment
///
/// The payment with what of it is not yet allocated.
#[utoipa::path(
    tag = "receivables",
    operation_id = "getPayment",
    params(("id" = Uuid, Path, description = "Payment id")),
    responses((status = 200, description = "The payment", body = Payment)),
    security(("bearer" = []))
)]
#[get("/payments/{id}")]
pub async fn get_payment(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let payment = visible_payment(&state, &caller, id.into_inner()).await?;
    Ok(Reply::ok(&payment).into_response())
}

/// Allocate a payment to an item
///
/// Settles part of an open item of the payment's customer, in its currency, from the day
/// given (on or after both the payment's and the item's days). Never more than the item has
/// open nor the payment has unallocated, however many requests race: 409
/// `over_allocation`. Finance and admins.
#[utoipa::path(
    tag = "receivables",
    operation_id = "allocatePayment",
    params(("id" = Uuid, Path, description = "Payment id")),
    request_body = AllocationInput,
    responses(
        (status = 201, description = "Allocated", body = ReductionRecord, headers(("Location" = String))),
        (status = 409, description = "More than is open or unallocated (`over_allocation`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/payments/{id}/allocations")]
pub async fn allocate_payment(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Body<AllocationInput>,
) -> ApiResult<HttpResponse> {
    require_finance(&caller)?;
    let payment_id = id.into_inner();
    let Body { value: input, raw } = body;
    idempotent(&state, &caller, &req, &raw, || async {
        visible_payment(&state, &caller, payment_id).await?;
        let item_id = input.receivable_id;
        visible_item(&state, &caller, item_id).await.map_err(|_| {
            ApiError::validation(vec![FieldError::new(
                "receivable_id",
                credo_core::FieldCode::NotFound,
                "no open item with this id in your data scope",
            )])
        })?;
        let today = state.today().await?;
        let actor = caller.user_id;
        reply::write(&state, move |conn| {
            let outcome = repo::allocate(
                conn,
                payment_id,
                item_id,
                |item, payment| allocate(&input, item, payment, today),
                today,
                actor,
            )?;
            Ok(reduced(
                outcome,
                format!("{}/reductions", item_location(item_id)),
            ))
        })
        .await
    })
    .await
}
