//! Collection targets (seed 004): an amount each collector is to collect in a month,
//! reviewed by month and by quarter against what was collected.

use chrono::{Months, NaiveDate};
use credo_core::{FieldCode, FieldError, FieldErrors};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::ledger::positive_amount;

/// A month (`2026-06`) or a quarter (`2026-Q2`) of targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// Its first month's first day.
    pub first: NaiveDate,
    /// 1 for a month, 3 for a quarter.
    pub months: u32,
}

impl Period {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let invalid = || {
            FieldError::new(
                "",
                FieldCode::InvalidValue,
                "a period is a month (YYYY-MM) or a quarter (YYYY-Qn)",
            )
        };
        let (year, rest) = raw.split_once('-').ok_or_else(invalid)?;
        let year: i32 = Some(year)
            .filter(|y| y.len() == 4)
            .and_then(|y| y.parse().ok())
            .ok_or_else(invalid)?;
        let (month, months) = match rest.strip_prefix('Q') {
            Some(quarter) => match quarter {
                "1" | "2" | "3" | "4" => (quarter.parse::<u32>().expect("a digit") * 3 - 2, 3),
                _ => return Err(invalid()),
            },
            None if rest.len() == 2 => (rest.parse().map_err(|_| invalid())?, 1),
            None => return Err(invalid()),
        };
        let first = NaiveDate::from_ymd_opt(year, month, 1).ok_or_else(invalid)?;
        Ok(Self { first, months })
    }

    /// The first day of each of its months.
    pub fn month_starts(&self) -> Vec<NaiveDate> {
        (0..self.months)
            .map(|m| self.first + Months::new(m))
            .collect()
    }

    /// Its last day.
    pub fn last(&self) -> NaiveDate {
        self.first + Months::new(self.months) - chrono::Days::new(1)
    }
}

/// The first day of the month `YYYY-MM` a target is set for.
pub fn target_month(raw: &str) -> Result<NaiveDate, FieldError> {
    match Period::parse(raw)? {
        Period { first, months: 1 } => Ok(first),
        _ => Err(FieldError::new(
            "",
            FieldCode::InvalidValue,
            "a target is set for a month (YYYY-MM)",
        )),
    }
}

/// A collector's target for a month.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetInput {
    /// To collect in the month, in minor units.
    #[schema(example = 50_000_000, minimum = 1, maximum = 9_007_199_254_740_991_i64)]
    pub target_minor: i64,
    /// Default the company currency.
    #[schema(example = "CNY", pattern = "^[A-Za-z]{3}$")]
    pub currency: Option<String>,
}

impl TargetInput {
    pub fn validate(&self) -> Result<i64, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let amount = positive_amount(&mut errors, "target_minor", self.target_minor);
        errors.finish(|| amount.expect("checked"))
    }
}

/// What was collected of a target, in basis points rounded half up (10000 = met); `None`
/// without a target.
pub fn achievement_bp(achieved_minor: i64, target_minor: i64) -> Option<i64> {
    (target_minor > 0).then(|| {
        let scaled = i128::from(achieved_minor) * 10_000;
        let target = i128::from(target_minor);
        i64::try_from((scaled + target / 2) / target).unwrap_or(i64::MAX)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn periods_are_months_or_quarters() {
        let june = Period::parse("2026-06").unwrap();
        assert_eq!(
            (june.first, june.last(), june.months),
            (day("2026-06-01"), day("2026-06-30"), 1)
        );
        let q4 = Period::parse("2026-Q4").unwrap();
        assert_eq!(
            q4.month_starts(),
            [day("2026-10-01"), day("2026-11-01"), day("2026-12-01")]
        );
        assert_eq!(q4.last(), day("2026-12-31"));
        for bad in [
            "2026-13",
            "2026-Q5",
            "2026-Q0",
            "2026-6",
            "26-06",
            "2026",
            "2026-06-01",
            "",
        ] {
            assert!(Period::parse(bad).is_err(), "{bad}");
        }
        assert!(target_month("2026-Q1").is_err());
        assert_eq!(target_month("2026-02").unwrap(), day("2026-02-01"));
    }

    #[test]
    fn achievement_rounds_half_up_in_basis_points() {
        assert_eq!(achievement_bp(1, 3), Some(3333));
        assert_eq!(achievement_bp(2, 3), Some(6667));
        assert_eq!(achievement_bp(150, 100), Some(15_000));
        assert_eq!(achievement_bp(10, 0), None);
        assert_eq!(achievement_bp(i64::MAX, 1), Some(i64::MAX));
    }
}
