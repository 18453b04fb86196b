//! The check an order's `confirm` and `ship` steps pass, decided on the customer's facts as
//! read with its row locked (so two steps of one customer are judged one after the other).
//! Today it weighs what the customer has open in orders and lets every step through; the
//! credit module adds limits, holds and blacklists to the facts and to the rule.

use chrono::{DateTime, Utc};
use credo_core::string_enum;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

string_enum! {
    /// What the check says: go, go with a warning, or stop (the step is refused).
    pub enum CheckDecision {
        Allow = "allow",
        Warn = "warn",
        Block = "block",
    }
}

/// Why a check warned or blocked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CheckReason {
    #[schema(example = "over_limit")]
    pub code: String,
    pub message: String,
}

/// The facts of the customer a step is judged on, read under its row lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CustomerFacts {
    /// The customer's other orders confirmed and not yet invoiced, in this order's currency.
    pub open_orders_minor: i64,
}

/// The check a step passed, kept on the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StepCheck {
    /// The step that was checked: `confirmed` or `shipped`.
    #[schema(example = "confirmed")]
    pub step: String,
    pub decision: CheckDecision,
    pub reasons: Vec<CheckReason>,
    /// What the customer had open in other orders (this order's currency) when checked.
    #[schema(example = 250000)]
    pub open_orders_minor: i64,
    /// With this order: what the customer has open once the step is taken.
    #[schema(example = 350000)]
    pub exposure_after_minor: i64,
    pub checked_at: DateTime<Utc>,
}

/// Judges a step of an order of `amount_minor`: the rule every `confirm` and `ship` passes.
pub fn judge_step(
    step: &str,
    amount_minor: i64,
    facts: CustomerFacts,
    now: DateTime<Utc>,
) -> StepCheck {
    StepCheck {
        step: step.to_owned(),
        decision: CheckDecision::Allow,
        reasons: Vec::new(),
        open_orders_minor: facts.open_orders_minor,
        exposure_after_minor: facts.open_orders_minor.saturating_add(amount_minor),
        checked_at: now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_are_the_wire_names() {
        assert!(CheckDecision::names_agree_with_serde());
    }

    #[test]
    fn a_step_adds_its_order_to_what_is_open() {
        let now = DateTime::<Utc>::default();
        let check = judge_step(
            "confirmed",
            100,
            CustomerFacts {
                open_orders_minor: 250,
            },
            now,
        );
        assert_eq!(check.decision, CheckDecision::Allow);
        assert_eq!(
            (check.open_orders_minor, check.exposure_after_minor),
            (250, 350)
        );
        let full = CustomerFacts {
            open_orders_minor: i64::MAX,
        };
        assert_eq!(
            judge_step("shipped", 1, full, now).exposure_after_minor,
            i64::MAX
        );
    }
}
