//! Runs and their results as they are kept and shown.

use chrono::{DateTime, NaiveDate, Utc};
use credo_core::job::{JobState, Progress};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::abc::{AbcPlace, Pareto};
use crate::loss::Loss;
use crate::overrides::GradeOverride;
use crate::policy::{Quadrant, QuadrantGuidance, ServiceTier, TierRule};
use crate::rfm::{Rfm, RfmSegment};
use crate::run::{Clv, Models};
use crate::score::Score;

/// A segmentation run: a job that grades every customer (or one unit's) as of a day.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Run {
    pub id: Uuid,
    pub state: JobState,
    pub as_of: NaiveDate,
    /// The version of the segmentation policy it grades by (0: the shipped default).
    #[schema(example = 1)]
    pub policy_version: i64,
    /// Only this unit's customers were graded.
    pub sales_unit_id: Option<Uuid>,
    /// The company currency its amounts are in.
    #[schema(example = "CNY")]
    pub currency: String,
    pub progress: Progress,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub error: Option<String>,
    /// Absent until the run has fitted them.
    pub models: Option<Models>,
    /// Orders left out for want of an exchange rate on or before their day.
    pub excluded_orders: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub created_by: Uuid,
}

/// One customer's line in a run's results.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RunResult {
    pub customer_id: Uuid,
    /// The customer's unit when the run was made.
    pub sales_unit_id: Option<Uuid>,
    pub abc: AbcPlace,
    #[schema(example = 64.2)]
    pub score_total: f64,
    /// The grade the rules gave (overrides show in the customer's value).
    #[schema(example = "B")]
    pub grade: String,
    pub rfm_segment: Option<RfmSegment>,
    pub quadrant: Option<Quadrant>,
    pub tier: ServiceTier,
    pub churn_probability: Option<f64>,
    /// Lifetime value in minor units of the run's currency.
    pub clv_minor: Option<i64>,
    /// Lost money over the period: review whether to keep the customer.
    pub negative_value: bool,
}

/// Why a customer has its grade: the latest run's explanation and any override in force.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CustomerValue {
    pub run_id: Uuid,
    pub as_of: NaiveDate,
    pub policy_version: i64,
    #[schema(example = "CNY")]
    pub currency: String,
    pub abc: AbcPlace,
    pub score: Score,
    pub rfm: Option<Rfm>,
    pub clv: Option<Clv>,
    pub quadrant: Option<Quadrant>,
    /// What the quadrant means for the service budget.
    pub guidance: Option<QuadrantGuidance>,
    /// The tier of the grade in force (the override's when there is one).
    pub tier: ServiceTier,
    pub service: TierRule,
    /// The grade in force: the override's, or the rules'.
    #[schema(example = "B")]
    pub grade: String,
    pub churn_risk: bool,
    pub negative_value: bool,
    /// The approved override in force, if any.
    #[serde(rename = "override")]
    pub grade_override: Option<GradeOverride>,
    /// Why the customer was lost, if it was, with the treatment that calls for.
    pub loss: Option<Loss>,
}

/// One run's grade of a customer, for its history.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct GradeEntry {
    pub run_id: Uuid,
    pub as_of: NaiveDate,
    pub policy_version: i64,
    #[serde(flatten)]
    pub result: RunResult,
}

/// How a customer's standing changed between two runs.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Movement {
    pub customer_id: Uuid,
    pub before: RunResult,
    pub after: RunResult,
    /// What moved it, the largest weighted changes first.
    pub reasons: Vec<String>,
}

/// The 80/20 report of a run: overall and per sales unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ParetoReport {
    pub overall: Pareto,
    pub units: Vec<UnitPareto>,
}

/// The 80/20 report of one unit's customers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct UnitPareto {
    /// Absent for customers without a unit.
    pub sales_unit_id: Option<Uuid>,
    #[serde(flatten)]
    pub pareto: Pareto,
}
