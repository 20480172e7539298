//! The search benchmark (`make bench`): the two designs issue 14 named, side by side on the
//! shared synthetic snapshot (100,000 projects by default), in one run.
//!
//! 1. **D1's FTS5** (what the site uses): the real migrations on SQLite, D1's engine, with the
//!    snapshot's projects and tags loaded and indexed. Per query: latency (p50/p99 of the
//!    query `core::search` runs), bytes of the `/api/v1/search` answer and of the HTML page.
//!    Index size (database pages the index added). Cost per proposal: rows written and time
//!    of `projects::propose` with the index, against the same proposal whose index statement
//!    writes a plain table instead.
//! 2. **A generated, sharded index** (Pagefind's approach), built here only to be measured:
//!    terms folded like FTS5's tokenizer, sharded by their first two characters (JSON term →
//!    ids), plus one fragment per project (id, name, tagline, tags) for the results. Per
//!    query: the bytes a browser would fetch (the shards of its words and the fragments of
//!    its first 20 results); index size; bytes rewritten per proposal (the shards of its
//!    terms and its fragment).
//!
//! Settings: BENCH_SEARCH_SIZE (projects, default 100000), BENCH_QUERIES (default 400),
//! BENCH_SHARED (where make_snapshot.py lives). Prints a Markdown table for docs/BENCHMARKS.md.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use crowdfund_core::platform::Now;
use crowdfund_core::rules::input::ProposeRequest;
use crowdfund_core::rules::search_query::SearchQuery;
use crowdfund_core::sql::{Database, Param, Statement};
use crowdfund_core::testing::{run, Sqlite};
use crowdfund_core::{projects, search};
use generator::model::{ProjectSummary, Snapshot};
use generator::pages::search::{self as search_page, SearchPage};
use generator::pages::SiteConfig;
use generator::testing::Rng;
use unicode_normalization::UnicodeNormalization;

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn snapshot(n: u64) -> Snapshot {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let path = root.join(format!("target/bench/snapshot-{n}.json"));
    if !path.exists() {
        let shared = std::env::var("BENCH_SHARED").unwrap_or_else(|_| "/work/shared/bench".into());
        std::fs::create_dir_all(root.join("target/bench")).expect("target/bench");
        let out = Command::new("python3")
            .arg(format!("{shared}/make_snapshot.py"))
            .arg(n.to_string())
            .output()
            .expect("python3 make_snapshot.py");
        assert!(out.status.success(), "make_snapshot.py: {}", String::from_utf8_lossy(&out.stderr));
        std::fs::write(&path, out.stdout).expect("writing the snapshot");
    }
    serde_json::from_slice(&std::fs::read(&path).expect("the snapshot")).expect("a snapshot")
}

fn page_bytes(db: &Sqlite) -> u64 {
    #[derive(serde::Deserialize)]
    struct Count {
        n: u64,
    }
    let pages = db.select::<Count>("SELECT page_count AS n FROM pragma_page_count")[0].n;
    let size = db.select::<Count>("SELECT page_size AS n FROM pragma_page_size")[0].n;
    pages * size
}

/// Loads the snapshot's projects and tags (not their threads: search does not read them).
fn load(db: &Sqlite, snapshot: &Snapshot) {
    for chunk in snapshot.projects.chunks(2000) {
        let mut statements = Vec::new();
        for p in chunk {
            statements.push(Statement::new(
                "INSERT INTO projects (project_id, project_name, name_key, tagline, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                vec![
                    Param::Int(p.project_id),
                    Param::Text(p.project_name.clone()),
                    Param::Text(p.project_name.to_lowercase()),
                    Param::Text(p.tagline.clone()),
                    Param::Text(p.created_at.clone()),
                ],
            ));
            for tag in &p.tags {
                statements.push(Statement::new(
                    "INSERT OR IGNORE INTO tags (project_id, tag) VALUES (?1, ?2)",
                    vec![Param::Int(p.project_id), Param::Text(tag.clone())],
                ));
            }
        }
        run(db.batch(statements)).expect("loading the snapshot");
    }
}

/// Folds a text into terms as FTS5's `unicode61 remove_diacritics 2` does (near enough).
fn terms(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(|w| {
        w.nfd().filter(|c| !unicode_normalization::char::is_combining_mark(*c)).collect::<String>().to_lowercase()
    })
}

fn shard_of(term: &str) -> String {
    term.chars().take(2).collect()
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn main() {
    let n = setting("BENCH_SEARCH_SIZE", 100_000);
    let queries = setting("BENCH_QUERIES", 400) as usize;
    let snapshot = snapshot(n);
    println!("search on {} projects ({queries} queries)", snapshot.projects.len());

    // --- FTS5 ---
    let db = Sqlite::migrated();
    load(&db, &snapshot);
    let before = page_bytes(&db);
    let start = Instant::now();
    run(db.batch(vec![search::index_projects("1 = 1", Vec::new())])).expect("indexing");
    let index_time = start.elapsed();
    let fts_bytes = page_bytes(&db).saturating_sub(before);

    // Queries: one or two words of random projects' names and taglines, some as prefixes.
    let mut rng = Rng::new(14);
    let mut asked = Vec::new();
    while asked.len() < queries {
        let p = &snapshot.projects[rng.below(snapshot.projects.len() as u64) as usize];
        let words: Vec<String> = terms(&format!("{} {}", p.project_name, p.tagline)).filter(|w| w.len() > 2).collect();
        let Some(first) = rng.pick(&words) else { continue };
        let mut q = first.clone();
        if rng.chance(30) {
            q.truncate(q.char_indices().nth(3).map_or(q.len(), |(i, _)| i)); // a prefix
        }
        if rng.chance(40) {
            if let Some(second) = rng.pick(&words) {
                q = format!("{q} {second}");
            }
        }
        asked.push(q);
    }
    let site = SiteConfig::default();
    let (mut times, mut json_bytes, mut html_bytes, mut matched) = (Vec::new(), 0usize, 0usize, 0usize);
    for q in &asked {
        let query = SearchQuery::parse(Some(q), None).expect("a valid query");
        let start = Instant::now();
        let (results, more) = run(search::search(&db, &query)).expect("search");
        times.push(start.elapsed());
        matched += usize::from(!results.is_empty());
        let view = SearchPage { query: &query.text, page: 1, results: &results, more, error: None };
        json_bytes += search_page::json(&view).expect("json").len();
        html_bytes += search_page::render(&site, &view).expect("html").body.len();
    }
    times.sort();

    // Cost per proposal, with the index and with its statement writing a plain table instead.
    let propose_many = |db: &Sqlite, label: &str| {
        let mut rows = 0;
        let start = Instant::now();
        for i in 0..200 {
            let request = ProposeRequest {
                project_name: format!("Bench {label} {i}"),
                tagline: "a solar repair cafe for the neighbourhood".into(),
                tags: vec!["solar".into(), "repair".into(), "cafe".into()],
                problems: vec!["a problem".into()],
                solutions: vec![],
            };
            let now = Now { ms: 1, rfc3339: "2026-12-01T00:00:00Z".into() };
            let written =
                run(projects::propose(db, &request.validate().expect("valid"), "a", None, format!("{label}{i}"), &now))
                    .expect("proposed");
            rows += written.rows_written;
        }
        (start.elapsed() / 200, rows / 200)
    };
    let (with_index, rows_with) = propose_many(&db, "fts");
    let plain = Sqlite::migrated();
    load(&plain, &snapshot);
    plain.execute(
        "DROP TABLE project_search; CREATE TABLE project_search (rowid INTEGER PRIMARY KEY, name, tagline, tags);",
    );
    let (without_index, rows_without) = propose_many(&plain, "plain");

    // --- the sharded index ---
    let mut shards: BTreeMap<String, BTreeMap<String, BTreeSet<i64>>> = BTreeMap::new();
    let mut fragments: BTreeMap<i64, usize> = BTreeMap::new();
    for p in &snapshot.projects {
        let text = format!("{} {} {}", p.project_name, p.tagline, p.tags.join(" "));
        for term in terms(&text) {
            shards.entry(shard_of(&term)).or_default().entry(term).or_default().insert(p.project_id);
        }
        let summary = ProjectSummary::from(p);
        fragments.insert(p.project_id, serde_json::to_vec(&summary).expect("json").len());
    }
    let shard_size: BTreeMap<&String, usize> =
        shards.iter().map(|(k, terms)| (k, serde_json::to_vec(terms).expect("json").len())).collect();
    let sharded_bytes: usize = shard_size.values().sum::<usize>() + fragments.values().sum::<usize>();
    let (mut fetched, mut fetches) = (Vec::new(), 0usize);
    for q in &asked {
        let words: Vec<String> = terms(q).collect();
        fetches += words.iter().map(|w| shard_of(w)).collect::<BTreeSet<_>>().len();
        let mut bytes: usize = words.iter().map(|w| shard_size.get(&shard_of(w)).copied().unwrap_or(0)).sum();
        // The matches: projects holding a term that starts with every word.
        let mut hits: Option<BTreeSet<i64>> = None;
        for w in &words {
            let ids: BTreeSet<i64> = shards
                .get(&shard_of(w))
                .map(|s| {
                    s.range(w.clone()..)
                        .take_while(|(t, _)| t.starts_with(w.as_str()))
                        .flat_map(|(_, ids)| ids.iter().copied())
                        .collect()
                })
                .unwrap_or_default();
            hits = Some(match hits {
                None => ids,
                Some(h) => h.intersection(&ids).copied().collect(),
            });
        }
        let shown: Vec<i64> = hits.unwrap_or_default().into_iter().rev().take(20).collect();
        fetches += shown.len();
        bytes += shown.iter().map(|id| fragments[id]).sum::<usize>();
        fetched.push(bytes);
    }
    fetched.sort_unstable();
    let sample = &snapshot.projects[0];
    let touched: BTreeSet<String> =
        terms(&format!("{} {} {}", sample.project_name, sample.tagline, sample.tags.join(" ")))
            .map(|t| shard_of(&t))
            .collect();
    let rewritten: usize =
        touched.iter().map(|s| shard_size.get(s).copied().unwrap_or(0)).sum::<usize>() + fragments[&sample.project_id];

    let mib = |b: usize| b as f64 / (1024.0 * 1024.0);
    println!();
    println!("| search, {} projects | D1 FTS5 (chosen) | sharded static index |", snapshot.projects.len());
    println!("|---|---|---|");
    println!(
        "| query latency p50 / p99 | {:.2} / {:.2} ms (SQLite, D1's engine; plus one D1 round trip) | {:.1} edge fetches a query (its words' shards, then its results' fragments), then intersection in the browser |",
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        fetches as f64 / asked.len() as f64
    );
    println!(
        "| bytes a query transfers (mean) | {:.1} KB JSON, {:.1} KB HTML page | {:.1} KB (p50 {:.1} KB, p99 {:.1} KB) |",
        json_bytes as f64 / asked.len() as f64 / 1024.0,
        html_bytes as f64 / asked.len() as f64 / 1024.0,
        fetched.iter().sum::<usize>() as f64 / fetched.len() as f64 / 1024.0,
        fetched[fetched.len() / 2] as f64 / 1024.0,
        fetched[fetched.len() * 99 / 100] as f64 / 1024.0,
    );
    println!(
        "| index size | {:.1} MiB (built in {:.1} s) | {:.1} MiB in {} shards + {} fragments |",
        mib(fts_bytes as usize),
        index_time.as_secs_f64(),
        mib(sharded_bytes),
        shard_size.len(),
        fragments.len()
    );
    println!(
        "| cost per proposal | {} rows written ({} without the index), {:.0} µs ({:.0} µs without) | {} shards ({:.1} KB) rewritten and purged, plus its fragment |",
        rows_with,
        rows_without,
        with_index.as_secs_f64() * 1e6,
        without_index.as_secs_f64() * 1e6,
        touched.len(),
        rewritten as f64 / 1024.0
    );
    println!("| queries with a match | {matched} of {} | the same words |", asked.len());
}
