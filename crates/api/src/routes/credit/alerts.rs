//! Early warnings for the credit department and the account managers.

use actix_web::{get, web, HttpResponse};
use credo_credit::alert::{Alert, AlertKind};
use credo_store::credit::alerts::{self as repo, AlertFilter};
use credo_store::keyset::Window;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::extract::Query;
use crate::pagination::{Page, PageParams};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertListParams {
    pub customer_id: Option<Uuid>,
    #[param(inline)]
    pub kind: Option<AlertKind>,
}

/// List credit alerts
///
/// Early warnings, the latest first: `limit_use` (an order step took exposure above the
/// policy's share of the limit, default 90 %), `rating_drop` (an approved line rated worse
/// than the one it replaced), `litigation` (a litigation event), `overdue` (dunning reached a
/// level with a credit effect). Each is raised once per customer, kind and day, with a review
/// task for the account manager. Within the caller's data scope.
#[utoipa::path(
    tag = "credit",
    operation_id = "listCreditAlerts",
    params(AlertListParams, PageParams),
    responses((status = 200, description = "One page", body = Page<Alert>)),
    security(("bearer" = []))
)]
#[get("/credit/alerts")]
pub async fn list_alerts(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    params: Query<AlertListParams>,
    page: Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let filter = AlertFilter {
        scope: caller.scope(),
        customer_id: params.customer_id,
        kind: params.kind,
    };
    page.answer(
        &state,
        move |conn, window: &Window<_>| repo::alerts(conn, &filter, window),
        |alert: &Alert| (alert.created_at, alert.id),
    )
    .await
}
