//! Voter identity: an id the Worker issues, signed with a secret (HMAC-SHA256), so a voter
//! cannot forge another voter's id and one person's vote counts once per thread.
//! The same signed value works as a cookie (`voter=`) and as a bearer token.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The cookie that carries the signed voter id.
pub const COOKIE: &str = "voter";

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
    cookie?.split(';').find_map(|c| c.trim().strip_prefix("voter="))
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
    fn tokens_come_from_bearer_or_cookie() {
        assert_eq!(token_from_headers(Some("a=1; voter=x.y"), None), Some("x.y"));
        assert_eq!(token_from_headers(Some("voter=c.d"), Some("Bearer a.b")), Some("a.b"));
        assert_eq!(token_from_headers(None, None), None);
    }
}
