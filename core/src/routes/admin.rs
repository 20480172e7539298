//! Operations for operators: health (public), and the admin-token routes export, import and
//! rebuilds.

use serde_json::json;
use worker::Response;

use super::request::{header, now, query, raw_body};
use super::{auth, respond, Call};
use crate::config::CHANGES;
use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::sender::media_type_is;
use crate::{export, import, input, outbox, rebuild};

/// `GET /api/v1/health`: the outbox backlog and its oldest age (render lag), project count.
pub async fn health(c: &mut Call<'_>) -> ApiResult<Response> {
    c.figures.route = "health";
    let (backlog, oldest_ms) = outbox::backlog(&c.db, now().1).await?;
    let (projects, _) = db::project_stats(&c.db).await?;
    c.figures.round_trips = 2;
    respond::json(
        200,
        &json!({"status": "ok", "projects": projects, "outbox_backlog": backlog, "outbox_oldest_age_ms": oldest_ms}),
    )
}

/// `GET /api/v1/export?after=&limit=`: the read model in the snapshot format, paged by id.
pub async fn export(c: &mut Call<'_>) -> ApiResult<Response> {
    c.figures.route = "export";
    auth::require_admin(c)?;
    let after = match query(&c.req, "after")? {
        Some(a) => a
            .parse::<i64>()
            .ok()
            .filter(|a| *a >= 0)
            .ok_or_else(|| ApiError::invalid("after", "must be a project id or 0"))?,
        None => 0,
    };
    let limit = match query(&c.req, "limit")? {
        Some(l) => l.parse::<u32>().ok().filter(|l| (1..=export::MAX_EXPORT_PAGE).contains(l)).ok_or_else(|| {
            ApiError::invalid("limit", format!("must be an integer from 1 to {}", export::MAX_EXPORT_PAGE))
        })?,
        None => export::MAX_EXPORT_PAGE,
    };
    c.figures.round_trips = 2;
    respond::json(200, &export::page(&c.db, &c.config.site, after, limit).await?)
}

/// `POST /api/v1/admin/import`: a chunk of a snapshot, ids and totals kept.
pub async fn import(c: &mut Call<'_>) -> ApiResult<Response> {
    c.figures.route = "import";
    auth::require_admin(c)?;
    if !media_type_is(header(&c.req, "content-type").as_deref(), "application/json") {
        return Err(ApiError::UnsupportedMediaType { expected: "application/json".into() });
    }
    let body = raw_body(&mut c.req).await?;
    let chunk: import::ImportRequest = input::parse_json_within(&body, import::MAX_IMPORT_BYTES)?;
    import::validate(&chunk)?;
    c.figures.round_trips = 1;
    respond::json(201, &import::import(&c.db, &chunk).await?)
}

/// `POST /api/v1/admin/rebuilds`: re-render every page, in bounded queue steps.
pub async fn start_rebuild(c: &mut Call<'_>) -> ApiResult<Response> {
    c.figures.route = "rebuild_start";
    auth::require_admin(c)?;
    let rebuild_id = outbox::new_id();
    let queue = c.env.queue(CHANGES).map_err(db::internal)?;
    rebuild::start(&c.db, &queue, &rebuild_id, now().1).await?;
    let status_url = format!("/api/v1/admin/rebuilds/{rebuild_id}");
    respond::json(202, &json!({ "rebuild_id": rebuild_id, "status_url": status_url }))
}

/// `GET /api/v1/admin/rebuilds/{id}`: a rebuild's phase and pages rendered.
pub async fn rebuild_progress(c: &mut Call<'_>, id: &str) -> ApiResult<Response> {
    c.figures.route = "rebuild_progress";
    auth::require_admin(c)?;
    respond::json(200, &rebuild::progress(&c.db, id).await?)
}
