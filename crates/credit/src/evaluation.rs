//! A credit evaluation: the working-capital model and the characteristic model combined
//! into the recommended limit, a manual adjustment with its reason into the final limit,
//! and the rating (seed 004 and its bank paper).

use chrono::{DateTime, NaiveDate, Utc};
use credo_core::company::FxRate;
use credo_core::money::input_amount;
use credo_core::{Currency, FieldCode, FieldError, FieldErrors};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::application::{Application, ApplicationStatus};
use crate::characteristic::{evaluate as score, Characteristic, GivenScore, Metrics, Template};
use crate::limit::rating;
use crate::policy::CreditPolicy;
use crate::statement::{Figures, Statement};
use crate::working_capital::WorkingCapital;

/// An evaluation to make.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluationInput {
    pub customer_id: Uuid,
    /// One of the customer's statements; the evaluation is in its currency.
    pub statement_id: Uuid,
    /// The credit application the evaluation answers, when there is one: of the same
    /// customer and currency, not yet decided.
    pub application_id: Option<Uuid>,
    #[schema(example = 100_000_000)]
    pub requested_limit_minor: i64,
    /// The statement's currency.
    #[schema(example = "CNY")]
    pub currency: String,
    /// The evaluator's scores; every point the statement does not pre-score needs one, and
    /// a score given wins over a pre-score.
    pub characteristic_scores: Vec<GivenScore>,
    pub manual_adjustment: Option<ManualAdjustment>,
}

/// An evaluation, with everything it read: it reproduces and explains itself after the
/// template or the policy changed. Together with the statement it is the credit
/// investigation report (inputs, method, result, evaluator, reviewer).
#[derive(Debug, Serialize, ToSchema)]
pub struct Evaluation {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub statement_id: Uuid,
    #[schema(required = true)]
    pub application_id: Option<Uuid>,
    #[schema(value_type = String, example = "CNY")]
    pub currency: Currency,
    #[schema(example = 100_000_000)]
    pub requested_limit_minor: i64,
    pub characteristic_scores: Vec<GivenScore>,
    #[schema(required = true)]
    pub manual_adjustment: Option<ManualAdjustment>,
    pub working_capital: WorkingCapital,
    pub characteristic: Characteristic,
    /// The working-capital limit times the characteristic grade's factor, at most the
    /// amount applied for.
    #[schema(example = 90_000_000)]
    pub recommended_limit_minor: i64,
    /// The manual adjustment's limit when given, else the recommendation.
    #[schema(example = 90_000_000)]
    pub final_limit_minor: i64,
    /// From the final limit in the company currency: "1A" to "5A".
    #[schema(example = "3A")]
    pub limit_grade: String,
    /// The limit grade then the characteristic grade.
    #[schema(example = "3A2")]
    pub rating: String,
    /// How the result was reached, in words.
    pub method: String,
    /// The exchange rate the limit grade read, when the evaluation is not in the company
    /// currency.
    #[schema(required = true, value_type = Option<String>, example = json!(null))]
    pub company_rate: Option<rust_decimal::Decimal>,
    #[schema(required = true, example = json!(null))]
    pub company_rate_on: Option<NaiveDate>,
    pub template_version: i64,
    pub template: Template,
    pub policy_version: i64,
    pub policy: CreditPolicy,
    /// Who evaluated.
    pub evaluator_id: Uuid,
    /// Who reviewed it: set by the approval of its application.
    #[schema(required = true, example = json!(null))]
    pub reviewer_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

pub const METHOD: &str = "Working-capital model: base = (current assets - current liabilities + \
equity) / 2; evaluation value = (current ratio + quick ratio) - (current liabilities / equity + \
total liabilities / equity), to 2 decimals; the policy's band gives the share of the base. \
Characteristic model: each point's score (the evaluator's, else pre-scored from the \
statement) times its item's weight, summed; the template's cut-offs give the grade. \
Recommended limit = working-capital limit x the grade's factor, at most the amount applied \
for; a manual adjustment with its reason gives the final limit, whose size in the company \
currency gives the limit grade.";

/// What an evaluation reads besides its input, read under its customer's lock: the
/// statement it names (if it is the customer's), the application it answers (if any), the
/// company currency and the latest rate of the statement's currency into it, the template
/// and the policy in force with their versions.
pub struct EvaluationSources<'a> {
    pub statement: Option<&'a Statement>,
    pub application: Option<Option<&'a Application>>,
    pub company: Currency,
    pub rate: Option<FxRate>,
    pub template: (&'a Template, i64),
    pub policy: (&'a CreditPolicy, i64),
}

fn invalid(field: &str, code: FieldCode, message: &str) -> Vec<FieldError> {
    vec![FieldError::new(field, code, message)]
}

/// Decides an evaluation made by `evaluator` at `at`: the statement must be the customer's,
/// the application (when named) the same customer's and currency's and undecided, the
/// currency the statement's, a rate recorded for a foreign statement; then both models
/// conclude (`conclude`) and the record keeps every input, the template and the policy as
/// used.
pub fn evaluate(
    input: &EvaluationInput,
    sources: &EvaluationSources<'_>,
    id: Uuid,
    evaluator: Uuid,
    at: DateTime<Utc>,
) -> Result<Evaluation, Vec<FieldError>> {
    let Some(statement) = sources.statement else {
        return Err(invalid(
            "statement_id",
            FieldCode::NotFound,
            "the customer has no statement with this id",
        ));
    };
    if let Some(application) = sources.application {
        let refusal = match application {
            None => Some((FieldCode::NotFound, "no credit application has this id")),
            Some(a) if a.customer_id != statement.customer_id => Some((
                FieldCode::OtherCustomer,
                "the application is for another customer",
            )),
            Some(a) if a.currency != statement.currency => Some((
                FieldCode::CurrencyMismatch,
                "the application is in another currency than the statement",
            )),
            Some(a) if !ApplicationStatus::UNDECIDED.contains(&a.status) => {
                Some((FieldCode::InvalidValue, "the application has been decided"))
            }
            Some(_) => None,
        };
        if let Some((code, message)) = refusal {
            return Err(invalid("application_id", code, message));
        }
    }
    if input.currency != statement.currency.as_str() {
        return Err(invalid(
            "currency",
            FieldCode::CurrencyMismatch,
            "an evaluation is in its statement's currency",
        ));
    }
    let company = sources.company;
    let rate = match (&sources.rate, statement.currency == company) {
        (_, true) => None,
        (Some(rate), false) => Some(rate.clone()),
        (None, false) => {
            return Err(invalid(
                "currency",
                FieldCode::InvalidRate,
                "no exchange rate into the company currency is recorded for this currency",
            ))
        }
    };
    let (template, template_version) = sources.template;
    let (policy, policy_version) = sources.policy;
    let facts = Facts {
        figures: &statement.figures,
        template,
        policy,
        statement_in_company_digits: rate.is_none().then(|| company.minor_digits()),
        company_digits: company.minor_digits(),
    };
    let in_company = |limit: i64| {
        rate.as_ref()
            .map_or(Some(limit), |r| r.to_company_minor(limit, company))
            .unwrap_or(i64::MAX)
    };
    let conclusion = conclude(
        &facts,
        &input.characteristic_scores,
        input.requested_limit_minor,
        input.manual_adjustment.as_ref(),
        in_company,
    )?;
    Ok(Evaluation {
        id,
        customer_id: statement.customer_id,
        statement_id: statement.id,
        application_id: input.application_id,
        currency: statement.currency,
        requested_limit_minor: input.requested_limit_minor,
        characteristic_scores: input.characteristic_scores.clone(),
        manual_adjustment: input.manual_adjustment.clone(),
        working_capital: conclusion.working_capital,
        characteristic: conclusion.characteristic,
        recommended_limit_minor: conclusion.recommended_limit_minor,
        final_limit_minor: conclusion.final_limit_minor,
        limit_grade: conclusion.limit_grade,
        rating: conclusion.rating,
        method: METHOD.to_owned(),
        company_rate: rate.as_ref().map(|r| r.rate),
        company_rate_on: rate.as_ref().map(|r| r.on),
        template_version,
        template: template.clone(),
        policy_version,
        policy: policy.clone(),
        evaluator_id: evaluator,
        reviewer_id: None,
        created_at: at,
    })
}

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

#[cfg(test)]
mod sources_tests {
    use super::*;
    use crate::characteristic::tests::judged;
    use crate::statement::tests::sample;

    fn statement(currency: &str) -> Statement {
        Statement {
            id: Uuid::from_u128(7),
            customer_id: Uuid::from_u128(1),
            period_end: "2025-12-31".parse().unwrap(),
            currency: Currency::parse(currency).unwrap(),
            audited: true,
            figures: sample(),
            created_at: DateTime::UNIX_EPOCH,
            created_by: Uuid::from_u128(2),
        }
    }

    fn input(currency: &str) -> EvaluationInput {
        EvaluationInput {
            customer_id: Uuid::from_u128(1),
            statement_id: Uuid::from_u128(7),
            application_id: None,
            requested_limit_minor: 100_000_000,
            currency: currency.into(),
            characteristic_scores: judged(5),
            manual_adjustment: None,
        }
    }

    fn fields(result: Result<Evaluation, Vec<FieldError>>) -> Vec<(String, FieldCode)> {
        result
            .unwrap_err()
            .into_iter()
            .map(|e| (e.field, e.code))
            .collect()
    }

    /// What the store read decides alone: a statement of the customer's, its currency, a
    /// rate for a foreign one; then the record names the versions it used.
    #[test]
    fn an_evaluation_reads_the_customers_statement_in_its_currency_at_a_recorded_rate() {
        let (template, policy) = (Template::default(), CreditPolicy::default());
        let cny = statement("CNY");
        let sources = |statement, rate| EvaluationSources {
            statement,
            application: None,
            company: Currency::parse("CNY").unwrap(),
            rate,
            template: (&template, 3),
            policy: (&policy, 4),
        };
        let at = DateTime::UNIX_EPOCH;
        let (id, who) = (Uuid::from_u128(9), Uuid::from_u128(5));
        assert_eq!(
            fields(evaluate(&input("CNY"), &sources(None, None), id, who, at)),
            [("statement_id".to_owned(), FieldCode::NotFound)]
        );
        assert_eq!(
            fields(evaluate(
                &input("USD"),
                &sources(Some(&cny), None),
                id,
                who,
                at
            )),
            [("currency".to_owned(), FieldCode::CurrencyMismatch)]
        );
        let usd = statement("USD");
        assert_eq!(
            fields(evaluate(
                &input("USD"),
                &sources(Some(&usd), None),
                id,
                who,
                at
            )),
            [("currency".to_owned(), FieldCode::InvalidRate)]
        );
        let made = evaluate(&input("CNY"), &sources(Some(&cny), None), id, who, at).unwrap();
        assert_eq!(
            (
                made.id,
                made.evaluator_id,
                made.template_version,
                made.policy_version
            ),
            (id, who, 3, 4)
        );
        assert_eq!(made.company_rate, None);
    }
}
