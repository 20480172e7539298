//! Who may do what: the admin bearer token, and voter identities (issued, signed, verified).
//! (The CSRF rule is `http::sender`, applied by every write through `request::sender`.)

use serde_json::json;

use super::request::sender;
use super::{respond, Call};
use crate::error::{ApiError, ApiResult};
use crate::http::Response;
use crate::platform::Platform;
use crate::rules::voter;

/// Checks the admin bearer token (a Worker secret), in constant time.
pub fn require_admin<P: Platform>(c: &Call<'_, P>) -> ApiResult<()> {
    let presented = c.req.header("authorization").and_then(|a| a.strip_prefix("Bearer ")).unwrap_or("");
    let expected = c.platform.config().admin_token.as_bytes();
    if expected.is_empty() || !constant_time_eq(presented.as_bytes(), expected) {
        return Err(ApiError::Unauthenticated("this operation needs the admin bearer token".into()));
    }
    Ok(())
}

/// Compares two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0_u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The voter behind a request (cookie or bearer token), verified.
pub fn voter_of<P: Platform>(c: &Call<'_, P>) -> ApiResult<String> {
    let token = voter::token_from_headers(c.req.header("cookie"), c.req.header("authorization"))
        .ok_or_else(|| ApiError::Unauthenticated("a vote needs a voter: POST /api/v1/voters first".into()))?;
    let secret = &c.platform.config().voter_secret;
    if secret.is_empty() {
        return Err(ApiError::Internal("VOTER_SECRET is not set".into()));
    }
    voter::verify(secret, token).ok_or_else(|| ApiError::Unauthenticated("the voter token is not valid".into()))
}

/// Issues a signed voter id; returns the id, its token and the `Set-Cookie` value.
pub fn issue_voter<P: Platform>(c: &Call<'_, P>) -> ApiResult<(String, String, String)> {
    let config = c.platform.config();
    if config.voter_secret.is_empty() {
        return Err(ApiError::Internal("VOTER_SECRET is not set".into()));
    }
    let id = c.platform.random_id();
    let token = voter::sign(&config.voter_secret, &id);
    let secure = if config.site.base_url.starts_with("https://") { "; Secure" } else { "" };
    let cookie = format!("{}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=31536000{secure}", voter::COOKIE);
    Ok((id, token, cookie))
}

/// `POST /api/v1/voters`: a new voter identity, as a cookie and a bearer token.
pub fn new_voter<P: Platform>(c: &mut Call<'_, P>) -> ApiResult<Response> {
    c.figures.route = "new_voter";
    sender(c).check()?;
    let (_, token, cookie) = issue_voter(c)?;
    Ok(respond::json(201, &json!({ "voter_token": token }))?.with_header("set-cookie", cookie))
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
