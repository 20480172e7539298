//! Reading requests: bodies (JSON or HTML forms), path ids, query values, the idempotency key.

use serde::de::DeserializeOwned;

use super::{Call, Submission};
use crate::error::{ApiError, ApiResult};
use crate::http::sender::{BodyKind, Origins, Sender};
use crate::platform::Platform;
use crate::rules::forms::{Form, FormRoute};
use crate::rules::input::{self, MAX_BODY_BYTES};

/// Reads a write's body as [`BodyKind::of`] decides: JSON (the API, and any JSON document from
/// a client that is not a browser on another site) or an urlencoded HTML form from this site's
/// pages, turned into the same JSON so one set of rules validates both.
pub fn body<T: DeserializeOwned, P: Platform>(c: &mut Call<'_, P>, route: FormRoute) -> ApiResult<T> {
    let sender = sender(c);
    sender.check()?;
    let body = &c.req.body;
    if body.len() > MAX_BODY_BYTES {
        return Err(ApiError::TooLarge { limit: MAX_BODY_BYTES });
    }
    match BodyKind::of(c.req.header("content-type"), body, &sender)? {
        BodyKind::Json => input::parse_json(body),
        BodyKind::Form => {
            let form = Form::parse(body);
            let json = form.to_json(route);
            c.figures.form = Some(Submission { form, route, path: c.req.path.clone() });
            input::parse_json(&serde_json::to_vec(&json?)?)
        }
    }
}

/// Who sent the request (`Origin`, else `Referer`, against this site and `ALLOWED_ORIGINS`).
pub fn sender<P: Platform>(c: &Call<'_, P>) -> Sender {
    let config = c.platform.config();
    let origins = Origins { own: [&c.req.origin, &config.site.base_url], allowed: &config.allowed_origins };
    Sender::of(c.req.header("origin"), c.req.header("referer"), &origins)
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
pub fn idempotency_key<P: Platform>(c: &Call<'_, P>) -> ApiResult<Option<String>> {
    match c.req.header("idempotency-key") {
        None => Ok(None),
        Some(k) if !k.is_empty() && k.len() <= 128 && k.bytes().all(|b| b.is_ascii_graphic()) => Ok(Some(k.to_owned())),
        Some(_) => Err(ApiError::invalid("Idempotency-Key", "1 to 128 visible ASCII characters")),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_ids_are_positive_js_safe_integers() {
        assert_eq!(path_id("12", "project"), Ok(12));
        for bad in ["0", "-1", "abc", "9007199254740993", ""] {
            let e = path_id(bad, "thread").unwrap_err();
            assert_eq!((e.status(), e.field()), (404, Some("thread_id")), "{bad}");
        }
    }

    #[test]
    fn paths_decode_percent_escapes() {
        assert_eq!(percent_decode("/tags/caf%C3%A9/").as_deref(), Some("/tags/café/"));
        assert_eq!(percent_decode("/a%2").as_deref(), Some("/a%2"));
        assert_eq!(percent_decode("/%FF"), None);
    }
}
