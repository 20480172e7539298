//! A tag's pages: its index (the newest page, at `/tags/{tag}/`) and its numbered pages, with
//! JSON twins.
//!
//! Cards here do not show each project's other tags: a tag edit re-renders only the pages of
//! the tags added and removed (`paths::pages_touched`), so showing the others would go stale.

use askama::Template;
use serde::Serialize;

use super::view::{cards_newest_first, count, html_and_json, newest_first, Card, Layout, Pager};
use super::{Page, SiteConfig};
use crate::model::ProjectSummary;
use crate::paths::PageKey;
use crate::Result;

#[derive(Template)]
#[template(path = "tag.html")]
struct TagHtml<'a> {
    layout: Layout<'a>,
    tag: &'a str,
    total: Option<String>,
    cards: Vec<Card<'a>>,
    empty: &'static str,
    pager: Pager,
}

/// A project on a tag page, without its other tags (see the module docs).
#[derive(Serialize)]
struct Item<'a> {
    project_id: i64,
    project_name: &'a str,
    tagline: &'a str,
    created_at: &'a str,
}

#[derive(Serialize)]
struct TagJson<'a> {
    tag: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    total: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    page: Option<u32>,
    projects: Vec<Item<'a>>,
    #[serde(flatten)]
    pager: &'a Pager,
}

fn items(items: &[ProjectSummary]) -> Vec<Item<'_>> {
    newest_first(items)
        .into_iter()
        .map(|p| Item {
            project_id: p.project_id,
            project_name: &p.project_name,
            tagline: &p.tagline,
            created_at: &p.created_at,
        })
        .collect()
}

fn page_key(tag: &str) -> impl Fn(u32) -> PageKey + '_ {
    move |page| PageKey::TagPage { tag: tag.to_owned(), page }
}

/// Renders `/tags/{tag}/`: the tag's newest page (`items`), its project count, a link to
/// the older pages.
pub(super) fn index(
    site: &SiteConfig,
    tag: &str,
    page_items: &[ProjectSummary],
    total: i64,
    last_page: u32,
) -> Result<Vec<Page>> {
    let key = PageKey::TagIndex { tag: tag.to_owned() };
    // The index is the last page: only "older" applies.
    let pager = Pager::new(last_page, last_page, page_key(tag));
    let json = TagJson { tag, total: Some(total), page: None, projects: items(page_items), pager: &pager };
    let html = TagHtml {
        layout: Layout::new(site, format!("Tagged {tag}"), Some(&key)),
        tag,
        total: Some(count(total, "project", "projects")),
        cards: cards_newest_first(page_items, false),
        empty: "No projects carry this tag.",
        pager: pager.clone(),
    };
    html_and_json(&key, html.render()?, &json)
}

/// Renders `/tags/{tag}/page/{page}/`: one chunk of the tag's projects in id order.
pub(super) fn page(
    site: &SiteConfig,
    tag: &str,
    page: u32,
    page_items: &[ProjectSummary],
    last_page: u32,
) -> Result<Vec<Page>> {
    let key = PageKey::TagPage { tag: tag.to_owned(), page };
    let pager = Pager::new(page, last_page, page_key(tag));
    let json = TagJson { tag, total: None, page: Some(page), projects: items(page_items), pager: &pager };
    let html = TagHtml {
        layout: Layout::new(site, format!("Tagged {tag}, page {page}"), Some(&key)),
        tag,
        total: None,
        cards: cards_newest_first(page_items, false),
        empty: "No projects on this page.",
        pager: pager.clone(),
    };
    html_and_json(&key, html.render()?, &json)
}
