//! The unified customer file: profile rules, contacts, notes and subjective assessments,
//! customer events, the interaction log, field visits and tasks. Pure: parsing and
//! validation of what the API receives, no storage.

pub mod assessment;
pub mod change;
pub mod contact;
pub mod event;
pub mod interaction;
pub mod kinds;
pub mod profile;
pub mod record;
pub mod task;
pub mod timeline;
pub mod visit;

pub use assessment::{Assessment, AssessmentInput, NoteInput};
pub use contact::{Contact, ContactInput};
pub use event::{CustomerEvent, EventInput, EventKind};
pub use interaction::{Interaction, InteractionInput};
pub use kinds::*;
pub use profile::{CustomerInput, CustomerProfile};
pub use record::{AssessmentRecord, ContactRecord, Customer, Note, Stamps, Transfer};
pub use task::{Task, TaskInput, TaskKind, TaskStatus};
pub use timeline::{TimelineEntry, TimelineKind};
pub use visit::{Visit, VisitInput, VisitStatus};
