//! The receivables ledger an order history leaves. Each invoiced order is billed in two
//! instalments, as equipment contracts here are: the goods less a tenth, due after the
//! order's credit days and paid on the day the order was paid; and the tenth held back as
//! retention (质保金), due a year after the invoice and paid about as punctually as the
//! customer paid the goods. Orders never paid (a few defaulters, and the recent ones) leave
//! both open; retention not yet due leaves the second open.

use chrono::{Days, Duration, NaiveDate};
use credo_receivables::ledger::ReductionKind;
use credo_receivables::{Payment, Receivable, ReductionRecord};
use credo_sales::Order;
use rand::rngs::StdRng;
use rand::Rng;
use uuid::Uuid;

use super::history::at_nine;

/// The share of an invoice held back as retention, in percent.
const RETENTION_PERCENT: i64 = 10;
/// How long after the invoice retention falls due.
const RETENTION_DAYS: u64 = 365;

/// Items, payments and allocations, in the form `receivables::import` takes.
#[derive(Default)]
pub struct Ledger {
    pub items: Vec<Receivable>,
    pub payments: Vec<Payment>,
    pub allocations: Vec<ReductionRecord>,
}

impl Ledger {
    /// Adds the ledger of each invoiced order of `history` as it stands on `today`.
    pub fn record(&mut self, rng: &mut StdRng, history: &[Order], today: NaiveDate) {
        for order in history {
            let Some(issued_on) = order.dates.documents_sent_on else {
                continue;
            };
            let amount_minor = order.totals.amount.amount_minor;
            let retention_minor = amount_minor * RETENTION_PERCENT / 100;
            let credit_days = u64::try_from(order.draft.terms.credit_days).unwrap_or(0);
            let goods_due = issued_on + Days::new(credit_days);
            self.instalment(
                order,
                "goods",
                amount_minor - retention_minor,
                issued_on,
                goods_due,
                order.dates.paid_on,
            );
            if retention_minor == 0 {
                continue;
            }
            let retention_due = issued_on + Days::new(RETENTION_DAYS);
            // A customer that paid the goods d days after their due day pays the retention
            // about d days after its own; one that never paid the goods never pays it.
            let retention_paid = order.dates.paid_on.and_then(|paid_on| {
                let lateness = paid_on - goods_due;
                let on = retention_due + lateness + Duration::days(rng.random_range(-5..=10));
                (on <= today).then_some(on.max(issued_on))
            });
            self.instalment(
                order,
                "retention",
                retention_minor,
                issued_on,
                retention_due,
                retention_paid,
            );
        }
    }

    /// One open item of `order`, settled in full by a payment on `paid_on` when given.
    fn instalment(
        &mut self,
        order: &Order,
        part: &str,
        amount_minor: i64,
        issued_on: NaiveDate,
        due_on: NaiveDate,
        paid_on: Option<NaiveDate>,
    ) {
        let owner = order.owner_id;
        let mut item = Receivable {
            id: Uuid::now_v7(),
            customer_id: order.draft.customer_id,
            sales_unit_id: order.sales_unit_id,
            owner_id: owner,
            order_id: Some(order.id),
            currency: order.draft.currency,
            amount_minor,
            open_minor: amount_minor,
            issued_on,
            due_on,
            shipped_on: order.dates.shipped_on,
            reference: format!("{} {part}", order.id),
            settled_on: None,
            original_due_on: None,
            dispute: None,
            created_at: at_nine(issued_on, 0),
            created_by: owner,
        };
        if let Some(paid_on) = paid_on {
            let payment = Payment {
                id: Uuid::now_v7(),
                customer_id: item.customer_id,
                currency: item.currency,
                amount_minor,
                unallocated_minor: 0,
                received_on: paid_on,
                reference: format!("order {} {part} paid", order.id),
                created_at: at_nine(paid_on, 0),
                created_by: owner,
            };
            self.allocations.push(ReductionRecord {
                id: Uuid::now_v7(),
                receivable_id: item.id,
                kind: ReductionKind::Allocation,
                payment_id: Some(payment.id),
                amount_minor,
                on: paid_on,
                reason: None,
                created_at: payment.created_at,
                created_by: owner,
            });
            self.payments.push(payment);
            item.open_minor = 0;
            item.settled_on = Some(paid_on);
        }
        self.items.push(item);
    }
}
