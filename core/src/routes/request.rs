//! Reading requests: bodies (JSON or HTML forms), path ids, query values, headers, the clock.

use serde::de::DeserializeOwned;
use worker::Request;

use super::{Call, Submission};
use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::forms::{Form, FormRoute};
use crate::input::{self, MAX_BODY_BYTES};
use crate::sender::{BodyKind, Origins, Sender};

/// Reads a write's body as [`BodyKind::of`] decides: JSON (the API, and any JSON document from
/// a client that is not a browser on another site) or an urlencoded HTML form from this site's
/// pages, turned into the same JSON so one set of rules validates both.
pub async fn body<T: DeserializeOwned>(c: &mut Call<'_>, route: FormRoute) -> ApiResult<T> {
    let sender = sender(c);
    sender.check()?;
    if header(&c.req, "content-length").and_then(|l| l.parse::<usize>().ok()).is_some_and(|l| l > MAX_BODY_BYTES) {
        return Err(ApiError::TooLarge { limit: MAX_BODY_BYTES });
    }
    let body = raw_body(&mut c.req).await?;
    if body.len() > MAX_BODY_BYTES {
        return Err(ApiError::TooLarge { limit: MAX_BODY_BYTES });
    }
    match BodyKind::of(header(&c.req, "content-type").as_deref(), &body, &sender)? {
        BodyKind::Json => input::parse_json(&body),
        BodyKind::Form => {
            let form = Form::parse(&body);
            let json = form.to_json(route);
            c.figures.form = Some(Submission { form, route, path: c.path.clone() });
            let json = serde_json::to_vec(&json?).map_err(db::internal)?;
            input::parse_json(&json)
        }
    }
}

/// Reads the raw body.
pub async fn raw_body(req: &mut Request) -> ApiResult<Vec<u8>> {
    req.bytes().await.map_err(|_| ApiError::Malformed { message: "the body could not be read".into() })
}

/// Who sent the request (`Origin`, else `Referer`, against this site and `ALLOWED_ORIGINS`).
pub fn sender(c: &Call<'_>) -> Sender {
    let own = own_origin(&c.req);
    let origins = Origins { own: [&own, &c.config.site.base_url], allowed: &c.config.allowed_origins };
    Sender::of(header(&c.req, "origin").as_deref(), header(&c.req, "referer").as_deref(), &origins)
}

/// This Worker's own origin, from the request URL.
pub fn own_origin(req: &Request) -> String {
    req.url().map(|u| u.origin().ascii_serialization()).unwrap_or_default()
}

/// A request header's value.
pub fn header(req: &Request, name: &str) -> Option<String> {
    req.headers().get(name).ok().flatten()
}

/// A query parameter's value.
pub fn query(req: &Request, name: &str) -> ApiResult<Option<String>> {
    let url = req.url().map_err(db::internal)?;
    Ok(url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned()))
}

/// An id in the path; anything else means the thing does not exist (404, its field named
/// `{what}_id` like every 404 of a missing project or thread).
pub fn path_id(raw: &str, what: &str) -> ApiResult<i64> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| (1..=(1_i64 << 53)).contains(id))
        .ok_or_else(|| ApiError::NotFound { what: format!("{what} {raw}"), field: Some(format!("{what}_id")) })
}

/// The `Idempotency-Key` header, if sent: 1 to 128 visible ASCII characters.
pub fn idempotency_key(req: &Request) -> ApiResult<Option<String>> {
    match header(req, "idempotency-key") {
        None => Ok(None),
        Some(k) if !k.is_empty() && k.len() <= 128 && k.bytes().all(|b| b.is_ascii_graphic()) => Ok(Some(k)),
        Some(_) => Err(ApiError::invalid("Idempotency-Key", "1 to 128 visible ASCII characters")),
    }
}

/// Returns the time now as RFC 3339 UTC to the second (the snapshot format) and in ms.
pub fn now() -> (String, u64) {
    let date = js_sys::Date::new_0();
    let iso = String::from(date.to_iso_string()); // 2026-11-22T14:16:38.123Z
    let seconds = iso.split('.').next().unwrap_or(&iso);
    (format!("{seconds}Z"), date.get_time() as u64)
}

/// Decodes `%XX` escapes of a URL path (tags may be non-ASCII); `None` if not valid UTF-8.
pub fn percent_decode(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}
