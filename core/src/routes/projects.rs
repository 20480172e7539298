//! Handlers of the projects context: ProposeProject and UpdateTags.

use worker::Response;

use super::request::{body, idempotency_key, now, path_id};
use super::{auth, respond, Call};
use crate::error::{ApiError, ApiResult};
use crate::forms::FormRoute;
use crate::input::{self, ProposeRequest, TagsRequest};
use crate::projects;

/// `POST /projects/propose` and `POST /api/v1/projects`.
pub async fn propose(c: &mut Call<'_>) -> ApiResult<Response> {
    c.figures.route = "propose";
    auth::check_origin(c)?;
    let proposal = body::<ProposeRequest>(c, FormRoute::Propose).await?.validate()?;
    let idem_key = idempotency_key(&c.req)?;
    let (now, now_ms) = now();
    let written = projects::propose(&c.db, &proposal, idem_key.as_deref(), &now, now_ms).await?;
    respond::written(c, written).await
}

/// `PUT /projects/tags` (project id in the body) and `PUT|PATCH|POST /api/v1/projects/{id}/tags`.
pub async fn update_tags(c: &mut Call<'_>) -> ApiResult<Response> {
    c.figures.route = "update_tags";
    auth::check_origin(c)?;
    let request: TagsRequest = body(c, FormRoute::Tags).await?;
    let in_path =
        c.path.strip_prefix("/api/v1/projects/").and_then(|rest| rest.strip_suffix("/tags")).map(str::to_owned);
    let project_id = match in_path {
        Some(id) => {
            let project_id = path_id(&id, "project")?;
            if request.project_id.is_some_and(|p| p != project_id) {
                return Err(ApiError::invalid("project_id", "does not match the project in the path"));
            }
            project_id
        }
        None => {
            input::id("project_id", request.project_id.ok_or_else(|| ApiError::invalid("project_id", "required"))?)?
        }
    };
    let edit = request.validate()?;
    let written = projects::update_tags(&c.db, project_id, &edit, now().1).await?;
    respond::written(c, written).await
}
