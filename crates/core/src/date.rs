//! Date rules shared by every record that says when something happened.

use chrono::NaiveDate;

use crate::{FieldCode, FieldError};

/// How many days past its due day an item is "a month overdue" (seed 004: 逾期一个月, the
/// follow-up timeline's due + 30): the dunning timeline's blacklist level, the warning list's
/// overdue credit sale and the credit check's default block all mean this.
pub const MONTH_OVERDUE_DAYS: u32 = 30;

/// Whether an item due on `due_on` is at least `days` overdue on `today`: from the day
/// `days` after its due day on. The one rule every "overdue so long" reads.
pub fn overdue_for(due_on: NaiveDate, today: NaiveDate, days: u32) -> bool {
    overdue_since(due_on, days).is_some_and(|since| today >= since)
}

/// The day from which an item due on `due_on` is `days` overdue (`None` past the calendar).
pub fn overdue_since(due_on: NaiveDate, days: u32) -> Option<NaiveDate> {
    due_on.checked_add_days(chrono::Days::new(u64::from(days)))
}

/// The latest due day of an item that is `days` overdue on `today`: a store reads the items
/// due on or before it (`overdue_for` the other way round).
pub fn overdue_through(today: NaiveDate, days: u32) -> NaiveDate {
    today
        .checked_sub_days(chrono::Days::new(u64::from(days)))
        .unwrap_or(NaiveDate::MIN)
}

/// A day on which something already happened: today or earlier.
pub fn not_in_future(date: NaiveDate, today: NaiveDate) -> Result<NaiveDate, FieldError> {
    if date > today {
        Err(FieldError::new(
            "",
            FieldCode::InFuture,
            "the date lies in the future",
        ))
    } else {
        Ok(date)
    }
}

/// A day that is not before `earliest` (what it follows, e.g. the order date).
pub fn not_before(
    date: NaiveDate,
    earliest: NaiveDate,
    what: &str,
) -> Result<NaiveDate, FieldError> {
    if date < earliest {
        Err(FieldError::new(
            "",
            FieldCode::BeforeEarlierDate,
            format!("the date lies before {what} ({earliest})"),
        ))
    } else {
        Ok(date)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_month_overdue_starts_thirty_days_after_the_due_day() {
        let due = day("2026-10-31");
        assert!(!overdue_for(due, day("2026-11-29"), MONTH_OVERDUE_DAYS));
        assert!(overdue_for(due, day("2026-11-30"), MONTH_OVERDUE_DAYS));
        assert_eq!(
            overdue_since(due, MONTH_OVERDUE_DAYS),
            Some(day("2026-11-30"))
        );
        assert_eq!(overdue_through(day("2026-11-30"), MONTH_OVERDUE_DAYS), due);
    }

    proptest! {
        /// The three forms agree on every day: whether an item is so long overdue, from when,
        /// and which due days a store reads.
        #[test]
        fn overdue_for_since_and_through_agree(due in 0i64..60_000, today in 0i64..60_000, days in 0u32..4000) {
            let base = day("1900-01-01");
            let due = base + chrono::Days::new(due as u64);
            let today = base + chrono::Days::new(today as u64);
            let overdue = overdue_for(due, today, days);
            prop_assert_eq!(overdue, due <= overdue_through(today, days));
            prop_assert_eq!(overdue, today >= overdue_since(due, days).unwrap());
        }
    }
}
