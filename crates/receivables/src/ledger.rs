//! The ledger's rules: what an open item, a payment and a reduction (allocation, credit note,
//! write-off) must be, what is open as of a day, and the decision that never lets the
//! reductions of an item exceed it nor the allocations of a payment exceed the payment.

use chrono::NaiveDate;
use credo_core::date::{not_before, not_in_future};
use credo_core::money::MAX_MINOR;
use credo_core::text::required_text;
use credo_core::{string_enum, Currency, FieldCode, FieldError, FieldErrors, Money};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// The longest reference (invoice, payment or document number) taken.
pub const REFERENCE_MAX: usize = 100;
/// The longest reason for a credit note or a write-off.
pub const REASON_MAX: usize = 2000;

string_enum! {
    /// What reduces an open item.
    pub enum ReductionKind {
        /// Part of a payment settles the item.
        Allocation = "allocation",
        /// The amount billed is lowered (a return, a price correction).
        CreditNote = "credit_note",
        /// The amount is given up as uncollectable.
        WriteOff = "write_off",
    }
}

/// An amount in minor units: more than zero and exact as a JavaScript number.
pub(crate) fn positive_amount(
    errors: &mut FieldErrors,
    field: &str,
    amount_minor: i64,
) -> Option<i64> {
    if (1..=MAX_MINOR).contains(&amount_minor) {
        Some(amount_minor)
    } else {
        errors.push(FieldError::new(
            field,
            FieldCode::OutOfRange,
            format!("an amount is 1 to {MAX_MINOR} minor units"),
        ));
        None
    }
}

/// An open item (an invoice) as a client or an ERP import posts it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceivableInput {
    pub customer_id: Uuid,
    /// An active ISO 4217 code (case-insensitive).
    #[schema(value_type = String, example = "CNY", pattern = "^[A-Za-z]{3}$")]
    pub currency: String,
    /// The amount billed, in minor units.
    #[schema(example = 31_500_000, minimum = 1, maximum = 9_007_199_254_740_991_i64)]
    pub amount_minor: i64,
    /// The invoice day: today or earlier.
    #[schema(example = "2026-10-15")]
    pub issued_on: NaiveDate,
    /// The day payment is due: on or after `issued_on`.
    #[schema(example = "2026-12-14")]
    pub due_on: NaiveDate,
    /// The invoice number; with the customer, it identifies the item (posting it again
    /// answers the item already posted).
    #[schema(example = "INV-2026-0815", min_length = 1, max_length = 100)]
    pub reference: String,
    /// The order billed, if any.
    pub order_id: Option<Uuid>,
    /// When the goods left (dunning's delivery check runs from here): today or earlier.
    #[schema(example = "2026-10-12")]
    pub shipped_on: Option<NaiveDate>,
}

/// A valid new open item.
#[derive(Debug, Clone, PartialEq)]
pub struct NewReceivable {
    pub customer_id: Uuid,
    pub amount: Money,
    pub issued_on: NaiveDate,
    pub due_on: NaiveDate,
    pub reference: String,
    pub order_id: Option<Uuid>,
    pub shipped_on: Option<NaiveDate>,
}

impl ReceivableInput {
    pub fn validate(&self, today: NaiveDate) -> Result<NewReceivable, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let currency = errors.check("currency", Currency::parse(&self.currency));
        let amount = positive_amount(&mut errors, "amount_minor", self.amount_minor);
        let issued_on = errors.check("issued_on", not_in_future(self.issued_on, today));
        let due_on = errors.check(
            "due_on",
            not_before(self.due_on, self.issued_on, "the invoice day"),
        );
        let reference = errors.check("reference", required_text(&self.reference, REFERENCE_MAX));
        let shipped_on = self
            .shipped_on
            .and_then(|day| errors.check("shipped_on", not_in_future(day, today)));
        errors.finish(|| NewReceivable {
            customer_id: self.customer_id,
            amount: Money::new(amount.expect("checked"), currency.expect("checked")),
            issued_on: issued_on.expect("checked"),
            due_on: due_on.expect("checked"),
            reference: reference.expect("checked"),
            order_id: self.order_id,
            shipped_on,
        })
    }
}

/// Money received from a customer.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentInput {
    pub customer_id: Uuid,
    /// An active ISO 4217 code (case-insensitive).
    #[schema(value_type = String, example = "CNY", pattern = "^[A-Za-z]{3}$")]
    pub currency: String,
    #[schema(example = 20_000_000, minimum = 1, maximum = 9_007_199_254_740_991_i64)]
    pub amount_minor: i64,
    /// The value day: today or earlier (default today).
    #[schema(example = "2026-11-20")]
    pub received_on: Option<NaiveDate>,
    /// The bank or cash reference; with the customer, it identifies the payment (posting it
    /// again answers the payment already recorded).
    #[schema(example = "BOC-20261120-0042", min_length = 1, max_length = 100)]
    pub reference: String,
}

/// A valid new payment.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPayment {
    pub customer_id: Uuid,
    pub amount: Money,
    pub received_on: NaiveDate,
    pub reference: String,
}

impl PaymentInput {
    pub fn validate(&self, today: NaiveDate) -> Result<NewPayment, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let currency = errors.check("currency", Currency::parse(&self.currency));
        let amount = positive_amount(&mut errors, "amount_minor", self.amount_minor);
        let received_on = errors.check(
            "received_on",
            not_in_future(self.received_on.unwrap_or(today), today),
        );
        let reference = errors.check("reference", required_text(&self.reference, REFERENCE_MAX));
        errors.finish(|| NewPayment {
            customer_id: self.customer_id,
            amount: Money::new(amount.expect("checked"), currency.expect("checked")),
            received_on: received_on.expect("checked"),
            reference: reference.expect("checked"),
        })
    }
}

/// Part of a payment applied to one open item of the same customer and currency.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AllocationInput {
    pub receivable_id: Uuid,
    #[schema(example = 15_000_000, minimum = 1, maximum = 9_007_199_254_740_991_i64)]
    pub amount_minor: i64,
    /// The day the item counts as settled by this much: on or after the payment's and the
    /// item's days, today or earlier (default today).
    #[schema(example = "2026-11-20")]
    pub on: Option<NaiveDate>,
}

/// A credit note or a write-off against one open item.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentInput {
    #[schema(example = 500_000, minimum = 1, maximum = 9_007_199_254_740_991_i64)]
    pub amount_minor: i64,
    /// On or after the item's invoice day, today or earlier (default today).
    #[schema(example = "2026-11-25")]
    pub on: Option<NaiveDate>,
    #[schema(
        example = "退回两台 CX-200 外壳受损",
        min_length = 1,
        max_length = 2000
    )]
    pub reason: String,
}

/// An open item as a reduction needs it, read under the item's lock.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemBalance {
    pub customer_id: Uuid,
    pub currency: Currency,
    pub issued_on: NaiveDate,
    /// The amount less every reduction, whatever its day.
    pub open_minor: i64,
}

/// A payment as an allocation needs it, read under the payment's lock.
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentBalance {
    pub customer_id: Uuid,
    pub currency: Currency,
    pub received_on: NaiveDate,
    /// The amount less every allocation of it.
    pub unallocated_minor: i64,
}

/// A decided reduction, ready to be written.
#[derive(Debug, Clone, PartialEq)]
pub struct Reduction {
    pub kind: ReductionKind,
    pub amount_minor: i64,
    pub on: NaiveDate,
    pub reason: Option<String>,
}

/// Why a reduction was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum ReductionRefusal {
    Invalid(Vec<FieldError>),
    /// More than the item has open, or than the payment has unallocated.
    OverAllocation {
        open_minor: i64,
        unallocated_minor: Option<i64>,
    },
}

/// Decides an allocation of `payment` to `item`.
pub fn allocate(
    input: &AllocationInput,
    item: &ItemBalance,
    payment: &PaymentBalance,
    today: NaiveDate,
) -> Result<Reduction, ReductionRefusal> {
    let mut errors = FieldErrors::new();
    let amount = positive_amount(&mut errors, "amount_minor", input.amount_minor);
    if item.customer_id != payment.customer_id {
        errors.push(FieldError::new(
            "receivable_id",
            FieldCode::OtherCustomer,
            "the item is another customer's than the payment",
        ));
    } else if item.currency != payment.currency {
        errors.push(FieldError::new(
            "receivable_id",
            FieldCode::CurrencyMismatch,
            format!(
                "the item is in {}, the payment in {}",
                item.currency.as_str(),
                payment.currency.as_str()
            ),
        ));
    }
    let on = errors
        .check("on", not_in_future(input.on.unwrap_or(today), today))
        .and_then(|on| errors.check("on", not_before(on, payment.received_on, "the payment")))
        .and_then(|on| errors.check("on", not_before(on, item.issued_on, "the invoice day")));
    let reduction = errors
        .finish(|| Reduction {
            kind: ReductionKind::Allocation,
            amount_minor: amount.expect("checked"),
            on: on.expect("checked"),
            reason: None,
        })
        .map_err(ReductionRefusal::Invalid)?;
    if reduction.amount_minor > item.open_minor
        || reduction.amount_minor > payment.unallocated_minor
    {
        return Err(ReductionRefusal::OverAllocation {
            open_minor: item.open_minor,
            unallocated_minor: Some(payment.unallocated_minor),
        });
    }
    Ok(reduction)
}

/// Decides a credit note or a write-off (`kind`) against `item`.
pub fn adjust(
    kind: ReductionKind,
    input: &AdjustmentInput,
    item: &ItemBalance,
    today: NaiveDate,
) -> Result<Reduction, ReductionRefusal> {
    debug_assert!(
        kind != ReductionKind::Allocation,
        "allocations take a payment"
    );
    let mut errors = FieldErrors::new();
    let amount = positive_amount(&mut errors, "amount_minor", input.amount_minor);
    let on = errors
        .check("on", not_in_future(input.on.unwrap_or(today), today))
        .and_then(|on| errors.check("on", not_before(on, item.issued_on, "the invoice day")));
    let reason = errors.check("reason", required_text(&input.reason, REASON_MAX));
    let reduction = errors
        .finish(|| Reduction {
            kind,
            amount_minor: amount.expect("checked"),
            on: on.expect("checked"),
            reason,
        })
        .map_err(ReductionRefusal::Invalid)?;
    if reduction.amount_minor > item.open_minor {
        return Err(ReductionRefusal::OverAllocation {
            open_minor: item.open_minor,
            unallocated_minor: None,
        });
    }
    Ok(reduction)
}

/// What of an item of `amount_minor` issued on `issued_on` is open as of `as_of`, given its
/// reductions as (day, amount): the amount less what is dated on or before `as_of`; `None`
/// when the item was issued after `as_of` (it is no part of that day's ledger).
pub fn open_as_of(
    amount_minor: i64,
    issued_on: NaiveDate,
    reductions: &[(NaiveDate, i64)],
    as_of: NaiveDate,
) -> Option<i64> {
    (issued_on <= as_of).then(|| {
        amount_minor
            - reductions
                .iter()
                .filter(|(on, _)| *on <= as_of)
                .map(|(_, amount)| amount)
                .sum::<i64>()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn cny() -> Currency {
        Currency::parse("CNY").unwrap()
    }

    fn item(open_minor: i64) -> ItemBalance {
        ItemBalance {
            customer_id: Uuid::nil(),
            currency: cny(),
            issued_on: day("2026-10-01"),
            open_minor,
        }
    }

    fn payment(unallocated_minor: i64) -> PaymentBalance {
        PaymentBalance {
            customer_id: Uuid::nil(),
            currency: cny(),
            received_on: day("2026-11-01"),
            unallocated_minor,
        }
    }

    fn allocation(amount_minor: i64, on: &str) -> AllocationInput {
        AllocationInput {
            receivable_id: Uuid::nil(),
            amount_minor,
            on: Some(day(on)),
        }
    }

    fn codes(refusal: ReductionRefusal) -> Vec<(String, FieldCode)> {
        match refusal {
            ReductionRefusal::Invalid(errors) => {
                errors.into_iter().map(|e| (e.field, e.code)).collect()
            }
            other => panic!("not a field refusal: {other:?}"),
        }
    }

    #[test]
    fn an_item_is_due_on_or_after_its_invoice_day_and_every_problem_is_reported() {
        let input = ReceivableInput {
            customer_id: Uuid::nil(),
            currency: "XYZ".into(),
            amount_minor: 0,
            issued_on: day("2026-12-05"),
            due_on: day("2026-12-01"),
            reference: " ".into(),
            order_id: None,
            shipped_on: Some(day("2026-12-09")),
        };
        let errors = input.validate(day("2026-12-04")).unwrap_err();
        let fields: Vec<(&str, FieldCode)> =
            errors.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(
            fields,
            [
                ("currency", FieldCode::InvalidCurrency),
                ("amount_minor", FieldCode::OutOfRange),
                ("issued_on", FieldCode::InFuture),
                ("due_on", FieldCode::BeforeEarlierDate),
                ("reference", FieldCode::Required),
                ("shipped_on", FieldCode::InFuture),
            ]
        );
    }

    #[test]
    fn an_allocation_takes_at_most_what_is_open_and_unallocated() {
        let today = day("2026-12-01");
        let ok = allocate(
            &allocation(300, "2026-11-02"),
            &item(300),
            &payment(500),
            today,
        );
        assert_eq!(ok.unwrap().amount_minor, 300);
        assert_eq!(
            allocate(
                &allocation(301, "2026-11-02"),
                &item(300),
                &payment(500),
                today
            ),
            Err(ReductionRefusal::OverAllocation {
                open_minor: 300,
                unallocated_minor: Some(500)
            })
        );
        assert!(matches!(
            allocate(
                &allocation(301, "2026-11-02"),
                &item(900),
                &payment(300),
                today
            ),
            Err(ReductionRefusal::OverAllocation { .. })
        ));
    }

    #[test]
    fn an_allocation_is_dated_after_both_the_payment_and_the_item_and_not_in_the_future() {
        let today = day("2026-12-01");
        let before_payment = allocate(&allocation(1, "2026-10-20"), &item(9), &payment(9), today);
        assert_eq!(
            codes(before_payment.unwrap_err()),
            [("on".to_owned(), FieldCode::BeforeEarlierDate)]
        );
        let future = allocate(&allocation(1, "2026-12-02"), &item(9), &payment(9), today);
        assert_eq!(
            codes(future.unwrap_err()),
            [("on".to_owned(), FieldCode::InFuture)]
        );
        let mut late_item = item(9);
        late_item.issued_on = day("2026-11-10");
        let before_item = allocate(&allocation(1, "2026-11-05"), &late_item, &payment(9), today);
        assert_eq!(
            codes(before_item.unwrap_err()),
            [("on".to_owned(), FieldCode::BeforeEarlierDate)]
        );
    }

    #[test]
    fn a_payment_settles_only_its_own_customers_items_in_its_currency() {
        let today = day("2026-12-01");
        let mut other = item(9);
        other.customer_id = Uuid::from_u128(1);
        let refused = allocate(&allocation(1, "2026-11-02"), &other, &payment(9), today);
        assert_eq!(
            codes(refused.unwrap_err()),
            [("receivable_id".to_owned(), FieldCode::OtherCustomer)]
        );
        let mut usd = item(9);
        usd.currency = Currency::parse("USD").unwrap();
        let refused = allocate(&allocation(1, "2026-11-02"), &usd, &payment(9), today);
        assert_eq!(
            codes(refused.unwrap_err()),
            [("receivable_id".to_owned(), FieldCode::CurrencyMismatch)]
        );
    }

    #[test]
    fn a_credit_note_needs_a_reason_and_fits_the_open_amount() {
        let today = day("2026-12-01");
        let input = |amount_minor, reason: &str| AdjustmentInput {
            amount_minor,
            on: None,
            reason: reason.into(),
        };
        let note = adjust(
            ReductionKind::CreditNote,
            &input(100, "退货"),
            &item(100),
            today,
        );
        assert_eq!(
            note.unwrap(),
            Reduction {
                kind: ReductionKind::CreditNote,
                amount_minor: 100,
                on: today,
                reason: Some("退货".into())
            }
        );
        assert_eq!(
            codes(adjust(ReductionKind::WriteOff, &input(1, ""), &item(100), today).unwrap_err()),
            [("reason".to_owned(), FieldCode::Required)]
        );
        assert!(matches!(
            adjust(
                ReductionKind::WriteOff,
                &input(101, "破产"),
                &item(100),
                today
            ),
            Err(ReductionRefusal::OverAllocation {
                open_minor: 100,
                unallocated_minor: None
            })
        ));
    }

    fn ledger() -> impl Strategy<Value = (i64, u32, Vec<(u32, i64)>)> {
        (1i64..1_000_000, 0u32..400).prop_flat_map(|(amount, issued)| {
            let reductions = proptest::collection::vec((issued..issued + 800, 1i64..=amount), 0..8)
                .prop_map(move |mut reductions| {
                    // Reductions never exceed the item: trim the tail beyond it.
                    let mut left = amount;
                    reductions.retain_mut(|(_, a)| {
                        *a = (*a).min(left);
                        left -= *a;
                        *a > 0
                    });
                    reductions
                });
            (Just(amount), Just(issued), reductions)
        })
    }

    fn nth_day(n: u32) -> NaiveDate {
        day("2024-01-01") + chrono::Days::new(n.into())
    }

    proptest! {
        /// Nothing dated after D changes what is open as of D, and what is open never goes
        /// below zero nor above the amount.
        #[test]
        fn later_reductions_never_change_an_earlier_day((amount, issued, reductions) in ledger(), as_of in 0u32..1400, later in 1u32..500, extra in 1i64..1000) {
            let dated: Vec<(NaiveDate, i64)> = reductions.iter().map(|(d, a)| (nth_day(*d), *a)).collect();
            let before = open_as_of(amount, nth_day(issued), &dated, nth_day(as_of));
            let mut more = dated.clone();
            more.push((nth_day(as_of + later), extra));
            prop_assert_eq!(before, open_as_of(amount, nth_day(issued), &more, nth_day(as_of)));
            if let Some(open) = before {
                prop_assert!((0..=amount).contains(&open));
            } else {
                prop_assert!(issued > as_of);
            }
        }
    }
}
