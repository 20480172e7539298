//! The data import: loads projects in the snapshot format (the export's, and
//! `shared/bench/make_snapshot.py`'s) with their ids, times and vote totals, so a site can be
//! restored from a backup or moved. Admin only; a bounded chunk per call, one D1 batch per
//! chunk (all or nothing). Pages are not touched: run the admin rebuild afterwards.
//!
//! Resumable: a chunk whose projects are already there with the same content (an interrupted
//! run, a retry whose answer was lost) is not a conflict: those projects are skipped and the
//! rest loaded. Only a project stored with other content, or an id or name another project
//! holds, is refused (409).

use serde::Deserialize;
use serde_json::{json, Value};

#[cfg(doc)]
use generator::model::Thread;
use generator::model::{Project, Revision, ThreadType};

use crate::error::{ApiError, ApiResult};
use crate::params;
use crate::projects::is_tag_limit;
use crate::read_model::{assemble, whole_projects};
use crate::rules::input;
use crate::search;
use crate::sql::{self, Database, DbError, Statement};

/// Most projects per import call (keeps one batch well inside D1's statement limits).
pub const MAX_IMPORT_PROJECTS: usize = 20;
/// Largest import body, in bytes.
pub const MAX_IMPORT_BYTES: usize = 1024 * 1024;
/// Largest id an import may bring. New rows continue from the largest id (AUTOINCREMENT), and
/// D1 hands integers to JavaScript as doubles: ids past 2^53 would come back wrong and break
/// every read of them, so imports leave ample room below that.
pub const MAX_IMPORT_ID: i64 = 1 << 40;

/// The import body: a chunk of a snapshot. Unknown fields are refused at every level (422), as
/// on every write: a misspelt field would otherwise be dropped without a word.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportRequest {
    pub projects: Vec<ImportProject>,
}

/// A project of the snapshot format ([`Project`]), strictly.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportProject {
    pub project_id: i64,
    pub project_name: String,
    pub tagline: String,
    pub tags: Vec<String>,
    pub created_at: String,
    #[serde(default)]
    pub threads: Vec<ImportThread>,
    #[serde(default, deserialize_with = "crate::rules::input::present")]
    pub author: Option<String>,
    #[serde(default, deserialize_with = "crate::rules::input::present")]
    pub author_name: Option<String>,
    #[serde(default)]
    pub hidden: bool,
}

/// A thread of the snapshot format ([`Thread`]), strictly.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportThread {
    pub thread_id: i64,
    pub project_id: i64,
    /// Required, `null` for a top-level thread (as the schema says).
    #[serde(deserialize_with = "Option::deserialize")]
    pub parent_id: Option<i64>,
    pub thread_type: ThreadType,
    pub message: String,
    pub up_vote: i64,
    pub down_vote: i64,
    pub created_at: String,
    #[serde(default, deserialize_with = "crate::rules::input::present")]
    pub author: Option<String>,
    #[serde(default, deserialize_with = "crate::rules::input::present")]
    pub author_name: Option<String>,
    #[serde(default, deserialize_with = "crate::rules::input::present")]
    pub edited_at: Option<String>,
    #[serde(default)]
    pub revisions: Vec<ImportRevision>,
    #[serde(default)]
    pub hidden: bool,
}

/// An earlier text of a thread ([`generator::model::Revision`]), strictly.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportRevision {
    pub revision_id: i64,
    pub message: String,
    pub written_at: String,
    pub replaced_at: String,
}

/// Checks a chunk before anything is written.
pub fn validate(req: &ImportRequest) -> ApiResult<()> {
    if req.projects.is_empty() || req.projects.len() > MAX_IMPORT_PROJECTS {
        return Err(ApiError::invalid("projects", format!("1 to {MAX_IMPORT_PROJECTS} projects per call")));
    }
    for (i, p) in req.projects.iter().enumerate() {
        let field = |name: &str| format!("projects[{i}].{name}");
        imported_id(&field("project_id"), p.project_id)?;
        input::line(&field("project_name"), &p.project_name, input::MAX_NAME_CHARS)?;
        input::line(&field("tagline"), &p.tagline, input::MAX_TAGLINE_CHARS)?;
        author(&field("author"), p.author.as_deref(), p.author_name.as_deref())?;
        if p.tags.len() > input::MAX_TAGS {
            return Err(ApiError::invalid(field("tags"), format!("at most {} tags", input::MAX_TAGS)));
        }
        for t in &p.threads {
            imported_id(&field("threads.thread_id"), t.thread_id)?;
            if t.project_id != p.project_id {
                return Err(ApiError::invalid(field("threads.project_id"), "must be the project's id"));
            }
            author(&field("threads.author"), t.author.as_deref(), t.author_name.as_deref())?;
            for r in &t.revisions {
                imported_id(&field("threads.revisions.revision_id"), r.revision_id)?;
            }
            let total = 0..=MAX_IMPORT_ID;
            if !total.contains(&t.up_vote) || !total.contains(&t.down_vote) {
                return Err(ApiError::invalid(
                    field("threads.up_vote"),
                    format!("vote totals are from 0 to {MAX_IMPORT_ID}"),
                ));
            }
        }
    }
    Ok(())
}

/// An author key is what `identity::author_of` makes (32 lower-case hex digits, as pages and
/// the export carry it); a name needs an author.
fn author(field: &str, author: Option<&str>, name: Option<&str>) -> ApiResult<()> {
    match author {
        Some(a) if a.len() != 32 || !a.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) => {
            Err(ApiError::invalid(field, "an author is 32 lower-case hex digits"))
        }
        None if name.is_some() => Err(ApiError::invalid(field, "a display name needs its author")),
        _ => {
            if let Some(name) = name {
                crate::rules::input::line(field, name, crate::rules::moderation_input::MAX_DISPLAY_NAME_CHARS)?;
            }
            Ok(())
        }
    }
}

fn imported_id(field: &str, id: i64) -> ApiResult<i64> {
    if (1..=MAX_IMPORT_ID).contains(&id) {
        Ok(id)
    } else {
        Err(ApiError::invalid(field, format!("an imported id is from 1 to {MAX_IMPORT_ID}")))
    }
}

/// Writes a validated chunk in one batch. Projects already there with the same content are
/// skipped (a resumed or retried import); any other id or name already present is a 409.
pub async fn import(db: &impl Database, req: &ImportRequest) -> ApiResult<Value> {
    let chunk = req.projects.iter().map(ImportProject::as_project).collect::<ApiResult<Vec<_>>>()?;
    let all: Vec<&Project> = chunk.iter().collect();
    let (results, loaded, skipped) = match insert(db, &all).await {
        Ok(results) => (results, all, 0),
        Err(e) if e.is_any_unique_violation() => {
            let stored = stored_projects(db, &all).await?;
            let mut rest = Vec::new();
            for p in all {
                match stored.iter().find(|s| s.project_id == p.project_id) {
                    Some(s) if s == p => {}
                    Some(_) => {
                        return Err(ApiError::Conflict {
                            message: format!("project {} is already there with other content", p.project_id),
                            field: Some("projects".into()),
                        })
                    }
                    None => rest.push(p),
                }
            }
            let skipped = chunk.len() - rest.len();
            let results = if rest.is_empty() { Vec::new() } else { insert(db, &rest).await.map_err(refusal)? };
            (results, rest, skipped)
        }
        Err(e) => return Err(refusal(e)),
    };
    let threads: usize = loaded.iter().map(|p| p.threads.len()).sum();
    Ok(json!({
        "projects": loaded.len(), "skipped": skipped, "threads": threads,
        "rows_written": sql::rows_written(&results),
    }))
}

/// The stored projects among a chunk's ids, whole (hidden ones and their revisions included).
async fn stored_projects(db: &impl Database, chunk: &[&Project]) -> ApiResult<Vec<Project>> {
    let ids: Vec<String> = chunk.iter().map(|p| p.project_id.to_string()).collect();
    // The ids are validated integers: constant text, not input.
    let filter = format!("p.project_id IN ({})", ids.join(","));
    let results = db.batch(whole_projects(&filter, Vec::new()).to_vec()).await?;
    Ok(assemble(&results, 0)?)
}

/// What a failed import batch tells the caller.
fn refusal(e: DbError) -> ApiError {
    if e.is_any_unique_violation() {
        ApiError::Conflict {
            message: "a project or thread id or name already exists".into(),
            field: Some("projects".into()),
        }
    } else if is_tag_limit(&e) {
        ApiError::invalid("projects", format!("a project has at most {} tags", input::MAX_TAGS))
    } else if e.is_foreign_key_violation() {
        ApiError::invalid("projects", "a reply's parent is missing from the import")
    } else {
        e.into()
    }
}

impl ImportProject {
    /// The project as the site would store and export it: tags normalized, sorted and unique;
    /// threads and revisions in id order.
    pub fn as_project(&self) -> ApiResult<Project> {
        let mut tags = self.tags.iter().map(|t| input::tag("tags", t)).collect::<ApiResult<Vec<_>>>()?;
        tags.sort();
        tags.dedup();
        let mut threads: Vec<generator::model::Thread> = self
            .threads
            .iter()
            .map(|t| {
                let mut revisions: Vec<Revision> = t
                    .revisions
                    .iter()
                    .map(|r| Revision {
                        revision_id: r.revision_id,
                        message: r.message.clone(),
                        written_at: r.written_at.clone(),
                        replaced_at: r.replaced_at.clone(),
                    })
                    .collect();
                revisions.sort_by_key(|r| r.revision_id);
                generator::model::Thread {
                    thread_id: t.thread_id,
                    project_id: t.project_id,
                    parent_id: t.parent_id,
                    thread_type: t.thread_type,
                    message: t.message.clone(),
                    up_vote: t.up_vote,
                    down_vote: t.down_vote,
                    created_at: t.created_at.clone(),
                    author: t.author.clone(),
                    author_name: t.author_name.clone(),
                    edited_at: t.edited_at.clone(),
                    revisions,
                    hidden: t.hidden,
                }
            })
            .collect();
        threads.sort_by_key(|t| t.thread_id);
        Ok(Project {
            project_id: self.project_id,
            project_name: self.project_name.clone(),
            tagline: self.tagline.clone(),
            tags,
            created_at: self.created_at.clone(),
            author: self.author.clone(),
            author_name: self.author_name.clone(),
            threads,
            hidden: self.hidden,
        })
    }
}

/// Inserts projects in one batch (all or nothing).
async fn insert<D: Database>(db: &D, projects: &[&Project]) -> Result<Vec<D::Rows>, DbError> {
    let mut statements = Vec::new();
    for p in projects {
        statements.push(Statement::new(
            "INSERT INTO projects (project_id, project_name, name_key, tagline, created_at, author, author_name, hidden) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                p.project_id,
                &p.project_name,
                input::name_key(&p.project_name),
                &p.tagline,
                &p.created_at,
                p.author.as_deref(),
                p.author_name.as_deref(),
                i64::from(p.hidden)
            ],
        ));
        for tag in &p.tags {
            statements.push(Statement::new(
                "INSERT OR IGNORE INTO tags (project_id, tag) VALUES (?1, ?2)",
                params![p.project_id, tag],
            ));
        }
        statements.push(search::index_projects("p.project_id = ?1", params![p.project_id]));
        // Parents before replies: ids grow with time, so id order (the threads' order in a
        // normalized project) is creation order.
        for t in &p.threads {
            statements.push(Statement::new(
                "INSERT INTO threads (thread_id, project_id, parent_id, thread_type, message, up_vote, down_vote, created_at, \
                 author, author_name, updated_at, hidden) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                params![
                    t.thread_id,
                    t.project_id,
                    t.parent_id,
                    t.thread_type.as_str(),
                    &t.message,
                    t.up_vote,
                    t.down_vote,
                    &t.created_at,
                    t.author.as_deref(),
                    t.author_name.as_deref(),
                    t.edited_at.as_deref(),
                    i64::from(t.hidden)
                ],
            ));
            for r in &t.revisions {
                statements.push(Statement::new(
                    "INSERT INTO revisions (revision_id, thread_id, message, written_at, replaced_at, replaced_by) \
                     VALUES (?1, ?2, ?3, ?4, ?5, 'import')",
                    params![r.revision_id, t.thread_id, &r.message, &r.written_at, &r.replaced_at],
                ));
            }
        }
    }
    db.batch(statements).await
}
