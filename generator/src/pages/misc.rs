//! Pages that do not depend on data: robots.txt, the 404 page, the stylesheet and the script.

use askama::Template;

use super::view::{absolute, single, Layout};
use super::{Page, SiteConfig, CSS, HTML, JS, TEXT};
use crate::paths::{url_of, PageKey};
use crate::Result;

#[derive(Template)]
#[template(path = "robots.txt")]
struct RobotsTxt {
    sitemap: String,
}

#[derive(Template)]
#[template(path = "not_found.html")]
struct NotFoundHtml<'a> {
    layout: Layout<'a>,
}

/// Renders `/robots.txt`, pointing crawlers at the sitemap and away from the JSON API.
pub(super) fn robots(site: &SiteConfig) -> Result<Vec<Page>> {
    let sitemap = absolute(site, &url_of(&PageKey::SitemapIndex));
    Ok(vec![single(&PageKey::Robots, TEXT, RobotsTxt { sitemap }.render()?)])
}

/// Renders `/404.html`, served for any path without an object.
pub(super) fn not_found(site: &SiteConfig) -> Result<Vec<Page>> {
    let page = NotFoundHtml { layout: Layout::new(site, "Page not found".into(), None) };
    Ok(vec![single(&PageKey::NotFound, HTML, page.render()?)])
}

/// Returns `/static/style.css`, compiled in from `templates/static/`.
pub(super) fn stylesheet() -> Page {
    single(&PageKey::Stylesheet, CSS, include_str!("../../../templates/static/style.css").to_owned())
}

/// Returns `/static/app.js`, compiled in from `templates/static/`.
pub(super) fn script() -> Page {
    single(&PageKey::Script, JS, include_str!("../../../templates/static/app.js").to_owned())
}
