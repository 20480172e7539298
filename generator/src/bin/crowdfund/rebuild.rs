//! `crowdfund rebuild --to URL [--wait]`: starts an admin rebuild of every page and, with
//! `--wait`, follows it to the end with progress (projects rendered of those there were when it
//! started, rate, time left), then says how many pages it rendered and how fast.

use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use serde::Deserialize;

use crate::client::{AdminTarget, Instance};
use crate::progress::Progress;
use crate::retry;

/// How often a followed rebuild's progress is read.
const POLL_EVERY: Duration = Duration::from_millis(500);
/// How long a followed rebuild may stand still before `--wait` gives up on it.
const STALLED: Duration = Duration::from_secs(300);

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    target: AdminTarget,
    /// Follow the rebuild to its end, with progress.
    #[arg(long)]
    wait: bool,
}

/// A rebuild's progress, as `GET /api/v1/admin/rebuilds/{id}` reports it.
#[derive(Debug, Deserialize)]
pub struct Status {
    pub phase: String,
    pub pages_rendered: u64,
    pub done: bool,
    pub projects_total: u64,
    pub projects_done: u64,
}

/// What a followed rebuild did.
pub struct Finished {
    pub pages: u64,
    pub took: Duration,
}

pub async fn run(args: Args) -> Result<()> {
    let (instance, token) = args.target.connect()?;
    let status_url = start(&instance, &token).await?;
    if !args.wait {
        println!("rebuild: started: {status_url}");
        return Ok(());
    }
    let finished = follow(&instance, &token, &status_url).await?;
    println!("rebuild: {}", summary(&finished));
    Ok(())
}

/// Starts a rebuild; returns its status URL (a path).
pub async fn start(instance: &Instance, token: &str) -> Result<String> {
    let url = format!("{}/api/v1/admin/rebuilds", instance.base);
    let response = retry::send(&format!("POST {url}"), || instance.http.post(&url).bearer_auth(token)).await?;
    let started: serde_json::Value = response.error_for_status()?.json().await?;
    match started["status_url"].as_str() {
        Some(status_url) => Ok(status_url.to_owned()),
        None => bail!("POST {url}: no status_url in {started}"),
    }
}

/// Follows a rebuild until it is done, with progress.
pub async fn follow(instance: &Instance, token: &str, status_url: &str) -> Result<Finished> {
    let url = format!("{}{status_url}", instance.base);
    let mut progress = Progress::new("rebuild", "projects", 0);
    let (mut last, mut since) = ((String::new(), 0), Instant::now());
    loop {
        let response = retry::send(&format!("GET {url}"), || instance.http.get(&url).bearer_auth(token)).await?;
        let status: Status = response.error_for_status()?.json().await?;
        progress.set_total(status.projects_total);
        progress.set(status.projects_done);
        if status.done {
            return Ok(Finished { pages: status.pages_rendered, took: progress.finish() });
        }
        let now = (status.phase.clone(), status.pages_rendered);
        if now != last {
            (last, since) = (now, Instant::now());
        } else if since.elapsed() >= STALLED {
            bail!(
                "rebuild at {url} has not moved for {} s (phase {}, {} pages); see /api/v1/health",
                STALLED.as_secs(),
                status.phase,
                status.pages_rendered
            );
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}

/// `5391 pages in 12.3 s (438 pages/s)`.
pub fn summary(f: &Finished) -> String {
    let seconds = f.took.as_secs_f64();
    format!("{} pages in {seconds:.1} s ({:.0} pages/s)", f.pages, f.pages as f64 / seconds.max(0.001))
}
