//! The admin rebuild: re-renders every page from D1, for template changes and recovery. It runs
//! as a chain of queue messages. A message runs bounded steps (100 projects, or 20 tags, or the
//! site-wide pages), one after another, while the invocation's budget lasts (a few seconds and
//! well inside the platform's 1000 subrequests), then sends the next; so no invocation does
//! O(projects) work, and a chain does not pay the queue's batch wait per step. Progress is a D1
//! row, written after every step.
//!
//! Steps run in the one consumer, one batch at a time, like change publishes: a rebuild's page
//! can never overwrite a newer publish of the same page. Within a step, pages are rendered a
//! few at a time ([`publish::publish_keys`]).

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use generator::pages::deployment_data;
use generator::paths::{listing_page_of, sitemap_chunk_of, tag_pages_for_count, top_pages, PageKey, SITE_WIDE_PAGES};

use crate::error::{ApiError, ApiResult};
use crate::params;
use crate::platform::{ChangeQueue, Level, Platform};
use crate::prefetch::Prefetched;
use crate::publish;
use crate::purge;
use crate::sql::{self, Database, Rows, Statement};

/// Projects per step.
const PROJECTS_PER_STEP: i64 = 100;
/// Tags per step.
const TAGS_PER_STEP: i64 = 20;
/// A message stops starting steps once `Config::rebuild_budget_ms` went by, or once another
/// step like the last could take it past this many subrequests (the
/// platform allows 1000 an invocation; a step of 100 projects takes about 320).
const MESSAGE_BUDGET_SUBREQUESTS: usize = 700;

/// Where a rebuild is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum Step {
    Projects { after: i64 },
    Tags { after: String },
    Site,
}

/// The queue message of one step.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RebuildMessage {
    pub rebuild_id: String,
    pub step: Step,
}

/// Starts a rebuild with a fresh id; returns the id.
pub async fn start(platform: &impl Platform) -> ApiResult<String> {
    let rebuild_id = platform.random_id();
    platform
        .db()
        .query(Statement::new(
            "INSERT INTO rebuilds (rebuild_id, started_ms, phase, projects_total) \
             VALUES (?1, ?2, 'projects', (SELECT count(*) FROM projects))",
            params![&rebuild_id, platform.now().ms],
        ))
        .await?;
    let first = RebuildMessage { rebuild_id: rebuild_id.clone(), step: Step::Projects { after: 0 } };
    platform.queue().send(&serde_json::to_value(&first)?).await?;
    Ok(rebuild_id)
}

/// Runs a message's steps: publishes their pages and records progress after each, while the
/// message's budget lasts; then sends the next step, or finishes the rebuild.
///
/// A step that fails after others of the message succeeded is sent on as a message of its own
/// (and the message acknowledged): retrying the whole message would run, and count, the steps
/// already done again. A message's first step failing is the queue's to retry.
pub async fn step(platform: &impl Platform, m: &RebuildMessage) -> ApiResult<()> {
    let start = platform.now().ms;
    let mut spent = 0;
    let mut current = m.step.clone();
    loop {
        let (next, subrequests) = match run_step(platform, &m.rebuild_id, &current).await {
            Ok(done) => done,
            Err(e) if current != m.step => {
                platform.log(
                    Level::Warn,
                    json!({"event": "rebuild_step_failed", "rebuild_id": m.rebuild_id, "error": e.to_string(),
                           "then": "sent on as its own message"}),
                );
                return send_step(platform, &m.rebuild_id, current).await;
            }
            Err(e) => return Err(e),
        };
        spent += subrequests;
        let Some(next) = next else { return Ok(()) };
        let elapsed = platform.now().ms.saturating_sub(start);
        if elapsed >= platform.config().rebuild_budget_ms || spent + subrequests > MESSAGE_BUDGET_SUBREQUESTS {
            return send_step(platform, &m.rebuild_id, next).await;
        }
        current = next;
    }
}

async fn send_step(platform: &impl Platform, rebuild_id: &str, step: Step) -> ApiResult<()> {
    let message = RebuildMessage { rebuild_id: rebuild_id.to_owned(), step };
    platform.queue().send(&serde_json::to_value(&message)?).await?;
    Ok(())
}

/// Runs one step: publishes its pages and records progress. Returns the step after it and the
/// subrequests it took.
async fn run_step(platform: &impl Platform, rebuild_id: &str, step: &Step) -> ApiResult<(Option<Step>, usize)> {
    let (keys, next, prefetched) = plan(platform.db(), step).await?;
    let projects = keys.iter().filter(|k| matches!(k, PageKey::Detail { .. })).count();
    let done = match &prefetched {
        Some(model) => publish::publish_keys_from(platform, model, keys).await?,
        None => publish::publish_keys(platform, keys).await?,
    };
    let phase = match &next {
        Some(Step::Projects { .. }) => "projects",
        Some(Step::Tags { .. }) => "tags",
        Some(Step::Site) => "site",
        None => "done",
    };
    let now = platform.now().ms;
    let finished = next.is_none().then_some(now);
    let mut statements = vec![Statement::new(
        "UPDATE rebuilds SET pages = pages + ?2, phase = ?3, finished_ms = ?4, projects_done = projects_done + ?5 \
         WHERE rebuild_id = ?1",
        params![rebuild_id, done.pages as u64, phase, finished, projects as u64],
    )];
    // Every page was re-rendered: once the last step is stored, every edge copy goes, in one
    // purge of everything (not a purge per page, which would spend the budget for hours).
    if next.is_none() {
        statements.push(purge::owe_everything(now));
    }
    platform.db().batch(statements).await?;
    // The plan's read, a read per page not read with it, writes and deletes, the progress batch.
    let reads = done.pages - if prefetched.is_some() { projects } else { 0 };
    let subrequests = 2 + reads + done.objects_written + done.objects_deleted;
    Ok((next, subrequests))
}

/// Lists a step's pages and the step after it; a projects step reads its projects whole, in
/// one batch, for their detail pages.
async fn plan<'a, D: Database>(
    db: &'a D,
    step: &Step,
) -> ApiResult<(Vec<PageKey>, Option<Step>, Option<Prefetched<'a, D>>)> {
    #[derive(Deserialize)]
    struct TagCount {
        tag: String,
        n: i64,
    }
    match step {
        Step::Projects { after } => {
            let model = Prefetched::read(
                db,
                "p.project_id IN (SELECT project_id FROM projects WHERE project_id > ?1 ORDER BY project_id LIMIT ?2)",
                params![*after, PROJECTS_PER_STEP],
            )
            .await?;
            let ids = model.ids();
            let mut keys: Vec<PageKey> = ids.iter().map(|id| PageKey::Detail { project_id: *id }).collect();
            let mut buckets: Vec<PageKey> = ids
                .iter()
                .flat_map(|id| {
                    [PageKey::Listing { page: listing_page_of(*id) }, PageKey::Sitemap { chunk: sitemap_chunk_of(*id) }]
                })
                .collect();
            buckets.sort();
            buckets.dedup();
            // The listing page and sitemap chunk of the previous step's last project were
            // rendered whole by that step: a chunk spans ten steps, and would be ten times.
            if *after > 0 {
                let done = [
                    PageKey::Listing { page: listing_page_of(*after) },
                    PageKey::Sitemap { chunk: sitemap_chunk_of(*after) },
                ];
                buckets.retain(|k| !done.contains(k));
            }
            keys.extend(buckets);
            let next = match ids.last() {
                Some(last) if ids.len() as i64 == PROJECTS_PER_STEP => Step::Projects { after: *last },
                _ => Step::Tags { after: String::new() },
            };
            Ok((keys, Some(next), Some(model)))
        }
        Step::Tags { after } => {
            let tags: Vec<TagCount> = sql::rows(
                db,
                Statement::new(
                    "SELECT tag, count(*) AS n FROM tags WHERE tag > ?1 GROUP BY tag ORDER BY tag LIMIT ?2",
                    params![after, TAGS_PER_STEP],
                ),
            )
            .await?;
            let mut keys = Vec::new();
            for t in &tags {
                keys.push(PageKey::TagIndex { tag: t.tag.clone() });
                keys.extend((1..=tag_pages_for_count(t.n)).map(|page| PageKey::TagPage { tag: t.tag.clone(), page }));
            }
            let next = match tags.last() {
                Some(last) if tags.len() as i64 == TAGS_PER_STEP => Step::Tags { after: last.tag.clone() },
                _ => Step::Site,
            };
            Ok((keys, Some(next), None))
        }
        // Pages served from the code (stylesheet, script, robots.txt, 404) are not stored.
        Step::Site => {
            let mut keys: Vec<PageKey> =
                SITE_WIDE_PAGES.iter().filter(|k| deployment_data(k).is_none()).cloned().collect();
            keys.extend(top_pages());
            Ok((keys, None, None))
        }
    }
}

/// Reads a rebuild's progress.
pub async fn progress(db: &impl Database, rebuild_id: &str) -> ApiResult<Value> {
    #[derive(Deserialize)]
    struct Row {
        rebuild_id: String,
        started_ms: i64,
        phase: String,
        pages: i64,
        finished_ms: Option<i64>,
        projects_total: i64,
        projects_done: i64,
    }
    let row: Option<Row> = db
        .query(Statement::new(
            "SELECT rebuild_id, started_ms, phase, pages, finished_ms, projects_total, projects_done \
             FROM rebuilds WHERE rebuild_id = ?1",
            params![rebuild_id],
        ))
        .await?
        .first()?;
    let r = row.ok_or_else(|| ApiError::NotFound {
        what: format!("rebuild {rebuild_id}"),
        field: Some("rebuild_id".into()),
    })?;
    Ok(json!({
        "rebuild_id": r.rebuild_id, "phase": r.phase, "pages_rendered": r.pages,
        "started_ms": r.started_ms, "finished_ms": r.finished_ms, "done": r.finished_ms.is_some(),
        "projects_total": r.projects_total, "projects_done": r.projects_done,
    }))
}
