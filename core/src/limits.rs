//! Abuse limits on writes: per client address on every write, and per voter on votes, using
//! Cloudflare's rate-limiting bindings (simulated by `wrangler dev`). Over the limit a write is
//! answered 429 with `Retry-After`. The var `RATE_LIMITS=off` disables them (local benchmarks).

use worker::{Env, Request};

use crate::error::{ApiError, ApiResult};

/// Writes per client address per period (binding in wrangler.toml).
pub const BY_ADDRESS: &str = "WRITES_BY_ADDRESS";
/// Votes per voter per period.
pub const BY_VOTER: &str = "VOTES_BY_VOTER";
/// The limiters' period, in seconds: what a limited client is told to wait at most.
pub const PERIOD_SECONDS: u32 = 10;

/// Returns whether limits apply in this environment.
fn enabled(env: &Env) -> bool {
    env.var("RATE_LIMITS").map(|v| v.to_string() != "off").unwrap_or(true)
}

/// Counts a write against its client address (`CF-Connecting-IP`, set by Cloudflare's edge).
pub async fn check_address(env: &Env, req: &Request) -> ApiResult<()> {
    let address = req.headers().get("cf-connecting-ip").ok().flatten().unwrap_or_else(|| "unknown".into());
    check(env, BY_ADDRESS, format!("addr:{address}")).await
}

/// Counts a vote against its voter.
pub async fn check_voter(env: &Env, voter: &str) -> ApiResult<()> {
    check(env, BY_VOTER, format!("voter:{voter}")).await
}

async fn check(env: &Env, binding: &str, key: String) -> ApiResult<()> {
    if !enabled(env) {
        return Ok(());
    }
    // A missing binding is a deployment mistake, not the client's: log it and let the write in.
    let Ok(limiter) = env.rate_limiter(binding) else {
        worker::console_warn!("{}", serde_json::json!({"event": "rate_limiter_missing", "binding": binding}));
        return Ok(());
    };
    match limiter.limit(key).await {
        Ok(outcome) if !outcome.success => Err(ApiError::RateLimited { retry_after: PERIOD_SECONDS }),
        Ok(_) => Ok(()),
        Err(e) => {
            worker::console_warn!("{}", serde_json::json!({"event": "rate_limiter_failed", "error": e.to_string()}));
            Ok(())
        }
    }
}
