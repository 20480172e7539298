//! The projects context's use cases: ProposeProject and UpdateTags. Each is one batch that
//! writes the state and its outbox row together; the route sends the change after the commit.

use serde::Deserialize;
use serde_json::{json, Value};

use generator::paths::Change;

use crate::error::{ApiError, ApiResult};
use crate::outbox::ChangeMessage;
use crate::params;
use crate::platform::Now;
use crate::rules::input::{Proposal, TagEdit, MAX_TAGS};
use crate::search;
use crate::sql::{self, nth, Database, DbError, Rows, Statement};
use crate::write::Written;

/// The statements of a proposal select the new project's id by its unique name key, so the
/// whole proposal is one round trip.
const BY_NAME: &str = "FROM projects WHERE name_key = ?1";

/// The display name an author chose, read inside the write (`?5` is the author).
pub const AUTHOR_NAME: &str = "(SELECT display_name FROM visitors WHERE author = ?5)";

/// ProposeProject: project, tags, one PROBLEM thread per problem and one SOLUTION thread per
/// solution, the outbox row and (with an Idempotency-Key) the stored answer, in one batch. The
/// proposer (`author`, an author key) is the author of the project and its threads.
pub async fn propose(
    db: &impl Database,
    p: &Proposal,
    author: &str,
    idem_key: Option<&str>,
    outbox_id: String,
    now: &Now,
) -> ApiResult<Written> {
    let mut round_trips = 0;
    if let Some(key) = idem_key {
        round_trips += 1;
        if let Some((status, body)) = stored_answer(db, key).await? {
            return Ok(Written::unchanged(status, body, round_trips));
        }
    }
    let mut statements = vec![Statement::built(
        format!(
            "INSERT INTO projects (project_name, name_key, tagline, created_at, author, author_name) \
             VALUES (?1, ?2, ?3, ?4, ?5, {AUTHOR_NAME})"
        ),
        params![&p.project_name, &p.name_key, &p.tagline, &now.rfc3339, author],
    )];
    for tag in &p.tags {
        statements.push(Statement::built(
            format!("INSERT INTO tags (project_id, tag) SELECT project_id, ?2 {BY_NAME}"),
            params![&p.name_key, tag],
        ));
    }
    for (kind, messages) in [("PROBLEM", &p.problems), ("SOLUTION", &p.solutions)] {
        for message in messages {
            statements.push(Statement::built(
                format!(
                    "INSERT INTO threads (project_id, thread_type, message, created_at, author, author_name) \
                     SELECT project_id, ?2, ?3, ?4, ?5, {AUTHOR_NAME} {BY_NAME}"
                ),
                params![&p.name_key, kind, message, &now.rfc3339, author],
            ));
        }
    }
    statements.push(search::index_projects("p.name_key = ?1", params![&p.name_key]));
    let tags_json = serde_json::to_string(&p.tags)?;
    statements.push(Statement::built(
        format!(
            "INSERT INTO outbox (outbox_id, change, created_ms) \
             SELECT ?2, json_object('change', 'proposed', 'project_id', project_id, 'tags', json(?3)), ?4 {BY_NAME}"
        ),
        params![&p.name_key, &outbox_id, tags_json, now.ms],
    ));
    if let Some(key) = idem_key {
        statements.push(Statement::built(
            format!(
                "INSERT INTO idempotency (idem_key, status, body, created_ms) \
                 SELECT ?2, 201, json_object('project_id', project_id), ?3 {BY_NAME}"
            ),
            params![&p.name_key, idem(key), now.ms],
        ));
    }
    statements.push(Statement::built(format!("SELECT project_id {BY_NAME}"), params![&p.name_key]));

    round_trips += 1;
    let results = match db.batch(statements).await {
        Ok(results) => results,
        Err(e) => return refused(db, p, idem_key, e, round_trips).await,
    };
    #[derive(Deserialize)]
    struct Id {
        project_id: i64,
    }
    let project_id = results
        .last()
        .map(Rows::first::<Id>)
        .transpose()?
        .flatten()
        .ok_or_else(|| ApiError::Internal("propose: no id returned".into()))?
        .project_id;
    Ok(Written {
        status: 201,
        body: json!({ "project_id": project_id }),
        message: Some(ChangeMessage { outbox_id, change: Change::Proposed { project_id, tags: p.tags.clone() } }),
        round_trips,
        rows_written: sql::rows_written(&results),
    })
}

/// Answers a proposal whose batch failed. A concurrent retry with the same Idempotency-Key
/// that won gets the winner's stored answer: the batch's first statement (the project) fails
/// on the name the winner took, before the idempotency row is reached. Any other holder of the
/// name is a 409.
async fn refused(
    db: &impl Database,
    p: &Proposal,
    idem_key: Option<&str>,
    cause: DbError,
    round_trips: u32,
) -> ApiResult<Written> {
    let name_taken = cause.is_unique_violation("projects.name_key");
    if let Some(key) = idem_key.filter(|_| name_taken || cause.is_unique_violation("idempotency.idem_key")) {
        if let Some((status, body)) = stored_answer(db, key).await? {
            return Ok(Written::unchanged(status, body, round_trips + 1));
        }
    }
    if name_taken {
        return Err(ApiError::Conflict {
            message: format!("a project named `{}` already exists", p.project_name),
            field: Some("project_name".into()),
        });
    }
    Err(cause.into())
}

fn idem(key: &str) -> String {
    format!("propose:{key}")
}

async fn stored_answer(db: &impl Database, key: &str) -> Result<Option<(u16, Value)>, DbError> {
    #[derive(Deserialize)]
    struct Row {
        status: u16,
        body: String,
    }
    let row: Option<Row> = db
        .query(Statement::new("SELECT status, body FROM idempotency WHERE idem_key = ?1", params![idem(key)]))
        .await?
        .first()?;
    Ok(row.map(|r| (r.status, serde_json::from_str(&r.body).unwrap_or(Value::Null))))
}

#[derive(Deserialize)]
struct TagRow {
    tag: String,
}

/// UpdateTags: adds and removes a project's tags atomically; answers the tags the batch left.
/// Anyone may add tags; only the project's proposer may remove them (403, nothing changed).
/// The 10-tag limit is checked on the tags read first (a clear 422 without a write) and held by
/// the database inside the batch (migration 0003), so no interleaving can pass it.
pub async fn update_tags(
    db: &impl Database,
    project_id: i64,
    edit: &TagEdit,
    author: &str,
    outbox_id: String,
    now: &Now,
) -> ApiResult<Written> {
    #[derive(Deserialize)]
    struct Proposer {
        author: Option<String>,
    }
    let results = db
        .batch(vec![
            Statement::new("SELECT author FROM projects WHERE project_id = ?1 AND hidden = 0", params![project_id]),
            Statement::new("SELECT tag FROM tags WHERE project_id = ?1 ORDER BY tag", params![project_id]),
        ])
        .await?;
    let Some(proposer) = nth(&results, 0, "update_tags")?.first::<Proposer>()? else {
        return Err(ApiError::NotFound { what: format!("project {project_id}"), field: Some("project_id".into()) });
    };
    let current: Vec<TagRow> = nth(&results, 1, "update_tags")?.decode()?;
    let current: Vec<String> = current.into_iter().map(|r| r.tag).collect();
    let added: Vec<String> = edit.add.iter().filter(|t| !current.contains(t)).cloned().collect();
    let removed: Vec<String> = edit.remove.iter().filter(|t| current.contains(t)).cloned().collect();
    if !removed.is_empty() && proposer.author.as_deref() != Some(author) {
        return Err(ApiError::Forbidden {
            message: format!("only the proposer of project {project_id} may remove its tags; anyone may add some"),
            field: Some("remove".into()),
        });
    }
    let mut after: Vec<String> = current.iter().filter(|t| !removed.contains(t)).chain(&added).cloned().collect();
    after.sort();
    if after.len() > MAX_TAGS {
        return Err(tag_limit());
    }
    if added.is_empty() && removed.is_empty() {
        return Ok(Written::unchanged(200, json!({ "project_id": project_id, "tags": after }), 1));
    }
    // Removals first, so an edit that ends within the limit never passes over it on the way.
    let mut statements: Vec<Statement> = removed
        .iter()
        .map(|tag| Statement::new("DELETE FROM tags WHERE project_id = ?1 AND tag = ?2", params![project_id, tag]))
        .collect();
    statements.extend(added.iter().map(|tag| {
        Statement::new("INSERT OR IGNORE INTO tags (project_id, tag) VALUES (?1, ?2)", params![project_id, tag])
    }));
    statements.push(search::index_projects("p.project_id = ?1", params![project_id]));
    let message = ChangeMessage { outbox_id, change: Change::TagsChanged { project_id, added, removed } };
    statements.push(message.insert(now.ms));
    // The tags as this batch left them (a concurrent edit may have changed them since the read).
    statements.push(Statement::new("SELECT tag FROM tags WHERE project_id = ?1 ORDER BY tag", params![project_id]));
    let results = db.batch(statements).await.map_err(|e| if is_tag_limit(&e) { tag_limit() } else { e.into() })?;
    let after: Vec<String> = nth(&results, results.len().saturating_sub(1), "update_tags")?
        .decode::<TagRow>()?
        .into_iter()
        .map(|r| r.tag)
        .collect();
    Ok(Written {
        status: 200,
        body: json!({ "project_id": project_id, "tags": after }),
        message: Some(message),
        round_trips: 2,
        rows_written: sql::rows_written(&results),
    })
}

/// The 409 of the tag limit: a valid edit that the project's current tags leave no room for
/// (a conflict with the resource's state, not a malformed request, so not 422).
pub fn tag_limit() -> ApiError {
    ApiError::Conflict { message: format!("a project has at most {MAX_TAGS} tags"), field: Some("add".into()) }
}

/// Whether a batch failed on the database's tag limit (migration 0003's trigger).
pub fn is_tag_limit(cause: &DbError) -> bool {
    cause.raised("tag_limit")
}
