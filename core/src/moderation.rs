//! What moderators do, and what visitors report to them. Every action is one batch that
//! changes the state, records the change in the outbox (so the pages follow, like any write:
//! hidden content leaves every page and, at the edge, its purges follow) and appends to the
//! moderation log: who (the moderator's name, never a token), what, when.
//!
//! - hide / restore a thread (its replies go and come back with it) or a whole project;
//! - revert a thread to an earlier revision (itself an edit: the text it replaces is kept);
//! - reports: any visitor may report a thread once; moderators list them.

use serde::Deserialize;
use serde_json::{json, Value};

use generator::paths::Change;

use crate::error::{ApiError, ApiResult};
use crate::outbox::ChangeMessage;
use crate::params;
use crate::platform::Now;
use crate::read_model;
use crate::sql::{self, nth, Database, Rows, Statement};
use crate::write::Written;

/// What a moderator does to a thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThreadAction {
    Hide,
    Restore,
    Revert { revision_id: i64 },
}

/// What a moderator does to a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectAction {
    Hide,
    Restore,
}

fn log_entry(moderator: &str, action: &str, target: &str, detail: Option<String>, now: &Now) -> Statement {
    Statement::new(
        "INSERT INTO moderation_log (moderator, action, target, detail, at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![moderator, action, target, detail, &now.rfc3339],
    )
}

fn detail(reason: Option<&str>, more: Option<String>) -> Option<String> {
    match (more, reason) {
        (Some(m), Some(r)) => Some(format!("{m}; {r}")),
        (m, r) => m.or_else(|| r.map(str::to_owned)),
    }
}

/// Hides, restores or reverts a thread.
pub async fn thread(
    db: &impl Database,
    thread_id: i64,
    action: &ThreadAction,
    moderator: &str,
    reason: Option<&str>,
    outbox_id: String,
    now: &Now,
) -> ApiResult<Written> {
    #[derive(Deserialize)]
    struct Row {
        project_id: i64,
        hidden: i64,
    }
    let row: Option<Row> = db
        .query(Statement::new("SELECT project_id, hidden FROM threads WHERE thread_id = ?1", params![thread_id]))
        .await?
        .first()?;
    let Some(Row { project_id, hidden }) = row else {
        return Err(ApiError::NotFound { what: format!("thread {thread_id}"), field: Some("thread_id".into()) });
    };
    let target = format!("thread:{thread_id}");
    let message = ChangeMessage { outbox_id, change: Change::ThreadsChanged { project_id } };
    let mut statements = Vec::new();
    let (name, extra) = match action {
        ThreadAction::Hide | ThreadAction::Restore => {
            let hide = *action == ThreadAction::Hide;
            statements.push(Statement::new(
                "UPDATE threads SET hidden = ?2 WHERE thread_id = ?1",
                params![thread_id, i64::from(hide)],
            ));
            (if hide { "hide" } else { "restore" }, None)
        }
        ThreadAction::Revert { revision_id } => {
            let exists = sql::count(
                db,
                Statement::new(
                    "SELECT count(*) AS n FROM revisions WHERE revision_id = ?1 AND thread_id = ?2",
                    params![*revision_id, thread_id],
                ),
            )
            .await?;
            if exists == 0 {
                return Err(ApiError::NotFound {
                    what: format!("revision {revision_id} of thread {thread_id}"),
                    field: Some("revision_id".into()),
                });
            }
            statements.push(Statement::new(
                "INSERT INTO revisions (thread_id, message, written_at, replaced_at, replaced_by) \
                 SELECT thread_id, message, coalesce(updated_at, created_at), ?2, ?3 FROM threads WHERE thread_id = ?1",
                params![thread_id, &now.rfc3339, format!("moderator:{moderator}")],
            ));
            statements.push(Statement::new(
                "UPDATE threads SET message = (SELECT message FROM revisions WHERE revision_id = ?2), updated_at = ?3 \
                 WHERE thread_id = ?1",
                params![thread_id, *revision_id, &now.rfc3339],
            ));
            ("revert", Some(format!("to revision {revision_id}")))
        }
    };
    statements.push(message.insert(now.ms));
    statements.push(log_entry(moderator, name, &target, detail(reason, extra), now));
    let results = db.batch(statements).await?;
    let now_hidden = match action {
        ThreadAction::Hide => true,
        ThreadAction::Restore => false,
        ThreadAction::Revert { .. } => hidden != 0,
    };
    Ok(Written {
        status: 200,
        body: json!({ "thread_id": thread_id, "project_id": project_id, "action": name, "hidden": now_hidden }),
        message: Some(message),
        round_trips: 2 + u32::from(matches!(action, ThreadAction::Revert { .. })),
        rows_written: sql::rows_written(&results),
    })
}

/// Hides or restores a whole project.
pub async fn project(
    db: &impl Database,
    project_id: i64,
    action: ProjectAction,
    moderator: &str,
    reason: Option<&str>,
    outbox_id: String,
    now: &Now,
) -> ApiResult<Written> {
    #[derive(Deserialize)]
    struct Tag {
        tag: String,
    }
    let results = db
        .batch(vec![
            Statement::new("SELECT count(*) AS n FROM projects WHERE project_id = ?1", params![project_id]),
            Statement::new("SELECT tag FROM tags WHERE project_id = ?1 ORDER BY tag", params![project_id]),
        ])
        .await?;
    #[derive(Deserialize)]
    struct N {
        n: i64,
    }
    if nth(&results, 0, "moderate")?.first::<N>()?.map_or(0, |r| r.n) == 0 {
        return Err(ApiError::NotFound { what: format!("project {project_id}"), field: Some("project_id".into()) });
    }
    let tags: Vec<String> = nth(&results, 1, "moderate")?.decode::<Tag>()?.into_iter().map(|t| t.tag).collect();
    let hide = action == ProjectAction::Hide;
    let name = if hide { "hide" } else { "restore" };
    let message = ChangeMessage { outbox_id, change: Change::ProjectVisibility { project_id, tags } };
    let results = db
        .batch(vec![
            Statement::new(
                "UPDATE projects SET hidden = ?2 WHERE project_id = ?1",
                params![project_id, i64::from(hide)],
            ),
            message.insert(now.ms),
            log_entry(moderator, name, &format!("project:{project_id}"), reason.map(str::to_owned), now),
        ])
        .await?;
    Ok(Written {
        status: 200,
        body: json!({ "project_id": project_id, "action": name, "hidden": hide }),
        message: Some(message),
        round_trips: 2,
        rows_written: sql::rows_written(&results),
    })
}

/// A visitor reports a shown thread (once: a second report by the same visitor changes
/// nothing and answers the first, 200 instead of 201).
pub async fn report(db: &impl Database, thread_id: i64, reporter: &str, reason: &str, now: &Now) -> ApiResult<Written> {
    let Some(project_id) = read_model::shown_thread(db, thread_id).await? else {
        return Err(ApiError::NotFound { what: format!("thread {thread_id}"), field: Some("thread_id".into()) });
    };
    #[derive(Deserialize)]
    struct Id {
        report_id: i64,
    }
    let results = db
        .batch(vec![
            Statement::new(
                "INSERT OR IGNORE INTO reports (thread_id, reporter, reason, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![thread_id, reporter, reason, &now.rfc3339],
            ),
            Statement::new(
                "SELECT report_id FROM reports WHERE thread_id = ?1 AND reporter = ?2",
                params![thread_id, reporter],
            ),
        ])
        .await?;
    let id = nth(&results, 1, "report")?.first::<Id>()?.map(|r| r.report_id);
    let rows_written = sql::rows_written(&results);
    Ok(Written {
        status: if rows_written > 0 { 201 } else { 200 },
        body: json!({ "report_id": id, "thread_id": thread_id, "project_id": project_id }),
        message: None,
        round_trips: 2,
        rows_written,
    })
}

/// The reports, newest first (at most 100), with the thread's project, state and message.
pub async fn reports(db: &impl Database) -> ApiResult<Value> {
    #[derive(Deserialize, serde::Serialize)]
    struct Row {
        report_id: i64,
        thread_id: i64,
        project_id: i64,
        reason: String,
        created_at: String,
        message: String,
        hidden: i64,
    }
    let rows: Vec<Row> = sql::rows(
        db,
        Statement::new(
            "SELECT r.report_id, r.thread_id, th.project_id, r.reason, r.created_at, th.message, th.hidden \
             FROM reports r JOIN threads th ON th.thread_id = r.thread_id ORDER BY r.report_id DESC LIMIT 100",
            vec![],
        ),
    )
    .await?;
    let reports: Vec<Value> = rows
        .into_iter()
        .map(|r| {
            json!({"report_id": r.report_id, "thread_id": r.thread_id, "project_id": r.project_id, "reason": r.reason,
                   "created_at": r.created_at, "message": r.message, "hidden": r.hidden != 0})
        })
        .collect();
    Ok(json!({ "reports": reports }))
}

/// The moderation log, newest first (at most 100).
pub async fn log(db: &impl Database) -> ApiResult<Value> {
    #[derive(Deserialize)]
    struct Row {
        action_id: i64,
        moderator: String,
        action: String,
        target: String,
        detail: Option<String>,
        at: String,
    }
    let rows: Vec<Row> = sql::rows(
        db,
        Statement::new(
            "SELECT action_id, moderator, action, target, detail, at FROM moderation_log ORDER BY action_id DESC LIMIT 100",
            vec![],
        ),
    )
    .await?;
    let actions: Vec<Value> = rows
        .into_iter()
        .map(|r| {
            json!({"action_id": r.action_id, "moderator": r.moderator, "action": r.action, "target": r.target,
                   "detail": r.detail, "at": r.at})
        })
        .collect();
    Ok(json!({ "actions": actions }))
}

/// A shown thread's revisions, oldest first.
pub async fn revisions(db: &impl Database, thread_id: i64) -> ApiResult<Value> {
    #[derive(Deserialize)]
    struct Row {
        revision_id: i64,
        message: String,
        written_at: String,
        replaced_at: String,
    }
    if read_model::shown_thread(db, thread_id).await?.is_none() {
        return Err(ApiError::NotFound { what: format!("thread {thread_id}"), field: Some("thread_id".into()) });
    }
    let rows: Vec<Row> = sql::rows(
        db,
        Statement::new(
            "SELECT revision_id, message, written_at, replaced_at FROM revisions WHERE thread_id = ?1 ORDER BY revision_id",
            params![thread_id],
        ),
    )
    .await?;
    let revisions: Vec<Value> = rows
        .into_iter()
        .map(|r| json!({"revision_id": r.revision_id, "message": r.message, "written_at": r.written_at, "replaced_at": r.replaced_at}))
        .collect();
    Ok(json!({ "thread_id": thread_id, "revisions": revisions }))
}
