//! A financial statement, the checks that refuse an impossible one, its ratios (seed 004's
//! short- and long-term credit indicators, plus return on assets and equity share) and the
//! Altman scores.

use chrono::{DateTime, NaiveDate, Utc};
use credo_core::money::MAX_MINOR;
use credo_core::{Currency, FieldCode, FieldError, FieldErrors};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::number::{quotient, round};

/// Decimals a ratio or score is given to.
pub const RATIO_PLACES: u32 = 4;

/// The balance sheet at the period end, in minor units of the statement currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BalanceSheet {
    #[schema(example = 8_000_000_000_i64)]
    pub current_assets_minor: i64,
    /// Part of the current assets.
    #[schema(example = 3_000_000_000_i64)]
    pub inventory_minor: i64,
    /// Cash and equivalents, part of the current assets.
    #[schema(example = 1_000_000_000_i64)]
    pub cash_minor: i64,
    #[schema(example = 20_000_000_000_i64)]
    pub total_assets_minor: i64,
    #[schema(example = 5_000_000_000_i64)]
    pub current_liabilities_minor: i64,
    #[schema(example = 12_000_000_000_i64)]
    pub total_liabilities_minor: i64,
    /// Net worth (owners' equity, book value); negative for an insolvent company.
    #[schema(example = 8_000_000_000_i64)]
    pub equity_minor: i64,
    /// Part of the equity; negative after accumulated losses.
    #[schema(example = 2_000_000_000_i64)]
    pub retained_earnings_minor: i64,
}

/// The income statement of the period, in minor units of the statement currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncomeStatement {
    #[schema(example = 30_000_000_000_i64)]
    pub sales_minor: i64,
    #[schema(example = 24_000_000_000_i64)]
    pub cost_of_sales_minor: i64,
    /// Earnings before interest and taxes.
    #[schema(example = 2_400_000_000_i64)]
    pub ebit_minor: i64,
    #[schema(example = 1_500_000_000_i64)]
    pub net_profit_minor: i64,
}

/// The cash-flow statement of the period (net flows; any sign), in minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CashFlow {
    #[schema(example = 1_800_000_000_i64)]
    pub operating_minor: i64,
    #[schema(example = -600_000_000_i64)]
    pub investing_minor: i64,
    #[schema(example = -400_000_000_i64)]
    pub financing_minor: i64,
}

/// The figures of a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Figures {
    pub balance_sheet: BalanceSheet,
    pub income_statement: IncomeStatement,
    pub cash_flow: Option<CashFlow>,
    /// Market value of the equity, for listed companies: enables the original Z score.
    #[schema(example = 24_000_000_000_i64)]
    pub market_value_of_equity_minor: Option<i64>,
}

/// A customer's financial statement for a period, as filed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub period_end: NaiveDate,
    pub currency: Currency,
    /// Whether an auditor signed the statement.
    pub audited: bool,
    pub figures: Figures,
    pub created_at: DateTime<Utc>,
    pub created_by: Uuid,
}

impl Figures {
    /// Every problem that makes the statement impossible, each naming its fields (as the
    /// request names them).
    pub fn check(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let b = &self.balance_sheet;
        let i = &self.income_statement;
        let mut amounts = vec![
            (
                "balance_sheet.current_assets_minor",
                b.current_assets_minor,
                false,
            ),
            ("balance_sheet.inventory_minor", b.inventory_minor, false),
            ("balance_sheet.cash_minor", b.cash_minor, false),
            (
                "balance_sheet.total_assets_minor",
                b.total_assets_minor,
                false,
            ),
            (
                "balance_sheet.current_liabilities_minor",
                b.current_liabilities_minor,
                false,
            ),
            (
                "balance_sheet.total_liabilities_minor",
                b.total_liabilities_minor,
                false,
            ),
            ("balance_sheet.equity_minor", b.equity_minor, true),
            (
                "balance_sheet.retained_earnings_minor",
                b.retained_earnings_minor,
                true,
            ),
            ("income_statement.sales_minor", i.sales_minor, false),
            (
                "income_statement.cost_of_sales_minor",
                i.cost_of_sales_minor,
                false,
            ),
            ("income_statement.ebit_minor", i.ebit_minor, true),
            (
                "income_statement.net_profit_minor",
                i.net_profit_minor,
                true,
            ),
        ];
        if let Some(flow) = &self.cash_flow {
            amounts.extend([
                ("cash_flow.operating_minor", flow.operating_minor, true),
                ("cash_flow.investing_minor", flow.investing_minor, true),
                ("cash_flow.financing_minor", flow.financing_minor, true),
            ]);
        }
        if let Some(value) = self.market_value_of_equity_minor {
            amounts.push(("market_value_of_equity_minor", value, false));
        }
        let mut in_range = true;
        for (field, amount, may_be_negative) in amounts {
            if amount.unsigned_abs() > MAX_MINOR.unsigned_abs() {
                in_range = false;
                errors.push(FieldError::new(
                    field,
                    FieldCode::TooLarge,
                    "amounts are at most 2^53 - 1 minor units either way",
                ));
            } else if amount < 0 && !may_be_negative {
                errors.push(FieldError::new(
                    field,
                    FieldCode::OutOfRange,
                    "this amount cannot be negative",
                ));
            }
        }
        if !in_range {
            return Err(errors.into_vec());
        }
        let mut part_of = |part: (&str, i64), whole: (&str, i64)| {
            if part.1 > whole.1 {
                errors.push(FieldError::new(
                    format!("balance_sheet.{}", part.0),
                    FieldCode::ExceedsWhole,
                    format!("{} is part of {}, and larger than it", part.0, whole.0),
                ));
            }
        };
        part_of(
            ("inventory_minor", b.inventory_minor),
            ("current_assets_minor", b.current_assets_minor),
        );
        part_of(
            ("cash_minor", b.cash_minor),
            ("current_assets_minor", b.current_assets_minor),
        );
        part_of(
            ("current_assets_minor", b.current_assets_minor),
            ("total_assets_minor", b.total_assets_minor),
        );
        part_of(
            ("current_liabilities_minor", b.current_liabilities_minor),
            ("total_liabilities_minor", b.total_liabilities_minor),
        );
        // Assets = liabilities + equity; rounding in a filed statement is tolerated up to
        // 1 % of the total assets.
        let gap = i128::from(b.total_assets_minor)
            - i128::from(b.total_liabilities_minor)
            - i128::from(b.equity_minor);
        if gap.abs() * 100 > i128::from(b.total_assets_minor) {
            let message = format!(
                "total assets differ from total liabilities plus equity by {gap} minor units, \
                 more than 1 % of the total assets"
            );
            for field in [
                "total_assets_minor",
                "total_liabilities_minor",
                "equity_minor",
            ] {
                errors.push(FieldError::new(
                    format!("balance_sheet.{field}"),
                    FieldCode::Unbalanced,
                    message.clone(),
                ));
            }
        }
        errors.finish(|| ())
    }
}

/// A ratio: its value, or why there is none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Ratio {
    /// Rounded to 4 decimals; `null` when the divisor is zero.
    #[serde(with = "rust_decimal::serde::float_option")]
    #[schema(value_type = Option<f64>, example = 1.6)]
    pub value: Option<Decimal>,
    /// How it is computed, from the statement's fields.
    #[schema(example = "current_assets / current_liabilities")]
    pub formula: &'static str,
    /// Why `value` is `null`.
    #[schema(example = json!(null))]
    pub reason: Option<String>,
}

impl Ratio {
    fn of(formula: &'static str, numerator: i64, denominator: (&str, i64)) -> Self {
        let value = quotient(numerator.into(), denominator.1.into(), RATIO_PLACES);
        Self {
            value,
            formula,
            reason: value
                .is_none()
                .then(|| format!("{} is zero", denominator.0)),
        }
    }
}

/// Seed 004's credit indicators and two more the characteristic model scores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Ratios {
    /// Current assets / current liabilities (short-term solvency).
    pub current: Ratio,
    /// (Current assets - inventory) / current liabilities.
    pub quick: Ratio,
    /// Cash / current liabilities.
    pub cash: Ratio,
    /// Total liabilities / total assets.
    pub debt: Ratio,
    /// Cost of sales / inventory at the period end (times per period).
    pub inventory_turnover: Ratio,
    /// Net profit / sales.
    pub sales_profit_margin: Ratio,
    /// (Sales - cost of sales) / sales.
    pub gross_margin: Ratio,
    /// Net profit / cost of sales (成本费用利润率, with the cost of sales as the cost).
    pub cost_profit: Ratio,
    /// Net profit / total assets.
    pub return_on_assets: Ratio,
    /// Equity / total assets.
    pub equity_share: Ratio,
    /// Inventory / current assets.
    pub inventory_share: Ratio,
    /// Retained earnings / total assets.
    pub retained_earnings_share: Ratio,
}

impl Ratios {
    pub fn of(figures: &Figures) -> Self {
        let b = &figures.balance_sheet;
        let i = &figures.income_statement;
        let current_liabilities = ("current_liabilities", b.current_liabilities_minor);
        let total_assets = ("total_assets", b.total_assets_minor);
        let sales = ("sales", i.sales_minor);
        Self {
            current: Ratio::of(
                "current_assets / current_liabilities",
                b.current_assets_minor,
                current_liabilities,
            ),
            quick: Ratio::of(
                "(current_assets - inventory) / current_liabilities",
                b.current_assets_minor - b.inventory_minor,
                current_liabilities,
            ),
            cash: Ratio::of(
                "cash / current_liabilities",
                b.cash_minor,
                current_liabilities,
            ),
            debt: Ratio::of(
                "total_liabilities / total_assets",
                b.total_liabilities_minor,
                total_assets,
            ),
            inventory_turnover: Ratio::of(
                "cost_of_sales / inventory",
                i.cost_of_sales_minor,
                ("inventory", b.inventory_minor),
            ),
            sales_profit_margin: Ratio::of("net_profit / sales", i.net_profit_minor, sales),
            gross_margin: Ratio::of(
                "(sales - cost_of_sales) / sales",
                i.sales_minor - i.cost_of_sales_minor,
                sales,
            ),
            cost_profit: Ratio::of(
                "net_profit / cost_of_sales",
                i.net_profit_minor,
                ("cost_of_sales", i.cost_of_sales_minor),
            ),
            return_on_assets: Ratio::of(
                "net_profit / total_assets",
                i.net_profit_minor,
                total_assets,
            ),
            equity_share: Ratio::of("equity / total_assets", b.equity_minor, total_assets),
            inventory_share: Ratio::of(
                "inventory / current_assets",
                b.inventory_minor,
                ("current_assets", b.current_assets_minor),
            ),
            retained_earnings_share: Ratio::of(
                "retained_earnings / total_assets",
                b.retained_earnings_minor,
                total_assets,
            ),
        }
    }
}

/// Where a Z score puts the company.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Zone {
    Safe,
    Grey,
    Distress,
}

/// One Altman score, or why there is none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ZScore {
    /// Rounded to 4 decimals; `null` with `reason` when it cannot be computed.
    #[serde(with = "rust_decimal::serde::float_option")]
    #[schema(value_type = Option<f64>, example = 2.4375)]
    pub value: Option<Decimal>,
    /// Below the lower cut-off distress, above the upper safe, grey between (inclusive).
    pub zone: Option<Zone>,
    #[schema(example = json!(null))]
    pub reason: Option<String>,
}

/// The three Altman models: Z for listed manufacturers (needs the market value of equity),
/// Z' for private manufacturers, Z'' for non-manufacturers and emerging markets (without the
/// +3.25 constant, so its zones stay the original 1.10 and 2.60).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Altman {
    pub z: ZScore,
    pub z_prime: ZScore,
    pub z_double_prime: ZScore,
}

/// A Z model: coefficients in thousandths for X1..X5 (X5 optional) and its zone cut-offs in
/// hundredths.
struct Model {
    coefficients: [i64; 5],
    distress_below: i64,
    safe_above: i64,
}

const Z: Model = Model {
    coefficients: [1_200, 1_400, 3_300, 600, 1_000],
    distress_below: 181,
    safe_above: 299,
};
const Z_PRIME: Model = Model {
    coefficients: [717, 847, 3_107, 420, 998],
    distress_below: 123,
    safe_above: 290,
};
const Z_DOUBLE_PRIME: Model = Model {
    coefficients: [6_560, 3_260, 6_720, 1_050, 0],
    distress_below: 110,
    safe_above: 260,
};

impl Model {
    /// X1 = working capital / TA, X2 = retained earnings / TA, X3 = EBIT / TA,
    /// X4 = `equity_minor` / total liabilities, X5 = sales / TA; each X exact to 10
    /// decimals, so the score is exact well beyond the 4 decimals it is given to.
    fn score(&self, figures: &Figures, equity_minor: i64) -> ZScore {
        const X_PLACES: u32 = 10;
        let b = &figures.balance_sheet;
        let i = &figures.income_statement;
        let on_assets =
            |amount: i64| quotient(amount.into(), b.total_assets_minor.into(), X_PLACES);
        let xs = [
            on_assets(b.current_assets_minor - b.current_liabilities_minor),
            on_assets(b.retained_earnings_minor),
            on_assets(i.ebit_minor),
            quotient(
                equity_minor.into(),
                b.total_liabilities_minor.into(),
                X_PLACES,
            ),
            on_assets(i.sales_minor),
        ];
        let reason = if b.total_assets_minor == 0 {
            "total_assets is zero"
        } else {
            "total_liabilities is zero"
        };
        let Some(value) = xs
            .iter()
            .zip(self.coefficients)
            .try_fold(Decimal::ZERO, |sum, (x, coefficient)| {
                Some(sum + x.as_ref()? * Decimal::new(coefficient, 3))
            })
        else {
            return ZScore {
                value: None,
                zone: None,
                reason: Some(reason.to_owned()),
            };
        };
        let value = round(value, RATIO_PLACES);
        let hundredths = value * Decimal::ONE_HUNDRED;
        let zone = if hundredths < Decimal::from(self.distress_below) {
            Zone::Distress
        } else if hundredths > Decimal::from(self.safe_above) {
            Zone::Safe
        } else {
            Zone::Grey
        };
        ZScore {
            value: Some(value),
            zone: Some(zone),
            reason: None,
        }
    }
}

impl Altman {
    pub fn of(figures: &Figures) -> Self {
        let book_equity = figures.balance_sheet.equity_minor;
        Self {
            z: match figures.market_value_of_equity_minor {
                Some(market_value) => Z.score(figures, market_value),
                None => ZScore {
                    value: None,
                    zone: None,
                    reason: Some("market_value_of_equity_minor is not given".into()),
                },
            },
            z_prime: Z_PRIME.score(figures, book_equity),
            z_double_prime: Z_DOUBLE_PRIME.score(figures, book_equity),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::str::FromStr;

    pub(crate) fn sample() -> Figures {
        Figures {
            balance_sheet: BalanceSheet {
                current_assets_minor: 8_000,
                inventory_minor: 3_000,
                cash_minor: 1_000,
                total_assets_minor: 20_000,
                current_liabilities_minor: 5_000,
                total_liabilities_minor: 12_000,
                equity_minor: 8_000,
                retained_earnings_minor: 2_000,
            },
            income_statement: IncomeStatement {
                sales_minor: 30_000,
                cost_of_sales_minor: 24_000,
                ebit_minor: 2_400,
                net_profit_minor: 1_500,
            },
            cash_flow: None,
            market_value_of_equity_minor: None,
        }
    }

    fn d(text: &str) -> Option<Decimal> {
        Some(Decimal::from_str(text).unwrap())
    }

    fn fields(errors: Vec<FieldError>) -> Vec<(String, FieldCode)> {
        errors.into_iter().map(|e| (e.field, e.code)).collect()
    }

    #[test]
    fn ratios_follow_their_formulas() {
        let ratios = Ratios::of(&sample());
        assert_eq!(ratios.current.value, d("1.6"));
        assert_eq!(ratios.quick.value, d("1"));
        assert_eq!(ratios.cash.value, d("0.2"));
        assert_eq!(ratios.debt.value, d("0.6"));
        assert_eq!(ratios.inventory_turnover.value, d("8"));
        assert_eq!(ratios.sales_profit_margin.value, d("0.05"));
        assert_eq!(ratios.gross_margin.value, d("0.2"));
        assert_eq!(ratios.cost_profit.value, d("0.0625"));
        assert_eq!(ratios.return_on_assets.value, d("0.075"));
        assert_eq!(ratios.equity_share.value, d("0.4"));
        assert_eq!(ratios.inventory_share.value, d("0.375"));
        assert_eq!(ratios.retained_earnings_share.value, d("0.1"));
    }

    #[test]
    fn a_zero_divisor_gives_no_value_and_says_why() {
        let mut figures = sample();
        figures.balance_sheet.current_liabilities_minor = 0;
        figures.balance_sheet.inventory_minor = 0;
        figures.income_statement.sales_minor = 0;
        let ratios = Ratios::of(&figures);
        for ratio in [&ratios.current, &ratios.quick, &ratios.cash] {
            assert_eq!(ratio.value, None);
            assert_eq!(ratio.reason.as_deref(), Some("current_liabilities is zero"));
        }
        assert_eq!(
            ratios.inventory_turnover.reason.as_deref(),
            Some("inventory is zero")
        );
        assert_eq!(ratios.gross_margin.reason.as_deref(), Some("sales is zero"));
        assert_eq!(ratios.debt.reason, None);
        let json = serde_json::to_value(&ratios).unwrap();
        assert_eq!(json["current"]["value"], serde_json::Value::Null);
        assert_eq!(json["debt"]["value"], serde_json::json!(0.6));
    }

    #[test]
    fn altman_scores_use_each_model_s_coefficients() {
        let mut figures = sample();
        // X1 = 3000/20000 = 0.15, X2 = 0.1, X3 = 0.12, X5 = 1.5, X4 (book) = 8000/12000.
        let altman = Altman::of(&figures);
        // 0.717*0.15 + 0.847*0.1 + 3.107*0.12 + 0.420*(2/3) + 0.998*1.5 = 2.34209
        assert_eq!(altman.z_prime.value, d("2.3421"));
        assert_eq!(altman.z_prime.zone, Some(Zone::Grey));
        // 6.56*0.15 + 3.26*0.1 + 6.72*0.12 + 1.05*(2/3) = 2.8164
        assert_eq!(altman.z_double_prime.value, d("2.8164"));
        assert_eq!(altman.z_double_prime.zone, Some(Zone::Safe));
        assert_eq!(altman.z.value, None);
        assert_eq!(
            altman.z.reason.as_deref(),
            Some("market_value_of_equity_minor is not given")
        );
        figures.market_value_of_equity_minor = Some(24_000);
        // 1.2*0.15 + 1.4*0.1 + 3.3*0.12 + 0.6*2 + 1.0*1.5 = 3.416
        let z = Altman::of(&figures).z;
        assert_eq!(z.value, d("3.416"));
        assert_eq!(z.zone, Some(Zone::Safe));
    }

    #[test]
    fn zone_cut_offs_belong_to_the_grey_zone() {
        let model = Model {
            coefficients: [0, 0, 0, 0, 1_000],
            distress_below: 181,
            safe_above: 299,
        };
        let zone_at = |sales: i64| {
            let mut figures = sample();
            figures.balance_sheet.total_assets_minor = 10_000;
            figures.income_statement.sales_minor = sales;
            model.score(&figures, 0).zone
        };
        assert_eq!(zone_at(18_099), Some(Zone::Distress));
        assert_eq!(zone_at(18_100), Some(Zone::Grey));
        assert_eq!(zone_at(29_900), Some(Zone::Grey));
        assert_eq!(zone_at(29_901), Some(Zone::Safe));
    }

    #[test]
    fn impossible_statements_name_their_fields() {
        let mut figures = sample();
        figures.balance_sheet.inventory_minor = 9_000;
        figures.balance_sheet.cash_minor = -1;
        assert_eq!(
            fields(figures.check().unwrap_err()),
            [
                ("balance_sheet.cash_minor".to_owned(), FieldCode::OutOfRange),
                (
                    "balance_sheet.inventory_minor".to_owned(),
                    FieldCode::ExceedsWhole
                ),
            ]
        );
        let mut unbalanced = sample();
        unbalanced.balance_sheet.equity_minor = 7_799;
        assert_eq!(
            fields(unbalanced.check().unwrap_err()),
            [
                "total_assets_minor",
                "total_liabilities_minor",
                "equity_minor"
            ]
            .map(|f| (format!("balance_sheet.{f}"), FieldCode::Unbalanced))
        );
        // Within 1 %: accepted.
        unbalanced.balance_sheet.equity_minor = 7_800;
        assert_eq!(unbalanced.check(), Ok(()));
        let mut huge = sample();
        huge.income_statement.ebit_minor = i64::MIN;
        assert_eq!(
            fields(huge.check().unwrap_err()),
            [(
                "income_statement.ebit_minor".to_owned(),
                FieldCode::TooLarge
            )]
        );
    }

    proptest! {
        #[test]
        fn any_statement_within_the_cap_scores_without_panicking(
            amounts in proptest::collection::vec(-MAX_MINOR..=MAX_MINOR, 13)
        ) {
            let figures = Figures {
                balance_sheet: BalanceSheet {
                    current_assets_minor: amounts[0],
                    inventory_minor: amounts[1],
                    cash_minor: amounts[2],
                    total_assets_minor: amounts[3],
                    current_liabilities_minor: amounts[4],
                    total_liabilities_minor: amounts[5],
                    equity_minor: amounts[6],
                    retained_earnings_minor: amounts[7],
                },
                income_statement: IncomeStatement {
                    sales_minor: amounts[8],
                    cost_of_sales_minor: amounts[9],
                    ebit_minor: amounts[10],
                    net_profit_minor: amounts[11],
                },
                cash_flow: None,
                market_value_of_equity_minor: Some(amounts[12]),
            };
            let altman = Altman::of(&figures);
            for score in [altman.z, altman.z_prime, altman.z_double_prime] {
                prop_assert_eq!(score.value.is_some(), score.zone.is_some());
                prop_assert_eq!(score.value.is_none(), score.reason.is_some());
            }
            let ratios = Ratios::of(&figures);
            prop_assert_eq!(ratios.current.value.is_none(), amounts[4] == 0);
        }
    }
}
