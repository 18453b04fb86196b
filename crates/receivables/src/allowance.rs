//! The bad-debt allowance by ageing band (账龄分析法): each band of age since the invoice day
//! carries a rate, and the allowance is the open balance times the rate.

use credo_core::{FieldCode, FieldError, FieldErrors};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ageing::{Basis, Buckets};

/// A rate of 100 %, in basis points.
pub const FULL_RATE_BP: u32 = 10_000;

/// One band of an allowance policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AllowanceBandRule {
    /// The oldest age in days (since the invoice day) the band holds; `null` on the last
    /// band, which holds everything older.
    #[schema(example = 365, minimum = 1, maximum = 9999)]
    pub up_to_days: Option<u32>,
    /// The share of the balance provided for, in basis points (500 = 5 %).
    #[schema(example = 500, minimum = 0, maximum = 10000)]
    pub rate_bp: u32,
}

/// An allowance policy as clients send and read it: its bands, youngest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AllowancePolicyRules {
    /// 2 to 13 bands; every band but the last has `up_to_days`, ascending, the last `null`;
    /// rates never fall with age.
    #[schema(min_items = 2, max_items = 13, example = json!([
        {"up_to_days": 365, "rate_bp": 500}, {"up_to_days": 730, "rate_bp": 1000},
        {"up_to_days": 1095, "rate_bp": 2000}, {"up_to_days": 1460, "rate_bp": 5000},
        {"up_to_days": 1825, "rate_bp": 8000}, {"up_to_days": null, "rate_bp": 10000}
    ]))]
    pub bands: Vec<AllowanceBandRule>,
}

impl Default for AllowancePolicyRules {
    fn default() -> Self {
        Self {
            bands: AllowancePolicy::default().rules(),
        }
    }
}

/// The bands, youngest first: ascending ages, rates that never fall with age.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowancePolicy {
    ages: Buckets,
    rates_bp: Vec<u32>,
}

impl Default for AllowancePolicy {
    /// The matrix most Chinese filers publish: within 1 year 5 %, 1-2 years 10 %, 2-3 years
    /// 20 %, 3-4 years 50 %, 4-5 years 80 %, over 5 years 100 % (a year is 365 days).
    fn default() -> Self {
        Self {
            ages: Buckets::new(vec![365, 730, 1095, 1460, 1825]).expect("ascending"),
            rates_bp: vec![500, 1000, 2000, 5000, 8000, FULL_RATE_BP],
        }
    }
}

impl AllowancePolicy {
    /// A policy from its bands: 2 to 13; every band but the last has an age limit,
    /// ascending; the last has none; rates are 0 to 10000 and never fall with age.
    pub fn from_rules(rules: &[AllowanceBandRule]) -> Result<Self, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let (Some((last, younger)), 2..) = (rules.split_last(), rules.len()) else {
            return Err(vec![FieldError::new(
                "bands",
                FieldCode::OutOfRange,
                "a policy has 2 to 13 bands: one for each age limit and one beyond the last",
            )]);
        };
        if last.up_to_days.is_some() {
            errors.push(FieldError::new(
                format!("bands[{}].up_to_days", rules.len() - 1),
                FieldCode::NotApplicable,
                "the last band holds everything older: its up_to_days is null",
            ));
        }
        let mut limits = Vec::with_capacity(younger.len());
        for (at, rule) in younger.iter().enumerate() {
            match rule.up_to_days {
                Some(days) => limits.push(days),
                None => errors.push(FieldError::new(
                    format!("bands[{at}].up_to_days"),
                    FieldCode::Required,
                    "only the last band is open-ended",
                )),
            }
        }
        for (at, rule) in rules.iter().enumerate() {
            if rule.rate_bp > FULL_RATE_BP {
                errors.push(FieldError::new(
                    format!("bands[{at}].rate_bp"),
                    FieldCode::OutOfRange,
                    "a rate is 0 to 10000 basis points",
                ));
            } else if at > 0 && rule.rate_bp < rules[at - 1].rate_bp {
                errors.push(FieldError::new(
                    format!("bands[{at}].rate_bp"),
                    FieldCode::OutOfRange,
                    "an older band's rate is not below a younger one's",
                ));
            }
        }
        let ages = Buckets::new(limits);
        if errors.is_empty() && ages.is_none() {
            errors.push(FieldError::new(
                "bands",
                FieldCode::OutOfRange,
                "age limits ascend, 1 to 9999 days, at most 12 bands",
            ));
        }
        errors.finish(|| Self {
            ages: ages.expect("checked"),
            rates_bp: rules.iter().map(|r| r.rate_bp).collect(),
        })
    }

    /// The bands as rules, youngest first.
    pub fn rules(&self) -> Vec<AllowanceBandRule> {
        self.rates_bp
            .iter()
            .enumerate()
            .map(|(at, rate_bp)| AllowanceBandRule {
                up_to_days: self.ages.limits().get(at).copied(),
                rate_bp: *rate_bp,
            })
            .collect()
    }

    /// The age bands as ageing buckets on the invoice basis: a balance's band is its bucket.
    pub fn ages(&self) -> &Buckets {
        &self.ages
    }

    /// The bands' names (`0-365`, `366-730`, ..., `over_1825`).
    pub fn labels(&self) -> Vec<String> {
        self.ages.labels(Basis::Invoice)
    }

    pub fn rate_bp(&self, band: usize) -> u32 {
        self.rates_bp[band]
    }
}

/// The allowance for `balance_minor` at `rate_bp`, rounded half up to the minor unit.
pub fn allowance(balance_minor: i64, rate_bp: u32) -> i64 {
    let scaled = i128::from(balance_minor) * i128::from(rate_bp);
    let full = i128::from(FULL_RATE_BP);
    let rounded = if scaled >= 0 {
        (scaled + full / 2) / full
    } else {
        (scaled - full / 2) / full
    };
    i64::try_from(rounded).expect("a rate of at most 100 % keeps the amount in range")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rule(up_to_days: Option<u32>, rate_bp: u32) -> AllowanceBandRule {
        AllowanceBandRule {
            up_to_days,
            rate_bp,
        }
    }

    #[test]
    fn the_default_policy_is_the_published_matrix() {
        let policy = AllowancePolicy::default();
        assert_eq!(
            policy.labels(),
            [
                "0-365",
                "366-730",
                "731-1095",
                "1096-1460",
                "1461-1825",
                "over_1825"
            ]
        );
        assert_eq!(
            policy.rules().iter().map(|r| r.rate_bp).collect::<Vec<_>>(),
            [500, 1000, 2000, 5000, 8000, 10000]
        );
        assert_eq!(AllowancePolicy::from_rules(&policy.rules()), Ok(policy));
    }

    #[test]
    fn allowances_round_half_up_to_the_minor_unit() {
        assert_eq!(allowance(10, 500), 1); // 0.5 -> 1
        assert_eq!(allowance(9, 500), 0); // 0.45 -> 0
        assert_eq!(allowance(12_345, 1000), 1235); // 1234.5 -> 1235
        assert_eq!(allowance(i64::MAX / 2, FULL_RATE_BP), i64::MAX / 2);
    }

    #[test]
    fn a_policy_has_ascending_limits_an_open_last_band_and_rising_rates() {
        let errors = AllowancePolicy::from_rules(&[
            rule(Some(365), 500),
            rule(None, 300),
            rule(Some(900), 20_000),
        ])
        .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "bands[2].up_to_days",
                "bands[1].up_to_days",
                "bands[1].rate_bp",
                "bands[2].rate_bp"
            ]
        );
        for bad in [
            vec![],
            vec![rule(None, 300)],
            vec![rule(Some(730), 1), rule(Some(365), 2), rule(None, 3)],
        ] {
            assert_eq!(
                AllowancePolicy::from_rules(&bad).unwrap_err()[0].field,
                "bands"
            );
        }
    }

    proptest! {
        /// The rounding is never off by more than half a minor unit, and never exceeds the
        /// balance.
        #[test]
        fn rounding_is_within_half_a_unit(balance in 0i64..=credo_core::money::MAX_MINOR, rate in 0u32..=FULL_RATE_BP) {
            let exact = i128::from(balance) * i128::from(rate);
            let got = i128::from(allowance(balance, rate)) * i128::from(FULL_RATE_BP);
            prop_assert!((got - exact).abs() * 2 <= i128::from(FULL_RATE_BP));
            prop_assert!(allowance(balance, rate) <= balance);
        }
    }
}
