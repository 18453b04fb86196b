//! The characteristic template and the credit policy: company documents, versioned and
//! audited, replaced whole with `If-Match`.

use actix_web::{get, put, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use credo_credit::characteristic::{GradeRule, Item, Template};
use credo_credit::policy::CreditPolicy;
use credo_store::settings::Stored;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Caller;
use crate::documents::{self, HasVersion, Record, Shown};
use crate::error::{ApiResult, Problem};
use crate::extract::Body;
use crate::state::AppState;

/// The active characteristic template.
#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateRecord {
    /// The items, each with its category, weight and aspects; financial aspects carry how
    /// the latest statement pre-scores them.
    pub items: Vec<Item>,
    /// Grades 1 to 6 with their cut-offs (share of the maximum score) and whether they may
    /// buy on credit.
    pub grades: Vec<GradeRule>,
    /// Highest possible score: each aspect's maximum times its item's weight, summed.
    #[schema(example = 480)]
    pub max_score: u64,
    /// 0 while the default template stands; evaluations record the version they used.
    #[schema(example = 0)]
    pub version: i64,
    pub updated_at: Option<DateTime<Utc>>,
    pub updated_by: Option<Uuid>,
}

impl From<Stored<Template>> for TemplateRecord {
    fn from(stored: Stored<Template>) -> Self {
        Self {
            max_score: stored.settings.max_score(),
            items: stored.settings.items,
            grades: stored.settings.grades,
            version: stored.version,
            updated_at: stored.updated_at,
            updated_by: stored.updated_by,
        }
    }
}

impl HasVersion for TemplateRecord {
    fn version(&self) -> i64 {
        self.version
    }
}

/// Get the active characteristic template
///
/// Seed 004's characteristic model: 3 categories x 6 items x 4 aspects = 72 points, each
/// scored 0 to its `max_score` and counted by its item's `weight`, summed into a grade
/// from 1 (best) to 6; the financial aspects are pre-scored from the customer's latest
/// statement. The default until a company publishes its own.
#[utoipa::path(
    tag = "credit",
    operation_id = "getActiveCharacteristicTemplate",
    responses((status = 200, description = "The template", body = TemplateRecord, headers(("ETag" = String)))),
    security(("bearer" = []))
)]
#[get("/credit/templates/active")]
pub async fn get_template(state: web::Data<AppState>, _caller: Caller) -> ApiResult<HttpResponse> {
    documents::read::<Template, TemplateRecord>(&state).await
}

/// Publish a characteristic template
///
/// Replaces the active template with an edited one as its next version (items with unique
/// keys, weights 1 to 100, 1 to 10 aspects of maximum score 1 to 100, pre-score thresholds
/// one per point and each harder to meet; grades 1 to 6 with falling cut-offs, the last at
/// 0, credit sales never allowed below a grade that is refused). Evaluations made before
/// keep the template they used. `If-Match` is required. Admins only (whoever approves
/// within a rule does not set it); audited.
#[utoipa::path(
    tag = "credit",
    operation_id = "publishCharacteristicTemplate",
    params(("If-Match" = String, Header, description = "ETag of the version you changed")),
    request_body = Template,
    responses(
        (status = 200, description = "Published", body = TemplateRecord, headers(("ETag" = String))),
        (status = 412, description = "Stale If-Match; `current` holds the template", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[put("/credit/templates/active")]
pub async fn publish_template(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    body: Body<Template>,
) -> ApiResult<HttpResponse> {
    documents::replace::<_, TemplateRecord>(
        &state,
        &req,
        &caller,
        body.value,
        Template::check,
        "characteristic template",
    )
    .await
}

/// The credit policy with its version.
pub type CreditPolicyRecord = Record<CreditPolicy>;

impl Shown for CreditPolicy {
    const RECORD: &'static str = "CreditPolicyRecord";
}

/// Get the credit policy
///
/// The working-capital model's bands (seed 004's table by default: an evaluation value of
/// -4.60 or less lends nothing, 1.00 or more lends 25 % of the base), the share of the
/// working-capital limit each characteristic grade gets (100 %, 90 %, 75 %, 50 %, 25 %,
/// 0 %) and the bounds of the limit grades (300,000 / 600,000 / 1,000,000 / 1,500,000 in
/// the company currency).
#[utoipa::path(
    tag = "credit",
    operation_id = "getCreditPolicy",
    responses((status = 200, description = "The policy", body = CreditPolicyRecord, headers(("ETag" = String)))),
    security(("bearer" = []))
)]
#[get("/credit/policy")]
pub async fn get_policy(state: web::Data<AppState>, _caller: Caller) -> ApiResult<HttpResponse> {
    documents::read::<CreditPolicy, CreditPolicyRecord>(&state).await
}

/// Replace the credit policy
///
/// New bands (2 to 20, bounds exact decimals of at most 2 places, rising, the last
/// open-ended; shares never falling), grade factors (never rising as the grade worsens)
/// and limit-grade bounds (rising). `If-Match` is required. Admins only (whoever
/// approves within a rule does not set it); audited.
#[utoipa::path(
    tag = "credit",
    operation_id = "replaceCreditPolicy",
    params(("If-Match" = String, Header, description = "ETag of the version you changed")),
    request_body = CreditPolicy,
    responses(
        (status = 200, description = "Replaced", body = CreditPolicyRecord, headers(("ETag" = String))),
        (status = 412, description = "Stale If-Match; `current` holds the policy", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[put("/credit/policy")]
pub async fn replace_policy(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    body: Body<CreditPolicy>,
) -> ApiResult<HttpResponse> {
    documents::replace::<_, CreditPolicyRecord>(
        &state,
        &req,
        &caller,
        body.value,
        CreditPolicy::check,
        "credit policy",
    )
    .await
}
