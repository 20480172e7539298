//! From change to fresh page: bursts converge and coalesce, a lost message is repaired by the
//! cron, the published site equals a full rebuild (`crowdfund verify`), and unchanged pages
//! answer 304.

use crowdfund_e2e::{crowdfund_cli, unique, Answer, Client, Cron, Options, Server, FRESHNESS_DEADLINE};
use serde_json::{json, Value};

async fn wait_for_empty_outbox(client: &Client) -> anyhow::Result<()> {
    client.eventually("/api/v1/health", FRESHNESS_DEADLINE, |a| a.json()["outbox_backlog"].as_i64() == Some(0)).await?;
    Ok(())
}

async fn propose_one(client: &Client, tags: &[&str]) -> anyhow::Result<(i64, i64)> {
    let id = client
        .propose(&json!({"project_name": unique("Burst"), "tagline": "t", "tags": tags, "problems": ["p"]}))
        .await?;
    Ok((id, client.first_thread(id).await?))
}

/// The publish log lines of the consumer: (changes, pages) per batch.
fn publishes(log: &str) -> Vec<(i64, i64)> {
    log.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l.trim()).ok())
        .filter(|v| v["event"] == "publish")
        .map(|v| (v["changes"].as_i64().unwrap_or(0), v["pages"].as_i64().unwrap_or(0)))
        .collect()
}

#[tokio::test]
async fn a_vote_burst_converges_exactly_and_coalesces() -> anyhow::Result<()> {
    let server = Server::start()?;
    let client = server.client();
    let (id, thread) = propose_one(&client, &["burst"]).await?;
    wait_for_empty_outbox(&client).await?;
    let before = publishes(&server.wait_for_log(FRESHNESS_DEADLINE, |log| !publishes(log).is_empty())?).len();

    let voters = 30;
    let mut tasks = Vec::new();
    for i in 0..voters {
        let voter = Client::new(&server.url);
        tasks.push(tokio::spawn(async move {
            voter.become_voter().await?;
            let direction = if i % 3 == 0 { "down" } else { "up" };
            let path = format!("/api/v1/threads/{thread}/vote");
            let answer = voter.post(&path, &json!({ "direction": direction })).await?;
            anyhow::ensure!(answer.status == 200, "vote: {} {}", answer.status, answer.text());
            Ok::<_, anyhow::Error>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let (down, up) =
        ((0..voters).filter(|i| i % 3 == 0).count() as i64, (0..voters).filter(|i| i % 3 != 0).count() as i64);
    let (page, took) = client
        .eventually(&format!("/projects/{id}"), FRESHNESS_DEADLINE, |a| {
            a.is_stored() && a.json()["threads"][0]["up_vote"] == up && a.json()["threads"][0]["down_vote"] == down
        })
        .await?;
    assert_eq!(page.json()["threads"][0]["thread_id"], thread);
    let changes_after =
        |log: &str| publishes(log)[before.min(publishes(log).len())..].iter().map(|(c, _)| c).sum::<i64>();
    let log = server.wait_for_log(FRESHNESS_DEADLINE, |log| changes_after(log) >= voters as i64)?;
    let burst = &publishes(&log)[before..];
    let changes = changes_after(&log);
    println!("{voters} votes -> {} publishes ({changes} changes, {:.1} writes per render); converged {took:?} after the last ack", burst.len(), changes as f64 / burst.len().max(1) as f64);
    assert_eq!(changes, voters as i64, "every recorded vote's change was published");
    assert!(burst.len() < voters, "a burst of {voters} votes is folded into fewer renders, got {}", burst.len());
    Ok(())
}

#[tokio::test]
async fn a_lost_message_is_repaired_by_the_cron() -> anyhow::Result<()> {
    let options = Options {
        vars: vec![("TEST_HOOKS".into(), "1".into()), ("REDRIVE_AFTER_MS".into(), "0".into())],
        // The cron driver fires every second (not every minute) so the test need not wait.
        cron: Cron::Every(1),
        ..Options::default()
    };
    let server = Server::start_with(options)?;
    let client = server.client();
    let body = json!({"project_name": unique("Lost message"), "tagline": "t", "tags": ["lost"]});
    let answer = client
        .send(client.request(reqwest::Method::POST, "/projects/propose").header("x-test-drop-message", "1").json(&body))
        .await?;
    assert_eq!(answer.status, 201, "{}", answer.text());
    let id = answer.json()["project_id"].as_i64().expect("id");

    // No message was sent: only the cron, which the driver fires, can publish the page.
    let (page, took) = client.eventually(&format!("/projects/{id}"), FRESHNESS_DEADLINE, Answer::is_stored).await?;
    println!("repaired {took:?} after the cron ran");
    assert_eq!(page.json()["project_id"], id);
    wait_for_empty_outbox(&client).await?;
    // The driver's cron run re-sent exactly that row.
    server.wait_for_log(FRESHNESS_DEADLINE, |log| log.contains(r#"{"event":"redrive","messages":1}"#))?;
    Ok(())
}

/// A tiny deterministic generator, so a failing sequence can be replayed.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

#[tokio::test]
async fn the_published_site_equals_a_full_rebuild_after_random_writes() -> anyhow::Result<()> {
    let options = Options { vars: vec![("TEST_HOOKS".into(), "1".into())], ..Options::default() };
    let server = Server::start_with(options)?;
    let client = server.client();
    client.become_voter().await?;
    let tags = ["solar", "water", "bike", "school", "music"];
    let mut rng = Lcg(42);
    let mut projects: Vec<(i64, Vec<i64>)> = Vec::new();
    for step in 0..60 {
        let op = if projects.is_empty() { 0 } else { rng.below(5) };
        match op {
            0 => {
                let n = 1 + rng.below(3) as usize;
                let chosen: Vec<&str> = (0..n).map(|_| tags[rng.below(tags.len() as u64) as usize]).collect();
                let id = client
                    .propose(&json!({"project_name": unique("Random"), "tagline": format!("step {step}"),
                        "tags": chosen, "problems": ["a *problem*"], "solutions": ["a [solution](https://example.org)"]}))
                    .await?;
                let threads = client.get(&format!("/api/v1/projects/{id}/threads")).await?.json();
                let ids = threads["threads"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|t| t["thread_id"].as_i64()).collect())
                    .unwrap_or_default();
                projects.push((id, ids));
            }
            1 => {
                let (id, _) = &projects[rng.below(projects.len() as u64) as usize];
                let add = tags[rng.below(tags.len() as u64) as usize];
                let remove = tags[rng.below(tags.len() as u64) as usize];
                let body =
                    if add == remove { json!({"add": [add]}) } else { json!({"add": [add], "remove": [remove]}) };
                let answer = client.json(reqwest::Method::PUT, &format!("/api/v1/projects/{id}/tags"), &body).await?;
                assert_eq!(answer.status, 200, "{}", answer.text());
            }
            2 => {
                let pick = rng.below(projects.len() as u64) as usize;
                let (id, threads) = &mut projects[pick];
                let parent = threads[rng.below(threads.len() as u64) as usize];
                let body = json!({"threads": [{"message": format!("reply at step {step}"), "parent_id": parent}]});
                let answer = client.post(&format!("/api/v1/projects/{id}/threads"), &body).await?;
                assert_eq!(answer.status, 201, "{}", answer.text());
                threads.extend(
                    answer.json()["threads"].as_array().into_iter().flatten().filter_map(|t| t["thread_id"].as_i64()),
                );
            }
            _ => {
                let (_, threads) = &projects[rng.below(projects.len() as u64) as usize];
                let thread = threads[rng.below(threads.len() as u64) as usize];
                let direction = if rng.below(2) == 0 { "up" } else { "down" };
                let answer =
                    client.post(&format!("/api/v1/threads/{thread}/vote"), &json!({ "direction": direction })).await?;
                assert_eq!(answer.status, 200, "{}", answer.text());
            }
        }
    }
    wait_for_empty_outbox(&client).await?;
    let out = crowdfund_cli(&["verify", "--from", &server.url])?;
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "verify failed:\n{report}\n{}", String::from_utf8_lossy(&out.stderr));
    println!("{}", report.trim());

    // verify can fail: a vote whose message is lost leaves a stale page, and verify says which.
    let (id, threads) = &projects[0];
    let vote = client
        .request(reqwest::Method::POST, &format!("/api/v1/threads/{}/vote", threads[0]))
        .header("x-test-drop-message", "1")
        .json(&json!({"direction": "down"}));
    let answer = client.send(vote).await?;
    if answer.json()["changed"] == true {
        let out = crowdfund_cli(&["verify", "--from", &server.url])?;
        let report = String::from_utf8_lossy(&out.stdout);
        assert!(!out.status.success(), "verify must notice the stale page");
        assert!(report.contains(&format!("/projects/{id}/")), "{report}");
    }
    Ok(())
}

#[tokio::test]
async fn unchanged_pages_answer_304_and_head_has_no_body() -> anyhow::Result<()> {
    let server = Server::start()?;
    let client = server.client();
    let (id, _) = propose_one(&client, &["etag"]).await?;
    let path = format!("/projects/{id}/");
    let (page, _) = client.eventually(&path, FRESHNESS_DEADLINE, Answer::is_stored).await?;
    let etag = page.header("etag").expect("an ETag");
    assert_eq!(page.header("cache-control").as_deref(), Some("public, max-age=0, must-revalidate"));
    let again = client.send(client.request(reqwest::Method::GET, &path).header("if-none-match", &etag)).await?;
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    let other = client.send(client.request(reqwest::Method::GET, &path).header("if-none-match", "\"other\"")).await?;
    assert_eq!(other.status, 200);
    let head = client.send(client.request(reqwest::Method::HEAD, &path)).await?;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(head.header("etag"), Some(etag.clone()));
    assert!(head.header("content-type").unwrap_or_default().starts_with("text/html"));

    // A change to the page changes its ETag.
    client.json(reqwest::Method::PUT, &format!("/api/v1/projects/{id}/tags"), &json!({"add": ["changed"]})).await?;
    let (changed, _) =
        client.eventually(&path, FRESHNESS_DEADLINE, |a| a.is_stored() && a.text().contains("changed")).await?;
    assert_ne!(changed.header("etag"), Some(etag));
    Ok(())
}

#[tokio::test]
async fn health_is_degraded_while_nothing_re_drives_a_lost_message() -> anyhow::Result<()> {
    // A site whose cron does not run: a lost message stays lost, and health must say so.
    let options = Options {
        vars: vec![("TEST_HOOKS".into(), "1".into()), ("STUCK_AFTER_MS".into(), "1500".into())],
        cron: Cron::Off,
        ..Options::default()
    };
    let server = Server::start_with(options)?;
    let client = server.client();
    assert_eq!(client.get("/api/v1/health").await?.json()["status"], "ok");
    let body = json!({"project_name": unique("Stuck"), "tagline": "t"});
    let answer = client
        .send(client.request(reqwest::Method::POST, "/api/v1/projects").header("x-test-drop-message", "1").json(&body))
        .await?;
    assert_eq!(answer.status, 201);
    let (health, took) =
        client.eventually("/api/v1/health", FRESHNESS_DEADLINE, |a| a.json()["status"] == "degraded").await?;
    let health = health.json();
    assert!(health["reasons"][0].as_str().is_some_and(|r| r.contains("cron")), "{health}");
    assert_eq!(health["outbox_backlog"], 1);
    assert_eq!(health["last_cron_ms"], serde_json::Value::Null, "the cron never ran");
    println!("health degraded {took:?} after the lost write: {health}");
    Ok(())
}
