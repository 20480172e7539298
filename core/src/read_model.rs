//! The read model over the database: the SQL that answers `generator::gather`'s questions,
//! the row structs and their mappers into `generator::model`. Pages rendered from these
//! answers equal a full build's when the answers equal `SiteIndex`'s (a native test checks).

use serde::Deserialize;

use generator::gather::{ReadModel, Stats};
use generator::model::{Project, ProjectSummary, Thread, ThreadType};

use crate::params;
use crate::sql::{self, nth, Database, DbError, Rows, Statement};

/// What a listing shows of a project, tags as a JSON array in order.
pub const SUMMARY_COLUMNS: &str = "p.project_id, p.project_name, p.tagline, p.created_at, \
     (SELECT json_group_array(tag) FROM (SELECT tag FROM tags t WHERE t.project_id = p.project_id ORDER BY tag)) AS tags";

/// What a page shows of a thread.
pub const THREAD_COLUMNS: &str =
    "thread_id, project_id, parent_id, thread_type, message, up_vote, down_vote, created_at";

/// A row of [`SUMMARY_COLUMNS`].
#[derive(Debug, Deserialize)]
pub struct SummaryRow {
    pub project_id: i64,
    pub project_name: String,
    pub tagline: String,
    pub created_at: String,
    /// A JSON array of the tags, sorted.
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

/// A row of [`THREAD_COLUMNS`].
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

/// A project from its summary and its threads.
pub fn project_of(summary: ProjectSummary, threads: Vec<Thread>) -> Project {
    let ProjectSummary { project_id, project_name, tagline, tags, created_at } = summary;
    Project { project_id, project_name, tagline, tags, created_at, threads }
}

/// Summaries matching a `WHERE ... ORDER BY ... LIMIT` tail (constant text; values bound).
pub fn summaries(tail: &str, params: Vec<sql::Param>) -> Statement {
    Statement::built(format!("SELECT {SUMMARY_COLUMNS} FROM projects p {tail}"), params)
}

/// Decodes summary rows.
pub fn decode_summaries(rows: &impl Rows) -> Result<Vec<ProjectSummary>, DbError> {
    Ok(rows.decode::<SummaryRow>()?.into_iter().map(SummaryRow::into_summary).collect())
}

/// A project's threads in id order.
pub fn threads_of(project_id: i64) -> Statement {
    Statement::built(
        format!("SELECT {THREAD_COLUMNS} FROM threads WHERE project_id = ?1 ORDER BY thread_id"),
        params![project_id],
    )
}

/// Decodes thread rows.
pub fn decode_threads(rows: &impl Rows) -> Result<Vec<Thread>, DbError> {
    Ok(rows.decode::<ThreadRow>()?.into_iter().map(ThreadRow::into_thread).collect())
}

/// Returns whether a project exists.
pub async fn project_exists(db: &impl Database, project_id: i64) -> Result<bool, DbError> {
    Ok(sql::count(db, Statement::new("SELECT count(*) AS n FROM projects WHERE project_id = ?1", params![project_id]))
        .await?
        > 0)
}

/// A thread with its project's name (one round trip), or `None` when the project has no such
/// thread: what a reply page shows.
pub async fn thread_of_project(
    db: &impl Database,
    project_id: i64,
    thread_id: i64,
) -> Result<Option<(String, Thread)>, DbError> {
    #[derive(Deserialize)]
    struct Name {
        project_name: String,
    }
    let results = db
        .batch(vec![
            Statement::new("SELECT project_name FROM projects WHERE project_id = ?1", params![project_id]),
            Statement::built(
                format!("SELECT {THREAD_COLUMNS} FROM threads WHERE project_id = ?1 AND thread_id = ?2"),
                params![project_id, thread_id],
            ),
        ])
        .await?;
    let name = nth(&results, 0, "thread_of_project")?.first::<Name>()?;
    let thread = decode_threads(nth(&results, 1, "thread_of_project")?)?.pop();
    Ok(name.zip(thread).map(|(n, t)| (n.project_name, t)))
}

/// The read model of a database (D1 in the Worker, SQLite in the tests).
pub struct SqlReadModel<'a, D>(pub &'a D);

impl<D: Database> ReadModel for SqlReadModel<'_, D> {
    type Error = DbError;

    async fn stats(&self) -> Result<Stats, DbError> {
        #[derive(Deserialize)]
        struct Row {
            total: i64,
            max_id: i64,
        }
        let row = self
            .0
            .query(Statement::new(
                "SELECT count(*) AS total, coalesce(max(project_id), 0) AS max_id FROM projects",
                vec![],
            ))
            .await?
            .first::<Row>()?;
        Ok(row.map_or_else(Stats::default, |r| Stats { total: r.total, max_id: r.max_id }))
    }

    async fn newest(&self, n: usize) -> Result<Vec<ProjectSummary>, DbError> {
        decode_summaries(&self.0.query(summaries("ORDER BY p.project_id DESC LIMIT ?1", params![n as i64])).await?)
    }

    async fn summaries_between(&self, first: i64, last: i64) -> Result<Vec<ProjectSummary>, DbError> {
        let statement = summaries("WHERE p.project_id BETWEEN ?1 AND ?2 ORDER BY p.project_id", params![first, last]);
        decode_summaries(&self.0.query(statement).await?)
    }

    async fn ids_between(&self, first: i64, last: i64) -> Result<Vec<i64>, DbError> {
        #[derive(Deserialize)]
        struct Id {
            project_id: i64,
        }
        let rows: Vec<Id> = sql::rows(
            self.0,
            Statement::new(
                "SELECT project_id FROM projects WHERE project_id BETWEEN ?1 AND ?2 ORDER BY project_id",
                params![first, last],
            ),
        )
        .await?;
        Ok(rows.into_iter().map(|r| r.project_id).collect())
    }

    async fn project(&self, project_id: i64) -> Result<Option<Project>, DbError> {
        let results = self
            .0
            .batch(vec![summaries("WHERE p.project_id = ?1", params![project_id]), threads_of(project_id)])
            .await?;
        let Some(summary) = decode_summaries(nth(&results, 0, "project")?)?.pop() else {
            return Ok(None);
        };
        Ok(Some(project_of(summary, decode_threads(nth(&results, 1, "project")?)?)))
    }

    async fn tag_count(&self, tag: &str) -> Result<i64, DbError> {
        sql::count(self.0, Statement::new("SELECT count(*) AS n FROM tags WHERE tag = ?1", params![tag])).await
    }

    async fn tag_count_before(&self, tag: &str, project_id: i64) -> Result<i64, DbError> {
        let statement = Statement::new(
            "SELECT count(*) AS n FROM tags WHERE tag = ?1 AND project_id < ?2",
            params![tag, project_id],
        );
        sql::count(self.0, statement).await
    }

    async fn tagged(&self, tag: &str, offset: i64, limit: i64) -> Result<Vec<ProjectSummary>, DbError> {
        let statement = summaries(
            "JOIN tags tg ON tg.project_id = p.project_id WHERE tg.tag = ?1 ORDER BY p.project_id LIMIT ?2 OFFSET ?3",
            params![tag, limit, offset],
        );
        decode_summaries(&self.0.query(statement).await?)
    }
}
