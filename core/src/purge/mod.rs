//! Exact purges of the edge cache, as part of publishing: a change is done when its pages are
//! stored **and** purged. The publisher records the stored pages' cache tags as owed
//! ([`owe`], in the same batch that clears their outbox rows, so no purge is ever lost);
//! [`run`] then plans calls within the budget (`plan`), makes them through the platform's
//! [`Purger`](crate::platform::Purger), and records what they covered. What is left (no token
//! yet, a failed call, a settle purge due later) is retried by a delayed queue message and by
//! the cron.

pub mod plan;

use serde::Deserialize;
use serde_json::json;

use crate::error::ApiResult;
use crate::health::{self, LAST_PURGE};
use crate::params;
use crate::platform::{ChangeQueue, Level, Platform, PurgeError, Purger};
use crate::sql::{nth, Database, Rows, Statement};
use plan::{Bucket, Call, Owed};

/// The queue message that wakes the purger (sent with a delay).
pub const WAKE: &str = "wake";

/// Keys of the `ops` table.
const TOKENS: &str = "purge_tokens_micro";
const BUCKET_AT: &str = "purge_bucket_ms";
const WAKEUP: &str = "purge_wakeup_ms";
const TEST_FAILED: &str = "test_purge_failures_done";

/// The statement that records tags as owed (a tag already owed keeps its age; one purged once
/// and waiting to settle becomes owed again, from now).
pub fn owe(tags: &[String], now_ms: u64) -> Statement {
    let json = serde_json::to_string(tags).unwrap_or_else(|_| "[]".into());
    Statement::new(
        "INSERT INTO purges (tag, queued_ms, settle, due_ms) SELECT value, ?2, 0, ?2 FROM json_each(?1) WHERE true \
         ON CONFLICT (tag) DO UPDATE SET \
         queued_ms = CASE WHEN settle = 1 THEN excluded.queued_ms ELSE queued_ms END, settle = 0, due_ms = excluded.due_ms",
        params![json, now_ms],
    )
}

/// The owed tag that stands for "everything" (a rebuild re-rendered every page: every edge
/// copy goes, in one call from purging everything's own budget, not one per page).
pub use plan::EVERYTHING;

/// The statement that owes a purge of everything.
pub fn owe_everything(now_ms: u64) -> Statement {
    owe(&[EVERYTHING.to_owned()], now_ms)
}

/// What one run did, for the log and the tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Purged {
    pub calls: usize,
    pub tags: usize,
    pub coarse: usize,
    pub everything: usize,
    pub failed: bool,
    pub left: usize,
}

#[derive(Deserialize)]
struct Row {
    tag: String,
    queued_ms: i64,
    settle: i64,
    due_ms: i64,
}

#[derive(Deserialize)]
struct State {
    tokens_micro: Option<i64>,
    bucket_ms: Option<i64>,
    wakeup_ms: Option<i64>,
    test_failed: Option<i64>,
}

fn unsigned(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// Purges what is owed, as far as the budget allows now; schedules the rest.
pub async fn run(platform: &impl Platform) -> ApiResult<Purged> {
    let now = platform.now().ms;
    let config = platform.config();
    let budget = config.purge_budget;
    let results = platform
        .db()
        .batch(vec![
            Statement::new("SELECT tag, queued_ms, settle, due_ms FROM purges ORDER BY queued_ms, tag", vec![]),
            Statement::new(
                "SELECT (SELECT value FROM ops WHERE key = ?1) AS tokens_micro, \
                        (SELECT value FROM ops WHERE key = ?2) AS bucket_ms, \
                        (SELECT value FROM ops WHERE key = ?3) AS wakeup_ms, \
                        (SELECT value FROM ops WHERE key = ?4) AS test_failed",
                params![TOKENS, BUCKET_AT, WAKEUP, TEST_FAILED],
            ),
        ])
        .await?;
    let owed: Vec<Owed> = nth(&results, 0, "purge")?
        .decode::<Row>()?
        .into_iter()
        .map(|r| Owed {
            tag: r.tag,
            queued_ms: unsigned(r.queued_ms),
            settle: r.settle != 0,
            due_ms: unsigned(r.due_ms),
        })
        .collect();
    if owed.is_empty() {
        return Ok(Purged::default());
    }
    let state = nth(&results, 1, "purge")?.first::<State>()?.unwrap_or(State {
        tokens_micro: None,
        bucket_ms: None,
        wakeup_ms: None,
        test_failed: None,
    });
    let bucket = match (state.tokens_micro, state.bucket_ms) {
        (Some(micro), Some(at)) => Bucket { tokens: micro as f64 / 1e6, at_ms: unsigned(at) },
        _ => Bucket::full(&budget, now),
    };
    let plan = plan::plan(&owed, bucket, &budget, now);
    let mut bucket = plan.bucket;
    let mut done = Purged::default();
    let mut covered: Vec<String> = Vec::new();
    let mut test_failed = state.test_failed.unwrap_or(0);
    let mut retry_at = plan.wake_at;
    for (call, tags) in &plan.calls {
        let outcome = if config.test_hooks && test_failed < i64::from(config.test_purge_failures) {
            test_failed += 1;
            Err(PurgeError::Failed("test hook: TEST_PURGE_FAILURES".into()))
        } else {
            platform.purger().purge(call).await
        };
        match outcome {
            Ok(()) => {
                done.calls += 1;
                match call {
                    Call::Tags(_) => done.tags += tags.len(),
                    Call::Coarse { .. } => done.coarse += 1,
                    Call::Everything => done.everything += 1,
                }
                covered.extend(tags.iter().cloned());
                // The owed (not settling) tags this call covered are due again, to settle.
                if tags.iter().any(|t| owed.iter().any(|o| o.tag == *t && !o.settle)) {
                    let settle = now + budget.settle_ms;
                    retry_at = Some(retry_at.map_or(settle, |t| t.min(settle)));
                }
            }
            Err(e) => {
                done.failed = true;
                if e == PurgeError::RateLimited {
                    bucket.tokens = 0.0;
                }
                // Try again when a token is back (a failed call may or may not have cost one).
                let again = now + budget.settle_ms.max(1_000);
                retry_at = Some(retry_at.map_or(again, |t| t.min(again)));
                platform.log(Level::Warn, json!({"event": "purge_failed", "error": e.to_string()}));
                break;
            }
        }
    }
    let covered_json = serde_json::to_string(&covered)?;
    let expired_json = serde_json::to_string(&plan.expired)?;
    let mut statements = vec![
        // Owed tags a call covered now wait to settle; rows owed after this run began stay owed.
        Statement::new(
            "UPDATE purges SET settle = 1, due_ms = ?2, queued_ms = ?3 \
             WHERE settle = 0 AND queued_ms <= ?3 AND tag IN (SELECT value FROM json_each(?1))",
            params![&covered_json, now + budget.settle_ms, now],
        ),
        Statement::new(
            "DELETE FROM purges WHERE settle = 1 AND due_ms <= ?2 AND tag IN (SELECT value FROM json_each(?1))",
            params![&covered_json, now],
        ),
        Statement::new(
            "DELETE FROM purges WHERE settle = 1 AND tag IN (SELECT value FROM json_each(?1))",
            params![expired_json],
        ),
        health::mark(TOKENS, (bucket.tokens.max(0.0) * 1e6).round() as u64),
        health::mark(BUCKET_AT, bucket.at_ms),
    ];
    if done.calls > 0 {
        statements.push(health::mark(LAST_PURGE, now));
    }
    if test_failed != state.test_failed.unwrap_or(0) {
        statements.push(health::mark(TEST_FAILED, unsigned(test_failed)));
    }
    // A wake-up already scheduled at or before the one needed does the job.
    let scheduled = state.wakeup_ms.map(unsigned).filter(|t| *t > now);
    let wake = retry_at.filter(|t| scheduled.is_none_or(|s| s > *t));
    if let Some(at) = wake {
        statements.push(health::mark(WAKEUP, at));
    }
    statements.push(Statement::new("SELECT count(*) AS n FROM purges WHERE settle = 0", vec![]));
    let results = platform.db().batch(statements).await?;
    #[derive(Deserialize)]
    struct N {
        n: i64,
    }
    done.left = results.last().map(Rows::first::<N>).transpose()?.flatten().map_or(0, |r| unsigned(r.n) as usize);
    if let Some(at) = wake {
        let delay = at.saturating_sub(now).div_ceil(1000).max(1);
        let message = json!({ "purge": WAKE });
        if let Err(e) = platform.queue().send_delayed(&message, u32::try_from(delay).unwrap_or(u32::MAX)).await {
            platform.log(Level::Warn, json!({"event": "purge_wake_unsent", "error": e.0}));
        }
    }
    platform.log(
        Level::Info,
        json!({"event": "purge", "calls": done.calls, "tags": done.tags, "coarse": done.coarse,
               "everything": done.everything, "failed": done.failed, "left": done.left,
               "tokens": bucket.tokens.max(0.0)}),
    );
    Ok(done)
}
