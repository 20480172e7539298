//! Handlers of the threads context: GetProjectThreads, UpdateThreads and Vote.

use super::request::{body, path_id, sender};
use super::{auth, respond, Call};
use crate::error::{ApiError, ApiResult};
use crate::http::Response;
use crate::limits;
use crate::platform::Platform;
use crate::rules::forms::FormRoute;
use crate::rules::input::{self, ThreadsRequest, VoteRequest};
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

/// `POST /api/v1/projects/{id}/threads`: add threads and replies, edit messages; all or nothing.
pub async fn update<P: Platform>(c: &mut Call<'_, P>) -> ApiResult<Response> {
    c.figures.route = "update_threads";
    sender(c).check()?;
    let project_id = path_id(c.route.param("project_id"), "project")?;
    let writes = body::<ThreadsRequest, P>(c, FormRoute::Threads)?.validate(project_id)?;
    let written =
        threads::update_threads(c.platform.db(), project_id, &writes, c.platform.random_id(), &c.platform.now())
            .await?;
    respond::written(c, written).await
}

/// `POST /api/v1/threads/{id}/vote`: one vote per voter per thread.
pub async fn vote<P: Platform>(c: &mut Call<'_, P>) -> ApiResult<Response> {
    c.figures.route = "vote";
    sender(c).check()?;
    let thread_id = path_id(c.route.param("thread_id"), "thread")?;
    let direction = Direction::parse(&body::<VoteRequest, P>(c, FormRoute::Vote)?.direction)?;
    let voter = match auth::voter_of(c) {
        // A browser form from a visitor without an identity yet: issue one.
        Err(ApiError::Unauthenticated(_)) if c.figures.form.is_some() => {
            let (id, _, cookie) = auth::issue_voter(c)?;
            c.figures.set_cookie = Some(cookie);
            id
        }
        other => other?,
    };
    limits::check_voter(c.platform, &voter).await?;
    let written =
        threads::vote(c.platform.db(), thread_id, &voter, direction, c.platform.random_id(), &c.platform.now()).await?;
    respond::written(c, written).await
}
