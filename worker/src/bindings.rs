//! The names of the Worker's bindings (wrangler.toml).

/// The D1 database.
pub const DB: &str = "DB";
/// The producer binding of the "changes" queue.
pub const CHANGES: &str = "CHANGES";
/// The R2 bucket of rendered pages.
pub const PAGES: &str = "PAGES";
/// The request Worker's service binding to the publisher Worker (`--features front`).
#[cfg(feature = "front")]
pub const PUBLISHER: &str = "PUBLISHER";
