//! GET and HEAD of everything that is not the API: the published pages (`serve`) and a
//! thread's reply, edit and report pages rendered per request.

use generator::pages::thread_page::{self, Purpose, ThreadPage};
use generator::paths::{cache_tags, PageKey};

use super::request::{path_id, percent_decode};
use super::{auth, Call};
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

/// A thread on a page of its own: its reply form (what its "Reply" link opens without
/// script), its author's edit form, or its report form; the generated 404 page when the
/// project shows no such thread. Reply and report pages show what the project's detail page
/// shows of the thread, so the edge keeps them under that page's tags; an edit page depends
/// on who asks, so no cache keeps it, and a visitor who is not the author is told so (403).
pub async fn thread_page<P: Platform>(c: &mut Call<'_, P>, purpose: Purpose) -> ApiResult<Response> {
    c.figures.route = match purpose {
        Purpose::Reply => "reply_form",
        Purpose::Edit => "edit_form",
        Purpose::Report => "report_form",
    };
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
    let (status, notice, policy) = match purpose {
        Purpose::Edit => {
            let author = auth::page_visitor(c)?.map(|v| v.author);
            if author.is_some() && author == thread.author {
                (200, None, Policy::Private)
            } else {
                (403, Some(format!("Only the author of #{thread_id} can edit it.")), Policy::Private)
            }
        }
        Purpose::Report if c.req.query_value("sent").is_some() => {
            (200, Some("Thank you: your report reached the moderators.".to_owned()), Policy::Page(tags))
        }
        Purpose::Report | Purpose::Reply => (200, None, Policy::Page(tags)),
    };
    let page = ThreadPage { purpose, project_name: &project_name, thread: &thread, notice: notice.as_deref() };
    let page = thread_page::render(site, &page)?;
    let head = c.req.method == Method::Head;
    let if_none_match = if purpose == Purpose::Edit { None } else { c.req.header("if-none-match") };
    let mut response = serve::rendered(page, "rendered", if_none_match, head, &policy, ttl);
    response.status = status;
    Ok(response)
}
