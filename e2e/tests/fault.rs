//! Crash safety on the local default: under a steady write load, the whole server tree (Worker,
//! its queue, and the cron driver `make dev` runs) is killed with SIGKILL and started again on
//! the same state, as a user restarting `make dev` after a crash would. Then every acknowledged
//! proposal must be in D1, every acknowledged vote counted exactly once, and the pages must
//! converge to the data (`crowdfund verify` clean) with nothing triggered by hand: only the cron
//! driver's run at start re-drives what the kill lost.
//!
//! The bound: the re-drive threshold (1 s here, 30 s by default) plus one cron period (60 s)
//! plus a publish; the driver's run at start usually makes it the first few seconds.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crowdfund_e2e::{crowdfund_cli, dev_var, unique, Client, Options, Server, TempDir};
use serde_json::{json, Value};

/// How long the restarted site may take to converge: threshold + cron period + publish.
const CONVERGENCE_BOUND: Duration = Duration::from_secs(1 + 60 + 30);

/// Both starts share the state and the site's URL, as `make dev` restarted on its port would:
/// pages published before the crash are not re-rendered after it, so a URL that followed the
/// fresh ports would differ in every page's links.
fn options(state: &std::path::Path) -> Options {
    Options {
        vars: vec![("REDRIVE_AFTER_MS".into(), "1000".into()), ("SITE_URL".into(), "http://127.0.0.1:8787".into())],
        state: Some(state.to_path_buf()),
        ..Options::default()
    }
}

/// What one voter knows of its votes: the last acknowledged direction, and the one in flight
/// when the server died (it may or may not have committed).
#[derive(Clone, Default, Debug)]
struct VoterLog {
    thread: i64,
    acked: Option<&'static str>,
    in_flight: Option<&'static str>,
}

#[tokio::test]
async fn acknowledged_writes_survive_a_sigkill_and_pages_converge() -> anyhow::Result<()> {
    let dir = TempDir::new("crowdfund-fault")?;
    let state = dir.0.join("state");
    let mut server = Server::start_with(options(&state))?;
    let client = server.client();
    // One thread per voter, so each thread's totals show exactly what its voter did.
    let seed = client
        .propose(&json!({"project_name": unique("Fault seed"), "tagline": "t", "problems": ["p1", "p2"]}))
        .await?;
    let threads: Vec<i64> = client.get(&format!("/api/v1/projects/{seed}/threads")).await?.json()["threads"]
        .as_array()
        .map(|ts| ts.iter().filter_map(|t| t["thread_id"].as_i64()).collect())
        .unwrap_or_default();
    assert_eq!(threads.len(), 2);

    // Steady load: two proposers and two voters record what was acknowledged.
    let acked_projects: Arc<Mutex<Vec<(i64, String)>>> = Arc::default();
    let voters: Vec<Arc<Mutex<VoterLog>>> =
        threads.iter().map(|t| Arc::new(Mutex::new(VoterLog { thread: *t, ..VoterLog::default() }))).collect();
    let mut tasks = Vec::new();
    for worker in 0..2 {
        let (url, projects) = (server.url.clone(), acked_projects.clone());
        tasks.push(tokio::spawn(async move {
            let client = Client::new(&url);
            for i in 0..400 {
                let name = unique(&format!("Fault {worker} {i}"));
                let body = json!({"project_name": name, "tagline": "under load", "tags": ["fault"], "problems": ["p"]});
                match client.post("/api/v1/projects", &body).await {
                    Ok(a) if a.status == 201 => {
                        let id = a.json()["project_id"].as_i64().unwrap_or(0);
                        projects.lock().map(|mut p| p.push((id, name))).ok();
                    }
                    _ => break, // the server is gone
                }
            }
        }));
    }
    for log in &voters {
        let (url, log) = (server.url.clone(), log.clone());
        tasks.push(tokio::spawn(async move {
            let client = Client::new(&url);
            if client.become_voter().await.is_err() {
                return;
            }
            let thread = log.lock().map(|l| l.thread).unwrap_or(0);
            for i in 0..400 {
                let direction = if i % 2 == 0 { "up" } else { "down" };
                log.lock().map(|mut l| l.in_flight = Some(direction)).ok();
                match client.post(&format!("/api/v1/threads/{thread}/vote"), &json!({ "direction": direction })).await {
                    Ok(a) if a.status == 200 => {
                        log.lock().map(|mut l| (l.acked, l.in_flight) = (Some(direction), None)).ok();
                    }
                    _ => break,
                }
            }
        }));
    }
    // Kill once a good number of writes were acknowledged (a count, not a clock).
    let start = Instant::now();
    while acked_projects.lock().map(|p| p.len()).unwrap_or(0) < 20 && start.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill_hard();
    for t in tasks {
        t.await?;
    }
    let projects = acked_projects.lock().map(|p| p.clone()).unwrap_or_default();
    assert!(projects.len() >= 20, "the load ran: {} proposals acknowledged", projects.len());

    // Restart on the same state, as `make dev` again would: nothing else is triggered.
    drop(server);
    let restarted = Instant::now();
    let server = Server::start_with(options(&state))?;
    let client = server.client();

    // Every acknowledged proposal is in D1 (read through the admin export).
    let mut found = Vec::<Value>::new();
    let mut after = 0;
    loop {
        let req = client
            .request(reqwest::Method::GET, &format!("/api/v1/export?after={after}"))
            .bearer_auth(dev_var("ADMIN_TOKEN")?);
        let page = client.send(req).await?.json();
        found.extend(page["projects"].as_array().cloned().unwrap_or_default());
        match page["next_after"].as_i64() {
            Some(next) => after = next,
            None => break,
        }
    }
    let missing: Vec<_> = projects
        .iter()
        .filter(|(id, name)| !found.iter().any(|p| p["project_id"] == *id && p["project_name"] == name.as_str()))
        .collect();
    assert!(missing.is_empty(), "acknowledged proposals lost: {missing:?}");

    // Every acknowledged vote counted exactly once: each thread holds its voter's one vote, in
    // the last acknowledged direction (or the one in flight at the kill, which may have landed).
    let seed_threads = found.iter().find(|p| p["project_id"] == seed).map(|p| p["threads"].clone()).expect("seed");
    let mut votes_acked = 0;
    for log in &voters {
        let log = log.lock().map(|l| l.clone()).unwrap_or_default();
        let thread =
            seed_threads.as_array().and_then(|ts| ts.iter().find(|t| t["thread_id"] == log.thread)).expect("t");
        let totals = (thread["up_vote"].as_i64().unwrap_or(-1), thread["down_vote"].as_i64().unwrap_or(-1));
        let as_totals = |d: Option<&str>| match d {
            Some("up") => (1, 0),
            Some(_) => (0, 1),
            None => (0, 0),
        };
        let allowed = [as_totals(log.acked), as_totals(log.in_flight.or(log.acked))];
        assert!(allowed.contains(&totals), "thread {}: {totals:?}, allowed {allowed:?} ({log:?})", log.thread);
        votes_acked += usize::from(log.acked.is_some());
    }

    // Pages converge, and health says ok once they have.
    let mut last = Value::Null;
    while restarted.elapsed() < CONVERGENCE_BOUND {
        last = client.get("/api/v1/health").await?.json();
        if last["outbox_backlog"] == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(last["outbox_backlog"], 0, "the outbox drained within {CONVERGENCE_BOUND:?}: {last}");
    let converged = restarted.elapsed();
    let out = crowdfund_cli(&["verify", "--from", &server.url])?;
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "verify after the crash:\n{report}");
    assert_eq!(client.get("/api/v1/health").await?.json()["status"], "ok");
    assert!(server.log_text().contains(r#""event":"redrive""#), "the driver's cron run re-drove the outbox");
    println!(
        "fault: {} proposals + {votes_acked} voters' votes acknowledged before SIGKILL, {} projects found after \
         (all acknowledged present), converged {converged:?} after the restart, {}",
        projects.len(),
        found.len(),
        report.trim()
    );
    Ok(())
}
