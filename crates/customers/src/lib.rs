//! The unified customer file: profile rules, contacts, notes and subjective assessments.
//! Pure: parsing and validation of what the API receives, no storage.

pub mod assessment;
pub mod contact;
pub mod kinds;
pub mod profile;
pub mod record;

pub use assessment::{Assessment, AssessmentInput, NoteInput};
pub use contact::{Contact, ContactInput};
pub use kinds::*;
pub use profile::{CustomerInput, CustomerProfile};
pub use record::{AssessmentRecord, ContactRecord, Customer, Note, Stamps, Transfer};
