//! What several page kinds share: the layout fields every HTML page provides, project cards,
//! pagers, and the formatting of dates and counts for humans (done here, not in templates).

use serde::Serialize;

use super::{Page, SiteConfig, HTML, JSON};
use crate::model::ProjectSummary;
use crate::paths::{json_url_of, object_keys_of, url_of, PageKey};
use crate::Result;

/// The fields `templates/base.html` reads; every HTML page has one as its `layout` field.
#[derive(Debug, Clone)]
pub(super) struct Layout<'a> {
    pub site_name: &'a str,
    /// The page's own title; `<title>` adds the site name.
    pub title: String,
    /// Absolute URL of the page, or `None` for pages without a home (404).
    pub canonical: Option<String>,
    /// The page's JSON twin, advertised as an alternate representation.
    pub json: Option<String>,
    pub home: String,
    pub feed: String,
    pub style: String,
    pub script: String,
}

impl<'a> Layout<'a> {
    /// Builds the layout of the page `key` (or of a page with no URL of its own).
    pub fn new(site: &'a SiteConfig, title: String, key: Option<&PageKey>) -> Self {
        Layout {
            site_name: &site.site_name,
            title,
            canonical: key.map(|k| absolute(site, &url_of(k))),
            json: key.and_then(json_url_of),
            home: url_of(&PageKey::Front),
            feed: url_of(&PageKey::Feed),
            style: url_of(&PageKey::Stylesheet),
            script: url_of(&PageKey::Script),
        }
    }
}

/// Returns the absolute URL of a site path, for the feed, the sitemap and canonical links.
pub(super) fn absolute(site: &SiteConfig, path: &str) -> String {
    format!("{}{}", site.base_url.trim_end_matches('/'), path)
}

/// A tag as a link to its page.
#[derive(Debug, Clone)]
pub(super) struct TagLink<'a> {
    pub name: &'a str,
    pub url: String,
}

impl<'a> TagLink<'a> {
    pub fn new(tag: &'a str) -> Self {
        TagLink { name: tag, url: url_of(&PageKey::TagIndex { tag: tag.to_owned() }) }
    }
}

/// A project as a listing shows it.
#[derive(Debug, Clone)]
pub(super) struct Card<'a> {
    pub name: &'a str,
    pub tagline: &'a str,
    pub url: String,
    /// Empty on tag pages (see `tag.rs`).
    pub tags: Vec<TagLink<'a>>,
    pub created: When<'a>,
}

impl<'a> Card<'a> {
    pub fn new(p: &'a ProjectSummary, with_tags: bool) -> Self {
        let tags = if with_tags { p.tags.iter().map(|t| TagLink::new(t)).collect() } else { Vec::new() };
        Card {
            name: &p.project_name,
            tagline: &p.tagline,
            url: url_of(&PageKey::Detail { project_id: p.project_id }),
            tags,
            created: When::new(&p.created_at),
        }
    }
}

/// Cards newest first, whatever order the items came in (ids grow with time).
pub(super) fn cards_newest_first(items: &[ProjectSummary], with_tags: bool) -> Vec<Card<'_>> {
    newest_first(items).into_iter().map(|p| Card::new(p, with_tags)).collect()
}

/// Items newest first (highest id first), for cards, JSON twins and the feed.
pub(super) fn newest_first(items: &[ProjectSummary]) -> Vec<&ProjectSummary> {
    let mut sorted: Vec<&ProjectSummary> = items.iter().collect();
    sorted.sort_by_key(|p| std::cmp::Reverse(p.project_id));
    sorted
}

/// Links to the neighbouring pages of a paginated list (HTML and JSON).
#[derive(Debug, Clone, Default, Serialize)]
pub(super) struct Pager {
    pub newer: Option<String>,
    pub older: Option<String>,
    #[serde(skip)]
    pub newer_html: Option<String>,
    #[serde(skip)]
    pub older_html: Option<String>,
}

impl Pager {
    /// Builds the links of page `page` of `last`, with `key(k)` naming page `k`.
    pub fn new(page: u32, last: u32, key: impl Fn(u32) -> PageKey) -> Self {
        let newer = (page < last).then(|| key(page + 1));
        let older = (page > 1).then(|| key(page - 1));
        Pager {
            newer: newer.as_ref().and_then(json_url_of),
            older: older.as_ref().and_then(json_url_of),
            newer_html: newer.as_ref().map(url_of),
            older_html: older.as_ref().map(url_of),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.newer_html.is_none() && self.older_html.is_none()
    }
}

/// A timestamp: the machine form for `datetime=` and the human form shown.
#[derive(Debug, Clone)]
pub(super) struct When<'a> {
    pub iso: &'a str,
    pub human: String,
}

impl<'a> When<'a> {
    pub fn new(iso: &'a str) -> Self {
        When { iso, human: human_date(iso) }
    }
}

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// Formats a UTC RFC 3339 timestamp as "1 May 2024, 12:34 UTC"; anything else is shown as is.
pub(super) fn human_date(iso: &str) -> String {
    parse_minute(iso).map_or_else(
        || iso.to_owned(),
        |(y, mo, d, h, mi)| format!("{d} {} {y}, {h:02}:{mi:02} UTC", MONTHS[mo as usize - 1]),
    )
}

fn parse_minute(iso: &str) -> Option<(u32, u32, u32, u32, u32)> {
    let b = iso.as_bytes();
    if b.len() < 16 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') || b[13] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| iso.get(r).filter(|s| s.bytes().all(|c| c.is_ascii_digit()))?.parse().ok();
    let (y, mo, d, h, mi) = (num(0..4)?, num(5..7)?, num(8..10)?, num(11..13)?, num(14..16)?);
    let utc = iso.ends_with('Z') || iso.ends_with('z') || iso.ends_with("+00:00");
    ((1..=12).contains(&mo) && (1..=31).contains(&d) && h < 24 && mi < 60 && utc).then_some((y, mo, d, h, mi))
}

/// Formats a count with its noun: "1 project", "1,234 projects".
pub(super) fn count(n: i64, singular: &str, plural: &str) -> String {
    let noun = if n == 1 { singular } else { plural };
    format!("{} {noun}", group_digits(n))
}

fn group_digits(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Makes a page's objects: its HTML at the key's first object, its JSON twin at the second.
pub(super) fn html_and_json(key: &PageKey, html: String, json: &impl Serialize) -> Result<Vec<Page>> {
    let mut objects = object_keys_of(key).into_iter();
    let mut pages = Vec::with_capacity(2);
    if let Some(k) = objects.next() {
        pages.push(Page { key: k, content_type: HTML, body: html.into_bytes() });
    }
    if let Some(k) = objects.next() {
        let mut body = serde_json::to_vec_pretty(json)?;
        body.push(b'\n');
        pages.push(Page { key: k, content_type: JSON, body });
    }
    Ok(pages)
}

/// Makes the single object of a page without a JSON twin.
pub(super) fn single(key: &PageKey, content_type: &'static str, body: String) -> Page {
    let k = object_keys_of(key).into_iter().next().unwrap_or_default();
    Page { key: k, content_type, body: body.into_bytes() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_dates_for_humans() {
        assert_eq!(human_date("2024-05-01T12:34:56Z"), "1 May 2024, 12:34 UTC");
        assert_eq!(human_date("2024-12-31T23:59:00.123+00:00"), "31 Dec 2024, 23:59 UTC");
        assert_eq!(human_date("2024-13-01T00:00:00Z"), "2024-13-01T00:00:00Z");
        assert_eq!(human_date("2024-05-01T12:34:56+02:00"), "2024-05-01T12:34:56+02:00");
        assert_eq!(human_date("soon"), "soon");
        assert_eq!(human_date("2024-05-01T1é:34:56Z"), "2024-05-01T1é:34:56Z");
    }

    #[test]
    fn formats_counts() {
        assert_eq!(count(1, "vote", "votes"), "1 vote");
        assert_eq!(count(0, "vote", "votes"), "0 votes");
        assert_eq!(count(1_234_567, "vote", "votes"), "1,234,567 votes");
        assert_eq!(count(-1000, "vote", "votes"), "-1,000 votes");
    }

    #[test]
    fn pager_links_only_existing_neighbours() {
        let key = |page| PageKey::Listing { page };
        let p = Pager::new(1, 1, key);
        assert!(p.is_empty());
        let p = Pager::new(2, 3, key);
        assert_eq!(p.newer_html.as_deref(), Some("/page/3/"));
        assert_eq!(p.older.as_deref(), Some("/api/v1/projects/page/1.json"));
    }
}
