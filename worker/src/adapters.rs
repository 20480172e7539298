//! The core's ports over the Workers runtime: D1 ([`D1`]), R2 ([`R2`]), Queues ([`Changes`]),
//! the rate-limiting bindings ([`Limiters`]), the edge cache ([`Edge`]), `Date.now()`, `crypto.getRandomValues` and the
//! console.

use std::cell::{OnceCell, RefCell};
use std::rc::Rc;

use serde::de::DeserializeOwned;
use wasm_bindgen::JsValue;
use worker::{
    Bucket, Conditional, D1Database, D1PreparedStatement, D1Result, Env, HttpMetadata, Queue, QueueContentType,
    RawMessageBuilder, ResponseBody,
};

use crowdfund_core::config::Config;
use crowdfund_core::platform::{
    hex_id, ChangeQueue, Level, Now, PageStore, Platform, PortError, RateLimiter, StoredBody, StoredObject,
};
use crowdfund_core::sql::{Database, DbError, Param, Rows, Statement};

use crate::bindings::{CHANGES, DB, PAGES};
use crate::edge::Edge;
use crate::timings::Spent;

/// D1, one round trip per call.
pub struct D1(pub D1Database, pub Spent);

/// A statement's rows as D1 returned them.
pub struct D1Rows(D1Result);

impl Rows for D1Rows {
    fn decode<T: DeserializeOwned>(&self) -> Result<Vec<T>, DbError> {
        self.0.results::<T>().map_err(|e| DbError::new(e.to_string()))
    }

    fn rows_written(&self) -> usize {
        self.0.meta().ok().flatten().and_then(|m| m.rows_written).unwrap_or(0)
    }
}

fn js(param: &Param) -> JsValue {
    match param {
        Param::Null => JsValue::NULL,
        // D1 takes JS numbers, never BigInt; ids and counts stay below 2^53.
        Param::Int(v) => JsValue::from_f64(*v as f64),
        Param::Real(v) => JsValue::from_f64(*v),
        Param::Text(v) => JsValue::from_str(v),
    }
}

impl D1 {
    fn prepare(&self, statement: &Statement) -> Result<D1PreparedStatement, DbError> {
        let params: Vec<JsValue> = statement.params.iter().map(js).collect();
        self.0.prepare(statement.sql.as_ref()).bind(&params).map_err(|e| DbError::new(e.to_string()))
    }
}

impl Database for D1 {
    type Rows = D1Rows;

    async fn query(&self, statement: Statement) -> Result<D1Rows, DbError> {
        let prepared = self.prepare(&statement)?;
        self.1.time(prepared.all()).await.map(D1Rows).map_err(|e| DbError::new(e.to_string()))
    }

    async fn batch(&self, statements: Vec<Statement>) -> Result<Vec<D1Rows>, DbError> {
        let prepared = statements.iter().map(|s| self.prepare(s)).collect::<Result<Vec<_>, _>>()?;
        let results = self.1.time(self.0.batch(prepared)).await.map_err(|e| DbError::new(e.to_string()))?;
        Ok(results.into_iter().map(D1Rows).collect())
    }
}

/// The R2 bucket of pages. A page read for an answer stays R2's stream (`held`), which
/// [`crate::convert::response`] hands to the response: its bytes never enter wasm memory.
pub struct R2(pub Bucket, pub Spent, RefCell<Option<ResponseBody>>);

impl R2 {
    /// The body of the last page read, to stream into the answer.
    pub fn take_held(&self) -> Option<ResponseBody> {
        self.2.borrow_mut().take()
    }
}

fn port(e: worker::Error) -> PortError {
    PortError(e.to_string())
}

impl PageStore for R2 {
    async fn get(&self, key: &str, unless_etag: Option<&str>) -> Result<Option<StoredObject>, PortError> {
        let mut get = self.0.get(key);
        if let Some(etag) = unless_etag {
            get = get.only_if(Conditional { etag_does_not_match: Some(etag.to_owned()), ..Conditional::default() });
        }
        let Some(object) = self.1.time(get.execute()).await.map_err(port)? else { return Ok(None) };
        // A failed precondition (the ETag matches) gives the object without a body.
        let body = match object.body() {
            Some(body) => {
                *self.2.borrow_mut() = Some(body.response_body().map_err(port)?);
                Some(StoredBody::Held)
            }
            None => None,
        };
        Ok(Some(StoredObject {
            etag: object.http_etag(),
            content_type: object.http_metadata().content_type.unwrap_or_else(|| "application/octet-stream".into()),
            body,
        }))
    }

    async fn head(&self, key: &str) -> Result<Option<StoredObject>, PortError> {
        Ok(self.1.time(self.0.head(key)).await.map_err(port)?.map(|object| StoredObject {
            etag: object.http_etag(),
            content_type: object.http_metadata().content_type.unwrap_or_else(|| "application/octet-stream".into()),
            body: None,
        }))
    }

    async fn put(&self, key: &str, content_type: &str, body: Vec<u8>) -> Result<(), PortError> {
        let meta = HttpMetadata { content_type: Some(content_type.to_owned()), ..Default::default() };
        self.1.time(self.0.put(key, body).http_metadata(meta).execute()).await.map_err(port)?;
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), PortError> {
        self.1.time(self.0.delete(key)).await.map_err(port)
    }
}

/// The producer side of the "changes" queue.
pub struct Changes(pub Queue, pub Spent);

impl ChangeQueue for Changes {
    /// Sends the message as a plain JS object. (`Queue::send` would turn a `serde_json::Value`
    /// object into a JS `Map`, which the queue's JSON encoding writes as `{}`.)
    async fn send(&self, message: &serde_json::Value) -> Result<(), PortError> {
        let object = js_sys::JSON::parse(&message.to_string()).map_err(|e| PortError(format!("{e:?}")))?;
        let raw = RawMessageBuilder::new(object).build_with_content_type(QueueContentType::Json);
        self.1.time(self.0.send_raw(raw)).await.map_err(port)
    }

    async fn send_delayed(&self, message: &serde_json::Value, delay_seconds: u32) -> Result<(), PortError> {
        let object = js_sys::JSON::parse(&message.to_string()).map_err(|e| PortError(format!("{e:?}")))?;
        let raw =
            RawMessageBuilder::new(object).delay_seconds(delay_seconds).build_with_content_type(QueueContentType::Json);
        self.1.time(self.0.send_raw(raw)).await.map_err(port)
    }
}

/// The rate-limiting bindings, looked up by name when used.
pub struct Limiters(pub Env, pub Spent);

impl RateLimiter for Limiters {
    async fn limit(&self, binding: &str, key: &str) -> Result<Option<bool>, PortError> {
        let Ok(limiter) = self.0.rate_limiter(binding) else { return Ok(None) };
        Ok(Some(self.1.time(limiter.limit(key.to_owned())).await.map_err(port)?.success))
    }
}

/// The platform of one event: bindings, settings read once, the clock and randomness.
pub struct WorkerPlatform {
    db: D1,
    pages: R2,
    queue: Changes,
    limits: Limiters,
    edge: Edge,
    config: Rc<Config>,
}

thread_local! {
    /// The settings, read from the environment by the isolate's first event: vars and secrets
    /// change only with a new deployment, which starts new isolates. (Reading them is about
    /// twenty calls into JS; every request paid for them.)
    static CONFIG: OnceCell<Rc<Config>> = const { OnceCell::new() };
}

impl WorkerPlatform {
    /// Binds the Worker's environment (fails only when a binding is missing: a deployment
    /// mistake).
    pub fn new(env: &Env) -> worker::Result<Self> {
        let config = CONFIG.with(|cell| {
            cell.get_or_init(|| {
                Rc::new(Config::from_vars(
                    |name| env.var(name).ok().map(|v| v.to_string()),
                    |name| env.secret(name).ok().map(|v| v.to_string()),
                ))
            })
            .clone()
        });
        Ok(WorkerPlatform {
            db: D1(env.d1(DB)?, Spent::default()),
            pages: R2(env.bucket(PAGES)?, Spent::default(), RefCell::default()),
            queue: Changes(env.queue(CHANGES)?, Spent::default()),
            limits: Limiters(env.clone(), Spent::default()),
            edge: Edge::detect(config.edge_purge_url.as_deref()),
            config,
        })
    }
}

impl WorkerPlatform {
    /// The stored page an answer streams ([`R2::take_held`]).
    pub fn take_held_body(&self) -> Option<ResponseBody> {
        self.pages.take_held()
    }

    /// The `timings` line of an event that started at `start_ms` (see [`crate::timings`]), or
    /// `None` unless the var `TIMINGS=on`.
    pub fn timings(&self, what: &str, start_ms: f64) -> Option<serde_json::Value> {
        if !self.config.timings {
            return None;
        }
        let figure = |spent: &Spent| {
            let (ms, calls) = spent.figures();
            serde_json::json!({"ms": ms, "calls": calls})
        };
        Some(serde_json::json!({
            "event": "timings", "what": what, "total_ms": js_sys::Date::now() - start_ms,
            "d1": figure(&self.db.1), "r2": figure(&self.pages.1), "queue": figure(&self.queue.1),
            "limits": figure(&self.limits.1),
        }))
    }
}

impl Platform for WorkerPlatform {
    type Db = D1;
    type Pages = R2;
    type Queue = Changes;
    type Limits = Limiters;
    type Edge = Edge;

    fn db(&self) -> &D1 {
        &self.db
    }
    fn pages(&self) -> &R2 {
        &self.pages
    }
    fn queue(&self) -> &Changes {
        &self.queue
    }
    fn limits(&self) -> &Limiters {
        &self.limits
    }
    fn purger(&self) -> &Edge {
        &self.edge
    }
    fn config(&self) -> &Config {
        &self.config
    }

    fn now(&self) -> Now {
        let date = js_sys::Date::new_0();
        let iso = String::from(date.to_iso_string()); // 2026-11-22T14:16:38.123Z
        let seconds = iso.split('.').next().unwrap_or(&iso);
        Now { ms: date.get_time() as u64, rfc3339: format!("{seconds}Z") }
    }

    fn random_id(&self) -> String {
        let mut bytes = [0_u8; 16];
        // crypto.getRandomValues does not fail in a Worker.
        let _ = getrandom::getrandom(&mut bytes);
        hex_id(bytes)
    }

    fn log(&self, level: Level, line: serde_json::Value) {
        if !self.config.logs(level) {
            return;
        }
        match level {
            Level::Info => worker::console_log!("{line}"),
            Level::Warn => worker::console_warn!("{line}"),
            Level::Error => worker::console_error!("{line}"),
        }
    }
}
