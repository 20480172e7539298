//! Messages the queue gave up on (after `max_retries`, it moves them to the dead-letter queue,
//! whose consumer is this module): stored so health can say so and operators can read them.
//! A change's pages are still repaired by the cron from its outbox row; once that row is gone
//! (the change was published after all), the dead letter is resolved and removed.

use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::ApiResult;
use crate::params;
use crate::platform::{Level, Platform};
use crate::sql::{self, Database, DbError, Rows, Statement};

/// Stores dead-lettered messages (id, body); a redelivered one is stored once.
pub async fn store(platform: &impl Platform, messages: &[(String, Value)]) -> Result<(), DbError> {
    let now = platform.now().ms;
    let statements = messages
        .iter()
        .map(|(id, body)| {
            let outbox_id = body["outbox_id"].as_str().map(str::to_owned);
            Statement::new(
                "INSERT OR IGNORE INTO dead_letters (message_id, body, outbox_id, received_ms) VALUES (?1, ?2, ?3, ?4)",
                params![id, body.to_string(), outbox_id, now],
            )
        })
        .collect();
    platform.db().batch(statements).await?;
    platform.log(Level::Error, json!({"event": "dead_lettered", "messages": messages.len()}));
    Ok(())
}

/// The statement that removes the dead letters of changes published since.
pub fn resolve() -> Statement {
    Statement::new(
        "DELETE FROM dead_letters WHERE outbox_id IS NOT NULL AND outbox_id NOT IN (SELECT outbox_id FROM outbox)",
        vec![],
    )
}

/// Lists the stored dead letters, oldest first (at most 100).
pub async fn list(db: &impl Database) -> ApiResult<Value> {
    #[derive(Deserialize)]
    struct Row {
        message_id: String,
        body: String,
        received_ms: i64,
    }
    let rows: Vec<Row> = sql::rows(
        db,
        Statement::new(
            "SELECT message_id, body, received_ms FROM dead_letters ORDER BY received_ms, message_id LIMIT 100",
            vec![],
        ),
    )
    .await?;
    let letters: Vec<Value> = rows
        .into_iter()
        .map(|r| {
            let body: Value = serde_json::from_str(&r.body).unwrap_or(Value::String(r.body));
            json!({"message_id": r.message_id, "body": body, "received_ms": r.received_ms})
        })
        .collect();
    Ok(json!({ "dead_letters": letters }))
}

/// Removes every stored dead letter (an operator's acknowledgement); returns how many.
pub async fn clear(db: &impl Database) -> ApiResult<i64> {
    let results = db
        .batch(vec![
            Statement::new("SELECT count(*) AS n FROM dead_letters", vec![]),
            Statement::new("DELETE FROM dead_letters", vec![]),
        ])
        .await?;
    #[derive(Deserialize)]
    struct N {
        n: i64,
    }
    Ok(sql::nth(&results, 0, "clear")?.first::<N>()?.map_or(0, |r| r.n))
}
