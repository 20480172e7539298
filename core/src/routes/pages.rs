//! GET and HEAD of everything that is not the API: the published pages (`serve`) and the
//! reply pages rendered per request.

use generator::pages::reply::{self, ReplyTo};
use generator::paths::{cache_tags, PageKey};

use super::request::{path_id, percent_decode};
use super::Call;
use crate::error::{ApiError, ApiResult};
use crate::http::{Method, Response};
use crate::platform::Platform;
use crate::read_model;
use crate::serve::{self, Policy};

/// A published page (or its stand-in rendered on a miss, or the 404 page).
pub async fn page<P: Platform>(c: &mut Call<'_, P>) -> ApiResult<Response> {
    c.figures.route = "page";
    let decoded = percent_decode(&c.req.path).ok_or_else(|| ApiError::not_found("page"))?;
    let head = c.req.method == Method::Head;
    serve::page(c.platform, &decoded, c.req.query.as_deref(), c.req.header("if-none-match"), head).await
}

/// The site has no icon; an empty answer stops browsers from logging a 404 on every page.
pub fn favicon<P: Platform>(c: &mut Call<'_, P>) -> Response {
    c.figures.route = "favicon";
    Response::new(204, Vec::new()).with_header("cache-control", "public, max-age=86400")
}

/// A thread's reply form on a page of its own, what its "Reply" link opens without script;
/// the generated 404 page when the project has no such thread. It shows what the project's
/// detail page shows of the thread, so the edge keeps it under that page's tags.
pub async fn reply<P: Platform>(c: &mut Call<'_, P>) -> ApiResult<Response> {
    c.figures.route = "reply_form";
    let config = c.platform.config();
    let (site, ttl) = (&config.site, config.edge_ttl_seconds);
    let ids = (path_id(c.route.param("project_id"), "project"), path_id(c.route.param("thread_id"), "thread"));
    let (Ok(project_id), Ok(thread_id)) = ids else {
        return serve::not_found(site, Policy::Missing(Vec::new()), ttl);
    };
    let tags = cache_tags(&PageKey::Detail { project_id });
    c.figures.round_trips += 1;
    let Some((project_name, thread)) = read_model::thread_of_project(c.platform.db(), project_id, thread_id).await?
    else {
        return serve::not_found(site, Policy::Missing(tags), ttl);
    };
    let page = reply::render(site, &ReplyTo { project_name: &project_name, thread: &thread })?;
    let head = c.req.method == Method::Head;
    Ok(serve::rendered(page, "rendered", c.req.header("if-none-match"), head, &Policy::Page(tags), ttl))
}
