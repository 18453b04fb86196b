//! How well receivables are collected over a period: DSO by the count-back method, the
//! collection effectiveness index (CEI) and the overdue ratio, from the balances at the
//! period's ends and the sales invoiced. Exact decimals; a ratio without a denominator is
//! `None` with the reason, never a division by zero.

use chrono::{Datelike, Months, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};

/// How far back count-back walks: two years of invoiced sales.
pub const COUNT_BACK_MONTHS: u32 = 24;

/// One month of count-back, newest first: the month of the period's end runs from its first
/// day up to the end; the months before are whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountBackMonth {
    pub first_day: NaiveDate,
    pub days: u32,
}

/// The months count-back reads for a period ending on `to`, newest first.
pub fn count_back_months(to: NaiveDate) -> Vec<CountBackMonth> {
    let first_of_month = to.with_day(1).expect("every month has a first day");
    let mut months = vec![CountBackMonth {
        first_day: first_of_month,
        days: to.day(),
    }];
    for back in 1..COUNT_BACK_MONTHS {
        let first_day = first_of_month - Months::new(back);
        let next = first_day + Months::new(1);
        let days = u32::try_from((next - first_day).num_days()).expect("a month is short");
        months.push(CountBackMonth { first_day, days });
    }
    months
}

/// What the metrics are computed from, in minor units of one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionFacts {
    /// Open at the start of the period (as of the day before it).
    pub opening_minor: i64,
    /// Invoiced within the period.
    pub invoiced_minor: i64,
    /// Open at the end of the period.
    pub closing_minor: i64,
    /// Of that, not yet due.
    pub closing_current_minor: i64,
    /// Invoiced in each month of `count_back_months`, newest first.
    pub monthly_invoiced_minor: Vec<i64>,
}

/// The metrics of a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionMetrics {
    /// Days of sales the closing balance stands for, counted back month by month.
    pub dso_days: Option<Decimal>,
    /// (opening + invoiced - closing) / (opening + invoiced - closing current), in percent.
    pub cei_percent: Option<Decimal>,
    /// Closing overdue / closing, in percent.
    pub overdue_ratio_percent: Option<Decimal>,
    /// Why a metric is `None`.
    pub notes: Vec<String>,
}

fn round(value: Decimal, places: u32) -> Decimal {
    value.round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero)
}

fn percent(numerator: i64, denominator: i64) -> Option<Decimal> {
    (denominator != 0).then(|| {
        round(
            Decimal::from(numerator) * Decimal::ONE_HUNDRED / Decimal::from(denominator),
            2,
        )
    })
}

/// The metrics from the facts and the count-back months they were read for.
pub fn collection_metrics(facts: &CollectionFacts, months: &[CountBackMonth]) -> CollectionMetrics {
    let mut notes = Vec::new();
    let dso_days = count_back(facts.closing_minor, months, &facts.monthly_invoiced_minor);
    if dso_days.is_none() {
        notes.push(format!(
            "dso_days: the closing balance is more than the last {COUNT_BACK_MONTHS} months invoiced"
        ));
    }
    let collectable = facts.opening_minor + facts.invoiced_minor;
    let cei_percent = percent(
        collectable - facts.closing_minor,
        collectable - facts.closing_current_minor,
    );
    if cei_percent.is_none() {
        notes.push("cei_percent: nothing was collectable in the period".into());
    }
    let overdue_ratio_percent = percent(
        facts.closing_minor - facts.closing_current_minor,
        facts.closing_minor,
    );
    if overdue_ratio_percent.is_none() {
        notes.push("overdue_ratio_percent: nothing is open at the end".into());
    }
    CollectionMetrics {
        dso_days,
        cei_percent,
        overdue_ratio_percent,
        notes,
    }
}

/// Count-back: take each month's sales off the closing balance, newest first, adding its
/// days, until the balance is used up; the last month counts the share of its days the rest
/// of the balance is of its sales. One decimal.
fn count_back(closing_minor: i64, months: &[CountBackMonth], invoiced: &[i64]) -> Option<Decimal> {
    let mut left = closing_minor;
    let mut days = Decimal::ZERO;
    for (month, &sales) in months.iter().zip(invoiced) {
        if left <= 0 {
            break;
        }
        if left >= sales {
            left -= sales;
            days += Decimal::from(month.days);
        } else {
            days += Decimal::from(left) * Decimal::from(month.days) / Decimal::from(sales);
            left = 0;
        }
    }
    (left <= 0).then(|| round(days, 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn count_back_months_run_back_from_the_partial_month_of_the_end() {
        let months = count_back_months(day("2026-03-15"));
        assert_eq!(months.len(), 24);
        assert_eq!(
            months[..3],
            [
                CountBackMonth {
                    first_day: day("2026-03-01"),
                    days: 15
                },
                CountBackMonth {
                    first_day: day("2026-02-01"),
                    days: 28
                },
                CountBackMonth {
                    first_day: day("2026-01-01"),
                    days: 31
                },
            ]
        );
        assert_eq!(months[23].first_day, day("2024-04-01"));
    }

    #[test]
    fn the_textbook_count_back() {
        // Closing 1,000,000: March (31 days) sold 600,000, February (28) 500,000: all of
        // March and 400/500 of February: 31 + 22.4 days.
        let months = count_back_months(day("2026-03-31"));
        let mut invoiced = vec![0; 24];
        invoiced[0] = 600_000;
        invoiced[1] = 500_000;
        let facts = CollectionFacts {
            opening_minor: 800_000,
            invoiced_minor: 1_500_000,
            closing_minor: 1_000_000,
            closing_current_minor: 700_000,
            monthly_invoiced_minor: invoiced,
        };
        let metrics = collection_metrics(&facts, &months);
        assert_eq!(metrics.dso_days, Some(Decimal::new(534, 1)));
        // (800k + 1.5M - 1M) / (800k + 1.5M - 700k) = 1.3 / 1.6.
        assert_eq!(metrics.cei_percent, Some(Decimal::new(8125, 2)));
        assert_eq!(metrics.overdue_ratio_percent, Some(Decimal::new(3000, 2)));
        assert!(metrics.notes.is_empty());
    }

    #[test]
    fn nothing_to_divide_by_is_none_with_a_reason() {
        let months = count_back_months(day("2026-03-31"));
        let facts = CollectionFacts {
            opening_minor: 0,
            invoiced_minor: 0,
            closing_minor: 0,
            closing_current_minor: 0,
            monthly_invoiced_minor: vec![0; 24],
        };
        let metrics = collection_metrics(&facts, &months);
        assert_eq!(metrics.dso_days, Some(Decimal::ZERO));
        assert_eq!(
            (metrics.cei_percent, metrics.overdue_ratio_percent),
            (None, None)
        );
        assert_eq!(metrics.notes.len(), 2);
        let stale = CollectionFacts {
            closing_minor: 10,
            closing_current_minor: 0,
            ..facts
        };
        let metrics = collection_metrics(&stale, &months);
        assert_eq!(metrics.dso_days, None);
        assert!(metrics.notes[0].starts_with("dso_days"));
    }

    proptest! {
        /// DSO never exceeds the days counted back, and a closing balance equal to the
        /// newest months' sales counts exactly their days.
        #[test]
        fn count_back_stays_within_its_months(
            sales in proptest::collection::vec(1i64..1_000_000, 24),
            whole in 0usize..24,
        ) {
            let months = count_back_months(day("2026-06-30"));
            let closing: i64 = sales[..whole].iter().sum();
            let days: u32 = months[..whole].iter().map(|m| m.days).sum();
            prop_assert_eq!(count_back(closing, &months, &sales), Some(Decimal::from(days)));
            let total_days: u32 = months.iter().map(|m| m.days).sum();
            let partial = count_back(closing + sales[whole] / 2, &months, &sales).unwrap();
            prop_assert!(partial <= Decimal::from(total_days));
        }
    }
}
