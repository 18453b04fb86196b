//! Credit rating and limits (seed 004's whole-process customer credit management; DOMAIN.md
//! section 5). Pure: no I/O, no database, no clock.
//!
//! A financial statement yields ratios and Altman scores; the characteristic model scores
//! 72 points into a grade from 1 (best) to 6; the working-capital model turns the balance
//! sheet into a limit, which the grade scales into the recommended limit; the final limit's
//! grade (1A-5A) and the characteristic grade make the rating ("3A2"). An application
//! passes pre-review, evaluation and approval by someone else into an agreement: the line
//! the customer buys on.

pub mod agreement;
pub mod alert;
pub mod application;
pub mod characteristic;
pub mod check;
pub mod evaluation;
pub mod limit;
pub mod number;
pub mod overrides;
pub mod policy;
pub mod review;
pub mod statement;
pub mod working_capital;
