//! Segmentation and customer value (seeds 000, 001, 002, 004; DOMAIN.md section 4). Pure:
//! no I/O, no database, no clock; the run's day is passed in.
//!
//! One versioned rule set grades every customer the same way wherever it is owned: ABC by
//! share of a measure, the twelve-indicator value score, RFM quintiles, lifetime value and
//! churn from BG/NBD and Gamma-Gamma fitted on the company's own purchases, the value x
//! potential quadrant and the service tier.

pub mod abc;
pub mod bg_nbd;
pub mod gamma_gamma;
pub mod history;
pub mod loss;
pub mod numeric;
pub mod overrides;
pub mod policy;
pub mod record;
pub mod rfm;
pub mod run;
pub mod score;
