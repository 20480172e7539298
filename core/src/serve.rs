//! The read side's GET route: serves stored pages from R2 with their content type, an ETag,
//! 304s for `If-None-Match`, and HEAD. Pages that depend only on the deployment come from the
//! code. A page the store does not hold yet (a fresh deployment) is rendered from D1 on the
//! fly without being stored, so only the consumer writes pages and an older render can never
//! overwrite a newer one. Unknown paths get the generated 404 page.
//!
//! Cache policy: HTML and JSON are `public, max-age=0, must-revalidate` (browsers and the CDN
//! revalidate every time and get a cheap 304 while the ETag holds), `static/` assets are
//! cacheable for an hour. In production the CDN can cache longer and be purged by tag after a
//! render (docs/ARCHITECTURE.md).

use worker::{Bucket, D1Database, Headers, Method, Response};

use generator::paths::{key_for_path, object_key_for_path, PageKey};
use generator::{render, Page, PageData, SiteConfig};

use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::page_data;

/// Says where a page came from: the page store (`stored`), the deployment's own code
/// (`deployment`: stylesheet, script, robots.txt, 404), or a render on a miss (`rendered`, a
/// stand-in until the page is published).
pub const SOURCE_HEADER: &str = "x-crowdfund-page";

/// Answers a GET or HEAD for a page.
pub async fn page(
    method: &Method,
    path: &str,
    if_none_match: Option<String>,
    db: &D1Database,
    bucket: &Bucket,
    site: &SiteConfig,
) -> ApiResult<Response> {
    let object_key = object_key_for_path(path);
    let head = *method == Method::Head;
    let key = key_for_path(path);
    // Pages that depend only on the deployment (stylesheet, script, robots.txt, the 404 page)
    // come from the code itself, so a deploy updates them without a rebuild.
    if let Some(data) = key.as_ref().and_then(deployment_page) {
        if let Some(page) = render(site, &data).map_err(db::internal)?.into_iter().find(|p| p.key == object_key) {
            return rendered(page, "deployment", if_none_match, head);
        }
    }
    if let Some(object) = bucket.get(object_key.as_str()).execute().await.map_err(db::internal)? {
        let etag = object.http_etag();
        let content_type = object.http_metadata().content_type.unwrap_or_else(|| "application/octet-stream".into());
        let body = match object.body() {
            Some(body) if !head => body.bytes().await.map_err(db::internal)?,
            _ => Vec::new(),
        };
        let response = respond(200, &object_key, &content_type, &etag, body, if_none_match.as_deref(), head)?;
        let _ = response.headers().set(SOURCE_HEADER, "stored");
        return Ok(response);
    }
    // Not stored (yet): render from D1 if the path names a page.
    if let Some(key) = key {
        let pages = render(site, &page_data::gather(db, &key).await?).map_err(db::internal)?;
        if let Some(page) = pages.into_iter().find(|p| p.key == object_key) {
            return rendered(page, "rendered", if_none_match, head);
        }
    }
    not_found(site, head)
}

/// The data of a page that depends only on the deployment, or `None` for a data page. Such
/// pages are always answered from the code, never from the page store.
pub fn deployment_page(key: &PageKey) -> Option<PageData> {
    match key {
        PageKey::Robots => Some(PageData::Robots),
        PageKey::NotFound => Some(PageData::NotFound),
        PageKey::Stylesheet => Some(PageData::Stylesheet),
        PageKey::Script => Some(PageData::Script),
        _ => None,
    }
}

/// A page rendered for this request (`source`: "deployment" for the code's own pages,
/// "rendered" for data pages): revalidated like the stored pages, with an ETag of its bytes.
pub fn rendered(page: Page, source: &str, if_none_match: Option<String>, head: bool) -> ApiResult<Response> {
    let etag = etag_of(&page.body);
    let response = respond(200, &page.key, page.content_type, &etag, page.body, if_none_match.as_deref(), head)?;
    let _ = response.headers().set(SOURCE_HEADER, source);
    Ok(response)
}

/// The generated 404 page with status 404.
pub fn not_found(site: &SiteConfig, head: bool) -> ApiResult<Response> {
    let page = render(site, &PageData::NotFound).map_err(db::internal)?.into_iter().next().unwrap_or(Page {
        key: "404.html".into(),
        content_type: "text/plain; charset=utf-8",
        body: b"not found".to_vec(),
    });
    respond(404, &page.key, page.content_type, "", page.body, None, head)
}

fn respond(
    status: u16,
    object_key: &str,
    content_type: &str,
    etag: &str,
    body: Vec<u8>,
    if_none_match: Option<&str>,
    head: bool,
) -> ApiResult<Response> {
    let headers = Headers::new();
    let set = |k: &str, v: &str| headers.set(k, v).map_err(db::internal);
    set("content-type", content_type)?;
    set("cache-control", cache_control(object_key, status))?;
    for (name, value) in SECURITY_HEADERS {
        set(name, value)?;
    }
    if !etag.is_empty() {
        set("etag", etag)?;
        if status == 200 && if_none_match.is_some_and(|inm| etag_matches(inm, etag)) {
            return Ok(Response::empty().map_err(db::internal)?.with_status(304).with_headers(headers));
        }
    }
    let response = if head { Response::empty() } else { Response::from_bytes(body) };
    Ok(response.map_err(db::internal)?.with_status(status).with_headers(headers))
}

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

fn etag_matches(if_none_match: &str, etag: &str) -> bool {
    let bare = |t: &str| t.trim().trim_start_matches("W/").trim_matches('"').to_owned();
    if_none_match.split(',').any(|t| t.trim() == "*" || bare(t) == bare(etag))
}

/// A strong ETag for bytes rendered on the fly (FNV-1a, 64 bits: enough to tell versions apart).
fn etag_of(body: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in body {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("\"{h:016x}\"")
}

/// Rejects methods the page route does not take.
pub fn method_not_allowed(method: &Method) -> ApiError {
    ApiError::MethodNotAllowed { method: method.to_string(), allowed: "GET, HEAD".into() }
}
