//! GET and HEAD of everything that is not the API: the published pages (`serve`) and the
//! reply pages rendered per request.

use generator::pages::reply::{self, ReplyTo};
use worker::{Method, Response};

use super::request::{header, path_id, percent_decode};
use super::Call;
use crate::config::PAGES;
use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::serve;

/// A published page (or its stand-in rendered on a miss, or the 404 page).
pub async fn page(c: &mut Call<'_>) -> ApiResult<Response> {
    c.figures.route = "page";
    let bucket = c.env.bucket(PAGES).map_err(db::internal)?;
    let decoded = percent_decode(&c.path).ok_or_else(|| ApiError::not_found("page"))?;
    serve::page(&c.method, &decoded, header(&c.req, "if-none-match"), &c.db, &bucket, &c.config.site).await
}

/// The site has no icon; an empty answer stops browsers from logging a 404 on every page.
pub fn favicon(c: &mut Call<'_>) -> ApiResult<Response> {
    c.figures.route = "favicon";
    let response = Response::empty().map_err(db::internal)?.with_status(204);
    let _ = response.headers().set("cache-control", "public, max-age=86400");
    Ok(response)
}

/// A thread's reply form on a page of its own, what its "Reply" link opens without script;
/// the generated 404 page when the project has no such thread.
pub async fn reply(c: &mut Call<'_>, project_id: &str, thread_id: &str) -> ApiResult<Response> {
    c.figures.route = "reply_form";
    let head = c.method == Method::Head;
    let (Ok(project_id), Ok(thread_id)) = (path_id(project_id, "project"), path_id(thread_id, "thread")) else {
        return serve::not_found(&c.config.site, head);
    };
    c.figures.round_trips += 1;
    let Some((project_name, thread)) = db::thread_of_project(&c.db, project_id, thread_id).await? else {
        return serve::not_found(&c.config.site, head);
    };
    let page = reply::render(&c.config.site, &ReplyTo { project_name: &project_name, thread: &thread })
        .map_err(db::internal)?;
    serve::rendered(page, "rendered", header(&c.req, "if-none-match"), head)
}
