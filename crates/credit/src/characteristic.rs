//! The characteristic analysis model (seed 004): three categories of six items, each item
//! looked at from four aspects, 72 scored points summed by item weight into a grade from 1
//! (best) to 6, each grade saying whether to sell on credit.
//!
//! The seed names the categories and items but not the aspects; the default template below
//! supplies them, and pre-scores the financial aspects from a statement's ratios, so an
//! evaluator scores only what needs judgement. A company publishes its own edited template
//! as a new version.

use std::collections::{BTreeMap, BTreeSet};

use credo_core::{FieldCode, FieldError, FieldErrors};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::statement::{Altman, Figures, Ratios};

/// The three categories of seed 004.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// The customer's own characteristics (客户自身特征).
    Own,
    /// Priority characteristics: what the business means to us (优先性特征).
    Priority,
    /// Financial-credit characteristics (财务信用特征).
    FinancialCredit,
}

/// A figure of the latest statement an aspect can be pre-scored from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    CurrentRatio,
    QuickRatio,
    CashRatio,
    DebtRatio,
    InventoryTurnover,
    SalesProfitMargin,
    GrossMargin,
    CostProfit,
    ReturnOnAssets,
    EquityShare,
    InventoryShare,
    RetainedEarningsShare,
    AltmanZDoublePrime,
    /// Equity in major units of the company currency (statements in it only).
    Equity,
    /// Total assets in major units of the company currency.
    TotalAssets,
    /// Current assets less current liabilities, in major units of the company currency.
    WorkingCapital,
    /// Sales in major units of the company currency.
    Sales,
}

/// Which way a metric is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScoreDirection {
    HigherIsBetter,
    LowerIsBetter,
}

/// How an aspect is scored from a statement: one point for each threshold the metric meets
/// (at or above it when higher is better, at or below it otherwise).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Prescore {
    pub metric: Metric,
    pub direction: ScoreDirection,
    /// Exact decimals, as many as the aspect's `max_score`, each harder to meet than the
    /// one before.
    #[schema(value_type = Vec<String>, example = json!(["0.8", "1.0", "1.2", "1.5", "2.0"]))]
    pub thresholds: Vec<Decimal>,
}

/// One scored point of an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Aspect {
    #[schema(example = "current_ratio")]
    pub key: String,
    /// Scores run from 0 (worst) to this.
    #[schema(example = 5, minimum = 1, maximum = 100)]
    pub max_score: u32,
    #[schema(example = "Current assets over current liabilities")]
    pub description: String,
    /// Set when the aspect is pre-scored from the customer's latest statement.
    #[serde(default)]
    pub prescore: Option<Prescore>,
}

/// One of the items; its aspects' scores count `weight` times.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Item {
    #[schema(example = "solvency")]
    pub key: String,
    pub category: Category,
    #[schema(example = 2, minimum = 1, maximum = 100)]
    pub weight: u32,
    #[schema(min_items = 1, max_items = 10)]
    pub aspects: Vec<Aspect>,
}

/// A characteristic grade's rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GradeRule {
    /// 1 (least risk) to 6.
    #[schema(example = 1, minimum = 1, maximum = 6)]
    pub grade: u8,
    /// The least share of the maximum score the grade takes, in basis points.
    #[schema(example = 8000, minimum = 0, maximum = 10000)]
    pub min_share_bp: u32,
    /// Whether a customer of this grade may buy on credit.
    pub credit_sales_allowed: bool,
}

/// A characteristic template: its items and the grade cut-offs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Template {
    #[schema(min_items = 1, max_items = 30)]
    pub items: Vec<Item>,
    /// Grades 1 to 6 in order, cut-offs falling, the last at 0.
    #[schema(min_items = 6, max_items = 6, example = json!([
        {"grade": 1, "min_share_bp": 8000, "credit_sales_allowed": true},
        {"grade": 2, "min_share_bp": 6500, "credit_sales_allowed": true},
        {"grade": 3, "min_share_bp": 5000, "credit_sales_allowed": true},
        {"grade": 4, "min_share_bp": 3500, "credit_sales_allowed": true},
        {"grade": 5, "min_share_bp": 2000, "credit_sales_allowed": true},
        {"grade": 6, "min_share_bp": 0, "credit_sales_allowed": false}
    ]))]
    pub grades: Vec<GradeRule>,
}

/// Points of the default template: item key, category, weight, and its four aspects (key,
/// description, pre-score as metric, direction and five thresholds).
type DefaultAspect = (
    &'static str,
    &'static str,
    Option<(Metric, ScoreDirection, [&'static str; 5])>,
);
#[rustfmt::skip]
const DEFAULT_ITEMS: &[(&str, Category, u32, [DefaultAspect; 4])] = {
    use Category::*;
    use ScoreDirection::*;
    use Metric::*;
    &[
        ("first_impression", Own, 1, [
            ("premises", "Offices, plant and equipment as seen on the visit", None),
            ("conduct", "Staff conduct and how the customer deals with us", None),
            ("transparency", "How readily documents and information are provided", None),
            ("reputation", "Standing with suppliers, banks and in the trade", None),
        ]),
        ("organization_management", Own, 1, [
            ("legal_standing", "Ownership, registration and licences in good order", None),
            ("management_experience", "Experience and record of the managers", None),
            ("internal_controls", "Finance, purchasing and approval discipline", None),
            ("stability", "Stability of owners and key managers", None),
        ]),
        ("products_industry", Own, 1, [
            ("industry_outlook", "Growth and health of the customer's industry", None),
            ("product_quality", "Quality and acceptance of the customer's products", None),
            ("diversification", "Spread over products and end markets", None),
            ("exposure", "Little exposure to cycles, regulation and technology shifts", None),
        ]),
        ("market_competitiveness", Own, 1, [
            ("market_share", "Position in its market", None),
            ("brand", "Strength of brand and customer loyalty", None),
            ("pricing_power", "Ability to hold prices and margins", None),
            ("customer_base", "Spread over many buyers rather than a few", None),
        ]),
        ("operating_condition", Own, 1, [
            ("sales_trend", "Sales growth over the last years", None),
            ("capacity_use", "Use of its capacity and order backlog", None),
            ("supply_chain", "Reliability of its suppliers and inputs", None),
            ("years_in_business", "How long it has operated", None),
        ]),
        ("prospects", Own, 1, [
            ("growth_plans", "Credible plans for growth", None),
            ("investment", "Investment in capacity, products and people", None),
            ("continuity", "Succession and continuity of the business", None),
            ("fit_with_trends", "Fit with where its markets are going", None),
        ]),
        ("transaction_profitability", Priority, 1, [
            ("margin", "Our gross margin on what the customer buys", None),
            ("volume", "Volume and regularity of its orders", None),
            ("cost_to_serve", "Low cost of selling to and serving it", None),
            ("cross_selling", "Potential for more of our products", None),
        ]),
        ("trade_terms", Priority, 1, [
            ("term_length", "Credit term asked for against our standard", None),
            ("prepayment", "Share paid in advance or on delivery", None),
            ("payment_instrument", "Secure instruments (bank acceptance, letter of credit)", None),
            ("currency_risk", "Little exchange or transfer risk in settlement", None),
        ]),
        ("competitiveness_effect", Priority, 1, [
            ("strategic_importance", "Weight of the account in our strategy", None),
            ("reference_value", "Value as a reference for other buyers", None),
            ("scale_effect", "Effect of its volume on our costs", None),
            ("technical_feedback", "What we learn for our products", None),
        ]),
        ("market_attractiveness_effect", Priority, 1, [
            ("market_entry", "Opens a market or region for us", None),
            ("regional_presence", "Strengthens our presence where it operates", None),
            ("industry_signal", "Signals our standing in its industry", None),
            ("channel_reach", "Reach of its own sales channels", None),
        ]),
        ("payment_guarantee", Priority, 1, [
            ("collateral", "Mortgage or pledge offered", None),
            ("guarantor", "Strength of a guarantor", None),
            ("insurance", "Credit insurance or bank guarantee", None),
            ("enforceability", "How readily a claim can be enforced", None),
        ]),
        ("substitutability", Priority, 1, [
            ("replacement", "How hard the account would be to replace", None),
            ("share_of_sales", "Its share of our sales in its segment", None),
            ("switching_cost", "Its cost of switching away from us", None),
            ("relationship", "Length and depth of the relationship", None),
        ]),
        ("payment_record", FinancialCredit, 2, [
            ("on_time", "Share of invoices paid by the due day", None),
            ("days_late", "Few days late on average", None),
            ("disputes", "Few disputes and deductions", None),
            ("history_length", "Length of the payment history with us", None),
        ]),
        ("bank_credit", FinancialCredit, 2, [
            ("bank_rating", "Rating or opinion of its banks", None),
            ("facility_use", "Headroom in its bank facilities", None),
            ("defaults", "No loan defaults or rescheduling", None),
            ("relationships", "Breadth of its banking relationships", None),
        ]),
        ("solvency", FinancialCredit, 2, [
            ("current_ratio", "Current assets over current liabilities",
                Some((CurrentRatio, HigherIsBetter, ["0.8", "1.0", "1.2", "1.5", "2.0"]))),
            ("quick_ratio", "Current assets less inventory over current liabilities",
                Some((QuickRatio, HigherIsBetter, ["0.4", "0.6", "0.8", "1.0", "1.2"]))),
            ("cash_ratio", "Cash over current liabilities",
                Some((CashRatio, HigherIsBetter, ["0.05", "0.1", "0.2", "0.3", "0.5"]))),
            ("debt_ratio", "Total liabilities over total assets",
                Some((DebtRatio, LowerIsBetter, ["0.9", "0.8", "0.7", "0.6", "0.5"]))),
        ]),
        ("profitability", FinancialCredit, 2, [
            ("sales_profit_margin", "Net profit over sales",
                Some((SalesProfitMargin, HigherIsBetter, ["0", "0.02", "0.05", "0.08", "0.12"]))),
            ("gross_margin", "Sales less cost of sales, over sales",
                Some((GrossMargin, HigherIsBetter, ["0.05", "0.1", "0.15", "0.25", "0.35"]))),
            ("cost_profit", "Net profit over cost of sales",
                Some((CostProfit, HigherIsBetter, ["0", "0.03", "0.06", "0.1", "0.15"]))),
            ("return_on_assets", "Net profit over total assets",
                Some((ReturnOnAssets, HigherIsBetter, ["0", "0.02", "0.04", "0.07", "0.1"]))),
        ]),
        ("balance_sheet", FinancialCredit, 2, [
            ("equity_share", "Equity over total assets",
                Some((EquityShare, HigherIsBetter, ["0.1", "0.2", "0.3", "0.4", "0.5"]))),
            ("inventory_share", "Inventory over current assets",
                Some((InventoryShare, LowerIsBetter, ["0.8", "0.7", "0.6", "0.5", "0.4"]))),
            ("retained_earnings", "Retained earnings over total assets",
                Some((RetainedEarningsShare, HigherIsBetter, ["0", "0.05", "0.1", "0.15", "0.25"]))),
            ("altman", "Altman Z'' score",
                Some((AltmanZDoublePrime, HigherIsBetter, ["0.5", "1.1", "1.85", "2.6", "3.5"]))),
        ]),
        ("total_capital", FinancialCredit, 2, [
            ("equity", "Equity, in the company currency",
                Some((Equity, HigherIsBetter, ["1000000", "5000000", "20000000", "50000000", "100000000"]))),
            ("total_assets", "Total assets, in the company currency",
                Some((TotalAssets, HigherIsBetter, ["5000000", "20000000", "50000000", "100000000", "300000000"]))),
            ("working_capital", "Current assets less current liabilities, in the company currency",
                Some((WorkingCapital, HigherIsBetter, ["0", "2000000", "10000000", "30000000", "60000000"]))),
            ("sales", "Sales of the period, in the company currency",
                Some((Sales, HigherIsBetter, ["10000000", "30000000", "100000000", "300000000", "1000000000"]))),
        ]),
    ]
};

/// Grade cut-offs of the default template, in basis points of the maximum score.
const DEFAULT_GRADES: [(u32, bool); 6] = [
    (8_000, true),
    (6_500, true),
    (5_000, true),
    (3_500, true),
    (2_000, true),
    (0, false),
];

/// Scores of every default aspect run from 0 to this.
const DEFAULT_MAX_SCORE: u32 = 5;

impl Default for Template {
    /// Seed 004's 18 items, four aspects each scored 0-5; the financial-credit items count
    /// twice, as they speak to both the ability and the will to pay; grades 1-5 may buy on
    /// credit (5 for a quarter of the working-capital limit), grade 6 may not.
    fn default() -> Self {
        let items = DEFAULT_ITEMS
            .iter()
            .map(|(key, category, weight, aspects)| Item {
                key: (*key).to_owned(),
                category: *category,
                weight: *weight,
                aspects: aspects
                    .iter()
                    .map(|(key, description, prescore)| Aspect {
                        key: (*key).to_owned(),
                        max_score: DEFAULT_MAX_SCORE,
                        description: (*description).to_owned(),
                        prescore: prescore.map(|(metric, direction, thresholds)| Prescore {
                            metric,
                            direction,
                            thresholds: thresholds
                                .iter()
                                .map(|t| t.parse().expect("a decimal"))
                                .collect(),
                        }),
                    })
                    .collect(),
            })
            .collect();
        let grades = (1..)
            .zip(DEFAULT_GRADES)
            .map(|(grade, (min_share_bp, credit_sales_allowed))| GradeRule {
                grade,
                min_share_bp,
                credit_sales_allowed,
            })
            .collect();
        Self { items, grades }
    }
}

fn key_error(key: &str) -> Option<&'static str> {
    let valid = (1..=40).contains(&key.len())
        && key.starts_with(|c: char| c.is_ascii_lowercase())
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    (!valid).then_some("a key is 1 to 40 lowercase letters, digits and underscores")
}

impl Template {
    /// Every rule the template breaks, naming `items[i].aspects[j]...` or `grades[k]...`.
    pub fn check(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let mut push = |field: String, code, message: &str| {
            errors.push(FieldError::new(field, code, message));
        };
        if !(1..=30).contains(&self.items.len()) {
            push(
                "items".into(),
                FieldCode::OutOfRange,
                "a template has 1 to 30 items",
            );
        }
        let mut item_keys = BTreeSet::new();
        for (i, item) in self.items.iter().enumerate() {
            let at = |field: &str| format!("items[{i}].{field}");
            if let Some(message) = key_error(&item.key) {
                push(at("key"), FieldCode::InvalidValue, message);
            } else if !item_keys.insert(&item.key) {
                push(at("key"), FieldCode::Duplicate, "item keys are unique");
            }
            if !(1..=100).contains(&item.weight) {
                push(at("weight"), FieldCode::OutOfRange, "a weight is 1 to 100");
            }
            if !(1..=10).contains(&item.aspects.len()) {
                push(
                    at("aspects"),
                    FieldCode::OutOfRange,
                    "an item has 1 to 10 aspects",
                );
            }
            let mut aspect_keys = BTreeSet::new();
            for (j, aspect) in item.aspects.iter().enumerate() {
                let at = |field: &str| format!("items[{i}].aspects[{j}].{field}");
                if let Some(message) = key_error(&aspect.key) {
                    push(at("key"), FieldCode::InvalidValue, message);
                } else if !aspect_keys.insert(&aspect.key) {
                    push(
                        at("key"),
                        FieldCode::Duplicate,
                        "aspect keys are unique within an item",
                    );
                }
                if !(1..=100).contains(&aspect.max_score) {
                    push(
                        at("max_score"),
                        FieldCode::OutOfRange,
                        "a maximum score is 1 to 100",
                    );
                }
                if aspect.description.trim().is_empty() {
                    push(
                        at("description"),
                        FieldCode::Required,
                        "say what the aspect looks at",
                    );
                } else if aspect.description.chars().count() > 500 {
                    push(
                        at("description"),
                        FieldCode::TooLong,
                        "at most 500 characters",
                    );
                }
                if let Some(prescore) = &aspect.prescore {
                    let thresholds = &prescore.thresholds;
                    let rising = thresholds.windows(2).all(|pair| match prescore.direction {
                        ScoreDirection::HigherIsBetter => pair[0] < pair[1],
                        ScoreDirection::LowerIsBetter => pair[0] > pair[1],
                    });
                    if usize::try_from(aspect.max_score).ok() != Some(thresholds.len()) {
                        push(
                            at("prescore.thresholds"),
                            FieldCode::Conflicting,
                            "one threshold for each point of max_score",
                        );
                    } else if !rising {
                        push(
                            at("prescore.thresholds"),
                            FieldCode::OutOfRange,
                            "each threshold is harder to meet than the one before",
                        );
                    }
                }
            }
        }
        let expected_grades = self.grades.len() == 6
            && self
                .grades
                .iter()
                .zip(1..)
                .all(|(rule, grade)| rule.grade == grade);
        if !expected_grades {
            push(
                "grades".into(),
                FieldCode::InvalidValue,
                "grades are 1 to 6, in order",
            );
        }
        for (k, pair) in self.grades.windows(2).enumerate() {
            let at = |field: &str| format!("grades[{}].{field}", k + 1);
            if pair[1].min_share_bp >= pair[0].min_share_bp {
                push(
                    at("min_share_bp"),
                    FieldCode::OutOfRange,
                    "cut-offs fall from grade to grade",
                );
            }
            if pair[1].credit_sales_allowed && !pair[0].credit_sales_allowed {
                push(
                    at("credit_sales_allowed"),
                    FieldCode::Conflicting,
                    "a worse grade cannot buy on credit when a better one cannot",
                );
            }
        }
        if self
            .grades
            .last()
            .is_some_and(|rule| rule.min_share_bp != 0)
        {
            push(
                format!("grades[{}].min_share_bp", self.grades.len() - 1),
                FieldCode::OutOfRange,
                "the last grade takes every score: its cut-off is 0",
            );
        }
        if self.grades.iter().any(|rule| rule.min_share_bp > 10_000) {
            push(
                "grades".into(),
                FieldCode::OutOfRange,
                "cut-offs are at most 10000",
            );
        }
        errors.finish(|| ())
    }

    /// The highest possible score.
    pub fn max_score(&self) -> u64 {
        self.items
            .iter()
            .map(|item| {
                u64::from(item.weight)
                    * item
                        .aspects
                        .iter()
                        .map(|a| u64::from(a.max_score))
                        .sum::<u64>()
            })
            .sum()
    }
}

/// The metrics of a statement, for pre-scoring.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metrics(BTreeMap<Metric, Decimal>);

impl Metrics {
    /// The statement's metrics; money metrics only when `company_minor_digits` is given,
    /// that is when the statement is in the company currency.
    pub fn of(figures: &Figures, company_minor_digits: Option<u8>) -> Self {
        let ratios = Ratios::of(figures);
        let altman = Altman::of(figures);
        let mut values = BTreeMap::new();
        for (metric, value) in [
            (Metric::CurrentRatio, ratios.current.value),
            (Metric::QuickRatio, ratios.quick.value),
            (Metric::CashRatio, ratios.cash.value),
            (Metric::DebtRatio, ratios.debt.value),
            (Metric::InventoryTurnover, ratios.inventory_turnover.value),
            (Metric::SalesProfitMargin, ratios.sales_profit_margin.value),
            (Metric::GrossMargin, ratios.gross_margin.value),
            (Metric::CostProfit, ratios.cost_profit.value),
            (Metric::ReturnOnAssets, ratios.return_on_assets.value),
            (Metric::EquityShare, ratios.equity_share.value),
            (Metric::InventoryShare, ratios.inventory_share.value),
            (
                Metric::RetainedEarningsShare,
                ratios.retained_earnings_share.value,
            ),
            (Metric::AltmanZDoublePrime, altman.z_double_prime.value),
        ] {
            if let Some(value) = value {
                values.insert(metric, value);
            }
        }
        if let Some(digits) = company_minor_digits {
            let b = &figures.balance_sheet;
            let major = |minor: i64| Decimal::new(minor, u32::from(digits));
            values.insert(Metric::Equity, major(b.equity_minor));
            values.insert(Metric::TotalAssets, major(b.total_assets_minor));
            values.insert(
                Metric::WorkingCapital,
                major(b.current_assets_minor - b.current_liabilities_minor),
            );
            values.insert(Metric::Sales, major(figures.income_statement.sales_minor));
        }
        Self(values)
    }

    fn prescore(&self, prescore: &Prescore) -> Option<u32> {
        let value = *self.0.get(&prescore.metric)?;
        let met = prescore
            .thresholds
            .iter()
            .filter(|&&threshold| match prescore.direction {
                ScoreDirection::HigherIsBetter => value >= threshold,
                ScoreDirection::LowerIsBetter => value <= threshold,
            })
            .count();
        u32::try_from(met).ok()
    }
}

/// A score the evaluator gives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GivenScore {
    #[schema(example = "first_impression")]
    pub item: String,
    #[schema(example = "premises")]
    pub aspect: String,
    #[schema(example = 4, minimum = 0)]
    pub score: u32,
}

/// Where a point's score came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The evaluator scored it (and wins over a pre-score).
    Evaluator,
    /// Pre-scored from the statement.
    Statement,
}

/// One scored point of an evaluation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Point {
    pub item: String,
    pub aspect: String,
    pub score: u32,
    pub max_score: u32,
    pub source: Source,
}

/// The characteristic result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Characteristic {
    /// Sum of each point's score times its item's weight.
    #[schema(example = 312)]
    pub score: u64,
    #[schema(example = 480)]
    pub max_score: u64,
    /// 1 (least risk) to 6.
    #[schema(example = 2, minimum = 1, maximum = 6)]
    pub grade: u8,
    pub credit_sales_allowed: bool,
    /// Every point, in template order.
    pub points: Vec<Point>,
}

/// Scores every point of `template`: the evaluator's score where given, else the
/// pre-score from `metrics`; errors name unknown, duplicate, too high and unscored points
/// under `characteristic_scores`.
pub fn evaluate(
    template: &Template,
    metrics: &Metrics,
    given: &[GivenScore],
) -> Result<Characteristic, Vec<FieldError>> {
    let mut errors = FieldErrors::new();
    let mut by_point: BTreeMap<(&str, &str), u32> = BTreeMap::new();
    for (index, score) in given.iter().enumerate() {
        let at = |field: &str| format!("characteristic_scores[{index}].{field}");
        let Some(item) = template.items.iter().find(|item| item.key == score.item) else {
            errors.push(FieldError::new(
                at("item"),
                FieldCode::UnknownKey,
                "no item of the template has this key",
            ));
            continue;
        };
        let Some(aspect) = item.aspects.iter().find(|a| a.key == score.aspect) else {
            errors.push(FieldError::new(
                at("aspect"),
                FieldCode::UnknownKey,
                "the item has no aspect with this key",
            ));
            continue;
        };
        if score.score > aspect.max_score {
            errors.push(FieldError::new(
                at("score"),
                FieldCode::OutOfRange,
                format!(
                    "{}.{} is scored 0 to {}",
                    item.key, aspect.key, aspect.max_score
                ),
            ));
        }
        if by_point
            .insert((&item.key, &aspect.key), score.score)
            .is_some()
        {
            errors.push(FieldError::new(
                at("aspect"),
                FieldCode::Duplicate,
                "this point is scored twice",
            ));
        }
    }
    let mut points = Vec::new();
    let mut score = 0;
    for item in &template.items {
        for aspect in &item.aspects {
            let given = by_point.get(&(item.key.as_str(), aspect.key.as_str()));
            let scored = match given {
                Some(&score) => Some((score, Source::Evaluator)),
                None => aspect
                    .prescore
                    .as_ref()
                    .and_then(|p| metrics.prescore(p))
                    .map(|score| (score, Source::Statement)),
            };
            let Some((point_score, source)) = scored else {
                errors.push(FieldError::new(
                    missing_score_path(&item.key, &aspect.key),
                    FieldCode::Required,
                    "score this point: the statement does not pre-score it",
                ));
                continue;
            };
            score += u64::from(item.weight) * u64::from(point_score);
            points.push(Point {
                item: item.key.clone(),
                aspect: aspect.key.clone(),
                score: point_score,
                max_score: aspect.max_score,
                source,
            });
        }
    }
    if !errors.is_empty() {
        return Err(errors.into_vec());
    }
    let max_score = template.max_score();
    let share_bp = (score * 10_000).checked_div(max_score).unwrap_or(0);
    let rule = template
        .grades
        .iter()
        .find(|rule| u64::from(rule.min_share_bp) <= share_bp)
        .or(template.grades.last())
        .expect("a checked template has six grades");
    Ok(Characteristic {
        score,
        max_score,
        grade: rule.grade,
        credit_sales_allowed: rule.credit_sales_allowed,
        points,
    })
}

/// Where the score of a point nobody gave belongs: a JSON path (RFC 9535) whose filter
/// selects the entry of `characteristic_scores` that would hold it, since a missing entry has
/// no index.
pub fn missing_score_path(item: &str, aspect: &str) -> String {
    format!("characteristic_scores[?@.item=='{item}' && @.aspect=='{aspect}']")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::statement::tests::sample;
    use proptest::prelude::*;

    /// Scores for every point the default template does not pre-score.
    pub(crate) fn judged(score: u32) -> Vec<GivenScore> {
        Template::default()
            .items
            .iter()
            .flat_map(|item| {
                item.aspects
                    .iter()
                    .filter(|a| a.prescore.is_none())
                    .map(|a| GivenScore {
                        item: item.key.clone(),
                        aspect: a.key.clone(),
                        score,
                    })
            })
            .collect()
    }

    #[test]
    fn the_default_template_has_seed_004_s_72_points() {
        let template = Template::default();
        assert_eq!(template.check(), Ok(()));
        assert_eq!(template.items.len(), 18);
        assert!(template.items.iter().all(|item| item.aspects.len() == 4));
        for category in [Category::Own, Category::Priority, Category::FinancialCredit] {
            assert_eq!(
                template
                    .items
                    .iter()
                    .filter(|i| i.category == category)
                    .count(),
                6
            );
        }
        assert_eq!(template.max_score(), (6 + 6 + 12) * 4 * 5);
    }

    #[test]
    fn financial_points_are_pre_scored_from_the_statement() {
        let template = Template::default();
        let metrics = Metrics::of(&sample(), Some(2));
        let result = evaluate(&template, &metrics, &judged(3)).unwrap();
        let point = |key: &str| result.points.iter().find(|p| p.aspect == key).unwrap();
        // Current ratio 1.6 meets 0.8, 1.0, 1.2 and 1.5.
        assert_eq!(point("current_ratio").score, 4);
        assert_eq!(point("current_ratio").source, Source::Statement);
        // Debt ratio 0.6 is at or below 0.9, 0.8, 0.7 and 0.6.
        assert_eq!(point("debt_ratio").score, 4);
        // Equity 80.00 in the company currency meets no threshold.
        assert_eq!(point("equity").score, 0);
        assert_eq!(point("premises").source, Source::Evaluator);
    }

    #[test]
    fn an_evaluator_s_score_wins_and_unscored_points_are_named() {
        let template = Template::default();
        let metrics = Metrics::of(&sample(), Some(2));
        let mut given = judged(5);
        given.push(GivenScore {
            item: "solvency".into(),
            aspect: "current_ratio".into(),
            score: 1,
        });
        let result = evaluate(&template, &metrics, &given).unwrap();
        let current = result
            .points
            .iter()
            .find(|p| p.aspect == "current_ratio")
            .unwrap();
        assert_eq!((current.score, current.source), (1, Source::Evaluator));
        // In another currency the money points need the evaluator.
        let errors = evaluate(&template, &Metrics::of(&sample(), None), &judged(5)).unwrap_err();
        let fields: Vec<_> = errors.into_iter().map(|e| (e.field, e.code)).collect();
        assert_eq!(
            fields,
            ["equity", "total_assets", "working_capital", "sales"]
                .map(|a| (missing_score_path("total_capital", a), FieldCode::Required))
        );
    }

    #[test]
    fn bad_scores_are_named_by_index() {
        let template = Template::default();
        let mut given = judged(5);
        given.push(GivenScore {
            item: "nope".into(),
            aspect: "premises".into(),
            score: 1,
        });
        given.push(GivenScore {
            item: "first_impression".into(),
            aspect: "nope".into(),
            score: 1,
        });
        given.push(GivenScore {
            item: "first_impression".into(),
            aspect: "premises".into(),
            score: 6,
        });
        let errors = evaluate(&template, &Metrics::of(&sample(), Some(2)), &given).unwrap_err();
        let n = judged(5).len();
        let fields: Vec<_> = errors.into_iter().map(|e| (e.field, e.code)).collect();
        assert_eq!(
            fields,
            [
                (
                    format!("characteristic_scores[{n}].item"),
                    FieldCode::UnknownKey
                ),
                (
                    format!("characteristic_scores[{}].aspect", n + 1),
                    FieldCode::UnknownKey
                ),
                (
                    format!("characteristic_scores[{}].score", n + 2),
                    FieldCode::OutOfRange
                ),
                (
                    format!("characteristic_scores[{}].aspect", n + 2),
                    FieldCode::Duplicate
                ),
            ]
        );
    }

    #[test]
    fn grades_follow_the_cut_offs() {
        // A one-point template makes the share exact: score s of 100.
        let mut template = Template::default();
        template.items.truncate(1);
        template.items[0].aspects.truncate(1);
        template.items[0].aspects[0].max_score = 100;
        for (score, grade, allowed) in [
            (100, 1, true),
            (80, 1, true),
            (79, 2, true),
            (65, 2, true),
            (50, 3, true),
            (35, 4, true),
            (20, 5, true),
            (19, 6, false),
            (0, 6, false),
        ] {
            let given = [GivenScore {
                item: "first_impression".into(),
                aspect: "premises".into(),
                score,
            }];
            let result = evaluate(&template, &Metrics::default(), &given).unwrap();
            assert_eq!(
                (result.grade, result.credit_sales_allowed),
                (grade, allowed),
                "{score}"
            );
        }
    }

    #[test]
    fn an_edited_template_must_hold_together() {
        let mut template = Template::default();
        template.items[1].key = "first_impression".into();
        template.items[2].aspects[0].max_score = 0;
        template.items[14].aspects[0]
            .prescore
            .as_mut()
            .unwrap()
            .thresholds
            .swap(0, 1);
        template.grades[3].min_share_bp = 6_000;
        template.grades[3].credit_sales_allowed = false;
        let fields: Vec<String> = template
            .check()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "items[1].key",
                "items[2].aspects[0].max_score",
                "items[14].aspects[0].prescore.thresholds",
                "grades[3].min_share_bp",
                "grades[4].credit_sales_allowed",
            ]
            .map(str::to_owned)
        );
    }

    proptest! {
        #[test]
        fn the_grade_never_improves_as_scores_fall(a in 0u32..=5, b in 0u32..=5) {
            let template = Template::default();
            let metrics = Metrics::of(&sample(), Some(2));
            let (high, low) = (a.max(b), a.min(b));
            let high = evaluate(&template, &metrics, &judged(high)).unwrap();
            let low = evaluate(&template, &metrics, &judged(low)).unwrap();
            prop_assert!(high.score >= low.score);
            prop_assert!(high.grade <= low.grade);
        }
    }
}
