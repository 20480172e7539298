//! HTTP as plain values: the Worker turns the runtime's request into a [`Request`], and the
//! [`Response`] it gets back into the runtime's. Everything between (routing, CSRF, bodies,
//! answers) is ordinary Rust that the tests drive directly.

pub mod cors;
pub mod sender;

use std::fmt;

/// A request method. Methods the router does not know stay what they are (`Other`), so they
/// are answered 405, never taken for a GET.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Head,
    Post,
    Put,
    Patch,
    Delete,
    Options,
    Other(String),
}

impl Method {
    /// Parses a method name as sent (methods are case-sensitive; the standard ones are upper
    /// case).
    pub fn parse(name: &str) -> Self {
        match name {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            "OPTIONS" => Method::Options,
            other => Method::Other(other.to_owned()),
        }
    }

    /// Returns the method's name.
    pub fn as_str(&self) -> &str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Options => "OPTIONS",
            Method::Other(name) => name,
        }
    }

    /// Whether requests with this method carry a body the routes read.
    pub fn has_body(&self) -> bool {
        matches!(self, Method::Post | Method::Put | Method::Patch)
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Header fields, names lower-cased.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers(Vec<(String, String)>);

impl Headers {
    /// No headers.
    pub fn new() -> Self {
        Headers(Vec::new())
    }

    /// Returns a header's value (the first, if sent more than once).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Returns every value of a header, in order (`Set-Cookie`).
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0.iter().filter(move |(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Sets a header, replacing any value it had.
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        let name = name.to_ascii_lowercase();
        self.0.retain(|(k, _)| *k != name);
        self.0.push((name, value.into()));
    }

    /// Adds a value without replacing others (`Set-Cookie`, `Vary`).
    pub fn append(&mut self, name: &str, value: impl Into<String>) {
        self.0.push((name.to_ascii_lowercase(), value.into()));
    }

    /// Removes a header.
    pub fn remove(&mut self, name: &str) {
        self.0.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
    }

    /// Iterates over (name, value) pairs in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

impl<K: AsRef<str>, V: Into<String>> FromIterator<(K, V)> for Headers {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut headers = Headers::new();
        for (k, v) in iter {
            headers.append(k.as_ref(), v);
        }
        headers
    }
}

/// A request as the routes see it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    /// `scheme://host[:port]` of the URL the Worker was called at.
    pub origin: String,
    /// The path as sent (percent-encoded).
    pub path: String,
    /// The query string without `?`, if any.
    pub query: Option<String>,
    pub headers: Headers,
    /// The body (empty for methods without one).
    pub body: Vec<u8>,
}

impl Request {
    /// A request for a URL (`http://host/path?query`) as the runtime serialises it (the
    /// Worker's requests come through here too); a fragment is dropped.
    pub fn new(method: Method, url: &str) -> Self {
        let url = url.split_once('#').map_or(url, |(before, _)| before);
        let (origin, rest) = match url.split_once("://") {
            Some((scheme, rest)) => {
                let at = rest.find(['/', '?']).unwrap_or(rest.len());
                (format!("{scheme}://{}", &rest[..at]), &rest[at..])
            }
            None => (String::new(), url),
        };
        let (path, query) = match rest.split_once('?') {
            Some((path, query)) => (path, Some(query.to_owned())),
            None => (rest, None),
        };
        let path = if path.is_empty() { "/".to_owned() } else { path.to_owned() };
        Request { method, origin, path, query, headers: Headers::new(), body: Vec::new() }
    }

    /// Adds a header (builder style).
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.append(name, value);
        self
    }

    /// Sets the body (builder style).
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }

    /// A query parameter's value, decoded.
    pub fn query_value(&self, name: &str) -> Option<String> {
        let query = self.query.as_deref()?;
        form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
    }
}

/// An answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Headers,
    pub body: Vec<u8>,
    /// The body is the stored object the platform holds ([`crate::platform::StoredBody::Held`]),
    /// not `body` (which is empty).
    pub held_body: bool,
}

impl Response {
    /// An answer with a status and a body, no headers yet.
    pub fn new(status: u16, body: Vec<u8>) -> Self {
        Response { status, headers: Headers::new(), body, held_body: false }
    }

    /// Drops the body, whichever it is (a HEAD, a 304).
    pub fn clear_body(&mut self) {
        self.body.clear();
        self.held_body = false;
    }

    /// Sets a header (builder style).
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.set(name, value);
        self
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }

    /// The body as text (lossy), for tests and logs.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON (`Null` if it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_methods_stay_unknown() {
        assert_eq!(Method::parse("QUERY"), Method::Other("QUERY".into()));
        assert_eq!(Method::parse("get"), Method::Other("get".into()));
        assert_eq!(Method::parse("HEAD").as_str(), "HEAD");
    }

    #[test]
    fn urls_split_into_origin_path_and_query() {
        let r = Request::new(Method::Get, "http://127.0.0.1:8787/projects/3/?published=pending");
        assert_eq!((r.origin.as_str(), r.path.as_str()), ("http://127.0.0.1:8787", "/projects/3/"));
        assert_eq!(r.query_value("published").as_deref(), Some("pending"));
        assert_eq!(Request::new(Method::Get, "http://h").path, "/");
        let r = Request::new(Method::Get, "https://h.example?q=1#top");
        assert_eq!((r.origin.as_str(), r.path.as_str(), r.query.as_deref()), ("https://h.example", "/", Some("q=1")));
    }

    #[test]
    fn headers_are_case_insensitive() {
        let mut h = Headers::new();
        h.set("Content-Type", "a");
        h.set("content-type", "b");
        assert_eq!(h.get("CONTENT-TYPE"), Some("b"));
        assert_eq!(h.iter().count(), 1);
    }
}
