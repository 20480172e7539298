//! The pipeline's health, for `/api/v1/health` and the people who run it: the outbox backlog
//! and its oldest row, edge purges owed, dead-lettered messages, when the publisher, the purger
//! and the cron last ran. The status is `degraded` (with the reasons) while pages cannot be
//! trusted to converge: an outbox row (or an owed purge) older than the cron's re-drive
//! threshold plus a margin means nothing is getting it done, and an unresolved dead letter
//! means the queue gave up on a message.

use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::ApiResult;
use crate::params;
use crate::platform::Platform;
use crate::sql::{nth, Database, Rows, Statement};

/// Keys of the `ops` table.
pub const LAST_PUBLISH: &str = "last_publish_ms";
pub const LAST_CRON: &str = "last_cron_ms";
pub const LAST_PURGE: &str = "last_purge_ms";

/// The statement that records when something last happened.
pub fn mark(key: &'static str, ms: u64) -> Statement {
    Statement::new(
        "INSERT INTO ops (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, ms],
    )
}

#[derive(Deserialize)]
struct Figures {
    projects: i64,
    backlog: i64,
    oldest_ms: Option<i64>,
    dead_letters: i64,
    last_publish_ms: Option<i64>,
    last_cron_ms: Option<i64>,
    purges_owed: i64,
    oldest_purge_ms: Option<i64>,
    last_purge_ms: Option<i64>,
}

/// Reads the figures (one round trip) and judges them.
pub async fn report(platform: &impl Platform) -> ApiResult<Value> {
    let results = platform
        .db()
        .batch(vec![Statement::new(
            "SELECT (SELECT count(*) FROM projects) AS projects, \
                    (SELECT count(*) FROM outbox) AS backlog, \
                    (SELECT min(created_ms) FROM outbox) AS oldest_ms, \
                    (SELECT count(*) FROM dead_letters) AS dead_letters, \
                    (SELECT value FROM ops WHERE key = ?1) AS last_publish_ms, \
                    (SELECT value FROM ops WHERE key = ?2) AS last_cron_ms, \
                    (SELECT count(*) FROM purges WHERE settle = 0) AS purges_owed, \
                    (SELECT min(queued_ms) FROM purges WHERE settle = 0) AS oldest_purge_ms, \
                    (SELECT value FROM ops WHERE key = ?3) AS last_purge_ms",
            params![LAST_PUBLISH, LAST_CRON, LAST_PURGE],
        )])
        .await?;
    let f = nth(&results, 0, "health")?.first::<Figures>()?.unwrap_or(Figures {
        projects: 0,
        backlog: 0,
        oldest_ms: None,
        dead_letters: 0,
        last_publish_ms: None,
        last_cron_ms: None,
        purges_owed: 0,
        oldest_purge_ms: None,
        last_purge_ms: None,
    });
    let now = platform.now().ms;
    let config = platform.config();
    let age = |ms: Option<i64>| ms.map(|ms| now.saturating_sub(ms.max(0) as u64));
    let oldest_age = age(f.oldest_ms);
    let mut reasons = Vec::new();
    if let Some(age) = oldest_age.filter(|a| *a > config.stuck_after_ms) {
        reasons.push(format!(
            "an outbox row is {} s old (over {} s): nothing has re-driven it; is the cron running?",
            age / 1000,
            config.stuck_after_ms / 1000
        ));
    }
    let oldest_purge_age = age(f.oldest_purge_ms);
    if let Some(age) = oldest_purge_age.filter(|a| *a > config.stuck_after_ms) {
        reasons.push(format!(
            "an edge purge has been owed for {} s (over {} s): the edge may serve stale pages",
            age / 1000,
            config.stuck_after_ms / 1000
        ));
    }
    if f.dead_letters > 0 {
        reasons
            .push(format!("{} message(s) in the dead-letter queue (GET /api/v1/admin/dead-letters)", f.dead_letters));
    }
    Ok(json!({
        "status": if reasons.is_empty() { "ok" } else { "degraded" },
        "reasons": reasons,
        "projects": f.projects,
        "outbox_backlog": f.backlog,
        "outbox_oldest_age_ms": oldest_age,
        "dead_letters": f.dead_letters,
        "last_publish_ms": f.last_publish_ms,
        "last_publish_age_ms": age(f.last_publish_ms),
        "last_cron_ms": f.last_cron_ms,
        "last_cron_age_ms": age(f.last_cron_ms),
        "purges_owed": f.purges_owed,
        "oldest_purge_age_ms": oldest_purge_age,
        "last_purge_ms": f.last_purge_ms,
        "redrive_after_ms": config.redrive_after_ms,
        "stuck_after_ms": config.stuck_after_ms,
    }))
}
