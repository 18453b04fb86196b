//! The interaction log (seed 001): every call, e-mail, fax, meeting, visit, trade-fair
//! contact or message with a customer, with who took part and what came of it.

use chrono::{DateTime, Duration, Utc};
use credo_core::text::{clean_text, required_text};
use credo_core::{string_enum, FieldCode, FieldError, FieldErrors};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

string_enum! {
    pub enum InteractionChannel {
        Call = "call",
        Email = "email",
        Fax = "fax",
        Meeting = "meeting",
        Visit = "visit",
        TradeFair = "trade_fair",
        Message = "message",
    }
}

string_enum! {
    /// Who started it.
    pub enum Direction {
        Inbound = "inbound",
        Outbound = "outbound",
    }
}

/// How far ahead of the server's clock a device's time may be before it is refused.
pub const CLOCK_SKEW_MINUTES: i64 = 10;

/// Most participants of each kind one interaction names.
pub const MAX_PARTICIPANTS: usize = 50;

/// A moment that has happened, allowing for a device clock a little ahead of ours.
pub fn happened(at: DateTime<Utc>, now: DateTime<Utc>) -> Result<DateTime<Utc>, FieldError> {
    if at > now + Duration::minutes(CLOCK_SKEW_MINUTES) {
        Err(FieldError::new(
            "",
            FieldCode::InFuture,
            "the time lies in the future",
        ))
    } else {
        Ok(at)
    }
}

/// Who took part: our users and the customer's contacts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Participants {
    #[serde(default)]
    pub user_ids: Vec<Uuid>,
    #[serde(default)]
    pub contact_ids: Vec<Uuid>,
}

impl Participants {
    fn validate(mut self, errors: &mut FieldErrors) -> Participants {
        for (field, ids) in [
            ("participants.user_ids", &mut self.user_ids),
            ("participants.contact_ids", &mut self.contact_ids),
        ] {
            // Repeats dropped, order kept, so that error paths point at the client's items.
            let mut seen = std::collections::HashSet::new();
            ids.retain(|id| seen.insert(*id));
            if ids.len() > MAX_PARTICIPANTS {
                errors.push(FieldError::new(
                    field,
                    FieldCode::TooMany,
                    format!("at most {MAX_PARTICIPANTS}"),
                ));
            }
        }
        self
    }
}

/// An interaction as a client logs it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InteractionInput {
    pub channel: InteractionChannel,
    pub direction: Direction,
    /// When it happened; defaults to now.
    pub occurred_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub participants: Participants,
    #[schema(
        example = "电话确认二期设备需求,客户要求下周报价",
        min_length = 1,
        max_length = 5000
    )]
    pub summary: String,
    #[schema(example = "下周一前发送报价单", max_length = 2000)]
    pub outcome: Option<String>,
}

/// A valid interaction, before its participants are checked against the directory.
#[derive(Debug, Clone, PartialEq)]
pub struct NewInteraction {
    pub channel: InteractionChannel,
    pub direction: Direction,
    pub occurred_at: DateTime<Utc>,
    pub participants: Participants,
    pub summary: String,
    pub outcome: Option<String>,
}

impl InteractionInput {
    pub fn validate(self, now: DateTime<Utc>) -> Result<NewInteraction, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let occurred_at = errors.check(
            "occurred_at",
            happened(self.occurred_at.unwrap_or(now), now),
        );
        let participants = self.participants.validate(&mut errors);
        let summary = errors.check("summary", required_text(&self.summary, 5000));
        let outcome = self
            .outcome
            .as_deref()
            .and_then(|o| errors.check("outcome", clean_text(o, 2000)).flatten());
        errors.finish(|| NewInteraction {
            channel: self.channel,
            direction: self.direction,
            occurred_at: occurred_at.expect("checked"),
            participants,
            summary: summary.expect("checked"),
            outcome,
        })
    }
}

/// An interaction as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Interaction {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub channel: InteractionChannel,
    pub direction: Direction,
    pub occurred_at: DateTime<Utc>,
    pub participants: Participants,
    pub summary: String,
    pub outcome: Option<String>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_are_the_wire_names() {
        assert!(InteractionChannel::names_agree_with_serde());
        assert!(Direction::names_agree_with_serde());
    }

    #[test]
    fn interactions_happened_and_name_each_participant_once() {
        let now = Utc::now();
        let user = Uuid::from_u128(1);
        let input = InteractionInput {
            channel: InteractionChannel::Call,
            direction: Direction::Outbound,
            occurred_at: Some(now + Duration::minutes(5)),
            participants: Participants {
                user_ids: vec![user, user],
                contact_ids: vec![],
            },
            summary: " called ".into(),
            outcome: None,
        };
        let ok = input.clone().validate(now).unwrap();
        assert_eq!(ok.participants.user_ids, [user]);
        assert_eq!(ok.summary, "called");
        let late = InteractionInput {
            occurred_at: Some(now + Duration::hours(1)),
            ..input
        };
        assert_eq!(late.validate(now).unwrap_err()[0].code, FieldCode::InFuture);
    }
}
