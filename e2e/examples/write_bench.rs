//! The write-path benchmark (`make bench`): in one run, against `wrangler dev` on loopback,
//! 1. requests/s of a hello-world Worker (bench/hello) — the reference;
//! 2. requests/s of proposals, votes and stored-page GETs of crowdfund at the same concurrency,
//!    as ratios of the reference;
//! 3. freshness: time from a write's acknowledgement to its page showing it, p50/p99, while a
//!    steady load of votes and proposals runs;
//! 4. coalescing: writes per render during the vote load (from the consumer's log).
//!
//! Bounded in time and request count; prints a Markdown table for docs/BENCHMARKS.md.
//! Settings: BENCH_SECONDS (per load phase, default 8), BENCH_CONCURRENCY (default 8).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use crowdfund_e2e::{unique, Client, Options, Server};
use serde_json::{json, Value};

const MAX_REQUESTS_PER_PHASE: u64 = 200_000;

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

/// Vote number `i` of a load: voters take turns, each alternating direction, so every vote
/// moves a count and is a real write.
async fn vote(c: &Client, tokens: &[String], thread: i64, i: u64) -> Result<bool> {
    let token = &tokens[(i % tokens.len() as u64) as usize];
    let direction = if (i / tokens.len() as u64).is_multiple_of(2) { "up" } else { "down" };
    let req = c
        .request(reqwest::Method::POST, &format!("/api/v1/threads/{thread}/vote"))
        .bearer_auth(token)
        .json(&json!({ "direction": direction }));
    Ok(c.send(req).await?.status == 200)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn publishes(log: &str) -> (i64, i64) {
    log.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l.trim()).ok())
        .filter(|v| v["event"] == "publish")
        .fold((0, 0), |(n, c), v| (n + 1, c + v["changes"].as_i64().unwrap_or(0)))
}

#[tokio::main]
async fn main() -> Result<()> {
    let seconds = setting("BENCH_SECONDS", 8);
    let concurrency = setting("BENCH_CONCURRENCY", 8);
    println!("write bench: {seconds} s per phase, concurrency {concurrency}, wrangler dev on 127.0.0.1");

    // 1. The reference.
    let hello = Server::start_with(Options { config: Some("bench/hello/wrangler.toml".into()), ..Options::default() })?;
    let client = hello.client();
    let hello_rps = load(concurrency, seconds, move |_| {
        let client = client.clone();
        async move { Ok(client.get("/").await?.status == 200) }
    })
    .await?;
    drop(hello);

    // 2. crowdfund.
    // Rate limits would cap a load from one address; the benchmark measures the write path.
    let server =
        Server::start_with(Options { vars: vec![("RATE_LIMITS".into(), "off".into())], ..Options::default() })?;
    let client = server.client();
    let project =
        client.propose(&json!({"project_name": unique("Bench"), "tagline": "bench", "problems": ["p"]})).await?;
    let thread = client.first_thread(project).await?;
    let mut tokens = Vec::new();
    for _ in 0..64 {
        tokens.push(Client::new(&server.url).become_voter().await?);
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

    let (publishes_before, changes_before) = publishes(&server.log_text());
    let (c, t) = (client.clone(), tokens.clone());
    let vote_rps = load(concurrency, seconds, move |i| {
        let (c, t) = (c.clone(), t.clone());
        async move { vote(&c, &t, thread, i).await }
    })
    .await?;
    client
        .eventually("/api/v1/health", Duration::from_secs(60), |a| a.json()["outbox_backlog"].as_i64() == Some(0))
        .await?;
    let log = server.wait_for_log(Duration::from_secs(30), |log| publishes(log).0 > publishes_before)?;
    let (publishes_after, changes_after) = publishes(&log);
    let vote_renders = publishes_after - publishes_before;
    let writes_per_render = (changes_after - changes_before) as f64 / vote_renders.max(1) as f64;

    // The Worker's own stored-page GET, past the edge (edge_bench measures the edge's hits).
    let c = Client::new(&server.worker_url);
    let page = format!("/projects/{project}/");
    let get_rps = load(concurrency, seconds, move |_| {
        let (c, page) = (c.clone(), page.clone());
        async move { Ok(c.get(&page).await?.status == 200) }
    })
    .await?;

    // 3. Freshness under a steady load (half the concurrency), probed by one writer.
    let (c, t) = (client.clone(), tokens.clone());
    let background = tokio::spawn(load((concurrency / 2).max(1), seconds * 2, move |i| {
        let (c, t) = (c.clone(), t.clone());
        async move {
            if i % 10 == 0 {
                let body = json!({"project_name": format!("{} {i}", unique("Steady")), "tagline": "steady"});
                return Ok(c.post("/api/v1/projects", &body).await?.status == 201);
            }
            vote(&c, &t, thread, i).await
        }
    }));
    let probe_project =
        client.propose(&json!({"project_name": unique("Probe"), "tagline": "probe", "problems": ["p"]})).await?;
    let probe_thread = client.first_thread(probe_project).await?;
    let prober = Client::new(&server.url);
    prober.become_voter().await?;
    let mut latencies = Vec::new();
    let probe_deadline = Instant::now() + Duration::from_secs(seconds * 2);
    let mut up = true;
    while Instant::now() < probe_deadline {
        let direction = if up { "up" } else { "down" };
        let answer =
            prober.post(&format!("/api/v1/threads/{probe_thread}/vote"), &json!({ "direction": direction })).await?;
        let acked = Instant::now();
        let expected = (answer.json()["up_vote"].clone(), answer.json()["down_vote"].clone());
        prober
            .eventually(&format!("/projects/{probe_project}"), Duration::from_secs(60), |a| {
                a.is_stored()
                    && a.json()["threads"][0]["up_vote"] == expected.0
                    && a.json()["threads"][0]["down_vote"] == expected.1
            })
            .await?;
        latencies.push(acked.elapsed());
        up = !up;
    }
    let steady_rps = background.await??;
    latencies.sort();

    println!();
    println!("| measure | value |");
    println!("|---|---|");
    println!("| hello-world Worker GET | {hello_rps:.0} req/s (reference) |");
    println!("| propose (POST /api/v1/projects) | {propose_rps:.0} req/s = {:.2} × hello |", propose_rps / hello_rps);
    println!("| vote (POST /api/v1/threads/{{id}}/vote) | {vote_rps:.0} req/s = {:.2} × hello |", vote_rps / hello_rps);
    println!("| stored page GET | {get_rps:.0} req/s = {:.2} × hello |", get_rps / hello_rps);
    println!("| vote burst coalescing | {writes_per_render:.1} writes per render ({} renders) |", vote_renders);
    println!(
        "| freshness under {steady_rps:.0} writes/s | p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms ({} probes) |",
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
        latencies.len()
    );
    Ok(())
}
