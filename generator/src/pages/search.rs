//! The search page (`/search?q=`): a form, and the projects whose name, tagline or tags hold
//! every word of the query, best match first. Not a stored page: the Worker renders it per
//! query from D1's full-text index (the edge keeps each answer for a short time), so it
//! works without script and at any number of projects.

use askama::Template;
use serde::Serialize;

use super::view::{Card, Layout};
use super::{Page, SiteConfig, HTML};
use crate::model::ProjectSummary;
use crate::Result;

/// The path of the page (`/api/v1/search` answers the same as JSON).
pub const PATH: &str = "/search";

/// What one search answers.
#[derive(Debug, Clone, Copy)]
pub struct SearchPage<'a> {
    /// The query as typed (trimmed); empty when nothing was asked yet.
    pub query: &'a str,
    /// 1-based.
    pub page: u32,
    /// This page's matches, best first.
    pub results: &'a [ProjectSummary],
    /// Whether a next page has more.
    pub more: bool,
    /// Why the query was refused, shown by the field (the answer is then a 422).
    pub error: Option<&'a str>,
}

impl SearchPage<'_> {
    /// The URL of another page of the same query.
    fn url(&self, page: u32) -> String {
        let mut url = format!("{PATH}?q={}", encode(self.query));
        if page > 1 {
            url.push_str(&format!("&page={page}"));
        }
        url
    }
}

/// Percent-encodes a query value (everything but unreserved characters).
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchHtml<'a> {
    layout: Layout<'a>,
    query: &'a str,
    lead: Option<String>,
    cards: Vec<Card<'a>>,
    empty: &'static str,
    error: Option<&'a str>,
    newer: Option<String>,
    older: Option<String>,
}

#[derive(Serialize)]
struct SearchJson<'a> {
    query: &'a str,
    page: u32,
    projects: &'a [ProjectSummary],
    /// The next page of matches, if any.
    next: Option<String>,
}

/// Renders the page (no object key: it is an answer, not a stored page).
pub fn render(site: &SiteConfig, page: &SearchPage<'_>) -> Result<Page> {
    let title = if page.query.is_empty() { "Search".to_owned() } else { format!("Search: {}", page.query) };
    let lead = (!page.query.is_empty() && page.error.is_none() && !page.results.is_empty()).then(|| {
        match (page.page, page.more) {
            (1, false) => format!("{} matching “{}”.", plural(page.results.len()), page.query),
            (1, true) => format!("The best matches for “{}”.", page.query),
            _ => format!("Page {} of the matches for “{}”.", page.page, page.query),
        }
    });
    let html = SearchHtml {
        layout: Layout::new(site, title, None).noindex(),
        query: page.query,
        lead,
        cards: page.results.iter().map(|p| Card::new(p, true)).collect(),
        empty: if page.query.is_empty() || page.error.is_some() {
            "Type words of a project's name, tagline or tags."
        } else {
            "No project matches every word. Try fewer or shorter words."
        },
        error: page.error,
        newer: (page.page > 1).then(|| page.url(page.page - 1)),
        older: page.more.then(|| page.url(page.page + 1)),
    };
    Ok(Page { key: String::new(), content_type: HTML, body: html.render()?.into_bytes() })
}

/// The JSON answer of `/api/v1/search`.
pub fn json(page: &SearchPage<'_>) -> Result<Vec<u8>> {
    let next = page.more.then(|| format!("/api/v1/search?q={}&page={}", encode(page.query), page.page + 1));
    Ok(serde_json::to_vec(&SearchJson { query: page.query, page: page.page, projects: page.results, next })?)
}

fn plural(n: usize) -> String {
    if n == 1 {
        "1 project".to_owned()
    } else {
        format!("{n} projects")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(id: i64, name: &str) -> ProjectSummary {
        ProjectSummary {
            project_id: id,
            project_name: name.into(),
            tagline: "t".into(),
            tags: vec!["solar".into()],
            created_at: "2026-01-02T03:04:05Z".into(),
        }
    }

    fn html(page: &SearchPage<'_>) -> String {
        String::from_utf8(render(&SiteConfig::default(), page).expect("render").body).expect("utf-8")
    }

    #[test]
    fn results_link_to_their_pages_and_the_next_page_keeps_the_query() {
        let results = [summary(3, "Café <roofs>"), summary(1, "Sun")];
        let page = SearchPage { query: "café & sun", page: 1, results: &results, more: true, error: None };
        let html = html(&page);
        assert!(html.contains(r#"href="/projects/3/""#), "{html}");
        assert!(html.contains("Café &#60;roofs&#62;") || html.contains("Café &lt;roofs&gt;"), "escaped");
        assert!(html.contains(r#"href="/search?q=caf%C3%A9+%26+sun&#38;page=2""#), "{html}");
        assert!(html.contains(r#"value="café &#38; sun""#) || html.contains(r#"value="café &amp; sun""#), "{html}");
        assert!(html.contains(r#"<meta name="robots" content="noindex">"#));
        let json: serde_json::Value = serde_json::from_slice(&json(&page).expect("json")).expect("valid");
        assert_eq!(json["projects"][0]["project_id"], 3, "best match first, as given");
        assert_eq!(json["next"], "/api/v1/search?q=caf%C3%A9+%26+sun&page=2");
    }

    #[test]
    fn an_empty_or_refused_query_shows_the_form_and_why() {
        let none = html(&SearchPage { query: "", page: 1, results: &[], more: false, error: None });
        assert!(none.contains("Type words of a project"), "{none}");
        let refused =
            SearchPage { query: "x", page: 1, results: &[], more: false, error: Some("at most 200 characters") };
        let refused = html(&refused);
        assert!(refused.contains("at most 200 characters") && refused.contains("aria-invalid=\"true\""), "{refused}");
        let nothing = html(&SearchPage { query: "zzz", page: 1, results: &[], more: false, error: None });
        assert!(nothing.contains("No project matches every word"), "{nothing}");
    }
}
