//! The HTTP API of Credo: actix-web handlers, authentication, the error contract and the
//! OpenAPI document. Business rules live in the domain crates, SQL in `credo-store`.

mod any_of;
pub mod app;
pub mod auth;
pub mod delivery;
mod documents;
pub mod error;
pub(crate) mod export;
mod extract;
mod head;
pub mod jobs;
pub mod limits;
mod merge_patch;
pub mod openapi;
mod pagination;
mod reply;
pub mod request_id;
pub mod routes;
pub mod startup;
pub mod state;

pub use app::api_spec;
pub use startup::{serve, Settings};
