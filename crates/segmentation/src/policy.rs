//! The segmentation policy: one versioned document for ABC, the value score, RFM, the
//! lifetime models, churn, the value x potential quadrants, service tiers and what a lost
//! customer's reason calls for.

use credo_core::{FieldCode, FieldError, FieldErrors};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::abc::AbcPolicy;
use crate::history::TimeUnit;
use crate::rfm::RfmPolicy;
use crate::score::ScorePolicy;

/// How lifetime value is projected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LifetimePolicy {
    pub time_unit: TimeUnit,
    /// Months of future purchases lifetime value counts.
    #[schema(example = 12)]
    pub horizon_months: u16,
    /// Yearly discount rate in basis points (1000 = 10 %), applied month by month.
    #[schema(example = 1000)]
    pub annual_discount_bp: u32,
}

impl Default for LifetimePolicy {
    fn default() -> Self {
        Self {
            time_unit: TimeUnit::Week,
            horizon_months: 12,
            annual_discount_bp: 1000,
        }
    }
}

/// When a customer counts as churning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChurnPolicy {
    /// Churn probability (1 - P(alive)) from which an intervention is due.
    #[schema(example = 0.5)]
    pub threshold: f64,
}

impl Default for ChurnPolicy {
    fn default() -> Self {
        Self { threshold: 0.5 }
    }
}

credo_core::string_enum! {
    /// Seed 002's value x potential allocation.
    pub enum Quadrant {
        /// High value, low potential: keep spending as now.
        Maintain = "maintain",
        /// High value, high potential.
        IncreaseInvestment = "increase_investment",
        /// Low value, high potential: invest in the high-value products only.
        InvestSelectively = "invest_selectively",
        /// Low value, low potential.
        Reduce = "reduce",
    }
}

/// What a quadrant means for the service budget.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuadrantGuidance {
    pub quadrant: Quadrant,
    /// Change of the service and retention budget, percent.
    #[schema(example = 20)]
    pub budget_change_pct: i16,
    #[schema(example = "raise visit frequency and offer volume terms")]
    pub guidance: String,
}

/// The quadrant thresholds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuadrantPolicy {
    /// Value is high from this value score.
    #[schema(example = 55)]
    pub high_value_min_score: u8,
    /// Potential is high from this percentile of lifetime value among the customers who
    /// bought.
    #[schema(example = 50)]
    pub high_potential_percentile: u8,
    /// One per quadrant.
    pub guidance: Vec<QuadrantGuidance>,
}

impl Default for QuadrantPolicy {
    fn default() -> Self {
        let guidance = |quadrant, budget_change_pct, text: &str| QuadrantGuidance {
            quadrant,
            budget_change_pct,
            guidance: text.into(),
        };
        Self {
            high_value_min_score: 55,
            high_potential_percentile: 50,
            guidance: vec![
                guidance(
                    Quadrant::Maintain,
                    0,
                    "keep the current service level and budget",
                ),
                guidance(
                    Quadrant::IncreaseInvestment,
                    20,
                    "raise visit frequency and offer volume terms",
                ),
                guidance(
                    Quadrant::InvestSelectively,
                    10,
                    "offer the high-margin products only, on tight terms",
                ),
                guidance(
                    Quadrant::Reduce,
                    -30,
                    "serve by phone and online; no special terms",
                ),
            ],
        }
    }
}

credo_core::string_enum! {
    /// Seed 004's service levels.
    pub enum ServiceTier {
        Ordinary = "ordinary",
        Key = "key",
        Vip = "vip",
    }
}

/// The service a tier gets, and the grades that earn it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TierRule {
    pub tier: ServiceTier,
    pub grades: Vec<String>,
    #[schema(example = 14)]
    pub visit_every_days: u16,
    #[schema(example = 4)]
    pub response_hours: u16,
    #[schema(example = "senior account manager")]
    pub manager_level: String,
}

credo_core::string_enum! {
    /// Why a customer was lost (seed 002).
    pub enum LossReason {
        Dissatisfied = "dissatisfied",
        Competitor = "competitor",
        NegativeValue = "negative_value",
        Involuntary = "involuntary",
    }
}

/// What a loss reason calls for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LossTreatment {
    pub reason: LossReason,
    #[schema(example = "call within a week, fix the complaint, offer a make-good")]
    pub treatment: String,
}

/// The whole rule set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SegmentationPolicy {
    /// ABC; its period is also the value score's.
    pub abc: AbcPolicy,
    pub score: ScorePolicy,
    pub rfm: RfmPolicy,
    pub lifetime: LifetimePolicy,
    pub churn: ChurnPolicy,
    pub quadrants: QuadrantPolicy,
    /// Every grade of the score in exactly one tier.
    pub tiers: Vec<TierRule>,
    /// One per loss reason.
    pub losses: Vec<LossTreatment>,
    /// How many finished runs of one scope (the company, or one unit) keep their results;
    /// an older run's results are purged when a newer one finishes (the run, its models and
    /// its 80/20 report stay).
    #[serde(default = "default_keep_runs")]
    #[schema(example = 24, minimum = 1, maximum = 1000)]
    pub keep_runs: u32,
}

fn default_keep_runs() -> u32 {
    24
}

impl Default for SegmentationPolicy {
    fn default() -> Self {
        let tier =
            |tier, grades: &[&str], visit_every_days, response_hours, level: &str| TierRule {
                tier,
                grades: grades.iter().map(|g| (*g).to_owned()).collect(),
                visit_every_days,
                response_hours,
                manager_level: level.into(),
            };
        let loss = |reason, treatment: &str| LossTreatment {
            reason,
            treatment: treatment.into(),
        };
        Self {
            abc: AbcPolicy::default(),
            score: ScorePolicy::default(),
            rfm: RfmPolicy::default(),
            lifetime: LifetimePolicy::default(),
            churn: ChurnPolicy::default(),
            quadrants: QuadrantPolicy::default(),
            tiers: vec![
                tier(ServiceTier::Vip, &["A"], 14, 4, "senior account manager"),
                tier(ServiceTier::Key, &["B"], 30, 24, "account manager"),
                tier(ServiceTier::Ordinary, &["C", "D"], 90, 72, "sales representative"),
            ],
            losses: vec![
                loss(
                    LossReason::Dissatisfied,
                    "call within a week, fix the complaint, offer a make-good",
                ),
                loss(
                    LossReason::Competitor,
                    "compare the offer; win back with terms only where the value score is B or better",
                ),
                loss(LossReason::NegativeValue, "let go; do not win back"),
                loss(
                    LossReason::Involuntary,
                    "keep in touch; reopen when the customer can buy again",
                ),
            ],
            keep_runs: default_keep_runs(),
        }
    }
}

impl SegmentationPolicy {
    /// Every rule the policy breaks, named by its path.
    pub fn check(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let mut nested = |result: Result<(), Vec<FieldError>>, prefix: &str| {
            for error in result.err().into_iter().flatten() {
                errors.push(error.nested(prefix));
            }
        };
        nested(self.abc.check(), "abc");
        nested(self.score.check(), "score");
        nested(self.rfm.check(), "rfm");
        if !(1..=1000).contains(&self.keep_runs) {
            errors.push(FieldError::new(
                "keep_runs",
                FieldCode::OutOfRange,
                "1 to 1000 runs",
            ));
        }
        if !(1..=120).contains(&self.lifetime.horizon_months) {
            errors.push(FieldError::new(
                "lifetime.horizon_months",
                FieldCode::OutOfRange,
                "1 to 120 months",
            ));
        }
        if self.lifetime.annual_discount_bp > 10_000 {
            errors.push(FieldError::new(
                "lifetime.annual_discount_bp",
                FieldCode::OutOfRange,
                "0 to 10000 basis points",
            ));
        }
        if !(self.churn.threshold > 0.0 && self.churn.threshold < 1.0) {
            errors.push(FieldError::new(
                "churn.threshold",
                FieldCode::OutOfRange,
                "a probability strictly between 0 and 1",
            ));
        }
        if self.quadrants.high_value_min_score > 100
            || self.quadrants.high_potential_percentile > 100
        {
            errors.push(FieldError::new(
                "quadrants",
                FieldCode::OutOfRange,
                "a score and a percentile of 0 to 100",
            ));
        }
        for quadrant in Quadrant::ALL {
            if self
                .quadrants
                .guidance
                .iter()
                .filter(|g| g.quadrant == *quadrant)
                .count()
                != 1
            {
                errors.push(FieldError::new(
                    "quadrants.guidance",
                    FieldCode::InvalidValue,
                    format!("guidance for {quadrant} must appear once"),
                ));
            }
        }
        for cut in &self.score.grades {
            let tiers = self
                .tiers
                .iter()
                .filter(|t| t.grades.contains(&cut.grade))
                .count();
            if tiers != 1 {
                errors.push(FieldError::new(
                    "tiers",
                    FieldCode::InvalidValue,
                    format!("the grade {} must be in exactly one tier", cut.grade),
                ));
            }
        }
        for (i, tier) in self.tiers.iter().enumerate() {
            if let Some(unknown) = tier
                .grades
                .iter()
                .find(|g| !self.score.grades.iter().any(|cut| &cut.grade == *g))
            {
                errors.push(FieldError::new(
                    format!("tiers[{i}].grades"),
                    FieldCode::UnknownKey,
                    format!("no grade of the score is called {unknown}"),
                ));
            }
        }
        for reason in LossReason::ALL {
            if self.losses.iter().filter(|l| l.reason == *reason).count() != 1 {
                errors.push(FieldError::new(
                    "losses",
                    FieldCode::InvalidValue,
                    format!("a treatment for {reason} must appear once"),
                ));
            }
        }
        errors.finish(|| ())
    }

    /// The tier of a grade (the lowest tier for a grade no tier names, which a checked
    /// policy never has).
    pub fn tier_of(&self, grade: &str) -> &TierRule {
        self.tiers
            .iter()
            .find(|t| t.grades.iter().any(|g| g == grade))
            .or_else(|| self.tiers.iter().find(|t| t.tier == ServiceTier::Ordinary))
            .or(self.tiers.last())
            .expect("a checked policy has tiers")
    }

    /// The guidance of a quadrant.
    pub fn guidance(&self, quadrant: Quadrant) -> Option<&QuadrantGuidance> {
        self.quadrants
            .guidance
            .iter()
            .find(|g| g.quadrant == quadrant)
    }

    /// The treatment a loss reason calls for.
    pub fn treatment(&self, reason: LossReason) -> Option<&str> {
        self.losses
            .iter()
            .find(|l| l.reason == reason)
            .map(|l| l.treatment.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_policy_is_valid() {
        assert_eq!(SegmentationPolicy::default().check(), Ok(()));
        assert!(Quadrant::names_agree_with_serde());
        assert!(ServiceTier::names_agree_with_serde());
        assert!(LossReason::names_agree_with_serde());
        assert!(TimeUnit::names_agree_with_serde());
    }

    #[test]
    fn the_default_document_round_trips() {
        let policy = SegmentationPolicy::default();
        let json = serde_json::to_value(&policy).expect("serialises");
        let back: SegmentationPolicy = serde_json::from_value(json).expect("parses");
        assert_eq!(back, policy);
    }

    #[test]
    fn every_grade_needs_one_tier() {
        let mut policy = SegmentationPolicy::default();
        policy.tiers[2].grades = vec!["C".into(), "E".into()];
        policy.churn.threshold = 1.0;
        let errors = policy.check().expect_err("invalid");
        let messages: Vec<(String, String)> =
            errors.into_iter().map(|e| (e.field, e.message)).collect();
        assert_eq!(
            messages,
            [
                (
                    "churn.threshold".to_owned(),
                    "a probability strictly between 0 and 1".to_owned()
                ),
                (
                    "tiers".to_owned(),
                    "the grade D must be in exactly one tier".to_owned()
                ),
                (
                    "tiers[2].grades".to_owned(),
                    "no grade of the score is called E".to_owned()
                ),
            ]
        );
        assert_eq!(
            SegmentationPolicy::default().tier_of("B").tier,
            ServiceTier::Key
        );
    }
}
