//! Credit reviews due (seed 004: a line and its rating are reviewed before they run out, and
//! when the customer's basic data is six months old or an event calls for it).

use chrono::{Days, NaiveDate};
use credo_core::{string_enum, Currency, FieldCode, FieldError, FieldErrors};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

string_enum! {
    pub enum ReviewCode {
        /// The line (and the rating it carries) runs out within the policy's notice.
        LineExpiring = "line_expiring",
        /// The line ran out.
        LineExpired = "line_expired",
        /// The credit data of a customer with a line is older than the policy allows.
        CreditDataStale = "credit_data_stale",
        /// An event of a kind that calls for a review (a change of leadership, a lawsuit ...).
        ReviewEvent = "review_event",
    }
}

/// Why a review is due, and from which day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ReviewReason {
    pub code: ReviewCode,
    /// The day the reason holds from (a line's last day, the day data went stale, the day
    /// of the event).
    pub due_on: NaiveDate,
    #[schema(example = "the CNY line runs out on 2026-12-31")]
    pub detail: String,
}

/// A customer whose credit is due for review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ReviewDue {
    pub customer_id: Uuid,
    pub name: String,
    pub owner_id: Uuid,
    /// By day, the earliest first.
    pub reasons: Vec<ReviewReason>,
}

/// When reviews fall due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewPolicy {
    /// A line running out within this many days is due for review.
    #[schema(example = 30, minimum = 0, maximum = 365)]
    pub expiring_within_days: u32,
    /// Credit data older than this many days is stale (seed 004: six months).
    #[schema(example = 180, minimum = 1, maximum = 3650)]
    pub stale_after_days: u32,
}

impl Default for ReviewPolicy {
    fn default() -> Self {
        Self {
            expiring_within_days: 30,
            stale_after_days: 180,
        }
    }
}

impl ReviewPolicy {
    pub fn check(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        if self.expiring_within_days > 365 {
            errors.push(FieldError::new(
                "expiring_within_days",
                FieldCode::OutOfRange,
                "0 to 365 days",
            ));
        }
        if !(1..=3650).contains(&self.stale_after_days) {
            errors.push(FieldError::new(
                "stale_after_days",
                FieldCode::OutOfRange,
                "1 to 3650 days",
            ));
        }
        errors.finish(|| ())
    }

    /// The last day of a line that is due for review on `today`.
    pub fn expiring_by(&self, today: NaiveDate) -> NaiveDate {
        today + Days::new(u64::from(self.expiring_within_days))
    }

    /// Credit data refreshed before this day is stale on `today`.
    pub fn stale_before(&self, today: NaiveDate) -> NaiveDate {
        today - Days::new(u64::from(self.stale_after_days))
    }
}

/// What a customer's file says for the review.
pub struct ReviewFacts<'a> {
    /// Its active lines: currency and last day.
    pub lines: &'a [(Currency, NaiveDate)],
    pub credit_data_refreshed_on: NaiveDate,
    pub review_due_since: Option<NaiveDate>,
}

/// Why the customer's credit is due for review on `today`, the earliest first.
pub fn reasons(
    facts: &ReviewFacts<'_>,
    policy: &ReviewPolicy,
    today: NaiveDate,
) -> Vec<ReviewReason> {
    let mut reasons = Vec::new();
    for (currency, valid_to) in facts.lines {
        let currency = currency.as_str();
        if *valid_to < today {
            reasons.push(ReviewReason {
                code: ReviewCode::LineExpired,
                due_on: *valid_to,
                detail: format!("the {currency} line ran out on {valid_to}"),
            });
        } else if *valid_to <= policy.expiring_by(today) {
            reasons.push(ReviewReason {
                code: ReviewCode::LineExpiring,
                due_on: *valid_to,
                detail: format!("the {currency} line runs out on {valid_to}"),
            });
        }
    }
    if !facts.lines.is_empty() && facts.credit_data_refreshed_on < policy.stale_before(today) {
        let stale_on =
            facts.credit_data_refreshed_on + Days::new(u64::from(policy.stale_after_days));
        reasons.push(ReviewReason {
            code: ReviewCode::CreditDataStale,
            due_on: stale_on,
            detail: format!(
                "credit data last refreshed on {}",
                facts.credit_data_refreshed_on
            ),
        });
    }
    if let Some(since) = facts.review_due_since {
        reasons.push(ReviewReason {
            code: ReviewCode::ReviewEvent,
            due_on: since,
            detail: "an event called for a credit review".into(),
        });
    }
    reasons.sort_by_key(|r| r.due_on);
    reasons
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn codes(reasons: &[ReviewReason]) -> Vec<ReviewCode> {
        reasons.iter().map(|r| r.code).collect()
    }

    #[test]
    fn stored_names_are_the_wire_names() {
        assert!(ReviewCode::names_agree_with_serde());
    }

    #[test]
    fn lines_are_reviewed_thirty_days_before_they_run_out() {
        let today = day("2026-12-02");
        let cny = Currency::parse("CNY").unwrap();
        let policy = ReviewPolicy::default();
        let facts = |valid_to: &str| {
            let lines = vec![(cny, day(valid_to))];
            reasons(
                &ReviewFacts {
                    lines: &lines,
                    credit_data_refreshed_on: today,
                    review_due_since: None,
                },
                &policy,
                today,
            )
        };
        assert_eq!(codes(&facts("2027-01-01")), [ReviewCode::LineExpiring]);
        assert_eq!(codes(&facts("2027-01-02")), []);
        assert_eq!(codes(&facts("2026-12-01")), [ReviewCode::LineExpired]);
    }

    #[test]
    fn stale_data_matters_for_customers_with_a_line_and_events_for_all() {
        let today = day("2026-12-02");
        let policy = ReviewPolicy::default();
        let lines = vec![(Currency::parse("CNY").unwrap(), day("2027-12-31"))];
        let stale = ReviewFacts {
            lines: &lines,
            credit_data_refreshed_on: day("2026-06-04"),
            review_due_since: Some(day("2026-11-01")),
        };
        let found = reasons(&stale, &policy, today);
        assert_eq!(
            codes(&found),
            [ReviewCode::ReviewEvent, ReviewCode::CreditDataStale]
        );
        assert_eq!(found[1].due_on, day("2026-12-01"));
        let no_line = ReviewFacts {
            lines: &[],
            ..stale
        };
        assert_eq!(
            codes(&reasons(&no_line, &policy, today)),
            [ReviewCode::ReviewEvent]
        );
        let fresh = ReviewFacts {
            lines: &lines,
            credit_data_refreshed_on: day("2026-06-05"),
            review_due_since: None,
        };
        assert!(reasons(&fresh, &policy, today).is_empty());
    }
}
