//! The visitor identity every write carries: an id the Worker issues, signed with a secret
//! (HMAC-SHA256), so no one can forge another visitor's id. It counts a visitor's vote once
//! per thread, and it makes them the author of what they write: authorship is stored as a
//! keyed digest of the id ([`author_of`]), which cannot be turned back into the token. The
//! same signed value works as a cookie (`voter=`, its name from when it only identified
//! voters) and as a bearer token.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The cookie that carries the signed visitor id (HttpOnly).
pub const COOKIE: &str = "voter";
/// The cookie that carries the visitor's author key, readable by app.js (not a secret).
pub const AUTHOR_COOKIE: &str = "author";

/// The author key of a visitor: a digest of their id keyed with the secret (32 hex digits).
/// Public (pages carry it, so app.js can tell a visitor's own threads): it proves nothing
/// without the token, and the token cannot be derived from it.
pub fn author_of(secret: &[u8], visitor_id: &str) -> String {
    let mut digest = hex(&mac(secret, &format!("author|{visitor_id}")));
    digest.truncate(32);
    digest
}

/// The visitor id issued to an anonymous write sent with an Idempotency-Key: derived from the
/// key, so a retry of a write whose answer was lost is issued the same identity, and owns
/// what the first attempt wrote (32 hex digits, like a random id).
pub fn id_for_idempotency_key(secret: &[u8], key: &str) -> String {
    let mut id = hex(&mac(secret, &format!("idempotency|{key}")));
    id.truncate(32);
    id
}

/// Signs a voter id: `id.signature` (hex).
pub fn sign(secret: &[u8], id: &str) -> String {
    format!("{id}.{}", hex(&mac(secret, id)))
}

/// Returns the voter id if the token's signature is valid (compared in constant time).
pub fn verify(secret: &[u8], token: &str) -> Option<String> {
    let (id, sig) = token.rsplit_once('.')?;
    if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let sig = unhex(sig)?;
    let mut m = HmacSha256::new_from_slice(secret).ok()?;
    m.update(id.as_bytes());
    m.verify_slice(&sig).ok()?;
    Some(id.to_owned())
}

/// Finds the voter token in a `Cookie` header or an `Authorization: Bearer` header.
pub fn token_from_headers<'a>(cookie: Option<&'a str>, authorization: Option<&'a str>) -> Option<&'a str> {
    if let Some(bearer) = authorization.and_then(|a| a.strip_prefix("Bearer ")) {
        return Some(bearer.trim());
    }
    cookie_value(cookie, COOKIE)
}

/// A cookie's value in a `Cookie` header.
pub fn cookie_value<'a>(cookie: Option<&'a str>, name: &str) -> Option<&'a str> {
    cookie?.split(';').find_map(|c| c.trim().strip_prefix(name)?.strip_prefix('='))
}

fn mac(secret: &[u8], id: &str) -> Vec<u8> {
    match HmacSha256::new_from_slice(secret) {
        Ok(mut m) => {
            m.update(id.as_bytes());
            m.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(), // HMAC takes keys of any length; unreachable in practice.
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_id_verifies_and_a_forged_one_does_not() {
        let token = sign(b"secret", "abc123");
        assert_eq!(verify(b"secret", &token).as_deref(), Some("abc123"));
        assert_eq!(verify(b"other", &token), None);
        let forged = token.replace("abc123", "abc124");
        assert_eq!(verify(b"secret", &forged), None);
        assert_eq!(verify(b"secret", "abc123"), None);
        assert_eq!(verify(b"secret", "abc123.zz"), None);
    }

    #[test]
    fn authors_are_keyed_digests_of_the_id() {
        let a = author_of(b"secret", "abc123");
        assert_eq!(a.len(), 32);
        assert_eq!(a, author_of(b"secret", "abc123"), "stable");
        assert_ne!(a, author_of(b"other", "abc123"), "keyed");
        assert_ne!(a, author_of(b"secret", "abc124"));
        assert!(!sign(b"secret", "abc123").contains(&a), "not the token's signature");
    }

    #[test]
    fn tokens_come_from_bearer_or_cookie() {
        assert_eq!(token_from_headers(Some("a=1; voter=x.y"), None), Some("x.y"));
        assert_eq!(token_from_headers(Some("voter=c.d"), Some("Bearer a.b")), Some("a.b"));
        assert_eq!(token_from_headers(None, None), None);
        assert_eq!(token_from_headers(Some("voterx=1"), None), None);
        assert_eq!(cookie_value(Some("voter=x.y; author=abc"), AUTHOR_COOKIE), Some("abc"));
    }
}
