//! Black-box tests: each starts the real server on port 0 with a fresh database and talks
//! HTTP to it. SQLite by default; PostgreSQL when CREDO_TEST_POSTGRES_URL is set (one schema
//! per test).

mod activity;
mod aggregate;
mod auth;
mod changes;
mod common;
mod company;
mod credit;
mod credit_check;
mod credit_lines;
mod customers;
mod directory;
mod dunning;
mod duties;
mod export;
mod http;
mod integrity;
mod jobs;
mod keys;
mod leads;
mod listing;
mod login;
mod matrix;
mod names;
mod openapi;
mod operations;
mod orders;
mod owasp;
mod races;
mod receivables;
mod schema;
mod scope;
mod segmentation;
mod warning_list;
mod webhooks;
