//! GET and HEAD of everything that is not the API: the published pages (`serve`).

use worker::Response;

use super::request::{header, percent_decode};
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
