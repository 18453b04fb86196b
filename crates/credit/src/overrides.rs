//! Credit overrides: one order let through a blocking check once, for a stated reason,
//! until a day, by someone whose approval limit covers the amount.

use chrono::{DateTime, NaiveDate, Utc};
use credo_core::money::input_amount;
use credo_core::text::required_text;
use credo_core::{Currency, FieldCode, FieldError, FieldErrors};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::agreement::REASON_MAX;
use crate::check::{CheckDecision, CheckReason, CreditCheck, ReasonCode};

/// An override as the credit department records it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditOverrideInput {
    /// The order it lets through.
    pub order_id: Uuid,
    /// The most of the order sold on credit it covers, in the order's currency.
    #[schema(example = 63_000_000, minimum = 1)]
    pub amount_minor: i64,
    #[schema(
        example = "总经理特批: 政府项目, 回款有保障",
        min_length = 1,
        max_length = 2000
    )]
    pub reason: String,
    /// The last day it may be used: today or later.
    #[schema(example = "2026-12-31")]
    pub expires_on: NaiveDate,
}

/// A valid override's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOverride {
    pub amount_minor: i64,
    pub reason: String,
    pub expires_on: NaiveDate,
}

impl CreditOverrideInput {
    pub fn validate(&self, today: NaiveDate) -> Result<NewOverride, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        errors.check("amount_minor", input_amount(self.amount_minor, 1));
        let reason = errors.check("reason", required_text(&self.reason, REASON_MAX));
        if self.expires_on < today {
            errors.push(FieldError::new(
                "expires_on",
                FieldCode::BeforeEarlierDate,
                format!("an override is used today ({today}) or later"),
            ));
        }
        errors.finish(|| NewOverride {
            amount_minor: self.amount_minor,
            reason: reason.expect("checked"),
            expires_on: self.expires_on,
        })
    }
}

/// A credit override.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CreditOverride {
    pub id: Uuid,
    pub order_id: Uuid,
    pub customer_id: Uuid,
    #[schema(value_type = String, example = "CNY")]
    pub currency: Currency,
    #[schema(example = 63_000_000)]
    pub amount_minor: i64,
    pub reason: String,
    pub expires_on: NaiveDate,
    /// When it let the order through; `null` while unused.
    #[schema(required = true)]
    pub used_at: Option<DateTime<Utc>>,
    /// The step it let through: `confirmed` or `shipped`.
    #[schema(required = true, example = json!(null))]
    pub used_step: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Who approved it.
    pub created_by: Uuid,
}

impl CreditOverride {
    /// Whether it lets a blocked sale of `amount_minor` through on `today`: unused, not
    /// expired, large enough.
    pub fn covers(&self, amount_minor: i64, today: NaiveDate) -> bool {
        self.used_at.is_none() && today <= self.expires_on && amount_minor <= self.amount_minor
    }

    /// The blocked `check` let through: a warning that keeps every reason it overrode.
    pub fn apply(&self, check: CreditCheck) -> CreditCheck {
        let mut reasons = check.reasons;
        reasons.push(CheckReason {
            code: ReasonCode::OverrideUsed,
            message: format!(
                "let through by credit override {}: {}",
                self.id, self.reason
            ),
        });
        CreditCheck {
            decision: CheckDecision::Warn,
            reasons,
            ..check
        }
    }
}

/// What a step's check comes to beside the order's overrides: a blocked check is let
/// through by the first of `overrides` (oldest first) that covers the sale, which is used up
/// by `step` at `at`; any other check stands as it is. Answers the check and the override
/// used, as it is after use.
pub fn let_through(
    check: CreditCheck,
    overrides: &[CreditOverride],
    amount_minor: i64,
    step: &str,
    today: NaiveDate,
    at: DateTime<Utc>,
) -> (CreditCheck, Option<CreditOverride>) {
    if check.decision != CheckDecision::Block {
        return (check, None);
    }
    match overrides.iter().find(|o| o.covers(amount_minor, today)) {
        Some(granted) => {
            let used = CreditOverride {
                used_at: Some(at),
                used_step: Some(step.to_owned()),
                ..granted.clone()
            };
            (granted.apply(check), Some(used))
        }
        None => (check, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn granted(amount_minor: i64, expires_on: NaiveDate, used: bool) -> CreditOverride {
        CreditOverride {
            id: Uuid::new_v4(),
            order_id: Uuid::nil(),
            customer_id: Uuid::nil(),
            currency: Currency::parse("CNY").unwrap(),
            amount_minor,
            reason: "特批".into(),
            expires_on,
            used_at: used.then_some(DateTime::UNIX_EPOCH),
            used_step: used.then(|| "confirmed".to_owned()),
            created_at: DateTime::UNIX_EPOCH,
            created_by: Uuid::nil(),
        }
    }

    fn judged(decision: CheckDecision) -> CreditCheck {
        CreditCheck {
            decision,
            reasons: vec![],
            limit_minor: None,
            exposure_minor: 0,
            available_minor: None,
            overdue_minor: 0,
        }
    }

    proptest! {
        /// Only a blocked check is let through, only by an override that covers the sale,
        /// the first such; the one used comes back used by the step, the check a warning.
        #[test]
        fn an_override_lets_a_block_through_once_and_only_when_it_covers(
            amount in 1i64..1_000,
            overrides in proptest::collection::vec((1i64..1_000, 0u64..4, proptest::bool::ANY), 0..5),
            blocked in proptest::bool::ANY,
        ) {
            let today = day("2026-12-02");
            let overrides: Vec<CreditOverride> = overrides
                .into_iter()
                .map(|(limit, days, used)| granted(limit, day("2026-11-30") + chrono::Days::new(days), used))
                .collect();
            let decision = if blocked { CheckDecision::Block } else { CheckDecision::Allow };
            let at = DateTime::UNIX_EPOCH;
            let (check, used) = let_through(judged(decision), &overrides, amount, "shipped", today, at);
            let first = overrides.iter().find(|o| o.covers(amount, today));
            match (blocked, first) {
                (true, Some(first)) => {
                    let used = used.expect("a covering override is used");
                    prop_assert_eq!(used.id, first.id);
                    prop_assert_eq!(used.used_step.as_deref(), Some("shipped"));
                    prop_assert_eq!(check.decision, CheckDecision::Warn);
                    prop_assert!(!used.covers(amount, today));
                }
                _ => {
                    prop_assert!(used.is_none());
                    prop_assert_eq!(check.decision, decision);
                }
            }
        }
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn an_override_has_an_amount_a_reason_and_a_day_to_come() {
        let input = CreditOverrideInput {
            order_id: Uuid::nil(),
            amount_minor: 0,
            reason: " ".into(),
            expires_on: day("2026-12-01"),
        };
        let fields: Vec<String> = input
            .validate(day("2026-12-02"))
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["amount_minor", "reason", "expires_on"]);
    }

    #[test]
    fn an_override_covers_once_until_it_expires_up_to_its_amount() {
        let mut granted = CreditOverride {
            id: Uuid::nil(),
            order_id: Uuid::nil(),
            customer_id: Uuid::nil(),
            currency: Currency::parse("CNY").unwrap(),
            amount_minor: 100,
            reason: "特批".into(),
            expires_on: day("2026-12-31"),
            used_at: None,
            used_step: None,
            created_at: DateTime::UNIX_EPOCH,
            created_by: Uuid::nil(),
        };
        assert!(granted.covers(100, day("2026-12-31")));
        assert!(!granted.covers(101, day("2026-12-02")));
        assert!(!granted.covers(1, day("2027-01-01")));
        let blocked = CreditCheck {
            decision: CheckDecision::Block,
            reasons: vec![CheckReason {
                code: ReasonCode::NoAgreement,
                message: "none".into(),
            }],
            limit_minor: None,
            exposure_minor: 0,
            available_minor: None,
            overdue_minor: 0,
        };
        let through = granted.apply(blocked);
        assert_eq!(through.decision, CheckDecision::Warn);
        let codes: Vec<ReasonCode> = through.reasons.iter().map(|r| r.code).collect();
        assert_eq!(codes, [ReasonCode::NoAgreement, ReasonCode::OverrideUsed]);
        granted.used_at = Some(DateTime::UNIX_EPOCH);
        assert!(!granted.covers(1, day("2026-12-02")));
    }
}
