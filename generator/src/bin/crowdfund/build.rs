//! `crowdfund build`: the whole static site into a directory, from a snapshot file
//! (`--input`) or from a running instance's data (`--from`), rendered on every core.
//!
//! Large snapshots are the point (100k projects, ~240 MB of JSON, ~210k files), so the build
//! parses the snapshot's projects on every core, hands pages to the render threads in small
//! batches (a descheduled thread does not hold up the end of the build), creates each output
//! directory once, and renders each detail page from its project rather than from a copy.
//! `docs/BENCHMARKS.md` has the figures.

use std::collections::HashSet;
use std::io::IsTerminal;
use std::ops::Range;
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
            let projects = parse_projects(&text).with_context(|| format!("parsing {}", path.display()))?;
            (SiteConfig::default(), projects)
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

/// Parses a snapshot's projects, in order, on every core.
///
/// A light scan finds where each element of the top-level `"projects"` array starts and ends;
/// serde then parses the elements in parallel, one contiguous run per thread. Anything the
/// scan does not expect (or any element that fails) falls back to parsing the whole document
/// with serde, so errors and edge cases are exactly serde's.
fn parse_projects(text: &[u8]) -> Result<Vec<Project>> {
    let Some(elements) = scan::project_elements(text) else {
        return Ok(serde_json::from_slice::<Snapshot>(text)?.projects);
    };
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let per_thread = text.len().div_ceil(threads).max(1);
    // Contiguous runs of elements of about equal size in bytes.
    let mut runs: Vec<&[Range<usize>]> = Vec::with_capacity(threads);
    let mut first = 0;
    for i in 0..elements.len() {
        if elements[i].end - elements[first].start >= per_thread || i + 1 == elements.len() {
            runs.push(&elements[first..=i]);
            first = i + 1;
        }
    }
    let parsed: Option<Vec<Vec<Project>>> = std::thread::scope(|scope| {
        let workers: Vec<_> = runs
            .iter()
            .map(|run| {
                scope.spawn(move || {
                    run.iter()
                        .map(|r| serde_json::from_slice::<Project>(&text[r.clone()]).ok())
                        .collect::<Option<Vec<Project>>>()
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().ok().flatten()).collect()
    });
    match parsed {
        Some(runs) => {
            let mut projects = Vec::with_capacity(elements.len());
            for run in runs {
                projects.extend(run);
            }
            Ok(projects)
        }
        None => Ok(serde_json::from_slice::<Snapshot>(text)?.projects),
    }
}

/// The scan behind [`parse_projects`]: structure only, no values.
mod scan {
    use std::ops::Range;

    /// Returns the byte ranges of the elements of the top-level `"projects"` array, or `None`
    /// when the document is not plainly `{..., "projects": [...], ...}` (serde decides then).
    /// Other top-level members must be valid JSON; serde checks them.
    pub fn project_elements(text: &[u8]) -> Option<Vec<Range<usize>>> {
        let mut s = Scanner { text, at: 0 };
        let mut elements = None;
        s.ws();
        s.expect(b'{')?;
        s.ws();
        if s.peek()? == b'}' {
            return None;
        }
        loop {
            s.ws();
            let key = s.string()?;
            if key.contains(&b'\\') {
                return None;
            }
            s.ws();
            s.expect(b':')?;
            s.ws();
            if key == b"projects" {
                if elements.is_some() {
                    return None; // duplicate field: serde's error
                }
                elements = Some(s.array()?);
            } else {
                let start = s.at;
                s.value()?;
                serde_json::from_slice::<serde::de::IgnoredAny>(&text[start..s.at]).ok()?;
            }
            s.ws();
            match s.next()? {
                b',' => continue,
                b'}' => break,
                _ => return None,
            }
        }
        s.ws();
        (s.at == text.len()).then_some(())?;
        elements
    }

    struct Scanner<'a> {
        text: &'a [u8],
        at: usize,
    }

    impl<'a> Scanner<'a> {
        fn peek(&self) -> Option<u8> {
            self.text.get(self.at).copied()
        }

        fn next(&mut self) -> Option<u8> {
            let b = self.peek()?;
            self.at += 1;
            Some(b)
        }

        fn expect(&mut self, b: u8) -> Option<()> {
            (self.next()? == b).then_some(())
        }

        fn ws(&mut self) {
            while matches!(self.peek(), Some(b' ' | b'\n' | b'\r' | b'\t')) {
                self.at += 1;
            }
        }

        /// A string's raw contents (escapes not decoded); `at` is on its opening quote.
        fn string(&mut self) -> Option<&'a [u8]> {
            self.expect(b'"')?;
            let start = self.at;
            loop {
                let i = find_quote_or_backslash(&self.text[self.at..])?;
                self.at += i;
                if self.next()? == b'"' {
                    return Some(&self.text[start..self.at - 1]);
                }
                self.next()?; // the escaped byte
            }
        }

        /// The elements of an array; `at` is on its `[`.
        fn array(&mut self) -> Option<Vec<Range<usize>>> {
            self.expect(b'[')?;
            let mut elements = Vec::new();
            self.ws();
            if self.peek()? == b']' {
                self.at += 1;
                return Some(elements);
            }
            loop {
                self.ws();
                let start = self.at;
                self.value()?;
                elements.push(start..self.at);
                self.ws();
                match self.next()? {
                    b',' => continue,
                    b']' => return Some(elements),
                    _ => return None,
                }
            }
        }

        /// Skips one value without checking it (serde parses it later).
        fn value(&mut self) -> Option<()> {
            match self.peek()? {
                b'"' => self.string().map(|_| ()),
                b'{' | b'[' => {
                    let mut depth = 0usize;
                    loop {
                        let skip =
                            self.text[self.at..].iter().position(|b| matches!(b, b'"' | b'{' | b'[' | b'}' | b']'))?;
                        self.at += skip;
                        match self.text[self.at] {
                            b'"' => {
                                self.string()?;
                                continue;
                            }
                            b'{' | b'[' => depth += 1,
                            _ => {
                                depth -= 1;
                                if depth == 0 {
                                    self.at += 1;
                                    return Some(());
                                }
                            }
                        }
                        self.at += 1;
                    }
                }
                _ => {
                    let start = self.at;
                    while !matches!(self.peek(), None | Some(b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t')) {
                        self.at += 1;
                    }
                    (self.at > start).then_some(())
                }
            }
        }
    }

    /// The first `"` or `\\` in `hay`, eight bytes at a time: strings are most of a snapshot.
    fn find_quote_or_backslash(hay: &[u8]) -> Option<usize> {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGHS: u64 = 0x8080_8080_8080_8080;
        // High bit set in each byte of `w` equal to `b`; the lowest such bit is always exact.
        let equal = |w: u64, b: u8| {
            let x = w ^ (ONES * u64::from(b));
            x.wrapping_sub(ONES) & !x & HIGHS
        };
        let mut chunks = hay.chunks_exact(8);
        let mut at = 0;
        for chunk in chunks.by_ref() {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            let w = u64::from_le_bytes(word);
            let hits = equal(w, b'"') | equal(w, b'\\');
            if hits != 0 {
                return Some(at + hits.trailing_zeros() as usize / 8);
            }
            at += 8;
        }
        chunks.remainder().iter().position(|b| matches!(b, b'"' | b'\\')).map(|i| at + i)
    }

    #[cfg(test)]
    mod tests {
        use super::{find_quote_or_backslash, project_elements};

        #[test]
        fn finds_quotes_like_a_byte_loop() {
            let text = r#"abc"defgh\ijklmnopqrstu"vw\\xyz0123456789"é"ü\"\"\\"#.as_bytes();
            for start in 0..text.len() {
                for end in start..=text.len() {
                    let hay = &text[start..end];
                    let expected = hay.iter().position(|b| matches!(b, b'"' | b'\\'));
                    assert_eq!(find_quote_or_backslash(hay), expected, "{start}..{end}");
                }
            }
            let mut all = [0u8; 256];
            all.iter_mut().enumerate().for_each(|(i, b)| *b = i as u8);
            for start in 0..all.len() {
                let expected = all[start..].iter().position(|b| matches!(b, b'"' | b'\\'));
                assert_eq!(find_quote_or_backslash(&all[start..]), expected);
            }
        }

        fn elements(text: &str) -> Option<Vec<&str>> {
            project_elements(text.as_bytes()).map(|rs| rs.into_iter().map(|r| &text[r]).collect())
        }

        #[test]
        fn finds_the_projects_array_elements() {
            let text = r#" { "x": {"a": [1, "]}"]}, "projects" : [ {"a": "\"}]"} ,{"b":[{}]}, 3 ], "y": null } "#;
            assert_eq!(elements(text), Some(vec![r#"{"a": "\"}]"}"#, r#"{"b":[{}]}"#, "3"]));
            assert_eq!(elements(r#"{"projects": []}"#), Some(vec![]));
        }

        #[test]
        fn leaves_anything_unusual_to_serde() {
            for text in [
                r#"{}"#,
                r#"{"x": 1}"#,
                r#"{"projects": [], "projects": []}"#,
                r#"{"proj\u0065cts": []}"#,
                r#"{"projects": [1 2]}"#,
                r#"{"projects": []} x"#,
                r#"{"projects": [], "x": tru}"#,
                r#"[{"projects": []}]"#,
                r#"{"projects": [{"a": 1}"#,
            ] {
                assert_eq!(elements(text), None, "{text}");
            }
        }
    }
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
