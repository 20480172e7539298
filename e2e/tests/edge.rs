//! The read side through a real edge cache (Varnish, as `make dev` runs it) in front of the
//! real Worker: pages are answered from the cache, and every publish purges exactly what
//! changed, so the edge converges to the data; a failing purge is retried; a scarce purge
//! budget coalesces; a write storm with readers ends with `verify` (through the edge) clean.

use std::time::{Duration, Instant};

use crowdfund_e2e::{crowdfund_cli, unique, Client, Options, Server, FRESHNESS_DEADLINE};
use generator::paths::{alias_urls_of, json_url_of, pages_touched, url_of, Change, PageKey, Target};
use serde_json::json;

/// The URLs of the pages a change touches (a tag's index and first pages for its tail).
fn touched_urls(change: &Change) -> Vec<String> {
    let keys: Vec<PageKey> = pages_touched(change)
        .into_iter()
        .flat_map(|t| match t {
            Target::Page(key) => vec![key],
            Target::TagTail { tag, .. } => {
                vec![PageKey::TagIndex { tag: tag.clone() }, PageKey::TagPage { tag, page: 1 }]
            }
        })
        .collect();
    keys.iter().flat_map(|k| std::iter::once(url_of(k)).chain(json_url_of(k)).chain(alias_urls_of(k))).collect()
}

/// Waits until a page at the edge is what its writer sees (the Worker's own answer, past the
/// edge): published, or gone; returns how long it took.
async fn fresh_at_edge(client: &Client, url: &str, deadline: Duration) -> anyhow::Result<Duration> {
    let start = Instant::now();
    loop {
        let edge = client.get(url).await?;
        let sep = if url.contains('?') { '&' } else { '?' };
        let own = client.get(&format!("{url}{sep}fresh=1")).await?;
        let settled = own.is_stored() || own.status == 404;
        if settled && edge.status == own.status && edge.body == own.body {
            return Ok(start.elapsed());
        }
        if start.elapsed() > deadline {
            anyhow::bail!("{url} at the edge is still not the published page after {deadline:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn quiet(client: &Client) -> anyhow::Result<()> {
    client
        .eventually("/api/v1/health", FRESHNESS_DEADLINE, |a| {
            a.json()["outbox_backlog"] == 0 && a.json()["purges_owed"] == 0
        })
        .await?;
    Ok(())
}

#[tokio::test]
async fn pages_are_answered_from_the_edge_and_writers_read_past_it() -> anyhow::Result<()> {
    let server = Server::start()?;
    let client = server.client();
    let id = client.propose(&json!({"project_name": unique("Edge"), "tagline": "t", "problems": ["p"]})).await?;
    quiet(&client).await?;
    let path = format!("/projects/{id}/");
    let first = client.get(&path).await?;
    assert_eq!((first.status, first.header("cf-cache-status").as_deref()), (200, Some("MISS")));
    let second = client.get(&path).await?;
    assert_eq!(second.header("cf-cache-status").as_deref(), Some("HIT"), "a second GET is a hit");
    assert_eq!(second.body, first.body);
    assert_eq!(second.header("cache-control").as_deref(), Some("public, max-age=0, must-revalidate"));
    for hidden in ["cache-tag", "cloudflare-cdn-cache-control", "xkey", "x-varnish", "via"] {
        assert_eq!(second.header(hidden), None, "{hidden} stays between the Worker and the edge");
    }
    // Browsers revalidate: the edge answers 304 for the ETag.
    let etag = second.header("etag").expect("an ETag");
    let again = client.send(client.request(reqwest::Method::GET, &path).header("if-none-match", &etag)).await?;
    assert_eq!(again.status, 304);
    // A writer's view is never kept; writes pass through.
    for _ in 0..2 {
        let own = client.get(&format!("{path}?fresh=1")).await?;
        assert_ne!(own.header("cf-cache-status").as_deref(), Some("HIT"));
        assert_eq!(own.header("cache-control").as_deref(), Some("private, no-store"));
    }
    let write =
        client.post(&format!("/api/v1/projects/{id}/threads"), &json!({"threads": [{"message": "hi"}]})).await?;
    assert_eq!((write.status, write.header("cf-cache-status").as_deref()), (201, Some("DYNAMIC")));
    // A path that names no page yet is kept under the tag that will purge it once it exists.
    let missing = client.get("/projects/987654/").await?;
    assert_eq!(missing.status, 404);
    Ok(())
}

#[tokio::test]
async fn every_page_a_change_touches_is_fresh_at_the_edge_after_the_publish() -> anyhow::Result<()> {
    let server = Server::start()?;
    let client = server.client();
    client.become_voter().await?;
    let id = client
        .propose(&json!({"project_name": unique("Touched"), "tagline": "t", "tags": ["edge"], "problems": ["p"]}))
        .await?;
    let thread = client.first_thread(id).await?;
    quiet(&client).await?;
    let changes: Vec<(&str, Change)> = vec![
        ("vote", Change::Voted { project_id: id }),
        ("thread", Change::ThreadsChanged { project_id: id }),
        ("tags", Change::TagsChanged { project_id: id, added: vec!["fresh".into()], removed: vec!["edge".into()] }),
        ("proposal", Change::Proposed { project_id: id + 1, tags: vec!["fresh".into()] }),
    ];
    for (what, change) in changes {
        // Warm the edge with the pages the change will touch.
        let urls = touched_urls(&change);
        for url in &urls {
            client.get(url).await?;
        }
        let answer = match what {
            "vote" => client.post(&format!("/api/v1/threads/{thread}/vote"), &json!({"direction": "up"})).await?,
            "thread" => {
                client
                    .post(&format!("/api/v1/projects/{id}/threads"), &json!({"threads": [{"message": "new"}]}))
                    .await?
            }
            "tags" => {
                client
                    .json(
                        reqwest::Method::PUT,
                        &format!("/api/v1/projects/{id}/tags"),
                        &json!({"add": ["fresh"], "remove": ["edge"]}),
                    )
                    .await?
            }
            _ => {
                client
                    .post(
                        "/api/v1/projects",
                        &json!({"project_name": unique("Next"), "tagline": "t", "tags": ["fresh"]}),
                    )
                    .await?
            }
        };
        assert!(answer.status < 300, "{what}: {}", answer.text());
        let mut slowest = Duration::ZERO;
        for url in &urls {
            slowest = slowest.max(fresh_at_edge(&client, url, FRESHNESS_DEADLINE).await?);
        }
        println!("{what}: {} URLs fresh at the edge within {slowest:?}", urls.len());
    }
    Ok(())
}

#[tokio::test]
async fn a_failing_purge_is_retried_and_the_edge_converges() -> anyhow::Result<()> {
    let options = Options {
        vars: vec![("TEST_HOOKS".into(), "1".into()), ("TEST_PURGE_FAILURES".into(), "3".into())],
        ..Options::default()
    };
    let server = Server::start_with(options)?;
    let client = server.client();
    let id = client.propose(&json!({"project_name": unique("Retried"), "tagline": "t"})).await?;
    let path = format!("/api/v1/projects/{id}.json");
    client.get(&path).await?; // the edge keeps the stand-in
    let took = fresh_at_edge(&client, &path, FRESHNESS_DEADLINE).await?;
    server.wait_for_log(FRESHNESS_DEADLINE, |log| log.contains("purge_failed"))?;
    quiet(&client).await?;
    println!("converged {took:?} after three failed purges");
    Ok(())
}

#[tokio::test]
async fn a_scarce_purge_budget_coalesces_and_the_edge_still_converges() -> anyhow::Result<()> {
    // One token, a new one every 10 s; three publishes a second or so apart: the first is
    // purged at once, the next two wait for the next token and go in one call.
    let options = Options {
        vars: vec![("PURGE_BURST".into(), "1".into()), ("PURGE_PER_MINUTE".into(), "6".into())],
        ..Options::default()
    };
    let server = Server::start_with(options)?;
    let client = server.client();
    let start = Instant::now();
    for i in 0..3 {
        client.get("/").await?; // the edge keeps the front page
        client.propose(&json!({"project_name": unique(&format!("Scarce {i}")), "tagline": "t"})).await?;
        client.eventually("/api/v1/health", FRESHNESS_DEADLINE, |a| a.json()["outbox_backlog"] == 0).await?;
    }
    let took = fresh_at_edge(&client, "/", Duration::from_secs(60)).await?;
    quiet(&client).await?;
    let elapsed = start.elapsed();
    let calls: usize = server
        .log_text()
        .lines()
        .filter(|l| l.contains(r#""event":"purge""#))
        .filter_map(|l| l.split(r#""calls":"#).nth(1)?.split(',').next()?.parse::<usize>().ok())
        .sum();
    // The budget allowed one call at start and one per 10 s since: no more were made.
    let allowed = 1 + (elapsed.as_secs() / 10) as usize;
    assert!(calls <= allowed, "{calls} purge calls in {elapsed:?} (budget: {allowed})");
    println!("3 publishes purged in {calls} calls within {elapsed:?}; the front page was fresh at the edge {took:?} after the last");
    Ok(())
}

#[tokio::test]
async fn a_write_storm_with_readers_ends_with_the_edge_equal_to_a_full_build() -> anyhow::Result<()> {
    let server = Server::start()?;
    let client = server.client();
    client.become_voter().await?;
    let tags = ["solar", "water", "bike", "school"];
    let mut ids = Vec::new();
    let mut seed = 42_u64;
    let mut next = |n: u64| {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % n
    };
    for i in 0..60 {
        let roll = next(10);
        if ids.is_empty() || roll < 3 {
            let tag = tags[next(4) as usize];
            let body = json!({"project_name": unique(&format!("Storm {i}")), "tagline": "t", "tags": [tag], "problems": ["p"]});
            ids.push(client.propose(&body).await?);
        } else {
            let id = ids[next(ids.len() as u64) as usize];
            if roll < 6 {
                let thread = client.first_thread(id).await?;
                let direction = if next(2) == 0 { "up" } else { "down" };
                client.post(&format!("/api/v1/threads/{thread}/vote"), &json!({ "direction": direction })).await?;
            } else if roll < 8 {
                client
                    .post(&format!("/api/v1/projects/{id}/threads"), &json!({"threads": [{"message": "storm"}]}))
                    .await?;
            } else {
                let tag = tags[next(4) as usize];
                client
                    .json(reqwest::Method::PATCH, &format!("/api/v1/projects/{id}/tags"), &json!({"add": [tag]}))
                    .await?;
            }
        }
        // Readers keep the edge warm all along, so stale copies would stay.
        for url in ["/".to_owned(), format!("/projects/{}/", ids[next(ids.len() as u64) as usize]), "/page/1/".into()] {
            client.get(&url).await?;
        }
    }
    let out = crowdfund_cli(&["verify", "--from", &server.url])?;
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "verify through the edge after the storm:\n{report}");
    println!("storm: {}", report.trim());
    Ok(())
}
