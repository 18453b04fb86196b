//! The receivables ledger an order history leaves: an open item for each invoiced order, due
//! after its credit days, settled by one payment allocated on the day the order was paid.
//! Orders never paid (a few defaulters, and the recent ones) stay open.

use chrono::{Days, NaiveDate};
use credo_receivables::ledger::ReductionKind;
use credo_receivables::{Payment, Receivable, ReductionRecord};
use credo_sales::Order;
use uuid::Uuid;

use super::history::at_nine;

/// Items, payments and allocations, in the form `receivables::import` takes.
#[derive(Default)]
pub struct Ledger {
    pub items: Vec<Receivable>,
    pub payments: Vec<Payment>,
    pub allocations: Vec<ReductionRecord>,
}

impl Ledger {
    /// Adds the ledger of each invoiced order of `history`.
    pub fn record(&mut self, history: &[Order]) {
        for order in history {
            if let Some(issued_on) = order.dates.documents_sent_on {
                self.invoice(order, issued_on);
            }
        }
    }

    fn invoice(&mut self, order: &Order, issued_on: NaiveDate) {
        let credit_days = u64::try_from(order.draft.terms.credit_days).unwrap_or(0);
        let amount_minor = order.totals.amount.amount_minor;
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
            due_on: issued_on + Days::new(credit_days),
            shipped_on: order.dates.shipped_on,
            reference: order.id.to_string(),
            settled_on: None,
            original_due_on: None,
            dispute: None,
            created_at: at_nine(issued_on, 0),
            created_by: owner,
        };
        if let Some(paid_on) = order.dates.paid_on {
            let payment = Payment {
                id: Uuid::now_v7(),
                customer_id: item.customer_id,
                currency: item.currency,
                amount_minor,
                unallocated_minor: 0,
                received_on: paid_on,
                reference: format!("order {} paid", order.id),
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
