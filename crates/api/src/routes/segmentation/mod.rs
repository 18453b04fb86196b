//! Segmentation and customer value: the policy, runs and their results, a customer's value
//! and grade overrides.

pub mod policy;
pub mod runs;
pub mod values;
