//! Receivables and collections: open items, payments and their allocation, credit notes and
//! write-offs, and the reports that read the ledger as of any day (ageing, the allowance).

use actix_web::{delete, get, post, put, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use credo_core::{Currency, FieldError, Principal};
use credo_receivables::ageing::{Basis, Buckets, GroupBy};
use credo_receivables::allowance::{
    allowance, AllowanceBandRule, AllowancePolicy, AllowancePolicyRules,
};
use credo_receivables::ledger::{
    adjust, allocate, AdjustmentInput, AllocationInput, PaymentInput, ReceivableInput,
    ReductionKind, ReductionRefusal,
};
use credo_receivables::schedule::{Instalment, LeaseInput};
use credo_receivables::terms::{
    decide, DecisionRefusal, DisputeInput, Extension, ExtensionDecisionInput, ExtensionInput,
};
use credo_receivables::{Payment, Receivable, ReductionRecord};
use credo_store::keyset::Window;
use credo_store::receivables::{
    self as repo, AgeingQuery, CustomerStanding, ItemQuery, LedgerSlice, PaymentQuery, Posted,
    Reduced, Terms, TermsRefusal,
};
use credo_store::settings::{self, Stored};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorCode, Problem};
use crate::extract::{self, Body, Query};
use crate::pagination::{self, Page, PageParams};
use crate::reply::{self, idempotent, Reply};
use crate::routes::customers::{referenced_customer, require_writer, visible_record};
use crate::state::AppState;

fn item_location(id: Uuid) -> String {
    format!("/api/v1/receivables/{id}")
}

fn payment_location(id: Uuid) -> String {
    format!("/api/v1/payments/{id}")
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
            Ok(repo::post(conn, new, actor)?
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
                instalments: schedule.instalments,
                items,
            };
            Ok(match repo::post_schedule(conn, schedule.items, actor)? {
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
) -> ApiResult<HttpResponse> {
    let params = params.into_inner();
    let currency = extract::parsed_query("currency", params.currency.as_deref(), Currency::parse)?;
    let limit = pagination::limit(params.limit)?;
    let after = pagination::after::<(NaiveDate, Uuid)>(params.cursor.as_deref())?;
    let query = ItemQuery {
        scope: caller.scope(),
        customer_id: params.customer_id,
        sales_unit_id: params.sales_unit_id,
        currency,
        open_on: report_day(&state, params.open_on).await?,
        overdue: params.overdue.unwrap_or(false),
        after,
        limit: limit + 1,
    };
    let items = state.db(move |conn| repo::open_items(conn, &query)).await?;
    let page = pagination::page(items, limit, |item: &Receivable| (item.due_on, item.id));
    Ok(Reply::ok(&page).into_response())
}

/// An item whose customer the caller may see; anything else is 404.
async fn visible_item(state: &AppState, caller: &Principal, id: Uuid) -> ApiResult<Receivable> {
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
    if !caller.can_write_off() {
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
            let outcome = repo::record_payment(conn, new, actor)?;
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
) -> ApiResult<HttpResponse> {
    let (scope, customer_id) = (caller.scope(), params.customer_id);
    let unallocated = params.unallocated.unwrap_or(false);
    page.answer(
        &state,
        move |conn, window: &Window<_>| {
            let query = PaymentQuery {
                scope,
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

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AgeingParams {
    /// The day the report is as of (default today): nothing dated after it counts.
    pub as_of: Option<NaiveDate>,
    /// Count days past the due day (`due`, default) or since the invoice day (`invoice`).
    #[param(inline)]
    pub basis: Option<Basis>,
    /// Ascending day limits, comma-separated (default `30,60,90,180,365`).
    #[param(example = "30,60,90,180,365", max_length = 100)]
    pub buckets: Option<String>,
    /// Sum by customer (default), by the sales unit or by the account manager the items
    /// were issued under.
    #[param(inline)]
    pub group_by: Option<GroupBy>,
    /// The report's one currency (default the company currency).
    #[param(value_type = Option<String>, pattern = "^[A-Za-z]{3}$")]
    pub currency: Option<String>,
    pub customer_id: Option<Uuid>,
    pub sales_unit_id: Option<Uuid>,
    /// Groups per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the page before; absent for the first page.
    pub cursor: Option<String>,
}

/// One group's open amounts.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgeingGroupRow {
    /// What the group is by.
    pub group_by: GroupBy,
    /// The customer, unit or user; `null` for items issued outside any sales unit.
    pub id: Option<Uuid>,
    #[schema(example = "深圳市华强贸易有限公司")]
    pub name: Option<String>,
    /// The sum of `buckets_minor`, exactly.
    #[schema(example = 123)]
    pub outstanding_minor: i64,
    /// One amount per label of `bucket_labels`.
    #[schema(example = json!([0, 0, 123, 0, 0, 0, 0]))]
    pub buckets_minor: Vec<i64>,
}

/// The report's open amounts over every group.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgeingTotals {
    #[schema(example = 123)]
    pub outstanding_minor: i64,
    #[schema(example = json!([0, 0, 123, 0, 0, 0, 0]))]
    pub buckets_minor: Vec<i64>,
}

/// An ageing report: what was open as of a day, by how long past the anchor day.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgeingReport {
    pub as_of: NaiveDate,
    pub basis: Basis,
    pub currency: Currency,
    #[schema(example = json!(["not_due", "1-30", "31-60", "61-90", "91-180", "181-365", "over_365"]))]
    pub bucket_labels: Vec<String>,
    /// Largest outstanding first, then by id.
    pub groups: Vec<AgeingGroupRow>,
    /// Every group of the report, not only this page's.
    pub totals: AgeingTotals,
    /// Pass back as `cursor` for the next groups; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// The report's day: the one asked for, else today.
async fn report_day(state: &AppState, asked: Option<NaiveDate>) -> ApiResult<NaiveDate> {
    match asked {
        Some(day) => Ok(day),
        None => state.today().await,
    }
}

/// The report's currency: the one asked for, else the company's.
async fn report_currency(state: &AppState, asked: Option<&str>) -> ApiResult<Currency> {
    match extract::parsed_query("currency", asked, Currency::parse)? {
        Some(currency) => Ok(currency),
        None => Ok(state.company().await?.settings.currency),
    }
}

/// Ageing of receivables
///
/// What was open as of `as_of` by how many days past due (or since the invoice), in
/// buckets, summed by customer, sales unit or account manager, in one currency. Buckets sum
/// exactly to `outstanding_minor` in each group and in `totals`; items with nothing open
/// are left out; anything dated after `as_of` never changes the report. Drill down with
/// `GET /receivables?customer_id=&open_on=`. Row scope as everywhere.
#[utoipa::path(
    tag = "receivables",
    operation_id = "getAgeing",
    params(AgeingParams),
    responses((status = 200, description = "The report", body = AgeingReport)),
    security(("bearer" = []))
)]
#[get("/receivables/ageing")]
pub async fn ageing(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    params: Query<AgeingParams>,
) -> ApiResult<HttpResponse> {
    let params = params.into_inner();
    let buckets = extract::parsed_query("buckets", params.buckets.as_deref(), Buckets::parse)?
        .unwrap_or_default();
    let limit = pagination::limit(params.limit)?;
    let after = pagination::after::<(i64, String)>(params.cursor.as_deref())?;
    let query = AgeingQuery {
        slice: LedgerSlice {
            scope: caller.scope(),
            as_of: report_day(&state, params.as_of).await?,
            currency: report_currency(&state, params.currency.as_deref()).await?,
            customer_id: params.customer_id,
            sales_unit_id: params.sales_unit_id,
        },
        basis: params.basis.unwrap_or(Basis::Due),
        buckets,
        group_by: params.group_by.unwrap_or(GroupBy::Customer),
        after,
        limit: limit + 1,
    };
    let report_query = query.clone();
    let (report, names) = state
        .db(move |conn| {
            let report = repo::ageing(conn, &report_query)?;
            let keys: Vec<String> = report.groups.iter().map(|g| g.key.clone()).collect();
            let names = repo::group_names(conn, report_query.group_by, &keys)?;
            Ok((report, names))
        })
        .await?;
    let rows = report
        .groups
        .into_iter()
        .map(|group| {
            let id = Uuid::parse_str(&group.key).ok();
            AgeingGroupRow {
                group_by: query.group_by,
                id,
                name: names.get(&group.key).cloned(),
                outstanding_minor: group.buckets.outstanding(),
                buckets_minor: group.buckets.into_vec(),
            }
        })
        .collect();
    let page = pagination::page(rows, limit, |row: &AgeingGroupRow| {
        (
            row.outstanding_minor,
            row.id.map(|id| id.to_string()).unwrap_or_default(),
        )
    });
    Ok(Reply::ok(&AgeingReport {
        as_of: query.slice.as_of,
        basis: query.basis,
        currency: query.slice.currency,
        bucket_labels: query.buckets.labels(query.basis),
        groups: page.items,
        totals: AgeingTotals {
            outstanding_minor: report.totals.outstanding(),
            buckets_minor: report.totals.into_vec(),
        },
        next_cursor: page.next_cursor,
    })
    .into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AllowanceParams {
    /// The day the balances are as of (default today).
    pub as_of: Option<NaiveDate>,
    /// The report's one currency (default the company currency).
    #[param(value_type = Option<String>, pattern = "^[A-Za-z]{3}$")]
    pub currency: Option<String>,
    pub customer_id: Option<Uuid>,
    pub sales_unit_id: Option<Uuid>,
}

/// One age band of the allowance.
#[derive(Debug, Serialize, ToSchema)]
pub struct AllowanceBand {
    /// Days since the invoice day, e.g. `0-365`, `over_1825`.
    #[schema(example = "0-365")]
    pub label: String,
    /// The share provided for, in basis points (500 = 5 %).
    #[schema(example = 500)]
    pub rate_bp: u32,
    /// What was open in the band.
    #[schema(example = 12_345)]
    pub balance_minor: i64,
    /// `balance_minor` times the rate, rounded half up to the minor unit.
    #[schema(example = 617)]
    pub allowance_minor: i64,
}

/// The bad-debt allowance by ageing band (账龄分析法).
#[derive(Debug, Serialize, ToSchema)]
pub struct AllowanceReport {
    pub as_of: NaiveDate,
    pub currency: Currency,
    pub bands: Vec<AllowanceBand>,
    pub total_balance_minor: i64,
    /// The sum of the bands' allowances.
    pub total_allowance_minor: i64,
}

/// Bad-debt allowance
///
/// What was open as of `as_of` in the bands of age since the invoice day of the allowance
/// policy, each times its rate (by default within 1 year 5 %, 1-2 years 10 %, 2-3 years
/// 20 %, 3-4 years 50 %, 4-5 years 80 %, over 5 years 100 %; a year is 365 days). Each band's allowance is rounded half up to the
/// minor unit and the total is their sum. Row scope as everywhere.
#[utoipa::path(
    tag = "receivables",
    operation_id = "getAllowance",
    params(AllowanceParams),
    responses((status = 200, description = "The allowance", body = AllowanceReport)),
    security(("bearer" = []))
)]
#[get("/receivables/allowance")]
pub async fn allowance_report(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    params: Query<AllowanceParams>,
) -> ApiResult<HttpResponse> {
    let params = params.into_inner();
    let stored = state.db(settings::allowance_policy).await?;
    let policy = AllowancePolicy::from_rules(&stored.settings.bands).map_err(|errors| {
        ApiError::new(
            ErrorCode::Internal,
            format!("the stored allowance policy is invalid: {errors:?}"),
        )
    })?;
    let query = AgeingQuery {
        slice: LedgerSlice {
            scope: caller.scope(),
            as_of: report_day(&state, params.as_of).await?,
            currency: report_currency(&state, params.currency.as_deref()).await?,
            customer_id: params.customer_id,
            sales_unit_id: params.sales_unit_id,
        },
        basis: Basis::Invoice,
        buckets: policy.ages().clone(),
        group_by: GroupBy::Customer,
        after: None,
        // Only the totals: no group is read.
        limit: 0,
    };
    let (as_of, currency) = (query.slice.as_of, query.slice.currency);
    let report = state.db(move |conn| repo::ageing(conn, &query)).await?;
    let bands: Vec<AllowanceBand> = policy
        .labels()
        .into_iter()
        .zip(report.totals.into_vec())
        .enumerate()
        .map(|(band, (label, balance_minor))| AllowanceBand {
            label,
            rate_bp: policy.rate_bp(band),
            balance_minor,
            allowance_minor: allowance(balance_minor, policy.rate_bp(band)),
        })
        .collect();
    Ok(Reply::ok(&AllowanceReport {
        as_of,
        currency,
        total_balance_minor: bands.iter().map(|b| b.balance_minor).sum(),
        total_allowance_minor: bands.iter().map(|b| b.allowance_minor).sum(),
        bands,
    })
    .into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DoubleTenParams {
    /// The items issued under this sales unit (default every unit the caller sees).
    pub sales_unit_id: Option<Uuid>,
    /// The day the lists are as of (default today).
    pub as_of: Option<NaiveDate>,
    /// The lists' one currency (default the company currency).
    #[param(value_type = Option<String>, pattern = "^[A-Za-z]{3}$")]
    pub currency: Option<String>,
}

/// A customer on a "double ten" list.
#[derive(Debug, Serialize, ToSchema)]
pub struct DoubleTenEntry {
    pub customer_id: Uuid,
    #[schema(example = "深圳市华强贸易有限公司")]
    pub name: Option<String>,
    /// Everything open of the customer on the day.
    #[schema(example = 31_500_000)]
    pub outstanding_minor: i64,
    /// Days its oldest overdue item is past due; `null` when nothing is overdue.
    #[schema(example = 45)]
    pub days_overdue: Option<i64>,
}

/// Seed 004's "double ten", watched monthly per sales unit.
#[derive(Debug, Serialize, ToSchema)]
pub struct DoubleTenReport {
    pub as_of: NaiveDate,
    pub currency: Currency,
    /// The ten customers with the largest outstanding, largest first.
    pub largest: Vec<DoubleTenEntry>,
    /// The ten customers with the oldest overdue item, oldest first.
    pub oldest: Vec<DoubleTenEntry>,
}

/// The "double ten"
///
/// Seed 004's watch list per sales unit: the ten customers with the largest outstanding
/// and the ten whose oldest overdue item is oldest, as of a day, in one currency. Row scope
/// as everywhere.
#[utoipa::path(
    tag = "receivables",
    operation_id = "getDoubleTen",
    params(DoubleTenParams),
    responses((status = 200, description = "The two lists", body = DoubleTenReport)),
    security(("bearer" = []))
)]
#[get("/receivables/double-ten")]
pub async fn double_ten(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    params: Query<DoubleTenParams>,
) -> ApiResult<HttpResponse> {
    let params = params.into_inner();
    let slice = LedgerSlice {
        scope: caller.scope(),
        as_of: report_day(&state, params.as_of).await?,
        currency: report_currency(&state, params.currency.as_deref()).await?,
        customer_id: None,
        sales_unit_id: params.sales_unit_id,
    };
    let (as_of, currency) = (slice.as_of, slice.currency);
    let (lists, names) = state
        .db(move |conn| {
            let lists = repo::double_ten(conn, &slice)?;
            let keys: Vec<String> = lists
                .largest
                .iter()
                .chain(&lists.oldest)
                .map(|s| s.customer_id.to_string())
                .collect();
            let names = repo::group_names(conn, GroupBy::Customer, &keys)?;
            Ok((lists, names))
        })
        .await?;
    let entry = |standing: CustomerStanding| DoubleTenEntry {
        customer_id: standing.customer_id,
        name: names.get(&standing.customer_id.to_string()).cloned(),
        outstanding_minor: standing.outstanding_minor,
        days_overdue: standing.oldest_due_on.map(|due| (as_of - due).num_days()),
    };
    Ok(Reply::ok(&DoubleTenReport {
        as_of,
        currency,
        largest: lists.largest.into_iter().map(entry).collect(),
        oldest: lists.oldest.into_iter().map(entry).collect(),
    })
    .into_response())
}

/// The answer to a change of an item's terms: `ok` with the changed record, or the refusal.
fn terms<T>(outcome: Terms<T>, ok: impl FnOnce(T) -> Reply) -> ApiResult<Reply> {
    match outcome {
        Terms::Changed(record) => Ok(ok(record)),
        Terms::NotFound => Err(ApiError::not_found()),
        Terms::Refused(refusal) => Err(match refusal {
            TermsRefusal::Settled => {
                ApiError::new(ErrorCode::ItemSettled, "nothing of the item is open")
            }
            TermsRefusal::Pending(pending) => ApiError::new(
                ErrorCode::ExtensionPending,
                "decide the pending request for more time first",
            )
            .with_existing_id(pending.id),
            TermsRefusal::Disputed(true) => {
                ApiError::new(ErrorCode::AlreadyDisputed, "the item is in dispute already")
            }
            TermsRefusal::Disputed(false) => {
                ApiError::new(ErrorCode::NotDisputed, "the item is not in dispute")
            }
            TermsRefusal::Decision(DecisionRefusal::AlreadyDecided(status)) => ApiError::new(
                ErrorCode::ExtensionDecided,
                format!("the request was {} already", status.as_str()),
            ),
            TermsRefusal::Decision(DecisionRefusal::SamePerson) => ApiError::new(
                ErrorCode::SamePerson,
                "who asked for more time does not grant it",
            ),
            TermsRefusal::Decision(DecisionRefusal::Invalid(errors))
            | TermsRefusal::Invalid(errors) => ApiError::validation(errors),
        }),
    }
}

/// Ask for more time
///
/// A written request to move an open item's due day later, with the reason (seed 004: a
/// typhoon delays a Hainan dealer). Someone other than who asked decides it; until then a
/// second request is 409 `extension_pending`. Every role that works the file.
#[utoipa::path(
    tag = "receivables",
    operation_id = "requestExtension",
    params(("id" = Uuid, Path, description = "Item id")),
    request_body = ExtensionInput,
    responses(
        (status = 201, description = "Requested", body = Extension, headers(("Location" = String))),
        (status = 409, description = "Nothing is open (`item_settled`), or a request is pending (`extension_pending`, with `existing_id`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/receivables/{id}/extensions")]
pub async fn request_extension(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Body<ExtensionInput>,
) -> ApiResult<HttpResponse> {
    require_writer(&caller)?;
    let id = id.into_inner();
    let Body { value: input, raw } = body;
    idempotent(&state, &caller, &req, &raw, || async {
        visible_item(&state, &caller, id).await?;
        let actor = caller.user_id;
        reply::write(&state, move |conn| {
            let outcome = repo::request_extension(conn, id, |due| input.validate(due), actor)?;
            Ok(terms(outcome, |extension| {
                Reply::created(&extension, format!("{}/extensions", item_location(id)))
            }))
        })
        .await
    })
    .await
}

/// List an item's requests for more time
///
/// Every request with its decision, oldest first.
#[utoipa::path(
    tag = "receivables",
    operation_id = "listExtensions",
    params(("id" = Uuid, Path, description = "Item id"), PageParams),
    responses((status = 200, description = "Requests, oldest first", body = Page<Extension>)),
    security(("bearer" = []))
)]
#[get("/receivables/{id}/extensions")]
pub async fn list_extensions(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
    page: Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let item = visible_item(&state, &caller, id.into_inner()).await?;
    page.answer(
        &state,
        move |conn, window| repo::extensions(conn, item.id, window),
        |extension| (extension.requested_at, extension.id),
    )
    .await
}

/// Decide a request for more time
///
/// Grant it (the item's due day moves to the one asked for; the first due day is kept in
/// `original_due_on`) or refuse it, once, audited. Admins, credit managers and unit
/// managers, never who asked (403 `same_person`).
#[utoipa::path(
    tag = "receivables",
    operation_id = "decideExtension",
    params(
        ("id" = Uuid, Path, description = "Item id"),
        ("extension_id" = Uuid, Path, description = "Request id"),
    ),
    request_body = ExtensionDecisionInput,
    responses(
        (status = 200, description = "Decided", body = Extension),
        (status = 403, description = "Your role may not decide (`forbidden`), or you asked (`same_person`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Decided before (`extension_decided`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/receivables/{id}/extensions/{extension_id}/decision")]
pub async fn decide_extension(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
    body: Body<ExtensionDecisionInput>,
) -> ApiResult<HttpResponse> {
    if !caller.can_decide_extensions() {
        return Err(ApiError::forbidden(
            "more time is granted by admins, credit managers and unit managers",
        ));
    }
    let (id, extension_id) = path.into_inner();
    let Body { value: input, raw } = body;
    idempotent(&state, &caller, &req, &raw, || async {
        visible_item(&state, &caller, id).await?;
        let actor = caller.user_id;
        reply::write(&state, move |conn| {
            let decide = |extension: &Extension| decide(extension, &input, actor);
            let outcome = repo::decide_extension(conn, id, extension_id, decide, actor)?;
            Ok(terms(outcome, |extension| Reply::ok(&extension)))
        })
        .await
    })
    .await
}

/// Open a dispute
///
/// The customer disputes an open item (quality, quantity, price): its dunning pauses until
/// the dispute is resolved or its `until` day passes. A second dispute is 409
/// `already_disputed`. Every role that works the file.
#[utoipa::path(
    tag = "receivables",
    operation_id = "openDispute",
    params(("id" = Uuid, Path, description = "Item id")),
    request_body = DisputeInput,
    responses(
        (status = 200, description = "The item, in dispute", body = Receivable),
        (status = 409, description = "Nothing is open (`item_settled`), or it is in dispute already (`already_disputed`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/receivables/{id}/dispute")]
pub async fn open_dispute(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Body<DisputeInput>,
) -> ApiResult<HttpResponse> {
    require_writer(&caller)?;
    let id = id.into_inner();
    let Body { value: input, raw } = body;
    idempotent(&state, &caller, &req, &raw, || async {
        visible_item(&state, &caller, id).await?;
        let dispute = input
            .validate(state.today().await?)
            .map_err(ApiError::validation)?;
        let actor = caller.user_id;
        reply::write(&state, move |conn| {
            let outcome = repo::set_dispute(conn, id, Some(dispute), actor)?;
            Ok(terms(outcome, |item| Reply::ok(&item)))
        })
        .await
    })
    .await
}

/// Resolve a dispute
///
/// Ends an item's dispute: its dunning resumes. 409 `not_disputed` when there is none.
#[utoipa::path(
    tag = "receivables",
    operation_id = "resolveDispute",
    params(("id" = Uuid, Path, description = "Item id")),
    responses(
        (status = 200, description = "The item, out of dispute", body = Receivable),
        (status = 409, description = "The item is not in dispute (`not_disputed`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/receivables/{id}/dispute")]
pub async fn resolve_dispute(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    require_writer(&caller)?;
    let id = id.into_inner();
    visible_item(&state, &caller, id).await?;
    let actor = caller.user_id;
    let reply = reply::write(&state, move |conn| {
        let outcome = repo::set_dispute(conn, id, None, actor)?;
        Ok(terms(outcome, |item| Reply::ok(&item)))
    })
    .await?;
    Ok(reply.into_response())
}

/// The allowance policy as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AllowancePolicyRecord {
    /// Youngest first; the last band holds everything older.
    pub bands: Vec<AllowanceBandRule>,
    /// 0 while the default stands; the ETag is derived from it.
    #[schema(example = 1)]
    pub version: i64,
    pub updated_at: Option<chrono::DateTime<chrono::Utc>>,
    pub updated_by: Option<Uuid>,
}

fn policy_record(stored: Stored<AllowancePolicyRules>) -> AllowancePolicyRecord {
    AllowancePolicyRecord {
        bands: stored.settings.bands,
        version: stored.version,
        updated_at: stored.updated_at,
        updated_by: stored.updated_by,
    }
}

/// Get the allowance policy
///
/// The bands of age since the invoice day and their rates the bad-debt allowance applies;
/// the published matrix until someone changes it.
#[utoipa::path(
    tag = "receivables",
    operation_id = "getAllowancePolicy",
    responses((status = 200, description = "The policy", body = AllowancePolicyRecord, headers(("ETag" = String)))),
    security(("bearer" = []))
)]
#[get("/receivables/allowance-policy")]
pub async fn get_allowance_policy(
    state: web::Data<AppState>,
    _caller: Caller,
) -> ApiResult<HttpResponse> {
    let stored = state.db(settings::allowance_policy).await?;
    let version = stored.version;
    Ok(Reply::ok(&policy_record(stored))
        .with_version(version)
        .into_response())
}

/// Replace the allowance policy
///
/// New bands and rates for the bad-debt allowance (2 to 13 bands, ascending ages, the last
/// open-ended, rates that never fall with age), audited. `If-Match` is required. Admins and
/// credit managers.
#[utoipa::path(
    tag = "receivables",
    operation_id = "replaceAllowancePolicy",
    params(("If-Match" = String, Header, description = "ETag of the version you changed")),
    request_body = AllowancePolicyRules,
    responses(
        (status = 200, description = "Replaced", body = AllowancePolicyRecord, headers(("ETag" = String))),
        (status = 412, description = "Stale If-Match; `current` holds the policy", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[put("/receivables/allowance-policy")]
pub async fn replace_allowance_policy(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    body: Body<AllowancePolicyRules>,
) -> ApiResult<HttpResponse> {
    if !caller.can_write_off() {
        return Err(ApiError::forbidden(
            "the allowance policy is set by credit managers and admins",
        ));
    }
    let expected = extract::if_match(&req)?;
    let rules = body.value;
    let actor = caller.user_id;
    let outcome = state
        .db(move |conn| {
            let next =
                |_: &AllowancePolicyRules| AllowancePolicy::from_rules(&rules.bands).map(|_| rules);
            settings::update_allowance_policy(conn, &expected, next, actor)
        })
        .await?;
    let reply = reply::updated(
        outcome.map(policy_record),
        "allowance policy",
        |r| r.version,
        ApiError::validation,
    )?;
    Ok(reply.into_response())
}
