//! The outbox: each write stores a row describing its change in the same D1 batch as the
//! state, then sends the change to the queue. The consumer deletes rows whose pages it
//! published; the cron re-sends rows a lost message left behind.

use serde::{Deserialize, Serialize};
use worker::{D1Database, D1PreparedStatement, Queue};

use generator::paths::Change;

use crate::db::{self, num, stmt, text};
use crate::error::ApiResult;

/// The queue message: which outbox row, and what changed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChangeMessage {
    pub outbox_id: String,
    pub change: Change,
}

/// Returns a fresh random outbox id (128 bits, hex).
pub fn new_id() -> String {
    let mut bytes = [0_u8; 16];
    // getrandom on wasm uses crypto.getRandomValues; it does not fail in a Worker.
    let _ = getrandom::getrandom(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The statement that records a change whose JSON is fully known up front.
pub fn insert(db: &D1Database, outbox_id: &str, change: &Change, now_ms: u64) -> ApiResult<D1PreparedStatement> {
    let json = serde_json::to_string(change).map_err(db::internal)?;
    stmt(
        db,
        "INSERT INTO outbox (outbox_id, change, created_ms) VALUES (?1, ?2, ?3)",
        &[text(outbox_id), text(&json), num(now_ms as i64)],
    )
}

/// Sends the change after its batch committed. A failed send loses nothing: the row stays
/// and the cron re-drives it.
pub async fn send(queue: &Queue, message: &ChangeMessage) {
    if let Err(e) = queue.send(message).await {
        worker::console_warn!(
            "{}",
            serde_json::json!({"event": "queue_send_failed", "outbox_id": message.outbox_id, "error": e.to_string()})
        );
    }
}

#[derive(Deserialize)]
struct Row {
    outbox_id: String,
    change: String,
}

/// Re-sends outbox rows older than `older_than_ms`; returns how many.
pub async fn redrive(db: &D1Database, queue: &Queue, now_ms: u64, older_than_ms: u64) -> ApiResult<usize> {
    let cutoff = now_ms.saturating_sub(older_than_ms) as i64;
    let rows: Vec<Row> = db::rows(stmt(
        db,
        "SELECT outbox_id, change FROM outbox WHERE created_ms < ?1 ORDER BY created_ms LIMIT 100",
        &[num(cutoff)],
    )?)
    .await?;
    let mut sent = 0;
    for row in rows {
        match serde_json::from_str::<Change>(&row.change) {
            Ok(change) => {
                send(queue, &ChangeMessage { outbox_id: row.outbox_id, change }).await;
                sent += 1;
            }
            Err(e) => worker::console_error!(
                "{}",
                serde_json::json!({"event": "outbox_row_unreadable", "outbox_id": row.outbox_id, "error": e.to_string()})
            ),
        }
    }
    Ok(sent)
}

/// Deletes the rows a published batch covered.
pub async fn clear(db: &D1Database, outbox_ids: &[String]) -> ApiResult<()> {
    let ids = serde_json::to_string(outbox_ids).map_err(db::internal)?;
    stmt(db, "DELETE FROM outbox WHERE outbox_id IN (SELECT value FROM json_each(?1))", &[text(&ids)])?
        .run()
        .await
        .map_err(db::internal)?;
    Ok(())
}

/// The backlog: rows waiting and the age of the oldest, for `/api/v1/health`.
pub async fn backlog(db: &D1Database, now_ms: u64) -> ApiResult<(i64, Option<u64>)> {
    #[derive(Deserialize)]
    struct Stats {
        n: i64,
        oldest: Option<i64>,
    }
    let stats: Vec<Stats> =
        db::rows(stmt(db, "SELECT count(*) AS n, min(created_ms) AS oldest FROM outbox", &[])?).await?;
    Ok(stats.first().map_or((0, None), |s| (s.n, s.oldest.map(|o| now_ms.saturating_sub(o as u64)))))
}
