//! The bad-customer warning list every unit sees, and listing or lifting a customer by hand.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use credo_receivables::warning::{WarningChangeInput, WarningEntry};
use credo_store::receivables as repo;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::export::Export;
use crate::extract::{Body, Query};
use crate::pagination::{Page, PageParams};
use crate::reply::{self, idempotent, Reply};
use crate::state::AppState;

/// The warning list
///
/// Customers with a suit filed in the last 90 days (`lawsuit`) or older and not lifted
/// (`unresolved_case`), arrears on a sale without credit terms open over six months
/// (`non_credit_arrears`), a credit sale a month (30 days) overdue (`overdue_credit_sale`), or
/// listed by hand (`listed`, with its reason), as of today, by customer id. Every role sees
/// every entry, whoever owns the customer: the entry, not the rest of the file.
#[utoipa::path(
    tag = "receivables",
    operation_id = "getWarningList",
    params(PageParams),
    responses((status = 200, description = "A page of the list", body = Page<WarningEntry>)),
    security(("bearer" = []))
)]
#[get("/receivables/warning-list")]
pub async fn warning_list(
    state: web::Data<AppState>,
    _caller: Caller,
    page: Query<PageParams>,
    export: Export,
) -> ApiResult<HttpResponse> {
    let today = state.today().await?;
    page.answer_or_export(
        &state,
        export,
        move |conn, window| repo::warning_list(conn, today, window),
        |entry| ((), entry.customer_id),
    )
    .await
}

/// A listing or lifting by hand.
#[derive(Debug, Serialize, ToSchema)]
pub struct WarningChange {
    pub customer_id: Uuid,
    /// `true`: listed; `false`: lifted.
    pub listed: bool,
    pub reason: String,
    pub on: NaiveDate,
    pub by: Uuid,
}

async fn change(
    state: web::Data<AppState>,
    caller: credo_core::Principal,
    req: HttpRequest,
    customer: Uuid,
    body: Body<WarningChangeInput>,
    listed: bool,
) -> ApiResult<HttpResponse> {
    if !caller.can_decide_credit() {
        return Err(ApiError::forbidden(
            "the warning list is kept by credit managers and admins",
        ));
    }
    let Body { value: input, raw } = body;
    idempotent(&state, &caller, &req, &raw, || async {
        let reason = input.validate().map_err(ApiError::validation)?;
        let today = state.today().await?;
        let actor = caller.user_id;
        reply::write(&state, move |conn| {
            repo::change_warning(conn, customer, listed, reason.clone(), today, actor)?;
            Ok(Ok(Reply::ok(&WarningChange {
                customer_id: customer,
                listed,
                reason: reason.clone(),
                on: today,
                by: actor,
            })))
        })
        .await
    })
    .await
}

/// List a customer by hand
///
/// Puts a customer on the warning list with a reason (`listed`), until lifted; audited.
/// Credit managers and admins.
#[utoipa::path(
    tag = "receivables",
    operation_id = "listOnWarningList",
    params(("customer_id" = Uuid, Path, description = "Customer id")),
    request_body = WarningChangeInput,
    responses((status = 200, description = "Listed", body = WarningChange)),
    security(("bearer" = []))
)]
#[post("/receivables/warning-list/{customer_id}")]
pub async fn list_customer(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    customer: web::Path<Uuid>,
    body: Body<WarningChangeInput>,
) -> ApiResult<HttpResponse> {
    change(state, caller, req, customer.into_inner(), body, true).await
}

/// Lift a customer by hand
///
/// Ends a listing by hand and closes the suits filed before (the case is closed), with a
/// reason; audited. Arrears keep the customer listed until they are paid. Credit managers
/// and admins.
#[utoipa::path(
    tag = "receivables",
    operation_id = "liftFromWarningList",
    params(("customer_id" = Uuid, Path, description = "Customer id")),
    request_body = WarningChangeInput,
    responses((status = 200, description = "Lifted", body = WarningChange)),
    security(("bearer" = []))
)]
#[post("/receivables/warning-list/{customer_id}/lift")]
pub async fn lift_customer(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    customer: web::Path<Uuid>,
    body: Body<WarningChangeInput>,
) -> ApiResult<HttpResponse> {
    change(state, caller, req, customer.into_inner(), body, false).await
}
