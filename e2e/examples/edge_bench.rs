//! The read-side benchmark (`make bench`): the edge cache in front of the Worker, as `make dev`
//! runs it (Varnish, then `wrangler dev`), in one run on loopback:
//! 1. request rates with `wrk` (the same load for each): a hello-world Worker (the runtime's
//!    floor), crowdfund's stored-page GET at the Worker itself (past the edge), and the same
//!    page at the edge (cache hits);
//! 2. a mixed load over a 1,000-project site (the shared snapshot, imported): page reads
//!    drawn from a Zipf distribution over the projects (plus the front and listing pages),
//!    with 1% writes (votes and comments on the page just read); it reports the hit ratio,
//!    Worker invocations per 1,000 reads, how long each write took to show at the edge
//!    (p50/p99), and purge calls per minute;
//! 3. after the load drains, `crowdfund verify` through the edge: stale pages left (must be 0).
//!
//! Bounded in time and request count. Settings: BENCH_SECONDS (per phase, default 10),
//! BENCH_CONCURRENCY (default 16), BENCH_PROJECTS (default 1000), BENCH_WRITE_PERCENT (1).

use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use crowdfund_e2e::{crowdfund_cli, repo_root, Client, Options, Server};
use serde_json::{json, Value};

const MAX_READS: u64 = 2_000_000;

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Requests per second `wrk` gets from a URL (2 threads, `connections` connections).
fn wrk(url: &str, seconds: u64, connections: u64) -> Result<f64> {
    let out = Command::new("wrk")
        .args(["-t2", &format!("-c{connections}"), &format!("-d{seconds}s"), "--latency", url])
        .output()
        .context("running wrk (apt-get install wrk)")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let rps = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .with_context(|| format!("wrk output: {text}"))?;
    if text.contains("Non-2xx") {
        bail!("wrk saw errors from {url}:\n{text}");
    }
    Ok(rps)
}

/// xorshift64*: the load's random choices, reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1_u64 << 53) as f64
    }
}

/// A Zipf distribution (exponent `s`) over ranks 1..=n, sampled by its cumulative weights.
struct Zipf(Vec<f64>);

impl Zipf {
    fn new(n: usize, s: f64) -> Self {
        let mut cdf = Vec::with_capacity(n);
        let mut total = 0.0;
        for k in 1..=n {
            total += 1.0 / (k as f64).powf(s);
            cdf.push(total);
        }
        Zipf(cdf.into_iter().map(|c| c / total).collect())
    }
    fn sample(&self, rng: &mut Rng) -> usize {
        let u = rng.unit();
        self.0.partition_point(|c| *c < u)
    }
}

/// Writes (votes) every `every` for `seconds`, one at a time; returns, sorted, how long each
/// took from its acknowledgement to showing at the edge.
async fn freshness_of_writes(url: &str, seconds: u64, every: Duration) -> Result<Vec<Duration>> {
    let client = Client::new(url);
    client.become_voter().await?;
    let id = client
        .propose(&json!({"project_name": crowdfund_e2e::unique("Light"), "tagline": "t", "problems": ["p"]}))
        .await?;
    let thread = client.first_thread(id).await?;
    let twin = format!("/api/v1/projects/{id}.json");
    client.eventually(&twin, Duration::from_secs(60), crowdfund_e2e::Answer::is_stored).await?;
    let mut out = Vec::new();
    let end = Instant::now() + Duration::from_secs(seconds);
    let mut up = true;
    while Instant::now() < end {
        let next = Instant::now() + every;
        let direction = if up { "up" } else { "down" };
        up = !up;
        let voted = client.post(&format!("/api/v1/threads/{thread}/vote"), &json!({ "direction": direction })).await?;
        let acked = Instant::now();
        let want = (voted.json()["up_vote"].clone(), voted.json()["down_vote"].clone());
        client
            .eventually(&twin, Duration::from_secs(90), |a| {
                a.json()["threads"][0]["up_vote"] == want.0 && a.json()["threads"][0]["down_vote"] == want.1
            })
            .await?;
        out.push(acked.elapsed());
        tokio::time::sleep_until(next.into()).await;
    }
    out.sort();
    Ok(out)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Log events of one kind in the Worker's log.
fn events(log: &str, event: &str) -> Vec<Value> {
    log.lines().filter_map(|l| serde_json::from_str::<Value>(l.trim()).ok()).filter(|v| v["event"] == event).collect()
}

#[tokio::main]
async fn main() -> Result<()> {
    let seconds = setting("BENCH_SECONDS", 10);
    let concurrency = setting("BENCH_CONCURRENCY", 16);
    let projects = setting("BENCH_PROJECTS", 1000) as usize;
    let write_percent = setting("BENCH_WRITE_PERCENT", 1);
    println!(
        "edge bench: {seconds} s per phase, concurrency {concurrency}, {projects} projects, {write_percent}% writes"
    );

    // 1a. The runtime's floor.
    let hello = Server::start_with(Options { config: Some("bench/hello/wrangler.toml".into()), ..Options::default() })?;
    let hello_rps = wrk(&format!("{}/", hello.url), seconds, concurrency)?;
    drop(hello);

    // The site: the shared snapshot imported, then rebuilt, so every page is stored.
    let server =
        Server::start_with(Options { vars: vec![("RATE_LIMITS".into(), "off".into())], ..Options::default() })?;
    let snapshot = repo_root().join(format!("target/bench/snapshot-{projects}.json"));
    if !snapshot.exists() {
        std::fs::create_dir_all(repo_root().join("target/bench"))?;
        let out = Command::new("python3")
            .args(["/work/shared/bench/make_snapshot.py", &projects.to_string(), "7"])
            .output()?;
        std::fs::write(&snapshot, out.stdout)?;
    }
    let import = crowdfund_cli(&["import", "--to", &server.url, &snapshot.to_string_lossy()])?;
    if !import.status.success() {
        bail!("import: {}", String::from_utf8_lossy(&import.stderr));
    }
    let client = server.client();
    let said = String::from_utf8_lossy(&import.stdout).into_owned();
    let status_url = said.split("rebuild started: ").nth(1).map(str::trim).context("the rebuild's status URL")?;
    let token = crowdfund_e2e::dev_var("ADMIN_TOKEN")?;
    let rebuild_deadline = Instant::now() + Duration::from_secs(900);
    while client.send(client.request(reqwest::Method::GET, status_url).bearer_auth(&token)).await?.json()["done"]
        != true
    {
        if Instant::now() > rebuild_deadline {
            bail!("the rebuild did not finish");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    client.eventually("/api/v1/health", Duration::from_secs(120), |a| a.json()["purges_owed"] == 0).await?;
    let rebuilt = client.get("/api/v1/health").await?.json();
    println!("site: {} projects imported and rebuilt", rebuilt["projects"]);

    // 1b. The Worker's own stored-page GET, and 1c. the same page at the edge.
    let page = "/projects/1/";
    let worker_rps = wrk(&format!("{}{page}", server.worker_url), seconds, concurrency)?;
    client.get(page).await?;
    let edge_rps = wrk(&format!("{}{page}", server.url), seconds, concurrency)?;

    // 2a. Freshness at light load: one write every 3 s, each probed until the edge shows it.
    let light = freshness_of_writes(&server.url, seconds * 3, Duration::from_secs(3)).await?;

    // 2b. The mixed load, on a warm edge: every page read once first, as a crawler would.
    for id in 1..=projects {
        client.get(&format!("/projects/{id}/")).await?;
        client.get(&format!("/api/v1/projects/{id}.json")).await?;
    }
    let zipf = Arc::new(Zipf::new(projects, 1.1));
    let reads = Arc::new(AtomicU64::new(0));
    let hits = Arc::new(AtomicU64::new(0));
    let writes = Arc::new(AtomicU64::new(0));
    let poll_misses = Arc::new(AtomicU64::new(0));
    let freshness: Arc<Mutex<Vec<Duration>>> = Arc::default();
    // GETs that reached the Worker, from wrangler dev's own line per request (the Worker leaves
    // stored-page reads out of its log), less the health polls.
    let page_requests = |log: &str| {
        log.lines()
            .filter_map(|l| l.strip_prefix("[wrangler:info] GET "))
            .filter(|rest| !rest.starts_with("/api/v1/health"))
            .count()
    };
    let invocations_before = page_requests(&server.log_text());
    let purges_before = events(&server.log_text(), "purge");
    let start = Instant::now();
    let deadline = start + Duration::from_secs(seconds * 3);
    let mut tasks = Vec::new();
    let mut probes = Vec::new();
    let (probe_tx, mut probe_rx) = tokio::sync::mpsc::unbounded_channel::<tokio::task::JoinHandle<()>>();
    for worker in 0..concurrency {
        let (zipf, reads, hits, writes, freshness, poll_misses, probe_tx) = (
            zipf.clone(),
            reads.clone(),
            hits.clone(),
            writes.clone(),
            freshness.clone(),
            poll_misses.clone(),
            probe_tx.clone(),
        );
        let url = server.url.clone();
        tasks.push(tokio::spawn(async move {
            let client = Client::new(&url);
            let _ = client.become_voter().await;
            let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (worker + 1));
            while Instant::now() < deadline && reads.load(Ordering::Relaxed) < MAX_READS {
                let roll = rng.next() % 100;
                let id = zipf.sample(&mut rng) + 1;
                let path = match roll {
                    0..=4 => "/".to_owned(),
                    5..=6 => format!("/page/{}/", rng.next() % (projects as u64 / 50).max(1) + 1),
                    7..=49 => format!("/api/v1/projects/{id}.json"),
                    _ => format!("/projects/{id}/"),
                };
                let Ok(answer) = client.get(&path).await else { continue };
                reads.fetch_add(1, Ordering::Relaxed);
                if answer.header("cf-cache-status").as_deref() == Some("HIT") {
                    hits.fetch_add(1, Ordering::Relaxed);
                }
                if rng.next() % 100 >= write_percent {
                    continue;
                }
                // A vote on the project just read; a probe (not this reader) waits for the edge.
                let twin = format!("/api/v1/projects/{id}.json");
                let Some(thread) =
                    client.get(&twin).await.ok().and_then(|a| a.json()["threads"][0]["thread_id"].as_i64())
                else {
                    continue;
                };
                let direction = if rng.next().is_multiple_of(2) { "up" } else { "down" };
                let Ok(voted) =
                    client.post(&format!("/api/v1/threads/{thread}/vote"), &json!({ "direction": direction })).await
                else {
                    continue;
                };
                writes.fetch_add(1, Ordering::Relaxed);
                if voted.json()["changed"] != true {
                    continue;
                }
                let acked = Instant::now();
                let want = (voted.json()["up_vote"].clone(), voted.json()["down_vote"].clone());
                let (probe, freshness, poll_misses) = (client.clone(), freshness.clone(), poll_misses.clone());
                let _ = probe_tx.send(tokio::spawn(async move {
                    let shown = probe
                        .eventually(&twin, Duration::from_secs(90), |a| {
                            if a.header("cf-cache-status").as_deref() != Some("HIT") {
                                poll_misses.fetch_add(1, Ordering::Relaxed);
                            }
                            let t = a.json()["threads"]
                                .as_array()
                                .and_then(|ts| ts.iter().find(|t| t["thread_id"] == thread).cloned());
                            t.is_some_and(|t| t["up_vote"] == want.0 && t["down_vote"] == want.1)
                        })
                        .await;
                    if shown.is_ok() {
                        freshness.lock().map(|mut f| f.push(acked.elapsed())).ok();
                    }
                }));
            }
        }));
    }
    drop(probe_tx);
    for t in tasks {
        t.await?;
    }
    let elapsed = start.elapsed();
    while let Some(probe) = probe_rx.recv().await {
        probes.push(probe);
    }
    for p in probes {
        p.await?;
    }
    client
        .eventually("/api/v1/health", Duration::from_secs(120), |a| {
            a.json()["outbox_backlog"] == 0 && a.json()["purges_owed"] == 0
        })
        .await?;
    let log = server.log_text();
    // Page requests that reached the Worker, less those of the freshness probes.
    let invocations =
        (page_requests(&log) - invocations_before).saturating_sub(poll_misses.load(Ordering::Relaxed) as usize);
    let purge_events = events(&log, "purge");
    let calls: i64 = purge_events[purges_before.len()..].iter().filter_map(|e| e["calls"].as_i64()).sum();
    let (reads, hits, writes) =
        (reads.load(Ordering::Relaxed), hits.load(Ordering::Relaxed), writes.load(Ordering::Relaxed));
    let mut fresh = freshness.lock().map(|f| f.clone()).unwrap_or_default();
    fresh.sort();

    // 3. Nothing stale once it drained.
    let verify = crowdfund_cli(&["verify", "--from", &server.url])?;
    let verdict = String::from_utf8_lossy(&verify.stdout).trim().to_owned();

    println!();
    println!("| measure | value |");
    println!("|---|---|");
    println!("| hello-world Worker GET (wrk) | {hello_rps:.0} req/s |");
    println!(
        "| crowdfund stored-page GET at the Worker | {worker_rps:.0} req/s = {:.2} × hello |",
        worker_rps / hello_rps
    );
    println!(
        "| the same page at the edge (hits) | {edge_rps:.0} req/s = **{:.0} × the Worker's GET**, {:.0} × hello |",
        edge_rps / worker_rps,
        edge_rps / hello_rps
    );
    println!(
        "| mixed load ({reads} reads, {writes} writes in {:.0} s) | hit ratio **{:.1} %**, {:.0} Worker invocations per 1,000 reads |",
        elapsed.as_secs_f64(),
        hits as f64 * 100.0 / reads.max(1) as f64,
        invocations as f64 * 1000.0 / reads.max(1) as f64
    );
    let show = |label: &str, f: &[Duration]| {
        println!(
            "| {label} | p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms ({} writes) |",
            percentile(f, 0.5).as_secs_f64() * 1e3,
            percentile(f, 0.99).as_secs_f64() * 1e3,
            f.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
            f.len()
        )
    };
    show("a write shown at the edge, light load (one every 3 s)", &light);
    show(
        &format!(
            "a write shown at the edge, during the mixed load ({:.1} writes/s)",
            writes as f64 / elapsed.as_secs_f64()
        ),
        &fresh,
    );
    println!(
        "| purge calls | {calls} in {:.0} s = {:.1} per minute |",
        elapsed.as_secs_f64(),
        calls as f64 * 60.0 / elapsed.as_secs_f64()
    );
    println!("| after the load drained | {verdict} |");
    if !verify.status.success() {
        bail!("stale pages at the edge after the load:\n{verdict}");
    }
    Ok(())
}
