//! Who may do what: the admin and moderator bearer tokens, and visitor identities (issued,
//! signed, verified). (The CSRF rule is `http::sender`, applied by every write through
//! `request::sender`.)

use serde_json::json;

use super::request::sender;
use super::{respond, Call};
use crate::error::{ApiError, ApiResult};
use crate::http::Response;
use crate::platform::Platform;
use crate::rules::identity;

/// A visitor behind a request: their id (votes count by it) and author key (what they write
/// is theirs by it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visitor {
    pub id: String,
    pub author: String,
}

/// An identity issued during a request: the token, and the cookies that carry it (the
/// HttpOnly token, and the readable author key app.js marks a visitor's own threads by).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    pub token: String,
    pub cookies: [String; 2],
}

fn bearer<'a, P: Platform>(c: &Call<'a, P>) -> &'a str {
    c.req.header("authorization").and_then(|a| a.strip_prefix("Bearer ")).unwrap_or("").trim()
}

/// Whether the request carries the admin bearer token (a Worker secret), compared in constant
/// time.
pub fn is_admin<P: Platform>(c: &Call<'_, P>) -> bool {
    let expected = c.platform.config().admin_token.as_bytes();
    !expected.is_empty() && constant_time_eq(bearer(c).as_bytes(), expected)
}

/// Checks the admin bearer token.
pub fn require_admin<P: Platform>(c: &Call<'_, P>) -> ApiResult<()> {
    if !is_admin(c) {
        return Err(ApiError::Unauthenticated("this operation needs the admin bearer token".into()));
    }
    Ok(())
}

/// Checks a moderator's bearer token; returns the moderator's name (`admin` for the admin
/// token), for the log.
pub fn require_moderator<P: Platform>(c: &Call<'_, P>) -> ApiResult<String> {
    let presented = bearer(c).as_bytes();
    let config = c.platform.config();
    // Every token is compared, so the time taken does not tell which one was close.
    let mut found = None;
    for m in &config.moderators {
        if constant_time_eq(presented, m.token.as_bytes()) {
            found = Some(m.name.clone());
        }
    }
    if !config.admin_token.is_empty() && constant_time_eq(presented, config.admin_token.as_bytes()) {
        found = found.or_else(|| Some("admin".to_owned()));
    }
    found.ok_or_else(|| ApiError::Unauthenticated("this operation needs a moderator's bearer token".into()))
}

/// Compares two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0_u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn secret<'a, P: Platform>(c: &Call<'a, P>) -> ApiResult<&'a [u8]> {
    let secret = &c.platform.config().voter_secret;
    if secret.is_empty() {
        return Err(ApiError::Internal("VOTER_SECRET is not set".into()));
    }
    Ok(secret)
}

/// The visitor a request identifies (cookie or bearer token), if it carries an identity; a
/// forged or tampered one is refused (401), never replaced. A refused cookie is cleared by
/// the answer, so the browser's next write is issued a new identity.
pub fn known_visitor<P: Platform>(c: &mut Call<'_, P>) -> ApiResult<Option<Visitor>> {
    let Some(token) = identity::token_from_headers(c.req.header("cookie"), c.req.header("authorization")) else {
        return Ok(None);
    };
    let secret = secret(c)?;
    let Some(id) = identity::verify(secret, token) else {
        if c.req.header("authorization").is_some() {
            return Err(ApiError::Unauthenticated("the visitor token is not valid".into()));
        }
        c.figures.stale_cookie = true;
        return Err(ApiError::Unauthenticated(
            "your visitor cookie is not valid (it has been cleared: send again to be issued a new one)".into(),
        ));
    };
    Ok(Some(Visitor { author: identity::author_of(secret, &id), id }))
}

/// The visitor a page is rendered for: as [`known_visitor`], but a refused identity renders
/// the page as for a visitor without one (a page is never an error for a stale cookie).
pub fn page_visitor<P: Platform>(c: &mut Call<'_, P>) -> ApiResult<Option<Visitor>> {
    match known_visitor(c) {
        Err(ApiError::Unauthenticated(_)) => Ok(None),
        known => known,
    }
}

/// The cookies that clear a refused identity.
pub fn clearing_cookies() -> [String; 2] {
    [identity::COOKIE, identity::AUTHOR_COOKIE].map(|name| format!("{name}=; Path=/; Max-Age=0"))
}

/// The visitor behind a write: the one the request identifies, or a new identity issued on
/// the spot (the answer carries it back: cookies, and `visitor_token` in a JSON answer). A
/// browser that has the token but not the readable author cookie gets that again.
pub fn visitor<P: Platform>(c: &mut Call<'_, P>) -> ApiResult<Visitor> {
    visitor_retrying(c, None)
}

/// [`visitor`] for a write sent with an Idempotency-Key: an anonymous sender is issued the
/// identity derived from the key, so a retry after a lost answer gets the identity that owns
/// what the first attempt wrote (and the replayed answer carries it again).
pub fn visitor_retrying<P: Platform>(c: &mut Call<'_, P>, idem_key: Option<&str>) -> ApiResult<Visitor> {
    if let Some(known) = known_visitor(c)? {
        let has_author_cookie = identity::cookie_value(c.req.header("cookie"), identity::AUTHOR_COOKIE).is_some();
        if !has_author_cookie && c.req.header("authorization").is_none() {
            c.figures.issued_cookies.push(author_cookie(c, &known.author));
        }
        return Ok(known);
    }
    let id = match idem_key {
        Some(key) => identity::id_for_idempotency_key(secret(c)?, key),
        None => c.platform.random_id(),
    };
    let (visitor, issued) = issue(c, id)?;
    c.figures.issued_cookies.extend(issued.cookies);
    c.figures.issued_token = Some(issued.token);
    Ok(visitor)
}

fn cookie_attributes<P: Platform>(c: &Call<'_, P>) -> &'static str {
    if c.platform.config().site.base_url.starts_with("https://") {
        "; Path=/; SameSite=Lax; Max-Age=31536000; Secure"
    } else {
        "; Path=/; SameSite=Lax; Max-Age=31536000"
    }
}

fn author_cookie<P: Platform>(c: &Call<'_, P>, author: &str) -> String {
    format!("{}={author}{}", identity::AUTHOR_COOKIE, cookie_attributes(c))
}

/// Issues a signed visitor identity for `id`.
fn issue<P: Platform>(c: &Call<'_, P>, id: String) -> ApiResult<(Visitor, Issued)> {
    let secret = secret(c)?;
    let token = identity::sign(secret, &id);
    let author = identity::author_of(secret, &id);
    let cookies =
        [format!("{}={token}; HttpOnly{}", identity::COOKIE, cookie_attributes(c)), author_cookie(c, &author)];
    Ok((Visitor { id, author }, Issued { token, cookies }))
}

/// `POST /api/v1/visitors` (and the older `POST /api/v1/voters`): a new visitor identity, as
/// cookies and a bearer token.
pub fn new_visitor<P: Platform>(c: &mut Call<'_, P>) -> ApiResult<Response> {
    c.figures.route = "new_visitor";
    sender(c).check()?;
    let id = c.platform.random_id();
    let (visitor, issued) = issue(c, id)?;
    let body = json!({ "visitor_token": issued.token, "voter_token": issued.token, "author": visitor.author });
    let mut response = respond::json(201, &body)?;
    for cookie in issued.cookies {
        response.headers.append("set-cookie", cookie);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::constant_time_eq;

    #[test]
    fn equal_bytes_compare_equal_and_nothing_else_does() {
        assert!(constant_time_eq(b"token", b"token"));
        assert!(!constant_time_eq(b"token", b"tokem"));
        assert!(!constant_time_eq(b"token", b"token!"));
        assert!(!constant_time_eq(b"", b"x"));
    }
}
