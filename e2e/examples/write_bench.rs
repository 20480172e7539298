//! The write-path benchmark (`make bench`): in one run, against `wrangler dev` on loopback,
//! 1. a hello-world Worker (bench/hello): the runtime's floor, the reference for GETs;
//! 2. the same-work reference (bench/reference): the D1 statements and queue send of a
//!    proposal and of a vote from plain JS, the reference for writes, and an R2 page read;
//! 3. GETs side by side: hello-world, the reference's R2 read and crowdfund's stored-page GET
//!    on a fresh site, measured in turns (GET_ROUNDS each) so that the machine's load weighs
//!    on all three alike;
//! 4. crowdfund's proposals and votes with the Worker alone (its queue has no consumer, as the
//!    reference's has none), at the default LOG_LEVEL=info and at warn (no log line a write,
//!    as the reference writes none), then with its consumer rendering in the same process
//!    (the site as `make dev` runs it);
//! 5. freshness: from a write's acknowledgement to its published page showing it, p50/p99,
//!    at light load (BENCH_LIGHT_RATE writes/s) and under a sustained load, with writes per
//!    render in each (from the consumer's log);
//! 6. the request Worker's wasm, gzipped (the one a request pays for at a cold start);
//! 7. a profile: proposals, votes and stored-page GETs one at a time (no concurrency), the
//!    references' latency against crowdfund's, and crowdfund's split by its `TIMINGS=on` log
//!    into the time spent waiting on D1, R2 and the queue (the platform's) and the rest (the
//!    runtime's and ours, the `timings` line's own `console.log` included).
//!
//! Bounded in time and request count; prints a Markdown table for docs/BENCHMARKS.md.
//! Settings: BENCH_SECONDS (per load phase, default 8), BENCH_CONCURRENCY (default 8),
//! BENCH_LIGHT_RATE (default 10), BENCH_PROFILE_REQUESTS (per kind, default 100).

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use crowdfund_e2e::{dev_var, repo_root, unique, wrangler, Client, Options, Server, TempDir};
use serde_json::{json, Value};

const MAX_REQUESTS_PER_PHASE: u64 = 200_000;
/// Turns of each GET measured side by side.
const GET_ROUNDS: u64 = 2;
/// The targets of issue 16, as ratios measured in this run.
const WRITE_TARGET: f64 = 0.7;
const GET_TARGET: f64 = 0.7;
const WASM_TARGET_BYTES: u64 = 300_000;
const LIGHT_P99_TARGET_MS: f64 = 500.0;
const SUSTAINED_COALESCING_TARGET: f64 = 50.0;

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Runs `make_request` from `concurrency` tasks for `seconds`; returns successful requests/s.
async fn load<F, Fut>(concurrency: u64, seconds: u64, make_request: F) -> Result<f64>
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<bool>> + Send,
{
    let make_request = Arc::new(make_request);
    let counter = Arc::new(AtomicU64::new(0));
    let ok = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (make_request, counter, ok) = (make_request.clone(), counter.clone(), ok.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let i = counter.fetch_add(1, Ordering::Relaxed);
                if i >= MAX_REQUESTS_PER_PHASE {
                    break;
                }
                if make_request(i).await.unwrap_or(false) {
                    ok.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    Ok(ok.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64())
}

/// Runs `make_request` at a fixed `rate` per second for `seconds` (each request in its own
/// task, so a slow answer does not hold up the schedule); returns successful requests/s.
async fn paced<F, Fut>(rate: u64, seconds: u64, make_request: F) -> Result<f64>
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<bool>> + Send + 'static,
{
    let make_request = Arc::new(make_request);
    let ok = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / rate.max(1) as f64));
    let mut tasks = Vec::new();
    for i in 0..rate * seconds {
        ticks.tick().await;
        let (make_request, ok) = (make_request.clone(), ok.clone());
        tasks.push(tokio::spawn(async move {
            if make_request(i).await.unwrap_or(false) {
                ok.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    Ok(ok.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64())
}

/// Vote number `i` of a load: voters take turns, each alternating direction, so every vote
/// moves a count and is a real write.
async fn vote(c: &Client, tokens: &[String], thread: i64, i: u64) -> Result<bool> {
    let token = &tokens[(i % tokens.len() as u64) as usize];
    let req = c
        .request(reqwest::Method::POST, &format!("/api/v1/threads/{thread}/vote"))
        .bearer_auth(token)
        .json(&json!({ "direction": direction(tokens.len(), i) }));
    Ok(c.send(req).await?.status == 200)
}

fn direction(voters: usize, i: u64) -> &'static str {
    if (i / voters as u64).is_multiple_of(2) {
        "up"
    } else {
        "down"
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// (publishes, changes) in the consumer's log so far.
fn publishes(log: &str) -> (i64, i64) {
    log.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l.trim()).ok())
        .filter(|v| v["event"] == "publish")
        .fold((0, 0), |(n, c), v| (n + 1, c + v["changes"].as_i64().unwrap_or(0)))
}

/// Writes per render between two readings of `publishes`.
fn per_render(before: (i64, i64), after: (i64, i64)) -> (f64, i64) {
    let renders = after.0 - before.0;
    ((after.1 - before.1) as f64 / renders.max(1) as f64, renders)
}

/// Applies the migrations to a fresh local state for a Worker config (relative to the root).
fn migrate(config: &str, state: &Path) -> Result<()> {
    let out = wrangler()
        .args(["d1", "migrations", "apply", "crowdfund", "--local", "--config", config, "--persist-to"])
        .arg(state)
        .stdin(Stdio::null())
        .output()
        .context("wrangler d1 migrations apply")?;
    if !out.status.success() {
        bail!("migrations for {config}: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}

/// crowdfund's wrangler.toml without its queue consumers, crons, build step and environments,
/// written beside the other benchmark data: the Worker alone, as the reference runs (its queue
/// renamed, so that no other dev session's consumer takes the messages).
fn producer_only_config() -> Result<String> {
    let root = repo_root();
    let text = std::fs::read_to_string(root.join("wrangler.toml"))?;
    let mut out = String::new();
    let mut skip = false;
    for line in text.lines() {
        if line.starts_with('[') {
            // No consumer, and no publisher to bind to (a binding left waiting for a Worker
            // that never starts costs wrangler dev time on every request).
            skip = line.starts_with("[[queues.consumers]]")
                || line.starts_with("[[services]]")
                || line.starts_with("[build]")
                || line.starts_with("[triggers]")
                || line.starts_with("[env.");
        }
        if !skip {
            // A queue of its own: wrangler dev forwards messages for a queue without a local
            // consumer to any other dev session that consumes a queue of that name.
            let line = line
                .replace("main = \"worker/", "main = \"../../worker/")
                .replace("migrations_dir = \"data/", "migrations_dir = \"../../data/")
                .replace(
                    "queue = \"crowdfund-changes\"",
                    &format!("queue = \"crowdfund-bench-{}-changes\"", std::process::id()),
                );
            out.push_str(&line);
            out.push('\n');
        }
    }
    let dir = root.join("target/bench");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("wrangler-producer-only.toml"), out)?;
    Ok("target/bench/wrangler-producer-only.toml".into())
}

/// Starts a bare `wrangler dev` of `config` over freshly migrated state.
fn start_migrated(config: &str, vars: Vec<(String, String)>) -> Result<(Server, TempDir)> {
    let tmp = TempDir::new("crowdfund-bench")?;
    let state = tmp.0.join("state");
    migrate(config, &state)?;
    // crowdfund's request Worker alone answers `/` only through its publisher.
    let ready_path = config.contains("producer-only").then(|| "/api/v1/health".to_owned());
    let server = Server::start_with(Options {
        config: Some(config.into()),
        state: Some(state),
        vars,
        ready_path,
        ..Options::default()
    })?;
    Ok((server, tmp))
}

/// Proposals and votes against crowdfund's API at `client`: (propose/s, vote/s).
async fn crowdfund_writes(client: &Client, url: &str, concurrency: u64, seconds: u64) -> Result<(f64, f64, i64)> {
    let project =
        client.propose(&json!({"project_name": unique("Bench"), "tagline": "bench", "problems": ["p"]})).await?;
    let thread = client.first_thread(project).await?;
    let mut tokens = Vec::new();
    for _ in 0..64 {
        tokens.push(Client::new(url).become_voter().await?);
    }
    let tokens = Arc::new(tokens);
    let c = client.clone();
    let propose_rps = load(concurrency, seconds, move |i| {
        let c = c.clone();
        async move {
            let body = json!({"project_name": format!("{} {i}", unique("Load")), "tagline": "load", "tags": ["load"], "problems": ["p"]});
            Ok(c.post("/api/v1/projects", &body).await?.status == 201)
        }
    })
    .await?;
    let (c, t) = (client.clone(), tokens.clone());
    let vote_rps = load(concurrency, seconds, move |i| {
        let (c, t) = (c.clone(), t.clone());
        async move { vote(&c, &t, thread, i).await }
    })
    .await?;
    Ok((propose_rps, vote_rps, project))
}

/// Votes on a probe thread of its own, one at a time, each polled until its published page
/// (the stored object, read from the Worker past the edge: the edge follows within the purge
/// budget, which edge_bench measures) shows it, every 10 ms, for `seconds`; returns the sorted
/// latencies. A vote starts at most every `every` (so the probe's own rate is bounded).
async fn probe(server: &Server, seconds: u64, every: Duration) -> Result<Vec<Duration>> {
    let client = server.client();
    let project =
        client.propose(&json!({"project_name": unique("Probe"), "tagline": "probe", "problems": ["p"]})).await?;
    let thread = client.first_thread(project).await?;
    let path = format!("/projects/{project}");
    let published = Client::new(&server.worker_url);
    published.eventually(&path, Duration::from_secs(60), |a| a.is_stored()).await?;
    let prober = Client::new(&server.url);
    prober.become_voter().await?;
    let mut latencies = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut up = true;
    while Instant::now() < deadline {
        let started = Instant::now();
        let answer = prober
            .post(&format!("/api/v1/threads/{thread}/vote"), &json!({ "direction": if up { "up" } else { "down" } }))
            .await?;
        let acked = Instant::now();
        let expected = (answer.json()["up_vote"].clone(), answer.json()["down_vote"].clone());
        loop {
            let a = published.get(&path).await?;
            if a.is_stored()
                && a.json()["threads"][0]["up_vote"] == expected.0
                && a.json()["threads"][0]["down_vote"] == expected.1
            {
                break;
            }
            if acked.elapsed() > Duration::from_secs(60) {
                bail!("the probe's vote did not show within 60 s");
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        latencies.push(acked.elapsed());
        up = !up;
        tokio::time::sleep(every.saturating_sub(started.elapsed())).await;
    }
    latencies.sort();
    Ok(latencies)
}

/// Runs `n` requests one after another; returns each one's latency, sorted.
async fn sequential<F, Fut>(n: u64, make_request: F) -> Result<Vec<Duration>>
where
    F: Fn(u64) -> Fut,
    Fut: std::future::Future<Output = Result<bool>>,
{
    let mut latencies = Vec::new();
    for i in 0..n {
        let start = Instant::now();
        if !make_request(i).await? {
            bail!("request {i} of the profile failed");
        }
        latencies.push(start.elapsed());
    }
    latencies.sort();
    Ok(latencies)
}

fn mean_ms(latencies: &[Duration]) -> f64 {
    latencies.iter().map(|d| ms(*d)).sum::<f64>() / latencies.len().max(1) as f64
}

/// The mean `timings` figures of the last `n` requests whose `what` starts with `prefix`:
/// (D1, D1 calls, R2, queue) in ms.
fn timings(log: &str, prefix: &str, n: u64) -> (f64, f64, f64, f64) {
    let mut lines: Vec<Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l.trim()).ok())
        .filter(|v| v["event"] == "timings" && v["what"].as_str().is_some_and(|w| w.starts_with(prefix)))
        .collect();
    lines.drain(..lines.len().saturating_sub(n as usize));
    let n = lines.len().max(1) as f64;
    let mean = |f: &dyn Fn(&Value) -> f64| lines.iter().map(f).sum::<f64>() / n;
    (
        mean(&|v| v["d1"]["ms"].as_f64().unwrap_or(0.0)),
        mean(&|v| v["d1"]["calls"].as_f64().unwrap_or(0.0)),
        mean(&|v| v["r2"]["ms"].as_f64().unwrap_or(0.0)),
        mean(&|v| v["queue"]["ms"].as_f64().unwrap_or(0.0)),
    )
}

/// The request Worker's wasm, gzipped (`gzip -9`, as scripts/wasm-size.sh measures it).
fn wasm_gzipped() -> Result<u64> {
    let out = Command::new("sh")
        .args(["-c", "gzip -9c worker/build/index_bg.wasm | wc -c"])
        .current_dir(repo_root())
        .output()
        .context("gzip")?;
    String::from_utf8_lossy(&out.stdout).trim().parse().context("gzip's byte count")
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "NOT met"
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let seconds = setting("BENCH_SECONDS", 8);
    let concurrency = setting("BENCH_CONCURRENCY", 8);
    let light_rate = setting("BENCH_LIGHT_RATE", 10);
    let profile_requests = setting("BENCH_PROFILE_REQUESTS", 100);
    println!("write bench: {seconds} s per phase, concurrency {concurrency}, wrangler dev on 127.0.0.1");

    // 1. The runtime's floor.
    let hello = Server::start_with(Options { config: Some("bench/hello/wrangler.toml".into()), ..Options::default() })?;
    let client = hello.client();
    let hello_latency = sequential(profile_requests, move |_| {
        let client = client.clone();
        async move { Ok(client.get("/").await?.status == 200) }
    })
    .await?;

    // 2. The same work from plain JS.
    let (reference, _state) = start_migrated("bench/reference/wrangler.toml", Vec::new())?;
    let c = reference.client();
    let setup = c.post("/propose", &json!({"project_name": unique("Ref"), "tagline": "t", "problems": ["p"]})).await?;
    let ref_project = setup.json()["project_id"].as_i64().context("the reference's proposal")?;
    let ref_thread = c.get(&format!("/first-thread/{ref_project}")).await?.json()["thread_id"]
        .as_i64()
        .context("the reference's thread")?;
    let cc = c.clone();
    let ref_propose_rps = load(concurrency, seconds, move |i| {
        let c = cc.clone();
        async move {
            let body = json!({"project_name": format!("{} {i}", unique("Load")), "tagline": "load", "tags": ["load"], "problems": ["p"]});
            Ok(c.post("/propose", &body).await?.status == 201)
        }
    })
    .await?;
    let cc = c.clone();
    let ref_vote_rps = load(concurrency, seconds, move |i| {
        let c = cc.clone();
        async move {
            let body = json!({"direction": direction(64, i), "voter": format!("voter-{}", i % 64)});
            Ok(c.post(&format!("/threads/{ref_thread}/vote"), &body).await?.status == 200)
        }
    })
    .await?;
    let cc = c.clone();
    let ref_vote_latency = sequential(profile_requests, move |i| {
        let c = cc.clone();
        async move {
            let body = json!({"direction": direction(1, i), "voter": "profile"});
            Ok(c.post(&format!("/threads/{ref_thread}/vote"), &body).await?.status == 200)
        }
    })
    .await?;
    let cc = c.clone();
    let ref_propose_latency = sequential(profile_requests, move |i| {
        let c = cc.clone();
        async move {
            let body = json!({"project_name": format!("{} {i}", unique("Profile")), "tagline": "load", "tags": ["load"], "problems": ["p"]});
            Ok(c.post("/propose", &body).await?.status == 201)
        }
    })
    .await?;
    // A stored page of a detail page's size, read from R2 as crowdfund's GET route reads one.
    let page_body = format!("<!DOCTYPE html>{}", "<p>a thread of the discussion</p>\n".repeat(400));
    let put = c.request(reqwest::Method::PUT, "/pages/projects/1/index.html").body(page_body);
    if c.send(put).await?.status != 204 {
        bail!("the reference did not store its page");
    }
    let ref_get_latency = sequential(profile_requests, move |_| {
        let c = c.clone();
        async move { Ok(c.get("/pages/projects/1/index.html").await?.status == 200) }
    })
    .await?;

    // 3. GETs side by side: hello-world, the reference's R2 read and crowdfund's stored page on a
    // fresh site, in turns (GET_ROUNDS of each), so that a change in the machine's load
    // between phases weighs on all three alike.
    let site = Server::start_with(Options { vars: vec![("RATE_LIMITS".into(), "off".into())], ..Options::default() })?;
    let project =
        site.client().propose(&json!({"project_name": unique("Stored"), "tagline": "t", "problems": ["p"]})).await?;
    let page = format!("/projects/{project}/");
    Client::new(&site.worker_url).eventually(&page, Duration::from_secs(60), |a| a.is_stored()).await?;
    let targets = [
        (hello.url.clone(), "/".to_owned()),
        (reference.url.clone(), "/pages/projects/1/index.html".to_owned()),
        (site.worker_url.clone(), page),
    ];
    let mut get_rps_of = [0.0_f64; 3];
    for _ in 0..GET_ROUNDS {
        for (i, (url, path)) in targets.iter().enumerate() {
            let (c, path) = (Client::new(url), path.clone());
            get_rps_of[i] += load(concurrency, seconds, move |_| {
                let (c, path) = (c.clone(), path.clone());
                async move { Ok(c.get(&path).await?.status == 200) }
            })
            .await?
                / GET_ROUNDS as f64;
        }
    }
    let [hello_rps, ref_get_rps, get_rps] = get_rps_of;
    drop((hello, reference, site));

    // 4a. crowdfund's Worker alone (no consumer), rate limits off: one client address would
    // hit them.
    let mut vars = vec![("RATE_LIMITS".to_owned(), "off".to_owned())];
    for secret in ["VOTER_SECRET", "ADMIN_TOKEN"] {
        vars.push((secret.into(), dev_var(secret)?));
    }
    let config = producer_only_config()?;
    let (alone, _state) = start_migrated(&config, vars.clone())?;
    let (propose_rps, vote_rps, _) = crowdfund_writes(&alone.client(), &alone.url, concurrency, seconds).await?;
    drop(alone);
    // The same at LOG_LEVEL=warn: no request line per write (the reference logs nothing).
    let mut quiet_vars = vars.clone();
    quiet_vars.push(("LOG_LEVEL".into(), "warn".into()));
    let (quiet, _state) = start_migrated(&config, quiet_vars)?;
    let (quiet_propose_rps, quiet_vote_rps, _) =
        crowdfund_writes(&quiet.client(), &quiet.url, concurrency, seconds).await?;
    drop(quiet);

    // 7. The profile: the same Worker alone, timing its waits on the platform.
    vars.push(("TIMINGS".into(), "on".into()));
    let (profiled, _state) = start_migrated(&config, vars)?;
    let c = profiled.client();
    let project = c.propose(&json!({"project_name": unique("Profile"), "tagline": "t", "problems": ["p"]})).await?;
    let thread = c.first_thread(project).await?;
    let token = Arc::new(vec![Client::new(&profiled.url).become_voter().await?]);
    let cc = c.clone();
    let vote_latency = sequential(profile_requests, move |i| {
        let (c, t) = (cc.clone(), token.clone());
        async move { vote(&c, &t, thread, i).await }
    })
    .await?;
    let cc = c.clone();
    let propose_latency = sequential(profile_requests, move |i| {
        let c = cc.clone();
        async move {
            let body = json!({"project_name": format!("{} {i}", unique("Profile")), "tagline": "load", "tags": ["load"], "problems": ["p"]});
            Ok(c.post("/api/v1/projects", &body).await?.status == 201)
        }
    })
    .await?;
    let log = profiled.log_text();
    let propose_timings = timings(&log, "POST /api/v1/projects", profile_requests);
    let vote_timings = timings(&log, "POST /api/v1/threads/", profile_requests);
    drop(profiled);

    // 4b. The site as make dev runs it: the consumer renders in the same workerd process.
    let server =
        Server::start_with(Options { vars: vec![("RATE_LIMITS".into(), "off".into())], ..Options::default() })?;
    let client = server.client();
    let before = publishes(&server.log_text());
    let (site_propose_rps, site_vote_rps, _) = crowdfund_writes(&client, &server.url, concurrency, seconds).await?;
    client
        .eventually("/api/v1/health", Duration::from_secs(120), |a| a.json()["outbox_backlog"].as_i64() == Some(0))
        .await?;
    let (burst_per_render, burst_renders) = per_render(before, publishes(&server.log_text()));

    // 5. Freshness. Light: half the rate from paced voters, half from the probe (a vote every
    // 2 / rate seconds at most).
    let project2 =
        client.propose(&json!({"project_name": unique("Light"), "tagline": "light", "problems": ["p"]})).await?;
    let thread2 = client.first_thread(project2).await?;
    let mut tokens = Vec::new();
    for _ in 0..32 {
        tokens.push(Client::new(&server.url).become_voter().await?);
    }
    let tokens = Arc::new(tokens);
    let before = publishes(&server.log_text());
    let (c, t) = (client.clone(), tokens.clone());
    let background = tokio::spawn(paced((light_rate / 2).max(1), seconds * 2, move |i| {
        let (c, t) = (c.clone(), t.clone());
        async move { vote(&c, &t, thread2, i).await }
    }));
    let light = probe(&server, seconds * 2, Duration::from_secs_f64(2.0 / light_rate.max(1) as f64)).await?;
    let light_rps = background.await?? + light.len() as f64 / (seconds * 2) as f64;
    let (light_per_render, light_renders) = per_render(before, publishes(&server.log_text()));

    // Sustained: votes (and a proposal in ten) from `concurrency` writers.
    let before = publishes(&server.log_text());
    let (c, t) = (client.clone(), tokens.clone());
    let background = tokio::spawn(load(concurrency, seconds * 2, move |i| {
        let (c, t) = (c.clone(), t.clone());
        async move {
            if i % 10 == 0 {
                let body = json!({"project_name": format!("{} {i}", unique("Steady")), "tagline": "steady"});
                return Ok(c.post("/api/v1/projects", &body).await?.status == 201);
            }
            vote(&c, &t, thread2, i).await
        }
    }));
    let sustained = probe(&server, seconds * 2, Duration::ZERO).await?;
    let sustained_rps = background.await??;
    let (sustained_per_render, sustained_renders) = per_render(before, publishes(&server.log_text()));
    drop(server);

    // 7. The GET's profile: the site again, timing its waits, one stored-page read at a time.
    let vars = vec![("RATE_LIMITS".to_owned(), "off".to_owned()), ("TIMINGS".to_owned(), "on".to_owned())];
    let server = Server::start_with(Options { vars, ..Options::default() })?;
    let project =
        server.client().propose(&json!({"project_name": unique("Profile"), "tagline": "t", "problems": ["p"]})).await?;
    let c = Client::new(&server.worker_url);
    let page = format!("/projects/{project}/");
    c.eventually(&page, Duration::from_secs(60), |a| a.is_stored()).await?;
    let get_latency = sequential(profile_requests, move |_| {
        let (c, page) = (c.clone(), page.clone());
        async move { Ok(c.get(&page).await?.is_stored()) }
    })
    .await?;
    let get_timings = timings(&server.log_text(), "GET /projects/", profile_requests);
    drop(server);

    // 6. Bytes.
    let wasm = wasm_gzipped()?;

    let propose_ratio = propose_rps / ref_propose_rps;
    let vote_ratio = vote_rps / ref_vote_rps;
    let (quiet_propose_ratio, quiet_vote_ratio) = (quiet_propose_rps / ref_propose_rps, quiet_vote_rps / ref_vote_rps);
    let get_ratio = get_rps / hello_rps;
    println!();
    println!("| measure | value |");
    println!("|---|---|");
    println!("| hello-world Worker GET | {hello_rps:.0} req/s |");
    println!("| same-work reference: propose | {ref_propose_rps:.0} req/s |");
    println!("| same-work reference: vote | {ref_vote_rps:.0} req/s |");
    println!("| crowdfund propose, Worker alone | {propose_rps:.0} req/s = **{propose_ratio:.2} × reference** |");
    println!("| crowdfund vote, Worker alone | {vote_rps:.0} req/s = **{vote_ratio:.2} × reference** |");
    println!(
        "| the same at LOG_LEVEL=warn (no log line a write, as the reference) | propose {quiet_propose_rps:.0} / vote {quiet_vote_rps:.0} req/s = **{quiet_propose_ratio:.2} / {quiet_vote_ratio:.2} × reference** |"
    );
    println!(
        "| crowdfund propose / vote, consumer rendering in the same process | {site_propose_rps:.0} / {site_vote_rps:.0} req/s = {:.2} / {:.2} × reference |",
        site_propose_rps / ref_propose_rps,
        site_vote_rps / ref_vote_rps
    );
    println!(
        "| same-work reference: an R2 page read | {ref_get_rps:.0} req/s = {:.2} × hello |",
        ref_get_rps / hello_rps
    );
    println!(
        "| crowdfund stored-page GET (a fresh site's Worker, past the edge; the three GETs in turns, {GET_ROUNDS} each) | {get_rps:.0} req/s = **{get_ratio:.2} × hello**, {:.2} × the R2 read |",
        get_rps / ref_get_rps
    );
    println!("| writes per render, propose + vote burst | {burst_per_render:.1} ({burst_renders} renders) |");
    println!(
        "| freshness at light load ({light_rps:.1} writes/s) | p50 {:.0} ms, **p99 {:.0} ms**, max {:.0} ms ({} probes); {light_per_render:.1} writes per render ({light_renders} renders) |",
        ms(percentile(&light, 0.5)),
        ms(percentile(&light, 0.99)),
        ms(light.last().copied().unwrap_or_default()),
        light.len()
    );
    println!(
        "| freshness under sustained load ({sustained_rps:.0} writes/s) | p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms ({} probes); **{sustained_per_render:.1} writes per render** ({sustained_renders} renders) |",
        ms(percentile(&sustained, 0.5)),
        ms(percentile(&sustained, 0.99)),
        ms(sustained.last().copied().unwrap_or_default()),
        sustained.len()
    );
    println!("| the request Worker's wasm, gzip -9 | {wasm} bytes ({:.0} KiB) |", wasm as f64 / 1024.0);
    println!();
    println!("profile, one request at a time ({profile_requests} each; crowdfund's waits from its TIMINGS=on log):");
    println!();
    println!("| request | reference: mean latency | crowdfund: mean latency | crowdfund waiting on D1 | on R2 | on the queue | the rest (runtime, wasm, ours; the timings line too) | crowdfund − reference |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    println!("| hello-world GET (no I/O) | {:.2} ms | | | | | | |", mean_ms(&hello_latency));
    for (name, reference, ours, (d1, d1_calls, r2, queue)) in [
        ("propose", &ref_propose_latency, &propose_latency, propose_timings),
        ("vote", &ref_vote_latency, &vote_latency, vote_timings),
        ("stored-page GET (reference: the R2 read)", &ref_get_latency, &get_latency, get_timings),
    ] {
        let (r, o) = (mean_ms(reference), mean_ms(ours));
        println!(
            "| {name} | {r:.2} ms | {o:.2} ms | {d1:.2} ms ({d1_calls:.0} round trips) | {r2:.2} ms | {queue:.2} ms | {:.2} ms | {:+.2} ms |",
            o - d1 - r2 - queue,
            o - r
        );
    }
    println!();
    println!("targets (issue 16):");
    for (name, info, warn) in [("propose", propose_ratio, quiet_propose_ratio), ("vote", vote_ratio, quiet_vote_ratio)]
    {
        println!(
            "  {name} >= {WRITE_TARGET}x the reference: {info:.2}x at LOG_LEVEL=info, {}; {warn:.2}x at warn, {}",
            verdict(info >= WRITE_TARGET),
            verdict(warn >= WRITE_TARGET)
        );
    }
    println!("  stored-page GET >= {GET_TARGET}x hello-world: {:.2}x, {}", get_ratio, verdict(get_ratio >= GET_TARGET));
    println!("  wasm <= {WASM_TARGET_BYTES} bytes gzipped: {wasm}, {}", verdict(wasm <= WASM_TARGET_BYTES));
    let light_p99 = ms(percentile(&light, 0.99));
    println!(
        "  light-load freshness p99 <= {LIGHT_P99_TARGET_MS} ms: {light_p99:.0} ms, {}",
        verdict(light_p99 <= LIGHT_P99_TARGET_MS)
    );
    println!(
        "  sustained load >= {SUSTAINED_COALESCING_TARGET} writes per render: {sustained_per_render:.1}, {}",
        verdict(sustained_per_render >= SUSTAINED_COALESCING_TARGET)
    );
    Ok(())
}
