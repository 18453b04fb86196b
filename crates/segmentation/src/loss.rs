//! A lost customer's reason (seed 002): dissatisfied, won by a competitor, let go for
//! negative value, or lost involuntarily; each calls for its own treatment.

use chrono::{DateTime, NaiveDate, Utc};
use credo_core::date::not_in_future;
use credo_core::text::clean_text;
use credo_core::{FieldError, FieldErrors};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::policy::LossReason;

const NOTE_MAX: usize = 2000;

/// A loss as a client records it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LossInput {
    pub reason: LossReason,
    #[schema(example = "moved its orders to a cheaper supplier", max_length = 2000)]
    pub note: Option<String>,
    /// The day it was lost: today (default) or earlier.
    #[schema(example = "2026-11-30")]
    pub lost_on: Option<NaiveDate>,
}

/// A checked loss.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LossRecord {
    pub reason: LossReason,
    pub note: Option<String>,
    pub lost_on: NaiveDate,
}

impl LossInput {
    pub fn validate(&self, today: NaiveDate) -> Result<LossRecord, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let note = self
            .note
            .as_deref()
            .and_then(|note| errors.check("note", clean_text(note, NOTE_MAX)))
            .flatten();
        let lost_on = errors.check(
            "lost_on",
            not_in_future(self.lost_on.unwrap_or(today), today),
        );
        errors.finish(|| LossRecord {
            reason: self.reason,
            note,
            lost_on: lost_on.expect("checked"),
        })
    }
}

/// A recorded loss with what its reason calls for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Loss {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub reason: LossReason,
    pub note: Option<String>,
    pub lost_on: NaiveDate,
    /// The treatment the segmentation policy in force recommends for the reason.
    #[schema(example = "call within a week, fix the complaint, offer a make-good")]
    pub treatment: String,
    pub recorded_by: Uuid,
    pub recorded_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loss_is_dated_today_or_before_with_a_short_note() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 5).expect("a day");
        let input = LossInput {
            reason: LossReason::Competitor,
            note: Some("  ".into()),
            lost_on: None,
        };
        assert_eq!(
            input.validate(today),
            Ok(LossRecord {
                reason: LossReason::Competitor,
                note: None,
                lost_on: today
            })
        );
        let future = LossInput {
            lost_on: today.succ_opt(),
            note: Some("x".repeat(2001)),
            ..input
        };
        let fields: Vec<String> = future
            .validate(today)
            .expect_err("invalid")
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["note", "lost_on"]);
    }
}
