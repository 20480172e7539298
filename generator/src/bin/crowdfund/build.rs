//! `crowdfund build`: the whole static site into a directory, from a snapshot file
//! (`--input`) or from a running instance's data (`--from`), rendered on every core.
//!
//! Large snapshots are the point (100k projects, ~240 MB of JSON, ~210k files), so the build
//! hands pages to the render threads in small batches (a descheduled thread does not hold up
//! the end of the build), creates each output directory once, and renders each detail page
//! from its project rather than from a copy.
//! `docs/BENCHMARKS.md` has the figures.

use std::collections::HashSet;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use anyhow::{bail, Context, Result};
use generator::model::{Project, Snapshot};
use generator::paths::PageKey;
use generator::site::SiteIndex;
use generator::{render, Page, PageData, SiteConfig};

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
    let (site, projects) = match (&args.input, &args.from) {
        (Some(path), None) => {
            let text = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            // One serde pass on this thread. Parsing on several threads was slower: a spawned
            // thread's glibc arena grows its heap by one `mprotect` per allocation that
            // overflows it, ~60k of them for 100k projects.
            let snapshot: Snapshot =
                serde_json::from_slice(&text).with_context(|| format!("parsing {}", path.display()))?;
            (SiteConfig::default(), snapshot.projects)
        }
        (None, Some(url)) => {
            let instance = Instance::new(url)?;
            let (site, snapshot) =
                client::export(&instance, &client::admin_token(args.admin_token.as_deref())?).await?;
            (site, snapshot.projects)
        }
        _ => bail!("give exactly one of --input FILE or --from URL"),
    };
    let site = SiteConfig { base_url: args.base_url.unwrap_or(site.base_url), ..site };
    let count = projects.len();
    let index = SiteIndex::from_projects(projects);
    let written = write_site(&site, index, &args.out)?;
    eprintln!(
        "build: {count} projects, {written} files in {:.2} s into {}",
        start.elapsed().as_secs_f64(),
        args.out.display()
    );
    Ok(())
}

/// Renders every page of the index into `out`, on all cores; returns the number of files.
///
/// Pages gathered from the index (listings, tags, feed, ...) go first; then the index is taken
/// apart and each detail page is rendered from its project as is, instead of from a copy.
pub fn write_site(site: &SiteConfig, index: SiteIndex, out: &Path) -> Result<usize> {
    /// Pages a thread takes at a time: small enough to balance, large enough not to contend.
    const BATCH: usize = 64;
    let keys: Vec<PageKey> = index.all_keys();
    let writer = Writer::new(out, keys.len())?;
    let gathered: Vec<&PageKey> = keys.iter().filter(|k| !matches!(k, PageKey::Detail { .. })).collect();
    let next = AtomicUsize::new(0);
    writer.on_threads(|dirs| loop {
        let first = next.fetch_add(BATCH, Ordering::Relaxed);
        let Some(batch) = gathered.get(first..(first + BATCH).min(gathered.len())).filter(|b| !b.is_empty()) else {
            return Ok(());
        };
        for key in batch {
            writer.write(dirs, render(site, &index.page_data(key))?)?;
        }
    })?;
    let projects = Mutex::new(index.into_projects());
    writer.on_threads(|dirs| loop {
        let batch: Vec<Project> =
            projects.lock().unwrap_or_else(PoisonError::into_inner).by_ref().take(BATCH).collect();
        if batch.is_empty() {
            return Ok(());
        }
        for project in batch {
            writer.write(dirs, render(site, &PageData::Detail { project })?)?;
        }
    })?;
    if writer.progress {
        eprintln!();
    }
    Ok(writer.files.into_inner())
}

/// Writes pages under the output directory from several threads, counting them.
struct Writer<'a> {
    out: &'a Path,
    threads: usize,
    total: usize,
    done: AtomicUsize,
    files: AtomicUsize,
    progress: bool,
}

/// The directories a thread has made (or found): one `mkdir` each, not one per file.
type Dirs = HashSet<String>;

impl<'a> Writer<'a> {
    fn new(out: &'a Path, total: usize) -> Result<Self> {
        std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
        Ok(Writer {
            out,
            threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
            total,
            done: AtomicUsize::new(0),
            files: AtomicUsize::new(0),
            progress: std::io::stderr().is_terminal(),
        })
    }

    /// Runs `work` on every core until each returns; the first error wins.
    fn on_threads(&self, work: impl Fn(&mut Dirs) -> Result<()> + Sync) -> Result<()> {
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..self.threads).map(|_| scope.spawn(|| work(&mut Dirs::new()))).collect();
            for w in workers {
                w.join().map_err(|_| anyhow::anyhow!("a render thread panicked"))??;
            }
            Ok(())
        })
    }

    /// Writes one page's objects.
    fn write(&self, dirs: &mut Dirs, pages: Vec<Page>) -> Result<()> {
        for page in pages {
            if let Some((dir, _)) = page.key.rsplit_once('/') {
                if !dirs.contains(dir) {
                    let path = self.out.join(dir);
                    std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
                    dirs.insert(dir.to_owned());
                }
            }
            let path = self.out.join(&page.key);
            std::fs::write(&path, &page.body).with_context(|| format!("writing {}", path.display()))?;
            self.files.fetch_add(1, Ordering::Relaxed);
        }
        let n = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        if self.progress && (n.is_multiple_of(1000) || n == self.total) {
            eprint!("\rbuild: {n}/{} pages", self.total);
        }
        Ok(())
    }
}
