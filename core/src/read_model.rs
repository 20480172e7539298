//! The read model over the database: the SQL that answers `generator::gather`'s questions,
//! the row structs and their mappers into `generator::model`. Pages rendered from these
//! answers equal a full build's when the answers equal `SiteIndex`'s (a native test checks).
//! Pages show what is visible: hidden projects are in no listing, and a project's threads go
//! through `Project::visible`, the generator's one rule for hidden threads and their replies.

use serde::Deserialize;

use generator::gather::{ReadModel, Stats};
use generator::model::{Project, ProjectSummary, Revision, Thread, ThreadType};

use crate::params;
use crate::sql::{self, nth, Database, DbError, Rows, Statement};

/// What a listing shows of a project, tags as a JSON array in order.
pub const SUMMARY_COLUMNS: &str = "p.project_id, p.project_name, p.tagline, p.created_at, \
     (SELECT json_group_array(tag) FROM (SELECT tag FROM tags t WHERE t.project_id = p.project_id ORDER BY tag)) AS tags";

/// Everything of a project but its threads (the detail page, the export).
pub const PROJECT_COLUMNS: &str = "p.project_id, p.project_name, p.tagline, p.created_at, \
     (SELECT json_group_array(tag) FROM (SELECT tag FROM tags t WHERE t.project_id = p.project_id ORDER BY tag)) AS tags, \
     p.author, p.author_name, p.hidden";

/// Everything of a thread but its revisions.
pub const THREAD_COLUMNS: &str = "thread_id, project_id, parent_id, thread_type, message, up_vote, down_vote, \
     created_at, author, author_name, updated_at AS edited_at, hidden";

/// A project's revisions, oldest first per thread.
pub const REVISION_COLUMNS: &str = "r.revision_id, r.thread_id, r.message, r.written_at, r.replaced_at";

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

/// A row of [`PROJECT_COLUMNS`].
#[derive(Debug, Deserialize)]
pub struct ProjectRow {
    pub project_id: i64,
    pub project_name: String,
    pub tagline: String,
    pub created_at: String,
    pub tags: String,
    pub author: Option<String>,
    pub author_name: Option<String>,
    pub hidden: i64,
}

impl ProjectRow {
    /// Maps the row into the read model, without threads.
    pub fn into_project(self) -> Project {
        Project {
            project_id: self.project_id,
            project_name: self.project_name,
            tagline: self.tagline,
            tags: serde_json::from_str(&self.tags).unwrap_or_default(),
            created_at: self.created_at,
            author: self.author,
            author_name: self.author_name,
            threads: Vec::new(),
            hidden: self.hidden != 0,
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
    pub author: Option<String>,
    pub author_name: Option<String>,
    pub edited_at: Option<String>,
    pub hidden: i64,
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
            author: self.author,
            author_name: self.author_name,
            edited_at: self.edited_at,
            revisions: Vec::new(),
            hidden: self.hidden != 0,
        }
    }
}

/// A row of [`REVISION_COLUMNS`].
#[derive(Debug, Deserialize)]
pub struct RevisionRow {
    pub revision_id: i64,
    pub thread_id: i64,
    pub message: String,
    pub written_at: String,
    pub replaced_at: String,
}

/// Summaries matching a `WHERE ... ORDER BY ... LIMIT` tail (constant text; values bound).
pub fn summaries(tail: &str, params: Vec<sql::Param>) -> Statement {
    Statement::built(format!("SELECT {SUMMARY_COLUMNS} FROM projects p {tail}"), params)
}

/// Decodes summary rows.
pub fn decode_summaries(rows: &impl Rows) -> Result<Vec<ProjectSummary>, DbError> {
    Ok(rows.decode::<SummaryRow>()?.into_iter().map(SummaryRow::into_summary).collect())
}

/// Decodes thread rows.
pub fn decode_threads(rows: &impl Rows) -> Result<Vec<Thread>, DbError> {
    Ok(rows.decode::<ThreadRow>()?.into_iter().map(ThreadRow::into_thread).collect())
}

/// The statements that read whole projects (hidden ones and hidden threads included): their
/// rows, their threads and their threads' revisions, for projects matching `filter` (a
/// `WHERE` over `p`, constant text).
pub fn whole_projects(filter: &str, params: Vec<sql::Param>) -> [Statement; 3] {
    [
        Statement::built(format!("SELECT {PROJECT_COLUMNS} FROM projects p WHERE {filter} ORDER BY p.project_id"), params.clone()),
        Statement::built(
            format!(
                "SELECT {THREAD_COLUMNS} FROM threads WHERE project_id IN (SELECT p.project_id FROM projects p WHERE {filter}) \
                 ORDER BY thread_id"
            ),
            params.clone(),
        ),
        Statement::built(
            format!(
                "SELECT {REVISION_COLUMNS} FROM revisions r JOIN threads th ON th.thread_id = r.thread_id \
                 WHERE th.project_id IN (SELECT p.project_id FROM projects p WHERE {filter}) ORDER BY r.revision_id"
            ),
            params,
        ),
    ]
}

/// Assembles the results of [`whole_projects`] (at `at`, `at + 1`, `at + 2` of a batch).
pub fn assemble<R: Rows>(results: &[R], at: usize) -> Result<Vec<Project>, DbError> {
    let mut projects: Vec<Project> =
        nth(results, at, "projects")?.decode::<ProjectRow>()?.into_iter().map(ProjectRow::into_project).collect();
    let mut threads = decode_threads(nth(results, at + 1, "threads")?)?;
    let revisions: Vec<RevisionRow> = nth(results, at + 2, "revisions")?.decode()?;
    for r in revisions {
        if let Ok(i) = threads.binary_search_by_key(&r.thread_id, |t| t.thread_id) {
            threads[i].revisions.push(Revision {
                revision_id: r.revision_id,
                message: r.message,
                written_at: r.written_at,
                replaced_at: r.replaced_at,
            });
        }
    }
    for t in threads {
        if let Ok(i) = projects.binary_search_by_key(&t.project_id, |p| p.project_id) {
            projects[i].threads.push(t);
        }
    }
    Ok(projects)
}

/// Returns whether a project exists and is shown.
pub async fn project_exists(db: &impl Database, project_id: i64) -> Result<bool, DbError> {
    let statement =
        Statement::new("SELECT count(*) AS n FROM projects WHERE project_id = ?1 AND hidden = 0", params![project_id]);
    Ok(sql::count(db, statement).await? > 0)
}

/// A thread pages show (its project shown, neither it nor any thread above it hidden): its
/// project's id, or `None`. What votes, reports and revision reads require.
pub async fn shown_thread(db: &impl Database, thread_id: i64) -> Result<Option<i64>, DbError> {
    #[derive(Deserialize)]
    struct Row {
        project_id: i64,
    }
    let statement = Statement::new(
        "WITH RECURSIVE up(id, parent, hidden) AS (\
           SELECT thread_id, parent_id, hidden FROM threads WHERE thread_id = ?1 \
           UNION ALL SELECT t.thread_id, t.parent_id, t.hidden FROM threads t JOIN up ON t.thread_id = up.parent) \
         SELECT th.project_id FROM threads th JOIN projects p ON p.project_id = th.project_id \
         WHERE th.thread_id = ?1 AND p.hidden = 0 AND NOT EXISTS (SELECT 1 FROM up WHERE up.hidden = 1)",
        params![thread_id],
    );
    Ok(db.query(statement).await?.first::<Row>()?.map(|r| r.project_id))
}

/// A shown thread with its project's name (one round trip), or `None` when the project has
/// no such thread on its page: what a reply page shows.
pub async fn thread_of_project(
    db: &impl Database,
    project_id: i64,
    thread_id: i64,
) -> Result<Option<(String, Thread)>, DbError> {
    let Some(project) = SqlReadModel(db).project(project_id).await? else { return Ok(None) };
    let thread = project.threads.into_iter().find(|t| t.thread_id == thread_id);
    Ok(thread.map(|t| (project.project_name, t)))
}

/// The read model of a database (D1 in the Worker, SQLite in the tests).
pub struct SqlReadModel<'a, D>(pub &'a D);

/// Only shown projects, in listings.
const SHOWN: &str = "p.hidden = 0";

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
                "SELECT (SELECT count(*) FROM projects WHERE hidden = 0) AS total, \
                        (SELECT coalesce(max(project_id), 0) FROM projects) AS max_id",
                vec![],
            ))
            .await?
            .first::<Row>()?;
        Ok(row.map_or_else(Stats::default, |r| Stats { total: r.total, max_id: r.max_id }))
    }

    async fn newest(&self, n: usize) -> Result<Vec<ProjectSummary>, DbError> {
        let statement = summaries(&format!("WHERE {SHOWN} ORDER BY p.project_id DESC LIMIT ?1"), params![n as i64]);
        decode_summaries(&self.0.query(statement).await?)
    }

    async fn summaries_between(&self, first: i64, last: i64) -> Result<Vec<ProjectSummary>, DbError> {
        let statement = summaries(
            &format!("WHERE {SHOWN} AND p.project_id BETWEEN ?1 AND ?2 ORDER BY p.project_id"),
            params![first, last],
        );
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
                "SELECT project_id FROM projects WHERE hidden = 0 AND project_id BETWEEN ?1 AND ?2 ORDER BY project_id",
                params![first, last],
            ),
        )
        .await?;
        Ok(rows.into_iter().map(|r| r.project_id).collect())
    }

    async fn project(&self, project_id: i64) -> Result<Option<Project>, DbError> {
        let results = self.0.batch(whole_projects("p.project_id = ?1", params![project_id]).to_vec()).await?;
        Ok(assemble(&results, 0)?.pop().and_then(Project::visible))
    }

    async fn tag_count(&self, tag: &str) -> Result<i64, DbError> {
        let statement = Statement::new(
            "SELECT count(*) AS n FROM tags t JOIN projects p ON p.project_id = t.project_id WHERE t.tag = ?1 AND p.hidden = 0",
            params![tag],
        );
        sql::count(self.0, statement).await
    }

    async fn tag_count_before(&self, tag: &str, project_id: i64) -> Result<i64, DbError> {
        let statement = Statement::new(
            "SELECT count(*) AS n FROM tags t JOIN projects p ON p.project_id = t.project_id \
             WHERE t.tag = ?1 AND t.project_id < ?2 AND p.hidden = 0",
            params![tag, project_id],
        );
        sql::count(self.0, statement).await
    }

    async fn tagged(&self, tag: &str, offset: i64, limit: i64) -> Result<Vec<ProjectSummary>, DbError> {
        let statement = summaries(
            &format!(
                "JOIN tags tg ON tg.project_id = p.project_id WHERE tg.tag = ?1 AND {SHOWN} \
                 ORDER BY p.project_id LIMIT ?2 OFFSET ?3"
            ),
            params![tag, limit, offset],
        );
        decode_summaries(&self.0.query(statement).await?)
    }

    async fn top(&self, offset: i64, limit: i64) -> Result<Vec<ProjectSummary>, DbError> {
        // The ORDER BY is the partial index `projects_top` of migration 0008, term for term.
        let statement = summaries(
            &format!(
                "WHERE {SHOWN} ORDER BY (p.up_total + 1.0) / (p.up_total + p.down_total + 2.0) DESC, \
                 p.last_active DESC, p.project_id DESC LIMIT ?1 OFFSET ?2"
            ),
            params![limit, offset],
        );
        decode_summaries(&self.0.query(statement).await?)
    }
}
