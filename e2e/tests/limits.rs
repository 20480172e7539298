//! Abuse limits: a voter voting too fast and an address writing too fast get 429 with
//! Retry-After; other voters and addresses are not affected, and the Worker keeps serving.

use crowdfund_e2e::{unique, Answer, Client, Server};
use serde_json::json;

fn assert_limited(a: &Answer) {
    assert_eq!(a.status, 429, "{}", a.text());
    assert_eq!(a.error_code(), "rate_limited");
    assert_eq!(a.header("retry-after").as_deref(), Some("10"));
}

#[tokio::test]
async fn fast_voters_and_fast_addresses_get_429() -> anyhow::Result<()> {
    let server = Server::start()?;
    let client = server.client();
    let id = client.propose(&json!({"project_name": unique("Limits"), "tagline": "t", "problems": ["p"]})).await?;
    let thread = client.get(&format!("/api/v1/projects/{id}/threads")).await?.json()["threads"][0]["thread_id"]
        .as_i64()
        .expect("thread");

    // One voter: 30 votes per 10 s, then 429.
    let voter = Client::new(&server.url);
    voter.become_voter().await?;
    let mut limited = None;
    for i in 0..40 {
        let direction = if i % 2 == 0 { "up" } else { "down" };
        let a = voter.post(&format!("/api/v1/threads/{thread}/vote"), &json!({ "direction": direction })).await?;
        if a.status != 200 {
            limited = Some((i, a));
            break;
        }
    }
    let (at, answer) = limited.expect("the voter was limited");
    assert_limited(&answer);
    assert!(at >= 30, "limited only past the limit, at vote {at}");
    // Another voter is not affected.
    let other = Client::new(&server.url);
    other.become_voter().await?;
    assert_eq!(other.post(&format!("/api/v1/threads/{thread}/vote"), &json!({"direction": "up"})).await?.status, 200);

    // One address: 300 writes per 10 s (cheap refused writes count too), then 429.
    let from = |ip: &'static str| {
        let c = client.clone();
        async move {
            let req =
                c.request(reqwest::Method::POST, "/api/v1/projects").header("cf-connecting-ip", ip).json(&json!({}));
            c.send(req).await
        }
    };
    let mut statuses = Vec::new();
    for _ in 0..320 {
        statuses.push(from("203.0.113.7").await?);
        if statuses.last().is_some_and(|a| a.status == 429) {
            break;
        }
    }
    let last = statuses.last().expect("requests were sent");
    assert_limited(last);
    assert!(statuses.len() > 300, "limited only past the limit, at {}", statuses.len());
    assert_eq!(from("203.0.113.8").await?.status, 422, "another address is not limited");
    assert_eq!(client.get("/api/v1/health").await?.status, 200, "the Worker keeps serving");
    Ok(())
}
