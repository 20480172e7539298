//! The front page (newest projects) and the numbered listing pages (id buckets), with their
//! JSON twins: the spec's GetProjects.
//!
//! A listing page never shows how many pages there are: that number grows with every
//! proposal, and showing it would make every listing page change when one project is added.

use askama::Template;
use serde::Serialize;

use super::view::{
    cards_newest_first, count, html_and_json, newest_first, Card, EmptyForm, Layout, Pager, PROPOSE_ACTION,
};
use super::{Page, SiteConfig};
use crate::model::ProjectSummary;
use crate::paths::{json_url_of, url_of, PageKey};
use crate::Result;

#[derive(Template)]
#[template(path = "front.html")]
struct FrontHtml<'a> {
    layout: Layout<'a>,
    /// "4 projects, newest first."; none on an empty site.
    lead: Option<String>,
    cards: Vec<Card<'a>>,
    empty: &'static str,
    all_url: Option<String>,
    /// The "Propose a project" form.
    form: EmptyForm,
}

#[derive(Serialize)]
struct FrontJson<'a> {
    total: i64,
    projects: Vec<&'a ProjectSummary>,
    /// The newest listing page, where paging through every project starts.
    listing: Option<String>,
}

/// Renders the front page and `/api/v1/projects.json`: the newest projects, newest first.
pub(super) fn front(site: &SiteConfig, newest: &[ProjectSummary], total: i64, last_listing: u32) -> Result<Vec<Page>> {
    let key = PageKey::Front;
    let listing = (last_listing > 0).then_some(PageKey::Listing { page: last_listing });
    let html = FrontHtml {
        layout: Layout::new(site, "Projects".into(), Some(&key)),
        lead: (total > 0).then(|| format!("{}, newest first.", count(total, "project", "projects"))),
        cards: cards_newest_first(newest, true),
        empty: "No projects yet.",
        all_url: listing.as_ref().map(url_of),
        form: EmptyForm::new(PROPOSE_ACTION.into(), url_of(&key)),
    };
    let json = FrontJson { total, projects: newest_first(newest), listing: listing.as_ref().and_then(json_url_of) };
    html_and_json(&key, html.render()?, &json)
}

#[derive(Template)]
#[template(path = "listing.html")]
struct ListingHtml<'a> {
    layout: Layout<'a>,
    cards: Vec<Card<'a>>,
    empty: &'static str,
    pager: Pager,
}

#[derive(Serialize)]
struct ListingJson<'a> {
    page: u32,
    projects: Vec<&'a ProjectSummary>,
    #[serde(flatten)]
    pager: &'a Pager,
}

/// Renders listing page `page` and its JSON twin; `items` may come in any order.
pub(super) fn listing(site: &SiteConfig, page: u32, items: &[ProjectSummary], last_listing: u32) -> Result<Vec<Page>> {
    let key = PageKey::Listing { page };
    let pager = Pager::new(page, last_listing, |page| PageKey::Listing { page });
    let json = ListingJson { page, projects: newest_first(items), pager: &pager };
    let html = ListingHtml {
        layout: Layout::new(site, format!("Projects, page {page}"), Some(&key)),
        cards: cards_newest_first(items, true),
        empty: "No projects on this page.",
        pager: pager.clone(),
    };
    html_and_json(&key, html.render()?, &json)
}
