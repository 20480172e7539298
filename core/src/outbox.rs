//! The outbox: each write stores a row describing its change in the same batch as the state,
//! then sends the change to the queue. The publisher deletes the rows whose pages it published;
//! the cron re-sends rows a lost message left behind.

use serde::{Deserialize, Serialize};

use generator::paths::Change;

use crate::params;
use crate::platform::{ChangeQueue, Level, Platform};
use crate::sql::{self, DbError, Statement};

/// The queue message: which outbox row, and what changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeMessage {
    pub outbox_id: String,
    pub change: Change,
}

impl ChangeMessage {
    /// A change with a fresh outbox id.
    pub fn new(platform: &impl Platform, change: Change) -> Self {
        ChangeMessage { outbox_id: platform.random_id(), change }
    }

    /// The statement that records the change, for the write's batch.
    pub fn insert(&self, now_ms: u64) -> Statement {
        let json = serde_json::to_string(&self.change).unwrap_or_default();
        Statement::new(
            "INSERT INTO outbox (outbox_id, change, created_ms) VALUES (?1, ?2, ?3)",
            params![&self.outbox_id, json, now_ms],
        )
    }

    /// The statement that records the change only if the statement before it in the batch
    /// changed a row (`changes()` is that statement's count): a repeated vote records nothing.
    pub fn insert_if_changed(&self, now_ms: u64) -> Statement {
        let json = serde_json::to_string(&self.change).unwrap_or_default();
        Statement::new(
            "INSERT INTO outbox (outbox_id, change, created_ms) SELECT ?1, ?2, ?3 WHERE changes() > 0",
            params![&self.outbox_id, json, now_ms],
        )
    }
}

/// Sends a change after its batch committed. A failed send loses nothing: the row stays and
/// the cron re-drives it.
pub async fn send(platform: &impl Platform, message: &ChangeMessage) {
    let body = serde_json::to_value(message).unwrap_or_default();
    if let Err(e) = platform.queue().send(&body).await {
        platform.log(
            Level::Warn,
            serde_json::json!({"event": "queue_send_failed", "outbox_id": message.outbox_id, "error": e.0}),
        );
    }
}

/// Re-sends outbox rows older than `older_than_ms` (at most 100 a run); returns how many.
pub async fn redrive(platform: &impl Platform, now_ms: u64, older_than_ms: u64) -> Result<usize, DbError> {
    #[derive(Deserialize)]
    struct Row {
        outbox_id: String,
        change: String,
    }
    let cutoff = now_ms.saturating_sub(older_than_ms);
    let rows: Vec<Row> = sql::rows(
        platform.db(),
        Statement::new(
            "SELECT outbox_id, change FROM outbox WHERE created_ms < ?1 ORDER BY created_ms LIMIT 100",
            params![cutoff],
        ),
    )
    .await?;
    let mut sent = 0;
    for row in rows {
        match serde_json::from_str::<Change>(&row.change) {
            Ok(change) => {
                send(platform, &ChangeMessage { outbox_id: row.outbox_id, change }).await;
                sent += 1;
            }
            Err(e) => platform.log(
                Level::Error,
                serde_json::json!({"event": "outbox_row_unreadable", "outbox_id": row.outbox_id, "error": e.to_string()}),
            ),
        }
    }
    Ok(sent)
}

/// The statement that deletes the rows a published batch covered.
pub fn clear(outbox_ids: &[String]) -> Statement {
    let ids = serde_json::to_string(outbox_ids).unwrap_or_else(|_| "[]".into());
    Statement::new("DELETE FROM outbox WHERE outbox_id IN (SELECT value FROM json_each(?1))", params![ids])
}
