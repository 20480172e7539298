//! Everything the crowdfund Worker decides, as plain Rust: `cargo test` runs it natively,
//! against SQLite built from the real migrations (`testing`), and the Worker
//! (`crowdfund-worker`) is only the wasm shell that binds it to D1, R2, Queues and the runtime.
//!
//! A request's path through the crate:
//!
//! ```text
//! routes::handle ─ table::find ─▶ routes/<resource>.rs    (the entry point: parse, authorize)
//!                                   │ rules::input, rules::forms, http::sender   (validate)
//!                                   ▼
//!                                 projects.rs, threads.rs   (use cases: SQL statements as data)
//!                                   │ sql::Database::batch: state + outbox row, one transaction
//!                                   ▼
//!                                 outbox::send ─▶ queue ─▶ publish::consume   (the publisher)
//!                                   │ generator::paths::pages_touched, generator::gather over
//!                                   │ read_model::SqlReadModel, generator::render
//!                                   ▼
//!                                 platform::PageStore   ◀── serve::page (the GET route)
//! cron::run ─▶ outbox::redrive (lost messages)          rebuild.rs (admin, in queue steps)
//! dead_letters::store (the dead-letter queue)           health::report (/api/v1/health)
//! ```
//!
//! The ports the platform implements are in `platform`; the error type every route answers
//! with is `error::ApiError`.

pub mod batching;
pub mod config;
pub mod cron;
pub mod dead_letters;
pub mod error;
pub mod export;
pub mod health;
pub mod http;
pub mod import;
pub mod limits;
pub mod moderation;
pub mod outbox;
pub mod platform;
pub mod prefetch;
pub mod projects;
pub mod publish;
pub mod purge;
pub mod read_model;
pub mod rebuild;
pub mod routes;
pub mod rules;
pub mod search;
pub mod serve;
pub mod sql;
pub mod threads;
pub mod visitors;
pub mod write;

#[cfg(feature = "testing")]
pub mod testing;
