//! Abuse limits on writes: per client address on every write, and per voter on votes, through
//! Cloudflare's rate-limiting bindings (simulated by `wrangler dev`). Over a limit a write is
//! answered 429 with `Retry-After`. The var `RATE_LIMITS=off` disables them (benchmarks).
//! Writes that carry the admin token (an import of a whole site, a rebuild) count against a
//! limit of their own, generous enough for bulk work, not against the operator's address.

use crate::error::{ApiError, ApiResult};
use crate::platform::{Level, Platform, RateLimiter};

/// Writes per client address per period (binding in wrangler.toml).
pub const BY_ADDRESS: &str = "WRITES_BY_ADDRESS";
/// Votes per voter per period.
pub const BY_VOTER: &str = "VOTES_BY_VOTER";
/// Writes authenticated by the admin token, per period, all operators together.
pub const BY_ADMIN: &str = "ADMIN_WRITES";
/// The limiters' period, in seconds: what a limited client is told to wait at most.
pub const PERIOD_SECONDS: u32 = 10;

/// Counts a write against its client address (`CF-Connecting-IP`, set by Cloudflare's edge).
pub async fn check_address(platform: &impl Platform, address: Option<&str>) -> ApiResult<()> {
    check(platform, BY_ADDRESS, &format!("addr:{}", address.unwrap_or("unknown"))).await
}

/// Counts a write that carries the admin token against the admin limit.
pub async fn check_admin(platform: &impl Platform) -> ApiResult<()> {
    check(platform, BY_ADMIN, "admin").await
}

/// Counts a vote against its voter.
pub async fn check_voter(platform: &impl Platform, voter: &str) -> ApiResult<()> {
    check(platform, BY_VOTER, &format!("voter:{voter}")).await
}

async fn check(platform: &impl Platform, binding: &str, key: &str) -> ApiResult<()> {
    if !platform.config().rate_limits {
        return Ok(());
    }
    match platform.limits().limit(binding, key).await {
        Ok(Some(true)) => Ok(()),
        Ok(Some(false)) => Err(ApiError::RateLimited { retry_after: PERIOD_SECONDS }),
        // A missing binding is a deployment mistake, not the client's: log it and let the
        // write in; so is a limiter that fails.
        Ok(None) => {
            platform.log(Level::Warn, serde_json::json!({"event": "rate_limiter_missing", "binding": binding}));
            Ok(())
        }
        Err(e) => {
            platform.log(Level::Warn, serde_json::json!({"event": "rate_limiter_failed", "error": e.0}));
            Ok(())
        }
    }
}
