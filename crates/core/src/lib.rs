//! Value types shared by every Credo module. Pure: no I/O, no database, no HTTP.
//!
//! A value of one of these types is valid by construction: wire input is parsed into them
//! with `TryFrom`/`parse`, and the error says which rule failed in a stable code.

pub mod access;
pub mod audit;
pub mod company;
pub mod country;
pub mod date;
pub mod directory;
mod enums;
pub mod error;
pub mod feed;
pub mod job;
pub mod json;
pub mod money;
pub mod text;
pub mod throttle;
pub mod uscc;
pub mod webhooks;

pub use access::{Principal, Role, Scope};
pub use country::CountryCode;
pub use error::{FieldCode, FieldError, FieldErrors};
pub use money::{Currency, Money};
pub use text::{Email, Phone, Tag};
pub use uscc::Uscc;
