//! Every SQL string of the Worker, its row structs, and the mappers into `generator::model`.
//! Values are always bound, never formatted into SQL; ids are bound as JS numbers (D1 rejects
//! BigInt).

use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, D1Result};

use generator::model::{Project, ProjectSummary, Thread, ThreadType};

use crate::error::{ApiError, ApiResult};

/// Binds an id as a JS number.
pub fn num(v: i64) -> JsValue {
    JsValue::from_f64(v as f64)
}

/// Binds text.
pub fn text(s: &str) -> JsValue {
    JsValue::from_str(s)
}

/// Prepares a statement with its arguments.
pub fn stmt(db: &D1Database, sql: &str, args: &[JsValue]) -> ApiResult<D1PreparedStatement> {
    db.prepare(sql).bind(args).map_err(internal)
}

/// Maps a D1 or runtime error to a 500, keeping the cause for the log.
pub fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(e.to_string())
}

/// Runs a batch (one D1 round trip, one transaction).
pub async fn batch(db: &D1Database, statements: Vec<D1PreparedStatement>) -> Result<Vec<D1Result>, String> {
    db.batch(statements).await.map_err(|e| e.to_string())
}

/// Runs a read and returns its rows.
pub async fn rows<T: for<'a> Deserialize<'a>>(statement: D1PreparedStatement) -> ApiResult<Vec<T>> {
    statement.all().await.map_err(internal)?.results::<T>().map_err(internal)
}

/// Sums the rows a batch wrote, from D1's result meta.
pub fn rows_written(results: &[D1Result]) -> usize {
    results.iter().filter_map(|r| r.meta().ok().flatten()).filter_map(|m| m.rows_written).sum()
}

/// Selects what a listing shows of a project, tags as a JSON array in order.
pub const SUMMARY_COLUMNS: &str = "p.project_id, p.project_name, p.tagline, p.created_at, \
     (SELECT json_group_array(tag) FROM (SELECT tag FROM tags t WHERE t.project_id = p.project_id ORDER BY tag)) AS tags";

#[derive(Debug, Deserialize)]
pub struct SummaryRow {
    pub project_id: i64,
    pub project_name: String,
    pub tagline: String,
    pub created_at: String,
    pub tags: String,
}

impl SummaryRow {
    /// Maps the row into the read model.
    pub fn into_summary(self) -> ProjectSummary {
        ProjectSummary {
            project_id: self.project_id,
            project_name: self.project_name,
            tagline: self.tagline,
            tags: serde_json::from_str(&self.tags).unwrap_or_default(),
            created_at: self.created_at,
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct ThreadRow {
    pub thread_id: i64,
    pub project_id: i64,
    pub parent_id: Option<i64>,
    pub thread_type: String,
    pub message: String,
    pub up_vote: i64,
    pub down_vote: i64,
    pub created_at: String,
}

impl ThreadRow {
    /// Maps the row into the read model (the CHECK constraint keeps the type valid).
    pub fn into_thread(self) -> Thread {
        Thread {
            thread_id: self.thread_id,
            project_id: self.project_id,
            parent_id: self.parent_id,
            thread_type: ThreadType::parse(&self.thread_type).unwrap_or(ThreadType::Comment),
            message: self.message,
            up_vote: self.up_vote,
            down_vote: self.down_vote,
            created_at: self.created_at,
        }
    }
}

pub const THREAD_COLUMNS: &str =
    "thread_id, project_id, parent_id, thread_type, message, up_vote, down_vote, created_at";

/// Loads a project with its tags and threads (one round trip), or `None`.
pub async fn project(db: &D1Database, project_id: i64) -> ApiResult<Option<Project>> {
    let results = batch(
        db,
        vec![
            stmt(db, &format!("SELECT {SUMMARY_COLUMNS} FROM projects p WHERE p.project_id = ?1"), &[num(project_id)])?,
            stmt(
                db,
                &format!("SELECT {THREAD_COLUMNS} FROM threads WHERE project_id = ?1 ORDER BY thread_id"),
                &[num(project_id)],
            )?,
        ],
    )
    .await
    .map_err(internal)?;
    let [summary, threads] = results.as_slice() else {
        return Err(internal("project: unexpected batch shape"));
    };
    let Some(summary) = summary.results::<SummaryRow>().map_err(internal)?.pop() else {
        return Ok(None);
    };
    let threads = threads.results::<ThreadRow>().map_err(internal)?;
    let s = summary.into_summary();
    Ok(Some(Project {
        project_id: s.project_id,
        project_name: s.project_name,
        tagline: s.tagline,
        tags: s.tags,
        created_at: s.created_at,
        threads: threads.into_iter().map(ThreadRow::into_thread).collect(),
    }))
}

/// Loads a thread with its project's name (one round trip), or `None` when the project has
/// no such thread.
pub async fn thread_of_project(
    db: &D1Database,
    project_id: i64,
    thread_id: i64,
) -> ApiResult<Option<(String, Thread)>> {
    #[derive(Deserialize)]
    struct Name {
        project_name: String,
    }
    let results = batch(
        db,
        vec![
            stmt(db, "SELECT project_name FROM projects WHERE project_id = ?1", &[num(project_id)])?,
            stmt(
                db,
                &format!("SELECT {THREAD_COLUMNS} FROM threads WHERE project_id = ?1 AND thread_id = ?2"),
                &[num(project_id), num(thread_id)],
            )?,
        ],
    )
    .await
    .map_err(internal)?;
    let [name, thread] = results.as_slice() else {
        return Err(internal("thread_of_project: unexpected batch shape"));
    };
    let name = name.results::<Name>().map_err(internal)?.pop();
    let thread = thread.results::<ThreadRow>().map_err(internal)?.pop();
    Ok(name.zip(thread).map(|(n, t)| (n.project_name, t.into_thread())))
}

/// Returns whether a project exists.
pub async fn project_exists(db: &D1Database, project_id: i64) -> ApiResult<bool> {
    #[derive(Deserialize)]
    struct Row {
        #[allow(dead_code)]
        project_id: i64,
    }
    let found: Vec<Row> =
        rows(stmt(db, "SELECT project_id FROM projects WHERE project_id = ?1", &[num(project_id)])?).await?;
    Ok(!found.is_empty())
}

/// Summaries matching a `WHERE ... ORDER BY ... LIMIT` tail.
pub async fn summaries(db: &D1Database, tail: &str, args: &[JsValue]) -> ApiResult<Vec<ProjectSummary>> {
    let rows: Vec<SummaryRow> =
        rows(stmt(db, &format!("SELECT {SUMMARY_COLUMNS} FROM projects p {tail}"), args)?).await?;
    Ok(rows.into_iter().map(SummaryRow::into_summary).collect())
}

/// Counts and the largest id of the projects table.
pub async fn project_stats(db: &D1Database) -> ApiResult<(i64, i64)> {
    #[derive(Deserialize)]
    struct Row {
        total: i64,
        max_id: i64,
    }
    let r: Vec<Row> =
        rows(stmt(db, "SELECT count(*) AS total, coalesce(max(project_id), 0) AS max_id FROM projects", &[])?).await?;
    Ok(r.first().map_or((0, 0), |r| (r.total, r.max_id)))
}

/// A single integer from a `SELECT ... AS n` query.
pub async fn count(db: &D1Database, sql: &str, args: &[JsValue]) -> ApiResult<i64> {
    #[derive(Deserialize)]
    struct Row {
        n: i64,
    }
    let r: Vec<Row> = rows(stmt(db, sql, args)?).await?;
    Ok(r.first().map_or(0, |r| r.n))
}
