//! Native adapters for tests: the real SQL on SQLite (`Sqlite`), and in-memory fakes of the
//! page store, the queue, the edge's purges and the rate limiters, bundled as a [`TestPlatform`] with a settable
//! clock and counting ids. `Paused` holds a use case between its round trips, so a test can
//! run another request in between, as D1 may.

mod sqlite;

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use serde_json::Value;

pub use sqlite::{migrations_dir, Sqlite, SqliteRows};

use crate::config::Config;
use crate::platform::{
    ChangeQueue, Level, Now, PageStore, Platform, PortError, PurgeError, Purger, RateLimiter, StoredBody, StoredObject,
};
use crate::purge::plan::Call;
use crate::serve::etag_of;
use crate::sql::{Database, DbError, Statement};

/// Runs a future that never waits (every native adapter answers at once).
pub fn run<F: Future>(future: F) -> F::Output {
    generator::gather::ready(future)
}

/// Polls a future once: `Some(output)` if it finished, `None` if it waits (on a `Paused` gate).
pub fn poll_once<F: Future>(future: Pin<&mut F>) -> Option<F::Output> {
    match future.poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => Some(out),
        Poll::Pending => None,
    }
}

/// A page store in memory: key → (content type, bytes).
#[derive(Default)]
pub struct MemoryPages {
    pub objects: RefCell<BTreeMap<String, (String, Vec<u8>)>>,
    /// Reads that transferred a body.
    pub bodies_read: Cell<usize>,
    /// Writes accepted so far.
    pub puts: Cell<usize>,
    /// Fault injection: writes fail once this many were accepted (until it is cleared).
    pub fail_puts_after: Cell<Option<usize>>,
    /// Reads keep the bytes with the store ([`StoredBody::Held`]), as the Worker's R2 does.
    pub hold_bodies: Cell<bool>,
}

impl MemoryPages {
    /// The bytes of an object, if stored.
    pub fn body(&self, key: &str) -> Option<Vec<u8>> {
        self.objects.borrow().get(key).map(|(_, b)| b.clone())
    }
}

impl PageStore for MemoryPages {
    async fn get(&self, key: &str, unless_etag: Option<&str>) -> Result<Option<StoredObject>, PortError> {
        let objects = self.objects.borrow();
        let Some((content_type, body)) = objects.get(key) else { return Ok(None) };
        let etag = etag_of(body);
        let unchanged = unless_etag.is_some_and(|e| etag.trim_matches('"') == e);
        if !unchanged {
            self.bodies_read.set(self.bodies_read.get() + 1);
        }
        Ok(Some(StoredObject {
            etag,
            content_type: content_type.clone(),
            body: (!unchanged).then(|| match self.hold_bodies.get() {
                true => StoredBody::Held,
                false => StoredBody::Bytes(body.clone()),
            }),
        }))
    }

    async fn head(&self, key: &str) -> Result<Option<StoredObject>, PortError> {
        let objects = self.objects.borrow();
        Ok(objects.get(key).map(|(content_type, body)| StoredObject {
            etag: etag_of(body),
            content_type: content_type.clone(),
            body: None,
        }))
    }

    async fn put(&self, key: &str, content_type: &str, body: Vec<u8>) -> Result<(), PortError> {
        if self.fail_puts_after.get().is_some_and(|n| self.puts.get() >= n) {
            return Err(PortError("the page store refused the write (injected)".into()));
        }
        self.puts.set(self.puts.get() + 1);
        self.objects.borrow_mut().insert(key.to_owned(), (content_type.to_owned(), body));
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), PortError> {
        self.objects.borrow_mut().remove(key);
        Ok(())
    }
}

/// A queue that keeps what is sent (delayed messages apart, with their delay); it can be told
/// to fail.
#[derive(Default)]
pub struct MemoryQueue {
    pub sent: RefCell<Vec<Value>>,
    pub delayed: RefCell<Vec<(Value, u32)>>,
    pub failing: Cell<bool>,
}

impl MemoryQueue {
    /// Takes every message sent so far.
    pub fn take(&self) -> Vec<Value> {
        std::mem::take(&mut self.sent.borrow_mut())
    }
}

impl ChangeQueue for MemoryQueue {
    async fn send(&self, message: &Value) -> Result<(), PortError> {
        if self.failing.get() {
            return Err(PortError("queue unavailable".into()));
        }
        self.sent.borrow_mut().push(message.clone());
        Ok(())
    }

    async fn send_delayed(&self, message: &Value, delay_seconds: u32) -> Result<(), PortError> {
        if self.failing.get() {
            return Err(PortError("queue unavailable".into()));
        }
        self.delayed.borrow_mut().push((message.clone(), delay_seconds));
        Ok(())
    }
}

/// An edge cache in memory: it keeps answers as their edge headers allow (under their
/// `Cache-Tag`s), serves them until a purge covers them, and records the purge calls it
/// takes; it can be told to refuse the next ones. What Cloudflare's cache and the local Varnish
/// do, without time: an entry lives until purged.
#[derive(Default)]
pub struct MemoryEdge {
    pub calls: RefCell<Vec<Call>>,
    /// The next N calls fail with this error.
    pub refuse: RefCell<Option<(usize, PurgeError)>>,
    /// path?query → (answer, its tags).
    pub cached: RefCell<BTreeMap<String, (crate::http::Response, Vec<String>)>>,
    pub hits: Cell<usize>,
    pub misses: Cell<usize>,
}

impl MemoryEdge {
    /// A GET through the edge: a kept answer, or the Worker's (kept if its headers allow).
    pub fn get(&self, platform: &TestPlatform, path_and_query: &str) -> crate::http::Response {
        if let Some((response, _)) = self.cached.borrow().get(path_and_query) {
            self.hits.set(self.hits.get() + 1);
            return response.clone().with_header("cf-cache-status", "HIT");
        }
        self.misses.set(self.misses.get() + 1);
        let request =
            crate::http::Request::new(crate::http::Method::Get, &format!("http://127.0.0.1:8787{path_and_query}"));
        let mut response = run(crate::routes::handle(platform, &request));
        let edge = response.header(crate::serve::EDGE_CACHE_CONTROL).unwrap_or("").to_owned();
        let keep = edge.starts_with("max-age=") && !edge.ends_with("=0") && [200, 404].contains(&response.status);
        let tags: Vec<String> = response
            .header("cache-tag")
            .map(|t| t.split(',').map(|t| t.trim().to_ascii_lowercase()).collect())
            .unwrap_or_default();
        response.headers.remove("cache-tag");
        response.headers.remove(crate::serve::EDGE_CACHE_CONTROL);
        if keep {
            self.cached.borrow_mut().insert(path_and_query.to_owned(), (response.clone(), tags));
        }
        response.with_header("cf-cache-status", "MISS")
    }

    fn evict(&self, call: &Call) {
        let mut cached = self.cached.borrow_mut();
        match call {
            Call::Everything => cached.clear(),
            Call::Tags(tags) => cached.retain(|_, (_, have)| !have.iter().any(|t| tags.contains(t))),
            Call::Coarse { tags, prefixes } => cached.retain(|path, (_, have)| {
                !have.iter().any(|t| tags.contains(t)) && !prefixes.iter().any(|p| path.starts_with(p.as_str()))
            }),
        }
    }

    /// Every tag purged so far, in order.
    pub fn tags(&self) -> Vec<String> {
        self.calls
            .borrow()
            .iter()
            .flat_map(|c| match c {
                Call::Tags(tags) | Call::Coarse { tags, .. } => tags.clone(),
                Call::Everything => Vec::new(),
            })
            .collect()
    }
}

impl Purger for MemoryEdge {
    async fn purge(&self, call: &Call) -> Result<(), PurgeError> {
        let mut refuse = self.refuse.borrow_mut();
        if let Some((n, e)) = refuse.as_mut() {
            if *n > 0 {
                *n -= 1;
                return Err(e.clone());
            }
        }
        self.evict(call);
        self.calls.borrow_mut().push(call.clone());
        Ok(())
    }
}

/// Rate limiters that count per key and allow `limit` uses of each (no period: a test is
/// shorter than one); `None` allows everything.
#[derive(Default)]
pub struct CountingLimits {
    pub limit: Option<usize>,
    pub uses: RefCell<BTreeMap<String, usize>>,
}

impl RateLimiter for CountingLimits {
    async fn limit(&self, binding: &str, key: &str) -> Result<Option<bool>, PortError> {
        let mut uses = self.uses.borrow_mut();
        let n = uses.entry(format!("{binding}/{key}")).or_default();
        *n += 1;
        Ok(Some(self.limit.is_none_or(|limit| *n <= limit)))
    }
}

/// A whole platform in memory, over a migrated SQLite database.
pub struct TestPlatform {
    pub db: Sqlite,
    pub pages: MemoryPages,
    pub queue: MemoryQueue,
    pub limits: CountingLimits,
    pub edge: MemoryEdge,
    pub config: Config,
    /// The clock, in ms since the epoch; advance it by hand.
    pub clock: Cell<u64>,
    next_id: Cell<u64>,
    pub logs: RefCell<Vec<(Level, Value)>>,
}

/// The test platform's moderator, and their token.
pub const MODERATOR: &str = "mia";
pub const MODERATOR_TOKEN: &str = "test-moderator-token-0123";

/// 2026-01-01T00:00:00Z, where the test clock starts.
pub const EPOCH_MS: u64 = 1_767_225_600_000;

impl Default for TestPlatform {
    fn default() -> Self {
        let config = Config::from_vars(
            |_| None,
            |name| match name {
                "VOTER_SECRET" => Some("test voter secret".into()),
                "ADMIN_TOKEN" => Some("test-admin-token".into()),
                "MODERATOR_TOKENS" => Some(format!("{MODERATOR}:{MODERATOR_TOKEN}")),
                _ => None,
            },
        );
        TestPlatform::with_config(config)
    }
}

impl TestPlatform {
    /// A platform with these settings.
    pub fn with_config(config: Config) -> Self {
        TestPlatform {
            db: Sqlite::migrated(),
            pages: MemoryPages::default(),
            queue: MemoryQueue::default(),
            limits: CountingLimits::default(),
            edge: MemoryEdge::default(),
            config,
            clock: Cell::new(EPOCH_MS),
            next_id: Cell::new(1),
            logs: RefCell::new(Vec::new()),
        }
    }

    /// Moves the clock on.
    pub fn advance(&self, ms: u64) {
        self.clock.set(self.clock.get() + ms);
    }

    /// Every log line so far, as text.
    pub fn log_text(&self) -> String {
        self.logs.borrow().iter().map(|(_, l)| l.to_string()).collect::<Vec<_>>().join("\n")
    }
}

impl Platform for TestPlatform {
    type Db = Sqlite;
    type Pages = MemoryPages;
    type Queue = MemoryQueue;
    type Limits = CountingLimits;
    type Edge = MemoryEdge;

    fn db(&self) -> &Sqlite {
        &self.db
    }
    fn pages(&self) -> &MemoryPages {
        &self.pages
    }
    fn queue(&self) -> &MemoryQueue {
        &self.queue
    }
    fn limits(&self) -> &CountingLimits {
        &self.limits
    }
    fn purger(&self) -> &MemoryEdge {
        &self.edge
    }
    fn config(&self) -> &Config {
        &self.config
    }
    fn now(&self) -> Now {
        let ms = self.clock.get();
        Now { ms, rfc3339: rfc3339(ms) }
    }
    fn random_id(&self) -> String {
        let n = self.next_id.get();
        self.next_id.set(n + 1);
        format!("{n:032x}")
    }
    fn log(&self, level: Level, line: Value) {
        if self.config.logs(level) {
            self.logs.borrow_mut().push((level, line));
        }
    }
}

/// Formats ms since the epoch as RFC 3339 UTC to the second (civil-from-days, proleptic
/// Gregorian), as the Worker's clock does.
pub fn rfc3339(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// A database whose round trips wait for permits: a use case run over it stops before its
/// next round trip once the permits are spent, until [`Paused::allow`] gives more.
pub struct Paused<'a, D> {
    pub inner: &'a D,
    permits: Cell<usize>,
}

impl<'a, D> Paused<'a, D> {
    /// A gate that lets `permits` round trips through.
    pub fn new(inner: &'a D, permits: usize) -> Self {
        Paused { inner, permits: Cell::new(permits) }
    }

    /// Lets `n` more round trips through.
    pub fn allow(&self, n: usize) {
        self.permits.set(self.permits.get() + n);
    }

    async fn gate(&self) {
        std::future::poll_fn(|_| {
            let n = self.permits.get();
            if n == 0 {
                return Poll::Pending;
            }
            self.permits.set(n - 1);
            Poll::Ready(())
        })
        .await;
    }
}

impl<D: Database> Database for Paused<'_, D> {
    type Rows = D::Rows;

    async fn query(&self, statement: Statement) -> Result<D::Rows, DbError> {
        self.gate().await;
        self.inner.query(statement).await
    }

    async fn batch(&self, statements: Vec<Statement>) -> Result<Vec<D::Rows>, DbError> {
        self.gate().await;
        self.inner.batch(statements).await
    }
}

#[cfg(test)]
mod tests {
    use super::rfc3339;

    #[test]
    fn the_clock_formats_like_the_worker() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(super::EPOCH_MS), "2026-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_709_251_199_999), "2024-02-29T23:59:59Z");
    }
}
