//! The edge cache's purges, whichever edge is in front of the Worker:
//! - in production, Cloudflare's Workers Caching: `cache.purge({tags, pathPrefixes} |
//!   {purgeEverything})` from `cloudflare:workers` (it works in every handler, the queue
//!   consumer and the cron included);
//! - under `make dev`, the local edge (Varnish, `edge/edge.vcl`): a POST to its purge listener
//!   (`EDGE_PURGE_URL`) with the tags, prefixes or "everything" as headers;
//! - with neither (a bare `wrangler dev`, where `cache.purge` is not a function), nothing to
//!   purge.

use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use worker::{Fetch, Headers, Method, Request, RequestInit};

use crowdfund_core::platform::{PurgeError, Purger};
use crowdfund_core::purge::plan::Call;

// A namespace import: `cache` may be missing (older runtimes), which a named import would turn
// into a link error of the whole Worker.
#[wasm_bindgen(
    inline_js = "import * as workers from 'cloudflare:workers'; export function workers_cache() { return workers.cache; }"
)]
extern "C" {
    fn workers_cache() -> JsValue;
}

/// The edge in front of the Worker.
pub enum Edge {
    /// Workers Caching: the `cache` object whose `purge` is a function.
    Workers(JsValue),
    /// The local edge's purge listener.
    Local(String),
    /// No edge cache.
    None,
}

impl Edge {
    /// Finds the edge: the local one when configured, else Workers Caching when the runtime
    /// has it.
    pub fn detect(local_purge_url: Option<&str>) -> Self {
        if let Some(url) = local_purge_url {
            return Edge::Local(url.to_owned());
        }
        let cache = workers_cache();
        let purge = Reflect::get(&cache, &JsValue::from_str("purge")).unwrap_or(JsValue::UNDEFINED);
        if purge.is_function() {
            Edge::Workers(cache)
        } else {
            Edge::None
        }
    }
}

fn strings(items: &[String]) -> Array {
    items.iter().map(|s| JsValue::from_str(s)).collect()
}

fn failed(e: impl std::fmt::Debug) -> PurgeError {
    PurgeError::Failed(format!("{e:?}"))
}

impl Edge {
    async fn purge_workers(cache: &JsValue, call: &Call) -> Result<(), PurgeError> {
        let options = Object::new();
        let set = |key: &str, value: &JsValue| Reflect::set(&options, &JsValue::from_str(key), value).map(|_| ());
        match call {
            Call::Tags(tags) => set("tags", &strings(tags)),
            Call::Coarse { tags, prefixes } => {
                if !tags.is_empty() {
                    set("tags", &strings(tags)).map_err(failed)?;
                }
                set("pathPrefixes", &strings(prefixes))
            }
            Call::Everything => set("purgeEverything", &JsValue::TRUE),
        }
        .map_err(failed)?;
        let purge: Function =
            Reflect::get(cache, &JsValue::from_str("purge")).map_err(failed)?.dyn_into().map_err(failed)?;
        let promise: Promise = purge.call1(cache, &options).map_err(failed)?.dyn_into().map_err(failed)?;
        let result = JsFuture::from(promise).await.map_err(failed)?;
        let success = Reflect::get(&result, &JsValue::from_str("success")).map(|v| v.is_truthy()).unwrap_or(false);
        if success {
            return Ok(());
        }
        let errors = Reflect::get(&result, &JsValue::from_str("errors")).unwrap_or(JsValue::UNDEFINED);
        let text = js_sys::JSON::stringify(&errors).map(String::from).unwrap_or_default();
        if text.contains("rate") || text.contains("429") {
            Err(PurgeError::RateLimited)
        } else {
            Err(PurgeError::Failed(text))
        }
    }

    async fn purge_local(url: &str, call: &Call) -> Result<(), PurgeError> {
        let headers = Headers::new();
        match call {
            Call::Tags(tags) => headers.set("xkey-purge", &tags.join(" ")),
            Call::Coarse { tags, prefixes } => {
                if !tags.is_empty() {
                    headers.set("xkey-purge", &tags.join(" ")).map_err(failed)?;
                }
                headers.set("x-purge-prefix", &prefixes.join(" "))
            }
            Call::Everything => headers.set("x-purge-everything", "1"),
        }
        .map_err(failed)?;
        let mut init = RequestInit::new();
        init.with_method(Method::Post).with_headers(headers);
        let request = Request::new_with_init(url, &init).map_err(failed)?;
        let response = Fetch::Request(request).send().await.map_err(failed)?;
        match response.status_code() {
            200..=299 => Ok(()),
            429 => Err(PurgeError::RateLimited),
            status => Err(PurgeError::Failed(format!("the local edge answered {status}"))),
        }
    }
}

impl Purger for Edge {
    async fn purge(&self, call: &Call) -> Result<(), PurgeError> {
        match self {
            Edge::Workers(cache) => Self::purge_workers(cache, call).await,
            Edge::Local(url) => Self::purge_local(url, call).await,
            Edge::None => Ok(()),
        }
    }
}
