//! Sales orders (seed 001): lines with exact totals, payment terms, and the status machine
//! from quotation to closing.

use chrono::NaiveDate;
use credo_core::date::{not_before, not_in_future};
use credo_core::money::within_cap;
use credo_core::text::{clean_text, required_text};
use credo_core::webhooks::EventType;
use credo_core::{string_enum, Currency, FieldCode, FieldError, FieldErrors, Money};
use credo_customers::Stamps;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Most lines one order holds.
pub const MAX_LINES: usize = 500;
/// Largest quantity of one line.
pub const MAX_QUANTITY: i64 = 1_000_000_000;
/// Largest unit price or cost in minor units (10^13: a hundred billion yuan in fen).
pub const MAX_UNIT_AMOUNT: i64 = 10_000_000_000_000;
/// Longest credit term in days (ten years).
pub const MAX_CREDIT_DAYS: i64 = 3650;
/// 100 % in basis points.
pub const FULL_SHARE_BP: i64 = 10_000;

string_enum! {
    /// Where an order stands. Cancelling is possible until the goods leave.
    pub enum OrderStatus {
        Quoted = "quoted",
        Confirmed = "confirmed",
        InProduction = "in_production",
        Shipped = "shipped",
        Invoiced = "invoiced",
        Paid = "paid",
        Closed = "closed",
        Cancelled = "cancelled",
    }
}

impl OrderStatus {
    /// The webhook event an order reaching this status tells of; none for the steps no
    /// receiver asked for (production, closing).
    pub fn event(self) -> Option<EventType> {
        match self {
            OrderStatus::Confirmed => Some(EventType::OrderConfirmed),
            OrderStatus::Shipped => Some(EventType::OrderShipped),
            OrderStatus::Invoiced => Some(EventType::OrderInvoiced),
            OrderStatus::Paid => Some(EventType::OrderPaid),
            OrderStatus::Cancelled => Some(EventType::OrderCancelled),
            OrderStatus::Quoted | OrderStatus::InProduction | OrderStatus::Closed => None,
        }
    }

    /// The statuses an order may move to from this one. Goods from stock ship without
    /// production, so `confirmed -> shipped` is allowed.
    pub fn successors(self) -> &'static [OrderStatus] {
        use OrderStatus::*;
        match self {
            Quoted => &[Confirmed, Cancelled],
            Confirmed => &[InProduction, Shipped, Cancelled],
            InProduction => &[Shipped, Cancelled],
            Shipped => &[Invoiced],
            Invoiced => &[Paid],
            Paid => &[Closed],
            Closed | Cancelled => &[],
        }
    }

    pub fn can_move_to(self, next: OrderStatus) -> bool {
        self.successors().contains(&next)
    }

    /// Lines and terms may change only while the order is a quotation: a confirmed order is
    /// what the credit check approved.
    pub fn is_editable(self) -> bool {
        self == OrderStatus::Quoted
    }

    /// Whether the goods have left, so the customer can claim against them.
    pub fn is_delivered(self) -> bool {
        use OrderStatus::*;
        matches!(self, Shipped | Invoiced | Paid | Closed)
    }
}

/// One order line as a client sends it. Amounts are integer minor units of the order's
/// currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderLineInput {
    #[schema(example = "CX-200", min_length = 1, max_length = 64)]
    pub product_code: String,
    #[schema(example = "数控折弯机 CX-200", min_length = 1, max_length = 200)]
    pub product_name: String,
    /// Whole units, 1 to 10^9.
    #[schema(example = 2, minimum = 1, maximum = 1_000_000_000)]
    pub quantity: i64,
    #[schema(example = 45_000_000, minimum = 0, maximum = 10_000_000_000_000_i64)]
    pub unit_price_minor: i64,
    #[schema(example = 36_000_000, minimum = 0, maximum = 10_000_000_000_000_i64)]
    pub unit_cost_minor: i64,
}

/// A valid order line with its exact amounts.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct OrderLine {
    pub product_code: String,
    pub product_name: String,
    pub quantity: i64,
    pub unit_price_minor: i64,
    pub unit_cost_minor: i64,
    /// quantity x unit price.
    pub amount_minor: i64,
    /// quantity x unit cost.
    pub cost_minor: i64,
}

impl OrderLine {
    /// A line from stored parts; its amounts are recomputed, never trusted from storage.
    pub fn new(
        product_code: String,
        product_name: String,
        quantity: i64,
        unit_price_minor: i64,
        unit_cost_minor: i64,
    ) -> Result<Self, FieldError> {
        let too_large = || FieldError::new("", FieldCode::TooLarge, "the line amount is too large");
        Ok(Self {
            amount_minor: within_cap(quantity.checked_mul(unit_price_minor))
                .ok_or_else(too_large)?,
            cost_minor: within_cap(quantity.checked_mul(unit_cost_minor)).ok_or_else(too_large)?,
            product_code,
            product_name,
            quantity,
            unit_price_minor,
            unit_cost_minor,
        })
    }

    fn input(&self) -> OrderLineInput {
        OrderLineInput {
            product_code: self.product_code.clone(),
            product_name: self.product_name.clone(),
            quantity: self.quantity,
            unit_price_minor: self.unit_price_minor,
            unit_cost_minor: self.unit_cost_minor,
        }
    }
}

fn in_range(
    errors: &mut FieldErrors,
    field: &str,
    value: i64,
    range: std::ops::RangeInclusive<i64>,
) {
    if !range.contains(&value) {
        errors.push(FieldError::new(
            field,
            FieldCode::OutOfRange,
            format!("must be {} to {}", range.start(), range.end()),
        ));
    }
}

impl OrderLineInput {
    fn validate(&self, errors: &mut FieldErrors, at: usize) -> Option<OrderLine> {
        let prefix = format!("lines[{at}]");
        let mut own = FieldErrors::new();
        let code = own.check("product_code", required_text(&self.product_code, 64));
        let name = own.check("product_name", required_text(&self.product_name, 200));
        in_range(&mut own, "quantity", self.quantity, 1..=MAX_QUANTITY);
        in_range(
            &mut own,
            "unit_price_minor",
            self.unit_price_minor,
            0..=MAX_UNIT_AMOUNT,
        );
        in_range(
            &mut own,
            "unit_cost_minor",
            self.unit_cost_minor,
            0..=MAX_UNIT_AMOUNT,
        );
        let line = match (code, name, own.is_empty()) {
            (Some(code), Some(name), true) => own.check(
                "",
                OrderLine::new(
                    code,
                    name,
                    self.quantity,
                    self.unit_price_minor,
                    self.unit_cost_minor,
                ),
            ),
            _ => None,
        };
        for error in own.into_vec() {
            errors.push(error.nested(&prefix));
        }
        line
    }
}

/// Payment terms: how much is paid before production and how long the rest may wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct PaymentTerms {
    /// Share paid in advance, in basis points (3000 = 30 %).
    #[schema(example = 3000, minimum = 0, maximum = 10000)]
    pub prepayment_bp: i64,
    /// Days after invoicing the rest is due.
    #[schema(example = 60, minimum = 0, maximum = 3650)]
    pub credit_days: i64,
}

/// An order as a client creates it. PATCH takes a merge patch of the same fields while the
/// order is a quotation.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderInput {
    /// Client-chosen id (UUID), e.g. made offline; generated when absent.
    #[serde(skip_serializing)]
    pub id: Option<Uuid>,
    pub customer_id: Uuid,
    /// Contract or purchase-order number.
    #[schema(example = "SZ-2026-0117", max_length = 100)]
    pub reference: Option<String>,
    /// An active ISO 4217 code (case-insensitive).
    #[schema(value_type = String, example = "CNY", pattern = "^[A-Za-z]{3}$")]
    pub currency: String,
    /// Defaults to today.
    pub ordered_on: Option<NaiveDate>,
    /// Share paid in advance, in basis points (0 to 10000, default 0).
    #[schema(example = 3000, minimum = 0, maximum = 10_000)]
    pub prepayment_bp: Option<i64>,
    /// Credit term in days (0 to 3650, default 0).
    #[schema(example = 60, minimum = 0, maximum = 3650)]
    pub credit_days: Option<i64>,
    /// 1 to 500 lines.
    #[schema(min_items = 1, max_items = 500)]
    pub lines: Vec<OrderLineInput>,
    /// The new-product trial this order concludes (inquiry -> sample -> order).
    pub product_trial_id: Option<Uuid>,
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

/// The editable part of an order, valid.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct OrderDraft {
    pub customer_id: Uuid,
    pub reference: Option<String>,
    pub currency: Currency,
    pub ordered_on: NaiveDate,
    #[serde(flatten)]
    pub terms: PaymentTerms,
    pub lines: Vec<OrderLine>,
    pub product_trial_id: Option<Uuid>,
    pub note: Option<String>,
}

impl OrderInput {
    /// Checks every field and reports all problems at once.
    pub fn validate(self, today: NaiveDate) -> Result<OrderDraft, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let reference = self
            .reference
            .as_deref()
            .and_then(|r| errors.check("reference", clean_text(r, 100)).flatten());
        let currency = errors.check("currency", Currency::parse(&self.currency));
        let ordered_on = errors.check(
            "ordered_on",
            not_in_future(self.ordered_on.unwrap_or(today), today),
        );
        let terms = PaymentTerms {
            prepayment_bp: self.prepayment_bp.unwrap_or(0),
            credit_days: self.credit_days.unwrap_or(0),
        };
        in_range(
            &mut errors,
            "prepayment_bp",
            terms.prepayment_bp,
            0..=FULL_SHARE_BP,
        );
        in_range(
            &mut errors,
            "credit_days",
            terms.credit_days,
            0..=MAX_CREDIT_DAYS,
        );
        if self.lines.is_empty() || self.lines.len() > MAX_LINES {
            errors.push(FieldError::new(
                "lines",
                FieldCode::OutOfRange,
                format!("an order has 1 to {MAX_LINES} lines"),
            ));
        }
        let lines: Vec<Option<OrderLine>> = self
            .lines
            .iter()
            .take(MAX_LINES)
            .enumerate()
            .map(|(at, line)| line.validate(&mut errors, at))
            .collect();
        let note = self
            .note
            .as_deref()
            .and_then(|n| errors.check("note", clean_text(n, 2000)).flatten());
        if let (Some(currency), true) = (currency, errors.is_empty()) {
            let lines: Vec<OrderLine> = lines.into_iter().flatten().collect();
            errors.check("lines", OrderTotals::of(&lines, currency));
            return errors.finish(|| OrderDraft {
                customer_id: self.customer_id,
                reference,
                currency,
                ordered_on: ordered_on.expect("checked"),
                terms,
                lines,
                product_trial_id: self.product_trial_id,
                note,
            });
        }
        Err(errors.into_vec())
    }
}

impl OrderDraft {
    /// The draft in the shape a client sends, as the base a merge patch applies to.
    pub fn input(&self) -> OrderInput {
        OrderInput {
            id: None,
            customer_id: self.customer_id,
            reference: self.reference.clone(),
            currency: self.currency.as_str().to_owned(),
            ordered_on: Some(self.ordered_on),
            prepayment_bp: Some(self.terms.prepayment_bp),
            credit_days: Some(self.terms.credit_days),
            lines: self.lines.iter().map(OrderLine::input).collect(),
            product_trial_id: self.product_trial_id,
            note: self.note.clone(),
        }
    }

    pub fn totals(&self) -> OrderTotals {
        OrderTotals::of(&self.lines, self.currency).expect("validated drafts have totals")
    }

    /// How many different products the order holds (the value score's order structure).
    pub fn product_kinds(&self) -> usize {
        let mut codes: Vec<&str> = self.lines.iter().map(|l| l.product_code.as_str()).collect();
        codes.sort_unstable();
        codes.dedup();
        codes.len()
    }
}

/// Amount, cost and profit of an order, exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct OrderTotals {
    pub amount: Money,
    pub cost: Money,
    /// amount - cost; negative for a loss-making order.
    pub profit: Money,
    /// profit / amount in basis points, rounded half away from zero; absent when the amount
    /// is zero.
    #[schema(example = 2000)]
    pub profit_rate_bp: Option<i64>,
}

impl OrderTotals {
    /// Sums the lines; an error when a sum does not fit.
    pub fn of(lines: &[OrderLine], currency: Currency) -> Result<Self, FieldError> {
        let too_large = || FieldError::new("", FieldCode::TooLarge, "the order total is too large");
        let mut amount: i64 = 0;
        let mut cost: i64 = 0;
        for line in lines {
            amount = within_cap(amount.checked_add(line.amount_minor)).ok_or_else(too_large)?;
            cost = within_cap(cost.checked_add(line.cost_minor)).ok_or_else(too_large)?;
        }
        let profit = within_cap(amount.checked_sub(cost)).ok_or_else(too_large)?;
        Ok(Self {
            amount: Money::new(amount, currency),
            cost: Money::new(cost, currency),
            profit: Money::new(profit, currency),
            profit_rate_bp: rate_bp(profit, amount),
        })
    }
}

/// `part / whole` in basis points, rounded half away from zero; `None` when `whole` is zero.
pub fn rate_bp(part: i64, whole: i64) -> Option<i64> {
    if whole == 0 {
        return None;
    }
    let (part, whole) = (i128::from(part) * 10_000, i128::from(whole));
    let half = whole.abs() / 2;
    let rounded = if (part < 0) == (whole < 0) {
        (part.abs() + half) / whole.abs()
    } else {
        -((part.abs() + half) / whole.abs())
    };
    i64::try_from(rounded).ok()
}

/// The days an order reached each stage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct OrderDates {
    pub confirmed_on: Option<NaiveDate>,
    /// Production finished, goods ready to ship (shipping efficiency runs from here).
    pub completed_on: Option<NaiveDate>,
    pub shipped_on: Option<NaiveDate>,
    /// Invoice and shipping documents sent (payment efficiency runs from here).
    pub documents_sent_on: Option<NaiveDate>,
    pub paid_on: Option<NaiveDate>,
    pub closed_on: Option<NaiveDate>,
    pub cancelled_on: Option<NaiveDate>,
}

impl OrderDates {
    /// The day of the order's last step so far.
    pub fn latest(&self) -> Option<NaiveDate> {
        [
            self.confirmed_on,
            self.completed_on,
            self.shipped_on,
            self.documents_sent_on,
            self.paid_on,
            self.closed_on,
            self.cancelled_on,
        ]
        .into_iter()
        .flatten()
        .max()
    }
}

/// An order as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Order {
    pub id: Uuid,
    pub status: OrderStatus,
    #[serde(flatten)]
    pub draft: OrderDraft,
    pub totals: OrderTotals,
    #[serde(flatten)]
    pub dates: OrderDates,
    /// Why the order was cancelled.
    pub cancel_reason: Option<String>,
    /// The check its last `confirm` or `ship` passed (absent before either).
    pub credit_check: Option<credo_credit::check::StepCheck>,
    /// The account manager credited with the sale: the customer's owner when it was made.
    pub owner_id: Uuid,
    pub sales_unit_id: Option<Uuid>,
    #[serde(flatten)]
    pub stamps: Stamps,
}

/// What a status change carries besides the target status: the union of the step inputs.
#[derive(Debug, Clone, Default)]
pub struct TransitionInput {
    /// The day it happened; defaults to today.
    pub on: Option<NaiveDate>,
    /// On shipping: the day production finished (ready to ship).
    pub completed_on: Option<NaiveDate>,
    /// On cancelling (required): why.
    pub reason: Option<String>,
}

/// The body of a step that records only when it happened.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepInput {
    /// The day it happened; defaults to today. Not in the future, not before the order's
    /// last step.
    pub on: Option<NaiveDate>,
}

/// The body of shipping an order.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipInput {
    /// The day it shipped; defaults to today. Not in the future, not before the order's last
    /// step.
    pub on: Option<NaiveDate>,
    /// The day production finished (ready to ship): not after `on`, not before the order's
    /// last step.
    pub completed_on: Option<NaiveDate>,
}

/// The body of cancelling an order.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelInput {
    /// The day it was cancelled; defaults to today. Not in the future, not before the order's
    /// last step.
    pub on: Option<NaiveDate>,
    /// Why.
    #[schema(example = "客户取消采购计划", min_length = 1, max_length = 1000)]
    pub reason: String,
}

impl From<StepInput> for TransitionInput {
    fn from(input: StepInput) -> Self {
        TransitionInput {
            on: input.on,
            ..Default::default()
        }
    }
}

impl From<ShipInput> for TransitionInput {
    fn from(input: ShipInput) -> Self {
        TransitionInput {
            on: input.on,
            completed_on: input.completed_on,
            reason: None,
        }
    }
}

impl From<CancelInput> for TransitionInput {
    fn from(input: CancelInput) -> Self {
        TransitionInput {
            on: input.on,
            completed_on: None,
            reason: Some(input.reason),
        }
    }
}

/// Why a status change was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum TransitionError {
    /// The status machine has no such edge.
    NotAllowed {
        from: OrderStatus,
        to: OrderStatus,
    },
    Invalid(Vec<FieldError>),
}

/// The order's dates and cancel reason after moving to `to`.
pub fn transition(
    status: OrderStatus,
    ordered_on: NaiveDate,
    dates: &OrderDates,
    to: OrderStatus,
    input: &TransitionInput,
    today: NaiveDate,
) -> Result<(OrderDates, Option<String>), TransitionError> {
    if !status.can_move_to(to) {
        return Err(TransitionError::NotAllowed { from: status, to });
    }
    let mut errors = FieldErrors::new();
    let earliest = dates.latest().unwrap_or(ordered_on).max(ordered_on);
    let on = input.on.unwrap_or(today);
    let on = errors
        .check("on", not_in_future(on, today))
        .and_then(|on| errors.check("on", not_before(on, earliest, "the order's last step")));
    if input.completed_on.is_some() && to != OrderStatus::Shipped {
        errors.push(FieldError::new(
            "completed_on",
            FieldCode::NotApplicable,
            "only shipping records when production finished",
        ));
    }
    let completed_on = input.completed_on.and_then(|completed| {
        let completed = errors.check(
            "completed_on",
            not_before(completed, earliest, "the order's last step"),
        )?;
        match on {
            Some(on) if completed > on => {
                errors.push(FieldError::new(
                    "completed_on",
                    FieldCode::AfterShipping,
                    "production cannot finish after shipping",
                ));
                None
            }
            _ => Some(completed),
        }
    });
    let reason = match (&input.reason, to) {
        (Some(reason), OrderStatus::Cancelled) => {
            errors.check("reason", required_text(reason, 1000))
        }
        (None, OrderStatus::Cancelled) => {
            errors.push(FieldError::new(
                "reason",
                FieldCode::Required,
                "say why the order is cancelled",
            ));
            None
        }
        (Some(_), _) => {
            errors.push(FieldError::new(
                "reason",
                FieldCode::NotApplicable,
                "only cancelling takes a reason",
            ));
            None
        }
        (None, _) => None,
    };
    if !errors.is_empty() {
        return Err(TransitionError::Invalid(errors.into_vec()));
    }
    let on = on.expect("checked");
    let mut next = *dates;
    match to {
        OrderStatus::Confirmed => next.confirmed_on = Some(on),
        OrderStatus::InProduction | OrderStatus::Quoted => {}
        OrderStatus::Shipped => {
            next.shipped_on = Some(on);
            next.completed_on = completed_on.or(next.completed_on);
        }
        OrderStatus::Invoiced => next.documents_sent_on = Some(on),
        OrderStatus::Paid => next.paid_on = Some(on),
        OrderStatus::Closed => next.closed_on = Some(on),
        OrderStatus::Cancelled => next.cancelled_on = Some(on),
    }
    Ok((next, reason))
}

/// The day an order is paid by its open items: once an invoiced order has none open, the
/// day the last of them was settled, never before the order's last step (`last_step`);
/// `None` while something is open or the order is not at `invoiced`. The ledger is the one
/// source of the money; the order's status follows it.
pub fn paid_by_items(
    status: OrderStatus,
    still_open: i64,
    last_settled_on: NaiveDate,
    last_step: Option<NaiveDate>,
) -> Option<NaiveDate> {
    (status == OrderStatus::Invoiced && still_open == 0)
        .then(|| last_step.map_or(last_settled_on, |last| last.max(last_settled_on)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_steps_receivers_are_told_of_are_the_money_steps_and_cancelling() {
        let told: Vec<(OrderStatus, EventType)> = OrderStatus::ALL
            .iter()
            .filter_map(|status| status.event().map(|event| (*status, event)))
            .collect();
        assert_eq!(
            told,
            [
                (OrderStatus::Confirmed, EventType::OrderConfirmed),
                (OrderStatus::Shipped, EventType::OrderShipped),
                (OrderStatus::Invoiced, EventType::OrderInvoiced),
                (OrderStatus::Paid, EventType::OrderPaid),
                (OrderStatus::Cancelled, EventType::OrderCancelled),
            ]
        );
    }

    proptest::proptest! {
        /// Only an invoiced order with nothing open is paid, on a day neither before its
        /// items were settled nor before its last step.
        #[test]
        fn an_order_is_paid_by_its_items_once_none_is_open(
            at in 0usize..OrderStatus::ALL.len(),
            still_open in 0i64..3,
            settled in 0u64..60,
            step in proptest::option::of(0u64..60),
        ) {
            let base: NaiveDate = "2026-01-01".parse().unwrap();
            let status = OrderStatus::ALL[at];
            let settled_on = base + chrono::Days::new(settled);
            let last_step = step.map(|d| base + chrono::Days::new(d));
            match paid_by_items(status, still_open, settled_on, last_step) {
                Some(paid_on) => {
                    proptest::prop_assert!(status == OrderStatus::Invoiced && still_open == 0);
                    proptest::prop_assert!(paid_on >= settled_on);
                    proptest::prop_assert!(last_step.is_none_or(|last| paid_on >= last));
                    proptest::prop_assert!(paid_on == settled_on || Some(paid_on) == last_step);
                }
                None => proptest::prop_assert!(status != OrderStatus::Invoiced || still_open > 0),
            }
        }
    }
    use proptest::prelude::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn line(quantity: i64, price: i64, cost: i64) -> OrderLineInput {
        OrderLineInput {
            product_code: "P1".into(),
            product_name: "Press".into(),
            quantity,
            unit_price_minor: price,
            unit_cost_minor: cost,
        }
    }

    fn input(lines: Vec<OrderLineInput>) -> OrderInput {
        OrderInput {
            id: None,
            customer_id: Uuid::nil(),
            reference: None,
            currency: "cny".into(),
            ordered_on: Some(day("2026-01-10")),
            prepayment_bp: Some(3000),
            credit_days: Some(60),
            lines,
            product_trial_id: None,
            note: None,
        }
    }

    #[test]
    fn stored_names_are_the_wire_names() {
        assert!(OrderStatus::names_agree_with_serde());
    }

    #[test]
    fn totals_are_exact() {
        let draft = input(vec![line(2, 45_000_000, 36_000_000), line(3, 333, 100)])
            .validate(day("2026-02-01"))
            .unwrap();
        let totals = draft.totals();
        assert_eq!(totals.amount.amount_minor, 90_000_999);
        assert_eq!(totals.cost.amount_minor, 72_000_300);
        assert_eq!(totals.profit.amount_minor, 18_000_699);
        assert_eq!(totals.profit_rate_bp, Some(2000));
        // Two lines of one product are one kind.
        assert_eq!(draft.product_kinds(), 1);
        assert_eq!(totals.amount.currency.as_str(), "CNY");
    }

    #[test]
    fn every_bad_field_is_reported() {
        let mut bad = input(vec![line(0, -1, 5), line(1, 1, 1)]);
        bad.currency = "XXX".into();
        bad.prepayment_bp = Some(10_001);
        bad.credit_days = Some(-1);
        bad.ordered_on = Some(day("2027-01-01"));
        let fields: Vec<String> = bad
            .validate(day("2026-02-01"))
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "currency",
                "ordered_on",
                "prepayment_bp",
                "credit_days",
                "lines[0].quantity",
                "lines[0].unit_price_minor"
            ]
        );
        let empty = input(vec![]).validate(day("2026-02-01")).unwrap_err();
        assert_eq!(empty[0].field, "lines");
    }

    #[test]
    fn overflowing_totals_are_refused() {
        let huge = line(MAX_QUANTITY, MAX_UNIT_AMOUNT, 0);
        let errors = input(vec![huge]).validate(day("2026-02-01")).unwrap_err();
        assert_eq!(errors[0].code, FieldCode::TooLarge);
    }

    #[test]
    fn amounts_stay_exact_as_javascript_numbers() {
        // 1,000,000 × 9,007,199,254 = 9,007,199,254,000,000: just within 2^53 - 1.
        let within = line(1_000_000, 9_007_199_254, 0);
        assert!(input(vec![within.clone()])
            .validate(day("2026-02-01"))
            .is_ok());
        let beyond = line(1_000_000, 9_007_199_255, 0);
        let errors = input(vec![beyond]).validate(day("2026-02-01")).unwrap_err();
        assert_eq!(errors[0].code, FieldCode::TooLarge);
        // Each line fits; their sum does not.
        let errors = input(vec![within.clone(), within])
            .validate(day("2026-02-01"))
            .unwrap_err();
        assert_eq!(errors[0].code, FieldCode::TooLarge);
    }

    #[test]
    fn the_status_machine() {
        use OrderStatus::*;
        let path = [
            Quoted,
            Confirmed,
            InProduction,
            Shipped,
            Invoiced,
            Paid,
            Closed,
        ];
        for pair in path.windows(2) {
            assert!(pair[0].can_move_to(pair[1]), "{pair:?}");
        }
        assert!(Confirmed.can_move_to(Shipped));
        for from in [Quoted, Confirmed, InProduction] {
            assert!(from.can_move_to(Cancelled));
        }
        for from in [Shipped, Invoiced, Paid, Closed, Cancelled] {
            assert!(!from.can_move_to(Cancelled));
        }
        assert!(!Quoted.can_move_to(Shipped));
        assert!(!Closed.can_move_to(Quoted));
        assert!(Closed.successors().is_empty() && Cancelled.successors().is_empty());
    }

    #[test]
    fn transitions_check_dates_and_reasons() {
        use OrderStatus::*;
        let ordered = day("2026-01-10");
        let today = day("2026-02-01");
        let at = |on: &str| TransitionInput {
            on: Some(day(on)),
            ..Default::default()
        };
        let (dates, _) = transition(
            Quoted,
            ordered,
            &OrderDates::default(),
            Confirmed,
            &at("2026-01-12"),
            today,
        )
        .unwrap();
        assert_eq!(dates.confirmed_on, Some(day("2026-01-12")));
        let before = transition(
            Confirmed,
            ordered,
            &dates,
            Shipped,
            &at("2026-01-11"),
            today,
        );
        assert!(
            matches!(before, Err(TransitionError::Invalid(e)) if e[0].code == FieldCode::BeforeEarlierDate)
        );
        let ship = TransitionInput {
            on: Some(day("2026-01-20")),
            completed_on: Some(day("2026-01-18")),
            reason: None,
        };
        let (shipped, _) = transition(Confirmed, ordered, &dates, Shipped, &ship, today).unwrap();
        assert_eq!(shipped.completed_on, Some(day("2026-01-18")));
        assert_eq!(shipped.shipped_on, Some(day("2026-01-20")));
        assert_eq!(
            transition(
                Shipped,
                ordered,
                &shipped,
                Cancelled,
                &at("2026-01-21"),
                today
            ),
            Err(TransitionError::NotAllowed {
                from: Shipped,
                to: Cancelled
            })
        );
        let no_reason = transition(
            Quoted,
            ordered,
            &OrderDates::default(),
            Cancelled,
            &at("2026-01-12"),
            today,
        );
        assert!(matches!(no_reason, Err(TransitionError::Invalid(e)) if e[0].field == "reason"));
        let future = transition(
            Quoted,
            ordered,
            &OrderDates::default(),
            Confirmed,
            &at("2026-03-01"),
            today,
        );
        assert!(
            matches!(future, Err(TransitionError::Invalid(e)) if e[0].code == FieldCode::InFuture)
        );
    }

    proptest! {
        #[test]
        fn totals_match_wide_arithmetic(
            lines in proptest::collection::vec((1..1_000i64, 0..10_000_000i64, 0..10_000_000i64), 1..20)
        ) {
            let inputs = lines.iter().map(|&(q, p, c)| line(q, p, c)).collect();
            let totals = input(inputs).validate(day("2026-02-01")).unwrap().totals();
            let amount: i128 = lines.iter().map(|&(q, p, _)| i128::from(q) * i128::from(p)).sum();
            let cost: i128 = lines.iter().map(|&(q, _, c)| i128::from(q) * i128::from(c)).sum();
            prop_assert_eq!(i128::from(totals.amount.amount_minor), amount);
            prop_assert_eq!(i128::from(totals.profit.amount_minor), amount - cost);
            if amount > 0 {
                let rate = totals.profit_rate_bp.unwrap();
                // Within half a basis point of the exact rate.
                let exact = (amount - cost) * 10_000;
                prop_assert!((i128::from(rate) * amount - exact).abs() * 2 <= amount);
            }
        }

        #[test]
        fn rates_round_half_away_from_zero(part in -1_000_000i64..1_000_000, whole in 1i64..1_000_000) {
            let rate = rate_bp(part, whole).unwrap();
            prop_assert_eq!(rate_bp(-part, whole).unwrap(), -rate);
            prop_assert_eq!(rate_bp(part, -whole).unwrap(), -rate);
        }
    }
}
