//! Untrusted input: Markdown cases as data files (`markdown/*.md`, expected `*.html` beside
//! them, rewritten with `UPDATE_GOLDEN=1`), an invariant every output must satisfy, random
//! inputs built from dangerous fragments, and names/taglines through the page templates.

mod common;

use common::{files_under, tests_dir, Golden};
use generator::markdown::render_markdown;
use generator::model::{Project, Thread, ThreadType};
use generator::pages::{render, PageData, SiteConfig};

/// Tags the Markdown renderer may emit, and the attributes each may carry.
const ALLOWED: &[(&str, &[&str])] = &[
    ("a", &["href", "rel", "title"]),
    ("blockquote", &[]),
    ("br", &[]),
    ("code", &["class"]),
    ("del", &[]),
    ("em", &[]),
    ("h3", &[]),
    ("h4", &[]),
    ("h5", &[]),
    ("h6", &[]),
    ("hr", &[]),
    ("li", &[]),
    ("ol", &["start"]),
    ("p", &[]),
    ("pre", &[]),
    ("strong", &[]),
    ("table", &[]),
    ("tbody", &[]),
    ("td", &[]),
    ("th", &[]),
    ("thead", &[]),
    ("tr", &[]),
    ("ul", &[]),
];

/// Checks that HTML from the renderer contains only allowed tags and attributes, and only
/// allowed link schemes. Text never contains a raw `<`, so every `<` starts a tag.
fn assert_safe(html: &str, context: &str) {
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        let Some(len) = rest[start..].find('>') else {
            panic!("{context}: unterminated tag in {html}");
        };
        let tag = &rest[start + 1..start + len];
        rest = &rest[start + len + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            assert!(ALLOWED.iter().any(|(n, _)| *n == name), "{context}: closing tag {name}");
            continue;
        }
        let (name, attrs) = tag.split_once(' ').unwrap_or((tag, ""));
        let name = name.trim_end_matches('/');
        let Some((_, allowed)) = ALLOWED.iter().find(|(n, _)| *n == name) else {
            panic!("{context}: tag <{name}> in {html}");
        };
        for (attr, value) in attributes(attrs, context) {
            assert!(allowed.contains(&attr.as_str()), "{context}: attribute {attr} on <{name}>");
            if attr == "href" {
                assert_safe_href(&value, context);
            }
            if attr == "rel" {
                assert_eq!(value, "nofollow ugc noopener", "{context}");
            }
        }
    }
}

/// Parses `name="value"` pairs; values must be double-quoted (that is all the renderer emits).
fn attributes(mut s: &str, context: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    loop {
        s = s.trim_start();
        if s.is_empty() || s == "/" {
            return out;
        }
        let Some((name, after)) = s.split_once("=\"") else {
            panic!("{context}: malformed attributes {s:?}");
        };
        let Some((value, after)) = after.split_once('"') else {
            panic!("{context}: unterminated attribute {s:?}");
        };
        assert!(name.bytes().all(|b| b.is_ascii_lowercase()), "{context}: attribute name {name:?}");
        out.push((name.to_owned(), value.to_owned()));
        s = after;
    }
}

fn assert_safe_href(href: &str, context: &str) {
    // The renderer escapes only these; any other `&` would start an entity a browser decodes.
    let known = ["&quot;", "&#39;", "&lt;", "&gt;", "&amp;"];
    let stripped = known.iter().fold(href.to_owned(), |s, e| s.replace(e, ""));
    assert!(!stripped.contains('&'), "{context}: entity in href {href}");
    let decoded = [("&quot;", "\""), ("&#39;", "'"), ("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&")]
        .iter()
        .fold(href.to_owned(), |s, (e, c)| s.replace(e, c));
    let lower = decoded.to_ascii_lowercase();
    let scheme_end = lower.find([':', '/', '?', '#']);
    if let Some(at) = scheme_end.filter(|at| lower[*at..].starts_with(':')) {
        assert!(["http", "https", "mailto"].contains(&&lower[..at]), "{context}: scheme in href {href}");
    }
    assert!(!lower.chars().any(|c| c.is_control() || c == ' '), "{context}: whitespace in href {href:?}");
}

#[test]
fn markdown_cases_match_expected_html() {
    let dir = tests_dir().join("markdown");
    let cases: Vec<_> = files_under(&dir).into_iter().filter(|p| p.extension().is_some_and(|e| e == "md")).collect();
    assert!(cases.len() >= 15, "expected the Markdown case files, found {}", cases.len());
    let mut golden = Golden::default();
    for case in &cases {
        let markdown = std::fs::read_to_string(case).expect("read case");
        let html = render_markdown(&markdown);
        assert_safe(html.as_str(), &case.display().to_string());
        golden.check(&case.with_extension("html"), html.as_str().as_bytes());
    }
    golden.no_strays(&dir, Some("html"));
    golden.finish();
}

/// Dangerous fragments to glue together at random.
const FRAGMENTS: &[&str] = &[
    "<script>",
    "</script>",
    "<img src=x onerror=alert(1)>",
    "javascript:",
    "JaVaScRiPt:",
    "&#106;",
    "&#x6A;",
    "&colon;",
    "&#58;",
    "&#9;",
    "&#10;",
    "data:",
    "vbscript:",
    "[",
    "]",
    "(",
    ")",
    "![",
    "<",
    ">",
    "\"",
    "'",
    "`",
    "```",
    "\n",
    "\n\n",
    " ",
    "    ",
    "*",
    "_",
    "#",
    "|",
    "-",
    "http://x.org/",
    "/a",
    "#b",
    "mailto:",
    "a@b.c",
    "<!--",
    "-->",
    "<div>",
    "</div>",
    "<a href=\"javascript:x\">",
    "onclick=",
    "[r]: javascript:x\n",
    "[r]",
    "\\",
    "<svg/onload=alert(1)>",
    "<",
    "%0a",
    "\u{0}",
    "\u{1}",
    "é",
];

#[test]
fn random_dangerous_markdown_stays_safe() {
    let mut state: u64 = 0x1234_5678_9ABC_DEF1;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for case in 0..3000 {
        let len = next() % 24;
        let input: String = (0..len).map(|_| FRAGMENTS[(next() % FRAGMENTS.len() as u64) as usize]).collect();
        let html = render_markdown(&input);
        assert_safe(html.as_str(), &format!("random case {case}: {input:?}"));
    }
}

fn hostile_project() -> Project {
    Project {
        project_id: 9,
        project_name: "<script>alert('name')</script>".into(),
        tagline: "\"><img src=x onerror=alert(1)>".into(),
        tags: vec!["\"onmouseover=\"alert(1)".into()],
        created_at: "\"><script>alert(2)</script>".into(),
        threads: vec![Thread {
            thread_id: 1,
            project_id: 9,
            parent_id: None,
            thread_type: ThreadType::Comment,
            message: "<script>alert(3)</script>[x](javascript:alert(4))".into(),
            up_vote: 1,
            down_vote: 0,
            created_at: "2024-01-01T00:00:00Z".into(),
            ..Default::default()
        }],
        ..Default::default()
    }
}

#[test]
fn names_taglines_and_tags_are_escaped_on_every_page() {
    let site = SiteConfig::default();
    let project = hostile_project();
    let summary = generator::model::ProjectSummary::from(&project);
    let pages = [
        PageData::Detail { project: project.clone() },
        PageData::Front { newest: vec![summary.clone()], total: 1, last_listing: 1 },
        PageData::Listing { page: 1, items: vec![summary.clone()], last_listing: 1 },
        PageData::TagIndex { tag: project.tags[0].clone(), items: vec![summary.clone()], total: 1, last_page: 1 },
        PageData::TagPage { tag: project.tags[0].clone(), page: 1, items: vec![summary.clone()], last_page: 1 },
        PageData::Feed { newest: vec![summary] },
    ];
    for data in &pages {
        for page in render(&site, data).expect("render") {
            let body = String::from_utf8(page.body).expect("utf-8");
            if page.content_type.starts_with("application/json") {
                let value: serde_json::Value = serde_json::from_str(&body).expect("valid JSON");
                assert!(value.is_object(), "{}", page.key);
                continue;
            }
            for needle in ["<script>", "<img", "\"onmouseover", "href=\"javascript"] {
                assert!(!body.contains(needle), "{}: contains {needle}", page.key);
            }
            assert_eq!(body.matches("<script").count(), usize::from(page.key.ends_with(".html")), "{}", page.key);
        }
    }
}

#[test]
fn the_detail_json_is_the_spec_project_object() {
    let project = hostile_project();
    let pages = render(&SiteConfig::default(), &PageData::Detail { project: project.clone() }).expect("render");
    let json = pages.iter().find(|p| p.key == "api/v1/projects/9.json").expect("json twin");
    let back: Project = serde_json::from_slice(&json.body).expect("parse");
    assert_eq!(back, project);
    let value: serde_json::Value = serde_json::from_slice(&json.body).expect("parse");
    let thread = &value["threads"][0];
    for field in
        ["thread_id", "project_id", "parent_id", "thread_type", "message", "up_vote", "down_vote", "created_at"]
    {
        assert!(thread.get(field).is_some(), "thread field {field}");
    }
    assert_eq!(thread["thread_type"], "COMMENT");
}

#[test]
fn templates_print_unescaped_only_safe_html() {
    // `|safe` is allowed only on a `ThreadView`'s `message` (a SafeHtml, built by
    // render_markdown): `t` on the detail page, `thread` on a thread's page, `item.view` on a
    // visitor's page.
    for path in files_under(&tests_dir().join("../../templates")) {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for (at, _) in text.match_indices("|safe") {
            let before = &text[text[..at].rfind("{{").unwrap_or(0)..at];
            let expr = before.trim_start_matches("{{").trim();
            assert!(
                ["t.message", "thread.message", "item.view.message"].contains(&expr),
                "{}: |safe on {before}",
                path.display()
            );
        }
        assert!(!text.contains("escape(\"none\")") && !text.contains("|e(\"none\")"), "{}", path.display());
    }
}
