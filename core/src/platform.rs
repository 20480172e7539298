//! The ports: what the core needs from the platform it runs on. The Worker implements them
//! over D1, R2, Queues, rate-limiting bindings, the edge cache's purges and the JS clock
//! (`crowdfund-worker`); the tests over SQLite and memory (`testing`). One [`Platform`] value carries them into a request, a
//! queue batch or a cron run.

use crate::config::Config;
use crate::sql::Database;

/// A failure of a page store, queue or rate limiter call (the cause, for the log).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PortError(pub String);

/// An object of the page store, as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    /// The store's ETag, quoted (`"..."`), as HTTP sends it.
    pub etag: String,
    pub content_type: String,
    /// The bytes; `None` for a HEAD, or when the caller's ETag still matches.
    pub body: Option<StoredBody>,
}

/// The bytes of a stored object read for an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredBody {
    /// Read into memory (the tests' store).
    Bytes(Vec<u8>),
    /// Kept by the platform, which streams it into the answer itself when the answer says
    /// [`crate::http::Response::held_body`]: the Worker hands R2's stream to the response.
    /// Copying a page into wasm memory and back out cost the stored-page GET about a third of
    /// its throughput (docs/BENCHMARKS.md).
    Held,
}

/// The store of rendered pages (R2): object key → content type and bytes.
#[allow(async_fn_in_trait)]
pub trait PageStore {
    /// Reads an object. With `unless_etag` (an ETag without quotes) the bytes are read only if
    /// the object's ETag differs: an unchanged page costs no body transfer.
    async fn get(&self, key: &str, unless_etag: Option<&str>) -> Result<Option<StoredObject>, PortError>;

    /// Reads an object's metadata only.
    async fn head(&self, key: &str) -> Result<Option<StoredObject>, PortError>;

    /// Writes an object.
    async fn put(&self, key: &str, content_type: &str, body: Vec<u8>) -> Result<(), PortError>;

    /// Deletes an object (absent objects are fine).
    async fn delete(&self, key: &str) -> Result<(), PortError>;
}

/// The "changes" queue (Cloudflare Queues): messages for the publisher.
#[allow(async_fn_in_trait)]
pub trait ChangeQueue {
    /// Sends one message (JSON).
    async fn send(&self, message: &serde_json::Value) -> Result<(), PortError>;

    /// Sends one message to be delivered `delay_seconds` from now.
    async fn send_delayed(&self, message: &serde_json::Value, delay_seconds: u32) -> Result<(), PortError>;
}

/// Why a purge call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PurgeError {
    /// The purge budget is spent for now (Cloudflare's rate limit).
    #[error("purge rate-limited")]
    RateLimited,
    #[error("purge failed: {0}")]
    Failed(String),
}

/// The edge cache in front of the Worker: Workers Caching's `ctx.cache.purge` in production,
/// the local edge (Varnish) under `make dev`.
#[allow(async_fn_in_trait)]
pub trait Purger {
    /// Makes one purge call.
    async fn purge(&self, call: &crate::purge::plan::Call) -> Result<(), PurgeError>;
}

/// Cloudflare's rate-limiting bindings.
#[allow(async_fn_in_trait)]
pub trait RateLimiter {
    /// Counts one use of `key` against the limiter `binding`: `Some(true)` within the limit,
    /// `Some(false)` over it, `None` when the binding is not configured.
    async fn limit(&self, binding: &str, key: &str) -> Result<Option<bool>, PortError>;
}

/// How important a log line is (ordered: `Info < Warn < Error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Info,
    Warn,
    Error,
}

impl Level {
    /// Reads `info`, `warn` or `error` (any case).
    pub fn parse(name: &str) -> Option<Level> {
        match name.trim().to_ascii_lowercase().as_str() {
            "info" => Some(Level::Info),
            "warn" => Some(Level::Warn),
            "error" => Some(Level::Error),
            _ => None,
        }
    }
}

/// The time of a request, read once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Now {
    /// Milliseconds since the Unix epoch.
    pub ms: u64,
    /// UTC, RFC 3339 to the second (the snapshot format): `2026-11-22T14:16:38Z`.
    pub rfc3339: String,
}

/// Everything a request, a queue batch or a cron run may use.
pub trait Platform {
    type Db: Database;
    type Pages: PageStore;
    type Queue: ChangeQueue;
    type Limits: RateLimiter;
    type Edge: Purger;

    fn db(&self) -> &Self::Db;
    fn pages(&self) -> &Self::Pages;
    fn queue(&self) -> &Self::Queue;
    fn limits(&self) -> &Self::Limits;
    /// The edge cache's purges.
    fn purger(&self) -> &Self::Edge;
    /// Settings, read once.
    fn config(&self) -> &Config;
    /// The time now.
    fn now(&self) -> Now;
    /// 128 random bits as 32 hex digits: outbox, voter and rebuild ids.
    fn random_id(&self) -> String;
    /// Writes one structured log line (never a secret: callers pass only what may be read).
    fn log(&self, level: Level, line: serde_json::Value);
}

/// Formats 16 random bytes as an id.
pub fn hex_id(bytes: [u8; 16]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
