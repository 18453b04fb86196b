//! From the working-capital limit and the characteristic grade to the recommended limit,
//! the final limit, its grade (1A-5A) and the rating ("3A2").

use credo_core::{FieldCode, FieldError, FieldErrors};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::number::share_of;

/// How limits are scaled and graded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitPolicy {
    /// The share of the working-capital limit each characteristic grade (1 to 6) gets, in
    /// basis points; never rising as the grade worsens.
    #[schema(example = json!([10000, 9000, 7500, 5000, 2500, 0]), min_items = 6, max_items = 6)]
    pub grade_factors_bp: Vec<u32>,
    /// A final limit below the first bound (in major units of the company currency) is
    /// 1A, below the second 2A, below the third 3A, below the fourth 4A, else 5A.
    #[schema(example = json!([300000, 600000, 1000000, 1500000]), min_items = 4, max_items = 4)]
    pub grade_bounds_major: Vec<i64>,
}

impl Default for LimitPolicy {
    /// Seed 004's bounds (300,000 / 600,000 / 1,000,000 / 1,500,000) and factors that halve
    /// the limit by grade 4 and close it at grade 6.
    fn default() -> Self {
        Self {
            grade_factors_bp: vec![10_000, 9_000, 7_500, 5_000, 2_500, 0],
            grade_bounds_major: vec![300_000, 600_000, 1_000_000, 1_500_000],
        }
    }
}

/// The largest bound a policy takes, so that it stays within 2^53 minor units.
const MAX_BOUND_MAJOR: i64 = 1_000_000_000_000;

impl LimitPolicy {
    pub fn check(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        if self.grade_factors_bp.len() != 6 {
            errors.push(FieldError::new(
                "grade_factors_bp",
                FieldCode::InvalidValue,
                "one factor for each grade 1 to 6",
            ));
        }
        for (index, factor) in self.grade_factors_bp.iter().enumerate() {
            let previous = index.checked_sub(1).map(|i| self.grade_factors_bp[i]);
            if *factor > 10_000 || previous.is_some_and(|p| p < *factor) {
                errors.push(FieldError::new(
                    format!("grade_factors_bp[{index}]"),
                    FieldCode::OutOfRange,
                    "factors are at most 10000 and never rise as the grade worsens",
                ));
            }
        }
        if self.grade_bounds_major.len() != 4 {
            errors.push(FieldError::new(
                "grade_bounds_major",
                FieldCode::InvalidValue,
                "four bounds between the grades 1A to 5A",
            ));
        }
        for (index, bound) in self.grade_bounds_major.iter().enumerate() {
            let previous = index.checked_sub(1).map(|i| self.grade_bounds_major[i]);
            if !(1..=MAX_BOUND_MAJOR).contains(bound) || previous.is_some_and(|p| p >= *bound) {
                errors.push(FieldError::new(
                    format!("grade_bounds_major[{index}]"),
                    FieldCode::OutOfRange,
                    "bounds are positive, rising, and at most 10^12",
                ));
            }
        }
        errors.finish(|| ())
    }

    /// The working-capital limit scaled by the grade's factor, none when the grade may not
    /// buy on credit, never above what was applied for.
    pub fn recommended_minor(
        &self,
        working_capital_limit_minor: i64,
        grade: u8,
        credit_sales_allowed: bool,
        requested_minor: i64,
    ) -> i64 {
        if !credit_sales_allowed {
            return 0;
        }
        let factor = self
            .grade_factors_bp
            .get(usize::from(grade.saturating_sub(1)))
            .copied()
            .unwrap_or(0);
        share_of(working_capital_limit_minor.max(0), factor).min(requested_minor.max(0))
    }

    /// The limit grade (1 to 5, shown as "1A" to "5A") of a limit in minor units of the
    /// company currency, which has `minor_digits` decimals.
    pub fn limit_grade(&self, limit_minor: i64, minor_digits: u8) -> u8 {
        let scale = 10_i64.pow(u32::from(minor_digits));
        let below = self
            .grade_bounds_major
            .iter()
            .take_while(|&&bound| limit_minor >= bound.saturating_mul(scale))
            .count();
        1 + u8::try_from(below).expect("four bounds")
    }
}

/// The rating "XAY": the limit grade X, then the characteristic grade Y.
pub fn rating(limit_grade: u8, characteristic_grade: u8) -> String {
    format!("{limit_grade}A{characteristic_grade}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn limit_grades_follow_seed_004_at_their_bounds() {
        let policy = LimitPolicy::default();
        assert_eq!(policy.check(), Ok(()));
        for (limit_minor, grade) in [
            (0, 1),
            (29_999_999, 1),
            (30_000_000, 2),
            (59_999_999, 2),
            (60_000_000, 3),
            (99_999_999, 3),
            (100_000_000, 4),
            (149_999_999, 4),
            (150_000_000, 5),
            (i64::MAX, 5),
        ] {
            assert_eq!(policy.limit_grade(limit_minor, 2), grade, "{limit_minor}");
        }
        // A currency without decimals: 300,000 yen is 300,000 minor units.
        assert_eq!(policy.limit_grade(300_000, 0), 2);
        assert_eq!(rating(3, 2), "3A2");
    }

    #[test]
    fn the_recommendation_scales_by_grade_and_stops_at_the_request() {
        let policy = LimitPolicy::default();
        assert_eq!(policy.recommended_minor(1_000, 1, true, 5_000), 1_000);
        assert_eq!(policy.recommended_minor(1_000, 3, true, 5_000), 750);
        assert_eq!(policy.recommended_minor(1_000, 3, true, 600), 600);
        assert_eq!(policy.recommended_minor(1_000, 6, true, 5_000), 0);
        assert_eq!(policy.recommended_minor(1_000, 1, false, 5_000), 0);
    }

    #[test]
    fn a_policy_out_of_order_is_refused() {
        let policy = LimitPolicy {
            grade_factors_bp: vec![10_000, 9_000, 9_500, 5_000, 2_500, 0],
            grade_bounds_major: vec![300_000, 300_000, 1_000_000],
        };
        let fields: Vec<String> = policy
            .check()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "grade_factors_bp[2]",
                "grade_bounds_major",
                "grade_bounds_major[1]"
            ]
        );
    }

    proptest! {
        #[test]
        fn the_recommendation_is_never_negative_nor_above_the_request(
            limit in -(1i64 << 53)..1 << 53, grade in 1u8..=6,
            allowed: bool, requested in -(1i64 << 53)..1 << 53,
        ) {
            let recommended = LimitPolicy::default().recommended_minor(limit, grade, allowed, requested);
            prop_assert!(recommended >= 0);
            prop_assert!(recommended <= requested.max(0));
        }

        #[test]
        fn the_limit_grade_never_falls_as_the_limit_rises(a in 0i64..1 << 53, b in 0i64..1 << 53) {
            let policy = LimitPolicy::default();
            let (low, high) = (a.min(b), a.max(b));
            prop_assert!(policy.limit_grade(low, 2) <= policy.limit_grade(high, 2));
        }
    }
}
