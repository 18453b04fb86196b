//! Ageing: which bucket an open amount falls in as of a day, by due date or by invoice date.
//!
//! A bucket is a range of days past the anchor (the due day, or the invoice day). The store
//! sorts amounts into buckets by comparing anchor days with `lower_bounds`, so the database
//! can sum them without date arithmetic; `index` is the same rule in days, and a property
//! test holds the two together.

use chrono::{Datelike, Days, NaiveDate};
use credo_core::{string_enum, FieldCode, FieldError};

string_enum! {
    /// What the days of an open amount are counted from.
    pub enum Basis {
        /// Days past the due day; a not yet due amount is `not_due`.
        Due = "due",
        /// Days since the invoice day.
        Invoice = "invoice",
    }
}

string_enum! {
    /// What an ageing report sums by.
    pub enum GroupBy {
        Customer = "customer",
        /// The sales unit the item was issued under.
        SalesUnit = "sales_unit",
        /// The account manager the item was issued under.
        Owner = "owner",
    }
}

/// The most limits a report takes.
pub const MAX_LIMITS: usize = 12;
/// The largest limit, in days (about 27 years).
pub const MAX_LIMIT_DAYS: u32 = 9999;

/// Ascending day limits: `30,60,90` makes `1-30`, `31-60`, `61-90` and `over_90` (after
/// `not_due` on the due basis; `0-30` opens the invoice basis).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Buckets {
    limits: Vec<u32>,
}

impl Default for Buckets {
    fn default() -> Self {
        Self {
            limits: vec![30, 60, 90, 180, 365],
        }
    }
}

impl Buckets {
    /// Limits from `30,60,90,180,365`: 1 to 12 whole days, ascending, at most 9999.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let refuse = || {
            FieldError::new(
                "",
                FieldCode::InvalidValue,
                format!(
                    "1 to {MAX_LIMITS} ascending whole days from 1 to {MAX_LIMIT_DAYS}, comma-separated, such as 30,60,90"
                ),
            )
        };
        let limits = raw
            .split(',')
            .map(|part| part.trim().parse::<u32>().map_err(|_| refuse()))
            .collect::<Result<Vec<u32>, FieldError>>()?;
        Self::new(limits).ok_or_else(refuse)
    }

    /// `None` unless the limits are 1 to 12 ascending days from 1 to 9999.
    pub fn new(limits: Vec<u32>) -> Option<Self> {
        let ascending = limits.windows(2).all(|pair| pair[0] < pair[1]);
        let in_range = limits.iter().all(|l| (1..=MAX_LIMIT_DAYS).contains(l));
        (!limits.is_empty() && limits.len() <= MAX_LIMITS && ascending && in_range)
            .then_some(Self { limits })
    }

    pub fn limits(&self) -> &[u32] {
        &self.limits
    }

    /// How many buckets a report on `basis` has.
    pub fn count(&self, basis: Basis) -> usize {
        self.labels(basis).len()
    }

    /// The buckets' names, in order: `not_due`, `1-30`, ..., `over_365` on the due basis;
    /// `0-30`, ..., `over_365` on the invoice basis.
    pub fn labels(&self, basis: Basis) -> Vec<String> {
        let mut labels = Vec::with_capacity(self.limits.len() + 2);
        let mut from = match basis {
            Basis::Due => {
                labels.push("not_due".to_owned());
                1
            }
            Basis::Invoice => 0,
        };
        for limit in &self.limits {
            labels.push(format!("{from}-{limit}"));
            from = limit + 1;
        }
        labels.push(format!("over_{}", self.limits[self.limits.len() - 1]));
        labels
    }

    /// The bucket of an amount `days` past its anchor (negative: before it).
    pub fn index(&self, basis: Basis, days: i64) -> usize {
        let first = match basis {
            Basis::Due if days <= 0 => return 0,
            Basis::Due => 1,
            Basis::Invoice => 0,
        };
        first
            + self
                .limits
                .iter()
                .position(|limit| days <= i64::from(*limit))
                .unwrap_or(self.limits.len())
    }

    /// For each bucket but the last, the earliest anchor day it holds as of `as_of`: an
    /// amount is in the first bucket whose bound its anchor is on or after, else the last.
    pub fn lower_bounds(&self, basis: Basis, as_of: NaiveDate) -> Vec<NaiveDate> {
        let back = |days: u32| {
            as_of
                .checked_sub_days(Days::new(days.into()))
                .unwrap_or(NaiveDate::MIN)
        };
        let not_due = match basis {
            Basis::Due => Some(as_of),
            Basis::Invoice => None,
        };
        not_due
            .into_iter()
            .chain(self.limits.iter().map(|limit| back(*limit)))
            .collect()
    }
}

/// The amounts of one group (or of the whole report) by bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketAmounts(Vec<i64>);

impl BucketAmounts {
    pub fn zero(count: usize) -> Self {
        Self(vec![0; count])
    }

    /// Adds `amount` to bucket `index`.
    pub fn add(&mut self, index: usize, amount: i64) {
        self.0[index] += amount;
    }

    /// The sum of the buckets: the outstanding amount, exactly.
    pub fn outstanding(&self) -> i64 {
        self.0.iter().sum()
    }

    pub fn into_vec(self) -> Vec<i64> {
        self.0
    }
}

/// The last day of a month named `YYYY-MM`: the day a month's ageing snapshot is as of.
pub fn month_end(month: &str) -> Result<NaiveDate, FieldError> {
    let first = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
        .ok()
        .filter(|_| month.len() == 7)
        .ok_or_else(|| FieldError::new("", FieldCode::InvalidValue, "a month is YYYY-MM"))?;
    Ok(last_of_month(first))
}

/// The last day of the month before `day`'s: the latest month end that has passed.
pub fn previous_month_end(day: NaiveDate) -> NaiveDate {
    day.with_day(1).expect("every month has a first day") - Days::new(1)
}

fn last_of_month(day: NaiveDate) -> NaiveDate {
    let first = day.with_day(1).expect("every month has a first day");
    first + chrono::Months::new(1) - Days::new(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_ends() {
        let day = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(month_end("2026-02").unwrap(), day("2026-02-28"));
        assert_eq!(month_end("2024-02").unwrap(), day("2024-02-29"));
        assert_eq!(month_end("2026-12").unwrap(), day("2026-12-31"));
        for bad in ["2026-13", "2026-2", "26-02", "2026-02-01", ""] {
            assert!(month_end(bad).is_err(), "{bad}");
        }
        assert_eq!(previous_month_end(day("2026-03-01")), day("2026-02-28"));
        assert_eq!(previous_month_end(day("2026-03-31")), day("2026-02-28"));
    }
    use proptest::prelude::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn default_labels_match_the_contract() {
        let buckets = Buckets::default();
        assert_eq!(
            buckets.labels(Basis::Due),
            ["not_due", "1-30", "31-60", "61-90", "91-180", "181-365", "over_365"]
        );
        assert_eq!(
            buckets.labels(Basis::Invoice),
            ["0-30", "31-60", "61-90", "91-180", "181-365", "over_365"]
        );
    }

    #[test]
    fn days_fall_in_their_bucket_at_the_edges() {
        let buckets = Buckets::default();
        let due = |days| buckets.labels(Basis::Due)[buckets.index(Basis::Due, days)].clone();
        assert_eq!(
            [-5, 0, 1, 30, 31, 365, 366].map(due),
            ["not_due", "not_due", "1-30", "1-30", "31-60", "181-365", "over_365"]
        );
        let invoice =
            |days| buckets.labels(Basis::Invoice)[buckets.index(Basis::Invoice, days)].clone();
        assert_eq!([0, 30, 31].map(invoice), ["0-30", "0-30", "31-60"]);
    }

    #[test]
    fn limits_are_ascending_days() {
        assert_eq!(Buckets::parse("30, 60,90").unwrap().limits(), [30, 60, 90]);
        for bad in [
            "",
            "30,30",
            "60,30",
            "0,30",
            "x",
            "10000",
            "1,2,3,4,5,6,7,8,9,10,11,12,13",
        ] {
            assert_eq!(
                Buckets::parse(bad).unwrap_err().code,
                FieldCode::InvalidValue,
                "{bad}"
            );
        }
    }

    fn limits() -> impl Strategy<Value = Buckets> {
        proptest::collection::btree_set(1u32..=MAX_LIMIT_DAYS, 1..=MAX_LIMITS)
            .prop_map(|set| Buckets::new(set.into_iter().collect()).unwrap())
    }

    proptest! {
        /// Comparing the anchor with the lower bounds (what the database does) puts every
        /// amount in the bucket its days say.
        #[test]
        fn bounds_and_days_agree(buckets in limits(), offset in -20_000i64..20_000, invoice in any::<bool>()) {
            let basis = if invoice { Basis::Invoice } else { Basis::Due };
            let as_of = day("2026-06-30");
            // On the invoice basis an item issued after the day is not in the report.
            let offset = if invoice { offset.abs() } else { offset };
            let anchor = as_of - chrono::Duration::days(offset);
            let bounds = buckets.lower_bounds(basis, as_of);
            let by_bounds = bounds.iter().position(|bound| anchor >= *bound).unwrap_or(bounds.len());
            prop_assert_eq!(by_bounds, buckets.index(basis, offset));
            prop_assert_eq!(bounds.len() + 1, buckets.count(basis));
        }

        /// Whatever amounts land wherever, the buckets sum to the outstanding exactly.
        #[test]
        fn buckets_sum_to_the_outstanding(buckets in limits(), amounts in proptest::collection::vec((-3000i64..3000, 1i64..1_000_000_000), 0..50)) {
            let mut sums = BucketAmounts::zero(buckets.count(Basis::Due));
            for (days, amount) in &amounts {
                sums.add(buckets.index(Basis::Due, *days), *amount);
            }
            prop_assert_eq!(sums.outstanding(), amounts.iter().map(|(_, a)| a).sum::<i64>());
        }
    }
}
