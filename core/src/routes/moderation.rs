//! Moderators' routes (a moderator's bearer token, see `auth::require_moderator`): hide,
//! restore and revert threads, hide and restore projects, and read the reports and the log.

use serde::de::DeserializeOwned;

use super::auth::require_moderator;
use super::request::path_id;
use super::{respond, Call};
use crate::error::{ApiError, ApiResult};
use crate::http::sender::media_type_is;
use crate::http::Response;
use crate::moderation;
use crate::platform::Platform;
use crate::rules::input;
use crate::rules::moderation_input::{ModerateProjectRequest, ModerateThreadRequest};

fn json_body<T: DeserializeOwned, P: Platform>(c: &Call<'_, P>) -> ApiResult<T> {
    if !media_type_is(c.req.header("content-type"), "application/json") {
        return Err(ApiError::UnsupportedMediaType { expected: "application/json".into() });
    }
    input::parse_json(&c.req.body)
}

/// `POST /api/v1/moderation/threads/{id}`: `{"action": "hide" | "restore" | "revert",
/// "revision_id"?, "reason"?}`.
pub async fn thread<P: Platform>(c: &mut Call<'_, P>) -> ApiResult<Response> {
    c.figures.route = "moderate_thread";
    let moderator = require_moderator(c)?;
    let thread_id = path_id(c.route.param("thread_id"), "thread")?;
    let (action, reason) = json_body::<ModerateThreadRequest, P>(c)?.validate()?;
    let (id, now) = (c.platform.random_id(), c.platform.now());
    let written =
        moderation::thread(c.platform.db(), thread_id, &action, &moderator, reason.as_deref(), id, &now).await?;
    respond::written(c, written).await
}

/// `POST /api/v1/moderation/projects/{id}`: `{"action": "hide" | "restore", "reason"?}`.
pub async fn project<P: Platform>(c: &mut Call<'_, P>) -> ApiResult<Response> {
    c.figures.route = "moderate_project";
    let moderator = require_moderator(c)?;
    let project_id = path_id(c.route.param("project_id"), "project")?;
    let (action, reason) = json_body::<ModerateProjectRequest, P>(c)?.validate()?;
    let (id, now) = (c.platform.random_id(), c.platform.now());
    let written =
        moderation::project(c.platform.db(), project_id, action, &moderator, reason.as_deref(), id, &now).await?;
    respond::written(c, written).await
}

/// `GET /api/v1/moderation/reports`: the newest reports.
pub async fn reports<P: Platform>(c: &mut Call<'_, P>) -> ApiResult<Response> {
    c.figures.route = "reports";
    require_moderator(c)?;
    c.figures.round_trips = 1;
    respond::json(200, &moderation::reports(c.platform.db()).await?)
}

/// `GET /api/v1/moderation/log`: the newest moderation actions.
pub async fn log<P: Platform>(c: &mut Call<'_, P>) -> ApiResult<Response> {
    c.figures.route = "moderation_log";
    require_moderator(c)?;
    c.figures.round_trips = 1;
    respond::json(200, &moderation::log(c.platform.db()).await?)
}
