//! Operations for operators: health (public), and the admin-token routes export, import and
//! rebuilds.

use serde_json::json;

use super::auth::require_admin;
use super::{respond, Call};
use crate::error::{ApiError, ApiResult};
use crate::http::sender::media_type_is;
use crate::http::Response;
use crate::platform::Platform;
use crate::rules::input;
use crate::{dead_letters, export, health, import, rebuild};

/// `GET /api/v1/health`: whether pages converge (`ok` or `degraded` with reasons), the outbox
/// backlog and its oldest age (render lag), dead letters, the last publish and cron run.
pub async fn health<P: Platform>(c: &mut Call<'_, P>) -> ApiResult<Response> {
    c.figures.route = "health";
    c.figures.round_trips = 1;
    respond::json(200, &health::report(c.platform).await?)
}

/// `GET /api/v1/admin/dead-letters`: the messages the queue gave up on.
pub async fn dead_letters<P: Platform>(c: &mut Call<'_, P>) -> ApiResult<Response> {
    c.figures.route = "dead_letters";
    require_admin(c)?;
    respond::json(200, &dead_letters::list(c.platform.db()).await?)
}

/// `DELETE /api/v1/admin/dead-letters`: acknowledges (removes) every stored dead letter.
pub async fn clear_dead_letters<P: Platform>(c: &mut Call<'_, P>) -> ApiResult<Response> {
    c.figures.route = "clear_dead_letters";
    require_admin(c)?;
    respond::json(200, &json!({ "cleared": dead_letters::clear(c.platform.db()).await? }))
}

/// `GET /api/v1/export?after=&limit=`: the read model in the snapshot format, paged by id.
pub async fn export<P: Platform>(c: &mut Call<'_, P>) -> ApiResult<Response> {
    c.figures.route = "export";
    require_admin(c)?;
    let after = match c.req.query_value("after") {
        Some(a) => a
            .parse::<i64>()
            .ok()
            .filter(|a| (0..=input::MAX_ID).contains(a))
            .ok_or_else(|| ApiError::invalid("after", "must be a project id or 0"))?,
        None => 0,
    };
    let limit = match c.req.query_value("limit") {
        Some(l) => l.parse::<u32>().ok().filter(|l| (1..=export::MAX_EXPORT_PAGE).contains(l)).ok_or_else(|| {
            ApiError::invalid("limit", format!("must be an integer from 1 to {}", export::MAX_EXPORT_PAGE))
        })?,
        None => export::MAX_EXPORT_PAGE,
    };
    c.figures.round_trips = 1;
    respond::json(200, &export::page(c.platform.db(), &c.platform.config().site, after, limit).await?)
}

/// `POST /api/v1/admin/import`: a chunk of a snapshot, ids and totals kept.
pub async fn import<P: Platform>(c: &mut Call<'_, P>) -> ApiResult<Response> {
    c.figures.route = "import";
    require_admin(c)?;
    if !media_type_is(c.req.header("content-type"), "application/json") {
        return Err(ApiError::UnsupportedMediaType { expected: "application/json".into() });
    }
    let chunk: import::ImportRequest = input::parse_json_within(&c.req.body, import::MAX_IMPORT_BYTES)?;
    import::validate(&chunk)?;
    c.figures.round_trips = 1;
    respond::json(201, &import::import(c.platform.db(), &chunk).await?)
}

/// `POST /api/v1/admin/rebuilds`: re-render every page, in bounded queue steps.
pub async fn start_rebuild<P: Platform>(c: &mut Call<'_, P>) -> ApiResult<Response> {
    c.figures.route = "rebuild_start";
    require_admin(c)?;
    let rebuild_id = rebuild::start(c.platform).await?;
    let status_url = format!("/api/v1/admin/rebuilds/{rebuild_id}");
    respond::json(202, &json!({ "rebuild_id": rebuild_id, "status_url": status_url }))
}

/// `GET /api/v1/admin/rebuilds/{id}`: a rebuild's phase and pages rendered.
pub async fn rebuild_progress<P: Platform>(c: &mut Call<'_, P>) -> ApiResult<Response> {
    c.figures.route = "rebuild_progress";
    require_admin(c)?;
    respond::json(200, &rebuild::progress(c.platform.db(), c.route.param("rebuild_id")).await?)
}
