//! The twelve-indicator value score (seed 001). Each indicator reads one or two measures of
//! the customer's own data (or a manual rating where there is none), maps each through the
//! policy's curve to 0-100 and averages them; the weighted indicators make a total of 0-100
//! and a grade. A measure without data is named in the explanation and handled as the policy
//! says: the indicator scores neutral, or its weight goes to the others.

use chrono::NaiveDate;
use credo_core::{FieldCode, FieldError, FieldErrors};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

credo_core::string_enum! {
    /// The twelve indicators of seed 001.
    pub enum IndicatorKey {
        /// Order profit rate and share of company profit.
        Profit = "profit",
        /// Order size and reorder frequency.
        OrderSize = "order_size",
        /// Product kinds per order: fewer is simpler to serve.
        OrderStructure = "order_structure",
        /// Prepayment share up, credit days down.
        PaymentMethod = "payment_method",
        /// Manual rating.
        IndustryInfluence = "industry_influence",
        /// Years since the first order.
        CooperationYears = "cooperation_years",
        /// Product trials that became orders.
        NewProductSuccess = "new_product_success",
        /// Days from production completed to shipped.
        ShippingEfficiency = "shipping_efficiency",
        /// Days from documents sent to paid.
        PaymentEfficiency = "payment_efficiency",
        /// Manual rating; higher sensitivity scores lower.
        PriceSensitivity = "price_sensitivity",
        /// Manual rating.
        CommunicationEfficiency = "communication_efficiency",
        /// Claim rate down, accepted share up.
        ClaimReasonableness = "claim_reasonableness",
    }
}

credo_core::string_enum! {
    /// What an indicator reads, each from the run's period unless it says otherwise.
    pub enum Measure {
        /// Order margin over order amount, percent.
        ProfitRatePct = "profit_rate_pct",
        /// The customer's margin over the company's, percent.
        ProfitSharePct = "profit_share_pct",
        /// Mean order amount, major units of the company currency.
        AverageOrder = "average_order",
        /// Orders per year.
        OrdersPerYear = "orders_per_year",
        /// Distinct products per order.
        ProductKindsPerOrder = "product_kinds_per_order",
        /// Mean prepayment, percent of the order.
        PrepaymentPct = "prepayment_pct",
        /// Mean credit days granted.
        CreditDays = "credit_days",
        /// Latest manual rating 1-5.
        IndustryInfluenceRating = "industry_influence_rating",
        /// Years since the first order ever.
        CooperationYears = "cooperation_years",
        /// Trials (ever) that reached an order, percent.
        TrialSuccessPct = "trial_success_pct",
        /// Mean days from production completed to shipped.
        ShippingDays = "shipping_days",
        /// Mean days from documents sent to paid.
        PaymentDays = "payment_days",
        /// Latest manual rating 1-5 (5: very sensitive).
        PriceSensitivityRating = "price_sensitivity_rating",
        /// Latest manual rating 1-5.
        CommunicationRating = "communication_rating",
        /// Claims per order, percent.
        ClaimRatePct = "claim_rate_pct",
        /// Decided claims that were accepted, percent.
        ClaimsAcceptedPct = "claims_accepted_pct",
    }
}

credo_core::string_enum! {
    /// What an indicator without data counts as.
    pub enum MissingInput {
        /// The policy's neutral score.
        Neutral = "neutral",
        /// Nothing: its weight is shared by the indicators that have data.
        Reweight = "reweight",
    }
}

/// One point of a scoring curve; between points the score is linear, beyond the ends flat.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CurvePoint {
    pub input: f64,
    /// 0 to 100.
    pub score: f64,
}

/// How one measure scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeasureCurve {
    pub measure: Measure,
    /// At least two points, inputs rising.
    pub points: Vec<CurvePoint>,
}

impl MeasureCurve {
    fn score(&self, input: f64) -> f64 {
        let points = &self.points;
        let first = points[0];
        let last = points[points.len() - 1];
        if input <= first.input {
            return first.score;
        }
        if input >= last.input {
            return last.score;
        }
        let upper = points.partition_point(|p| p.input <= input);
        let (low, high) = (points[upper - 1], points[upper]);
        low.score + (high.score - low.score) * (input - low.input) / (high.input - low.input)
    }
}

/// One indicator's rule: its weight and the curves of its measures (averaged).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IndicatorRule {
    pub key: IndicatorKey,
    /// Relative weight; the total divides by the sum.
    #[schema(example = 15)]
    pub weight: u32,
    pub curves: Vec<MeasureCurve>,
}

/// The lowest total that earns a grade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GradeCut {
    #[schema(example = "A")]
    pub grade: String,
    #[schema(example = 75)]
    pub min_score: u8,
}

/// The value score's rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScorePolicy {
    /// All twelve, each once.
    pub indicators: Vec<IndicatorRule>,
    pub missing: MissingInput,
    /// What an indicator without data scores under `neutral`.
    #[schema(example = 50)]
    pub neutral_score: u8,
    /// Best first, minimum scores falling, the last at 0.
    pub grades: Vec<GradeCut>,
}

fn curve(measure: Measure, points: &[(f64, f64)]) -> MeasureCurve {
    MeasureCurve {
        measure,
        points: points
            .iter()
            .map(|&(input, score)| CurvePoint { input, score })
            .collect(),
    }
}

impl Default for ScorePolicy {
    /// Seed 001's indicators with weights that favour what pays (profit, size, payment) and
    /// curves that reach full marks at what a good industrial customer shows.
    fn default() -> Self {
        use IndicatorKey as K;
        use Measure as M;
        let rule = |key, weight, curves| IndicatorRule {
            key,
            weight,
            curves,
        };
        let indicators = vec![
            rule(
                K::Profit,
                15,
                vec![
                    curve(M::ProfitRatePct, &[(0.0, 0.0), (10.0, 50.0), (30.0, 100.0)]),
                    curve(M::ProfitSharePct, &[(0.0, 0.0), (1.0, 50.0), (5.0, 100.0)]),
                ],
            ),
            rule(
                K::OrderSize,
                12,
                vec![
                    curve(
                        M::AverageOrder,
                        &[(0.0, 0.0), (10_000.0, 50.0), (100_000.0, 100.0)],
                    ),
                    curve(
                        M::OrdersPerYear,
                        &[(0.0, 0.0), (4.0, 50.0), (12.0, 80.0), (24.0, 100.0)],
                    ),
                ],
            ),
            rule(
                K::OrderStructure,
                5,
                vec![curve(
                    M::ProductKindsPerOrder,
                    &[(1.0, 100.0), (3.0, 70.0), (10.0, 20.0), (20.0, 0.0)],
                )],
            ),
            rule(
                K::PaymentMethod,
                10,
                vec![
                    curve(
                        M::PrepaymentPct,
                        &[(0.0, 20.0), (30.0, 60.0), (100.0, 100.0)],
                    ),
                    curve(
                        M::CreditDays,
                        &[
                            (0.0, 100.0),
                            (30.0, 80.0),
                            (60.0, 50.0),
                            (90.0, 20.0),
                            (180.0, 0.0),
                        ],
                    ),
                ],
            ),
            rule(
                K::IndustryInfluence,
                6,
                vec![curve(
                    M::IndustryInfluenceRating,
                    &[(1.0, 0.0), (5.0, 100.0)],
                )],
            ),
            rule(
                K::CooperationYears,
                8,
                vec![curve(
                    M::CooperationYears,
                    &[
                        (0.0, 10.0),
                        (1.0, 30.0),
                        (3.0, 60.0),
                        (5.0, 80.0),
                        (10.0, 100.0),
                    ],
                )],
            ),
            rule(
                K::NewProductSuccess,
                6,
                vec![curve(
                    M::TrialSuccessPct,
                    &[(0.0, 0.0), (50.0, 80.0), (100.0, 100.0)],
                )],
            ),
            rule(
                K::ShippingEfficiency,
                5,
                vec![curve(
                    M::ShippingDays,
                    &[
                        (0.0, 100.0),
                        (3.0, 90.0),
                        (7.0, 70.0),
                        (15.0, 40.0),
                        (30.0, 0.0),
                    ],
                )],
            ),
            rule(
                K::PaymentEfficiency,
                12,
                vec![curve(
                    M::PaymentDays,
                    &[
                        (0.0, 100.0),
                        (15.0, 90.0),
                        (30.0, 75.0),
                        (60.0, 50.0),
                        (90.0, 25.0),
                        (180.0, 0.0),
                    ],
                )],
            ),
            rule(
                K::PriceSensitivity,
                7,
                vec![curve(
                    M::PriceSensitivityRating,
                    &[(1.0, 100.0), (5.0, 0.0)],
                )],
            ),
            rule(
                K::CommunicationEfficiency,
                6,
                vec![curve(M::CommunicationRating, &[(1.0, 0.0), (5.0, 100.0)])],
            ),
            rule(
                K::ClaimReasonableness,
                8,
                vec![
                    curve(
                        M::ClaimRatePct,
                        &[
                            (0.0, 100.0),
                            (2.0, 80.0),
                            (5.0, 50.0),
                            (10.0, 20.0),
                            (20.0, 0.0),
                        ],
                    ),
                    curve(
                        M::ClaimsAcceptedPct,
                        &[(0.0, 0.0), (50.0, 60.0), (100.0, 100.0)],
                    ),
                ],
            ),
        ];
        let grade = |grade: &str, min_score| GradeCut {
            grade: grade.into(),
            min_score,
        };
        Self {
            indicators,
            missing: MissingInput::Neutral,
            neutral_score: 50,
            grades: vec![
                grade("A", 75),
                grade("B", 55),
                grade("C", 35),
                grade("D", 0),
            ],
        }
    }
}

impl ScorePolicy {
    pub fn check(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        for key in IndicatorKey::ALL {
            let count = self.indicators.iter().filter(|i| i.key == *key).count();
            if count != 1 {
                errors.push(FieldError::new(
                    "indicators",
                    if count == 0 {
                        FieldCode::Required
                    } else {
                        FieldCode::Duplicate
                    },
                    format!("the indicator {key} must appear once"),
                ));
            }
        }
        if self.indicators.iter().all(|i| i.weight == 0) {
            errors.push(FieldError::new(
                "indicators",
                FieldCode::OutOfRange,
                "some weight must be positive",
            ));
        }
        for (i, indicator) in self.indicators.iter().enumerate() {
            if indicator.weight > 1000 {
                errors.push(FieldError::new(
                    format!("indicators[{i}].weight"),
                    FieldCode::OutOfRange,
                    "0 to 1000",
                ));
            }
            if indicator.curves.is_empty() || indicator.curves.len() > 4 {
                errors.push(FieldError::new(
                    format!("indicators[{i}].curves"),
                    FieldCode::OutOfRange,
                    "1 to 4 curves",
                ));
            }
            for (j, curve) in indicator.curves.iter().enumerate() {
                let field = format!("indicators[{i}].curves[{j}].points");
                let points = &curve.points;
                let rising = points.windows(2).all(|w| w[0].input < w[1].input);
                let finite = points
                    .iter()
                    .all(|p| p.input.is_finite() && (0.0..=100.0).contains(&p.score));
                if !(2..=20).contains(&points.len()) || !rising || !finite {
                    errors.push(FieldError::new(
                        field,
                        FieldCode::InvalidValue,
                        "2 to 20 points, inputs finite and rising, scores 0 to 100",
                    ));
                }
            }
        }
        if self.neutral_score > 100 {
            errors.push(FieldError::new(
                "neutral_score",
                FieldCode::OutOfRange,
                "0 to 100",
            ));
        }
        let falling = self
            .grades
            .windows(2)
            .all(|w| w[0].min_score > w[1].min_score);
        let named = self
            .grades
            .iter()
            .all(|g| !g.grade.trim().is_empty() && g.grade.len() <= 16);
        if self.grades.is_empty()
            || !falling
            || !named
            || self.grades.last().map(|g| g.min_score) != Some(0)
            || self.grades.iter().any(|g| g.min_score > 100)
        {
            errors.push(FieldError::new(
                "grades",
                FieldCode::InvalidValue,
                "named grades (1 to 16 characters) with minimum scores falling from at most 100 to 0",
            ));
        }
        errors.finish(|| ())
    }

    /// The grade a total earns.
    pub fn grade(&self, total: f64) -> &str {
        self.grades
            .iter()
            .find(|g| total >= f64::from(g.min_score))
            .or(self.grades.last())
            .map_or("", |g| g.grade.as_str())
    }
}

/// What the score reads of a customer; sums and counts over the run's period unless named
/// otherwise, amounts in minor units of the company currency.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoreFacts {
    pub orders: u32,
    pub revenue_minor: i64,
    pub cost_minor: i64,
    /// Orders with lines, and their distinct products added up.
    pub orders_with_lines: u32,
    pub product_kinds: u32,
    pub prepayment_bp: i64,
    pub credit_days: i64,
    /// The first order ever.
    pub first_order_on: Option<NaiveDate>,
    /// Trials ever, and those that reached an order.
    pub trials: u32,
    pub trials_ordered: u32,
    pub shipped_orders: u32,
    pub shipping_days: i64,
    pub paid_orders: u32,
    pub payment_days: i64,
    pub claims: u32,
    pub claims_decided: u32,
    pub claims_accepted: u32,
    /// Latest manual ratings 1-5.
    pub industry_influence: Option<u8>,
    pub price_sensitivity: Option<u8>,
    pub communication: Option<u8>,
}

impl ScoreFacts {
    pub fn margin_minor(&self) -> i64 {
        self.revenue_minor - self.cost_minor
    }
}

/// What the whole run knows that each score needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreContext {
    pub as_of: NaiveDate,
    pub period_days: u32,
    /// Every customer's margin over the period added up.
    pub company_margin_minor: i64,
    pub minor_per_major: f64,
}

fn ratio(part: f64, whole: f64) -> Option<f64> {
    (whole > 0.0).then(|| part / whole)
}

/// The measure's value for the customer; `None` without data.
pub fn measure(facts: &ScoreFacts, context: &ScoreContext, measure: Measure) -> Option<f64> {
    let orders = f64::from(facts.orders);
    let pct = |part: f64, whole: f64| ratio(part, whole).map(|r| r * 100.0);
    match measure {
        Measure::ProfitRatePct => pct(facts.margin_minor() as f64, facts.revenue_minor as f64),
        Measure::ProfitSharePct => (facts.orders > 0)
            .then(|| {
                pct(
                    facts.margin_minor() as f64,
                    context.company_margin_minor as f64,
                )
            })
            .flatten(),
        Measure::AverageOrder => {
            ratio(facts.revenue_minor as f64 / context.minor_per_major, orders)
        }
        Measure::OrdersPerYear => facts
            .first_order_on
            .map(|_| orders * 365.0 / f64::from(context.period_days.max(1))),
        Measure::ProductKindsPerOrder => ratio(
            f64::from(facts.product_kinds),
            f64::from(facts.orders_with_lines),
        ),
        Measure::PrepaymentPct => ratio(facts.prepayment_bp as f64 / 100.0, orders),
        Measure::CreditDays => ratio(facts.credit_days as f64, orders),
        Measure::IndustryInfluenceRating => facts.industry_influence.map(f64::from),
        Measure::CooperationYears => facts
            .first_order_on
            .map(|first| (context.as_of - first).num_days().max(0) as f64 / 365.25),
        Measure::TrialSuccessPct => pct(f64::from(facts.trials_ordered), f64::from(facts.trials)),
        Measure::ShippingDays => ratio(facts.shipping_days as f64, f64::from(facts.shipped_orders)),
        Measure::PaymentDays => ratio(facts.payment_days as f64, f64::from(facts.paid_orders)),
        Measure::PriceSensitivityRating => facts.price_sensitivity.map(f64::from),
        Measure::CommunicationRating => facts.communication.map(f64::from),
        Measure::ClaimRatePct => pct(f64::from(facts.claims), orders),
        Measure::ClaimsAcceptedPct => pct(
            f64::from(facts.claims_accepted),
            f64::from(facts.claims_decided),
        ),
    }
}

/// One measure as the explanation shows it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MeasureInput {
    pub measure: Measure,
    /// Absent without data.
    #[schema(example = 12.5)]
    pub value: Option<f64>,
}

/// One indicator of a customer's score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct IndicatorScore {
    pub key: IndicatorKey,
    /// The raw measures it read.
    pub input: Vec<MeasureInput>,
    /// 0 to 100; the neutral score without data, or absent where the policy reweights.
    #[schema(example = 62.5)]
    pub score: Option<f64>,
    #[schema(example = 15)]
    pub weight: u32,
    /// How the score came about, naming missing inputs.
    #[schema(example = "from profit_rate_pct 12.5 and profit_share_pct 0.8")]
    pub note: String,
}

/// A customer's value score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Score {
    /// 0 to 100.
    #[schema(example = 64.2)]
    pub total: f64,
    #[schema(example = "B")]
    pub grade: String,
    pub indicators: Vec<IndicatorScore>,
}

fn rounded(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

fn described(inputs: &[MeasureInput]) -> String {
    inputs
        .iter()
        .filter_map(|i| i.value.map(|v| format!("{} {}", i.measure, rounded(v))))
        .collect::<Vec<_>>()
        .join(" and ")
}

/// Scores a customer by the policy.
pub fn score(policy: &ScorePolicy, facts: &ScoreFacts, context: &ScoreContext) -> Score {
    let mut weighted = 0.0;
    let mut weights = 0.0;
    let indicators: Vec<IndicatorScore> = policy
        .indicators
        .iter()
        .map(|rule| {
            let input: Vec<MeasureInput> = rule
                .curves
                .iter()
                .map(|c| MeasureInput {
                    measure: c.measure,
                    value: measure(facts, context, c.measure),
                })
                .collect();
            let scored: Vec<f64> = rule
                .curves
                .iter()
                .zip(&input)
                .filter_map(|(curve, input)| input.value.map(|v| curve.score(v)))
                .collect();
            let missing: Vec<String> = input
                .iter()
                .filter(|i| i.value.is_none())
                .map(|i| i.measure.to_string())
                .collect();
            let (score, note) = if scored.is_empty() {
                match policy.missing {
                    MissingInput::Neutral => (
                        Some(f64::from(policy.neutral_score)),
                        format!("no data ({}): neutral score", missing.join(", ")),
                    ),
                    MissingInput::Reweight => (
                        None,
                        format!(
                            "no data ({}): weight shared by the others",
                            missing.join(", ")
                        ),
                    ),
                }
            } else {
                let mean = scored.iter().sum::<f64>() / scored.len() as f64;
                let mut note = format!("from {}", described(&input));
                if !missing.is_empty() {
                    note.push_str(&format!("; no data for {}", missing.join(", ")));
                }
                (Some(rounded(mean)), note)
            };
            if let Some(score) = score {
                weighted += score * f64::from(rule.weight);
                weights += f64::from(rule.weight);
            }
            IndicatorScore {
                key: rule.key,
                input,
                score,
                weight: rule.weight,
                note,
            }
        })
        .collect();
    let total = if weights > 0.0 {
        rounded(weighted / weights)
    } else {
        f64::from(policy.neutral_score)
    };
    Score {
        total,
        grade: policy.grade(total).to_owned(),
        indicators,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn context() -> ScoreContext {
        ScoreContext {
            as_of: NaiveDate::from_ymd_opt(2026, 6, 30).expect("a day"),
            period_days: 365,
            company_margin_minor: 100_000_000,
            minor_per_major: 100.0,
        }
    }

    #[test]
    fn the_default_policy_is_valid_and_names_every_indicator() {
        let policy = ScorePolicy::default();
        assert_eq!(policy.check(), Ok(()));
        assert_eq!(policy.indicators.iter().map(|i| i.weight).sum::<u32>(), 100);
        assert!(IndicatorKey::names_agree_with_serde());
        assert!(Measure::names_agree_with_serde());
        assert!(MissingInput::names_agree_with_serde());
    }

    #[test]
    fn a_customer_without_data_scores_neutral_and_every_gap_is_named() {
        let score = score(&ScorePolicy::default(), &ScoreFacts::default(), &context());
        assert_eq!(score.total, 50.0);
        assert_eq!(score.grade, "C");
        for indicator in &score.indicators {
            assert_eq!(indicator.score, Some(50.0));
            assert!(indicator.note.starts_with("no data"), "{}", indicator.note);
        }
    }

    #[test]
    fn reweighting_scores_on_the_indicators_with_data_only() {
        let policy = ScorePolicy {
            missing: MissingInput::Reweight,
            ..ScorePolicy::default()
        };
        let facts = ScoreFacts {
            communication: Some(5),
            industry_influence: Some(3),
            ..ScoreFacts::default()
        };
        let score = score(&policy, &facts, &context());
        // Communication 100 (weight 6) and influence 50 (weight 6).
        assert_eq!(score.total, 75.0);
        assert_eq!(score.grade, "A");
        let profit = &score.indicators[0];
        assert_eq!(profit.score, None);
        assert!(profit.note.contains("profit_rate_pct"));
    }

    #[test]
    fn measures_read_the_facts() {
        let facts = ScoreFacts {
            orders: 4,
            revenue_minor: 4_000_000,
            cost_minor: 3_000_000,
            orders_with_lines: 4,
            product_kinds: 10,
            prepayment_bp: 12_000,
            credit_days: 120,
            first_order_on: NaiveDate::from_ymd_opt(2024, 6, 30),
            claims: 1,
            claims_decided: 1,
            claims_accepted: 0,
            ..ScoreFacts::default()
        };
        let c = context();
        let m = |which| measure(&facts, &c, which);
        assert_eq!(m(Measure::ProfitRatePct), Some(25.0));
        assert_eq!(m(Measure::ProfitSharePct), Some(1.0));
        assert_eq!(m(Measure::AverageOrder), Some(10_000.0));
        assert_eq!(m(Measure::OrdersPerYear), Some(4.0));
        assert_eq!(m(Measure::ProductKindsPerOrder), Some(2.5));
        assert_eq!(m(Measure::PrepaymentPct), Some(30.0));
        assert_eq!(m(Measure::CreditDays), Some(30.0));
        assert_eq!(m(Measure::ClaimRatePct), Some(25.0));
        assert_eq!(m(Measure::ClaimsAcceptedPct), Some(0.0));
        assert_eq!(m(Measure::TrialSuccessPct), None);
        let years = m(Measure::CooperationYears).expect("ordered");
        assert!((years - 2.0).abs() < 0.01);
        let score = score(&ScorePolicy::default(), &facts, &c);
        let profit = &score.indicators[0];
        // Profit rate 25 % scores 87.5, share 1 % scores 50.
        assert_eq!(profit.score, Some(68.75));
        assert_eq!(
            profit.note,
            "from profit_rate_pct 25 and profit_share_pct 1"
        );
    }

    #[test]
    fn a_rejected_policy_names_its_faults() {
        let mut policy = ScorePolicy::default();
        policy.indicators.pop();
        policy.indicators[0].curves[0].points.reverse();
        policy.grades[3].min_score = 10;
        let fields: Vec<String> = policy
            .check()
            .expect_err("invalid")
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            ["indicators", "indicators[0].curves[0].points", "grades"]
        );
    }

    proptest! {
        #[test]
        fn every_score_is_between_zero_and_a_hundred(
            orders in 0u32..50, revenue in -1_000_000i64..100_000_000, cost in 0i64..100_000_000,
            kinds in 0u32..200, prepayment in 0i64..500_000, credit in 0i64..5000,
            trials in 0u32..10, ordered in 0u32..10, shipping in -10i64..500, payment in -10i64..5000,
            claims in 0u32..20, accepted in 0u32..20, rating in proptest::option::of(1u8..=5),
            reweight in any::<bool>(), margin in -1_000_000i64..1_000_000_000,
        ) {
            let facts = ScoreFacts {
                orders, revenue_minor: revenue, cost_minor: cost, orders_with_lines: orders,
                product_kinds: kinds, prepayment_bp: prepayment, credit_days: credit,
                first_order_on: NaiveDate::from_ymd_opt(2020, 1, 1),
                trials, trials_ordered: ordered.min(trials), shipped_orders: orders, shipping_days: shipping,
                paid_orders: orders, payment_days: payment, claims, claims_decided: claims,
                claims_accepted: accepted.min(claims), industry_influence: rating,
                price_sensitivity: rating, communication: rating,
            };
            let policy = ScorePolicy {
                missing: if reweight { MissingInput::Reweight } else { MissingInput::Neutral },
                ..ScorePolicy::default()
            };
            let context = ScoreContext { company_margin_minor: margin, ..context() };
            let score = score(&policy, &facts, &context);
            prop_assert!((0.0..=100.0).contains(&score.total), "{}", score.total);
            prop_assert_eq!(score.grade.as_str(), policy.grade(score.total));
            for indicator in &score.indicators {
                if let Some(s) = indicator.score {
                    prop_assert!((0.0..=100.0).contains(&s));
                }
            }
        }
    }
}
