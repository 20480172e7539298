//! CORS for the write API: pages of the allow-listed origins (`ALLOWED_ORIGINS`) may call it
//! from a browser; any other origin gets no CORS headers, so the browser refuses to let its
//! script read (or, after a preflight, send) the request. Same-origin pages need none of this.

/// Request headers a cross-origin page may send.
pub const ALLOWED_HEADERS: &str = "content-type, idempotency-key, authorization";
/// Methods of the write API.
pub const ALLOWED_METHODS: &str = "GET, HEAD, POST, PUT, PATCH, OPTIONS";
/// How long a browser may cache a preflight answer, in seconds.
pub const MAX_AGE: &str = "600";

/// Returns the CORS headers to add for a request from `origin`, or none if it is not allowed.
/// `preflight` adds the method, header and max-age answers of an OPTIONS preflight.
pub fn headers_for(origin: Option<&str>, allowed: &[String], preflight: bool) -> Vec<(&'static str, String)> {
    let Some(origin) = origin.map(|o| o.trim_end_matches('/')) else { return Vec::new() };
    if !allowed.iter().any(|a| a == origin) {
        return Vec::new();
    }
    let mut headers = vec![
        ("access-control-allow-origin", origin.to_owned()),
        ("access-control-allow-credentials", "true".to_owned()),
        ("vary", "Origin".to_owned()),
    ];
    if preflight {
        headers.push(("access-control-allow-methods", ALLOWED_METHODS.to_owned()));
        headers.push(("access-control-allow-headers", ALLOWED_HEADERS.to_owned()));
        headers.push(("access-control-max-age", MAX_AGE.to_owned()));
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed() -> Vec<String> {
        vec!["https://app.example".to_owned()]
    }

    #[test]
    fn an_allowed_origin_gets_its_own_origin_back() {
        let h = headers_for(Some("https://app.example"), &allowed(), false);
        assert!(h.contains(&("access-control-allow-origin", "https://app.example".to_owned())));
        assert!(h.iter().all(|(k, _)| *k != "access-control-allow-methods"));
    }

    #[test]
    fn a_preflight_lists_methods_and_headers() {
        let h = headers_for(Some("https://app.example/"), &allowed(), true);
        assert!(h.iter().any(|(k, v)| *k == "access-control-allow-headers" && v.contains("idempotency-key")));
    }

    #[test]
    fn other_origins_get_nothing() {
        assert!(headers_for(Some("https://evil.example"), &allowed(), true).is_empty());
        assert!(headers_for(None, &allowed(), true).is_empty());
        assert!(headers_for(Some("null"), &allowed(), true).is_empty());
    }
}
