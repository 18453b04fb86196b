//! Receivables and collections (seed 004's receivables tracking; DOMAIN.md section 6). Pure:
//! no I/O, no database, no clock; "today" and "as of" are passed in.
//!
//! The ledger is open items (invoices) reduced by dated allocations of payments, credit notes
//! and write-offs. An item's open amount as of day D counts only what is dated on or before
//! D, so a report as of D never changes once D has passed.

pub mod ageing;
pub mod allowance;
pub mod collection;
pub mod dunning;
pub mod ledger;
pub mod records;
pub mod schedule;
pub mod targets;
pub mod terms;
pub mod warning;

pub use records::{Payment, Receivable, ReductionRecord};
