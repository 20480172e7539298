//! The "Top" listing (`/top/`, `/top/page/{k}/`) and its JSON twins: the best-voted projects
//! first ([`ranking::top_first`](crate::ranking::top_first)), [`TOP_PAGES`] pages of
//! [`TOP_PAGE_SIZE`](crate::paths::TOP_PAGE_SIZE), beside the front page's newest.

use askama::Template;
use serde::Serialize;

use super::view::{html_and_json, Card, Layout};
use super::{Page, SiteConfig};
use crate::model::ProjectSummary;
use crate::paths::{json_url_of, url_of, PageKey, TOP_PAGES};
use crate::Result;

#[derive(Template)]
#[template(path = "top.html")]
struct TopHtml<'a> {
    layout: Layout<'a>,
    lead: &'static str,
    cards: Vec<Card<'a>>,
    empty: &'static str,
    higher: Option<String>,
    lower: Option<String>,
}

#[derive(Serialize)]
struct TopJson<'a> {
    page: u32,
    projects: &'a [ProjectSummary],
    /// The page of better-ranked projects, and of the next ones.
    higher: Option<String>,
    lower: Option<String>,
}

/// Renders Top page `page` of `last_page`; `items` come best first.
pub(super) fn render(site: &SiteConfig, page: u32, items: &[ProjectSummary], last_page: u32) -> Result<Vec<Page>> {
    let key = PageKey::Top { page };
    let neighbour = |page: u32| PageKey::Top { page };
    let higher = (page > 1).then(|| neighbour(page - 1));
    let lower = (page < last_page.min(TOP_PAGES)).then(|| neighbour(page + 1));
    let title = if page == 1 { "Top projects".to_owned() } else { format!("Top projects, page {page}") };
    let html = TopHtml {
        layout: Layout::new(site, title, Some(&key)),
        lead:
            "The projects whose problems and solutions people voted up the most; ties go to the most recent activity.",
        cards: items.iter().map(|p| Card::new(p, true)).collect(),
        empty: "No projects yet.",
        higher: higher.as_ref().map(url_of),
        lower: lower.as_ref().map(url_of),
    };
    let json = TopJson {
        page,
        projects: items,
        higher: higher.as_ref().and_then(json_url_of),
        lower: lower.as_ref().and_then(json_url_of),
    };
    html_and_json(&key, html.render()?, &json)
}
