//! Dunning: the policy of levels and the runs that apply it (also run daily by the job).

use actix_web::{get, post, put, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use credo_core::date::not_in_future;
use credo_receivables::dunning::{DunningAction, DunningPolicy, DunningPolicyRules, HeldBack};
use credo_store::receivables as repo;
use credo_store::settings;
use credo_store::{DbConnection, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::documents::{self, Record, Shown};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::Body;
use crate::reply::{idempotent, Reply};
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

/// What a run did.
#[derive(Debug, Serialize, ToSchema)]
pub struct DunningRun {
    pub as_of: NaiveDate,
    pub dry_run: bool,
    /// The communications this run made (a dry run: would make); a repeat of a day's run
    /// makes none.
    pub actions: Vec<DunningAction>,
    /// Customers with levels due that were not dunned: allocate their payments first.
    pub held_back: Vec<HeldBack>,
}

/// The stored policy, checked.
pub(crate) fn dunning_policy(conn: &mut DbConnection) -> Result<DunningPolicy, StoreError> {
    let stored = settings::document::<DunningPolicyRules>(conn)?;
    DunningPolicy::from_rules(&stored.settings).map_err(|errors| {
        StoreError::Internal(format!("the stored dunning policy is invalid: {errors:?}"))
    })
}

/// Run dunning
///
/// Gives each customer the highest level now due across its open items: one communication,
/// recorded, with a `collection` task for its account manager due that day; each item is
/// recorded at its own level and gets every level once. Items in dispute, or whose approved
/// extension has not run out, wait; a customer with unallocated payments is held back
/// ("allocate first"). Running again for the same day creates nothing; a settled item is no
/// longer dunned. The daily job runs it as of each day. Admins and credit managers.
#[utoipa::path(
    tag = "dunning",
    operation_id = "runDunning",
    request_body = DunningRunInput,
    responses((status = 200, description = "What the run did", body = DunningRun)),
    security(("bearer" = []))
)]
#[post("/dunning/runs")]
pub async fn run(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    body: Body<DunningRunInput>,
) -> ApiResult<HttpResponse> {
    if !caller.can_decide_credit() {
        return Err(ApiError::forbidden(
            "dunning is run by credit managers and admins",
        ));
    }
    let Body { value: input, raw } = body;
    // A run is idempotent by day already; the key makes a retry answer the first run's list.
    idempotent(&state, &caller, &req, &raw, || async {
        let today = state.today().await?;
        let as_of = match input.as_of {
            Some(day) => not_in_future(day, today)
                .map_err(|error| ApiError::validation(vec![error.nested("as_of")]))?,
            None => today,
        };
        let dry_run = input.dry_run.unwrap_or(false);
        let actor = caller.user_id;
        let report = state
            .db(move |conn| {
                let policy = dunning_policy(conn)?;
                repo::run_dunning(conn, &policy, as_of, dry_run, actor, &mut |_, _| Ok(()))
            })
            .await?;
        Ok(Reply::ok(&DunningRun {
            as_of,
            dry_run,
            actions: report.actions,
            held_back: report.held_back,
        }))
    })
    .await
}
