//! The whole site from an in-memory snapshot: which pages exist, and (as a
//! [`ReadModel`]) what each shows.
//!
//! The Worker answers the same questions from D1 (`crowdfund-core`'s `read_model`); the pages'
//! arithmetic is [`gather`](crate::gather)'s alone, and a native test in `crowdfund-core` holds
//! the two models' answers equal.

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;

use crate::gather::{self, ReadModel, Stats};
use crate::model::{Project, ProjectSummary, Snapshot};
use crate::pages::{render, Page, PageData, SiteConfig};
use crate::paths::{tag_pages_for_count, PageKey, Target, SITE_WIDE_PAGES};
use crate::ranking::{ProjectFacts, TopEntry};
use crate::Result;

/// A snapshot indexed for page lookups: the projects pages show (hidden ones left out, hidden
/// threads removed) by id, each tag's project ids ascending, and the largest id of any
/// project, hidden or not (listing pages are buckets of ids, so hiding a project never
/// reshapes them).
#[derive(Debug, Clone, Default)]
pub struct SiteIndex {
    projects: BTreeMap<i64, Project>,
    /// What the Top listing orders the shown projects by, by project and in Top order.
    facts: BTreeMap<i64, ProjectFacts>,
    top: BTreeSet<TopEntry>,
    tags: BTreeMap<String, Vec<i64>>,
    max_id: i64,
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

    /// Inserts or replaces a project (the property tests apply changes this way), as pages
    /// show it: a hidden project is removed.
    pub fn upsert(&mut self, project: Project) {
        let facts = ProjectFacts::of(&project);
        self.upsert_with(project, facts);
    }

    /// [`upsert`](Self::upsert) with the project's Top facts already known (a summary has no
    /// threads to compute them from).
    fn upsert_with(&mut self, project: Project, facts: ProjectFacts) {
        self.max_id = self.max_id.max(project.project_id);
        let id = project.project_id;
        self.unindex_tags(id);
        self.unrank(id);
        let Some(mut project) = project.visible() else {
            self.projects.remove(&id);
            return;
        };
        self.rank(facts);
        project.tags.sort();
        project.tags.dedup();
        project.threads.sort_by_key(|t| t.thread_id);
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

    fn unindex_tags(&mut self, project_id: i64) {
        if let Some(old) = self.projects.get(&project_id) {
            for tag in &old.tags {
                if let Some(ids) = self.tags.get_mut(tag) {
                    ids.retain(|id| *id != project_id);
                    if ids.is_empty() {
                        self.tags.remove(tag);
                    }
                }
            }
        }
    }

    /// Inserts or replaces a project as the pages gathered from many projects show it
    /// (listings, tags, feed, sitemaps): without its threads. An index built only this way
    /// answers [`page_data`](Self::page_data) for the [`gathered_keys`](Self::gathered_keys),
    /// not for detail pages; a full build renders those from each project as it is read.
    pub fn upsert_summary(&mut self, project: &Project) {
        let ProjectSummary { project_id, project_name, tagline, tags, created_at } = ProjectSummary::from(project);
        let hidden = project.hidden;
        // The Top listing's facts come from the threads the summary leaves out.
        let facts = ProjectFacts::of(project);
        let summary = Project { project_id, project_name, tagline, tags, created_at, hidden, ..Project::default() };
        self.upsert_with(summary, facts);
    }

    fn rank(&mut self, facts: ProjectFacts) {
        self.top.insert(TopEntry(facts.clone()));
        self.facts.insert(facts.project_id, facts);
    }

    fn unrank(&mut self, project_id: i64) {
        if let Some(old) = self.facts.remove(&project_id) {
            self.top.remove(&TopEntry(old));
        }
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
        gather::last_listing(self.max_id)
    }

    fn summaries<'a>(&'a self, ids: impl Iterator<Item = &'a i64>) -> Vec<ProjectSummary> {
        ids.filter_map(|id| self.projects.get(id)).map(ProjectSummary::from).collect()
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
        keys.extend((1..=gather::last_top_page(self.projects.len() as i64)).map(|page| PageKey::Top { page }));
        let chunks = gather::sitemap_chunks(self.max_id);
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
        let Ok(keys) = gather::ready(gather::resolve(self, target));
        keys
    }

    /// Gathers what one page shows.
    pub fn page_data(&self, key: &PageKey) -> PageData {
        let Ok(data) = gather::ready(gather::page_data(self, key));
        data
    }

    fn tag_ids(&self, tag: &str) -> &[i64] {
        self.tags.get(tag).map(Vec::as_slice).unwrap_or_default()
    }
}

/// The snapshot answers at once and never fails.
impl ReadModel for SiteIndex {
    type Error = Infallible;

    async fn stats(&self) -> Result<Stats, Infallible> {
        Ok(Stats { total: self.projects.len() as i64, max_id: self.max_id })
    }

    async fn newest(&self, n: usize) -> Result<Vec<ProjectSummary>, Infallible> {
        Ok(self.projects.values().rev().take(n).map(ProjectSummary::from).collect())
    }

    async fn summaries_between(&self, first: i64, last: i64) -> Result<Vec<ProjectSummary>, Infallible> {
        Ok(self.summaries(self.projects.range(first..=last).map(|(id, _)| id)))
    }

    async fn ids_between(&self, first: i64, last: i64) -> Result<Vec<i64>, Infallible> {
        Ok(self.projects.range(first..=last).map(|(id, _)| *id).collect())
    }

    async fn project(&self, project_id: i64) -> Result<Option<Project>, Infallible> {
        Ok(self.projects.get(&project_id).cloned())
    }

    async fn tag_count(&self, tag: &str) -> Result<i64, Infallible> {
        Ok(self.tag_ids(tag).len() as i64)
    }

    async fn tag_count_before(&self, tag: &str, project_id: i64) -> Result<i64, Infallible> {
        Ok(self.tag_ids(tag).partition_point(|id| *id < project_id) as i64)
    }

    async fn tagged(&self, tag: &str, offset: i64, limit: i64) -> Result<Vec<ProjectSummary>, Infallible> {
        let ids = self.tag_ids(tag);
        let start = usize::try_from(offset).unwrap_or(0).min(ids.len());
        let end = start.saturating_add(usize::try_from(limit).unwrap_or(0)).min(ids.len());
        Ok(self.summaries(ids[start..end].iter()))
    }

    async fn top(&self, offset: i64, limit: i64) -> Result<Vec<ProjectSummary>, Infallible> {
        let (skip, take) = (usize::try_from(offset).unwrap_or(0), usize::try_from(limit).unwrap_or(0));
        let ids: Vec<i64> = self.top.iter().skip(skip).take(take).map(|e| e.0.project_id).collect();
        Ok(self.summaries(ids.iter()))
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
