//! Crash safety: under a steady write load, the whole `wrangler dev` process tree is killed
//! with SIGKILL, restarted on the same local state, and then every acknowledged write must be
//! in D1 and the pages must converge to the data (`crowdfund verify`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crowdfund_e2e::{crowdfund_cli, dev_var, unique, Client, Options, Server, TempDir, FRESHNESS_DEADLINE};
use serde_json::{json, Value};

fn options(state: &std::path::Path) -> Options {
    Options {
        vars: vec![("REDRIVE_AFTER_MS".into(), "0".into())],
        state: Some(state.to_path_buf()),
        ..Options::default()
    }
}

#[tokio::test]
async fn acknowledged_writes_survive_a_sigkill_and_pages_converge() -> anyhow::Result<()> {
    let dir = TempDir::new("crowdfund-fault")?;
    let state = dir.0.join("state");
    let mut server = Server::start_with(options(&state))?;
    let client = server.client();
    let seed =
        client.propose(&json!({"project_name": unique("Fault seed"), "tagline": "t", "problems": ["p"]})).await?;
    let thread = client.first_thread(seed).await?;

    // Steady load: proposers and voters record what was acknowledged.
    let acked_projects: Arc<Mutex<Vec<(i64, String)>>> = Arc::default();
    let acked_voters: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut tasks = Vec::new();
    for worker in 0..4 {
        let (url, projects, voters) = (server.url.clone(), acked_projects.clone(), acked_voters.clone());
        tasks.push(tokio::spawn(async move {
            let client = Client::new(&url);
            let token = client.become_voter().await.ok();
            for i in 0..400 {
                if worker % 2 == 0 {
                    let name = unique(&format!("Fault {worker} {i}"));
                    let body =
                        json!({"project_name": name, "tagline": "under load", "tags": ["fault"], "problems": ["p"]});
                    match client.post("/api/v1/projects", &body).await {
                        Ok(a) if a.status == 201 => {
                            let id = a.json()["project_id"].as_i64().unwrap_or(0);
                            projects.lock().map(|mut p| p.push((id, name))).ok();
                        }
                        _ => break, // the server is gone
                    }
                } else {
                    let direction = if i % 2 == 0 { "up" } else { "down" };
                    match client
                        .post(&format!("/api/v1/threads/{thread}/vote"), &json!({ "direction": direction }))
                        .await
                    {
                        Ok(a) if a.status == 200 => {
                            if let Some(t) = &token {
                                voters.lock().map(|mut v| v.push(t.clone())).ok();
                            }
                        }
                        _ => break,
                    }
                }
            }
        }));
    }
    // Kill once a good number of writes were acknowledged (a count, not a clock).
    let start = std::time::Instant::now();
    while acked_projects.lock().map(|p| p.len()).unwrap_or(0) < 20 && start.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill_hard();
    for t in tasks {
        t.await?;
    }
    let projects = acked_projects.lock().map(|p| p.clone()).unwrap_or_default();
    let votes_acked = acked_voters.lock().map(|v| v.len()).unwrap_or(0);
    assert!(projects.len() >= 20, "the load ran: {} proposals acknowledged", projects.len());

    // Restart on the same state.
    drop(server);
    let server = Server::start_with(options(&state))?;
    let client = server.client();
    let backlog_after_restart = client.get("/api/v1/health").await?.json()["outbox_backlog"].as_i64().unwrap_or(-1);

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
    let seed_thread = found.iter().find(|p| p["project_id"] == seed).map(|p| p["threads"][0].clone()).expect("seed");
    let counted = seed_thread["up_vote"].as_i64().unwrap_or(0) + seed_thread["down_vote"].as_i64().unwrap_or(0);
    assert!(counted >= 1 || votes_acked == 0, "acknowledged votes were kept");
    assert!(counted <= 2, "one vote per voter: two voting clients, {counted} votes counted");

    // Pages converge: the cron re-drives what the kill lost, then verify is clean.
    client.get("/__scheduled?cron=*+*+*+*+*").await?;
    client.eventually("/api/v1/health", FRESHNESS_DEADLINE, |a| a.json()["outbox_backlog"].as_i64() == Some(0)).await?;
    let out = crowdfund_cli(&["verify", "--from", &server.url])?;
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "verify after the crash:\n{report}");
    println!(
        "fault: {} proposals + {votes_acked} votes acknowledged before SIGKILL, {} projects found after \
         (all acknowledged present), {backlog_after_restart} outbox rows re-driven, {}",
        projects.len(),
        found.len(),
        report.trim()
    );
    Ok(())
}
