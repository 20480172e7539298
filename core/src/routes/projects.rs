//! Handlers of the projects context: ProposeProject and UpdateTags (as the visitor behind the
//! request: the proposer owns the project, and only they remove its tags).

use super::request::{body, idempotency_key, path_id, sender};
use super::{auth, respond, Call};
use crate::error::{ApiError, ApiResult};
use crate::http::Response;
use crate::platform::Platform;
use crate::projects;
use crate::rules::forms::FormRoute;
use crate::rules::input::{self, ProposeRequest, TagsRequest};

/// `POST /projects/propose` and `POST /api/v1/projects`.
pub async fn propose<P: Platform>(c: &mut Call<'_, P>) -> ApiResult<Response> {
    c.figures.route = "propose";
    sender(c).check()?;
    let proposal = body::<ProposeRequest, P>(c, FormRoute::Propose)?.validate()?;
    let idem_key = idempotency_key(c)?;
    let author = auth::visitor_retrying(c, idem_key.as_deref())?.author;
    let (id, now) = (c.platform.random_id(), c.platform.now());
    let written = projects::propose(c.platform.db(), &proposal, &author, idem_key.as_deref(), id, &now).await?;
    respond::written(c, written).await
}

/// `PUT /projects/tags` (project id in the body) and `PUT|PATCH|POST /api/v1/projects/{id}/tags`.
pub async fn update_tags<P: Platform>(c: &mut Call<'_, P>) -> ApiResult<Response> {
    c.figures.route = "update_tags";
    sender(c).check()?;
    let request: TagsRequest = body(c, FormRoute::Tags)?;
    let project_id = match c.route.param("project_id") {
        "" => input::id("project_id", request.project_id.ok_or_else(|| ApiError::invalid("project_id", "required"))?)?,
        in_path => {
            let project_id = path_id(in_path, "project")?;
            if request.project_id.is_some_and(|p| p != project_id) {
                return Err(ApiError::invalid("project_id", "does not match the project in the path"));
            }
            project_id
        }
    };
    let edit = request.validate()?;
    let author = auth::visitor(c)?.author;
    let (id, now) = (c.platform.random_id(), c.platform.now());
    let written = projects::update_tags(c.platform.db(), project_id, &edit, &author, id, &now).await?;
    respond::written(c, written).await
}
