//! Lease schedules (seed 000: contracts of about three years paid monthly): an annuity of
//! equal monthly instalments of principal and interest, rounded to the minor unit so that the
//! principal parts sum exactly to the principal.

use chrono::{Months, NaiveDate};
use credo_core::date::not_in_future;
use credo_core::money::MAX_MINOR;
use credo_core::text::required_text;
use credo_core::{Currency, FieldCode, FieldError, FieldErrors, Money};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::ledger::{positive_amount, NewReceivable, REFERENCE_MAX};

/// The longest lease taken, in months (ten years).
pub const MAX_MONTHS: u32 = 120;
/// The highest annual rate taken, in basis points (100 %).
pub const MAX_RATE_BP: u32 = 10_000;

/// A lease to bill as a schedule of monthly open items.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeaseInput {
    pub customer_id: Uuid,
    /// An active ISO 4217 code (case-insensitive).
    #[schema(value_type = String, example = "CNY", pattern = "^[A-Za-z]{3}$")]
    pub currency: String,
    /// The amount financed, in minor units.
    #[schema(example = 36_000_000, minimum = 1, maximum = 9_007_199_254_740_991_i64)]
    pub principal_minor: i64,
    /// The nominal annual interest rate in basis points (600 = 6 %), compounded monthly.
    #[schema(example = 600, minimum = 0, maximum = 10000)]
    pub annual_rate_bp: u32,
    /// The number of monthly instalments.
    #[schema(example = 36, minimum = 1, maximum = 120)]
    pub months: u32,
    /// The first instalment's due day; each next one a month later (the month's last day
    /// where it is shorter).
    #[schema(example = "2027-01-31")]
    pub first_due_on: NaiveDate,
    /// The contract day the items are issued on: today or earlier (default today), on or
    /// before the first due day.
    #[schema(example = "2026-12-01")]
    pub signed_on: Option<NaiveDate>,
    /// The contract number; instalment k is its item `REFERENCE/k`.
    #[schema(example = "LEASE-2026-007", min_length = 1, max_length = 90)]
    pub reference: String,
}

/// One instalment of a schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct Instalment {
    /// 1 for the first.
    pub number: u32,
    pub due_on: NaiveDate,
    pub principal_minor: i64,
    pub interest_minor: i64,
    /// Principal and interest.
    pub amount_minor: i64,
}

/// The instalments of an annuity of `principal_minor` over `months` at `annual_rate_bp`:
/// each month's interest is the balance times the monthly rate and the payment is equal
/// every month, both rounded half up to the minor unit; the last instalment repays what
/// principal is left, so the principal parts sum to the principal exactly.
pub fn annuity(principal_minor: i64, annual_rate_bp: u32, months: u32) -> Vec<(i64, i64)> {
    assert!(months >= 1, "a schedule has an instalment");
    let round = |value: Decimal| {
        value
            .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)
            .to_i64()
            .expect("within the amount")
    };
    let principal = Decimal::from(principal_minor);
    let rate = Decimal::from(annual_rate_bp) / Decimal::from(120_000);
    let payment = if rate.is_zero() {
        round(principal / Decimal::from(months))
    } else {
        let growth = (0..months).fold(Decimal::ONE, |acc, _| acc * (Decimal::ONE + rate));
        round(principal * rate * growth / (growth - Decimal::ONE))
    };
    let mut balance = principal_minor;
    (1..=months)
        .map(|number| {
            let interest = round(Decimal::from(balance) * rate);
            let repaid = if number == months {
                balance
            } else {
                (payment - interest).clamp(0, balance)
            };
            balance -= repaid;
            (repaid, interest)
        })
        .collect()
}

/// A valid lease: its instalments with their days, and the open item of each.
#[derive(Debug, Clone, PartialEq)]
pub struct LeaseSchedule {
    pub instalments: Vec<Instalment>,
    pub items: Vec<NewReceivable>,
}

impl LeaseInput {
    pub fn validate(&self, today: NaiveDate) -> Result<LeaseSchedule, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let currency = errors.check("currency", Currency::parse(&self.currency));
        positive_amount(&mut errors, "principal_minor", self.principal_minor);
        if self.annual_rate_bp > MAX_RATE_BP {
            errors.push(FieldError::new(
                "annual_rate_bp",
                FieldCode::OutOfRange,
                "a rate is 0 to 10000 basis points",
            ));
        }
        if !(1..=MAX_MONTHS).contains(&self.months) {
            errors.push(FieldError::new(
                "months",
                FieldCode::OutOfRange,
                format!("a lease runs 1 to {MAX_MONTHS} months"),
            ));
        }
        let signed_on = errors.check(
            "signed_on",
            not_in_future(self.signed_on.unwrap_or(today), today),
        );
        if signed_on.is_some_and(|signed| self.first_due_on < signed) {
            errors.push(FieldError::new(
                "first_due_on",
                FieldCode::BeforeEarlierDate,
                "the first instalment falls due on or after the contract day",
            ));
        }
        // Room for "/120" after the contract number within an item's reference.
        let reference = errors.check(
            "reference",
            required_text(&self.reference, REFERENCE_MAX - 10),
        );
        let (Some(currency), Some(signed_on), Some(reference), true) =
            (currency, signed_on, reference, errors.is_empty())
        else {
            return Err(errors.into_vec());
        };
        let mut instalments = Vec::with_capacity(self.months as usize);
        for (at, (principal_minor, interest_minor)) in
            annuity(self.principal_minor, self.annual_rate_bp, self.months)
                .into_iter()
                .enumerate()
        {
            let number = at as u32 + 1;
            let due_on = self.first_due_on.checked_add_months(Months::new(at as u32));
            let amount_minor = principal_minor
                .checked_add(interest_minor)
                .filter(|a| *a <= MAX_MINOR);
            let (Some(due_on), Some(amount_minor)) = (due_on, amount_minor) else {
                return Err(vec![FieldError::new(
                    "principal_minor",
                    FieldCode::TooLarge,
                    "the schedule runs beyond the amounts or days this server keeps",
                )]);
            };
            instalments.push(Instalment {
                number,
                due_on,
                principal_minor,
                interest_minor,
                amount_minor,
            });
        }
        let items = instalments
            .iter()
            .filter(|instalment| instalment.amount_minor > 0)
            .map(|instalment| NewReceivable {
                customer_id: self.customer_id,
                amount: Money::new(instalment.amount_minor, currency),
                issued_on: signed_on,
                due_on: instalment.due_on,
                reference: format!("{reference}/{}", instalment.number),
                order_id: None,
                shipped_on: None,
            })
            .collect();
        Ok(LeaseSchedule { instalments, items })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_three_year_lease_at_six_percent_pays_the_textbook_instalment() {
        // 360,000.00 over 36 months at 6 % a year: 360000 * 0.005 / (1 - 1.005^-36) =
        // 10,951.897... a month, 10,951.90 rounded.
        let schedule = annuity(36_000_000, 600, 36);
        assert_eq!(schedule.len(), 36);
        assert_eq!(schedule[0], (915_190, 180_000));
        assert!(schedule[..35].iter().all(|(p, i)| p + i == 1_095_190));
        assert_eq!(schedule.iter().map(|(p, _)| p).sum::<i64>(), 36_000_000);
    }

    #[test]
    fn without_interest_the_principal_is_split_and_the_last_takes_the_rest() {
        assert_eq!(annuity(100, 0, 3), [(33, 0), (33, 0), (34, 0)]);
    }

    #[test]
    fn instalments_fall_due_monthly_at_the_end_of_shorter_months() {
        let lease = LeaseInput {
            customer_id: Uuid::nil(),
            currency: "CNY".into(),
            principal_minor: 300,
            annual_rate_bp: 0,
            months: 3,
            first_due_on: "2027-01-31".parse().unwrap(),
            signed_on: None,
            reference: "L-1".into(),
        };
        let schedule = lease.validate("2026-12-01".parse().unwrap()).unwrap();
        let days: Vec<String> = schedule
            .items
            .iter()
            .map(|i| i.due_on.to_string())
            .collect();
        assert_eq!(days, ["2027-01-31", "2027-02-28", "2027-03-31"]);
        let references: Vec<&str> = schedule
            .items
            .iter()
            .map(|i| i.reference.as_str())
            .collect();
        assert_eq!(references, ["L-1/1", "L-1/2", "L-1/3"]);
    }

    proptest! {
        /// The principal parts sum to the principal exactly, no part is negative, and every
        /// instalment but the last is the same payment.
        #[test]
        fn principal_parts_sum_exactly(principal in 1i64..1_000_000_000_000, rate in 0u32..=MAX_RATE_BP, months in 1u32..=MAX_MONTHS) {
            let schedule = annuity(principal, rate, months);
            prop_assert_eq!(schedule.len(), months as usize);
            prop_assert_eq!(schedule.iter().map(|(p, _)| p).sum::<i64>(), principal);
            prop_assert!(schedule.iter().all(|(p, i)| *p >= 0 && *i >= 0));
            // A principal smaller than the months leaves instalments of nothing but interest.
            if principal >= i64::from(months) * 100 {
                let payments: Vec<i64> = schedule[..schedule.len() - 1].iter().map(|(p, i)| p + i).collect();
                prop_assert!(payments.windows(2).all(|w| w[0] == w[1]), "{:?}", payments);
            }
        }
    }
}
