//! Retries for the admin commands' requests: a 429 waits what `Retry-After` says, a transient
//! failure (a 5xx, a timeout, a refused or dropped connection) backs off exponentially, and
//! anything else is the answer. Every admin write the CLI sends is safe to repeat (an import
//! chunk already stored is skipped, an export page is a read).

use std::time::Duration;

use anyhow::{Context, Result};
use reqwest::{RequestBuilder, Response, StatusCode};

/// Attempts per request, the first included.
pub const MAX_ATTEMPTS: u32 = 10;
/// The first backoff; it doubles each time, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(8);
/// The longest `Retry-After` honoured (a longer one is capped: the command keeps going).
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// What one attempt came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// An answer to hand back, good or bad.
    Answer,
    /// 429, with the seconds `Retry-After` gave.
    RateLimited(Option<u64>),
    /// A 5xx, a timeout or a connection that failed: worth another try.
    Transient,
}

impl Outcome {
    /// Classifies an answer by its status and `Retry-After`.
    pub fn of(status: StatusCode, retry_after: Option<&str>) -> Self {
        match status {
            StatusCode::TOO_MANY_REQUESTS => Outcome::RateLimited(retry_after.and_then(|s| s.trim().parse().ok())),
            StatusCode::REQUEST_TIMEOUT => Outcome::Transient,
            s if s.is_server_error() => Outcome::Transient,
            _ => Outcome::Answer,
        }
    }
}

/// How long to wait before attempt `attempt + 1` after `outcome`; `None`: stop.
pub fn delay(attempt: u32, outcome: Outcome) -> Option<Duration> {
    if attempt >= MAX_ATTEMPTS {
        return None;
    }
    let backoff = FIRST_BACKOFF.saturating_mul(1 << attempt.saturating_sub(1).min(16)).min(MAX_BACKOFF);
    match outcome {
        Outcome::Answer => None,
        Outcome::RateLimited(Some(seconds)) => Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER)),
        Outcome::RateLimited(None) | Outcome::Transient => Some(backoff),
    }
}

/// Sends the request `build` makes until it is answered (or attempts run out), waiting between
/// attempts as [`delay`] says; says on stderr why it waits.
pub async fn send(what: &str, build: impl Fn() -> RequestBuilder) -> Result<Response> {
    let mut attempt = 1;
    loop {
        let (outcome, result) = match build().send().await {
            Ok(response) => {
                let retry_after = response.headers().get("retry-after").and_then(|v| v.to_str().ok());
                (Outcome::of(response.status(), retry_after), Ok(response))
            }
            Err(e) if e.is_builder() => return Err(e).with_context(|| what.to_owned()),
            Err(e) => (Outcome::Transient, Err(e)),
        };
        let Some(wait) = delay(attempt, outcome) else {
            return result.with_context(|| format!("{what} (after {attempt} attempts)"));
        };
        let why = match &result {
            Ok(response) => response.status().to_string(),
            Err(e) => e.to_string(),
        };
        eprintln!("{what}: {why}; attempt {} in {:.1} s", attempt + 1, wait.as_secs_f64());
        tokio::time::sleep(wait).await;
        attempt += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_429_waits_what_retry_after_says_within_a_cap() {
        assert_eq!(Outcome::of(StatusCode::TOO_MANY_REQUESTS, Some("10")), Outcome::RateLimited(Some(10)));
        assert_eq!(delay(1, Outcome::RateLimited(Some(10))), Some(Duration::from_secs(10)));
        assert_eq!(delay(1, Outcome::RateLimited(Some(3600))), Some(MAX_RETRY_AFTER));
        assert_eq!(delay(1, Outcome::RateLimited(None)), Some(FIRST_BACKOFF));
    }

    #[test]
    fn transient_failures_back_off_exponentially_up_to_a_cap_then_stop() {
        assert_eq!(Outcome::of(StatusCode::SERVICE_UNAVAILABLE, None), Outcome::Transient);
        assert_eq!(Outcome::of(StatusCode::INTERNAL_SERVER_ERROR, None), Outcome::Transient);
        let waits: Vec<_> = (1..MAX_ATTEMPTS).map(|a| delay(a, Outcome::Transient).unwrap().as_millis()).collect();
        assert_eq!(waits, [250, 500, 1000, 2000, 4000, 8000, 8000, 8000, 8000]);
        assert_eq!(delay(MAX_ATTEMPTS, Outcome::Transient), None);
    }

    #[test]
    fn answers_are_not_retried_whatever_their_status() {
        for status in [StatusCode::OK, StatusCode::CONFLICT, StatusCode::UNPROCESSABLE_ENTITY, StatusCode::UNAUTHORIZED]
        {
            assert_eq!(delay(1, Outcome::of(status, Some("1"))), None, "{status}");
        }
    }
}
