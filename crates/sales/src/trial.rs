//! New-product trials (seed 001 indicator 7): a customer's inquiry about a new product that
//! may become a sample and then an order. The share that reaches an order measures the
//! customer's new-product success.

use chrono::NaiveDate;
use credo_core::date::{not_before, not_in_future};
use credo_core::text::{clean_text, required_text};
use credo_core::{string_enum, FieldError, FieldErrors};
use credo_customers::Stamps;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

string_enum! {
    pub enum TrialStage {
        Inquiry = "inquiry",
        Sample = "sample",
        Ordered = "ordered",
        Dropped = "dropped",
    }
}

impl TrialStage {
    /// Whether the trial may still advance (to a sample, an order, or be dropped).
    pub fn is_open(self) -> bool {
        matches!(self, TrialStage::Inquiry | TrialStage::Sample)
    }
}

/// A new-product inquiry as a client records it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrialInput {
    #[schema(example = "CX-300E", min_length = 1, max_length = 64)]
    pub product_code: String,
    #[schema(example = "CX-300E 节能型折弯机", min_length = 1, max_length = 200)]
    pub product_name: String,
    /// Defaults to today.
    pub inquired_on: Option<NaiveDate>,
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

/// A valid new trial.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTrial {
    pub product_code: String,
    pub product_name: String,
    pub inquired_on: NaiveDate,
    pub note: Option<String>,
}

impl TrialInput {
    pub fn validate(&self, today: NaiveDate) -> Result<NewTrial, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let code = errors.check("product_code", required_text(&self.product_code, 64));
        let name = errors.check("product_name", required_text(&self.product_name, 200));
        let inquired_on = errors.check(
            "inquired_on",
            not_in_future(self.inquired_on.unwrap_or(today), today),
        );
        let note = self
            .note
            .as_deref()
            .and_then(|n| errors.check("note", clean_text(n, 2000)).flatten());
        errors.finish(|| NewTrial {
            product_code: code.expect("checked"),
            product_name: name.expect("checked"),
            inquired_on: inquired_on.expect("checked"),
            note,
        })
    }
}

/// A trial as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Trial {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub product_code: String,
    pub product_name: String,
    pub stage: TrialStage,
    pub inquired_on: NaiveDate,
    pub sampled_on: Option<NaiveDate>,
    pub ordered_on: Option<NaiveDate>,
    pub dropped_on: Option<NaiveDate>,
    /// The order that concluded the trial.
    pub order_id: Option<Uuid>,
    pub note: Option<String>,
    #[serde(flatten)]
    pub stamps: Stamps,
}

/// The day of a trial step (sample sent, dropped).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrialStepInput {
    /// Defaults to today.
    pub on: Option<NaiveDate>,
}

/// Why a trial step was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum TrialStepError {
    /// The trial is already ordered or dropped, or has had its sample.
    NotAllowed(TrialStage),
    Invalid(Vec<FieldError>),
}

impl Trial {
    /// The trial after moving to `to` on `on` (sample, ordered or dropped).
    pub fn advance(
        &self,
        to: TrialStage,
        on: NaiveDate,
        order_id: Option<Uuid>,
        today: NaiveDate,
    ) -> Result<Trial, TrialStepError> {
        let allowed = match to {
            TrialStage::Sample => self.stage == TrialStage::Inquiry,
            TrialStage::Ordered | TrialStage::Dropped => self.stage.is_open(),
            TrialStage::Inquiry => false,
        };
        if !allowed {
            return Err(TrialStepError::NotAllowed(self.stage));
        }
        let earliest = self.sampled_on.unwrap_or(self.inquired_on);
        let on = not_in_future(on, today)
            .and_then(|on| not_before(on, earliest, "the trial's last step"))
            .map_err(|e| TrialStepError::Invalid(vec![e.nested("on")]))?;
        let mut next = self.clone();
        next.stage = to;
        match to {
            TrialStage::Sample => next.sampled_on = Some(on),
            TrialStage::Ordered => {
                next.ordered_on = Some(on);
                next.order_id = order_id;
            }
            TrialStage::Dropped => next.dropped_on = Some(on),
            TrialStage::Inquiry => {}
        }
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn trial() -> Trial {
        let at = chrono::Utc::now();
        Trial {
            id: Uuid::nil(),
            customer_id: Uuid::nil(),
            product_code: "P".into(),
            product_name: "P".into(),
            stage: TrialStage::Inquiry,
            inquired_on: day("2026-01-10"),
            sampled_on: None,
            ordered_on: None,
            dropped_on: None,
            order_id: None,
            note: None,
            stamps: Stamps {
                created_at: at,
                created_by: Uuid::nil(),
                updated_at: at,
                updated_by: Uuid::nil(),
                version: 1,
            },
        }
    }

    #[test]
    fn stored_names_are_the_wire_names() {
        assert!(TrialStage::names_agree_with_serde());
    }

    #[test]
    fn inquiry_sample_order() {
        let today = day("2026-03-01");
        let sampled = trial()
            .advance(TrialStage::Sample, day("2026-01-20"), None, today)
            .unwrap();
        assert_eq!(
            sampled.advance(TrialStage::Sample, day("2026-01-21"), None, today),
            Err(TrialStepError::NotAllowed(TrialStage::Sample))
        );
        assert!(matches!(
            sampled.advance(TrialStage::Ordered, day("2026-01-19"), None, today),
            Err(TrialStepError::Invalid(_))
        ));
        let order = Uuid::from_u128(7);
        let ordered = sampled
            .advance(TrialStage::Ordered, day("2026-02-01"), Some(order), today)
            .unwrap();
        assert_eq!(
            (ordered.stage, ordered.order_id),
            (TrialStage::Ordered, Some(order))
        );
        assert!(ordered
            .advance(TrialStage::Dropped, day("2026-02-02"), None, today)
            .is_err());
    }
}
