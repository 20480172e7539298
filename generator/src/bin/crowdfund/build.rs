//! `crowdfund build`: the whole static site into a directory, from a snapshot file
//! (`--input`) or from a running instance's data (`--from`), rendered on every core.
//!
//! Large snapshots are the point (100k projects, ~240 MB of JSON, ~210k files), so the build
//! renders detail pages while the snapshot is still being parsed (see [`write_site`]), hands
//! pages to the render threads in small batches (a descheduled thread does not hold up the
//! end of the build), creates each output directory once, and renders each detail page from
//! its project rather than from a copy.
//! `docs/BENCHMARKS.md` has the figures.

use std::collections::{BTreeMap, HashSet};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::{Mutex, PoisonError};

use anyhow::{bail, Context, Result};
use generator::model::Project;
use generator::paths::{object_keys_of, PageKey};
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
    let with_base_url =
        |site: SiteConfig| SiteConfig { base_url: args.base_url.clone().unwrap_or(site.base_url), ..site };
    let stats = match (&args.input, &args.from) {
        (Some(path), None) => {
            let text = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            // The closure owns the text: it is freed as soon as it is parsed.
            write_site(&with_base_url(SiteConfig::default()), &args.out, move |emit| {
                parse_projects(&text, emit).with_context(|| format!("parsing {}", path.display()))
            })?
        }
        (None, Some(url)) => {
            let instance = Instance::new(url)?;
            let (site, snapshot) =
                client::export(&instance, &client::admin_token(args.admin_token.as_deref())?).await?;
            write_site(&with_base_url(site), &args.out, |emit| {
                snapshot.projects.into_iter().for_each(emit);
                Ok(())
            })?
        }
        _ => bail!("give exactly one of --input FILE or --from URL"),
    };
    eprintln!(
        "build: {} projects, {} files in {:.2} s into {}",
        stats.projects,
        stats.files,
        start.elapsed().as_secs_f64(),
        args.out.display()
    );
    Ok(())
}

/// What a build wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Built {
    pub projects: usize,
    pub files: usize,
}

/// Parses a snapshot (`{"projects": [...]}`, other keys ignored), handing each project to
/// `emit` as soon as it is read, so rendering starts while the rest is still being parsed.
fn parse_projects(text: &[u8], emit: &mut dyn FnMut(Project)) -> Result<()> {
    let mut json = serde_json::Deserializer::from_slice(text);
    serde::de::DeserializeSeed::deserialize(snapshot_stream::Top(emit), &mut json)?;
    json.end()?;
    Ok(())
}

/// Renders the whole site into `out`, on all cores, from the projects `source` emits (each
/// project once, or again to replace it: the last one wins, as in [`SiteIndex::upsert`]).
///
/// Detail pages need only their project, so they are rendered while `source` is still
/// producing (parsing is a fifth of a build), and each project is dropped once its page is
/// written. This thread runs `source` while the others render, keeping only what the other
/// pages show of each project (a [`SiteIndex`] of summaries); then it renders those pages
/// (listings, tags, feed, sitemaps, ...) and joins the others on the detail pages left.
pub fn write_site(
    site: &SiteConfig,
    out: &Path,
    source: impl FnOnce(&mut dyn FnMut(Project)) -> Result<()>,
) -> Result<Built> {
    /// Projects handed to a render thread at a time: small enough to balance, large enough
    /// not to contend.
    const BATCH: usize = 64;
    let writer = Writer::new(out)?;
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    // Unbounded: a bound would make the parser wait for the renderers instead of finishing
    // and joining them (at most the snapshot's projects are queued, as a Vec would hold).
    let (tx, rx) = std::sync::mpsc::channel::<Vec<Project>>();
    let rx = Mutex::new(rx);
    let mut index = SiteIndex::default();
    // The last copy of each project given more than once: its page is rendered at the end,
    // after every first copy's.
    let mut replacements = BTreeMap::new();
    std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..threads).map(|_| scope.spawn(|| writer.render_details(site, &rx))).collect();
        let mut batch = Vec::with_capacity(BATCH);
        let mut emit = |project: Project| {
            let again = index.project(project.project_id).is_some();
            index.upsert_summary(&project);
            let id = project.project_id;
            let Some(project) = project.visible() else {
                // A hidden project has no page; a hidden replacement takes a copy's page away.
                if again {
                    replacements.insert(id, None);
                }
                return;
            };
            if again {
                replacements.insert(id, Some(project));
                return;
            }
            batch.push(project);
            if batch.len() == BATCH {
                // The receiver lives as long as this scope: sending cannot fail.
                let _ = tx.send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)));
            }
        };
        let parsed = source(&mut emit);
        if !batch.is_empty() {
            let _ = tx.send(batch);
        }
        drop(tx);
        let mut results = vec![parsed];
        if results[0].is_ok() {
            let mut dirs = Dirs::new();
            results.push(
                index
                    .gathered_keys()
                    .iter()
                    .try_for_each(|key| writer.write(&mut dirs, render(site, &index.page_data(key))?)),
            );
        }
        results.push(writer.render_details(site, &rx));
        for helper in helpers {
            results.push(helper.join().map_err(|_| anyhow::anyhow!("a render thread panicked"))?);
        }
        results.into_iter().collect::<Result<()>>()
    })?;
    let mut dirs = Dirs::new();
    let mut rewritten = 0;
    for (id, project) in replacements {
        match project {
            Some(project) => {
                writer.write(&mut dirs, render(site, &PageData::Detail { project })?)?;
                rewritten += 1;
            }
            None => writer.remove(&object_keys_of(&PageKey::Detail { project_id: id }))?,
        }
    }
    if writer.progress {
        eprintln!();
    }
    // A replaced project's page was written by its first copy and once more above.
    let rewrites = rewritten * object_keys_of(&PageKey::Detail { project_id: 0 }).len();
    Ok(Built { projects: index.len(), files: writer.files.into_inner() - rewrites })
}

/// Writes pages under the output directory from several threads, counting them.
struct Writer<'a> {
    out: &'a Path,
    done: AtomicUsize,
    files: AtomicUsize,
    progress: bool,
    /// When the build started and when it last printed a plain progress line (no terminal).
    started: std::time::Instant,
    last_line: Mutex<std::time::Instant>,
}

/// The directories a thread has made (or found): one `mkdir` each, not one per file.
type Dirs = HashSet<String>;

impl<'a> Writer<'a> {
    fn new(out: &'a Path) -> Result<Self> {
        std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
        Ok(Writer {
            out,
            done: AtomicUsize::new(0),
            files: AtomicUsize::new(0),
            progress: std::io::stderr().is_terminal(),
            started: std::time::Instant::now(),
            last_line: Mutex::new(std::time::Instant::now()),
        })
    }

    /// Renders the detail page of every project received until the sender is gone. After an
    /// error it stops rendering but keeps receiving (and dropping) what is sent.
    fn render_details(&self, site: &SiteConfig, projects: &Mutex<Receiver<Vec<Project>>>) -> Result<()> {
        let mut dirs = Dirs::new();
        let mut failed = None;
        loop {
            let Ok(batch) = projects.lock().unwrap_or_else(PoisonError::into_inner).recv() else { break };
            if failed.is_some() {
                continue;
            }
            for project in batch {
                if let Err(e) = render(site, &PageData::Detail { project })
                    .map_err(anyhow::Error::from)
                    .and_then(|p| self.write(&mut dirs, p))
                {
                    failed = Some(e);
                    break;
                }
            }
        }
        failed.map_or(Ok(()), Err)
    }

    /// Removes objects written before (a project's page when a later copy of it is hidden).
    fn remove(&self, keys: &[String]) -> Result<()> {
        for key in keys {
            let path = self.out.join(key);
            match std::fs::remove_file(&path) {
                Ok(()) => {
                    self.files.fetch_sub(1, Ordering::Relaxed);
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e).with_context(|| format!("removing {}", path.display())),
            }
        }
        Ok(())
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
        if n.is_multiple_of(1000) {
            if self.progress {
                eprint!("\rbuild: {n} pages");
            } else if let Ok(mut last) = self.last_line.try_lock() {
                // Not a terminal: a plain line every few seconds, so a log says how far it got.
                if last.elapsed() >= std::time::Duration::from_secs(5) {
                    *last = std::time::Instant::now();
                    eprintln!("{}", crate::progress::line("build", "pages", n as u64, 0, self.started.elapsed()));
                }
            }
        }
        Ok(())
    }
}

/// A streaming reader of the snapshot format: serde visitors that hand each project over as
/// soon as it is parsed instead of collecting a `Vec<Project>`.
mod snapshot_stream {
    use std::fmt;

    use generator::model::Project;
    use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
    use serde::Deserializer;

    /// The top-level object: `projects` streamed, other keys ignored, `projects` required.
    pub struct Top<'a>(pub &'a mut dyn FnMut(Project));

    impl<'de> DeserializeSeed<'de> for Top<'_> {
        type Value = ();

        fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
            deserializer.deserialize_map(self)
        }
    }

    impl<'de> Visitor<'de> for Top<'_> {
        type Value = ();

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a snapshot object with a `projects` array")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            let mut found = false;
            while let Some(key) = map.next_key::<String>()? {
                if key == "projects" && !found {
                    map.next_value_seed(Projects(&mut *self.0))?;
                    found = true;
                } else if key == "projects" {
                    return Err(serde::de::Error::duplicate_field("projects"));
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            if found {
                Ok(())
            } else {
                Err(serde::de::Error::missing_field("projects"))
            }
        }
    }

    /// The `projects` array, each element handed over as it is read.
    struct Projects<'a>(&'a mut dyn FnMut(Project));

    impl<'de> DeserializeSeed<'de> for Projects<'_> {
        type Value = ();

        fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
            deserializer.deserialize_seq(self)
        }
    }

    impl<'de> Visitor<'de> for Projects<'_> {
        type Value = ();

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an array of projects")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            while let Some(project) = seq.next_element::<Project>()? {
                (self.0)(project);
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use generator::model::{Snapshot, Thread, ThreadType};

    fn project(id: i64, name: &str, tags: &[&str]) -> Project {
        Project {
            project_id: id,
            project_name: name.into(),
            tagline: format!("tagline of {name}"),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            created_at: "2026-01-02T03:04:05Z".into(),
            threads: vec![Thread {
                thread_id: id * 10,
                project_id: id,
                parent_id: None,
                thread_type: ThreadType::Problem,
                message: format!("*{name}*"),
                up_vote: 1,
                down_vote: 0,
                created_at: "2026-01-02T03:04:05Z".into(),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    /// Builds `projects` with the CLI's writer and with the library's `site::build`, and
    /// asserts the directory holds exactly the library's pages.
    fn assert_same_as_library(projects: Vec<Project>) {
        let site = SiteConfig::default();
        let expected = generator::site::build(&site, &Snapshot { projects: projects.clone() }).expect("library build");
        let out = std::env::temp_dir().join(format!("crowdfund-build-test-{}-{}", std::process::id(), projects.len()));
        let _ = std::fs::remove_dir_all(&out);
        let built = write_site(&site, &out, |emit| {
            projects.into_iter().for_each(emit);
            Ok(())
        })
        .expect("write_site");
        assert_eq!(built.files, expected.len());
        for page in &expected {
            let written = std::fs::read(out.join(&page.key)).unwrap_or_else(|e| panic!("{}: {e}", page.key));
            assert!(written == page.body, "{} differs from the library's page", page.key);
        }
        std::fs::remove_dir_all(&out).expect("clean up");
    }

    #[test]
    fn the_streamed_build_writes_the_library_build() {
        // More than one batch, tags shared and not, ids out of order.
        let tags = [&["solar"][..], &["solar", "water"], &[], &["Water", "solar", "solar"]];
        let projects = (1..=300).rev().map(|id| project(id, &format!("P{id}"), tags[id as usize % 4])).collect();
        assert_same_as_library(projects);
    }

    #[test]
    fn the_last_of_two_projects_with_one_id_wins() {
        let mut projects: Vec<Project> = (1..=200).map(|id| project(id, &format!("P{id}"), &["a"])).collect();
        projects.push(project(7, "Seven again", &["b"]));
        projects.push(project(150, "150 again", &[]));
        projects.push(project(7, "Seven, last", &["c"]));
        assert_same_as_library(projects);
    }

    #[test]
    fn the_snapshot_stream_reads_what_serde_reads() {
        let text = br#"{"version": 2, "projects": [{"project_id": 2, "project_name": "n", "tagline": "t",
            "tags": ["x"], "created_at": "2026-01-02T03:04:05Z"}], "extra": {"a": [1]}}"#;
        let mut got = Vec::new();
        parse_projects(text, &mut |p| got.push(p)).expect("parse");
        let expected: Snapshot = serde_json::from_slice(text).expect("serde");
        assert_eq!(got, expected.projects);
        for bad in [
            &br#"{"project": []}"#[..],
            br#"{"projects": [], "projects": []}"#,
            br#"[]"#,
            br#"{"projects": [1]}"#,
            br#"{"projects": []} x"#,
        ] {
            assert!(parse_projects(bad, &mut |_| {}).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
