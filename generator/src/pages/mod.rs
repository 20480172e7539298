//! Page rendering: one [`PageData`] in, the page's objects out. One file per page kind.
//!
//! `PageData` is everything a page shows and nothing more, so the Worker (reading D1) and the
//! full build (reading a snapshot) produce identical bytes when they gather identical data.

use serde::{Deserialize, Serialize};

use crate::model::{Project, ProjectSummary};
use crate::paths::PageKey;
use crate::Result;

mod detail;
mod feed;
pub mod form_error;
mod listing;
mod misc;
pub mod search;
mod sitemap;
mod tag;
pub mod thread_page;
mod top;
mod view;
pub mod visitor;

/// Site-wide settings every page may use; read once from the environment by the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteConfig {
    /// Absolute origin without a trailing slash, for the feed and the sitemap
    /// (e.g. `http://127.0.0.1:8787`).
    pub base_url: String,
    /// The site's name, shown in titles and the header.
    pub site_name: String,
}

impl Default for SiteConfig {
    fn default() -> Self {
        SiteConfig { base_url: "http://127.0.0.1:8787".into(), site_name: "crowdfund".into() }
    }
}

/// One object of the page store: its key, its content type and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub key: String,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

/// Everything one page shows. `Gone` means the page should not exist (a tag nobody carries
/// any more, a tag page past the end): its objects are deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageData {
    /// The newest projects (newest first), how many there are, and the newest listing page.
    Front {
        newest: Vec<ProjectSummary>,
        total: i64,
        last_listing: u32,
    },
    /// Listing page `page`: projects of that id bucket (oldest first, as stored).
    Listing {
        page: u32,
        items: Vec<ProjectSummary>,
        last_listing: u32,
    },
    Detail {
        project: Project,
    },
    /// The tag's newest page, shown at `/tags/{tag}/`; `items` are that page's projects.
    TagIndex {
        tag: String,
        items: Vec<ProjectSummary>,
        total: i64,
        last_page: u32,
    },
    TagPage {
        tag: String,
        page: u32,
        items: Vec<ProjectSummary>,
        last_page: u32,
    },
    /// The newest projects, newest first.
    Feed {
        newest: Vec<ProjectSummary>,
    },
    SitemapIndex {
        chunks: u32,
    },
    /// Project ids in the chunk, ascending.
    Sitemap {
        chunk: u32,
        project_ids: Vec<i64>,
    },
    /// Page `page` of the Top listing: its projects, best first.
    Top {
        page: u32,
        items: Vec<ProjectSummary>,
        last_page: u32,
    },
    Robots,
    NotFound,
    Stylesheet,
    Script,
    Gone(PageKey),
}

pub const HTML: &str = "text/html; charset=utf-8";
pub const JSON: &str = "application/json";
pub const XML_ATOM: &str = "application/atom+xml; charset=utf-8";
pub const XML: &str = "application/xml; charset=utf-8";
pub const TEXT: &str = "text/plain; charset=utf-8";
pub const CSS: &str = "text/css; charset=utf-8";
pub const JS: &str = "text/javascript; charset=utf-8";

/// Renders one page's objects (HTML first, then its JSON twin). `Gone` renders nothing.
pub fn render(site: &SiteConfig, data: &PageData) -> Result<Vec<Page>> {
    match data {
        PageData::Front { newest, total, last_listing } => listing::front(site, newest, *total, *last_listing),
        PageData::Listing { page, items, last_listing } => listing::listing(site, *page, items, *last_listing),
        PageData::Detail { project } => detail::render(site, project),
        PageData::TagIndex { tag, items, total, last_page } => tag::index(site, tag, items, *total, *last_page),
        PageData::TagPage { tag, page, items, last_page } => tag::page(site, tag, *page, items, *last_page),
        PageData::Feed { newest } => feed::render(site, newest),
        PageData::SitemapIndex { chunks } => sitemap::index(site, *chunks),
        PageData::Sitemap { chunk, project_ids } => sitemap::chunk(site, *chunk, project_ids),
        PageData::Robots => misc::robots(site),
        PageData::NotFound => misc::not_found(site),
        PageData::Top { page, items, last_page } => top::render(site, *page, items, *last_page),
        PageData::Stylesheet => Ok(vec![misc::stylesheet()]),
        PageData::Script => Ok(vec![misc::script()]),
        PageData::Gone(_) => Ok(Vec::new()),
    }
}

/// The data of a page that depends only on the deployment (stylesheet, script, robots.txt, the
/// 404 page), or `None` for a page of the data. Such pages are answered from the code, so a
/// deploy updates them without a rebuild, and are never stored.
pub fn deployment_data(key: &PageKey) -> Option<PageData> {
    match key {
        PageKey::Robots => Some(PageData::Robots),
        PageKey::NotFound => Some(PageData::NotFound),
        PageKey::Stylesheet => Some(PageData::Stylesheet),
        PageKey::Script => Some(PageData::Script),
        _ => None,
    }
}

/// Returns the key this data renders (for `Gone`, the page whose objects go away).
pub fn key_of(data: &PageData) -> PageKey {
    match data {
        PageData::Front { .. } => PageKey::Front,
        PageData::Listing { page, .. } => PageKey::Listing { page: *page },
        PageData::Detail { project } => PageKey::Detail { project_id: project.project_id },
        PageData::TagIndex { tag, .. } => PageKey::TagIndex { tag: tag.clone() },
        PageData::TagPage { tag, page, .. } => PageKey::TagPage { tag: tag.clone(), page: *page },
        PageData::Feed { .. } => PageKey::Feed,
        PageData::SitemapIndex { .. } => PageKey::SitemapIndex,
        PageData::Sitemap { chunk, .. } => PageKey::Sitemap { chunk: *chunk },
        PageData::Top { page, .. } => PageKey::Top { page: *page },
        PageData::Robots => PageKey::Robots,
        PageData::NotFound => PageKey::NotFound,
        PageData::Stylesheet => PageKey::Stylesheet,
        PageData::Script => PageKey::Script,
        PageData::Gone(key) => key.clone(),
    }
}
