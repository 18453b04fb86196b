//! The sales rules of Credo: leads, MAN qualification and the funnel; orders with exact
//! totals and their status machine, claims against delivered orders, and new-product trials. Pure: no I/O, no database, no HTTP.

pub mod claim;
pub mod lead;
pub mod order;
pub mod trial;

pub use claim::{Claim, ClaimDecisionInput, ClaimInput, ClaimStatus};
pub use lead::{
    FunnelGroup, FunnelStage, Lead, LeadChannel, LeadInput, Man, Qualification, StageInput,
};
pub use order::{
    CancelInput, Order, OrderDates, OrderDraft, OrderInput, OrderLine, OrderLineInput, OrderStatus,
    OrderTotals, PaymentTerms, ShipInput, StepInput, TransitionInput,
};
pub use trial::{Trial, TrialInput, TrialStage, TrialStepInput};
