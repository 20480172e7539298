//! The data export: the whole read model in the snapshot format
//! (`shared/bench/make_snapshot.py`), paged by project id, for backups, `crowdfund build
//! --from` and `crowdfund verify`. Admin only (bearer token).

use serde_json::{json, Value};

use generator::model::Project;
use generator::SiteConfig;

use crate::error::ApiResult;
use crate::params;
use crate::read_model::{decode_summaries, decode_threads, project_of, summaries, THREAD_COLUMNS};
use crate::sql::{nth, Database, Statement};

/// Most projects per export page.
pub const MAX_EXPORT_PAGE: u32 = 500;

/// Returns projects with ids after `after`, with their threads, and the cursor of the next page
/// (one round trip).
pub async fn page(db: &impl Database, site: &SiteConfig, after: i64, limit: u32) -> ApiResult<Value> {
    let results = db
        .batch(vec![
            summaries("WHERE p.project_id > ?1 ORDER BY p.project_id LIMIT ?2", params![after, limit]),
            Statement::built(
                format!(
                    "SELECT {THREAD_COLUMNS} FROM threads WHERE project_id IN \
                     (SELECT project_id FROM projects WHERE project_id > ?1 ORDER BY project_id LIMIT ?2) \
                     ORDER BY thread_id"
                ),
                params![after, limit],
            ),
        ])
        .await?;
    let mut projects: Vec<Project> =
        decode_summaries(nth(&results, 0, "export")?)?.into_iter().map(|s| project_of(s, Vec::new())).collect();
    for t in decode_threads(nth(&results, 1, "export")?)? {
        if let Ok(i) = projects.binary_search_by_key(&t.project_id, |p| p.project_id) {
            projects[i].threads.push(t);
        }
    }
    let next_after = if projects.len() == limit as usize { projects.last().map(|p| p.project_id) } else { None };
    Ok(json!({ "site": site, "projects": projects, "next_after": next_after }))
}
