//! `crowdfund build`: the whole static site into a directory, from a snapshot file
//! (`--input`) or from a running instance's data (`--from`), rendered on every core.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{bail, Context, Result};
use generator::model::Snapshot;
use generator::paths::PageKey;
use generator::site::SiteIndex;
use generator::{render, SiteConfig};

use crate::client::{self, Instance};

#[derive(clap::Args)]
pub struct Args {
    /// A snapshot file ({"projects": [...]}, the format of shared/bench/make_snapshot.py).
    #[arg(long, conflicts_with = "from")]
    input: Option<PathBuf>,
    /// Base URL of a running instance to fetch the data from (admin export).
    #[arg(long)]
    from: Option<String>,
    /// Admin bearer token for --from (default: $CROWDFUND_ADMIN_TOKEN).
    #[arg(long)]
    admin_token: Option<String>,
    /// Output directory.
    #[arg(long)]
    out: PathBuf,
    /// Absolute origin used in the feed and sitemap (default: the instance's, or local).
    #[arg(long)]
    base_url: Option<String>,
}

pub async fn run(args: Args) -> Result<()> {
    let start = std::time::Instant::now();
    let (site, snapshot) = match (&args.input, &args.from) {
        (Some(path), None) => {
            let text = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            let snapshot: Snapshot =
                serde_json::from_slice(&text).with_context(|| format!("parsing {}", path.display()))?;
            (SiteConfig::default(), snapshot)
        }
        (None, Some(url)) => {
            let instance = Instance::new(url)?;
            client::export(&instance, &client::admin_token(args.admin_token.as_deref())?).await?
        }
        _ => bail!("give exactly one of --input FILE or --from URL"),
    };
    let site = SiteConfig { base_url: args.base_url.unwrap_or(site.base_url), ..site };
    let projects = snapshot.projects.len();
    let index = SiteIndex::from_projects(snapshot.projects);
    let written = write_site(&site, &index, &args.out)?;
    eprintln!(
        "build: {projects} projects, {written} files in {:.2} s into {}",
        start.elapsed().as_secs_f64(),
        args.out.display()
    );
    Ok(())
}

/// Renders every page of the index into `out`, on all cores; returns the number of files.
pub fn write_site(site: &SiteConfig, index: &SiteIndex, out: &Path) -> Result<usize> {
    let keys: Vec<PageKey> = index.all_keys();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let done = AtomicUsize::new(0);
    let files = AtomicUsize::new(0);
    let progress = std::io::stderr().is_terminal();
    let total = keys.len();
    std::thread::scope(|scope| -> Result<()> {
        let workers: Vec<_> = keys
            .chunks(total.div_ceil(threads).max(1))
            .map(|chunk| {
                let (done, files) = (&done, &files);
                scope.spawn(move || -> Result<()> {
                    for key in chunk {
                        for page in render(site, &index.page_data(key))? {
                            let path = out.join(&page.key);
                            if let Some(dir) = path.parent() {
                                std::fs::create_dir_all(dir)?;
                            }
                            std::fs::write(&path, &page.body).with_context(|| format!("writing {}", path.display()))?;
                            files.fetch_add(1, Ordering::Relaxed);
                        }
                        let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                        if progress && (n % 1000 == 0 || n == total) {
                            eprint!("\rbuild: {n}/{total} pages");
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        for w in workers {
            w.join().map_err(|_| anyhow::anyhow!("a render thread panicked"))??;
        }
        Ok(())
    })?;
    if progress {
        eprintln!();
    }
    Ok(files.into_inner())
}
