//! The operator's benchmark (`make bench`): moving a whole site with the CLI, in one run, on
//! the shared snapshot (`make_snapshot.py N 4242`; N = BENCH_OPS_PROJECTS, default 10,000,
//! 100,000 when asked) against `make dev`'s stack (the edge, `wrangler dev`, rate limits on):
//! 1. `crowdfund import --wait`: the import (chunks of 20, through the admin limit) and the
//!    rebuild it starts, followed to the end;
//! 2. `crowdfund verify` of every page through the edge;
//! 3. the same rebuild run as before this change, on the same data: one step of 100 projects
//!    a queue message, one page at a time (`REBUILD_BUDGET_MS=0`, `PAGES_IN_FLIGHT=1`), for
//!    the ratio;
//! 4. the floor: a JS Worker in the same `wrangler dev` (bench/page-store) writing objects to
//!    the local page store as a rebuild does, six at a time, without any of our code.
//!
//! Bounded: each command has a deadline (the CLI's own stall detection, and 30 minutes here).

use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use crowdfund_e2e::{crowdfund_command, repo_root, Options, Server, TempDir};

const DEADLINE: Duration = Duration::from_secs(1800);

/// Runs a CLI command to its end (or the deadline); returns its stdout and how long it took.
fn timed(args: &[&str]) -> Result<(String, Duration)> {
    let start = Instant::now();
    let mut child = crowdfund_command(args)?.stdout(std::process::Stdio::piped()).spawn()?;
    while child.try_wait()?.is_none() {
        if start.elapsed() > DEADLINE {
            child.kill()?;
            bail!("crowdfund {} ran past {DEADLINE:?}", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output()?;
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        bail!("crowdfund {} failed:\n{said}", args.join(" "));
    }
    Ok((said, start.elapsed()))
}

/// The first number after `marker` in `text`.
fn number_after(text: &str, marker: &str) -> Result<f64> {
    text.split(marker)
        .nth(1)
        .and_then(|rest| rest.split_whitespace().find_map(|w| w.trim_end_matches(['s', ',']).parse().ok()))
        .with_context(|| format!("no number after {marker:?} in:\n{text}"))
}

fn snapshot(projects: u64) -> Result<std::path::PathBuf> {
    let path = repo_root().join(format!("target/bench/snapshot-{projects}-4242.json"));
    if !path.exists() {
        std::fs::create_dir_all(repo_root().join("target/bench"))?;
        let shared = std::env::var("BENCH_SHARED").unwrap_or_else(|_| "/work/shared/bench".into());
        let out = Command::new("python3")
            .args([&format!("{shared}/make_snapshot.py"), &projects.to_string(), "4242"])
            .output()
            .context("running make_snapshot.py")?;
        if !out.status.success() {
            bail!("make_snapshot.py: {}", String::from_utf8_lossy(&out.stderr));
        }
        std::fs::write(&path, out.stdout)?;
    }
    Ok(path)
}

#[tokio::main]
async fn main() -> Result<()> {
    let projects = std::env::var("BENCH_OPS_PROJECTS").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000u64);
    let file = snapshot(projects)?;
    let file = file.to_string_lossy().into_owned();
    println!("ops bench: {projects} projects (make_snapshot.py {projects} 4242), rate limits on");
    let tmp = TempDir::new("crowdfund-ops-bench")?;
    let state = tmp.0.join("state");

    let server = Server::start_with(Options { state: Some(state.clone()), ..Options::default() })?;
    let (said, _) = timed(&["import", "--wait", "--to", &server.url, &file])?;
    let import_s = number_after(&said, " in ")?;
    let pages = number_after(&said, "rebuild: ")?;
    let rebuild_s = number_after(&said, "pages in ")?;
    let (verified, verify_took) = timed(&["verify", "--from", &server.url])?;
    let compared = number_after(&verified, "verify: all ")?;
    drop(server);

    let before = Options {
        state: Some(state),
        vars: vec![("REBUILD_BUDGET_MS".into(), "0".into()), ("PAGES_IN_FLIGHT".into(), "1".into())],
        ..Options::default()
    };
    let server = Server::start_with(before)?;
    let (said, _) = timed(&["rebuild", "--wait", "--to", &server.url])?;
    let before_pages = number_after(&said, "rebuild: ")?;
    let before_s = number_after(&said, "pages in ")?;
    drop(server);

    // The floor: the local page store's own rate, in pages (a page is about two objects).
    let store =
        Server::start_with(Options { config: Some("bench/page-store/wrangler.toml".into()), ..Options::default() })?;
    let client = store.client();
    let mut objects_per_second: f64 = 0.0;
    for _ in 0..3 {
        let answer = client.get("/?n=600&inflight=6&bytes=8000").await?.json();
        let (n, ms) = (answer["objects"].as_f64().unwrap_or(0.0), answer["ms"].as_f64().unwrap_or(f64::MAX));
        objects_per_second = objects_per_second.max(n * 1000.0 / ms.max(1.0));
    }
    drop(store);

    let (now_rate, before_rate) = (pages / rebuild_s, before_pages / before_s);
    let floor = objects_per_second / 2.0;
    println!("| step | figure |");
    println!("|---|---|");
    println!("| import of {projects} projects | {import_s:.1} s ({:.0} projects/s) |", projects as f64 / import_s);
    println!("| rebuild after it | {pages:.0} pages in {rebuild_s:.1} s ({now_rate:.0} pages/s) |");
    println!("| rebuild as before (a step a message, a page at a time) | {before_pages:.0} pages in {before_s:.1} s ({before_rate:.0} pages/s) |");
    println!("| rebuild speed-up | {:.1}x |", now_rate / before_rate);
    println!(
        "| page store floor (bench/page-store, 6 at a time) | {objects_per_second:.0} objects/s = {floor:.0} pages/s; the rebuild reaches {:.0}% |",
        100.0 * now_rate / floor
    );
    println!("| verify through the edge | {compared:.0} pages in {:.1} s |", verify_took.as_secs_f64());
    Ok(())
}
