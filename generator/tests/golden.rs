//! Golden pages: every page kind rendered from `fixtures/site.json` (a full build) plus a few
//! hand-made `PageData` cases the fixture is too small to reach (pagers, empty site), and the
//! pages the Worker renders per request (a thread's reply, edit and report pages, a
//! visitor's page), compared byte for byte with the files under
//! `golden/`.

mod common;

use std::collections::BTreeSet;

use common::{fixture, tests_dir, Golden};
use generator::model::ProjectSummary;
use generator::pages::search::{self, SearchPage};
use generator::pages::thread_page::{self, Purpose, ThreadPage};
use generator::pages::visitor::{self, OwnThread, VisitorPage};
use generator::pages::{render, PageData, SiteConfig};
use generator::site;

fn site() -> SiteConfig {
    SiteConfig { base_url: "https://crowdfund.example".into(), site_name: "crowdfund".into() }
}

fn summary(id: i64) -> ProjectSummary {
    ProjectSummary {
        project_id: id,
        project_name: format!("Project {id}"),
        tagline: format!("Tagline {id}"),
        tags: vec!["alpha".into(), "beta".into()],
        created_at: format!("2024-01-{:02}T12:00:00Z", id % 28 + 1),
    }
}

/// Page data the fixture cannot produce: middle pages with both pager links, an empty site.
fn cases() -> Vec<(&'static str, PageData)> {
    vec![
        ("listing-middle", PageData::Listing { page: 2, items: (51..=53).map(summary).collect(), last_listing: 3 }),
        ("listing-empty", PageData::Listing { page: 1, items: vec![], last_listing: 1 }),
        ("front-empty", PageData::Front { newest: vec![], total: 0, last_listing: 0 }),
        ("feed-empty", PageData::Feed { newest: vec![] }),
        (
            "tag-index-paged",
            PageData::TagIndex {
                tag: "alpha".into(),
                items: (101..=102).map(summary).collect(),
                total: 102,
                last_page: 3,
            },
        ),
        (
            "tag-page-middle",
            PageData::TagPage { tag: "alpha".into(), page: 2, items: (51..=52).map(summary).collect(), last_page: 3 },
        ),
        ("sitemap-chunk-2", PageData::Sitemap { chunk: 2, project_ids: vec![1001, 1002] }),
        ("sitemap-index-3", PageData::SitemapIndex { chunks: 3 }),
    ]
}

#[test]
fn full_build_matches_golden_pages() {
    let pages = site::build(&site(), &fixture()).expect("build");
    let root = tests_dir().join("golden/site");
    let mut golden = Golden::default();
    let mut keys = BTreeSet::new();
    for page in &pages {
        assert!(keys.insert(page.key.clone()), "two pages write {}", page.key);
        match page.key.strip_prefix("static/") {
            // Static assets are their sources, byte for byte: no second copy to review.
            Some(name) => {
                let source = tests_dir().join("../../templates/static").join(name);
                assert_eq!(std::fs::read(&source).ok().as_deref(), Some(page.body.as_slice()), "{}", page.key);
            }
            None => golden.check(&root.join(&page.key), &page.body),
        }
    }
    golden.no_strays(&root, None);
    golden.finish();
}

#[test]
fn edge_cases_match_golden_pages() {
    let root = tests_dir().join("golden/cases");
    let mut golden = Golden::default();
    for (name, data) in cases() {
        for page in render(&site(), &data).expect("render") {
            golden.check(&root.join(name).join(&page.key), &page.body);
        }
    }
    golden.no_strays(&root, None);
    golden.finish();
}

#[test]
fn pages_rendered_per_request_match_golden() {
    let snapshot = fixture();
    let project = snapshot.projects.iter().find(|p| !p.threads.is_empty()).expect("a project with threads");
    let (first, edited) = (&project.threads[0], &project.threads[1]);
    let page = |purpose, thread, notice| ThreadPage { purpose, project_name: &project.project_name, thread, notice };
    let answers = tests_dir().join("golden/answers");
    let mut golden = Golden::default();
    for (name, answer) in [
        ("reply.html", page(Purpose::Reply, first, None)),
        ("edit.html", page(Purpose::Edit, edited, None)),
        ("edit-refused.html", page(Purpose::Edit, edited, Some("Only the author of #2 can edit it."))),
        ("report.html", page(Purpose::Report, first, None)),
    ] {
        golden.check(&answers.join(name), &thread_page::render(&site(), &answer).expect("render").body);
    }
    let own = vec![OwnThread { project_name: &project.project_name, thread: edited }];
    let me =
        VisitorPage { name: Some("Ada <Lovelace>"), display_name: Some("Ada <Lovelace>"), threads: own, saved: false };
    golden.check(&answers.join("me.html"), &visitor::render(&site(), &me).expect("render").body);
    let found: Vec<ProjectSummary> = snapshot.projects.iter().take(2).map(ProjectSummary::from).collect();
    let search = SearchPage { query: "solar café", page: 2, results: &found, more: true, error: None };
    golden.check(&answers.join("search.html"), &search::render(&site(), &search).expect("render").body);
    golden.check(&answers.join("search.json"), &search::json(&search).expect("json"));
    golden.no_strays(&answers, None);
    golden.finish();
}

#[test]
fn rendering_is_repeatable() {
    let a = site::build(&site(), &fixture()).expect("build");
    let b = site::build(&site(), &fixture()).expect("build");
    assert_eq!(a, b);
}

#[test]
fn internal_links_resolve_to_built_objects() {
    let snapshot = fixture();
    // Reply pages are answers the Worker renders, not objects: each must name a real thread.
    let replies: BTreeSet<String> = snapshot
        .projects
        .iter()
        .flat_map(|p| p.threads.iter().map(|t| generator::paths::reply_path(p.project_id, t.thread_id)))
        .collect();
    let pages = site::build(&site(), &snapshot).expect("build");
    let keys: BTreeSet<&str> = pages.iter().map(|p| p.key.as_str()).collect();
    for page in pages.iter().filter(|p| p.key.ends_with(".html")) {
        let body = String::from_utf8_lossy(&page.body);
        for chunk in body.split("href=\"").skip(1) {
            let href = chunk.split('"').next().unwrap_or_default();
            let path = href.split('#').next().unwrap_or_default();
            if !path.starts_with('/') {
                continue; // fragments on the same page, or visitors' external links
            }
            if let Some(thread) = ["/reply", "/report"].iter().find_map(|end| path.strip_suffix(end)) {
                assert!(replies.contains(&format!("{thread}/reply")), "{} links to {href}: no such thread", page.key);
                continue;
            }
            if path == generator::pages::visitor::PATH {
                continue; // the visitor's own page, rendered per request
            }
            let key = generator::paths::object_key_for_path(path);
            assert!(keys.contains(key.as_str()), "{} links to {href}: no object {key}", page.key);
        }
    }
}
