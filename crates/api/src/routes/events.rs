//! Customer events that open credit reviews, and the freshness of basic credit data: the
//! stale list and the refresh that clears a file from it.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use credo_core::date::not_in_future;
use credo_core::FieldCode;
use credo_customers::{Customer, CustomerEvent, EventInput};
use credo_store::activity;
use credo_store::customers::{self as repo, Change};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{self, Body, OptionalBody, Query};
use crate::pagination::{self, Page, PageParams};
use crate::reply::{self, idempotent, Reply};
use crate::routes::customers::{require_writer, updated, visible_customer};
use crate::state::AppState;

/// List a customer's events
///
/// Recorded customer events (litigation, management change and the like), newest first;
/// the kinds that open a credit review say so in `opens_credit_review`.
#[utoipa::path(
    tag = "customers",
    operation_id = "listCustomerEvents",
    params(("id" = Uuid, Path, description = "Customer id"), PageParams),
    responses((status = 200, description = "Events, newest recorded first", body = Page<CustomerEvent>)),
    security(("bearer" = []))
)]
#[get("/customers/{id}/events")]
pub async fn list_events(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
    page: Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let customer = visible_customer(&state, &caller, id.into_inner()).await?;
    page.answer(
        &state,
        move |conn, window| activity::events(conn, customer.id, window),
        |event| (event.created_at, event.id),
    )
    .await
}

/// Record a customer event
///
/// A change of legal representative, leadership or key contact, an asset sale, a transfer of
/// contracted property, a major investment, restructuring, litigation, an accident or an
/// external guarantee marks the customer "credit review due" (`credit_review_due_since`);
/// `other` is recorded without that.
#[utoipa::path(
    tag = "customers",
    operation_id = "createCustomerEvent",
    params(("id" = Uuid, Path, description = "Customer id")),
    request_body = EventInput,
    responses((status = 201, description = "Created", body = CustomerEvent, headers(("Location" = String)))),
    security(("bearer" = []))
)]
#[post("/customers/{id}/events")]
pub async fn create_event(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Body<EventInput>,
) -> ApiResult<HttpResponse> {
    require_writer(&caller)?;
    let customer_id = id.into_inner();
    let Body { value: input, raw } = body;
    idempotent(&state, &caller, &req, &raw, || async {
        let customer = visible_customer(&state, &caller, customer_id).await?;
        let event = input
            .validate(state.today().await?)
            .map_err(ApiError::validation)?;
        let actor = caller.user_id;
        reply::write(&state, move |conn| {
            let record = activity::add_event(conn, customer.id, event.clone(), actor)?;
            Ok(Ok(Reply::created(
                &record,
                format!("/api/v1/customers/{customer_id}/events"),
            )))
        })
        .await
    })
    .await
}

/// When the credit data was checked.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshInput {
    /// The day the data was checked, when it was not today (recording an earlier check).
    pub checked_on: Option<NaiveDate>,
}

/// Record that a customer's credit data was refreshed
///
/// The basic credit data (licence, financials, bank credit) was checked and is current; the
/// customer leaves the stale list for another `older_than_days`. The body may be omitted.
/// `If-Match` is checked when sent.
#[utoipa::path(
    tag = "customers",
    operation_id = "refreshCustomerCreditData",
    params(
        ("id" = Uuid, Path, description = "Customer id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version you refreshed"),
    ),
    request_body(content = Option<RefreshInput>, description = "When the data was checked"),
    responses(
        (status = 200, description = "Refreshed", body = Customer, headers(("ETag" = String))),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/customers/{id}/credit-data-refresh")]
pub async fn refresh_credit_data(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    OptionalBody(body): OptionalBody<RefreshInput>,
) -> ApiResult<HttpResponse> {
    require_writer(&caller)?;
    let expected = extract::optional_if_match(&req)?;
    let Body { value: input, raw } = body;
    let id = id.into_inner();
    idempotent(&state, &caller, &req, &raw, || async {
        let checked_at = match input.checked_on {
            None => credo_store::now(),
            Some(day) => not_in_future(day, state.today().await?)
                .map_err(|e| ApiError::validation(vec![e.nested("checked_on")]))?
                .and_time(NaiveTime::MIN)
                .and_utc(),
        };
        let current = visible_customer(&state, &caller, id).await?;
        let actor = caller.user_id;
        let change = Change::CreditDataRefreshed(checked_at);
        let caller = caller.clone();
        reply::write(&state, move |conn| {
            Ok(updated(
                &caller,
                repo::update(conn, current.id, &expected, change.clone(), actor)?,
            ))
        })
        .await
    })
    .await
}

/// Default age of credit data that counts as stale: six months (seed 004).
const DEFAULT_STALE_DAYS: i64 = 180;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StaleParams {
    /// Credit data older than this many days is stale (1 to 3650, default 180).
    #[param(minimum = 1, maximum = 3650)]
    pub older_than_days: Option<i64>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct StaleCursor {
    t: NaiveDateTime,
    i: Uuid,
}

/// List customers with stale credit data
///
/// Live customers whose basic credit data was not refreshed within `older_than_days`, the
/// longest-stale first, within the caller's scope.
#[utoipa::path(
    tag = "customers",
    operation_id = "listStaleCustomers",
    params(StaleParams),
    responses((status = 200, description = "One page", body = Page<Customer>)),
    security(("bearer" = []))
)]
#[get("/customers/stale")]
pub async fn list_stale(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    params: Query<StaleParams>,
) -> ApiResult<HttpResponse> {
    let p = params.into_inner();
    let limit = pagination::limit(p.limit)?;
    let days = p.older_than_days.unwrap_or(DEFAULT_STALE_DAYS);
    if !(1..=3650).contains(&days) {
        return Err(extract::invalid_query(
            "older_than_days",
            credo_core::FieldError::new("", FieldCode::OutOfRange, "1 to 3650"),
        ));
    }
    let after = pagination::after::<StaleCursor>(p.cursor.as_deref())?.map(|c| (c.t, c.i));
    let cutoff = Utc::now() - Duration::days(days);
    let scope = caller.scope();
    let items = state
        .db(move |conn| repo::stale(conn, &scope, cutoff, after, limit + 1))
        .await?;
    let page = pagination::page(items, limit, |item| StaleCursor {
        t: item.credit_data_refreshed_at.naive_utc(),
        i: item.id,
    });
    Ok(Reply::ok(&page).into_response())
}
