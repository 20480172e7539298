//! The read side's GET route: stored pages from the page store with their content type, an
//! ETag, 304s for `If-None-Match` (the store is asked for the bytes only when the ETag
//! differs), and HEAD. Pages that depend only on the deployment come from the code. A page the
//! store does not hold yet (a fresh deployment) is rendered from the data on the fly without
//! being stored, so only the publisher writes pages and an older render can never overwrite a
//! newer one. Unknown paths get the generated 404 page.
//!
//! Cache policy ([`Policy`]): browsers revalidate pages every time (`public, max-age=0,
//! must-revalidate` and an ETag: a cheap 304 while unchanged); the edge keeps them for the edge
//! lifetime (`Cloudflare-CDN-Cache-Control`, which Cloudflare strips before the visitor, as
//! the local edge does) under the page's `Cache-Tag`s, which the publisher purges exactly when
//! the page changes. A writer's own view (`?fresh=` or `?published=`, what `app.js` and the
//! no-script redirect ask for) is never kept: it bypasses a stale edge copy.

use generator::gather;
use generator::pages::deployment_data;
use generator::paths::{cache_tags, key_for_path, object_key_for_path};
use generator::{render, Page, PageData, SiteConfig};

use crate::error::ApiResult;
use crate::http::Response;
use crate::platform::{PageStore, Platform, StoredBody};
use crate::prefetch::Prefetched;

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

/// How an answer may be cached by browsers and by the edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Policy {
    /// A page of the data: revalidated by browsers, kept by the edge under its tags.
    Page(Vec<String>),
    /// A page of the deployment (stylesheet, script, robots.txt): an hour in browsers, a day at
    /// the edge (a deploy starts a new edge cache).
    Deployment,
    /// The 404 page for a path: no browser keeps it; the edge keeps it under the tags of the
    /// page the path names (purged when that page appears), or briefly when it names none.
    Missing(Vec<String>),
    /// A writer's own view: no one keeps it.
    Private,
    /// A search answer: revalidated by browsers, kept by the edge for
    /// [`SEARCH_EDGE_SECONDS`] (no purge names it: it follows the data within that time).
    Search,
}

/// How long the edge keeps a search answer.
pub const SEARCH_EDGE_SECONDS: u64 = 60;

/// How long the edge keeps a 404 of a path that names no page.
pub const UNKNOWN_PATH_EDGE_SECONDS: u64 = 60;
/// How long the edge keeps the deployment's own pages.
pub const DEPLOYMENT_EDGE_SECONDS: u64 = 86_400;

impl Policy {
    /// Sets the caching headers of an answer.
    pub fn apply(&self, response: &mut Response, edge_ttl_seconds: u64) {
        let (browser, edge, tags): (&str, Option<u64>, Vec<String>) = match self {
            Policy::Page(tags) => ("public, max-age=0, must-revalidate", Some(edge_ttl_seconds), tags.clone()),
            Policy::Deployment => ("public, max-age=3600", Some(DEPLOYMENT_EDGE_SECONDS), vec!["deployment".into()]),
            Policy::Missing(tags) if tags.is_empty() => {
                ("no-store", Some(UNKNOWN_PATH_EDGE_SECONDS), vec!["notfound".into()])
            }
            Policy::Missing(tags) => ("no-store", Some(edge_ttl_seconds), tags.clone()),
            Policy::Private => ("private, no-store", None, Vec::new()),
            Policy::Search => ("public, max-age=0, must-revalidate", Some(SEARCH_EDGE_SECONDS), vec!["search".into()]),
        };
        response.headers.set("cache-control", browser);
        match edge {
            Some(seconds) => response.headers.set(EDGE_CACHE_CONTROL, format!("max-age={seconds}")),
            None => response.headers.remove(EDGE_CACHE_CONTROL),
        }
        if tags.is_empty() {
            response.headers.remove("cache-tag");
        } else {
            response.headers.set("cache-tag", tags.join(","));
        }
    }
}

/// The edge's own Cache-Control (Cloudflare's, stripped before the visitor; the local edge
/// does the same).
pub const EDGE_CACHE_CONTROL: &str = "cloudflare-cdn-cache-control";

/// Whether a page request is a writer's own view: `?fresh=` (app.js after a write) or
/// `?published=` (the redirect after a form).
pub fn is_writer_view(query: Option<&str>) -> bool {
    query.is_some_and(|q| form_urlencoded::parse(q.as_bytes()).any(|(k, _)| k == "fresh" || k == "published"))
}

/// Answers a GET or HEAD for a page (`path` percent-decoded). A writer's view reads the store
/// like any other request (so app.js can tell a published page), except right after a form
/// (`?published=`), when the page is rendered from the data: it shows the write at once.
pub async fn page(
    platform: &impl Platform,
    path: &str,
    query: Option<&str>,
    if_none_match: Option<&str>,
    head: bool,
) -> ApiResult<Response> {
    let config = platform.config();
    let site = &config.site;
    let ttl = config.edge_ttl_seconds;
    let object_key = object_key_for_path(path);
    let key = key_for_path(path);
    let writer = is_writer_view(query);
    let tags = key.as_ref().map(cache_tags).unwrap_or_default();
    let policy = if writer { Policy::Private } else { Policy::Page(tags.clone()) };
    if let Some(data) = key.as_ref().and_then(deployment_data) {
        if let Some(page) = render(site, &data)?.into_iter().find(|p| p.key == object_key) {
            let policy = if writer { Policy::Private } else { Policy::Deployment };
            return Ok(rendered(page, "deployment", if_none_match, head, &policy, ttl));
        }
    }
    if let Some(response) = stored(platform, path, query, if_none_match, head).await? {
        return Ok(response);
    }
    // Not stored (yet), or a writer's view right after a form: render from the data.
    if let Some(key) = &key {
        let data = gather::page_data(&Prefetched::none(platform.db()), key).await?;
        if let Some(page) = render(site, &data)?.into_iter().find(|p| p.key == object_key) {
            return Ok(rendered(page, "rendered", if_none_match, head, &policy, ttl));
        }
    }
    not_found(site, if writer { Policy::Private } else { Policy::Missing(tags) }, ttl)
}

/// The stored page a GET or HEAD for `path` is answered with, if the store holds it and the
/// request may have it: `None` for the deployment's own pages, a writer's view right after a
/// form (`?published=`) and a page not stored yet, which are all rendered (the request
/// Worker hands those to the publisher).
pub async fn stored(
    platform: &impl Platform,
    path: &str,
    query: Option<&str>,
    if_none_match: Option<&str>,
    head: bool,
) -> ApiResult<Option<Response>> {
    let key = key_for_path(path);
    let just_written = query.is_some_and(|q| form_urlencoded::parse(q.as_bytes()).any(|(k, _)| k == "published"));
    if just_written || key.as_ref().and_then(deployment_data).is_some() {
        return Ok(None);
    }
    let object_key = object_key_for_path(path);
    let stored = if head {
        platform.pages().head(&object_key).await?
    } else {
        platform.pages().get(&object_key, if_none_match.and_then(single_etag)).await?
    };
    let Some(object) = stored else { return Ok(None) };
    let (body, held) = match object.body {
        Some(StoredBody::Bytes(bytes)) => (bytes, false),
        Some(StoredBody::Held) => (Vec::new(), true),
        None => (Vec::new(), false),
    };
    let mut response = answer(200, &object.content_type, &object.etag, body, if_none_match);
    response.held_body = held && response.status == 200;
    let policy = match is_writer_view(query) {
        true => Policy::Private,
        false => Policy::Page(key.as_ref().map(cache_tags).unwrap_or_default()),
    };
    policy.apply(&mut response, platform.config().edge_ttl_seconds);
    Ok(Some(response.with_header(SOURCE_HEADER, "stored")))
}

/// A page rendered for this request (`source`: "deployment" for the code's own pages,
/// "rendered" for data pages): revalidated like the stored pages, with an ETag of its bytes.
pub fn rendered(
    page: Page,
    source: &str,
    if_none_match: Option<&str>,
    head: bool,
    policy: &Policy,
    edge_ttl_seconds: u64,
) -> Response {
    let etag = etag_of(&page.body);
    let body = if head { Vec::new() } else { page.body };
    let mut response = answer(200, page.content_type, &etag, body, if_none_match);
    policy.apply(&mut response, edge_ttl_seconds);
    response.with_header(SOURCE_HEADER, source)
}

/// The generated 404 page with status 404.
pub fn not_found(site: &SiteConfig, policy: Policy, edge_ttl_seconds: u64) -> ApiResult<Response> {
    let page = render(site, &PageData::NotFound)?.into_iter().next().unwrap_or(Page {
        key: "404.html".into(),
        content_type: "text/plain; charset=utf-8",
        body: b"not found".to_vec(),
    });
    let mut response = answer(404, page.content_type, "", page.body, None);
    policy.apply(&mut response, edge_ttl_seconds);
    Ok(response)
}

/// A page answer: content type, security headers, ETag (304 when it matches).
fn answer(status: u16, content_type: &str, etag: &str, body: Vec<u8>, if_none_match: Option<&str>) -> Response {
    let mut response = Response::new(status, body).with_header("content-type", content_type);
    for (name, value) in SECURITY_HEADERS {
        response.headers.set(name, value);
    }
    if !etag.is_empty() {
        response.headers.set("etag", etag);
        if status == 200 && if_none_match.is_some_and(|inm| etag_matches(inm, etag)) {
            response.status = 304;
            response.clear_body();
        }
    }
    response
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

    fn headers(policy: Policy) -> (Option<String>, Option<String>, Option<String>) {
        let mut r = Response::new(200, Vec::new());
        policy.apply(&mut r, 3600);
        let h = |n: &str| r.header(n).map(str::to_owned);
        (h("cache-control"), h(EDGE_CACHE_CONTROL), h("cache-tag"))
    }

    #[test]
    fn browsers_revalidate_pages_the_edge_keeps_them_under_their_tags() {
        let (browser, edge, tags) = headers(Policy::Page(vec!["project:1".into(), "x".into()]));
        assert_eq!(browser.as_deref(), Some("public, max-age=0, must-revalidate"));
        assert_eq!((edge.as_deref(), tags.as_deref()), (Some("max-age=3600"), Some("project:1,x")));
        let (browser, edge, tags) = headers(Policy::Deployment);
        assert_eq!((browser.as_deref(), edge.as_deref()), (Some("public, max-age=3600"), Some("max-age=86400")));
        assert_eq!(tags.as_deref(), Some("deployment"));
    }

    #[test]
    fn missing_pages_are_kept_at_the_edge_only_until_they_appear_and_writer_views_never() {
        let (browser, edge, tags) = headers(Policy::Missing(vec!["project:9".into()]));
        assert_eq!((browser.as_deref(), edge.as_deref()), (Some("no-store"), Some("max-age=3600")));
        assert_eq!(tags.as_deref(), Some("project:9"), "purged when project 9 is published");
        let (_, edge, tags) = headers(Policy::Missing(vec![]));
        assert_eq!((edge.as_deref(), tags.as_deref()), (Some("max-age=60"), Some("notfound")));
        assert_eq!(headers(Policy::Private), (Some("private, no-store".into()), None, None));
    }

    #[test]
    fn writer_views_are_named_by_the_query() {
        assert!(is_writer_view(Some("fresh=3")));
        assert!(is_writer_view(Some("a=1&published=pending")));
        assert!(!is_writer_view(Some("utm_source=x")));
        assert!(!is_writer_view(None));
    }

    #[test]
    fn a_matching_etag_is_a_304_without_body() {
        let r = answer(200, "text/html", "\"e\"", b"x".to_vec(), Some("\"e\""));
        assert_eq!((r.status, r.body.len()), (304, 0));
        assert_eq!(r.header("etag"), Some("\"e\""));
        let r = answer(200, "text/html", "\"e\"", b"x".to_vec(), Some("\"f\""));
        assert_eq!((r.status, r.body.as_slice()), (200, &b"x"[..]));
    }

    #[test]
    fn rendered_etags_tell_bytes_apart() {
        assert_ne!(etag_of(b"a"), etag_of(b"b"));
        assert_eq!(etag_of(b"a"), etag_of(b"a"));
    }
}
