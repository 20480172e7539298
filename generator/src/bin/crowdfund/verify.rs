//! `crowdfund verify --from URL`: fetches every page a running instance serves and compares it
//! with a full build from the instance's data (admin export); reports each differing page.
//! Clean means the incrementally published site equals a rebuild, byte for byte, and every
//! page is in the page store (not just rendered on demand by the Worker). Pointed at the edge
//! (`make dev`'s http://127.0.0.1:8787), it checks what the edge serves, the spec's alias URLs
//! included; it first waits until publishing and purging have drained (health says nothing is
//! owed), since pages converge only then. It shows progress as it compares, and ends with how
//! many pages it compared, how long that took and which differ.

use std::sync::Arc;

use anyhow::{bail, Result};
use generator::paths::{alias_urls_of, json_url_of, url_of, PageKey};
use generator::site::SiteIndex;
use generator::{render, PageData};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::client::AdminSource;
use crate::progress::Progress;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    source: AdminSource,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// How long to wait at most for publishing and purging to drain before comparing (the
    /// wait also ends when they stop moving for 10 s).
    #[arg(long, default_value_t = 120)]
    settle_seconds: u64,
}

/// How long the drain figures may stand still before verify stops waiting for them.
const STALLED: std::time::Duration = std::time::Duration::from_secs(10);

/// Waits until the instance has no outbox row and no purge owed (health's figures), as long as
/// they keep moving and at most `seconds`; then the comparison says what did not converge.
async fn settle(instance: &crate::client::Instance, seconds: u64) -> Result<()> {
    let start = std::time::Instant::now();
    let mut last = (None, None);
    let mut since = start;
    loop {
        let health: serde_json::Value = instance.get_json("/api/v1/health").await?;
        let now = (health["outbox_backlog"].as_i64(), health["purges_owed"].as_i64().or(Some(0)));
        if now == (Some(0), Some(0)) {
            return Ok(());
        }
        if now != last {
            (last, since) = (now, std::time::Instant::now());
        }
        let (waited, stalled) = (start.elapsed().as_secs() >= seconds, since.elapsed() >= STALLED);
        if waited || stalled {
            eprintln!(
                "verify: publishing has not drained ({:?} outbox rows, {:?} purges owed{}); comparing anyway",
                now.0,
                now.1,
                if stalled { ", not moving" } else { "" }
            );
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

pub async fn run(args: Args) -> Result<()> {
    settle(&crate::client::Instance::new(&args.source.from)?, args.settle_seconds).await?;
    let (instance, site, snapshot) = args.source.export().await?;
    let instance = Arc::new(instance);
    let index = SiteIndex::from_projects(snapshot.projects);
    let mut expected: Vec<(String, Option<Vec<u8>>)> = Vec::new();
    for key in index.all_keys() {
        let data = index.page_data(&key);
        let pages = render(&site, &data)?;
        let urls = std::iter::once(url_of(&key)).chain(json_url_of(&key));
        for (url, page) in urls.zip(&pages) {
            expected.push((url, Some(page.body.clone())));
        }
        if let Some(twin) = pages.get(1) {
            expected.extend(alias_urls_of(&key).into_iter().map(|url| (url, Some(twin.body.clone()))));
        }
        // The page after a tag's last one must not be served.
        if let (PageKey::TagIndex { tag }, PageData::TagIndex { last_page, .. }) = (&key, &data) {
            let gone = PageKey::TagPage { tag: tag.clone(), page: last_page + 1 };
            expected.push((url_of(&gone), None));
        }
    }
    let checked = expected.len();
    let limit = Arc::new(Semaphore::new(args.concurrency.max(1)));
    let mut tasks = JoinSet::new();
    for (url, want) in expected {
        let (instance, limit) = (instance.clone(), limit.clone());
        tasks.spawn(async move {
            let _permit = limit.acquire().await?;
            let why = match (want, instance.get_page(&url).await?) {
                (Some(want), Some((got, stored))) if got == want => {
                    (!stored).then_some("not published (rendered on demand)")
                }
                (Some(_), Some(_)) => Some("content differs"),
                (Some(_), None) => Some("missing (404)"),
                (None, Some(_)) => Some("served but should not exist"),
                (None, None) => None,
            };
            anyhow::Ok(why.map(|why| (url, why)))
        });
    }
    let mut progress = Progress::new("verify", "pages", checked as u64);
    let mut differing = Vec::new();
    while let Some(result) = tasks.join_next().await {
        if let Some(diff) = result?? {
            differing.push(diff);
        }
        progress.inc(1);
    }
    let took = progress.finish().as_secs_f64();
    differing.sort();
    for (url, why) in &differing {
        println!("verify: {url}: {why}");
    }
    if !differing.is_empty() {
        bail!("verify: {} of {checked} pages differ from a full build (compared in {took:.1} s)", differing.len());
    }
    println!("verify: all {checked} pages equal a full build (compared in {took:.1} s)");
    Ok(())
}
