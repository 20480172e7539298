//! Handlers of the threads context: GetProjectThreads, UpdateThreads, Vote, a thread's
//! revisions and reports.

use super::request::{body, path_id, sender};
use super::{auth, respond, Call};
use crate::error::{ApiError, ApiResult};
use crate::http::Response;
use crate::limits;
use crate::moderation;
use crate::platform::Platform;
use crate::rules::forms::FormRoute;
use crate::rules::input::{self, ThreadsRequest, VoteRequest};
use crate::rules::moderation_input::ReportRequest;
use crate::rules::votes::Direction;
use crate::threads;

/// `GET /api/v1/projects/{id}/threads?limit=&cursor=`: newest first.
pub async fn list<P: Platform>(c: &mut Call<'_, P>) -> ApiResult<Response> {
    c.figures.route = "list_threads";
    let project_id = path_id(c.route.param("project_id"), "project")?;
    let limit = input::threads_limit(c.req.query_value("limit").as_deref())?;
    let cursor = match c.req.query_value("cursor") {
        Some(raw) => Some(
            raw.parse::<i64>()
                .ok()
                .and_then(|v| input::id("cursor", v).ok())
                .ok_or_else(|| ApiError::invalid("cursor", "must be a thread id from next_cursor"))?,
        ),
        None => None,
    };
    c.figures.round_trips = 2;
    respond::json(200, &threads::list(c.platform.db(), project_id, limit, cursor).await?)
}

/// `POST /api/v1/projects/{id}/threads`: add threads and replies, edit one's own messages; all
/// or nothing.
pub async fn update<P: Platform>(c: &mut Call<'_, P>) -> ApiResult<Response> {
    c.figures.route = "update_threads";
    sender(c).check()?;
    let project_id = path_id(c.route.param("project_id"), "project")?;
    let writes = body::<ThreadsRequest, P>(c, FormRoute::Threads)?.validate(project_id)?;
    let author = auth::visitor(c)?.author;
    let (id, now) = (c.platform.random_id(), c.platform.now());
    let written = threads::update_threads(c.platform.db(), project_id, &writes, &author, id, &now).await?;
    respond::written(c, written).await
}

/// `POST /api/v1/threads/{id}/vote`: one vote per visitor per thread.
pub async fn vote<P: Platform>(c: &mut Call<'_, P>) -> ApiResult<Response> {
    c.figures.route = "vote";
    sender(c).check()?;
    let thread_id = path_id(c.route.param("thread_id"), "thread")?;
    let direction = Direction::parse(&body::<VoteRequest, P>(c, FormRoute::Vote)?.direction)?;
    let voter = auth::visitor(c)?.id;
    limits::check_voter(c.platform, &voter).await?;
    let (id, now) = (c.platform.random_id(), c.platform.now());
    let written = threads::vote(c.platform.db(), thread_id, &voter, direction, id, &now).await?;
    respond::written(c, written).await
}

/// `GET /api/v1/threads/{id}/revisions`: the texts a shown thread had before, oldest first.
pub async fn revisions<P: Platform>(c: &mut Call<'_, P>) -> ApiResult<Response> {
    c.figures.route = "revisions";
    let thread_id = path_id(c.route.param("thread_id"), "thread")?;
    c.figures.round_trips = 2;
    respond::json(200, &moderation::revisions(c.platform.db(), thread_id).await?)
}

/// `POST /api/v1/threads/{id}/reports`: a visitor reports a thread to the moderators.
pub async fn report<P: Platform>(c: &mut Call<'_, P>) -> ApiResult<Response> {
    c.figures.route = "report";
    sender(c).check()?;
    let thread_id = path_id(c.route.param("thread_id"), "thread")?;
    let reason = body::<ReportRequest, P>(c, FormRoute::Report)?.validate()?;
    let reporter = auth::visitor(c)?.author;
    let now = c.platform.now();
    let written = moderation::report(c.platform.db(), thread_id, &reporter, &reason, &now).await?;
    respond::written(c, written).await
}
