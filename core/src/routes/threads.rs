//! Handlers of the threads context: GetProjectThreads, UpdateThreads and Vote.

use worker::Response;

use super::request::{body, now, path_id, query};
use super::{auth, respond, Call};
use crate::error::{ApiError, ApiResult};
use crate::forms::FormRoute;
use crate::input::{self, ThreadsRequest, VoteRequest};
use crate::limits;
use crate::threads;
use crate::votes::Direction;

/// `GET /api/v1/projects/{id}/threads?limit=&cursor=`: newest first.
pub async fn list(c: &mut Call<'_>, id: &str) -> ApiResult<Response> {
    c.figures.route = "list_threads";
    let project_id = path_id(id, "project")?;
    let limit = input::threads_limit(query(&c.req, "limit")?.as_deref())?;
    let cursor = match query(&c.req, "cursor")? {
        Some(raw) => Some(
            raw.parse::<i64>()
                .ok()
                .and_then(|v| input::id("cursor", v).ok())
                .ok_or_else(|| ApiError::invalid("cursor", "must be a thread id from next_cursor"))?,
        ),
        None => None,
    };
    c.figures.round_trips = 2;
    respond::json(200, &threads::list(&c.db, project_id, limit, cursor).await?)
}

/// `POST /api/v1/projects/{id}/threads`: add threads and replies, edit messages; all or nothing.
pub async fn update(c: &mut Call<'_>, id: &str) -> ApiResult<Response> {
    c.figures.route = "update_threads";
    auth::check_origin(c)?;
    let project_id = path_id(id, "project")?;
    let writes = body::<ThreadsRequest>(c, FormRoute::Threads).await?.validate(project_id)?;
    let (now, now_ms) = now();
    let written = threads::update_threads(&c.db, project_id, &writes, &now, now_ms).await?;
    respond::written(c, written).await
}

/// `POST /api/v1/threads/{id}/vote`: one vote per voter per thread.
pub async fn vote(c: &mut Call<'_>, id: &str) -> ApiResult<Response> {
    c.figures.route = "vote";
    auth::check_origin(c)?;
    let thread_id = path_id(id, "thread")?;
    let direction = Direction::parse(&body::<VoteRequest>(c, FormRoute::Vote).await?.direction)?;
    let voter = match auth::voter_of(&c.req, &c.config) {
        // A browser form from a visitor without an identity yet: issue one.
        Err(ApiError::Unauthenticated(_)) if c.figures.form.is_some() => {
            let (id, _, cookie) = auth::issue_voter(&c.config)?;
            c.figures.set_cookie = Some(cookie);
            id
        }
        other => other?,
    };
    limits::check_voter(c.env, &voter).await?;
    let written = threads::vote(&c.db, thread_id, &voter, direction, now().1).await?;
    respond::written(c, written).await
}
