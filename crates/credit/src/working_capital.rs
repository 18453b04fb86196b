//! The working-capital model (seed 004): half of net working capital plus net worth is the
//! base; an evaluation value from liquidity and leverage picks the share of the base that
//! may be lent.

use credo_core::{FieldCode, FieldError, FieldErrors};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::number::{quotient, share_of};
use crate::statement::BalanceSheet;

/// Decimals the evaluation value is rounded to before the band lookup.
pub const EVALUATION_PLACES: u32 = 2;

/// One band: evaluation values above the previous band's bound and up to `up_to`
/// (inclusive) lend `share_bp` of the base.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Band {
    /// An exact decimal with at most 2 decimals; `null` on the last band, which holds every
    /// larger value.
    #[schema(value_type = Option<String>, example = "-4.60")]
    pub up_to: Option<Decimal>,
    /// Share of the working-capital base, in basis points (2500 = 25 %).
    #[schema(example = 250, minimum = 0, maximum = 10000)]
    pub share_bp: u32,
}

/// The bands of the working-capital model, lowest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkingCapitalPolicy {
    /// 2 to 20 bands; bounds ascending, the last `null`; shares never fall as the value
    /// rises.
    #[schema(min_items = 2, max_items = 20, example = json!([
        {"up_to": "-4.60", "share_bp": 0}, {"up_to": "-3.90", "share_bp": 250},
        {"up_to": "-3.20", "share_bp": 500}, {"up_to": "-2.50", "share_bp": 750},
        {"up_to": "-1.80", "share_bp": 1000}, {"up_to": "-1.10", "share_bp": 1250},
        {"up_to": "-0.40", "share_bp": 1500}, {"up_to": "0.30", "share_bp": 1750},
        {"up_to": "0.99", "share_bp": 2000}, {"up_to": null, "share_bp": 2500}
    ]))]
    pub bands: Vec<Band>,
}

impl Default for WorkingCapitalPolicy {
    /// Seed 004's table: <= -4.60 lends nothing, each 0.70 more another 2.5 % up to 0.30,
    /// below 1.00 20 %, from 1.00 25 %.
    fn default() -> Self {
        let bounds = [
            ("-4.60", 0),
            ("-3.90", 250),
            ("-3.20", 500),
            ("-2.50", 750),
            ("-1.80", 1_000),
            ("-1.10", 1_250),
            ("-0.40", 1_500),
            ("0.30", 1_750),
            ("0.99", 2_000),
        ];
        let mut bands: Vec<Band> = bounds
            .iter()
            .map(|&(up_to, share_bp)| Band {
                up_to: Some(up_to.parse().expect("a decimal")),
                share_bp,
            })
            .collect();
        bands.push(Band {
            up_to: None,
            share_bp: 2_500,
        });
        Self { bands }
    }
}

impl WorkingCapitalPolicy {
    /// Every rule the bands break, naming `bands[i]...`.
    pub fn check(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        if !(2..=20).contains(&self.bands.len()) {
            errors.push(FieldError::new(
                "bands",
                FieldCode::OutOfRange,
                "a policy has 2 to 20 bands",
            ));
        }
        let last = self.bands.len().saturating_sub(1);
        for (index, band) in self.bands.iter().enumerate() {
            let at = |field: &str| format!("bands[{index}].{field}");
            match band.up_to {
                None if index != last => errors.push(FieldError::new(
                    at("up_to"),
                    FieldCode::Required,
                    "only the last band is open-ended",
                )),
                Some(_) if index == last => errors.push(FieldError::new(
                    at("up_to"),
                    FieldCode::NotApplicable,
                    "the last band holds every larger value: its up_to is null",
                )),
                Some(bound) if bound.scale() > EVALUATION_PLACES => errors.push(FieldError::new(
                    at("up_to"),
                    FieldCode::InvalidValue,
                    "bounds have at most 2 decimals, as the evaluation value",
                )),
                Some(bound)
                    if index > 0 && self.bands[index - 1].up_to.is_some_and(|b| b >= bound) =>
                {
                    errors.push(FieldError::new(
                        at("up_to"),
                        FieldCode::OutOfRange,
                        "bounds rise from band to band",
                    ))
                }
                _ => {}
            }
            if band.share_bp > 10_000 {
                errors.push(FieldError::new(
                    at("share_bp"),
                    FieldCode::OutOfRange,
                    "a share is at most 10000 basis points",
                ));
            } else if index > 0 && self.bands[index - 1].share_bp > band.share_bp {
                errors.push(FieldError::new(
                    at("share_bp"),
                    FieldCode::OutOfRange,
                    "a better evaluation never lends a smaller share",
                ));
            }
        }
        errors.finish(|| ())
    }

    /// The share of the band holding `value`.
    pub fn share_bp(&self, value: Decimal) -> u32 {
        self.bands
            .iter()
            .find(|band| band.up_to.is_none_or(|bound| value <= bound))
            .or(self.bands.last())
            .map_or(0, |band| band.share_bp)
    }
}

/// What the model made of a balance sheet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct WorkingCapital {
    /// (Current assets - current liabilities + equity) / 2, rounded half away from zero.
    #[schema(example = 5_500_000_000_i64)]
    pub base_minor: i64,
    /// (current ratio + quick ratio) - (current liabilities / equity + total liabilities /
    /// equity), to 2 decimals; `null` when equity or current liabilities are zero or less.
    #[serde(with = "rust_decimal::serde::float_option")]
    #[schema(value_type = Option<f64>, example = 0.15)]
    pub evaluation_value: Option<Decimal>,
    /// The band's share of the base, in basis points.
    #[schema(example = 1750)]
    pub share_bp: u32,
    /// The base times the share; never negative.
    #[schema(example = 962_500_000_i64)]
    pub limit_minor: i64,
    /// Why there is no limit or no value, when so.
    #[schema(example = json!(null))]
    pub reason: Option<String>,
}

impl WorkingCapital {
    pub fn of(sheet: &BalanceSheet, policy: &WorkingCapitalPolicy) -> Self {
        let ca = i128::from(sheet.current_assets_minor);
        let cl = i128::from(sheet.current_liabilities_minor);
        let equity = i128::from(sheet.equity_minor);
        let doubled_base = ca - cl + equity;
        let base = (doubled_base.abs() + 1) / 2 * doubled_base.signum();
        let base_minor = i64::try_from(base).expect("half a sum of three amounts under 2^53");
        let no_limit = |evaluation_value, reason: &str| Self {
            base_minor,
            evaluation_value,
            share_bp: 0,
            limit_minor: 0,
            reason: Some(reason.to_owned()),
        };
        if equity <= 0 {
            return no_limit(None, "equity is zero or negative: no limit on net worth");
        }
        let (value, share_bp, reason) = if cl <= 0 {
            // Without current liabilities the liquidity ratios are unbounded: the top band.
            let top = policy.bands.last().map_or(0, |band| band.share_bp);
            let reason = "no current liabilities: liquidity is unbounded, the top band applies";
            (None, top, Some(reason.to_owned()))
        } else {
            // Over the common denominator CL x equity:
            // CA/CL + (CA - inventory)/CL - CL/equity - TL/equity.
            let inventory = i128::from(sheet.inventory_minor);
            let total_liabilities = i128::from(sheet.total_liabilities_minor);
            let numerator = (ca + ca - inventory) * equity - (cl + total_liabilities) * cl;
            let value = quotient(numerator, cl * equity, EVALUATION_PLACES)
                .expect("a positive denominator");
            (Some(value), policy.share_bp(value), None)
        };
        if base_minor <= 0 {
            return no_limit(value, "the working-capital base is zero or negative");
        }
        Self {
            base_minor,
            evaluation_value: value,
            share_bp,
            limit_minor: share_of(base_minor, share_bp),
            reason,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::str::FromStr;

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    fn sheet() -> BalanceSheet {
        BalanceSheet {
            current_assets_minor: 8_000,
            inventory_minor: 3_000,
            cash_minor: 1_000,
            total_assets_minor: 20_000,
            current_liabilities_minor: 5_000,
            total_liabilities_minor: 12_000,
            equity_minor: 8_000,
            retained_earnings_minor: 2_000,
        }
    }

    #[test]
    fn band_edges_follow_the_seed() {
        let policy = WorkingCapitalPolicy::default();
        assert_eq!(policy.check(), Ok(()));
        for (value, share) in [
            ("-9.99", 0),
            ("-4.60", 0),
            ("-4.59", 250),
            ("-3.90", 250),
            ("-3.89", 500),
            ("-0.40", 1_500),
            ("-0.39", 1_750),
            ("0.30", 1_750),
            ("0.31", 2_000),
            ("0.99", 2_000),
            ("1.00", 2_500),
            ("12.00", 2_500),
        ] {
            assert_eq!(policy.share_bp(d(value)), share, "{value}");
        }
    }

    #[test]
    fn the_model_follows_the_seed_formulas() {
        let result = WorkingCapital::of(&sheet(), &WorkingCapitalPolicy::default());
        // Base (8000 - 5000 + 8000) / 2 = 5500; value 1.6 + 1.0 - 0.625 - 1.5 = 0.475.
        assert_eq!(result.base_minor, 5_500);
        assert_eq!(result.evaluation_value, Some(d("0.48")));
        assert_eq!(result.share_bp, 2_000);
        assert_eq!(result.limit_minor, 1_100);
        assert_eq!(result.reason, None);
    }

    #[test]
    fn the_value_is_rounded_before_the_lookup() {
        let mut sheet = sheet();
        sheet.current_assets_minor = 200;
        sheet.inventory_minor = 0;
        sheet.current_liabilities_minor = 200;
        sheet.equity_minor = 200;
        sheet.total_liabilities_minor = 1_119;
        let result = WorkingCapital::of(&sheet, &WorkingCapitalPolicy::default());
        // 1 + 1 - 1 - 5.595 = -4.595, rounded half away from zero to -4.60: nothing lent.
        assert_eq!(result.evaluation_value, Some(d("-4.60")));
        assert_eq!(result.share_bp, 0);
        assert_eq!(result.limit_minor, 0);
        sheet.total_liabilities_minor = 1_118;
        let result = WorkingCapital::of(&sheet, &WorkingCapitalPolicy::default());
        assert_eq!(result.evaluation_value, Some(d("-4.59")));
        assert_eq!(result.share_bp, 250);
    }

    #[test]
    fn no_net_worth_means_no_limit() {
        for equity in [0, -1] {
            let mut sheet = sheet();
            sheet.equity_minor = equity;
            let result = WorkingCapital::of(&sheet, &WorkingCapitalPolicy::default());
            assert_eq!(result.limit_minor, 0);
            assert_eq!(result.evaluation_value, None);
            assert!(result.reason.unwrap().contains("equity"));
        }
    }

    #[test]
    fn no_current_liabilities_is_the_top_band() {
        let mut sheet = sheet();
        sheet.current_liabilities_minor = 0;
        let result = WorkingCapital::of(&sheet, &WorkingCapitalPolicy::default());
        assert_eq!(result.evaluation_value, None);
        assert_eq!(result.share_bp, 2_500);
        assert_eq!(result.limit_minor, 2_000);
    }

    #[test]
    fn a_policy_with_gaps_or_falling_shares_is_refused() {
        let mut policy = WorkingCapitalPolicy::default();
        policy.bands[2].up_to = Some(d("-4.70"));
        policy.bands[3].share_bp = 100;
        policy.bands[9].up_to = Some(d("3"));
        policy.bands[0].up_to = Some(d("-4.605"));
        let fields: Vec<String> = policy
            .check()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "bands[0].up_to",
                "bands[2].up_to",
                "bands[3].share_bp",
                "bands[9].up_to"
            ]
        );
        let json = serde_json::to_value(WorkingCapitalPolicy::default()).unwrap();
        assert_eq!(json["bands"][0]["up_to"], "-4.60");
        assert_eq!(json["bands"][9]["up_to"], serde_json::Value::Null);
    }

    proptest! {
        #[test]
        fn the_limit_is_never_negative_nor_above_the_base(
            ca in 0i64..1 << 50, inventory in 0i64..1 << 50, cl in 0i64..1 << 50,
            tl in 0i64..1 << 50, equity in -(1i64 << 50)..1 << 50,
        ) {
            let sheet = BalanceSheet {
                current_assets_minor: ca,
                inventory_minor: inventory.min(ca),
                cash_minor: 0,
                total_assets_minor: tl + equity.max(0),
                current_liabilities_minor: cl.min(tl),
                total_liabilities_minor: tl,
                equity_minor: equity,
                retained_earnings_minor: 0,
            };
            let result = WorkingCapital::of(&sheet, &WorkingCapitalPolicy::default());
            prop_assert!(result.limit_minor >= 0);
            prop_assert!(result.limit_minor <= result.base_minor.max(0));
        }
    }
}
