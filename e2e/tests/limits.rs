//! Abuse limits: a voter voting too fast and an address writing too fast get 429 with
//! Retry-After; other voters and addresses are not affected, and the Worker keeps serving.
//!
//! The limits are per 10 s window, so each burst is sent concurrently and is large enough
//! (3× the limit) that some window must overflow however the burst straddles windows.

use std::sync::Arc;

use crowdfund_e2e::{unique, Answer, Client, Server};
use serde_json::json;

fn assert_limited(a: &Answer) {
    assert_eq!(a.status, 429, "{}", a.text());
    assert_eq!(a.error_code(), "rate_limited");
    assert_eq!(a.header("retry-after").as_deref(), Some("10"));
}

/// Sends `total` requests, 16 at a time; returns every answer.
async fn burst<F, Fut>(total: usize, send: F) -> anyhow::Result<Vec<Answer>>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<Answer>> + Send,
{
    let send = Arc::new(send);
    let mut answers = Vec::new();
    for chunk in (0..total).collect::<Vec<_>>().chunks(16) {
        let tasks: Vec<_> = chunk
            .iter()
            .map(|&i| {
                tokio::spawn({
                    let send = send.clone();
                    async move { send(i).await }
                })
            })
            .collect();
        for t in tasks {
            answers.push(t.await??);
        }
        if answers.iter().any(|a| a.status == 429) {
            break;
        }
    }
    Ok(answers)
}

#[tokio::test]
async fn fast_voters_and_fast_addresses_get_429() -> anyhow::Result<()> {
    let server = Server::start()?;
    let client = server.client();
    let id = client.propose(&json!({"project_name": unique("Limits"), "tagline": "t", "problems": ["p"]})).await?;
    let thread = client.first_thread(id).await?;

    // One voter: 30 votes per 10 s, then 429.
    let voter = Client::new(&server.url);
    voter.become_voter().await?;
    let votes = burst(90, move |i| {
        let voter = voter.clone();
        async move {
            let direction = if i % 2 == 0 { "up" } else { "down" };
            voter.post(&format!("/api/v1/threads/{thread}/vote"), &json!({ "direction": direction })).await
        }
    })
    .await?;
    let limited = votes.iter().find(|a| a.status == 429).expect("the voter was limited");
    assert_limited(limited);
    assert!(votes.iter().filter(|a| a.status == 200).count() >= 30, "the first 30 votes were let through");
    // Another voter is not affected.
    let other = Client::new(&server.url);
    other.become_voter().await?;
    assert_eq!(other.post(&format!("/api/v1/threads/{thread}/vote"), &json!({"direction": "up"})).await?.status, 200);

    // One address: 300 writes per 10 s (cheap refused writes count too), then 429.
    let from = |c: Client, ip: &'static str| async move {
        let req = c.request(reqwest::Method::POST, "/api/v1/projects").header("cf-connecting-ip", ip).json(&json!({}));
        c.send(req).await
    };
    let c = client.clone();
    let writes = burst(900, move |_| from(c.clone(), "203.0.113.7")).await?;
    let limited = writes.iter().find(|a| a.status == 429).expect("the address was limited");
    assert_limited(limited);
    assert!(writes.iter().filter(|a| a.status == 422).count() >= 300, "the first 300 writes were let through");
    assert_eq!(from(client.clone(), "203.0.113.8").await?.status, 422, "another address is not limited");
    assert_eq!(client.get("/api/v1/health").await?.status, 200, "the Worker keeps serving");
    Ok(())
}
