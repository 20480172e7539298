//! The one URL scheme of the site, and the incremental plan: which pages a change touches.
//!
//! Listings are paginated by fixed buckets of project ids (page `k` holds ids
//! `(k-1)*50+1 ..= k*50`), so a proposal lands on the newest page and never shifts the others.
//! Tag pages are chunks of 50 of the tag's projects in id order, so a proposal appends to the
//! tag's last page; a tag edit on an old project shifts only that tag's later pages.

use serde::{Deserialize, Serialize};

/// Projects per listing page (id bucket).
pub const LISTING_PAGE_SIZE: i64 = 50;
/// Projects per tag page.
pub const TAG_PAGE_SIZE: i64 = 50;
/// Newest projects on the front page and in `/projects` (JSON).
pub const FRONT_SIZE: usize = 20;
/// Entries of the Atom feed.
pub const FEED_SIZE: usize = 20;
/// Project detail URLs per sitemap chunk (id bucket).
pub const SITEMAP_CHUNK: i64 = 1000;
/// Projects per page of the "Top" listing.
pub const TOP_PAGE_SIZE: i64 = 20;
/// Pages of the "Top" listing (the best 100 projects): a bound, so that every change touches
/// a constant number of them (see [`pages_touched`]).
pub const TOP_PAGES: u32 = 5;

/// One logical page; each has an HTML object and, where a program would want one, a JSON twin.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PageKey {
    Front,
    Listing {
        page: u32,
    },
    Detail {
        project_id: i64,
    },
    TagIndex {
        tag: String,
    },
    TagPage {
        tag: String,
        page: u32,
    },
    Feed,
    SitemapIndex,
    Sitemap {
        chunk: u32,
    },
    /// Page `page` of the "Top" listing (1 to [`TOP_PAGES`]).
    Top {
        page: u32,
    },
    Robots,
    NotFound,
    Stylesheet,
    Script,
}

/// The pages every site has whatever its data: a full build and an admin rebuild render them.
pub const SITE_WIDE_PAGES: [PageKey; 7] = [
    PageKey::Front,
    PageKey::Feed,
    PageKey::SitemapIndex,
    PageKey::Robots,
    PageKey::NotFound,
    PageKey::Stylesheet,
    PageKey::Script,
];

/// What happened in D1, as carried by a queue message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    Proposed {
        project_id: i64,
        tags: Vec<String>,
    },
    TagsChanged {
        project_id: i64,
        added: Vec<String>,
        removed: Vec<String>,
    },
    ThreadsChanged {
        project_id: i64,
    },
    Voted {
        project_id: i64,
    },
    /// A moderator hid or restored a whole project: it leaves or rejoins every page that lists
    /// it, as a proposal joins them.
    ProjectVisibility {
        project_id: i64,
        tags: Vec<String>,
    },
}

/// A set of pages a change touches; most are single pages, but the tag pages that shift after
/// a tag edit depend on the tag's counts, so they are resolved against data (see
/// [`tag_pages_from`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Target {
    Page(PageKey),
    /// The tag's index and every numbered tag page from the one holding `project_id` to the
    /// end (one more than the current end, in case a page just disappeared).
    TagTail {
        tag: String,
        project_id: i64,
    },
}

/// Returns the listing page (id bucket) a project lands on.
///
/// ```
/// assert_eq!(generator::paths::listing_page_of(1), 1);
/// assert_eq!(generator::paths::listing_page_of(50), 1);
/// assert_eq!(generator::paths::listing_page_of(51), 2);
/// ```
pub fn listing_page_of(project_id: i64) -> u32 {
    bucket(project_id, LISTING_PAGE_SIZE)
}

/// Returns the sitemap chunk a project's detail URL is listed in.
pub fn sitemap_chunk_of(project_id: i64) -> u32 {
    bucket(project_id, SITEMAP_CHUNK)
}

fn bucket(id: i64, size: i64) -> u32 {
    u32::try_from((id.max(1) - 1) / size + 1).unwrap_or(u32::MAX)
}

/// Returns the number of tag pages for a tag carried by `count` projects (0 when none).
pub fn tag_pages_for_count(count: i64) -> u32 {
    if count <= 0 {
        0
    } else {
        bucket(count, TAG_PAGE_SIZE)
    }
}

/// Resolves a [`Target::TagTail`]: `before` is the number of the tag's projects with a smaller
/// id than the changed project, `count` the tag's projects now.
///
/// ```
/// use generator::paths::{tag_pages_from, PageKey};
/// // 120 projects carry the tag, the changed one is the 101st: page 2 (whose "newer" link may
/// // have just appeared), 3, 4 (the page that may have just gone), plus the index.
/// let keys = tag_pages_from("x", 100, 120);
/// assert_eq!(keys[0], PageKey::TagIndex { tag: "x".into() });
/// assert_eq!(keys.len(), 4);
/// ```
pub fn tag_pages_from(tag: &str, before: i64, count: i64) -> Vec<PageKey> {
    let first = bucket(before + 1, TAG_PAGE_SIZE).saturating_sub(1).max(1);
    let last = tag_pages_for_count(count) + 1;
    let mut keys = vec![PageKey::TagIndex { tag: tag.to_owned() }];
    keys.extend((first..=last).map(|page| PageKey::TagPage { tag: tag.to_owned(), page }));
    keys
}

/// Maps a change to the pages it touches: the heart of incremental publishing.
///
/// A vote or a thread edit touches its project's detail page. A proposal touches its
/// detail page, its listing page and the one before (whose "newer" link may have appeared),
/// the front page, its tags' pages, the feed and the sitemap. Every change also touches the
/// [`TOP_PAGES`] pages of the Top listing.
///
/// ```
/// use generator::paths::{pages_touched, Change, PageKey, Target};
/// let t = pages_touched(&Change::Voted { project_id: 7 });
/// assert_eq!(t[0], Target::Page(PageKey::Detail { project_id: 7 }));
/// assert_eq!(t[1..], generator::paths::top_pages().into_iter().map(Target::Page).collect::<Vec<_>>()[..]);
/// ```
pub fn pages_touched(change: &Change) -> Vec<Target> {
    let mut targets = pages_listed(change);
    // Any change can move its project in the Top listing: a vote its score, a thread its
    // activity, a proposal or moderation its presence, a tag edit its card. Every Top page
    // may shift, and there are only TOP_PAGES of them.
    targets.extend(top_pages().into_iter().map(Target::Page));
    targets
}

/// The pages of the Top listing.
pub fn top_pages() -> Vec<PageKey> {
    (1..=TOP_PAGES).map(|page| PageKey::Top { page }).collect()
}

fn pages_listed(change: &Change) -> Vec<Target> {
    let page = Target::Page;
    match change {
        Change::Voted { project_id } | Change::ThreadsChanged { project_id } => {
            vec![page(PageKey::Detail { project_id: *project_id })]
        }
        Change::Proposed { project_id, tags } | Change::ProjectVisibility { project_id, tags } => {
            let listing = listing_page_of(*project_id);
            let mut t = vec![
                page(PageKey::Detail { project_id: *project_id }),
                page(PageKey::Front),
                page(PageKey::Listing { page: listing }),
                page(PageKey::Feed),
                page(PageKey::SitemapIndex),
                page(PageKey::Sitemap { chunk: sitemap_chunk_of(*project_id) }),
            ];
            if listing > 1 {
                t.push(page(PageKey::Listing { page: listing - 1 }));
            }
            t.extend(tags.iter().map(|tag| Target::TagTail { tag: tag.clone(), project_id: *project_id }));
            t
        }
        Change::TagsChanged { project_id, added, removed } => {
            // Tags show on the listing, front page and feed too.
            let mut t = vec![
                page(PageKey::Detail { project_id: *project_id }),
                page(PageKey::Front),
                page(PageKey::Listing { page: listing_page_of(*project_id) }),
                page(PageKey::Feed),
            ];
            t.extend(
                added.iter().chain(removed).map(|tag| Target::TagTail { tag: tag.clone(), project_id: *project_id }),
            );
            t
        }
    }
}

/// Returns the edge-cache tags of a page (its HTML and its JSON twin carry the same), so that
/// "what a change touches" ([`pages_touched`]) and "what to purge" cannot disagree: the
/// publisher purges exactly the tags of the pages it stored. Tags are printable ASCII without
/// spaces, as Cloudflare's `Cache-Tag` requires; a tag name's other characters are
/// percent-encoded.
///
/// ```
/// use generator::paths::{cache_tags, PageKey};
/// assert_eq!(cache_tags(&PageKey::Detail { project_id: 7 }), vec!["project:7"]);
/// assert_eq!(cache_tags(&PageKey::TagPage { tag: "café".into(), page: 2 }), vec!["tag:caf%c3%a9:2"]);
/// ```
pub fn cache_tags(key: &PageKey) -> Vec<String> {
    let tag = match key {
        PageKey::Front => "front".to_owned(),
        PageKey::Listing { page } => format!("listing:{page}"),
        PageKey::Detail { project_id } => format!("project:{project_id}"),
        PageKey::TagIndex { tag } => format!("tag:{}", tag_token(tag)),
        PageKey::TagPage { tag, page } => format!("tag:{}:{page}", tag_token(tag)),
        PageKey::Feed => "feed".to_owned(),
        PageKey::SitemapIndex => "sitemap".to_owned(),
        PageKey::Sitemap { chunk } => format!("sitemap:{chunk}"),
        PageKey::Top { page } => format!("top:{page}"),
        PageKey::Robots | PageKey::NotFound | PageKey::Stylesheet | PageKey::Script => "deployment".to_owned(),
    };
    vec![tag]
}

fn tag_token(tag: &str) -> String {
    let mut out = String::with_capacity(tag.len());
    for b in tag.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' {
            out.push(b.to_ascii_lowercase() as char);
        } else {
            out.push_str(&format!("%{b:02x}"));
        }
    }
    out
}

/// The coarse purge that covers a tag when exact purges would cost more calls than the budget
/// allows: the path prefixes of every page of its kind, or `None` when only the tag itself (or
/// everything) can cover it (the front page lives at `/`, a prefix of every path).
///
/// ```
/// use generator::paths::prefixes_covering;
/// assert_eq!(prefixes_covering("project:7"), Some(&["/projects/", "/api/v1/projects/"][..]));
/// assert_eq!(prefixes_covering("front"), None);
/// ```
pub fn prefixes_covering(tag: &str) -> Option<&'static [&'static str]> {
    let kind = tag.split(':').next().unwrap_or(tag);
    match kind {
        "project" => Some(&["/projects/", "/api/v1/projects/"]),
        "listing" => Some(&["/page/", "/api/v1/projects/page/"]),
        "tag" => Some(&["/tags/", "/api/v1/tags/"]),
        "feed" => Some(&["/feed.xml"]),
        "sitemap" => Some(&["/sitemap"]),
        "top" => Some(&["/top/", "/api/v1/top"]),
        _ => None,
    }
}

/// Returns the URL path a page is visited at (HTML).
pub fn url_of(key: &PageKey) -> String {
    match key {
        PageKey::Front => "/".into(),
        PageKey::Listing { page } => format!("/page/{page}/"),
        PageKey::Detail { project_id } => format!("/projects/{project_id}/"),
        PageKey::TagIndex { tag } => format!("/tags/{tag}/"),
        PageKey::TagPage { tag, page } => format!("/tags/{tag}/page/{page}/"),
        PageKey::Feed => "/feed.xml".into(),
        PageKey::SitemapIndex => "/sitemap.xml".into(),
        PageKey::Sitemap { chunk } => format!("/sitemaps/{chunk}.xml"),
        PageKey::Top { page: 1 } => "/top/".into(),
        PageKey::Top { page } => format!("/top/page/{page}/"),
        PageKey::Robots => "/robots.txt".into(),
        PageKey::NotFound => "/404.html".into(),
        PageKey::Stylesheet => "/static/style.css".into(),
        PageKey::Script => "/static/app.js".into(),
    }
}

/// Returns the path of a thread's reply page: not a stored page, the Worker renders it from the
/// thread (`pages::thread_page`) for browsers without script.
pub fn reply_path(project_id: i64, thread_id: i64) -> String {
    format!("/projects/{project_id}/threads/{thread_id}/reply")
}

/// Returns the URL path of a page's JSON twin, if it has one.
pub fn json_url_of(key: &PageKey) -> Option<String> {
    match key {
        PageKey::Front => Some("/api/v1/projects.json".into()),
        PageKey::Listing { page } => Some(format!("/api/v1/projects/page/{page}.json")),
        PageKey::Detail { project_id } => Some(format!("/api/v1/projects/{project_id}.json")),
        PageKey::TagIndex { tag } => Some(format!("/api/v1/tags/{tag}.json")),
        PageKey::TagPage { tag, page } => Some(format!("/api/v1/tags/{tag}/page/{page}.json")),
        PageKey::Top { page: 1 } => Some("/api/v1/top.json".into()),
        PageKey::Top { page } => Some(format!("/api/v1/top/page/{page}.json")),
        _ => None,
    }
}

/// Returns the spec's own URLs of a page's JSON twin (`GET /projects`, `GET /projects/{id}`):
/// the same object, at another address (and so another edge-cache entry, under the same tags).
pub fn alias_urls_of(key: &PageKey) -> Vec<String> {
    match key {
        PageKey::Front => vec!["/projects".into()],
        PageKey::Detail { project_id } => vec![format!("/projects/{project_id}")],
        _ => Vec::new(),
    }
}

/// Returns the page-store object keys of a page (HTML first, then its JSON twin).
pub fn object_keys_of(key: &PageKey) -> Vec<String> {
    let mut keys = vec![object_key_for_path(&url_of(key))];
    keys.extend(json_url_of(key).map(|u| object_key_for_path(&u)));
    keys
}

/// Maps a requested URL path to the object key that answers it: `/` and `/x/` are
/// directories with an `index.html`; the spec's JSON paths `/projects` and
/// `/projects/{id}` alias the versioned JSON twins.
///
/// ```
/// use generator::paths::object_key_for_path;
/// assert_eq!(object_key_for_path("/"), "index.html");
/// assert_eq!(object_key_for_path("/projects/3/"), "projects/3/index.html");
/// assert_eq!(object_key_for_path("/projects/3"), "api/v1/projects/3.json");
/// assert_eq!(object_key_for_path("/projects"), "api/v1/projects.json");
/// ```
pub fn object_key_for_path(path: &str) -> String {
    let trimmed = path.trim_start_matches('/');
    if trimmed == "projects" {
        return "api/v1/projects.json".into();
    }
    if let Some(id) = trimmed.strip_prefix("projects/") {
        if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) {
            return format!("api/v1/projects/{id}.json");
        }
    }
    if trimmed.is_empty() || trimmed.ends_with('/') {
        format!("{trimmed}index.html")
    } else {
        trimmed.to_owned()
    }
}

/// Parses a requested URL path back into the page it shows (HTML or JSON twin), so the
/// Worker can render a page the store does not hold yet. Inverse of [`url_of`] and
/// [`json_url_of`].
///
/// ```
/// use generator::paths::{key_for_path, PageKey};
/// assert_eq!(key_for_path("/projects/7/"), Some(PageKey::Detail { project_id: 7 }));
/// assert_eq!(key_for_path("/projects/7"), Some(PageKey::Detail { project_id: 7 }));
/// assert_eq!(key_for_path("/nope"), None);
/// ```
pub fn key_for_path(path: &str) -> Option<PageKey> {
    let number = |s: &str| -> Option<u32> {
        if s.is_empty() || s.starts_with('0') || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    let id = |s: &str| number(s).map(i64::from);
    let tag_ok = |t: &str| !t.is_empty() && t.chars().all(|c| c.is_alphanumeric() || c == '-');
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let key = match parts.as_slice() {
        [""] | ["projects"] | ["api", "v1", "projects.json"] => PageKey::Front,
        ["page", k, ""] => PageKey::Listing { page: number(k)? },
        ["api", "v1", "projects", "page", k] => PageKey::Listing { page: number(k.strip_suffix(".json")?)? },
        ["projects", n, ""] | ["projects", n] => PageKey::Detail { project_id: id(n)? },
        ["api", "v1", "projects", n] => PageKey::Detail { project_id: id(n.strip_suffix(".json")?)? },
        ["tags", t, ""] if tag_ok(t) => PageKey::TagIndex { tag: (*t).to_owned() },
        ["api", "v1", "tags", t] => {
            let t = t.strip_suffix(".json")?;
            tag_ok(t).then(|| PageKey::TagIndex { tag: t.to_owned() })?
        }
        ["tags", t, "page", k, ""] if tag_ok(t) => PageKey::TagPage { tag: (*t).to_owned(), page: number(k)? },
        ["api", "v1", "tags", t, "page", k] if tag_ok(t) => {
            PageKey::TagPage { tag: (*t).to_owned(), page: number(k.strip_suffix(".json")?)? }
        }
        ["feed.xml"] => PageKey::Feed,
        ["sitemap.xml"] => PageKey::SitemapIndex,
        ["sitemaps", k] => PageKey::Sitemap { chunk: number(k.strip_suffix(".xml")?)? },
        ["top", ""] | ["api", "v1", "top.json"] => PageKey::Top { page: 1 },
        ["top", "page", k, ""] => PageKey::Top { page: number(k).filter(|k| (2..=TOP_PAGES).contains(k))? },
        ["api", "v1", "top", "page", k] => {
            PageKey::Top { page: number(k.strip_suffix(".json")?).filter(|k| (2..=TOP_PAGES).contains(k))? }
        }
        ["robots.txt"] => PageKey::Robots,
        ["404.html"] => PageKey::NotFound,
        ["static", "style.css"] => PageKey::Stylesheet,
        ["static", "app.js"] => PageKey::Script,
        _ => return None,
    };
    Some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vote_touches_its_detail_page_and_the_top_pages_only() {
        let t = pages_touched(&Change::Voted { project_id: 123_456 });
        let mut expected = vec![Target::Page(PageKey::Detail { project_id: 123_456 })];
        expected.extend((1..=TOP_PAGES).map(|page| Target::Page(PageKey::Top { page })));
        assert_eq!(t, expected);
    }

    #[test]
    fn proposal_touches_a_bounded_set_whatever_the_id() {
        for id in [1, 50, 51, 99_999, 100_000] {
            let change = Change::Proposed { project_id: id, tags: vec!["a".into(), "b".into()] };
            assert!(pages_touched(&change).len() <= 9 + TOP_PAGES as usize, "id {id}");
        }
    }

    #[test]
    fn tag_tail_covers_a_page_that_may_have_vanished() {
        // 50 projects carried the tag; one was removed: page 1 remains, page 2 must be checked.
        let keys = tag_pages_from("t", 49, 49);
        assert!(keys.contains(&PageKey::TagPage { tag: "t".into(), page: 2 }));
        // A proposal appending the 51st: pages 1 (its "newer" link) and 2.
        let keys = tag_pages_from("t", 50, 51);
        assert!(keys.contains(&PageKey::TagPage { tag: "t".into(), page: 1 }));
        assert!(keys.contains(&PageKey::TagPage { tag: "t".into(), page: 2 }));
    }

    #[test]
    fn every_data_page_has_its_own_cache_tag_and_a_coarse_cover() {
        let keys = [
            PageKey::Front,
            PageKey::Listing { page: 2 },
            PageKey::Detail { project_id: 9 },
            PageKey::TagIndex { tag: "solar".into() },
            PageKey::TagPage { tag: "solar".into(), page: 3 },
            PageKey::TagPage { tag: "Ünï code".into(), page: 1 },
            PageKey::Feed,
            PageKey::SitemapIndex,
            PageKey::Sitemap { chunk: 1 },
            PageKey::Top { page: 1 },
            PageKey::Top { page: 2 },
        ];
        let tags: Vec<String> = keys.iter().flat_map(cache_tags).collect();
        let unique: std::collections::BTreeSet<&String> = tags.iter().collect();
        assert_eq!(unique.len(), tags.len(), "{tags:?}");
        for (key, tag) in keys.iter().zip(&tags) {
            assert!(tag.bytes().all(|b| b.is_ascii_graphic() && b != b','), "{tag}");
            match prefixes_covering(tag) {
                // A prefix covers every URL of the page.
                Some(prefixes) => {
                    let mut urls = vec![url_of(key)];
                    urls.extend(json_url_of(key));
                    for url in urls {
                        assert!(prefixes.iter().any(|p| url.starts_with(p)), "{url} not under {prefixes:?}");
                    }
                }
                None => assert_eq!(key, &PageKey::Front),
            }
        }
    }

    #[test]
    fn every_page_maps_back_to_its_object_keys() {
        let keys = [
            PageKey::Front,
            PageKey::Listing { page: 2 },
            PageKey::Detail { project_id: 9 },
            PageKey::TagIndex { tag: "solar".into() },
            PageKey::TagPage { tag: "solar".into(), page: 3 },
            PageKey::Feed,
            PageKey::SitemapIndex,
            PageKey::Sitemap { chunk: 1 },
            PageKey::Top { page: 1 },
            PageKey::Top { page: TOP_PAGES },
            PageKey::Robots,
            PageKey::NotFound,
        ];
        assert_eq!(key_for_path("/top/page/1/"), None, "page 1 is /top/");
        assert_eq!(key_for_path(&format!("/top/page/{}/", TOP_PAGES + 1)), None, "no page past the last");
        for key in keys {
            let objects = object_keys_of(&key);
            assert_eq!(object_key_for_path(&url_of(&key)), objects[0]);
            assert_eq!(key_for_path(&url_of(&key)), Some(key.clone()));
            if let Some(json) = json_url_of(&key) {
                assert_eq!(key_for_path(&json), Some(key.clone()));
                for alias in alias_urls_of(&key) {
                    assert_eq!(object_key_for_path(&alias), object_key_for_path(&json), "{alias}");
                }
            }
        }
    }
}
