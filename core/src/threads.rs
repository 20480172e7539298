//! The threads context's use cases: UpdateThreads (edit messages, add threads and replies,
//! all or nothing), Vote, and GetProjectThreads.

use serde::Deserialize;
use serde_json::{json, Value};

use generator::paths::Change;

use crate::error::{ApiError, ApiResult};
use crate::outbox::ChangeMessage;
use crate::params;
use crate::platform::Now;
use crate::projects::AUTHOR_NAME;
use crate::read_model::{self, decode_threads, THREAD_COLUMNS};
use crate::rules::input::ThreadWrite;
use crate::rules::votes::{self, Direction};
use crate::sql::{self, nth, Database, Rows, Statement};
use crate::write::Written;

/// A `WITH` clause naming `gone`: the threads of project `?1` that pages do not show (hidden
/// ones, and replies under them), as `Project::visible` decides.
pub const VISIBLE_THREADS: &str = "WITH RECURSIVE gone(id) AS (\
     SELECT thread_id FROM threads WHERE project_id = ?1 AND hidden = 1 \
     UNION SELECT t.thread_id FROM threads t JOIN gone ON t.parent_id = gone.id)";

/// The thread a write refers to: the edited one, or a reply's parent.
fn referenced(write: &ThreadWrite) -> Option<i64> {
    match write {
        ThreadWrite::Edit { thread_id, .. } => Some(*thread_id),
        ThreadWrite::Add { parent_id, .. } => *parent_id,
    }
}

/// UpdateThreads: every edited thread and every parent must be shown on the project's page;
/// an edit is its author's alone (403 otherwise, nothing written). Then one batch writes all
/// threads (an edit first keeps the text it replaces as a revision) and the outbox row.
/// Answers the written threads. `author` is the writer's author key.
pub async fn update_threads(
    db: &impl Database,
    project_id: i64,
    writes: &[ThreadWrite],
    author: &str,
    outbox_id: String,
    now: &Now,
) -> ApiResult<Written> {
    if !read_model::project_exists(db, project_id).await? {
        return Err(ApiError::NotFound { what: format!("project {project_id}"), field: Some("project_id".into()) });
    }
    let ids: Vec<i64> = writes.iter().filter_map(referenced).collect();
    // The existence check, the referenced-threads check (when any) and the batch.
    let round_trips = if ids.is_empty() { 2 } else { 3 };
    if !ids.is_empty() {
        #[derive(Deserialize)]
        struct Row {
            thread_id: i64,
            author: Option<String>,
        }
        let found: Vec<Row> = sql::rows(
            db,
            Statement::built(
                format!(
                    "{VISIBLE_THREADS} SELECT thread_id, author FROM threads WHERE project_id = ?1 \
                     AND thread_id IN (SELECT value FROM json_each(?2)) AND thread_id NOT IN gone"
                ),
                params![project_id, serde_json::to_string(&ids)?],
            ),
        )
        .await?;
        let missing = writes.iter().enumerate().find_map(|(i, w)| {
            let id = referenced(w)?;
            (!found.iter().any(|r| r.thread_id == id)).then_some((i, id, w))
        });
        if let Some((i, id, write)) = missing {
            let field = match write {
                ThreadWrite::Edit { .. } => "thread_id",
                ThreadWrite::Add { .. } => "parent_id",
            };
            return Err(ApiError::NotFound {
                what: format!("thread {id} in project {project_id}"),
                field: Some(format!("threads[{i}].{field}")),
            });
        }
        let not_theirs = writes.iter().enumerate().find_map(|(i, w)| match w {
            ThreadWrite::Edit { thread_id, .. } => found
                .iter()
                .any(|r| r.thread_id == *thread_id && r.author.as_deref() != Some(author))
                .then_some((i, *thread_id)),
            ThreadWrite::Add { .. } => None,
        });
        if let Some((i, id)) = not_theirs {
            return Err(ApiError::Forbidden {
                message: format!("only its author may edit thread {id}"),
                field: Some(format!("threads[{i}].thread_id")),
            });
        }
    }
    let mut statements = Vec::new();
    // Where each write's RETURNING rows are in the batch.
    let mut returning = Vec::new();
    for w in writes {
        match w {
            ThreadWrite::Edit { thread_id, message } => {
                statements.push(Statement::new(
                    "INSERT INTO revisions (thread_id, message, written_at, replaced_at, replaced_by) \
                     SELECT thread_id, message, coalesce(updated_at, created_at), ?2, 'author' FROM threads \
                     WHERE thread_id = ?1 AND author = ?3",
                    params![*thread_id, &now.rfc3339, author],
                ));
                returning.push(statements.len());
                statements.push(Statement::built(
                    format!(
                        "UPDATE threads SET message = ?1, updated_at = ?2 \
                         WHERE thread_id = ?3 AND project_id = ?4 AND author = ?5 RETURNING {THREAD_COLUMNS}"
                    ),
                    params![message, &now.rfc3339, *thread_id, project_id, author],
                ));
            }
            ThreadWrite::Add { parent_id, thread_type, message } => {
                returning.push(statements.len());
                statements.push(Statement::built(
                    format!(
                        "INSERT INTO threads (project_id, parent_id, thread_type, message, created_at, author, author_name) \
                         VALUES (?1, ?2, ?3, ?4, ?6, ?5, {AUTHOR_NAME}) RETURNING {THREAD_COLUMNS}"
                    ),
                    params![project_id, *parent_id, thread_type.as_str(), message, author, &now.rfc3339],
                ));
            }
        }
    }
    let message = ChangeMessage { outbox_id, change: Change::ThreadsChanged { project_id } };
    statements.push(message.insert(now.ms));
    let results = db.batch(statements).await?;
    let mut threads = Vec::new();
    for at in returning {
        threads.extend(decode_threads(nth(&results, at, "update_threads")?)?);
    }
    let created = writes.iter().any(|w| matches!(w, ThreadWrite::Add { .. }));
    Ok(Written {
        status: if created { 201 } else { 200 },
        body: json!({ "threads": threads }),
        message: Some(message),
        round_trips,
        rows_written: sql::rows_written(&results),
    })
}

/// Vote: records the voter's vote on a thread pages show; a repeat changes nothing, a switch moves one
/// count. Vote rows and totals change in the same transaction, so totals always equal the
/// votes stored (plus any imported baseline), whatever runs concurrently.
pub async fn vote(
    db: &impl Database,
    thread_id: i64,
    voter: &str,
    direction: Direction,
    outbox_id: String,
    now: &Now,
) -> ApiResult<Written> {
    let Some(project_id) = read_model::shown_thread(db, thread_id).await? else {
        return Err(ApiError::NotFound { what: format!("thread {thread_id}"), field: Some("thread_id".into()) });
    };
    let message = ChangeMessage { outbox_id, change: Change::Voted { project_id } };
    let stored = i64::from(direction.stored());
    let statements = vec![
        Statement::new("SELECT direction FROM votes WHERE thread_id = ?1 AND voter = ?2", params![thread_id, voter]),
        // The totals move by the difference between the voter's previous vote (read inside the
        // UPDATE, before the upsert replaces it) and the new one; a repeat moves nothing.
        // Deltas rather than a recount, so imported totals (which have no vote rows) are kept.
        Statement::new(
            "UPDATE threads SET \
             up_vote = up_vote + (?3 = 1) - coalesce((SELECT direction = 1 FROM votes WHERE thread_id = ?1 AND voter = ?2), 0), \
             down_vote = down_vote + (?3 = -1) - coalesce((SELECT direction = -1 FROM votes WHERE thread_id = ?1 AND voter = ?2), 0) \
             WHERE thread_id = ?1 RETURNING up_vote, down_vote",
            params![thread_id, voter, stored],
        ),
        Statement::new(
            "INSERT INTO votes (thread_id, voter, direction) VALUES (?1, ?2, ?3) \
             ON CONFLICT (thread_id, voter) DO UPDATE SET direction = excluded.direction WHERE direction <> excluded.direction",
            params![thread_id, voter, stored],
        ),
        // changes() is the upsert's: an outbox row only when a vote was recorded or switched.
        message.insert_if_changed(now.ms),
    ];
    let results = db.batch(statements).await?;
    #[derive(Deserialize)]
    struct Previous {
        direction: i64,
    }
    #[derive(Deserialize)]
    struct Totals {
        up_vote: i64,
        down_vote: i64,
    }
    let previous = nth(&results, 0, "vote")?.first::<Previous>()?.and_then(|p| Direction::from_stored(p.direction));
    let totals = nth(&results, 1, "vote")?
        .first::<Totals>()?
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
        message: outcome.changed().then_some(message),
        round_trips: 2,
        rows_written: sql::rows_written(&results),
    })
}

/// GetProjectThreads: at most `limit` threads, newest first, after the `cursor` thread id.
pub async fn list(db: &impl Database, project_id: i64, limit: u32, cursor: Option<i64>) -> ApiResult<Value> {
    if !read_model::project_exists(db, project_id).await? {
        return Err(ApiError::NotFound { what: format!("project {project_id}"), field: Some("project_id".into()) });
    }
    let rows = db
        .query(Statement::built(
            format!(
                "{VISIBLE_THREADS} SELECT {THREAD_COLUMNS} FROM threads WHERE project_id = ?1 AND thread_id < ?2 \
                 AND thread_id NOT IN gone ORDER BY thread_id DESC LIMIT ?3"
            ),
            params![project_id, cursor.unwrap_or(1_i64 << 53), i64::from(limit) + 1],
        ))
        .await?;
    let mut threads = decode_threads(&rows)?;
    let more = threads.len() > limit as usize;
    threads.truncate(limit as usize);
    let next_cursor = if more { threads.last().map(|t| t.thread_id) } else { None };
    Ok(json!({ "project_id": project_id, "threads": threads, "next_cursor": next_cursor }))
}
