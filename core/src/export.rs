//! The data export: the whole read model in the snapshot format
//! (`shared/bench/make_snapshot.py`), paged by project id, for backups, `crowdfund build
//! --from` and `crowdfund verify`. Admin only (bearer token).

use serde_json::{json, Value};

use generator::model::Project;
use generator::SiteConfig;

use crate::error::ApiResult;
use crate::params;
use crate::read_model::{assemble, whole_projects};
use crate::sql::Database;

/// Most projects per export page.
pub const MAX_EXPORT_PAGE: u32 = 500;

/// Returns projects with ids after `after`, hidden ones and hidden threads included (flagged),
/// with their threads and revisions, and the cursor of the next page (one round trip).
pub async fn page(db: &impl Database, site: &SiteConfig, after: i64, limit: u32) -> ApiResult<Value> {
    let filter = "p.project_id IN (SELECT project_id FROM projects WHERE project_id > ?1 ORDER BY project_id LIMIT ?2)";
    let results = db.batch(whole_projects(filter, params![after, limit]).to_vec()).await?;
    let projects: Vec<Project> = assemble(&results, 0)?;
    let next_after = if projects.len() == limit as usize { projects.last().map(|p| p.project_id) } else { None };
    Ok(json!({ "site": site, "projects": projects, "next_after": next_after }))
}
