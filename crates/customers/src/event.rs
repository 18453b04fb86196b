//! Customer events, the "extended information" of the credit paper (seed 004): changes in a
//! customer's people, assets and risks, dated and sourced. Each of the named kinds opens a
//! credit review; `other` is recorded without one.

use chrono::{DateTime, NaiveDate, Utc};
use credo_core::date::not_in_future;
use credo_core::text::required_text;
use credo_core::{string_enum, FieldError, FieldErrors};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::Department;

string_enum! {
    pub enum EventKind {
        LegalRepresentativeChange = "legal_representative_change",
        LeadershipChange = "leadership_change",
        KeyContactChange = "key_contact_change",
        AssetSale = "asset_sale",
        ContractedPropertyTransfer = "contracted_property_transfer",
        MajorInvestment = "major_investment",
        Restructuring = "restructuring",
        Litigation = "litigation",
        Accident = "accident",
        ExternalGuarantee = "external_guarantee",
        Other = "other",
    }
}

impl EventKind {
    /// Whether an event of this kind marks the customer "credit review due".
    pub fn opens_credit_review(self) -> bool {
        self != EventKind::Other
    }
}

/// An event as a client reports it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventInput {
    pub kind: EventKind,
    /// The day it happened; defaults to today.
    pub occurred_on: Option<NaiveDate>,
    /// The department that learned of it.
    pub department: Department,
    #[schema(
        example = "法定代表人由张伟变更为李强",
        min_length = 1,
        max_length = 5000
    )]
    pub description: String,
}

/// A valid event.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub kind: EventKind,
    pub occurred_on: NaiveDate,
    pub department: Department,
    pub description: String,
}

impl EventInput {
    pub fn validate(&self, today: NaiveDate) -> Result<NewEvent, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let occurred_on = errors.check(
            "occurred_on",
            not_in_future(self.occurred_on.unwrap_or(today), today),
        );
        let description = errors.check("description", required_text(&self.description, 5000));
        errors.finish(|| NewEvent {
            kind: self.kind,
            occurred_on: occurred_on.expect("checked"),
            department: self.department,
            description: description.expect("checked"),
        })
    }
}

/// An event as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CustomerEvent {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub kind: EventKind,
    pub occurred_on: NaiveDate,
    pub department: Department,
    pub description: String,
    /// Whether this event marked the customer "credit review due".
    pub opens_credit_review: bool,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_are_the_wire_names() {
        assert!(EventKind::names_agree_with_serde());
    }

    #[test]
    fn every_named_kind_opens_a_review() {
        let opening = EventKind::ALL
            .iter()
            .filter(|k| k.opens_credit_review())
            .count();
        assert_eq!(opening, EventKind::ALL.len() - 1);
        assert!(!EventKind::Other.opens_credit_review());
    }

    #[test]
    fn events_are_dated_and_described() {
        let today: NaiveDate = "2026-03-01".parse().unwrap();
        let input = EventInput {
            kind: EventKind::Litigation,
            occurred_on: Some("2026-04-01".parse().unwrap()),
            department: Department::Credit,
            description: "  ".into(),
        };
        let fields: Vec<_> = input
            .validate(today)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["occurred_on", "description"]);
    }
}
