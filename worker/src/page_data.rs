//! Gathers what a page shows from D1: the D1 mirror of `generator::site::SiteIndex`, rule for
//! rule (`generator verify` checks the two agree byte for byte).

use worker::D1Database;

use generator::paths::{
    listing_page_of, sitemap_chunk_of, tag_pages_for_count, tag_pages_from, PageKey, Target, FEED_SIZE, FRONT_SIZE,
    LISTING_PAGE_SIZE, SITEMAP_CHUNK, TAG_PAGE_SIZE,
};
use generator::PageData;

use crate::db::{self, num, text};
use crate::error::ApiResult;

/// Resolves a change's target into page keys (tag tails need the tag's counts).
pub async fn resolve(db: &D1Database, target: &Target) -> ApiResult<Vec<PageKey>> {
    match target {
        Target::Page(key) => Ok(vec![key.clone()]),
        Target::TagTail { tag, project_id } => {
            let before = db::count(
                db,
                "SELECT count(*) AS n FROM tags WHERE tag = ?1 AND project_id < ?2",
                &[text(tag), num(*project_id)],
            )
            .await?;
            let total = tag_count(db, tag).await?;
            Ok(tag_pages_from(tag, before, total))
        }
    }
}

async fn tag_count(db: &D1Database, tag: &str) -> ApiResult<i64> {
    db::count(db, "SELECT count(*) AS n FROM tags WHERE tag = ?1", &[text(tag)]).await
}

/// Gathers one page's data.
pub async fn gather(db: &D1Database, key: &PageKey) -> ApiResult<PageData> {
    Ok(match key {
        PageKey::Front => {
            let (total, max_id) = db::project_stats(db).await?;
            PageData::Front { newest: newest(db, FRONT_SIZE).await?, total, last_listing: last_listing(max_id) }
        }
        PageKey::Listing { page } => {
            let first = (i64::from(*page) - 1) * LISTING_PAGE_SIZE + 1;
            let items = db::summaries(
                db,
                "WHERE p.project_id BETWEEN ?1 AND ?2 ORDER BY p.project_id",
                &[num(first), num(first + LISTING_PAGE_SIZE - 1)],
            )
            .await?;
            let (_, max_id) = db::project_stats(db).await?;
            PageData::Listing { page: *page, items, last_listing: last_listing(max_id) }
        }
        PageKey::Detail { project_id } => match db::project(db, *project_id).await? {
            Some(project) => PageData::Detail { project },
            None => PageData::Gone(key.clone()),
        },
        PageKey::TagIndex { tag } | PageKey::TagPage { tag, .. } => tag_data(db, key, tag).await?,
        PageKey::Feed => PageData::Feed { newest: newest(db, FEED_SIZE).await? },
        PageKey::SitemapIndex => {
            let (_, max_id) = db::project_stats(db).await?;
            PageData::SitemapIndex { chunks: if max_id > 0 { sitemap_chunk_of(max_id) } else { 0 } }
        }
        PageKey::Sitemap { chunk } => {
            let first = (i64::from(*chunk) - 1) * SITEMAP_CHUNK + 1;
            let ids = db::summaries(
                db,
                "WHERE p.project_id BETWEEN ?1 AND ?2 ORDER BY p.project_id",
                &[num(first), num(first + SITEMAP_CHUNK - 1)],
            )
            .await?;
            PageData::Sitemap { chunk: *chunk, project_ids: ids.iter().map(|p| p.project_id).collect() }
        }
        PageKey::Robots => PageData::Robots,
        PageKey::NotFound => PageData::NotFound,
        PageKey::Stylesheet => PageData::Stylesheet,
        PageKey::Script => PageData::Script,
    })
}

fn last_listing(max_id: i64) -> u32 {
    if max_id > 0 {
        listing_page_of(max_id)
    } else {
        0
    }
}

async fn newest(db: &D1Database, n: usize) -> ApiResult<Vec<generator::model::ProjectSummary>> {
    db::summaries(db, "ORDER BY p.project_id DESC LIMIT ?1", &[num(n as i64)]).await
}

async fn tag_data(db: &D1Database, key: &PageKey, tag: &str) -> ApiResult<PageData> {
    let total = tag_count(db, tag).await?;
    let last_page = tag_pages_for_count(total);
    if total == 0 {
        return Ok(PageData::Gone(key.clone()));
    }
    let page = match key {
        PageKey::TagPage { page, .. } => *page,
        _ => last_page,
    };
    if page < 1 || page > last_page {
        return Ok(PageData::Gone(key.clone()));
    }
    let items = db::summaries(
        db,
        "JOIN tags tg ON tg.project_id = p.project_id WHERE tg.tag = ?1 ORDER BY p.project_id LIMIT ?2 OFFSET ?3",
        &[text(tag), num(TAG_PAGE_SIZE), num((i64::from(page) - 1) * TAG_PAGE_SIZE)],
    )
    .await?;
    Ok(match key {
        PageKey::TagPage { .. } => PageData::TagPage { tag: tag.to_owned(), page, items, last_page },
        _ => PageData::TagIndex { tag: tag.to_owned(), items, total, last_page },
    })
}
