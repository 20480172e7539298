//! The cron run (every minute in wrangler.toml; under `wrangler dev`, `crowdfund cron` fires
//! it): re-sends the outbox rows a lost or dead-lettered message left behind, so pages always
//! converge to the data, resolves the dead letters whose changes were published since, purges
//! what the edge is still owed, and records that it ran.

use serde_json::json;

use crate::platform::{Level, Platform};
use crate::sql::Database;
use crate::{dead_letters, health, outbox, purge};

/// Runs the scheduled work once.
pub async fn run(platform: &impl Platform) {
    let now = platform.now().ms;
    match outbox::redrive(platform, now, platform.config().redrive_after_ms).await {
        Ok(n) => platform.log(Level::Info, json!({"event": "redrive", "messages": n})),
        Err(e) => platform.log(Level::Error, json!({"event": "redrive_failed", "error": e.message})),
    }
    if let Err(e) = platform.db().batch(vec![dead_letters::resolve(), health::mark(health::LAST_CRON, now)]).await {
        platform.log(Level::Error, json!({"event": "cron_bookkeeping_failed", "error": e.message}));
    }
    // Purges a failed call or a lost wake-up left owed.
    if let Err(e) = purge::run(platform).await {
        platform.log(Level::Error, json!({"event": "purge_run_failed", "error": e.to_string()}));
    }
}
