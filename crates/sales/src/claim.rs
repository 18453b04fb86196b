//! Claims against delivered orders (seed 001 indicator 12: fewer and fairer claims score
//! higher), each decided once: accepted with a settlement, or rejected.

use chrono::{DateTime, NaiveDate, Utc};
use credo_core::date::{not_before, not_in_future};
use credo_core::text::{clean_text, required_text};
use credo_core::{string_enum, FieldCode, FieldError, FieldErrors, Money};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::order::{OrderStatus, MAX_UNIT_AMOUNT};

string_enum! {
    pub enum ClaimStatus {
        Open = "open",
        Accepted = "accepted",
        Rejected = "rejected",
    }
}

/// A claim as the customer raises it, in the order's currency.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimInput {
    /// Claimed amount in minor units of the order's currency, more than zero.
    #[schema(example = 1_200_000, minimum = 1, maximum = 10_000_000_000_000_i64)]
    pub amount_minor: i64,
    #[schema(
        example = "两台设备运输途中外壳受损",
        min_length = 1,
        max_length = 2000
    )]
    pub reason: String,
    /// Defaults to today.
    pub raised_on: Option<NaiveDate>,
}

/// A valid new claim.
#[derive(Debug, Clone, PartialEq)]
pub struct NewClaim {
    pub amount_minor: i64,
    pub reason: String,
    pub raised_on: NaiveDate,
}

impl ClaimInput {
    /// A claim against goods shipped on `shipped_on`.
    pub fn validate(
        &self,
        shipped_on: NaiveDate,
        today: NaiveDate,
    ) -> Result<NewClaim, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        if !(1..=MAX_UNIT_AMOUNT).contains(&self.amount_minor) {
            errors.push(FieldError::new(
                "amount_minor",
                FieldCode::OutOfRange,
                format!("a claim is 1 to {MAX_UNIT_AMOUNT} minor units"),
            ));
        }
        let reason = errors.check("reason", required_text(&self.reason, 2000));
        let raised_on = errors
            .check(
                "raised_on",
                not_in_future(self.raised_on.unwrap_or(today), today),
            )
            .and_then(|on| errors.check("raised_on", not_before(on, shipped_on, "the shipment")));
        errors.finish(|| NewClaim {
            amount_minor: self.amount_minor,
            reason: reason.expect("checked"),
            raised_on: raised_on.expect("checked"),
        })
    }
}

/// The decision on an open claim.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimDecisionInput {
    #[schema(example = true)]
    pub accepted: bool,
    /// On acceptance: the amount settled, at most the claim (default: all of it).
    #[schema(minimum = 0, example = 800000)]
    pub settled_amount_minor: Option<i64>,
    #[schema(
        example = "经第三方检验确认为运输损坏,按实际维修费赔付",
        max_length = 2000
    )]
    pub note: Option<String>,
}

/// A valid decision.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub status: ClaimStatus,
    pub settled_amount_minor: Option<i64>,
    pub note: Option<String>,
}

impl ClaimDecisionInput {
    pub fn validate(&self, claimed_minor: i64) -> Result<Decision, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let settled = match (self.accepted, self.settled_amount_minor) {
            (true, None) => Some(claimed_minor),
            (true, Some(amount)) if (0..=claimed_minor).contains(&amount) => Some(amount),
            (true, Some(_)) => {
                errors.push(FieldError::new(
                    "settled_amount_minor",
                    FieldCode::OutOfRange,
                    format!("the settlement is 0 to the claimed {claimed_minor}"),
                ));
                None
            }
            (false, Some(_)) => {
                errors.push(FieldError::new(
                    "settled_amount_minor",
                    FieldCode::NotApplicable,
                    "a rejected claim settles nothing",
                ));
                None
            }
            (false, None) => None,
        };
        let note = self
            .note
            .as_deref()
            .and_then(|n| errors.check("note", clean_text(n, 2000)).flatten());
        errors.finish(|| Decision {
            status: if self.accepted {
                ClaimStatus::Accepted
            } else {
                ClaimStatus::Rejected
            },
            settled_amount_minor: settled,
            note,
        })
    }
}

/// A claim as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Claim {
    pub id: Uuid,
    pub order_id: Uuid,
    pub customer_id: Uuid,
    pub amount: Money,
    pub reason: String,
    pub raised_on: NaiveDate,
    pub status: ClaimStatus,
    /// On accepted claims: what was paid or credited.
    pub settled_amount_minor: Option<i64>,
    pub decision_note: Option<String>,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTime<Utc>>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
}

impl Claim {
    /// What the claim holds against its order: all of it while open, the settlement once
    /// accepted, nothing once rejected.
    pub fn standing_minor(&self) -> i64 {
        match self.status {
            ClaimStatus::Open => self.amount.amount_minor,
            ClaimStatus::Accepted => self.settled_amount_minor.unwrap_or(0),
            ClaimStatus::Rejected => 0,
        }
    }
}

/// The day goods were delivered, from which an order takes claims: only a delivered order
/// (shipped or later) has one; otherwise its status, for the refusal.
pub fn claimable_since(
    status: OrderStatus,
    shipped_on: Option<NaiveDate>,
) -> Result<NaiveDate, OrderStatus> {
    match shipped_on {
        Some(day) if status.is_delivered() => Ok(day),
        _ => Err(status),
    }
}

/// Why a claim cannot be decided.
#[derive(Debug, Clone, PartialEq)]
pub enum DecisionRefusal {
    /// A claim is decided once.
    AlreadyDecided,
    /// Whoever raised a claim does not decide it.
    SamePerson,
}

impl Claim {
    /// Whether `decider` may decide the claim: an open claim, by someone other than who
    /// raised it.
    pub fn may_decide(&self, decider: Uuid) -> Result<(), DecisionRefusal> {
        if self.status != ClaimStatus::Open {
            Err(DecisionRefusal::AlreadyDecided)
        } else if self.created_by == decider {
            Err(DecisionRefusal::SamePerson)
        } else {
            Ok(())
        }
    }
}

/// Whether a new claim of `amount_minor` fits its order: the open and accepted claims of an
/// order never add up to more than the order's amount.
pub fn fits_order(order_minor: i64, claims: &[Claim], amount_minor: i64) -> Result<(), FieldError> {
    let standing: i128 = claims.iter().map(|c| i128::from(c.standing_minor())).sum();
    let headroom = i128::from(order_minor) - standing;
    if i128::from(amount_minor) <= headroom {
        Ok(())
    } else {
        Err(FieldError::new(
            "amount_minor",
            FieldCode::ExceedsOrder,
            format!(
                "the order's open and accepted claims may add up to its amount; {} minor units remain",
                headroom.max(0)
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Claims are taken exactly from delivery on, and decided once, never by who raised
        /// them.
        #[test]
        fn delivered_orders_take_claims_decided_once_by_someone_else(
            at in 0usize..OrderStatus::ALL.len(),
            shipped in proptest::option::of(0u64..100),
            status_at in 0usize..3,
            raiser in 0u128..3,
            decider in 0u128..3,
        ) {
            let status = OrderStatus::ALL[at];
            let shipped_on = shipped.map(|d| day("2026-01-01") + chrono::Days::new(d));
            match claimable_since(status, shipped_on) {
                Ok(since) => {
                    prop_assert!(status.is_delivered());
                    prop_assert_eq!(Some(since), shipped_on);
                }
                Err(refused) => {
                    prop_assert_eq!(refused, status);
                    prop_assert!(!status.is_delivered() || shipped_on.is_none());
                }
            }
            let claim = Claim {
                id: Uuid::nil(),
                order_id: Uuid::nil(),
                customer_id: Uuid::nil(),
                amount: Money::new(100, credo_core::Currency::parse("CNY").unwrap()),
                reason: "破损".into(),
                raised_on: day("2026-01-05"),
                status: ClaimStatus::ALL[status_at],
                settled_amount_minor: None,
                decision_note: None,
                decided_by: None,
                decided_at: None,
                created_by: Uuid::from_u128(raiser),
                created_at: DateTime::UNIX_EPOCH,
            };
            let decided = claim.may_decide(Uuid::from_u128(decider));
            prop_assert_eq!(
                decided.is_ok(),
                claim.status == ClaimStatus::Open && raiser != decider
            );
        }
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn stored_names_are_the_wire_names() {
        assert!(ClaimStatus::names_agree_with_serde());
    }

    #[test]
    fn claims_follow_the_shipment() {
        let input = ClaimInput {
            amount_minor: 100,
            reason: " damaged ".into(),
            raised_on: Some(day("2026-01-05")),
        };
        let errors = input
            .validate(day("2026-01-10"), day("2026-02-01"))
            .unwrap_err();
        assert_eq!(errors[0].code, FieldCode::BeforeEarlierDate);
        let ok = input
            .validate(day("2026-01-01"), day("2026-02-01"))
            .unwrap();
        assert_eq!(ok.reason, "damaged");
        let zero = ClaimInput {
            amount_minor: 0,
            reason: "".into(),
            raised_on: None,
        };
        let fields: Vec<_> = zero
            .validate(day("2026-01-01"), day("2026-02-01"))
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["amount_minor", "reason"]);
    }

    fn standing(status: ClaimStatus, amount: i64, settled: Option<i64>) -> Claim {
        Claim {
            id: Uuid::nil(),
            order_id: Uuid::nil(),
            customer_id: Uuid::nil(),
            amount: Money::new(amount, credo_core::Currency::parse("CNY").unwrap()),
            reason: "r".into(),
            raised_on: day("2026-01-01"),
            status,
            settled_amount_minor: settled,
            decision_note: None,
            decided_by: None,
            decided_at: None,
            created_by: Uuid::nil(),
            created_at: DateTime::<Utc>::default(),
        }
    }

    #[test]
    fn claims_never_add_up_to_more_than_the_order() {
        assert!(fits_order(100, &[], 100).is_ok());
        assert_eq!(
            fits_order(100, &[], 101).unwrap_err().code,
            FieldCode::ExceedsOrder
        );
        let claims = [
            standing(ClaimStatus::Open, 30, None),
            standing(ClaimStatus::Accepted, 50, Some(20)),
            standing(ClaimStatus::Rejected, 90, None),
        ];
        assert!(fits_order(100, &claims, 50).is_ok());
        assert!(fits_order(100, &claims, 51).is_err());
        assert!(fits_order(i64::MAX, &[standing(ClaimStatus::Open, i64::MAX, None)], 1).is_err());
    }

    #[test]
    fn decisions_settle_at_most_the_claim() {
        let decide = |accepted, settled| ClaimDecisionInput {
            accepted,
            settled_amount_minor: settled,
            note: None,
        };
        assert_eq!(
            decide(true, None)
                .validate(500)
                .unwrap()
                .settled_amount_minor,
            Some(500)
        );
        assert_eq!(
            decide(true, Some(200))
                .validate(500)
                .unwrap()
                .settled_amount_minor,
            Some(200)
        );
        assert!(decide(true, Some(501)).validate(500).is_err());
        assert!(decide(false, Some(1)).validate(500).is_err());
        let rejected = decide(false, None).validate(500).unwrap();
        assert_eq!(
            (rejected.status, rejected.settled_amount_minor),
            (ClaimStatus::Rejected, None)
        );
    }
}
