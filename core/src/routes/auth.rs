//! Who may do what: the Origin check on browser writes, the admin bearer token, and voter
//! identities (issued, signed, verified).

use serde_json::json;
use worker::{Request, Response};

use super::request::{header, sender};
use super::{respond, Call};
use crate::config::Config;
use crate::error::{ApiError, ApiResult};
use crate::{outbox, voter};

/// Refuses writes from a browser on another site (see `sender`).
pub fn check_origin(c: &Call<'_>) -> ApiResult<()> {
    sender(c).check()
}

/// Checks the admin bearer token (a Worker secret), in constant time.
pub fn require_admin(c: &Call<'_>) -> ApiResult<()> {
    let presented = header(&c.req, "authorization");
    let presented = presented.as_deref().and_then(|a| a.strip_prefix("Bearer ")).unwrap_or("");
    let expected = c.config.admin_token.as_bytes();
    if expected.is_empty() || !constant_time_eq(presented.as_bytes(), expected) {
        return Err(ApiError::Unauthenticated("this operation needs the admin bearer token".into()));
    }
    Ok(())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0_u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The voter behind a request (cookie or bearer token), verified.
pub fn voter_of(req: &Request, config: &Config) -> ApiResult<String> {
    let (cookie, authorization) = (header(req, "cookie"), header(req, "authorization"));
    let token = voter::token_from_headers(cookie.as_deref(), authorization.as_deref())
        .ok_or_else(|| ApiError::Unauthenticated("a vote needs a voter: POST /api/v1/voters first".into()))?;
    if config.voter_secret.is_empty() {
        return Err(ApiError::Internal("VOTER_SECRET is not set".into()));
    }
    voter::verify(&config.voter_secret, token)
        .ok_or_else(|| ApiError::Unauthenticated("the voter token is not valid".into()))
}

/// Issues a signed voter id; returns the id, its token and the `Set-Cookie` value.
pub fn issue_voter(config: &Config) -> ApiResult<(String, String, String)> {
    if config.voter_secret.is_empty() {
        return Err(ApiError::Internal("VOTER_SECRET is not set".into()));
    }
    let id = outbox::new_id();
    let token = voter::sign(&config.voter_secret, &id);
    let secure = if config.site.base_url.starts_with("https://") { "; Secure" } else { "" };
    let cookie = format!("{}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=31536000{secure}", voter::COOKIE);
    Ok((id, token, cookie))
}

/// `POST /api/v1/voters`: a new voter identity, as a cookie and a bearer token.
pub fn new_voter(c: &mut Call<'_>) -> ApiResult<Response> {
    c.figures.route = "new_voter";
    check_origin(c)?;
    let (_, token, cookie) = issue_voter(&c.config)?;
    let response = respond::json(201, &json!({ "voter_token": token }))?;
    let _ = response.headers().set("set-cookie", &cookie);
    Ok(response)
}
