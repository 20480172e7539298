//! What readers see first and how they find a project, against the real Worker, D1 (FTS5)
//! and edge: votes reorder a published detail page, and search finds a proposal by a word of
//! its tagline with accents folded, and refuses a 10 KB query cleanly.

use crowdfund_e2e::{unique, Answer, Server, FRESHNESS_DEADLINE};
use serde_json::json;

/// The thread ids of a detail page, in the order it shows them.
fn shown_order(page: &Answer) -> Vec<i64> {
    page.text()
        .split("<article class=\"thread ")
        .skip(1)
        .filter_map(|chunk| chunk.split("id=\"thread-").nth(1)?.split('"').next()?.parse().ok())
        .collect()
}

#[tokio::test]
async fn three_up_votes_move_a_newer_thread_above_an_older_one() -> anyhow::Result<()> {
    let server = Server::start()?;
    let proposer = server.client();
    let id = proposer
        .propose(&json!({"project_name": unique("Ranked"), "tagline": "best first", "problems": ["the older problem"]}))
        .await?;
    let older = proposer.first_thread(id).await?;
    let added = proposer
        .post(
            &format!("/api/v1/projects/{id}/threads"),
            &json!({"threads": [{"thread_type": "PROBLEM", "message": "the newer problem"}]}),
        )
        .await?;
    assert_eq!(added.status, 201, "{}", added.text());
    let newer = added.json()["threads"][0]["thread_id"].as_i64().expect("thread_id");
    let page = format!("/projects/{id}/");
    let (before, _) = proposer.eventually(&page, FRESHNESS_DEADLINE, |a| shown_order(a).len() == 2).await?;
    assert_eq!(shown_order(&before), vec![older, newer], "unvoted: the order they were written in");

    for _ in 0..3 {
        let voter = server.client();
        let vote = voter.post(&format!("/api/v1/threads/{newer}/vote"), &json!({"direction": "up"})).await?;
        assert_eq!(vote.status, 200, "{}", vote.text());
    }
    let (_, took) = proposer.eventually(&page, FRESHNESS_DEADLINE, |a| shown_order(a) == vec![newer, older]).await?;
    println!("the re-ranked page was served by the edge after {took:?}");
    // One vote already puts the newer thread first: wait for the twin to carry all three.
    let twin_path = format!("/api/v1/projects/{id}.json");
    let (twin, _) =
        proposer.eventually(&twin_path, FRESHNESS_DEADLINE, |a| a.json()["threads"][0]["up_vote"] == 3).await?;
    let twin = twin.json();
    let twin_order: Vec<i64> =
        twin["threads"].as_array().into_iter().flatten().filter_map(|t| t["thread_id"].as_i64()).collect();
    assert_eq!(twin_order, vec![newer, older], "the JSON twin gives the same order");
    assert_eq!(twin["threads"][0]["up_vote"], 3, "with its count");
    Ok(())
}

#[tokio::test]
async fn a_proposal_is_found_by_a_word_of_its_tagline_accents_folded() -> anyhow::Result<()> {
    let server = Server::start()?;
    let client = server.client();
    let name = unique("Searchable");
    let id =
        client.propose(&json!({"project_name": name, "tagline": "Un atelier pour réparer les grille-pain"})).await?;
    client.propose(&json!({"project_name": unique("Unrelated"), "tagline": "nothing alike"})).await?;

    let (page, _) = client.eventually("/search?q=REPARER+grille", FRESHNESS_DEADLINE, |a| a.status == 200).await?;
    assert!(page.header("content-type").unwrap_or_default().starts_with("text/html"));
    assert!(
        page.text().contains(&format!(r#"href="/projects/{id}/""#)),
        "the result links to its page:\n{}",
        page.text()
    );
    assert!(!page.text().contains("Unrelated"), "only matches");
    let json = client.get("/api/v1/search?q=reparer").await?.json();
    let found: Vec<i64> =
        json["projects"].as_array().into_iter().flatten().filter_map(|p| p["project_id"].as_i64()).collect();
    assert_eq!(found, vec![id], "{json}");
    let again = client.get("/search?q=REPARER+grille").await?;
    assert_eq!(again.header("cf-cache-status").as_deref(), Some("HIT"), "the edge keeps a search answer");

    // A 10 KB query: refused by its field, as JSON and as the page, and the site still serves.
    let long = "é".repeat(5 * 1024);
    let api = client.get(&format!("/api/v1/search?q={long}")).await?;
    assert_eq!((api.status, api.json()["error"]["field"].as_str()), (422, Some("q")), "{}", api.text());
    let refused = client.get(&format!("/search?q={long}")).await?;
    assert_eq!(refused.status, 422);
    assert!(refused.text().contains("at most 200 characters"), "{}", refused.text());
    assert_eq!(client.get("/api/v1/health").await?.status, 200);
    Ok(())
}
