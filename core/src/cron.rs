//! The cron run (every minute in wrangler.toml): re-sends the outbox rows a lost or
//! dead-lettered message left behind, so pages always converge to the data.

use serde_json::json;

use crate::outbox;
use crate::platform::{Level, Platform};

/// Runs the scheduled work once.
pub async fn run(platform: &impl Platform) {
    let now = platform.now().ms;
    match outbox::redrive(platform, now, platform.config().redrive_after_ms).await {
        Ok(n) => platform.log(Level::Info, json!({"event": "redrive", "messages": n})),
        Err(e) => platform.log(Level::Error, json!({"event": "redrive_failed", "error": e.message})),
    }
}
