//! The segmentation policy: one versioned document, every published version readable.

use actix_web::{get, put, web, HttpRequest, HttpResponse};
use credo_segmentation::policy::SegmentationPolicy;
use credo_store::settings;

use crate::auth::Caller;
use crate::documents::{self, Record, Shown};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::Body;
use crate::reply::Reply;
use crate::state::AppState;

/// The segmentation policy with its version.
pub type SegmentationPolicyRecord = Record<SegmentationPolicy>;

impl Shown for SegmentationPolicy {
    const RECORD: &'static str = "SegmentationPolicyRecord";
}

/// Get the segmentation policy
///
/// The rule set every grade comes from: ABC (measure, period, cut-offs: by default revenue
/// over 365 days, A 70 % and B 20 % of the cumulative share), the twelve indicators of the
/// value score with their weights and scoring curves, what a missing input counts as
/// (default: a neutral 50), the grades (A from 75, B 55, C 35, D), RFM's period, the
/// lifetime models' time unit (week), horizon (12 months) and discount rate (10 % a year),
/// the churn threshold (0.5), the value x potential thresholds with each quadrant's budget
/// guidance, the service tier of each grade, and what each loss reason calls for.
#[utoipa::path(
    tag = "segmentation",
    operation_id = "getSegmentationPolicy",
    responses((status = 200, description = "The policy in force", body = SegmentationPolicyRecord, headers(("ETag" = String)))),
    security(("bearer" = []))
)]
#[get("/segmentation/policy")]
pub async fn get_policy(state: web::Data<AppState>, _caller: Caller) -> ApiResult<HttpResponse> {
    documents::read::<SegmentationPolicy, SegmentationPolicyRecord>(&state).await
}

/// Publish a segmentation policy
///
/// Makes the document the policy in force as its next version; earlier versions stay
/// readable and the runs made by them keep naming them. Every indicator once with curves of
/// 2 to 20 rising points scoring 0 to 100, grades with falling minimum scores ending at 0,
/// every grade in exactly one tier, guidance for each quadrant and a treatment for each
/// loss reason. `If-Match` is required. Admins only (whoever approves within a rule does
/// not set it); audited.
#[utoipa::path(
    tag = "segmentation",
    operation_id = "publishSegmentationPolicy",
    params(("If-Match" = String, Header, description = "ETag of the version you changed")),
    request_body = SegmentationPolicy,
    responses(
        (status = 200, description = "Published", body = SegmentationPolicyRecord, headers(("ETag" = String))),
        (status = 412, description = "Stale If-Match; `current` holds the policy", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[put("/segmentation/policy")]
pub async fn publish_policy(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    body: Body<SegmentationPolicy>,
) -> ApiResult<HttpResponse> {
    documents::replace::<_, SegmentationPolicyRecord>(
        &state,
        &req,
        &caller,
        body.value,
        SegmentationPolicy::check,
        "segmentation policy",
    )
    .await
}

/// Get a version of the segmentation policy
///
/// Any version published, or 0 for the shipped default: what a run graded by.
#[utoipa::path(
    tag = "segmentation",
    operation_id = "getSegmentationPolicyVersion",
    params(("version" = i64, Path, description = "Version, 0 for the shipped default")),
    responses((status = 200, description = "That version", body = SegmentationPolicyRecord)),
    security(("bearer" = []))
)]
#[get("/segmentation/policy/versions/{version}")]
pub async fn get_policy_version(
    state: web::Data<AppState>,
    _caller: Caller,
    version: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let version = version.into_inner();
    let stored = state
        .db(move |conn| settings::document_version::<SegmentationPolicy>(conn, version))
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Reply::ok(&SegmentationPolicyRecord::from(stored)).into_response())
}
