//! Who sent a write, and how to read its body: the CSRF rule of the write API.
//!
//! Browsers send `Origin` on every cross-origin POST (and `Referer` unless told not to), so a
//! write that carries neither is an API client (curl, a script, a server): its body is read as
//! JSON whatever the content type says, which is what the spec's own `curl -d '{...}'` (sent as
//! `application/x-www-form-urlencoded`) needs. A write whose `Origin` (or, without one, whose
//! `Referer`) is this site or an allowed origin is the site's pages or an allowed app; any other
//! origin (`null` included) is a browser's cross-site request and is refused, whatever the
//! content type. HTML forms (urlencoded bodies that are not JSON) are taken from this site's
//! own pages only.

use crate::error::{ApiError, ApiResult};

/// Where a write came from, as its headers tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sender {
    /// Neither `Origin` nor `Referer`: not a browser's cross-site request.
    ApiClient,
    /// This site's own pages.
    OwnSite,
    /// A page of an origin in `ALLOWED_ORIGINS`.
    AllowedSite,
    /// Any other origin: refused.
    CrossSite(String),
}

/// The origins a write may come from.
pub struct Origins<'a> {
    /// This site: the request URL's origin and the configured `SITE_URL`.
    pub own: [&'a str; 2],
    /// `ALLOWED_ORIGINS`.
    pub allowed: &'a [String],
}

impl Sender {
    /// Classifies a write by its `Origin` and `Referer` headers.
    pub fn of(origin: Option<&str>, referer: Option<&str>, origins: &Origins<'_>) -> Sender {
        let claimed = match origin.map(str::trim) {
            Some(o) if !o.is_empty() => o.trim_end_matches('/').to_owned(),
            _ => match referer.map(str::trim).filter(|r| !r.is_empty()) {
                // An unparsable Referer still marks a browser: refuse rather than guess.
                Some(r) => origin_of_url(r).unwrap_or_else(|| r.to_owned()),
                None => return Sender::ApiClient,
            },
        };
        if origins.own.iter().any(|o| !o.is_empty() && o.trim_end_matches('/') == claimed) {
            Sender::OwnSite
        } else if origins.allowed.contains(&claimed) {
            Sender::AllowedSite
        } else {
            Sender::CrossSite(claimed)
        }
    }

    /// Refuses a cross-site sender (403).
    pub fn check(&self) -> ApiResult<()> {
        match self {
            Sender::CrossSite(origin) => Err(ApiError::forbidden(format!("origin {origin} may not write"))),
            _ => Ok(()),
        }
    }
}

/// How a write's body is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    Json,
    /// An HTML form (`application/x-www-form-urlencoded`), turned into the route's JSON.
    Form,
}

impl BodyKind {
    /// Decides how to read a body: a JSON document is JSON whatever the content type; an
    /// urlencoded body that is not JSON is a form, which only this site's pages may send;
    /// anything else is a 415. The sender is checked first, so a cross-site request is a 403
    /// for every content type.
    pub fn of(content_type: Option<&str>, body: &[u8], sender: &Sender) -> ApiResult<BodyKind> {
        sender.check()?;
        if media_type_is(content_type, "application/json") || looks_like_json(body) {
            return Ok(BodyKind::Json);
        }
        if !media_type_is(content_type, "application/x-www-form-urlencoded") {
            return Err(ApiError::UnsupportedMediaType { expected: "application/json".into() });
        }
        match sender {
            Sender::OwnSite => Ok(BodyKind::Form),
            _ => Err(ApiError::forbidden("a form must be sent from this site's pages")),
        }
    }
}

/// Whether a `Content-Type` names this media type (parameters such as `charset` aside).
pub fn media_type_is(content_type: Option<&str>, essence: &str) -> bool {
    content_type.unwrap_or("").split(';').next().unwrap_or("").trim().eq_ignore_ascii_case(essence)
}

/// Whether a body is meant as JSON: its first non-blank byte opens an object or an array (a
/// form's first field name never does). Syntax errors are then reported as JSON errors.
pub fn looks_like_json(body: &[u8]) -> bool {
    matches!(body.iter().find(|b| !b.is_ascii_whitespace()), Some(b'{' | b'['))
}

/// The origin (`scheme://host[:port]`) of an absolute URL, or `None` if it is not one.
pub fn origin_of_url(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme.is_empty() || !scheme.bytes().all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b)) {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    if host.is_empty() {
        return None;
    }
    Some(format!("{}://{}", scheme.to_ascii_lowercase(), host.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SITE: &str = "http://127.0.0.1:8787";

    fn sender(origin: Option<&str>, referer: Option<&str>) -> Sender {
        let allowed = vec!["https://app.example".to_owned()];
        Sender::of(origin, referer, &Origins { own: ["http://127.0.0.1:9000", SITE], allowed: &allowed })
    }

    #[test]
    fn no_origin_and_no_referer_is_an_api_client() {
        assert_eq!(sender(None, None), Sender::ApiClient);
        assert_eq!(sender(Some(""), Some(" ")), Sender::ApiClient);
    }

    #[test]
    fn this_site_and_allowed_origins_may_write() {
        assert_eq!(sender(Some(SITE), None), Sender::OwnSite);
        assert_eq!(sender(Some("http://127.0.0.1:9000/"), None), Sender::OwnSite);
        assert_eq!(sender(None, Some("http://127.0.0.1:8787/projects/3/?x#y")), Sender::OwnSite);
        assert_eq!(sender(Some("https://app.example"), None), Sender::AllowedSite);
    }

    #[test]
    fn any_other_origin_is_cross_site() {
        for (origin, referer) in [
            (Some("https://evil.example"), None),
            (Some("null"), None),
            (None, Some("https://evil.example/page")),
            (None, Some("not a url")),
            // Origin wins over Referer: a forged-looking Referer does not rescue it.
            (Some("https://evil.example"), Some("http://127.0.0.1:8787/")),
            (Some("http://127.0.0.1:8787.evil.example"), None),
        ] {
            assert!(matches!(sender(origin, referer), Sender::CrossSite(_)), "{origin:?} {referer:?}");
        }
    }

    #[test]
    fn a_json_document_is_json_whatever_the_content_type() {
        let spec = br#"{"project_name": "Popee the Performer"}"#;
        for content_type in [
            None,
            Some("application/x-www-form-urlencoded"),
            Some("text/plain"),
            Some("multipart/form-data; boundary=x"),
        ] {
            assert_eq!(BodyKind::of(content_type, spec, &Sender::ApiClient), Ok(BodyKind::Json), "{content_type:?}");
        }
        assert_eq!(
            BodyKind::of(Some("Application/JSON; charset=utf-8"), b"oops", &Sender::ApiClient),
            Ok(BodyKind::Json)
        );
    }

    #[test]
    fn cross_site_writes_are_refused_for_every_content_type() {
        let evil = Sender::CrossSite("https://evil.example".into());
        for (content_type, body) in [
            ("application/x-www-form-urlencoded", &b"project_name=x&tagline=y"[..]),
            ("text/plain", &br#"{"project_name": "x", "tagline": "y"}"#[..]),
            ("application/x-www-form-urlencoded", &br#"{"project_name": "x", "tagline": "y"}"#[..]),
            ("application/json", &br#"{"project_name": "x"}"#[..]),
            ("multipart/form-data; boundary=b", &b"--b\r\n"[..]),
        ] {
            assert_eq!(
                BodyKind::of(Some(content_type), body, &evil).map_err(|e| e.status()),
                Err(403),
                "{content_type}"
            );
        }
    }

    #[test]
    fn forms_come_only_from_this_sites_pages() {
        let form = b"project_name=x&tagline=y";
        let urlencoded = Some("application/x-www-form-urlencoded");
        assert_eq!(BodyKind::of(urlencoded, form, &Sender::OwnSite), Ok(BodyKind::Form));
        for other in [Sender::ApiClient, Sender::AllowedSite] {
            assert_eq!(BodyKind::of(urlencoded, form, &other).map_err(|e| e.status()), Err(403), "{other:?}");
        }
        assert_eq!(BodyKind::of(Some("text/plain"), form, &Sender::OwnSite).map_err(|e| e.status()), Err(415));
        assert_eq!(BodyKind::of(None, b"", &Sender::ApiClient).map_err(|e| e.status()), Err(415));
    }

    #[test]
    fn origins_of_urls() {
        assert_eq!(origin_of_url("HTTPS://Example.org:8443/a?b").as_deref(), Some("https://example.org:8443"));
        assert_eq!(origin_of_url("http://user@host/x").as_deref(), Some("http://host"));
        assert_eq!(origin_of_url("/relative"), None);
        assert_eq!(origin_of_url("http:///x"), None);
    }
}
