//! Collection targets per collector and month, and what was achieved by month or quarter.

use actix_web::{get, put, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use credo_core::Currency;
use credo_receivables::targets::{achievement_bp, target_month, Period, TargetInput};
use credo_store::receivables as repo;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{self, Body, Query};
use crate::reply::{self, idempotent, Reply};
use crate::state::AppState;

/// A collector's target for a month.
#[derive(Debug, Serialize, ToSchema)]
pub struct CollectionTarget {
    pub collector_id: Uuid,
    /// `YYYY-MM`.
    #[schema(example = "2026-06")]
    pub month: String,
    #[schema(value_type = String, example = "CNY")]
    pub currency: Currency,
    #[schema(example = 50_000_000)]
    pub target_minor: i64,
}

/// Set a collection target
///
/// What a collector (the account manager items are issued under) is to collect in a month,
/// replacing the target set before; audited. Credit managers and admins.
#[utoipa::path(
    tag = "receivables",
    operation_id = "setCollectionTarget",
    params(
        ("collector_id" = Uuid, Path, description = "The collector's user id"),
        ("month" = String, Path, description = "`YYYY-MM`"),
    ),
    request_body = TargetInput,
    responses((status = 200, description = "Set", body = CollectionTarget)),
    security(("bearer" = []))
)]
#[put("/collection-targets/{collector_id}/{month}")]
pub async fn set_target(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    path: web::Path<(Uuid, String)>,
    body: Body<TargetInput>,
) -> ApiResult<HttpResponse> {
    if !caller.can_decide_credit() {
        return Err(ApiError::forbidden(
            "collection targets are set by credit managers and admins",
        ));
    }
    let (collector, month) = path.into_inner();
    let month_start =
        target_month(&month).map_err(|error| ApiError::validation(vec![error.nested("month")]))?;
    let Body { value: input, raw } = body;
    idempotent(&state, &caller, &req, &raw, || async {
        let target_minor = input.validate().map_err(ApiError::validation)?;
        let currency = match input.currency.as_deref().map(Currency::parse).transpose() {
            Ok(Some(currency)) => currency,
            Ok(None) => state.company().await?.settings.currency,
            Err(error) => return Err(ApiError::validation(vec![error.nested("currency")])),
        };
        let actor = caller.user_id;
        reply::write(&state, move |conn| {
            repo::set_target(conn, collector, month_start, currency, target_minor, actor)?;
            Ok(Ok(Reply::ok(&CollectionTarget {
                collector_id: collector,
                month: month.clone(),
                currency,
                target_minor,
            })))
        })
        .await
    })
    .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TargetParams {
    /// A month (`YYYY-MM`) or a quarter (`YYYY-Qn`); default this month.
    #[param(example = "2026-Q2")]
    pub period: Option<String>,
    /// Default the company currency.
    #[param(value_type = Option<String>, pattern = "^[A-Za-z]{3}$")]
    pub currency: Option<String>,
}

/// One collector's period.
#[derive(Debug, Serialize, ToSchema)]
pub struct CollectorResultRow {
    pub collector_id: Uuid,
    #[schema(example = "李娜")]
    pub name: String,
    /// The sum of the period's monthly targets; 0 without one.
    #[schema(example = 150_000_000)]
    pub target_minor: i64,
    /// Payments allocated in the period to the items issued under the collector.
    #[schema(example = 120_000_000)]
    pub achieved_minor: i64,
    /// Achieved of target in basis points (10000 = met), rounded half up; `null` without a
    /// target.
    #[schema(example = 8000)]
    pub achievement_bp: Option<i64>,
}

/// Targets against collections over a period.
#[derive(Debug, Serialize, ToSchema)]
pub struct TargetReport {
    #[schema(example = "2026-Q2")]
    pub period: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    #[schema(value_type = String, example = "CNY")]
    pub currency: Currency,
    /// By name: every collector the caller sees with a target or a collection.
    pub collectors: Vec<CollectorResultRow>,
}

/// Collection targets and achievement
///
/// For a month or a quarter, each collector's target and what was collected: payments
/// allocated in the period to the items issued under them. An agent sees their own, a unit
/// manager their unit's people, the others everyone.
#[utoipa::path(
    tag = "receivables",
    operation_id = "getCollectionTargets",
    params(TargetParams),
    responses((status = 200, description = "The period", body = TargetReport)),
    security(("bearer" = []))
)]
#[get("/collection-targets")]
pub async fn target_report(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    params: Query<TargetParams>,
) -> ApiResult<HttpResponse> {
    let params = params.into_inner();
    let (label, period) = match params.period {
        Some(raw) => {
            let period =
                extract::parsed_query("period", Some(&raw), Period::parse)?.expect("given");
            (raw, period)
        }
        None => {
            let month = state.today().await?.format("%Y-%m").to_string();
            let period = Period::parse(&month).expect("a month");
            (month, period)
        }
    };
    let currency =
        match extract::parsed_query("currency", params.currency.as_deref(), Currency::parse)? {
            Some(currency) => currency,
            None => state.company().await?.settings.currency,
        };
    let scope = caller.scope();
    let results = state
        .db(move |conn| repo::target_results(conn, period, currency, &scope))
        .await?;
    let collectors = results
        .into_iter()
        .map(|r| CollectorResultRow {
            achievement_bp: achievement_bp(r.achieved_minor, r.target_minor),
            collector_id: r.collector_id,
            name: r.name,
            target_minor: r.target_minor,
            achieved_minor: r.achieved_minor,
        })
        .collect();
    Ok(Reply::ok(&TargetReport {
        period: label,
        from: period.first,
        to: period.last(),
        currency,
        collectors,
    })
    .into_response())
}
