//! The read side's GET route: stored pages from the page store with their content type, an
//! ETag, 304s for `If-None-Match` (the store is asked for the bytes only when the ETag
//! differs), and HEAD. Pages that depend only on the deployment come from the code. A page the
//! store does not hold yet (a fresh deployment) is rendered from the data on the fly without
//! being stored, so only the publisher writes pages and an older render can never overwrite a
//! newer one. Unknown paths get the generated 404 page.
//!
//! Cache policy: HTML and JSON are `public, max-age=0, must-revalidate` (browsers and the CDN
//! revalidate every time and get a cheap 304 while the ETag holds), `static/` assets are
//! cacheable for an hour.

use generator::gather;
use generator::pages::deployment_data;
use generator::paths::{key_for_path, object_key_for_path};
use generator::{render, Page, PageData, SiteConfig};

use crate::error::ApiResult;
use crate::http::Response;
use crate::platform::{PageStore, Platform};
use crate::read_model::SqlReadModel;

/// Says where a page came from: the page store (`stored`), the deployment's own code
/// (`deployment`: stylesheet, script, robots.txt, 404), or a render on a miss (`rendered`, a
/// stand-in until the page is published).
pub const SOURCE_HEADER: &str = "x-crowdfund-page";

/// Headers on every page: the pages use no inline script or style and load nothing from
/// elsewhere, so the policy allows only this origin; forms post only here; no framing.
pub const SECURITY_HEADERS: [(&str, &str); 4] = [
    (
        "content-security-policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    ),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "strict-origin-when-cross-origin"),
    ("x-frame-options", "DENY"),
];

/// Answers a GET or HEAD for a page (`path` percent-decoded).
pub async fn page(
    platform: &impl Platform,
    path: &str,
    if_none_match: Option<&str>,
    head: bool,
) -> ApiResult<Response> {
    let site = &platform.config().site;
    let object_key = object_key_for_path(path);
    let key = key_for_path(path);
    if let Some(data) = key.as_ref().and_then(deployment_data) {
        if let Some(page) = render(site, &data)?.into_iter().find(|p| p.key == object_key) {
            return Ok(rendered(page, "deployment", if_none_match, head));
        }
    }
    let stored = if head {
        platform.pages().head(&object_key).await?
    } else {
        platform.pages().get(&object_key, if_none_match.and_then(single_etag)).await?
    };
    if let Some(object) = stored {
        let body = object.body.unwrap_or_default();
        return Ok(answer(200, &object_key, &object.content_type, &object.etag, body, if_none_match)
            .with_header(SOURCE_HEADER, "stored"));
    }
    // Not stored (yet): render from the data if the path names a page.
    if let Some(key) = key {
        let data = gather::page_data(&SqlReadModel(platform.db()), &key).await?;
        if let Some(page) = render(site, &data)?.into_iter().find(|p| p.key == object_key) {
            return Ok(rendered(page, "rendered", if_none_match, head));
        }
    }
    not_found(site)
}

/// A page rendered for this request (`source`: "deployment" for the code's own pages,
/// "rendered" for data pages): revalidated like the stored pages, with an ETag of its bytes.
pub fn rendered(page: Page, source: &str, if_none_match: Option<&str>, head: bool) -> Response {
    let etag = etag_of(&page.body);
    let body = if head { Vec::new() } else { page.body };
    answer(200, &page.key, page.content_type, &etag, body, if_none_match).with_header(SOURCE_HEADER, source)
}

/// The generated 404 page with status 404.
pub fn not_found(site: &SiteConfig) -> ApiResult<Response> {
    let page = render(site, &PageData::NotFound)?.into_iter().next().unwrap_or(Page {
        key: "404.html".into(),
        content_type: "text/plain; charset=utf-8",
        body: b"not found".to_vec(),
    });
    Ok(answer(404, &page.key, page.content_type, "", page.body, None))
}

/// A page answer: content type, cache policy, security headers, ETag (304 when it matches).
fn answer(
    status: u16,
    object_key: &str,
    content_type: &str,
    etag: &str,
    body: Vec<u8>,
    if_none_match: Option<&str>,
) -> Response {
    let mut response = Response::new(status, body)
        .with_header("content-type", content_type)
        .with_header("cache-control", cache_control(object_key, status));
    for (name, value) in SECURITY_HEADERS {
        response.headers.set(name, value);
    }
    if !etag.is_empty() {
        response.headers.set("etag", etag);
        if status == 200 && if_none_match.is_some_and(|inm| etag_matches(inm, etag)) {
            response.status = 304;
            response.body.clear();
        }
    }
    response
}

/// Chooses the Cache-Control of an object (see the module doc).
pub fn cache_control(object_key: &str, status: u16) -> &'static str {
    if status != 200 {
        "no-store"
    } else if object_key.starts_with("static/") {
        "public, max-age=3600"
    } else {
        "public, max-age=0, must-revalidate"
    }
}

/// Whether an `If-None-Match` value names this ETag (weak comparison, `*` matches all).
pub fn etag_matches(if_none_match: &str, etag: &str) -> bool {
    let bare = |t: &str| t.trim().trim_start_matches("W/").trim_matches('"').to_owned();
    if_none_match.split(',').any(|t| t.trim() == "*" || bare(t) == bare(etag))
}

/// The one ETag an `If-None-Match` names, without `W/` or quotes, for the store's conditional
/// read; `None` for a list or `*` (those are compared after a plain read).
pub fn single_etag(if_none_match: &str) -> Option<&str> {
    let tag = if_none_match.trim();
    if tag.contains(',') || tag == "*" {
        return None;
    }
    let tag = tag.trim_start_matches("W/").trim_matches('"');
    (!tag.is_empty() && !tag.contains('"')).then_some(tag)
}

/// A strong ETag for bytes rendered on the fly (FNV-1a, 64 bits: enough to tell versions apart).
pub fn etag_of(body: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in body {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("\"{h:016x}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_match_weakly_and_by_list() {
        assert!(etag_matches("\"abc\"", "\"abc\""));
        assert!(etag_matches("W/\"abc\"", "\"abc\""));
        assert!(etag_matches("\"x\", \"abc\"", "\"abc\""));
        assert!(etag_matches("*", "\"abc\""));
        assert!(!etag_matches("\"abd\"", "\"abc\""));
    }

    #[test]
    fn the_store_is_asked_conditionally_for_one_etag_only() {
        assert_eq!(single_etag("\"abc\""), Some("abc"));
        assert_eq!(single_etag(" W/\"abc\" "), Some("abc"));
        assert_eq!(single_etag("\"a\", \"b\""), None);
        assert_eq!(single_etag("*"), None);
        assert_eq!(single_etag("\"\""), None);
    }

    #[test]
    fn pages_revalidate_assets_cache_and_errors_are_not_kept() {
        assert_eq!(cache_control("projects/1/index.html", 200), "public, max-age=0, must-revalidate");
        assert_eq!(cache_control("static/app.js", 200), "public, max-age=3600");
        assert_eq!(cache_control("404.html", 404), "no-store");
    }

    #[test]
    fn a_matching_etag_is_a_304_without_body() {
        let r = answer(200, "index.html", "text/html", "\"e\"", b"x".to_vec(), Some("\"e\""));
        assert_eq!((r.status, r.body.len()), (304, 0));
        assert_eq!(r.header("etag"), Some("\"e\""));
        let r = answer(200, "index.html", "text/html", "\"e\"", b"x".to_vec(), Some("\"f\""));
        assert_eq!((r.status, r.body.as_slice()), (200, &b"x"[..]));
    }

    #[test]
    fn rendered_etags_tell_bytes_apart() {
        assert_ne!(etag_of(b"a"), etag_of(b"b"));
        assert_eq!(etag_of(b"a"), etag_of(b"a"));
    }
}
