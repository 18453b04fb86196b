//! The ledger's records as the API answers them.

use chrono::{DateTime, NaiveDate, Utc};
use credo_core::Currency;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::ledger::ReductionKind;
use crate::terms::Dispute;

/// An open item (an invoice) and what of it is open.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Receivable {
    pub id: Uuid,
    pub customer_id: Uuid,
    /// The customer's sales unit when the item was issued.
    pub sales_unit_id: Option<Uuid>,
    /// The customer's account manager when the item was issued.
    pub owner_id: Uuid,
    pub order_id: Option<Uuid>,
    pub currency: Currency,
    /// The amount billed, in minor units.
    #[schema(example = 31_500_000)]
    pub amount_minor: i64,
    /// What is open: as of `open_on` in a list, as of today otherwise.
    #[schema(example = 16_500_000)]
    pub open_minor: i64,
    pub issued_on: NaiveDate,
    pub due_on: NaiveDate,
    pub shipped_on: Option<NaiveDate>,
    #[schema(example = "INV-2026-0815")]
    pub reference: String,
    /// The day the last of it was settled; `null` while anything is open.
    pub settled_on: Option<NaiveDate>,
    /// The due day before an approved extension first moved it; `null` when never moved.
    pub original_due_on: Option<NaiveDate>,
    /// The open dispute, which pauses dunning; `null` when there is none.
    pub dispute: Option<Dispute>,
    pub created_at: DateTime<Utc>,
    pub created_by: Uuid,
}

/// Money received from a customer and what of it is not yet allocated to items.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Payment {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub currency: Currency,
    #[schema(example = 20_000_000)]
    pub amount_minor: i64,
    /// The amount less its allocations: what a collector still has to apply.
    #[schema(example = 5_000_000)]
    pub unallocated_minor: i64,
    pub received_on: NaiveDate,
    #[schema(example = "BOC-20261120-0042")]
    pub reference: String,
    pub created_at: DateTime<Utc>,
    pub created_by: Uuid,
}

/// One reduction of an item: an allocation of a payment, a credit note or a write-off.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ReductionRecord {
    pub id: Uuid,
    pub receivable_id: Uuid,
    pub kind: ReductionKind,
    /// The payment allocated; `null` for credit notes and write-offs.
    pub payment_id: Option<Uuid>,
    #[schema(example = 15_000_000)]
    pub amount_minor: i64,
    /// The day it counts from in every report.
    pub on: NaiveDate,
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub created_by: Uuid,
}
