//! A credit evaluation: the working-capital model and the characteristic model combined
//! into the recommended limit, a manual adjustment with its reason into the final limit,
//! and the rating (seed 004 and its bank paper).

use credo_core::money::input_amount;
use credo_core::{FieldCode, FieldError, FieldErrors};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::characteristic::{evaluate as score, Characteristic, GivenScore, Metrics, Template};
use crate::limit::rating;
use crate::policy::CreditPolicy;
use crate::statement::Figures;
use crate::working_capital::WorkingCapital;

/// The evaluator's own final limit, with why it departs from the recommendation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ManualAdjustment {
    #[schema(example = 80_000_000)]
    pub final_limit_minor: i64,
    #[schema(example = "集团担保,上调至八十万")]
    pub reason: String,
}

/// What an evaluation concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conclusion {
    pub working_capital: WorkingCapital,
    pub characteristic: Characteristic,
    /// The working-capital limit scaled by the grade, at most the amount applied for.
    pub recommended_limit_minor: i64,
    /// The manual adjustment's limit when given, else the recommendation.
    pub final_limit_minor: i64,
    /// "1A" to "5A".
    pub limit_grade: String,
    /// The limit grade then the characteristic grade: "3A2".
    pub rating: String,
}

/// The facts an evaluation reads, all in the statement's currency but the company's
/// figures.
pub struct Facts<'a> {
    pub figures: &'a Figures,
    pub template: &'a Template,
    pub policy: &'a CreditPolicy,
    /// Decimals of the company currency when the statement is in it (money aspects are
    /// pre-scored then), else `None`.
    pub statement_in_company_digits: Option<u8>,
    /// Decimals of the company currency, for the limit grade's bounds.
    pub company_digits: u8,
}

/// Decides an evaluation; `in_company_currency` converts a limit of the statement's
/// currency into the company currency (identity when they are the same). Errors name the
/// request's fields.
pub fn conclude(
    facts: &Facts<'_>,
    given: &[GivenScore],
    requested_limit_minor: i64,
    adjustment: Option<&ManualAdjustment>,
    in_company_currency: impl FnOnce(i64) -> i64,
) -> Result<Conclusion, Vec<FieldError>> {
    let mut errors = FieldErrors::new();
    errors.check(
        "requested_limit_minor",
        input_amount(requested_limit_minor, 1),
    );
    if let Some(adjustment) = adjustment {
        errors.check(
            "manual_adjustment.final_limit_minor",
            input_amount(adjustment.final_limit_minor, 0),
        );
        let reason = adjustment.reason.trim();
        if reason.is_empty() {
            errors.push(FieldError::new(
                "manual_adjustment.reason",
                FieldCode::Required,
                "say why the final limit departs from the recommendation",
            ));
        } else if reason.chars().count() > 1000 {
            errors.push(FieldError::new(
                "manual_adjustment.reason",
                FieldCode::TooLong,
                "at most 1000 characters",
            ));
        }
    }
    let metrics = Metrics::of(facts.figures, facts.statement_in_company_digits);
    let characteristic = match score(facts.template, &metrics, given) {
        Ok(characteristic) => Some(characteristic),
        Err(scoring) => {
            scoring.into_iter().for_each(|e| errors.push(e));
            None
        }
    };
    let Some(characteristic) = characteristic.filter(|_| errors.is_empty()) else {
        return Err(errors.into_vec());
    };
    let limits = &facts.policy.limits;
    let working_capital =
        WorkingCapital::of(&facts.figures.balance_sheet, &facts.policy.working_capital);
    let recommended_limit_minor = limits.recommended_minor(
        working_capital.limit_minor,
        characteristic.grade,
        characteristic.credit_sales_allowed,
        requested_limit_minor,
    );
    let final_limit_minor = adjustment.map_or(recommended_limit_minor, |a| a.final_limit_minor);
    let limit_grade =
        limits.limit_grade(in_company_currency(final_limit_minor), facts.company_digits);
    Ok(Conclusion {
        rating: rating(limit_grade, characteristic.grade),
        limit_grade: format!("{limit_grade}A"),
        working_capital,
        characteristic,
        recommended_limit_minor,
        final_limit_minor,
    })
}

/// An evaluation in brief: what a customer's credit file shows of its latest one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct EvaluationSummary {
    pub id: uuid::Uuid,
    #[schema(example = "3A2")]
    pub rating: String,
    #[schema(value_type = String, example = "CNY")]
    pub currency: credo_core::Currency,
    #[schema(example = 90_000_000)]
    pub final_limit_minor: i64,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::characteristic::tests::judged;
    use crate::statement::tests::sample;

    fn scaled(figures: &mut Figures, factor: i64) {
        let b = &mut figures.balance_sheet;
        for amount in [
            &mut b.current_assets_minor,
            &mut b.inventory_minor,
            &mut b.cash_minor,
            &mut b.total_assets_minor,
            &mut b.current_liabilities_minor,
            &mut b.total_liabilities_minor,
            &mut b.equity_minor,
            &mut b.retained_earnings_minor,
        ] {
            *amount *= factor;
        }
        let i = &mut figures.income_statement;
        for amount in [
            &mut i.sales_minor,
            &mut i.cost_of_sales_minor,
            &mut i.ebit_minor,
            &mut i.net_profit_minor,
        ] {
            *amount *= factor;
        }
    }

    #[test]
    fn the_models_combine_into_a_rating() {
        // The sample in fen times 1,000,000: equity 80M yuan, base 55M yuan, value 0.48 ->
        // 20 %: a working-capital limit of 11M yuan.
        let mut figures = sample();
        scaled(&mut figures, 1_000_000);
        let template = Template::default();
        let policy = CreditPolicy::default();
        let facts = Facts {
            figures: &figures,
            template: &template,
            policy: &policy,
            statement_in_company_digits: Some(2),
            company_digits: 2,
        };
        let given = judged(4);
        let conclusion = conclude(&facts, &given, 5_000_000_000, None, |m| m).unwrap();
        assert_eq!(conclusion.working_capital.limit_minor, 1_100_000_000);
        let grade = conclusion.characteristic.grade;
        let factor = policy.limits.grade_factors_bp[usize::from(grade - 1)];
        assert_eq!(
            conclusion.recommended_limit_minor,
            1_100_000_000 * i64::from(factor) / 10_000
        );
        assert_eq!(
            conclusion.final_limit_minor,
            conclusion.recommended_limit_minor
        );
        assert_eq!(
            conclusion.rating,
            format!("{}{grade}", conclusion.limit_grade)
        );
        // Applied for less: capped; adjusted by hand: the adjustment decides the grade.
        let capped = conclude(&facts, &given, 25_000_000, None, |m| m).unwrap();
        assert_eq!(capped.recommended_limit_minor, 25_000_000);
        assert_eq!(capped.limit_grade, "1A");
        let adjustment = ManualAdjustment {
            final_limit_minor: 100_000_000,
            reason: "集团担保".into(),
        };
        let adjusted = conclude(&facts, &given, 25_000_000, Some(&adjustment), |m| m).unwrap();
        assert_eq!(adjusted.final_limit_minor, 100_000_000);
        assert_eq!(adjusted.limit_grade, "4A");
        // The grade reads the limit in the company currency.
        let in_usd = conclude(&facts, &given, 25_000_000, Some(&adjustment), |m| m * 7).unwrap();
        assert_eq!(in_usd.limit_grade, "5A");
    }

    #[test]
    fn every_fault_of_the_request_is_named_at_once() {
        let figures = sample();
        let template = Template::default();
        let policy = CreditPolicy::default();
        let facts = Facts {
            figures: &figures,
            template: &template,
            policy: &policy,
            statement_in_company_digits: Some(2),
            company_digits: 2,
        };
        let adjustment = ManualAdjustment {
            final_limit_minor: -1,
            reason: " ".into(),
        };
        let mut given = judged(4);
        given.pop();
        let fields: Vec<String> = conclude(&facts, &given, 0, Some(&adjustment), |m| m)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "requested_limit_minor",
                "manual_adjustment.final_limit_minor",
                "manual_adjustment.reason",
                "characteristic_scores[?@.item=='bank_credit' && @.aspect=='relationships']",
            ]
        );
    }
}
