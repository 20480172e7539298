//! Times what the Worker does for one vote, in process: the pages a vote touches
//! (`pages_touched(&Change::Voted { .. })`, one detail page), resolved against the index, gathered
//! (`SiteIndex::page_data`) and rendered (`generator::render`: the HTML and its JSON twin).
//!
//! ```sh
//! cargo run --release -p crowdfund-generator --example vote_render -- \
//!     [--renders N] [--full] target/bench/snapshot-1000.json target/bench/snapshot-100000.json
//! ```
//!
//! Each snapshot is loaded and indexed once; then rounds of renders of random projects' vote
//! pages alternate between the snapshots, so a burst of load on the machine hits all of them
//! alike. Prints the time per vote (mean, median, p90, p99) and the median's ratio to the first
//! snapshot's. With `--full`, also renders every page of each snapshot on one thread, without
//! writing, for the render-only throughput of a full build. `scripts/bench.sh` runs it.

use std::hint::black_box;
use std::time::{Duration, Instant};

use generator::model::Snapshot;
use generator::paths::{pages_touched, Change};
use generator::site::SiteIndex;
use generator::{render, SiteConfig};

/// Renders per round and snapshot.
const ROUND: usize = 500;

struct Subject {
    name: String,
    index: SiteIndex,
    ids: Vec<i64>,
    times: Vec<Duration>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut renders = 20_000;
    let mut full = false;
    let mut paths = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--renders" => renders = args.next().ok_or("--renders N")?.parse()?,
            "--full" => full = true,
            _ => paths.push(arg),
        }
    }
    if paths.is_empty() {
        return Err("usage: vote_render [--renders N] [--full] SNAPSHOT...".into());
    }
    let site = SiteConfig::default();
    let mut subjects = Vec::new();
    for path in &paths {
        let start = Instant::now();
        let snapshot: Snapshot = serde_json::from_slice(&std::fs::read(path)?)?;
        let index = SiteIndex::from_projects(snapshot.projects);
        let ids: Vec<i64> = index.all_keys().iter().filter_map(detail_id).collect();
        if ids.is_empty() {
            return Err(format!("{path}: no projects").into());
        }
        eprintln!("vote_render: {path}: {} projects loaded in {:.1} s", ids.len(), start.elapsed().as_secs_f64());
        subjects.push(Subject { name: path.clone(), index, ids, times: Vec::with_capacity(renders) });
    }

    // Warm up each subject (page cache, allocator), then alternate rounds.
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    for s in &mut subjects {
        for _ in 0..ROUND {
            vote(&site, s, &mut rng);
        }
        s.times.clear();
    }
    while subjects.iter().any(|s| s.times.len() < renders) {
        for s in &mut subjects {
            for _ in 0..ROUND.min(renders - s.times.len()) {
                vote(&site, s, &mut rng);
            }
        }
    }

    let base = median(&mut subjects[0].times.clone());
    println!(
        "vote re-render (pages_touched -> page_data -> render: detail HTML + JSON), {renders} random projects each"
    );
    println!(
        "{:>9}  {:>9}  {:>9}  {:>9}  {:>9}  {:>12}  source",
        "projects", "mean µs", "median µs", "p90 µs", "p99 µs", "vs first"
    );
    for s in &mut subjects {
        let med = median(&mut s.times);
        let mean = s.times.iter().sum::<Duration>() / s.times.len() as u32;
        let at = |q: f64| s.times[((s.times.len() - 1) as f64 * q) as usize];
        println!(
            "{:>9}  {:>9.1}  {:>9.1}  {:>9.1}  {:>9.1}  {:>11.2}x  {}",
            s.ids.len(),
            micros(mean),
            micros(med),
            micros(at(0.9)),
            micros(at(0.99)),
            med.as_secs_f64() / base.as_secs_f64(),
            s.name
        );
    }

    if full {
        println!("full render on one thread, no writes (all keys -> page_data -> render)");
        for s in &subjects {
            let keys = s.index.all_keys();
            let start = Instant::now();
            let mut files = 0usize;
            let mut bytes = 0usize;
            for key in &keys {
                for page in render(&site, &s.index.page_data(key))? {
                    files += 1;
                    bytes += black_box(page.body.len());
                }
            }
            let took = start.elapsed().as_secs_f64();
            println!(
                "{:>9} projects: {} pages, {files} files, {:.0} MB in {took:.2} s = {:.0} pages/s, {:.1} µs/page",
                s.ids.len(),
                keys.len(),
                bytes as f64 / 1e6,
                keys.len() as f64 / took,
                took * 1e6 / keys.len() as f64
            );
        }
    }
    Ok(())
}

/// Re-renders the pages of a vote on a random project of `s`, timing it.
fn vote(site: &SiteConfig, s: &mut Subject, rng: &mut XorShift) {
    let project_id = s.ids[(rng.next() % s.ids.len() as u64) as usize];
    let start = Instant::now();
    for target in pages_touched(&Change::Voted { project_id }) {
        for key in s.index.resolve(&target) {
            let pages = render(site, &s.index.page_data(&key)).expect("render");
            black_box(pages);
        }
    }
    s.times.push(start.elapsed());
}

fn detail_id(key: &generator::paths::PageKey) -> Option<i64> {
    match key {
        generator::paths::PageKey::Detail { project_id } => Some(*project_id),
        _ => None,
    }
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// A small deterministic generator: the benchmark needs spread, not quality.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}
