//! The whole site from an in-memory snapshot: which pages exist, and the data of each.
//!
//! The Worker answers the same questions from D1 (`worker/src/db.rs` mirrors these rules);
//! `verify` and the property tests hold the two to byte-identical output.

use std::collections::BTreeMap;

use crate::model::{Project, ProjectSummary, Snapshot};
use crate::pages::{render, Page, PageData, SiteConfig};
use crate::paths::{
    listing_page_of, sitemap_chunk_of, tag_pages_for_count, tag_pages_from, PageKey, Target, FEED_SIZE, FRONT_SIZE,
    LISTING_PAGE_SIZE, SITEMAP_CHUNK, SITE_WIDE_PAGES, TAG_PAGE_SIZE,
};
use crate::Result;

/// A snapshot indexed for page lookups: projects by id, and each tag's project ids ascending.
#[derive(Debug, Clone, Default)]
pub struct SiteIndex {
    projects: BTreeMap<i64, Project>,
    tags: BTreeMap<String, Vec<i64>>,
}

impl SiteIndex {
    /// Indexes a snapshot, putting tags and threads in their canonical order.
    pub fn new(snapshot: &Snapshot) -> Self {
        Self::from_projects(snapshot.projects.iter().cloned())
    }

    /// Indexes projects without copying them (full builds of large snapshots).
    pub fn from_projects(projects: impl IntoIterator<Item = Project>) -> Self {
        let mut index = SiteIndex::default();
        for project in projects {
            index.upsert(project);
        }
        index
    }

    /// Inserts or replaces a project (the property tests apply changes this way).
    pub fn upsert(&mut self, mut project: Project) {
        project.tags.sort();
        project.tags.dedup();
        project.threads.sort_by_key(|t| t.thread_id);
        if let Some(old) = self.projects.get(&project.project_id) {
            for tag in &old.tags {
                if let Some(ids) = self.tags.get_mut(tag) {
                    ids.retain(|id| *id != project.project_id);
                    if ids.is_empty() {
                        self.tags.remove(tag);
                    }
                }
            }
        }
        for tag in &project.tags {
            // Look up before `entry`, which would copy the tag for every project carrying it.
            let ids = match self.tags.get_mut(tag) {
                Some(ids) => ids,
                None => self.tags.entry(tag.clone()).or_default(),
            };
            if let Err(at) = ids.binary_search(&project.project_id) {
                ids.insert(at, project.project_id);
            }
        }
        self.projects.insert(project.project_id, project);
    }

    /// Inserts or replaces a project as the pages gathered from many projects show it
    /// (listings, tags, feed, sitemaps): without its threads. An index built only this way
    /// answers [`page_data`](Self::page_data) for the [`gathered_keys`](Self::gathered_keys),
    /// not for detail pages; a full build renders those from each project as it is read.
    pub fn upsert_summary(&mut self, summary: ProjectSummary) {
        let ProjectSummary { project_id, project_name, tagline, tags, created_at } = summary;
        self.upsert(Project { project_id, project_name, tagline, tags, created_at, threads: Vec::new() });
    }

    /// Every page but the detail pages: the site-wide ones and those gathered from many
    /// projects.
    pub fn gathered_keys(&self) -> Vec<PageKey> {
        self.keys(false)
    }

    /// How many projects the index holds.
    pub fn len(&self) -> usize {
        self.projects.len()
    }

    /// Whether the index holds no project.
    pub fn is_empty(&self) -> bool {
        self.projects.is_empty()
    }

    /// Returns a project by id.
    pub fn project(&self, project_id: i64) -> Option<&Project> {
        self.projects.get(&project_id)
    }

    fn last_listing(&self) -> u32 {
        self.projects.keys().next_back().map_or(0, |id| listing_page_of(*id))
    }

    fn summaries<'a>(&'a self, ids: impl Iterator<Item = &'a i64>) -> Vec<ProjectSummary> {
        ids.filter_map(|id| self.projects.get(id)).map(ProjectSummary::from).collect()
    }

    fn newest(&self, n: usize) -> Vec<ProjectSummary> {
        self.projects.values().rev().take(n).map(ProjectSummary::from).collect()
    }

    /// Lists every page a full build writes.
    pub fn all_keys(&self) -> Vec<PageKey> {
        self.keys(true)
    }

    fn keys(&self, with_details: bool) -> Vec<PageKey> {
        let mut keys = SITE_WIDE_PAGES.to_vec();
        keys.extend((1..=self.last_listing()).map(|page| PageKey::Listing { page }));
        if with_details {
            keys.extend(self.projects.keys().map(|id| PageKey::Detail { project_id: *id }));
        }
        let chunks = self.projects.keys().next_back().map_or(0, |id| sitemap_chunk_of(*id));
        keys.extend((1..=chunks).map(|chunk| PageKey::Sitemap { chunk }));
        for (tag, ids) in &self.tags {
            keys.push(PageKey::TagIndex { tag: tag.clone() });
            let pages = tag_pages_for_count(ids.len() as i64);
            keys.extend((1..=pages).map(|page| PageKey::TagPage { tag: tag.clone(), page }));
        }
        keys
    }

    /// Resolves a change's target into page keys, using the tag counts where needed.
    pub fn resolve(&self, target: &Target) -> Vec<PageKey> {
        match target {
            Target::Page(key) => vec![key.clone()],
            Target::TagTail { tag, project_id } => {
                let ids = self.tags.get(tag).map(Vec::as_slice).unwrap_or_default();
                let before = ids.partition_point(|id| id < project_id) as i64;
                tag_pages_from(tag, before, ids.len() as i64)
            }
        }
    }

    /// Gathers what one page shows.
    pub fn page_data(&self, key: &PageKey) -> PageData {
        match key {
            PageKey::Front => PageData::Front {
                newest: self.newest(FRONT_SIZE),
                total: self.projects.len() as i64,
                last_listing: self.last_listing(),
            },
            PageKey::Listing { page } => {
                let first = (i64::from(*page) - 1) * LISTING_PAGE_SIZE + 1;
                let range = first..first + LISTING_PAGE_SIZE;
                PageData::Listing {
                    page: *page,
                    items: self.summaries(self.projects.range(range).map(|(id, _)| id)),
                    last_listing: self.last_listing(),
                }
            }
            PageKey::Detail { project_id } => match self.projects.get(project_id) {
                Some(project) => PageData::Detail { project: project.clone() },
                None => PageData::Gone(key.clone()),
            },
            PageKey::TagIndex { tag } | PageKey::TagPage { tag, .. } => self.tag_data(key, tag),
            PageKey::Feed => PageData::Feed { newest: self.newest(FEED_SIZE) },
            PageKey::SitemapIndex => PageData::SitemapIndex {
                chunks: self.projects.keys().next_back().map_or(0, |id| sitemap_chunk_of(*id)),
            },
            PageKey::Sitemap { chunk } => {
                let first = (i64::from(*chunk) - 1) * SITEMAP_CHUNK + 1;
                PageData::Sitemap {
                    chunk: *chunk,
                    project_ids: self.projects.range(first..first + SITEMAP_CHUNK).map(|(id, _)| *id).collect(),
                }
            }
            PageKey::Robots => PageData::Robots,
            PageKey::NotFound => PageData::NotFound,
            PageKey::Stylesheet => PageData::Stylesheet,
            PageKey::Script => PageData::Script,
        }
    }

    fn tag_data(&self, key: &PageKey, tag: &str) -> PageData {
        let Some(ids) = self.tags.get(tag) else {
            return PageData::Gone(key.clone());
        };
        let last_page = tag_pages_for_count(ids.len() as i64);
        let page_items = |page: u32| {
            let start = (page as usize - 1) * TAG_PAGE_SIZE as usize;
            let end = (start + TAG_PAGE_SIZE as usize).min(ids.len());
            self.summaries(ids[start.min(end)..end].iter())
        };
        match key {
            PageKey::TagIndex { .. } => PageData::TagIndex {
                tag: tag.to_owned(),
                items: page_items(last_page),
                total: ids.len() as i64,
                last_page,
            },
            PageKey::TagPage { page, .. } if *page >= 1 && *page <= last_page => {
                PageData::TagPage { tag: tag.to_owned(), page: *page, items: page_items(*page), last_page }
            }
            _ => PageData::Gone(key.clone()),
        }
    }
}

/// Builds every page of the site from a snapshot.
pub fn build(site: &SiteConfig, snapshot: &Snapshot) -> Result<Vec<Page>> {
    let index = SiteIndex::new(snapshot);
    let mut pages = Vec::new();
    for key in index.all_keys() {
        pages.extend(render(site, &index.page_data(&key))?);
    }
    Ok(pages)
}
