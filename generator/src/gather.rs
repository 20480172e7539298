//! What each page shows, gathered from a read model: the one place the listing, tag and
//! sitemap arithmetic lives. The full build reads an in-memory snapshot
//! ([`SiteIndex`](crate::site::SiteIndex)), the Worker reads D1 (`crowdfund-core`'s
//! `read_model`); both answer the same small questions, so their pages cannot disagree on what
//! a page holds, only on the answers, and a native test holds those equal.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use crate::model::{Project, ProjectSummary};
use crate::pages::PageData;
use crate::paths::{
    listing_page_of, sitemap_chunk_of, tag_pages_for_count, tag_pages_from, PageKey, Target, FEED_SIZE, FRONT_SIZE,
    LISTING_PAGE_SIZE, SITEMAP_CHUNK, TAG_PAGE_SIZE, TOP_PAGES, TOP_PAGE_SIZE,
};

/// How many projects pages show, and the largest id of any project, hidden or not (0 when
/// none): listing pages and sitemap chunks are buckets of ids, whatever is hidden.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    pub total: i64,
    pub max_id: i64,
}

/// The questions pages ask of the data, about what pages show: hidden projects and threads
/// are not there (`Project::visible`). Summaries carry their tags sorted; projects their
/// threads in id order.
#[allow(async_fn_in_trait)]
pub trait ReadModel {
    type Error;

    /// The number of projects shown and the largest id of any project.
    async fn stats(&self) -> Result<Stats, Self::Error>;
    /// The `n` newest projects, newest (largest id) first.
    async fn newest(&self, n: usize) -> Result<Vec<ProjectSummary>, Self::Error>;
    /// The projects with ids in `first..=last`, ascending.
    async fn summaries_between(&self, first: i64, last: i64) -> Result<Vec<ProjectSummary>, Self::Error>;
    /// The project ids in `first..=last`, ascending.
    async fn ids_between(&self, first: i64, last: i64) -> Result<Vec<i64>, Self::Error>;
    /// A project with its threads.
    async fn project(&self, project_id: i64) -> Result<Option<Project>, Self::Error>;
    /// How many projects carry `tag`.
    async fn tag_count(&self, tag: &str) -> Result<i64, Self::Error>;
    /// How many projects carrying `tag` have an id below `project_id`.
    async fn tag_count_before(&self, tag: &str, project_id: i64) -> Result<i64, Self::Error>;
    /// The projects carrying `tag` in id order, `limit` of them after skipping `offset`.
    async fn tagged(&self, tag: &str, offset: i64, limit: i64) -> Result<Vec<ProjectSummary>, Self::Error>;
    /// The shown projects in Top order ([`ranking::top_first`](crate::ranking::top_first)),
    /// `limit` of them after skipping `offset`.
    async fn top(&self, offset: i64, limit: i64) -> Result<Vec<ProjectSummary>, Self::Error>;
}

/// The last page of the Top listing for `total` shown projects (1 for an empty site: the page
/// says so).
pub fn last_top_page(total: i64) -> u32 {
    let pages = (total + TOP_PAGE_SIZE - 1) / TOP_PAGE_SIZE;
    u32::try_from(pages.clamp(1, i64::from(TOP_PAGES))).unwrap_or(1)
}

/// The ids listing page `page` holds (an id bucket).
///
/// ```
/// assert_eq!(generator::gather::listing_ids(2), (51, 100));
/// ```
pub fn listing_ids(page: u32) -> (i64, i64) {
    let first = (i64::from(page) - 1) * LISTING_PAGE_SIZE + 1;
    (first, first + LISTING_PAGE_SIZE - 1)
}

/// The ids sitemap chunk `chunk` lists.
pub fn sitemap_ids(chunk: u32) -> (i64, i64) {
    let first = (i64::from(chunk) - 1) * SITEMAP_CHUNK + 1;
    (first, first + SITEMAP_CHUNK - 1)
}

/// The newest listing page (0 for an empty site).
pub fn last_listing(max_id: i64) -> u32 {
    if max_id > 0 {
        listing_page_of(max_id)
    } else {
        0
    }
}

/// The number of sitemap chunks (0 for an empty site).
pub fn sitemap_chunks(max_id: i64) -> u32 {
    if max_id > 0 {
        sitemap_chunk_of(max_id)
    } else {
        0
    }
}

/// Resolves a change's target into page keys, asking the data for tag counts where needed.
pub async fn resolve<M: ReadModel>(model: &M, target: &Target) -> Result<Vec<PageKey>, M::Error> {
    match target {
        Target::Page(key) => Ok(vec![key.clone()]),
        Target::TagTail { tag, project_id } => {
            let before = model.tag_count_before(tag, *project_id).await?;
            let total = model.tag_count(tag).await?;
            Ok(tag_pages_from(tag, before, total))
        }
    }
}

/// Gathers what one page shows.
pub async fn page_data<M: ReadModel>(model: &M, key: &PageKey) -> Result<PageData, M::Error> {
    Ok(match key {
        PageKey::Front => {
            let stats = model.stats().await?;
            PageData::Front {
                newest: model.newest(FRONT_SIZE).await?,
                total: stats.total,
                last_listing: last_listing(stats.max_id),
            }
        }
        PageKey::Listing { page } => {
            // Pages past the newest do not exist (yet): a full build writes 1..=last only.
            let last = last_listing(model.stats().await?.max_id);
            if *page > last {
                return Ok(PageData::Gone(key.clone()));
            }
            let (first_id, last_id) = listing_ids(*page);
            let items = model.summaries_between(first_id, last_id).await?;
            PageData::Listing { page: *page, items, last_listing: last }
        }
        PageKey::Detail { project_id } => match model.project(*project_id).await? {
            Some(project) => PageData::Detail { project },
            None => PageData::Gone(key.clone()),
        },
        PageKey::TagIndex { tag } | PageKey::TagPage { tag, .. } => tag_data(model, key, tag).await?,
        PageKey::Feed => PageData::Feed { newest: model.newest(FEED_SIZE).await? },
        PageKey::SitemapIndex => PageData::SitemapIndex { chunks: sitemap_chunks(model.stats().await?.max_id) },
        PageKey::Sitemap { chunk } => {
            if *chunk > sitemap_chunks(model.stats().await?.max_id) {
                return Ok(PageData::Gone(key.clone()));
            }
            let (first, last) = sitemap_ids(*chunk);
            PageData::Sitemap { chunk: *chunk, project_ids: model.ids_between(first, last).await? }
        }
        PageKey::Top { page } => {
            let last = last_top_page(model.stats().await?.total);
            if *page < 1 || *page > last {
                return Ok(PageData::Gone(key.clone()));
            }
            let items = model.top((i64::from(*page) - 1) * TOP_PAGE_SIZE, TOP_PAGE_SIZE).await?;
            PageData::Top { page: *page, items, last_page: last }
        }
        PageKey::Robots => PageData::Robots,
        PageKey::NotFound => PageData::NotFound,
        PageKey::Stylesheet => PageData::Stylesheet,
        PageKey::Script => PageData::Script,
    })
}

/// A tag's index (its newest page) or one of its numbered pages; `Gone` when no project carries
/// the tag or the page is past the end.
async fn tag_data<M: ReadModel>(model: &M, key: &PageKey, tag: &str) -> Result<PageData, M::Error> {
    let total = model.tag_count(tag).await?;
    let last_page = tag_pages_for_count(total);
    let page = match key {
        PageKey::TagPage { page, .. } => *page,
        _ => last_page,
    };
    if total == 0 || page < 1 || page > last_page {
        return Ok(PageData::Gone(key.clone()));
    }
    let items = model.tagged(tag, (i64::from(page) - 1) * TAG_PAGE_SIZE, TAG_PAGE_SIZE).await?;
    Ok(match key {
        PageKey::TagPage { .. } => PageData::TagPage { tag: tag.to_owned(), page, items, last_page },
        _ => PageData::TagIndex { tag: tag.to_owned(), items, total, last_page },
    })
}

/// Runs a future that never waits (a read model in memory) to its end, without a runtime.
///
/// Polls until the future is ready; a future that does wait is polled again at once, so this
/// is only for models whose answers are already at hand.
pub fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
}
