//! Dunning: the policy of levels and the runs that apply it, queued as jobs (the schedule
//! makes one a day) and read back with their lists of actions and customers held back.

use actix_web::{get, post, put, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use credo_core::date::not_in_future;
use credo_core::Principal;
use credo_receivables::dunning::{
    DunningAction, DunningPolicy, DunningPolicyRules, DunningRun, HeldBack,
};
use credo_store::keyset::Window;
use credo_store::receivables as repo;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::Caller;
use crate::documents::{self, Record, Shown};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Body, Query};
use crate::pagination::{Page, PageParams};
use crate::reply::{self, idempotent, Reply};
use crate::state::AppState;

/// The dunning policy with its version.
pub type DunningPolicyRecord = Record<DunningPolicyRules>;

impl Shown for DunningPolicyRules {
    const RECORD: &'static str = "DunningPolicyRecord";
}

/// Get the dunning policy
///
/// The levels a run escalates through, each due a number of days from an item's shipment
/// or due day, with its action and its effect on the customer's credit; seed 004's
/// timeline until someone changes it.
#[utoipa::path(
    tag = "dunning",
    operation_id = "getDunningPolicy",
    responses((status = 200, description = "The policy", body = DunningPolicyRecord, headers(("ETag" = String)))),
    security(("bearer" = []))
)]
#[get("/dunning/policy")]
pub async fn get_policy(state: web::Data<AppState>, _caller: Caller) -> ApiResult<HttpResponse> {
    documents::read::<DunningPolicyRules, DunningPolicyRecord>(&state).await
}

/// Replace the dunning policy
///
/// New levels (1 to 10, unique keys, offsets within a year, effects that never soften as
/// the levels escalate), audited. Levels an item had keep counting by their key. `If-Match`
/// is required. Admins only (whoever approves within a rule does not set it).
#[utoipa::path(
    tag = "dunning",
    operation_id = "replaceDunningPolicy",
    params(("If-Match" = String, Header, description = "ETag of the version you changed")),
    request_body = DunningPolicyRules,
    responses(
        (status = 200, description = "Replaced", body = DunningPolicyRecord, headers(("ETag" = String))),
        (status = 412, description = "Stale If-Match; `current` holds the policy", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[put("/dunning/policy")]
pub async fn replace_policy(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    body: Body<DunningPolicyRules>,
) -> ApiResult<HttpResponse> {
    documents::replace::<_, DunningPolicyRecord>(
        &state,
        &req,
        &caller,
        body.value,
        |rules| DunningPolicy::from_rules(rules).map(drop),
        "dunning policy",
    )
    .await
}

/// A dunning run to make.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DunningRunInput {
    /// The day levels are due as of: today (default) or earlier.
    #[schema(example = "2026-07-07")]
    pub as_of: Option<NaiveDate>,
    /// List what the run would do and record nothing (default false).
    #[schema(example = false)]
    pub dry_run: Option<bool>,
}

/// Run dunning
///
/// Queues a run as of `as_of` (dry: lists what it would do and records nothing) and answers
/// 202 with the run and its `Location`; the job runner does it. A run gives each customer
/// the highest level now due across its open items: one communication, recorded, with a
/// `collection` task for its account manager due that day; each item is recorded at its own
/// level and gets every level once. Items in dispute, or whose approved extension has not
/// run out, wait; a customer with unallocated payments is held back ("allocate first").
/// Running again for the same day creates nothing; a settled item is no longer dunned. The
/// schedule makes an acting run as of each day. The same run (day, dry or acting) queued or
/// running already is `409 run_in_progress` with its `Location`; at most three runs wait
/// (`429 too_many_runs` with `Retry-After` beyond). Admins and credit managers.
#[utoipa::path(
    tag = "dunning",
    operation_id = "runDunning",
    request_body = DunningRunInput,
    responses(
        (status = 202, description = "Queued", body = DunningRun, headers(("Location" = String, description = "The run"))),
        (status = 409, description = "The same run is queued or running (`run_in_progress`); `Location` names it", body = Problem, content_type = "application/problem+json", headers(("Location" = String, description = "The run that answers"))),
        (status = 429, description = "Enough runs wait (`too_many_runs`)", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
    security(("bearer" = []))
)]
#[post("/dunning/runs")]
pub async fn start_run(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    body: Body<DunningRunInput>,
) -> ApiResult<HttpResponse> {
    may_dun(&caller)?;
    let Body { value: input, raw } = body;
    let today = state.today().await?;
    let as_of = match input.as_of {
        Some(day) => not_in_future(day, today)
            .map_err(|error| ApiError::validation(vec![error.nested("as_of")]))?,
        None => today,
    };
    let dry_run = input.dry_run.unwrap_or(false);
    idempotent(&state, &caller, &req, &raw, || async {
        let actor = caller.user_id;
        reply::write(&state, move |conn| {
            let request = repo::queue_dunning_run(conn, as_of, dry_run, actor)?;
            Ok(reply::queued_run(request, |run: &DunningRun| {
                run_location(run.id)
            }))
        })
        .await
    })
    .await
}

fn run_location(id: Uuid) -> String {
    format!("/api/v1/dunning/runs/{id}")
}

/// Dunning runs, their lists included, are for those who run them: the lists name every
/// customer dunned.
fn may_dun(caller: &Principal) -> ApiResult<()> {
    if caller.can_decide_credit() {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "dunning is run by credit managers and admins",
        ))
    }
}

/// List dunning runs
///
/// Dry and acting, asked for or scheduled, the latest made first. Admins and credit
/// managers.
#[utoipa::path(
    tag = "dunning",
    operation_id = "listDunningRuns",
    params(PageParams),
    responses((status = 200, description = "One page", body = Page<DunningRun>)),
    security(("bearer" = []))
)]
#[get("/dunning/runs")]
pub async fn list_runs(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    page: Query<PageParams>,
) -> ApiResult<HttpResponse> {
    may_dun(&caller)?;
    page.answer(
        &state,
        move |conn, window: &Window<_>| repo::dunning_runs(conn, window),
        |run: &DunningRun| (run.created_at, run.id),
    )
    .await
}

async fn run_or_404(state: &AppState, caller: &Principal, id: Uuid) -> ApiResult<DunningRun> {
    may_dun(caller)?;
    state
        .db(move |conn| repo::dunning_run(conn, id))
        .await?
        .ok_or_else(ApiError::not_found)
}

/// Get a dunning run
///
/// Its state and progress (customers done of those with a level possibly due), the policy
/// version it applied and how many customers it dunned (a dry run: would dun) and held back
/// so far; the lists are at `/actions` and `/held-back`. Admins and credit managers.
#[utoipa::path(
    tag = "dunning",
    operation_id = "getDunningRun",
    params(("id" = Uuid, Path, description = "Run id")),
    responses((status = 200, description = "The run", body = DunningRun)),
    security(("bearer" = []))
)]
#[get("/dunning/runs/{id}")]
pub async fn get_run(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let run = run_or_404(&state, &caller, id.into_inner()).await?;
    Ok(Reply::ok(&run).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RunActionParams {
    /// Only actions of this level (its key).
    #[param(example = "overdue_notice")]
    pub level: Option<String>,
}

/// List a dunning run's actions
///
/// The communications it made (a dry run: would make), the highest level first, then by
/// customer; a run that has not finished lists what it has done so far. The lists of runs
/// beyond the policy's `keep_runs` are purged (an acting run's actions stay on each
/// customer's file). Admins and credit managers.
#[utoipa::path(
    tag = "dunning",
    operation_id = "listDunningRunActions",
    params(("id" = Uuid, Path, description = "Run id"), RunActionParams, PageParams),
    responses((status = 200, description = "One page", body = Page<DunningAction>)),
    security(("bearer" = []))
)]
#[get("/dunning/runs/{id}/actions")]
pub async fn list_run_actions(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
    params: Query<RunActionParams>,
    page: Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let run = run_or_404(&state, &caller, id.into_inner()).await?;
    let level = params.into_inner().level;
    page.answer(
        &state,
        move |conn, window: &Window<i64>| repo::dunning_run_actions(conn, run.id, level, window),
        |action: &DunningAction| (i64::from(action.level_rank), action.customer_id),
    )
    .await
}

/// List the customers a dunning run held back
///
/// Customers with levels due that were not dunned because money they paid is not yet
/// applied to their items: allocate these payments first, then run again. By customer.
/// Admins and credit managers.
#[utoipa::path(
    tag = "dunning",
    operation_id = "listDunningRunHeldBack",
    params(("id" = Uuid, Path, description = "Run id"), PageParams),
    responses((status = 200, description = "One page", body = Page<HeldBack>)),
    security(("bearer" = []))
)]
#[get("/dunning/runs/{id}/held-back")]
pub async fn list_run_held_back(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
    page: Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let run = run_or_404(&state, &caller, id.into_inner()).await?;
    page.answer(
        &state,
        move |conn, window: &Window<i64>| repo::dunning_run_held_back(conn, run.id, window),
        |held: &HeldBack| (0, held.customer_id),
    )
    .await
}
