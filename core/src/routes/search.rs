//! `GET /search?q=` (the HTML page every page's search box submits to) and
//! `GET /api/v1/search?q=` (the same as JSON). Rendered per query; the edge keeps each answer
//! for [`SEARCH_EDGE_SECONDS`](crate::serve::SEARCH_EDGE_SECONDS), so a burst of one query
//! costs one D1 read a minute.

use generator::pages::search::{self, SearchPage};

use super::Call;
use crate::error::{ApiError, ApiResult};
use crate::http::{Method, Response};
use crate::platform::Platform;
use crate::rules::search_query::SearchQuery;
use crate::search::search as find;
use crate::serve::{self, Policy};

/// The HTML page: a refused query is shown by its field, with status 422.
pub async fn page<P: Platform>(c: &mut Call<'_, P>) -> ApiResult<Response> {
    c.figures.route = "search_page";
    let (q, page) = (c.req.query_value("q"), c.req.query_value("page"));
    let config = c.platform.config();
    let (site, ttl) = (&config.site, config.edge_ttl_seconds);
    let head = c.req.method == Method::Head;
    let (status, results, more, error, query) = match SearchQuery::parse(q.as_deref(), page.as_deref()) {
        Ok(query) => {
            c.figures.round_trips += u32::from(query.fts_expression().is_some());
            let (results, more) = find(c.platform.db(), &query).await?;
            (200, results, more, None, query)
        }
        Err(ApiError::Invalid { message, .. }) => {
            let text: String = q.unwrap_or_default().trim().chars().take(200).collect();
            (422, Vec::new(), false, Some(message), SearchQuery { text, words: Vec::new(), page: 1 })
        }
        Err(e) => return Err(e),
    };
    let view = SearchPage { query: &query.text, page: query.page, results: &results, more, error: error.as_deref() };
    let rendered = search::render(site, &view)?;
    // A refused query is no one's to keep (a 10 KB query should not fill the edge).
    let policy = if status == 200 { Policy::Search } else { Policy::Private };
    let mut response = serve::rendered(rendered, "rendered", c.req.header("if-none-match"), head, &policy, ttl);
    response.status = status;
    Ok(response)
}

/// The JSON answer: `{query, page, projects, next}`; a refused query is the usual 422.
pub async fn api<P: Platform>(c: &mut Call<'_, P>) -> ApiResult<Response> {
    c.figures.route = "search";
    let query = SearchQuery::parse(c.req.query_value("q").as_deref(), c.req.query_value("page").as_deref())?;
    c.figures.round_trips += u32::from(query.fts_expression().is_some());
    let (results, more) = find(c.platform.db(), &query).await?;
    let view = SearchPage { query: &query.text, page: query.page, results: &results, more, error: None };
    let mut response = Response::new(200, search::json(&view)?)
        .with_header("content-type", "application/json")
        .with_header("x-content-type-options", "nosniff");
    Policy::Search.apply(&mut response, c.platform.config().edge_ttl_seconds);
    if c.req.method == Method::Head {
        response.clear_body();
    }
    Ok(response)
}
