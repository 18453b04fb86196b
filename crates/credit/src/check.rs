//! The credit check every order passes at `confirm` and `ship`, and that clients ask before
//! they sell (seed 004: a sale on credit stays within the customer's line; a customer on
//! hold or on the warning list gets no more goods on credit).

use chrono::{DateTime, NaiveDate, Utc};
use credo_core::date::{overdue_for, MONTH_OVERDUE_DAYS};
use credo_core::{string_enum, FieldCode, FieldError, FieldErrors};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::agreement::{Agreement, Standing};
use crate::number::share_of;

string_enum! {
    /// What the check says: go, go with a warning, or stop (the step is refused).
    pub enum CheckDecision {
        Allow = "allow",
        Warn = "warn",
        Block = "block",
    }
}

string_enum! {
    /// When a sale is checked: when the order is confirmed, or when the goods leave.
    pub enum Stage {
        Order = "order",
        Shipment = "shipment",
    }
}

string_enum! {
    /// Why a check warned or blocked.
    pub enum ReasonCode {
        /// No line in force in the currency (blocks).
        NoAgreement = "no_agreement",
        /// The line ran out (blocks until renewed).
        RatingExpired = "rating_expired",
        /// Over the available amount, within the tolerance (warns).
        OverLimit = "over_limit",
        /// Over the available amount beyond the tolerance (blocks).
        OverLimitBeyondTolerance = "over_limit_beyond_tolerance",
        /// Something is overdue (warns).
        Overdue = "overdue",
        /// An item is overdue longer than the policy allows (blocks).
        OverdueBeyondThreshold = "overdue_beyond_threshold",
        /// Dunning reached a level with a credit warning (warns).
        CreditWarning = "credit_warning",
        /// Dunning reached a level that holds credit (blocks).
        CreditHold = "credit_hold",
        /// The customer is on the warning list (blocks).
        Blacklisted = "blacklisted",
        /// A green-channel application waits for its evaluation: sold before it (warns).
        GreenChannelPending = "green_channel_pending",
        /// The sale would take the customer past what its green-channel application asked
        /// for (within the policy's cap) before the evaluation (blocks).
        GreenChannelExceeded = "green_channel_exceeded",
        /// A credit override let this order through (the reasons it overrode stay listed).
        OverrideUsed = "override_used",
    }
}

impl ReasonCode {
    /// What the reason does at `stage`: a credit hold stops shipments (seed 004's written
    /// demand) and only warns when an order is taken.
    fn decision(self, stage: Stage) -> CheckDecision {
        use ReasonCode::*;
        match self {
            CreditHold if stage == Stage::Order => CheckDecision::Warn,
            NoAgreement
            | RatingExpired
            | OverLimitBeyondTolerance
            | OverdueBeyondThreshold
            | CreditHold
            | Blacklisted
            | GreenChannelExceeded => CheckDecision::Block,
            OverLimit | Overdue | CreditWarning | GreenChannelPending | OverrideUsed => {
                CheckDecision::Warn
            }
        }
    }
}

/// Why a check warned or blocked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CheckReason {
    pub code: ReasonCode,
    #[schema(example = "the amount exceeds the available 120000 by 30000, within the tolerance")]
    pub message: String,
}

/// How strict the check is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckPolicy {
    /// How far over the available amount a sale only warns, as a share of the limit in
    /// basis points (1000 = 10 %).
    #[schema(example = 1000, minimum = 0, maximum = 10000)]
    pub tolerance_bp: u32,
    /// An item this many days overdue blocks (by default 30: "a month overdue", the day the
    /// dunning timeline reaches its blacklist level); anything less overdue warns.
    #[schema(example = 30, minimum = 0, maximum = 3650)]
    pub overdue_block_days: i64,
    /// Limit use above this share (basis points) raises an early-warning alert.
    #[schema(example = 9000, minimum = 0, maximum = 10000)]
    pub alert_use_bp: u32,
    /// The most a green-channel application lets a customer owe before its evaluation, in
    /// major units of the company currency (less when it asked for less).
    #[serde(default = "default_green_channel_up_to_major")]
    #[schema(example = 1_000_000, minimum = 0)]
    pub green_channel_up_to_major: i64,
}

fn default_green_channel_up_to_major() -> i64 {
    1_000_000
}

impl Default for CheckPolicy {
    fn default() -> Self {
        Self {
            tolerance_bp: 1_000,
            overdue_block_days: i64::from(MONTH_OVERDUE_DAYS),
            alert_use_bp: 9_000,
            green_channel_up_to_major: default_green_channel_up_to_major(),
        }
    }
}

impl CheckPolicy {
    pub fn check(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        for (field, value) in [
            ("tolerance_bp", self.tolerance_bp),
            ("alert_use_bp", self.alert_use_bp),
        ] {
            if value > 10_000 {
                errors.push(FieldError::new(
                    field,
                    FieldCode::OutOfRange,
                    "a share is 0 to 10000 basis points",
                ));
            }
        }
        if !(0..=3650).contains(&self.overdue_block_days) {
            errors.push(FieldError::new(
                "overdue_block_days",
                FieldCode::OutOfRange,
                "0 to 3650 days",
            ));
        }
        if !(0..=crate::application::MAX_APPROVAL_MAJOR).contains(&self.green_channel_up_to_major) {
            errors.push(FieldError::new(
                "green_channel_up_to_major",
                FieldCode::OutOfRange,
                format!("0 to {}", crate::application::MAX_APPROVAL_MAJOR),
            ));
        }
        errors.finish(|| ())
    }
}

/// What a customer owes and has ordered on credit in one currency.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Exposure {
    /// What its items have open.
    pub open_receivables_minor: i64,
    /// The credit part of its confirmed orders not yet invoiced.
    pub uninvoiced_orders_minor: i64,
}

impl Exposure {
    /// Open receivables plus confirmed orders not yet invoiced: the one definition of
    /// exposure.
    pub fn total(&self) -> i64 {
        self.open_receivables_minor
            .saturating_add(self.uninvoiced_orders_minor)
    }
}

/// The facts of a customer a sale is judged on, read under its row lock.
#[derive(Debug, Clone, Default)]
pub struct CheckFacts {
    /// The customer's active line in the sale's currency.
    pub agreement: Option<Agreement>,
    pub exposure: Exposure,
    /// What its items in the sale's currency have open past their due day.
    pub overdue_minor: i64,
    /// The due day of its oldest overdue item, in any currency.
    pub oldest_overdue_due_on: Option<NaiveDate>,
    /// Dunning reached a level with a credit warning on an item still open.
    pub credit_warning: bool,
    /// Dunning reached a level that holds credit on an item still open.
    pub credit_hold: bool,
    /// On the warning list: since when.
    pub blacklisted_since: Option<NaiveDate>,
    /// A green-channel application in the sale's currency, acknowledged by the head of its
    /// sales unit, waits for its evaluation: what it lets the customer owe until then (its
    /// request, within the policy's cap).
    pub green_channel_minor: Option<i64>,
}

/// A check's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CreditCheck {
    pub decision: CheckDecision,
    /// Every reason found, the blocking ones first.
    pub reasons: Vec<CheckReason>,
    /// The line in force; `null` without one.
    #[schema(required = true, example = 100_000_000)]
    pub limit_minor: Option<i64>,
    /// Open receivables plus confirmed orders not yet invoiced, before this sale.
    /// (Checks kept on orders before the credit module read as 0.)
    #[serde(default)]
    #[schema(required = true, example = 70_000_000)]
    pub exposure_minor: i64,
    /// Limit less exposure (negative when over); `null` without a line.
    #[schema(required = true, example = 30_000_000)]
    pub available_minor: Option<i64>,
    /// Open past the due day, in the sale's currency.
    #[serde(default)]
    #[schema(required = true, example = 0)]
    pub overdue_minor: i64,
}

fn reason(code: ReasonCode, message: String) -> CheckReason {
    CheckReason { code, message }
}

/// Judges a sale of `amount_minor` on credit (the part not prepaid) at `stage` on `today`.
pub fn check(
    amount_minor: i64,
    stage: Stage,
    facts: &CheckFacts,
    policy: &CheckPolicy,
    today: NaiveDate,
) -> CreditCheck {
    let exposure_minor = facts.exposure.total();
    let in_force = facts
        .agreement
        .as_ref()
        .filter(|a| a.standing(today) == Standing::InForce);
    let limit_minor = in_force.map(|a| a.limit_minor);
    let available_minor = limit_minor.map(|limit| limit.saturating_sub(exposure_minor));
    let mut reasons = Vec::new();
    // A fully prepaid sale risks nothing: no line needed, nothing to stop.
    if amount_minor > 0 {
        if let Some(since) = facts.blacklisted_since {
            reasons.push(reason(
                ReasonCode::Blacklisted,
                format!("the customer is on the warning list since {since}"),
            ));
        }
        if facts.credit_hold {
            reasons.push(reason(
                ReasonCode::CreditHold,
                "dunning holds the customer's credit: no shipments until the overdue items are \
                 settled"
                    .into(),
            ));
        }
        if let Some(oldest) = facts.oldest_overdue_due_on {
            let days = (today - oldest).num_days();
            let threshold = u32::try_from(policy.overdue_block_days).unwrap_or(0);
            if overdue_for(oldest, today, threshold) {
                reasons.push(reason(
                    ReasonCode::OverdueBeyondThreshold,
                    format!("an item is {days} days overdue, {threshold} or more block"),
                ));
            } else {
                reasons.push(reason(
                    ReasonCode::Overdue,
                    format!("an item is {days} days overdue"),
                ));
            }
        }
        if facts.credit_warning {
            reasons.push(reason(
                ReasonCode::CreditWarning,
                "dunning recorded a credit warning on an open item".into(),
            ));
        }
        match (in_force, available_minor) {
            (Some(agreement), Some(available)) => {
                let over = amount_minor.saturating_sub(available);
                let tolerance = share_of(agreement.limit_minor, policy.tolerance_bp);
                if over > tolerance {
                    reasons.push(reason(
                        ReasonCode::OverLimitBeyondTolerance,
                        format!(
                            "the amount exceeds the available {available} by {over}, more than \
                             the tolerance of {tolerance}"
                        ),
                    ));
                } else if over > 0 {
                    reasons.push(reason(
                        ReasonCode::OverLimit,
                        format!(
                            "the amount exceeds the available {available} by {over}, within the \
                             tolerance of {tolerance}"
                        ),
                    ));
                }
            }
            _ if facts.green_channel_minor.is_some() => {
                let room = facts
                    .green_channel_minor
                    .unwrap_or(0)
                    .saturating_sub(exposure_minor);
                reasons.push(if amount_minor > room {
                    reason(
                        ReasonCode::GreenChannelExceeded,
                        format!(
                            "the green channel lets the customer owe {room} more before the \
                             evaluation"
                        ),
                    )
                } else {
                    reason(
                        ReasonCode::GreenChannelPending,
                        "sold on a green-channel application before its evaluation".into(),
                    )
                })
            }
            _ => match facts.agreement.as_ref().map(|a| (a.standing(today), a)) {
                Some((Standing::Expired, agreement)) => reasons.push(reason(
                    ReasonCode::RatingExpired,
                    format!(
                        "the line and its rating expired on {}; renew it",
                        agreement.valid_to
                    ),
                )),
                _ => reasons.push(reason(
                    ReasonCode::NoAgreement,
                    "the customer has no credit line in force in this currency".into(),
                )),
            },
        }
    }
    reasons.sort_by_key(|r| std::cmp::Reverse(r.code.decision(stage) as u8));
    let decision = reasons
        .iter()
        .map(|r| r.code.decision(stage))
        .max_by_key(|d| *d as u8)
        .unwrap_or(CheckDecision::Allow);
    CreditCheck {
        decision,
        reasons,
        limit_minor,
        exposure_minor,
        available_minor,
        overdue_minor: facts.overdue_minor,
    }
}

/// The part of an order of `amount_minor` sold on credit: what the prepayment (rounded
/// half up) leaves.
pub fn credit_part(amount_minor: i64, prepayment_bp: i64) -> i64 {
    let prepaid = share_of(
        amount_minor,
        u32::try_from(prepayment_bp.clamp(0, 10_000)).unwrap_or(0),
    );
    amount_minor - prepaid
}

/// The check a step of an order passed, kept on the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StepCheck {
    /// The step that was checked: `confirmed` or `shipped`.
    #[schema(example = "confirmed")]
    pub step: String,
    #[serde(flatten)]
    pub check: CreditCheck,
    /// The part of the order sold on credit: what was checked.
    #[serde(default)]
    #[schema(example = 63_000_000)]
    pub amount_minor: i64,
    /// The credit override that let the order through, when one did.
    #[serde(default)]
    #[schema(required = true)]
    pub override_id: Option<Uuid>,
    pub checked_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agreement::{AgreementSource, AgreementStatus};
    use credo_core::Currency;
    use proptest::prelude::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    const TODAY: &str = "2026-12-02";

    fn line(limit_minor: i64) -> Agreement {
        Agreement {
            id: Uuid::nil(),
            customer_id: Uuid::nil(),
            currency: Currency::parse("CNY").unwrap(),
            limit_minor,
            term_days: 60,
            valid_from: day("2026-01-01"),
            valid_to: day("2026-12-31"),
            guarantees: vec![],
            source: AgreementSource::CarriedOver,
            application_id: None,
            evaluation_id: None,
            rating: None,
            reason: None,
            status: AgreementStatus::Active,
            ended_by: None,
            ended_at: None,
            end_reason: None,
            created_at: DateTime::UNIX_EPOCH,
            created_by: Uuid::nil(),
        }
    }

    fn with_line(limit: i64, open: i64, ordered: i64) -> CheckFacts {
        CheckFacts {
            agreement: Some(line(limit)),
            exposure: Exposure {
                open_receivables_minor: open,
                uninvoiced_orders_minor: ordered,
            },
            ..CheckFacts::default()
        }
    }

    fn judge(amount: i64, facts: &CheckFacts) -> CreditCheck {
        check(
            amount,
            Stage::Shipment,
            facts,
            &CheckPolicy::default(),
            day(TODAY),
        )
    }

    fn codes(check: &CreditCheck) -> Vec<ReasonCode> {
        check.reasons.iter().map(|r| r.code).collect()
    }

    #[test]
    fn stored_names_are_the_wire_names() {
        assert!(CheckDecision::names_agree_with_serde());
        assert!(Stage::names_agree_with_serde());
        assert!(ReasonCode::names_agree_with_serde());
    }

    #[test]
    fn within_the_available_amount_allows_within_a_tenth_of_the_limit_warns() {
        // Limit 1,000; exposure 600 + 100: 300 available, tolerance 100.
        let facts = with_line(1_000, 600, 100);
        let allowed = judge(300, &facts);
        assert_eq!(allowed.decision, CheckDecision::Allow);
        assert_eq!(
            (
                allowed.limit_minor,
                allowed.exposure_minor,
                allowed.available_minor
            ),
            (Some(1_000), 700, Some(300))
        );
        let warned = judge(400, &facts);
        assert_eq!(warned.decision, CheckDecision::Warn);
        assert_eq!(codes(&warned), [ReasonCode::OverLimit]);
        let blocked = judge(401, &facts);
        assert_eq!(blocked.decision, CheckDecision::Block);
        assert_eq!(codes(&blocked), [ReasonCode::OverLimitBeyondTolerance]);
    }

    #[test]
    fn no_line_blocks_unless_prepaid_or_on_the_green_channel() {
        let none = CheckFacts::default();
        assert_eq!(codes(&judge(1, &none)), [ReasonCode::NoAgreement]);
        let prepaid = judge(0, &none);
        assert_eq!(prepaid.decision, CheckDecision::Allow);
        assert_eq!(prepaid.limit_minor, None);
        let green = CheckFacts {
            green_channel_minor: Some(1_000),
            exposure: Exposure {
                open_receivables_minor: 300,
                uninvoiced_orders_minor: 200,
            },
            ..CheckFacts::default()
        };
        let check = judge(500, &green);
        assert_eq!(check.decision, CheckDecision::Warn);
        assert_eq!(codes(&check), [ReasonCode::GreenChannelPending]);
        // Past what the application asked for: blocked, as without a line.
        let check = judge(501, &green);
        assert_eq!(check.decision, CheckDecision::Block);
        assert_eq!(codes(&check), [ReasonCode::GreenChannelExceeded]);
    }

    #[test]
    fn an_expired_line_blocks_as_an_expired_rating_a_future_one_as_none() {
        let mut facts = with_line(1_000, 0, 0);
        facts.agreement.as_mut().unwrap().valid_to = day("2026-12-01");
        let check = judge(1, &facts);
        assert_eq!(codes(&check), [ReasonCode::RatingExpired]);
        assert_eq!((check.limit_minor, check.available_minor), (None, None));
        facts.agreement.as_mut().unwrap().valid_from = day("2026-12-03");
        facts.agreement.as_mut().unwrap().valid_to = day("2027-12-01");
        assert_eq!(codes(&judge(1, &facts)), [ReasonCode::NoAgreement]);
    }

    #[test]
    fn holds_blacklists_and_long_overdue_items_block_the_blocking_reasons_first() {
        let mut facts = with_line(1_000, 0, 0);
        facts.credit_warning = true;
        // 29 days overdue warns; 30 (a month overdue) blocks.
        facts.oldest_overdue_due_on = Some(day("2026-11-03"));
        facts.overdue_minor = 50;
        let check = judge(1, &facts);
        assert_eq!(check.decision, CheckDecision::Warn);
        assert_eq!(
            codes(&check),
            [ReasonCode::Overdue, ReasonCode::CreditWarning]
        );
        assert_eq!(check.overdue_minor, 50);
        facts.oldest_overdue_due_on = Some(day("2026-11-02"));
        facts.credit_hold = true;
        facts.blacklisted_since = Some(day("2026-11-30"));
        let check = judge(1, &facts);
        assert_eq!(check.decision, CheckDecision::Block);
        assert_eq!(
            codes(&check),
            [
                ReasonCode::Blacklisted,
                ReasonCode::CreditHold,
                ReasonCode::OverdueBeyondThreshold,
                ReasonCode::CreditWarning
            ]
        );
        assert_eq!(judge(0, &facts).decision, CheckDecision::Allow);
    }

    #[test]
    fn a_credit_hold_stops_shipments_and_warns_on_orders() {
        let mut facts = with_line(1_000, 0, 0);
        facts.credit_hold = true;
        assert_eq!(judge(1, &facts).decision, CheckDecision::Block);
        let at_order = check(1, Stage::Order, &facts, &CheckPolicy::default(), day(TODAY));
        assert_eq!(at_order.decision, CheckDecision::Warn);
        assert_eq!(codes(&at_order), [ReasonCode::CreditHold]);
    }

    #[test]
    fn the_credit_part_is_what_the_prepayment_leaves() {
        assert_eq!(credit_part(1_000, 3_000), 700);
        assert_eq!(credit_part(1_000, 10_000), 0);
        assert_eq!(credit_part(1_000, 0), 1_000);
        // 30 % of 5 is 1.5, prepaid 2.
        assert_eq!(credit_part(5, 3_000), 3);
    }

    #[test]
    fn a_step_check_reads_the_checks_kept_before_the_credit_module() {
        let old = serde_json::json!({"step": "confirmed", "decision": "allow", "reasons": [],
            "open_orders_minor": 250, "exposure_after_minor": 350,
            "checked_at": "2026-01-10T00:00:00Z"});
        let kept: StepCheck = serde_json::from_value(old).unwrap();
        assert_eq!(kept.check.decision, CheckDecision::Allow);
        assert_eq!((kept.amount_minor, kept.override_id), (0, None));
    }

    proptest! {
        #[test]
        fn more_exposure_never_makes_a_sale_safer(
            limit in 0..1_000_000_i64,
            exposure in 0..1_000_000_i64,
            more in 0..1_000_000_i64,
            amount in 1..1_000_000_i64,
        ) {
            let before = judge(amount, &with_line(limit, exposure, 0)).decision;
            let after = judge(amount, &with_line(limit, exposure, more)).decision;
            prop_assert!(after as u8 >= before as u8);
        }
    }
}
