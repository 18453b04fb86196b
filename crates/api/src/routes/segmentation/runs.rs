//! Segmentation runs: queued with 202 as jobs, read back with their models, results, the
//! 80/20 report and how customers moved between two runs.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use credo_core::date::not_in_future;
use credo_core::{FieldCode, Principal, Role, Scope};
use credo_segmentation::abc::AbcClass;
use credo_segmentation::overrides::may_override;
use credo_segmentation::policy::{Quadrant, ServiceTier};
use credo_segmentation::record::{Movement, ParetoReport, Run, RunResult};
use credo_store::keyset::Window;
use credo_store::segmentation::{self as repo, ResultFilter};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};
use crate::export::Export;
use crate::extract::{Body, Query};
use crate::pagination::{Page, PageParams};
use crate::reply::{self, idempotent, Reply};
use crate::state::AppState;

/// A run to make.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunInput {
    /// The day the run grades as of: today (default) or earlier.
    #[schema(example = "2026-11-30")]
    pub as_of: Option<NaiveDate>,
    /// Grade only this unit's customers (a unit manager's own unit always).
    pub sales_unit_id: Option<Uuid>,
}

/// Who may start runs: those who may override grades. A unit manager grades its own unit.
fn run_unit(caller: &Principal, asked: Option<Uuid>) -> ApiResult<Option<Uuid>> {
    if !may_override(caller) {
        return Err(ApiError::forbidden(
            "runs are started by admins, credit managers and unit managers",
        ));
    }
    if caller.role != Role::UnitManager {
        return Ok(asked);
    }
    match (caller.sales_unit_id, asked) {
        (Some(own), None) => Ok(Some(own)),
        (Some(own), Some(asked)) if own == asked => Ok(Some(own)),
        _ => Err(ApiError::forbidden("a unit manager grades their own unit")),
    }
}

/// Start a segmentation run
///
/// Queues a run that grades every live customer (or one unit's) as of `as_of` by the policy
/// in force: ABC, the value score, RFM, BG/NBD and Gamma-Gamma fitted on the purchases,
/// lifetime value, churn, quadrant and tier. Answers 202 with the run and its `Location`;
/// a job runner does it (exactly once with several instances, resumed after a restart).
/// A run as of today gives each customer whose churn probability reaches the threshold
/// one open `churn_intervention` task. The same run (day, policy version, scope) queued or
/// running already is `409 run_in_progress` with its `Location`; at most three runs wait
/// company-wide (`429 too_many_runs` with `Retry-After` beyond). Admins, credit managers
/// and unit managers (their own unit).
#[utoipa::path(
    tag = "segmentation",
    operation_id = "startSegmentationRun",
    request_body = RunInput,
    responses(
        (status = 202, description = "Queued", body = Run, headers(("Location" = String, description = "The run"))),
        (status = 409, description = "The same run is queued or running (`run_in_progress`); `Location` names it", body = Problem, content_type = "application/problem+json", headers(("Location" = String, description = "The run that answers"))),
        (status = 429, description = "Enough runs wait (`too_many_runs`)", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
    security(("bearer" = []))
)]
#[post("/segmentation/runs")]
pub async fn start_run(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    body: Body<RunInput>,
) -> ApiResult<HttpResponse> {
    let unit = run_unit(&caller, body.value.sales_unit_id)?;
    let today = state.today().await?;
    let as_of = match body.value.as_of {
        Some(day) => {
            not_in_future(day, today).map_err(|e| ApiError::validation(vec![e.nested("as_of")]))?
        }
        None => today,
    };
    if let Some(unit) = unit {
        let known = state
            .db(move |conn| credo_store::units::get(conn, unit))
            .await?;
        if known.is_none() {
            return Err(ApiError::field(
                "sales_unit_id",
                FieldCode::UnknownSalesUnit,
                "no sales unit has this id",
            ));
        }
    }
    let Body { raw, .. } = body;
    idempotent(&state, &caller, &req, &raw, || async {
        let actor = caller.user_id;
        reply::write(&state, move |conn| {
            let request = repo::create_run(conn, as_of, unit, actor)?;
            Ok(reply::queued_run(request, |run: &Run| {
                format!("/api/v1/segmentation/runs/{}", run.id)
            }))
        })
        .await
    })
    .await
}

/// List segmentation runs
///
/// The latest started first.
#[utoipa::path(
    tag = "segmentation",
    operation_id = "listSegmentationRuns",
    params(PageParams),
    responses((status = 200, description = "One page", body = Page<Run>)),
    security(("bearer" = []))
)]
#[get("/segmentation/runs")]
pub async fn list_runs(
    state: web::Data<AppState>,
    _caller: Caller,
    page: Query<PageParams>,
) -> ApiResult<HttpResponse> {
    page.answer(
        &state,
        move |conn, window: &Window<_>| repo::runs(conn, window),
        |run: &Run| (run.created_at, run.id),
    )
    .await
}

async fn run_or_404(state: &AppState, id: Uuid) -> ApiResult<Run> {
    state
        .db(move |conn| repo::get_run(conn, id))
        .await?
        .ok_or_else(ApiError::not_found)
}

/// Get a segmentation run
///
/// Its state and progress (customers written of the total), the policy version it grades
/// by, the models it fitted (time unit, BG/NBD r, alpha, a, b and Gamma-Gamma p, q, gamma,
/// each with its full log-likelihood and the customers it was fitted on, or a note why
/// not) and how many orders it left out for want of an exchange rate.
#[utoipa::path(
    tag = "segmentation",
    operation_id = "getSegmentationRun",
    params(("id" = Uuid, Path, description = "Run id")),
    responses((status = 200, description = "The run", body = Run)),
    security(("bearer" = []))
)]
#[get("/segmentation/runs/{id}")]
pub async fn get_run(
    state: web::Data<AppState>,
    _caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let run = run_or_404(&state, id.into_inner()).await?;
    Ok(Reply::ok(&run).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResultParams {
    /// The rules' grade.
    #[param(example = "A")]
    pub grade: Option<String>,
    #[param(inline)]
    pub abc: Option<AbcClass>,
    #[param(inline)]
    pub quadrant: Option<Quadrant>,
    #[param(inline)]
    pub tier: Option<ServiceTier>,
    /// Churn probability at or above (0 to 1).
    #[param(example = 0.5, minimum = 0, maximum = 1)]
    pub churn_above: Option<f64>,
    pub sales_unit_id: Option<Uuid>,
    /// Only customers who lost money over the period (true) or did not (false).
    pub negative_value: Option<bool>,
}

/// List a run's results
///
/// One line per customer the caller sees, the most valuable (ABC rank) first, filtered by
/// grade, ABC class, quadrant, tier, churn probability, unit or negative value. A run that
/// has not finished lists what it has written so far.
#[utoipa::path(
    tag = "segmentation",
    operation_id = "listSegmentationResults",
    params(("id" = Uuid, Path, description = "Run id"), ResultParams, PageParams),
    responses(
        (status = 200, description = "One page", body = Page<RunResult>),
        (status = 422, description = "`churn_above` is not a probability", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/segmentation/runs/{id}/results")]
pub async fn list_results(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
    params: Query<ResultParams>,
    page: Query<PageParams>,
    export: Export,
) -> ApiResult<HttpResponse> {
    let run = run_or_404(&state, id.into_inner()).await?;
    if let Some(churn) = params.churn_above {
        if !(0.0..=1.0).contains(&churn) {
            return Err(ApiError::field(
                "churn_above",
                FieldCode::OutOfRange,
                "a probability from 0 to 1",
            ));
        }
    }
    let params = params.into_inner();
    let filter = ResultFilter {
        grade: params.grade,
        abc: params.abc,
        quadrant: params.quadrant,
        tier: params.tier,
        churn_above: params.churn_above,
        sales_unit_id: params.sales_unit_id,
        negative_value: params.negative_value,
    };
    let scope = caller.scope();
    page.answer_or_export(
        &state,
        export,
        move |conn, window: &Window<i64>| repo::results(conn, run.id, &scope, &filter, window),
        |result: &RunResult| (i64::from(result.abc.rank), result.customer_id),
    )
    .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CompareParams {
    /// The earlier run to compare with.
    pub with: Uuid,
}

/// Compare two runs
///
/// The customers the caller sees whose grade, ABC class, quadrant or tier differ between
/// the run `with` (before) and this one (after), in customer order, each with its lines in
/// both and the reasons: the ABC measure and rank, the score and the indicators that changed
/// most by weight.
#[utoipa::path(
    tag = "segmentation",
    operation_id = "compareSegmentationRuns",
    params(("id" = Uuid, Path, description = "Run id (after)"), CompareParams, PageParams),
    responses(
        (status = 200, description = "One page", body = Page<Movement>),
        (status = 422, description = "No run has the id `with` names", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/segmentation/runs/{id}/compare")]
pub async fn compare_runs(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
    params: Query<CompareParams>,
    page: Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let after = run_or_404(&state, id.into_inner()).await?;
    let before = state
        .db({
            let with = params.with;
            move |conn| repo::get_run(conn, with)
        })
        .await?
        .ok_or_else(|| ApiError::field("with", FieldCode::NotFound, "no run has this id"))?;
    let scope = caller.scope();
    page.answer(
        &state,
        move |conn, window: &Window<()>| {
            let limit = usize::try_from(window.limit).unwrap_or(0);
            repo::compare(
                conn,
                &before,
                &after,
                &scope,
                window.after.map(|(_, id)| id),
                limit,
            )
        },
        |movement: &Movement| ((), movement.customer_id),
    )
    .await
}

/// Get a run's 80/20 report
///
/// The Pareto curve of the ABC measure (share of the measure held by the top tenth,
/// fifth ... of customers), the share the top 20 % hold and the share of customers that
/// makes 80 %, overall and per sales unit. 404 until the run has finished. Callers who see
/// every customer (a company-wide figure).
#[utoipa::path(
    tag = "segmentation",
    operation_id = "getSegmentationPareto",
    params(("id" = Uuid, Path, description = "Run id")),
    responses((status = 200, description = "The report", body = ParetoReport)),
    security(("bearer" = []))
)]
#[get("/segmentation/runs/{id}/pareto")]
pub async fn get_pareto(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    if caller.scope() != Scope::All {
        return Err(ApiError::forbidden(
            "the company-wide report is for callers who see every customer",
        ));
    }
    let id = id.into_inner();
    let report = state
        .db(move |conn| repo::pareto_report(conn, id))
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Reply::ok(&report).into_response())
}
