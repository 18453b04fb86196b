//! The sales rules of Credo: orders with exact totals and their status machine, claims
//! against delivered orders, and new-product trials. Pure: no I/O, no database, no HTTP.

pub mod claim;
pub mod order;
pub mod trial;

pub use claim::{Claim, ClaimDecisionInput, ClaimInput, ClaimStatus};
pub use order::{
    Order, OrderDates, OrderDraft, OrderInput, OrderLine, OrderLineInput, OrderStatus, OrderTotals,
    PaymentTerms, TransitionInput,
};
pub use trial::{Trial, TrialInput, TrialStage, TrialStepInput};
