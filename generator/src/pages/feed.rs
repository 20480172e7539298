//! The Atom feed of new projects, with absolute URLs from `SiteConfig::base_url`.
//!
//! `<updated>` is the newest project's `created_at`, never the clock, so rendering the same
//! data twice gives the same bytes.

use askama::Template;

use super::view::{absolute, newest_first, single};
use super::{Page, SiteConfig, XML_ATOM};
use crate::model::ProjectSummary;
use crate::paths::{url_of, PageKey};
use crate::Result;

/// What `<updated>` says of a feed with no entries.
pub const EPOCH: &str = "1970-01-01T00:00:00Z";

#[derive(Template)]
#[template(path = "feed.xml")]
struct FeedXml<'a> {
    site_name: &'a str,
    home: String,
    self_url: String,
    updated: &'a str,
    entries: Vec<Entry<'a>>,
}

struct Entry<'a> {
    title: &'a str,
    url: String,
    created: &'a str,
    summary: &'a str,
    tags: &'a [String],
}

/// Renders `/feed.xml` from the newest projects (any order in, newest first out).
pub(super) fn render(site: &SiteConfig, newest: &[ProjectSummary]) -> Result<Vec<Page>> {
    let sorted = newest_first(newest);
    let feed = FeedXml {
        site_name: &site.site_name,
        home: absolute(site, &url_of(&PageKey::Front)),
        self_url: absolute(site, &url_of(&PageKey::Feed)),
        updated: sorted.first().map_or(EPOCH, |p| p.created_at.as_str()),
        entries: sorted
            .into_iter()
            .map(|p| Entry {
                title: &p.project_name,
                url: absolute(site, &url_of(&PageKey::Detail { project_id: p.project_id })),
                created: &p.created_at,
                summary: &p.tagline,
                tags: &p.tags,
            })
            .collect(),
    };
    Ok(vec![single(&PageKey::Feed, XML_ATOM, feed.render()?)])
}
