//! The threads context's use cases: UpdateThreads (edit messages, add threads and replies,
//! all or nothing), Vote, and GetProjectThreads.

use serde::Deserialize;
use serde_json::{json, Value};
use worker::D1Database;

use generator::paths::Change;

use crate::db::{self, num, stmt, text, ThreadRow, THREAD_COLUMNS};
use crate::error::{ApiError, ApiResult};
use crate::input::ThreadWrite;
use crate::outbox::{self, ChangeMessage};
use crate::projects::Written;
use crate::votes::{self, Direction};

/// UpdateThreads: every edited thread and every parent must belong to the project; then one
/// batch writes all threads and the outbox row. Answers the written threads.
pub async fn update_threads(
    db: &D1Database,
    project_id: i64,
    writes: &[ThreadWrite],
    now: &str,
    now_ms: u64,
) -> ApiResult<Written> {
    if !db::project_exists(db, project_id).await? {
        return Err(ApiError::NotFound { what: format!("project {project_id}"), field: Some("project_id".into()) });
    }
    let referenced: Vec<i64> = writes
        .iter()
        .filter_map(|w| match w {
            ThreadWrite::Edit { thread_id, .. } => Some(*thread_id),
            ThreadWrite::Add { parent_id, .. } => *parent_id,
        })
        .collect();
    // The existence check, the referenced-threads check (when any) and the batch.
    let round_trips = if referenced.is_empty() { 2 } else { 3 };
    if !referenced.is_empty() {
        #[derive(Deserialize)]
        struct Row {
            thread_id: i64,
        }
        let ids = serde_json::to_string(&referenced).map_err(db::internal)?;
        let found: Vec<Row> = db::rows(stmt(
            db,
            "SELECT thread_id FROM threads WHERE project_id = ?1 AND thread_id IN (SELECT value FROM json_each(?2))",
            &[num(project_id), text(&ids)],
        )?)
        .await?;
        if let Some((i, missing)) = writes.iter().enumerate().find_map(|(i, w)| {
            let id = match w {
                ThreadWrite::Edit { thread_id, .. } => Some(*thread_id),
                ThreadWrite::Add { parent_id, .. } => *parent_id,
            }?;
            (!found.iter().any(|r| r.thread_id == id)).then_some((i, (id, w)))
        }) {
            let field = match missing.1 {
                ThreadWrite::Edit { .. } => "thread_id",
                ThreadWrite::Add { .. } => "parent_id",
            };
            return Err(ApiError::NotFound {
                what: format!("thread {} in project {project_id}", missing.0),
                field: Some(format!("threads[{i}].{field}")),
            });
        }
    }
    let mut statements = Vec::new();
    for w in writes {
        statements.push(match w {
            ThreadWrite::Edit { thread_id, message } => stmt(
                db,
                &format!("UPDATE threads SET message = ?1, updated_at = ?2 WHERE thread_id = ?3 AND project_id = ?4 RETURNING {THREAD_COLUMNS}"),
                &[text(message), text(now), num(*thread_id), num(project_id)],
            )?,
            ThreadWrite::Add { parent_id, thread_type, message } => stmt(
                db,
                &format!(
                    "INSERT INTO threads (project_id, parent_id, thread_type, message, created_at) VALUES (?1, ?2, ?3, ?4, ?5) RETURNING {THREAD_COLUMNS}"
                ),
                &[num(project_id), parent_id.map_or(wasm_bindgen::JsValue::NULL, num), text(thread_type.as_str()), text(message), text(now)],
            )?,
        });
    }
    let outbox_id = outbox::new_id();
    let change = Change::ThreadsChanged { project_id };
    statements.push(outbox::insert(db, &outbox_id, &change, now_ms)?);
    let results = db::batch(db, statements).await.map_err(ApiError::Internal)?;
    let mut threads = Vec::new();
    for r in &results[..writes.len()] {
        threads.extend(r.results::<ThreadRow>().map_err(db::internal)?.into_iter().map(ThreadRow::into_thread));
    }
    let created = writes.iter().any(|w| matches!(w, ThreadWrite::Add { .. }));
    Ok(Written {
        status: if created { 201 } else { 200 },
        body: json!({ "threads": threads }),
        message: Some(ChangeMessage { outbox_id, change }),
        round_trips,
        rows_written: db::rows_written(&results),
    })
}

/// Vote: records the voter's vote on a thread; a repeat changes nothing, a switch moves one
/// count. Vote rows and totals change in the same transaction, so totals always equal the
/// votes stored (plus any imported baseline), whatever runs concurrently.
pub async fn vote(
    db: &D1Database,
    thread_id: i64,
    voter: &str,
    direction: Direction,
    now_ms: u64,
) -> ApiResult<Written> {
    #[derive(Deserialize)]
    struct Owner {
        project_id: i64,
    }
    let owner: Vec<Owner> =
        db::rows(stmt(db, "SELECT project_id FROM threads WHERE thread_id = ?1", &[num(thread_id)])?).await?;
    let Some(Owner { project_id }) = owner.into_iter().next() else {
        return Err(ApiError::NotFound { what: format!("thread {thread_id}"), field: Some("thread_id".into()) });
    };
    let outbox_id = outbox::new_id();
    let change = Change::Voted { project_id };
    let change_json = serde_json::to_string(&change).map_err(db::internal)?;
    // One transaction: the totals move by the difference between the voter's previous vote (read
    // inside the UPDATE, before the upsert replaces it) and the new one; a repeat moves nothing.
    // Deltas rather than a recount, so imported totals (which have no vote rows) are kept.
    let statements = vec![
        stmt(db, "SELECT direction FROM votes WHERE thread_id = ?1 AND voter = ?2", &[num(thread_id), text(voter)])?,
        stmt(
            db,
            "UPDATE threads SET \
             up_vote = up_vote + (?3 = 1) - coalesce((SELECT direction = 1 FROM votes WHERE thread_id = ?1 AND voter = ?2), 0), \
             down_vote = down_vote + (?3 = -1) - coalesce((SELECT direction = -1 FROM votes WHERE thread_id = ?1 AND voter = ?2), 0) \
             WHERE thread_id = ?1 RETURNING up_vote, down_vote",
            &[num(thread_id), text(voter), num(i64::from(direction.stored()))],
        )?,
        stmt(
            db,
            "INSERT INTO votes (thread_id, voter, direction) VALUES (?1, ?2, ?3) \
             ON CONFLICT (thread_id, voter) DO UPDATE SET direction = excluded.direction WHERE direction <> excluded.direction",
            &[num(thread_id), text(voter), num(i64::from(direction.stored()))],
        )?,
        // changes() is the upsert's: an outbox row only when a vote was recorded or switched.
        stmt(
            db,
            "INSERT INTO outbox (outbox_id, change, created_ms) SELECT ?1, ?2, ?3 WHERE changes() > 0",
            &[text(&outbox_id), text(&change_json), num(now_ms as i64)],
        )?,
    ];
    let results = db::batch(db, statements).await.map_err(ApiError::Internal)?;
    #[derive(Deserialize)]
    struct Previous {
        direction: i64,
    }
    #[derive(Deserialize)]
    struct Totals {
        up_vote: i64,
        down_vote: i64,
    }
    let previous = results
        .first()
        .and_then(|r| r.results::<Previous>().ok())
        .and_then(|v| v.into_iter().next())
        .and_then(|p| Direction::from_stored(p.direction));
    let totals = results
        .get(1)
        .and_then(|r| r.results::<Totals>().ok())
        .and_then(|v| v.into_iter().next())
        .ok_or_else(|| ApiError::Internal("vote: no totals returned".into()))?;
    let outcome = votes::outcome(previous, direction);
    Ok(Written {
        status: 200,
        body: json!({
            "thread_id": thread_id,
            "project_id": project_id,
            "vote": direction.as_str(),
            "changed": outcome.changed(),
            "up_vote": totals.up_vote,
            "down_vote": totals.down_vote,
        }),
        message: outcome.changed().then_some(ChangeMessage { outbox_id, change }),
        round_trips: 2,
        rows_written: db::rows_written(&results),
    })
}

/// GetProjectThreads: at most `limit` threads, newest first, after the `cursor` thread id.
pub async fn list(db: &D1Database, project_id: i64, limit: u32, cursor: Option<i64>) -> ApiResult<Value> {
    if !db::project_exists(db, project_id).await? {
        return Err(ApiError::NotFound { what: format!("project {project_id}"), field: Some("project_id".into()) });
    }
    let rows: Vec<ThreadRow> = db::rows(stmt(
        db,
        &format!("SELECT {THREAD_COLUMNS} FROM threads WHERE project_id = ?1 AND thread_id < ?2 ORDER BY thread_id DESC LIMIT ?3"),
        &[num(project_id), num(cursor.unwrap_or(1_i64 << 53)), num(i64::from(limit) + 1)],
    )?)
    .await?;
    let mut threads: Vec<_> = rows.into_iter().map(ThreadRow::into_thread).collect();
    let more = threads.len() > limit as usize;
    threads.truncate(limit as usize);
    let next_cursor = if more { threads.last().map(|t| t.thread_id) } else { None };
    Ok(json!({ "project_id": project_id, "threads": threads, "next_cursor": next_cursor }))
}
