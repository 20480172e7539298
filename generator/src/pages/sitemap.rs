//! The sitemap index and its chunks: every project's detail URL, absolute, in id buckets of
//! `paths::SITEMAP_CHUNK`, so a proposal re-renders one chunk and the index.
//!
//! No `<lastmod>`: it would change on every vote and drag the sitemap into every change.

use askama::Template;

use super::view::{absolute, single};
use super::{Page, SiteConfig, XML};
use crate::paths::{url_of, PageKey};
use crate::Result;

#[derive(Template)]
#[template(path = "sitemap_index.xml")]
struct IndexXml {
    sitemaps: Vec<String>,
}

#[derive(Template)]
#[template(path = "sitemap.xml")]
struct ChunkXml {
    urls: Vec<String>,
}

/// Renders `/sitemap.xml`, pointing at chunks `1..=chunks`.
pub(super) fn index(site: &SiteConfig, chunks: u32) -> Result<Vec<Page>> {
    let sitemaps = (1..=chunks).map(|chunk| absolute(site, &url_of(&PageKey::Sitemap { chunk }))).collect();
    Ok(vec![single(&PageKey::SitemapIndex, XML, IndexXml { sitemaps }.render()?)])
}

/// Renders `/sitemaps/{chunk}.xml`; chunk 1 also lists the front page and the Top listing.
pub(super) fn chunk(site: &SiteConfig, chunk: u32, project_ids: &[i64]) -> Result<Vec<Page>> {
    let mut ids = project_ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let listings = [PageKey::Front, PageKey::Top { page: 1 }];
    let firsts: Vec<String> =
        if chunk == 1 { listings.iter().map(|key| absolute(site, &url_of(key))).collect() } else { Vec::new() };
    let urls = firsts
        .into_iter()
        .chain(ids.into_iter().map(|project_id| absolute(site, &url_of(&PageKey::Detail { project_id }))))
        .collect();
    Ok(vec![single(&PageKey::Sitemap { chunk }, XML, ChunkXml { urls }.render()?)])
}
