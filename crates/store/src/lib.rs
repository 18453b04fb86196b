//! The only crate that knows SQL: the portable diesel schema, connections to SQLite or
//! PostgreSQL through one code path, and repositories that map rows to domain values.

pub mod activity;
pub mod aggregate;
pub mod api_keys;
pub mod audit;
pub mod changes;
pub mod contacts;
mod convert;
pub mod credit;
pub mod customers;
pub mod db;
mod error;
pub mod fx;
pub mod holder;
pub mod idempotency;
pub mod jobs;
pub mod keyset;
pub mod leads;
mod name_keys;
pub mod orders;
pub mod receivables;
pub mod schema;
mod search;
pub mod segmentation;
pub mod sessions;
pub mod settings;
pub mod tasks;
pub mod timeline;
pub mod units;
pub mod users;
pub mod versioned;
pub mod visits;
pub mod webhooks;

pub use convert::now;
pub use db::{write_transaction, Backend, DatabaseUrl, Db, DbConnection, Outcome, PoolOptions};
pub use error::StoreError;
