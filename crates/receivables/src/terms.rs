//! Changes to an item's terms: an extension of its due day (asked for with a reason,
//! decided once by someone else) and a dispute that pauses its dunning.

use chrono::{DateTime, NaiveDate, Utc};
use credo_core::text::{clean_text, required_text};
use credo_core::{string_enum, FieldCode, FieldError, FieldErrors};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::ledger::REASON_MAX;

string_enum! {
    pub enum ExtensionStatus {
        Pending = "pending",
        Approved = "approved",
        Rejected = "rejected",
    }
}

/// A request for more time to pay an item.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionInput {
    /// The due day asked for: after the current one.
    #[schema(example = "2026-12-31")]
    pub new_due_on: NaiveDate,
    #[schema(
        example = "台风导致海南经销商物流中断,申请延期一个月",
        min_length = 1,
        max_length = 2000
    )]
    pub reason: String,
}

/// A request for more time and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Extension {
    pub id: Uuid,
    pub receivable_id: Uuid,
    /// The due day when it was asked for.
    pub previous_due_on: NaiveDate,
    pub requested_due_on: NaiveDate,
    pub reason: String,
    pub status: ExtensionStatus,
    pub decision_note: Option<String>,
    pub requested_by: Uuid,
    pub requested_at: DateTime<Utc>,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTime<Utc>>,
}

/// A valid request for more time.
#[derive(Debug, Clone, PartialEq)]
pub struct NewExtension {
    pub requested_due_on: NaiveDate,
    pub reason: String,
}

impl ExtensionInput {
    /// A request against an item due on `due_on`.
    pub fn validate(&self, due_on: NaiveDate) -> Result<NewExtension, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        if self.new_due_on <= due_on {
            errors.push(FieldError::new(
                "new_due_on",
                FieldCode::BeforeEarlierDate,
                format!("an extension moves the due day ({due_on}) later"),
            ));
        }
        let reason = errors.check("reason", required_text(&self.reason, REASON_MAX));
        errors.finish(|| NewExtension {
            requested_due_on: self.new_due_on,
            reason: reason.expect("checked"),
        })
    }
}

/// The decision on a pending request.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionDecisionInput {
    #[schema(example = true)]
    pub approved: bool,
    #[schema(example = "不可抗力,同意延期", max_length = 2000)]
    pub note: Option<String>,
}

/// Why a decision was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum DecisionRefusal {
    /// Decided before: a request is decided once.
    AlreadyDecided(ExtensionStatus),
    /// Whoever asked does not decide.
    SamePerson,
    Invalid(Vec<FieldError>),
}

/// Decides `extension` as `decider`: the new status and the note.
pub fn decide(
    extension: &Extension,
    input: &ExtensionDecisionInput,
    decider: Uuid,
) -> Result<(ExtensionStatus, Option<String>), DecisionRefusal> {
    if extension.status != ExtensionStatus::Pending {
        return Err(DecisionRefusal::AlreadyDecided(extension.status));
    }
    if extension.requested_by == decider {
        return Err(DecisionRefusal::SamePerson);
    }
    let note = match input.note.as_deref().map(|n| clean_text(n, REASON_MAX)) {
        Some(Err(error)) => return Err(DecisionRefusal::Invalid(vec![error.nested("note")])),
        Some(Ok(note)) => note,
        None => None,
    };
    let status = if input.approved {
        ExtensionStatus::Approved
    } else {
        ExtensionStatus::Rejected
    };
    Ok((status, note))
}

/// A dispute raised about an item: its dunning pauses until it is resolved or lapses.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisputeInput {
    #[schema(
        example = "客户称第二批货物规格不符,待质检确认",
        min_length = 1,
        max_length = 2000
    )]
    pub reason: String,
    /// The last day the dispute pauses dunning unless resolved before: after today
    /// (default 30 days from today).
    #[schema(example = "2026-12-31")]
    pub until: Option<NaiveDate>,
}

/// An open dispute of an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Dispute {
    pub since: NaiveDate,
    pub reason: String,
    pub until: NaiveDate,
}

/// How long a dispute pauses dunning unless the request says otherwise.
pub const DEFAULT_DISPUTE_DAYS: u64 = 30;

/// How long a dispute may pause dunning: up to `max_days` from today, unless whoever opens it
/// is of the credit department (`extends`), who may set any later day.
#[derive(Debug, Clone, Copy)]
pub struct DisputeBound {
    pub max_days: u32,
    pub extends: bool,
}

impl DisputeInput {
    pub fn validate(
        &self,
        today: NaiveDate,
        bound: DisputeBound,
    ) -> Result<Dispute, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let reason = errors.check("reason", required_text(&self.reason, REASON_MAX));
        let default_days = DEFAULT_DISPUTE_DAYS.min(u64::from(bound.max_days));
        let until = self
            .until
            .unwrap_or(today + chrono::Days::new(default_days));
        let latest = today + chrono::Days::new(u64::from(bound.max_days));
        if until <= today {
            errors.push(FieldError::new(
                "until",
                FieldCode::BeforeEarlierDate,
                "a dispute pauses dunning until a day after today",
            ));
        } else if until > latest && !bound.extends {
            errors.push(FieldError::new(
                "until",
                FieldCode::OutOfRange,
                format!(
                    "a dispute pauses dunning at most {} days (until {latest}); a longer one is \
                     opened by the credit department",
                    bound.max_days
                ),
            ));
        }
        errors.finish(|| Dispute {
            since: today,
            reason: reason.expect("checked"),
            until,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn pending(requested_by: Uuid) -> Extension {
        Extension {
            id: Uuid::nil(),
            receivable_id: Uuid::nil(),
            previous_due_on: day("2026-11-30"),
            requested_due_on: day("2026-12-31"),
            reason: "台风".into(),
            status: ExtensionStatus::Pending,
            decision_note: None,
            requested_by,
            requested_at: DateTime::UNIX_EPOCH,
            decided_by: None,
            decided_at: None,
        }
    }

    #[test]
    fn an_extension_moves_the_due_day_later_for_a_reason() {
        let input = ExtensionInput {
            new_due_on: day("2026-11-30"),
            reason: "".into(),
        };
        let errors = input.validate(day("2026-11-30")).unwrap_err();
        let fields: Vec<(&str, FieldCode)> =
            errors.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(
            fields,
            [
                ("new_due_on", FieldCode::BeforeEarlierDate),
                ("reason", FieldCode::Required)
            ]
        );
    }

    #[test]
    fn someone_else_decides_once() {
        let asker = Uuid::from_u128(1);
        let yes = ExtensionDecisionInput {
            approved: true,
            note: Some(" 同意 ".into()),
        };
        assert_eq!(
            decide(&pending(asker), &yes, asker),
            Err(DecisionRefusal::SamePerson)
        );
        assert_eq!(
            decide(&pending(asker), &yes, Uuid::from_u128(2)),
            Ok((ExtensionStatus::Approved, Some("同意".into())))
        );
        let mut decided = pending(asker);
        decided.status = ExtensionStatus::Rejected;
        assert_eq!(
            decide(&decided, &yes, Uuid::from_u128(2)),
            Err(DecisionRefusal::AlreadyDecided(ExtensionStatus::Rejected))
        );
    }

    #[test]
    fn a_dispute_lasts_thirty_days_unless_asked_otherwise() {
        let today = day("2026-12-01");
        let input = DisputeInput {
            reason: "规格不符".into(),
            until: None,
        };
        let agent = DisputeBound {
            max_days: 90,
            extends: false,
        };
        let dispute = input.validate(today, agent).unwrap();
        assert_eq!(dispute.until, day("2026-12-31"));
        let past = DisputeInput {
            reason: "x".into(),
            until: Some(today),
        };
        assert_eq!(past.validate(today, agent).unwrap_err()[0].field, "until");
    }

    #[test]
    fn a_dispute_longer_than_the_policy_allows_is_the_credit_departments() {
        let today = day("2026-12-01");
        let forever = DisputeInput {
            reason: "质量争议".into(),
            until: Some(day("2999-12-31")),
        };
        let agent = DisputeBound {
            max_days: 90,
            extends: false,
        };
        let refused = forever.validate(today, agent).unwrap_err();
        assert_eq!(
            (refused[0].field.as_str(), refused[0].code),
            ("until", FieldCode::OutOfRange)
        );
        let last = DisputeInput {
            until: Some(day("2027-03-01")),
            ..forever.clone()
        };
        assert_eq!(
            last.validate(today, agent).unwrap().until,
            day("2027-03-01")
        );
        let credit = DisputeBound {
            extends: true,
            ..agent
        };
        assert!(forever.validate(today, credit).is_ok());
        // A default never outlasts a shorter policy.
        let short = DisputeBound {
            max_days: 10,
            extends: false,
        };
        let defaulted = DisputeInput {
            until: None,
            ..forever
        };
        assert_eq!(
            defaulted.validate(today, short).unwrap().until,
            day("2026-12-11")
        );
    }
}
