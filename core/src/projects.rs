//! The projects context's use cases: ProposeProject and UpdateTags. Each is one D1 batch that
//! writes the state and its outbox row together; the change is sent after the commit.

use serde::Deserialize;
use serde_json::{json, Value};
use worker::D1Database;

use generator::paths::Change;

use crate::db::{self, num, stmt, text};
use crate::error::{ApiError, ApiResult};
use crate::input::{Proposal, TagEdit, MAX_TAGS};
use crate::outbox::{self, ChangeMessage};

/// What a write answers, plus the change to send and the D1 figures for the log.
pub struct Written {
    pub status: u16,
    pub body: Value,
    pub message: Option<ChangeMessage>,
    pub round_trips: u32,
    pub rows_written: usize,
}

/// ProposeProject: project, tags, one PROBLEM thread per problem and one SOLUTION thread per
/// solution, the outbox row and (with an Idempotency-Key) the stored answer, in one batch.
pub async fn propose(
    db: &D1Database,
    p: &Proposal,
    idem_key: Option<&str>,
    now: &str,
    now_ms: u64,
) -> ApiResult<Written> {
    let mut round_trips = 0;
    if let Some(key) = idem_key {
        round_trips += 1;
        if let Some(stored) = stored_answer(db, key).await? {
            return Ok(Written { status: stored.0, body: stored.1, message: None, round_trips, rows_written: 0 });
        }
    }
    let outbox_id = outbox::new_id();
    let by_name = "FROM projects WHERE name_key = ?";
    let mut statements = vec![stmt(
        db,
        "INSERT INTO projects (project_name, name_key, tagline, created_at) VALUES (?1, ?2, ?3, ?4)",
        &[text(&p.project_name), text(&p.name_key), text(&p.tagline), text(now)],
    )?];
    for tag in &p.tags {
        statements.push(stmt(
            db,
            &format!("INSERT INTO tags (project_id, tag) SELECT project_id, ?2 {by_name}1"),
            &[text(&p.name_key), text(tag)],
        )?);
    }
    for (kind, messages) in [("PROBLEM", &p.problems), ("SOLUTION", &p.solutions)] {
        for message in messages {
            statements.push(stmt(
                db,
                &format!("INSERT INTO threads (project_id, thread_type, message, created_at) SELECT project_id, ?2, ?3, ?4 {by_name}1"),
                &[text(&p.name_key), text(kind), text(message), text(now)],
            )?);
        }
    }
    let tags_json = serde_json::to_string(&p.tags).map_err(db::internal)?;
    statements.push(stmt(
        db,
        &format!(
            "INSERT INTO outbox (outbox_id, change, created_ms) \
             SELECT ?2, json_object('change', 'proposed', 'project_id', project_id, 'tags', json(?3)), ?4 {by_name}1"
        ),
        &[text(&p.name_key), text(&outbox_id), text(&tags_json), num(now_ms as i64)],
    )?);
    if let Some(key) = idem_key {
        statements.push(stmt(
            db,
            &format!("INSERT INTO idempotency (idem_key, status, body, created_ms) SELECT ?2, 201, json_object('project_id', project_id), ?3 {by_name}1"),
            &[text(&p.name_key), text(&idem(key)), num(now_ms as i64)],
        )?);
    }
    statements.push(stmt(db, &format!("SELECT project_id {by_name}1"), &[text(&p.name_key)])?);

    round_trips += 1;
    let results = match db::batch(db, statements).await {
        Ok(results) => results,
        Err(e) => return refused(db, p, idem_key, e, round_trips).await,
    };
    #[derive(Deserialize)]
    struct Id {
        project_id: i64,
    }
    let project_id = results
        .last()
        .and_then(|r| r.results::<Id>().ok())
        .and_then(|mut v| v.pop())
        .ok_or_else(|| ApiError::Internal("propose: no id returned".into()))?
        .project_id;
    let change = Change::Proposed { project_id, tags: p.tags.clone() };
    Ok(Written {
        status: 201,
        body: json!({ "project_id": project_id }),
        message: Some(ChangeMessage { outbox_id, change }),
        round_trips,
        rows_written: db::rows_written(&results),
    })
}

/// Answers a proposal whose batch failed. A concurrent retry with the same Idempotency-Key
/// that won gets the winner's stored answer: the batch's first statement (the project) fails
/// on the name the winner took, before the idempotency row is reached. Any other holder of the
/// name is a 409.
async fn refused(
    db: &D1Database,
    p: &Proposal,
    idem_key: Option<&str>,
    cause: String,
    round_trips: u32,
) -> ApiResult<Written> {
    let name_taken = cause.contains("projects.name_key");
    if let Some(key) = idem_key.filter(|_| name_taken || cause.contains("idempotency.idem_key")) {
        if let Some((status, body)) = stored_answer(db, key).await? {
            return Ok(Written { status, body, message: None, round_trips: round_trips + 1, rows_written: 0 });
        }
    }
    if name_taken {
        return Err(ApiError::Conflict {
            message: format!("a project named `{}` already exists", p.project_name),
            field: Some("project_name".into()),
        });
    }
    Err(ApiError::Internal(cause))
}

fn idem(key: &str) -> String {
    format!("propose:{key}")
}

async fn stored_answer(db: &D1Database, key: &str) -> ApiResult<Option<(u16, Value)>> {
    #[derive(Deserialize)]
    struct Row {
        status: u16,
        body: String,
    }
    let rows: Vec<Row> =
        db::rows(stmt(db, "SELECT status, body FROM idempotency WHERE idem_key = ?1", &[text(&idem(key))])?).await?;
    Ok(rows.into_iter().next().map(|r| (r.status, serde_json::from_str(&r.body).unwrap_or(Value::Null))))
}

/// UpdateTags: adds and removes a project's tags atomically; answers the tags after the edit.
pub async fn update_tags(db: &D1Database, project_id: i64, edit: &TagEdit, now_ms: u64) -> ApiResult<Written> {
    #[derive(Deserialize)]
    struct Row {
        tag: String,
    }
    let current: Vec<Row> = db::rows(stmt(
        db,
        "SELECT tag FROM tags WHERE project_id = ?1 UNION ALL SELECT '' FROM projects WHERE project_id = ?1 ORDER BY 1",
        &[num(project_id)],
    )?)
    .await?;
    // The UNION row ('') exists only if the project does.
    if current.is_empty() {
        return Err(ApiError::NotFound { what: format!("project {project_id}"), field: Some("project_id".into()) });
    }
    let current: Vec<String> = current.into_iter().map(|r| r.tag).filter(|t| !t.is_empty()).collect();
    let added: Vec<String> = edit.add.iter().filter(|t| !current.contains(t)).cloned().collect();
    let removed: Vec<String> = edit.remove.iter().filter(|t| current.contains(t)).cloned().collect();
    let mut after: Vec<String> = current.iter().filter(|t| !removed.contains(t)).chain(&added).cloned().collect();
    after.sort();
    if after.len() > MAX_TAGS {
        return Err(tag_limit());
    }
    if added.is_empty() && removed.is_empty() {
        return Ok(Written {
            status: 200,
            body: json!({ "project_id": project_id, "tags": after }),
            message: None,
            round_trips: 1,
            rows_written: 0,
        });
    }
    // Removals first, so an edit that ends within the limit never passes over it on the way;
    // the limit itself is held by the database (migration 0003), whatever runs concurrently.
    let mut statements = Vec::new();
    for tag in &removed {
        statements.push(stmt(
            db,
            "DELETE FROM tags WHERE project_id = ?1 AND tag = ?2",
            &[num(project_id), text(tag)],
        )?);
    }
    for tag in &added {
        statements.push(stmt(
            db,
            "INSERT OR IGNORE INTO tags (project_id, tag) VALUES (?1, ?2)",
            &[num(project_id), text(tag)],
        )?);
    }
    let outbox_id = outbox::new_id();
    let change = Change::TagsChanged { project_id, added, removed };
    statements.push(outbox::insert(db, &outbox_id, &change, now_ms)?);
    // The tags as this batch left them (a concurrent edit may have changed them since the read).
    statements.push(stmt(db, "SELECT tag FROM tags WHERE project_id = ?1 ORDER BY tag", &[num(project_id)])?);
    let results =
        db::batch(db, statements).await.map_err(
            |e| {
                if is_tag_limit(&e) {
                    tag_limit()
                } else {
                    ApiError::Internal(e)
                }
            },
        )?;
    let after: Vec<String> = results
        .last()
        .and_then(|r| r.results::<Row>().ok())
        .map(|rows| rows.into_iter().map(|r| r.tag).collect())
        .unwrap_or(after);
    Ok(Written {
        status: 200,
        body: json!({ "project_id": project_id, "tags": after }),
        message: Some(ChangeMessage { outbox_id, change }),
        round_trips: 2,
        rows_written: db::rows_written(&results),
    })
}

/// The 422 of the tag limit.
pub fn tag_limit() -> ApiError {
    ApiError::invalid("add", format!("a project has at most {MAX_TAGS} tags"))
}

/// Whether a batch failed on the database's tag limit (migration 0003's trigger).
pub fn is_tag_limit(cause: &str) -> bool {
    cause.contains("tag_limit")
}
