//! Early warnings (seed 004): a line nearly used up, a worse rating, a lawsuit, an overdue
//! notice. Each is raised once per customer, kind and day, with a task for the account
//! manager; the credit department reads them all.

use chrono::{DateTime, NaiveDate, Utc};
use credo_core::string_enum;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

string_enum! {
    pub enum AlertKind {
        /// Exposure with the sale above the policy's share of the limit (default 90 %).
        LimitUse = "limit_use",
        /// A new line's rating is worse than the one it replaced.
        RatingDrop = "rating_drop",
        /// A litigation event was recorded.
        Litigation = "litigation",
        /// Dunning reached a level with a credit effect (an overdue notice or beyond).
        Overdue = "overdue",
    }
}

/// An early warning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Alert {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub kind: AlertKind,
    #[schema(example = "exposure 95000000 of the limit 100000000 (95.00 %)")]
    pub detail: String,
    /// The day it was raised.
    pub raised_on: NaiveDate,
    /// The account manager's task.
    pub task_id: Uuid,
    pub created_at: DateTime<Utc>,
}

/// The limit-use warning for exposure `after_minor` (with the sale) against `limit_minor`
/// when the share used is above `alert_use_bp`.
pub fn limit_use(after_minor: i64, limit_minor: i64, alert_use_bp: u32) -> Option<String> {
    let used = i128::from(after_minor) * 10_000;
    let threshold = i128::from(limit_minor) * i128::from(alert_use_bp);
    (limit_minor > 0 && used > threshold).then(|| {
        let hundredths = used / i128::from(limit_minor);
        format!(
            "exposure {after_minor} of the limit {limit_minor} ({}.{:02} %)",
            hundredths / 100,
            hundredths % 100
        )
    })
}

/// A rating's limit grade (1 for 1A to 5 for 5A) and characteristic grade (1 best to 6).
fn grades(rating: &str) -> Option<(u32, u32)> {
    let (limit, characteristic) = rating.split_once('A')?;
    Some((limit.parse().ok()?, characteristic.parse().ok()?))
}

/// Whether `new` is worse than `old`: a smaller limit grade or a worse characteristic grade.
pub fn rating_dropped(old: &str, new: &str) -> bool {
    match (grades(old), grades(new)) {
        (Some((old_limit, old_grade)), Some((new_limit, new_grade))) => {
            new_limit < old_limit || new_grade > old_grade
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_are_the_wire_names() {
        assert!(AlertKind::names_agree_with_serde());
    }

    #[test]
    fn limit_use_warns_above_ninety_percent() {
        assert_eq!(limit_use(900, 1_000, 9_000), None);
        assert_eq!(
            limit_use(901, 1_000, 9_000).as_deref(),
            Some("exposure 901 of the limit 1000 (90.10 %)")
        );
        assert_eq!(limit_use(1, 0, 9_000), None);
    }

    #[test]
    fn a_rating_drops_with_a_smaller_line_or_a_worse_grade() {
        assert!(rating_dropped("3A2", "2A2"));
        assert!(rating_dropped("3A2", "3A3"));
        assert!(!rating_dropped("3A2", "4A2"));
        assert!(!rating_dropped("3A2", "3A2"));
        assert!(rating_dropped("5A1", "4A6"));
        assert!(!rating_dropped("x", "1A6"));
    }
}
