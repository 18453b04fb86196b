//! HTTP handlers, one module per area. Each handler parses, checks the caller, calls the
//! store and answers; rules live in the domain crates.

pub mod api_keys;
pub mod changes;
pub mod company;
pub mod contacts;
pub mod credit;
pub mod customers;
pub mod directory;
pub mod events;
pub mod interactions;
pub mod jobs;
pub mod leads;
pub mod notes;
pub mod orders;
pub mod receivables;
pub mod segmentation;
pub mod session;
pub mod system;
pub mod tasks;
pub mod trials;
pub mod visits;
pub mod webhooks;
