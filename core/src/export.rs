//! The data export: the whole read model in the snapshot format
//! (`shared/bench/make_snapshot.py`), paged by project id, for backups, `crowdfund build
//! --from` and `crowdfund verify`. Admin only (bearer token).

use serde_json::{json, Value};
use worker::D1Database;

use generator::model::Project;
use generator::SiteConfig;

use crate::db::{self, num, text, ThreadRow, THREAD_COLUMNS};
use crate::error::ApiResult;

/// Most projects per export page.
pub const MAX_EXPORT_PAGE: u32 = 500;

/// Returns projects with ids after `after`, with their threads, and the cursor of the next page.
pub async fn page(db: &D1Database, site: &SiteConfig, after: i64, limit: u32) -> ApiResult<Value> {
    let summaries = db::summaries(
        db,
        "WHERE p.project_id > ?1 ORDER BY p.project_id LIMIT ?2",
        &[num(after), num(i64::from(limit))],
    )
    .await?;
    let ids: Vec<i64> = summaries.iter().map(|s| s.project_id).collect();
    let ids_json = serde_json::to_string(&ids).map_err(db::internal)?;
    let threads: Vec<ThreadRow> = db::rows(db::stmt(
        db,
        &format!("SELECT {THREAD_COLUMNS} FROM threads WHERE project_id IN (SELECT value FROM json_each(?1)) ORDER BY thread_id"),
        &[text(&ids_json)],
    )?)
    .await?;
    let mut projects: Vec<Project> = summaries
        .into_iter()
        .map(|s| Project {
            project_id: s.project_id,
            project_name: s.project_name,
            tagline: s.tagline,
            tags: s.tags,
            created_at: s.created_at,
            threads: Vec::new(),
        })
        .collect();
    for t in threads {
        let t = t.into_thread();
        if let Ok(i) = projects.binary_search_by_key(&t.project_id, |p| p.project_id) {
            projects[i].threads.push(t);
        }
    }
    let next_after = if projects.len() == limit as usize { projects.last().map(|p| p.project_id) } else { None };
    Ok(json!({ "site": site, "projects": projects, "next_after": next_after }))
}
