//! Ownership and moderation against the real Worker, D1, queue, page store and edge: an
//! author edits their text and a stranger cannot; a visitor reports it; a moderator hides and
//! restores a thread and a project, reverts an edit, and every page at the edge follows (and
//! `crowdfund verify` finds nothing stale after each step).

use crowdfund_e2e::{crowdfund_cli, dev_var, unique, Answer, Client, Server, FRESHNESS_DEADLINE};
use reqwest::Method;
use serde_json::{json, Value};

/// The bearer token of the first moderator `scripts/dev-vars.sh` configured (`name:token`).
fn moderator_token() -> anyhow::Result<String> {
    let pairs = dev_var("MODERATOR_TOKENS")?;
    let first = pairs.split(',').next().unwrap_or_default();
    Ok(first.split_once(':').map(|(_, token)| token.trim().to_owned()).unwrap_or_default())
}

async fn moderate(client: &Client, token: &str, path: &str, body: Value) -> anyhow::Result<Answer> {
    client.send(client.request(Method::POST, path).bearer_auth(token).json(&body)).await
}

/// `crowdfund verify` against the edge: every published page equals a render of the data.
fn assert_verified(server: &Server, step: &str) -> anyhow::Result<()> {
    let out = crowdfund_cli(&["verify", "--from", &server.url])?;
    assert!(out.status.success(), "verify after {step}:\n{}", String::from_utf8_lossy(&out.stdout));
    Ok(())
}

#[tokio::test]
async fn authors_edit_moderators_hide_restore_and_revert_and_the_edge_follows() -> anyhow::Result<()> {
    let server = Server::start()?;
    let (author, stranger) = (server.client(), server.client());
    let moderator = moderator_token()?;
    let name = unique("Moderated");
    let id = author
        .propose(&json!({"project_name": name, "tagline": "kept in order", "problems": ["the original text"]}))
        .await?;
    let problem = author.first_thread(id).await?;
    let page = format!("/projects/{id}/");
    let threads = format!("/api/v1/projects/{id}/threads");
    author.eventually(&page, FRESHNESS_DEADLINE, |a| a.text().contains("the original text")).await?;

    // A stranger's edit is refused; the author's is published, and the old text kept.
    let edit = |text: &str| json!({"threads": [{"thread_id": problem, "message": text}]});
    let refused = stranger.post(&threads, &edit("VANDALIZED")).await?;
    assert_eq!((refused.status, refused.error_code().as_str()), (403, "forbidden"), "{}", refused.text());
    let edited = author.post(&threads, &edit("a better text by its author")).await?;
    assert_eq!(edited.status, 200, "{}", edited.text());
    author.eventually(&page, FRESHNESS_DEADLINE, |a| a.text().contains("a better text by its author")).await?;
    let revisions = author.get(&format!("/api/v1/threads/{problem}/revisions")).await?.json();
    assert_eq!(revisions["revisions"][0]["message"], "the original text", "{revisions}");
    let revision = revisions["revisions"][0]["revision_id"].as_i64().expect("revision_id");

    // A report reaches the moderators, and only them.
    let report = stranger.post(&format!("/api/v1/threads/{problem}/reports"), &json!({"reason": "off topic"})).await?;
    assert_eq!(report.status, 201, "{}", report.text());
    let reports_path = "/api/v1/moderation/reports";
    assert_eq!(stranger.get(reports_path).await?.status, 401);
    let reports = stranger.send(stranger.request(Method::GET, reports_path).bearer_auth(&moderator)).await?;
    assert_eq!(reports.status, 200, "{}", reports.text());
    assert!(reports.json()["reports"].as_array().is_some_and(|r| r.iter().any(|r| r["thread_id"] == problem)));

    // Hide the thread: gone from the page at the edge; restore it: back.
    let thread_path = format!("/api/v1/moderation/threads/{problem}");
    let hidden =
        moderate(&stranger, &moderator, &thread_path, json!({"action": "hide", "reason": "off topic"})).await?;
    assert_eq!(hidden.status, 200, "{}", hidden.text());
    author.eventually(&page, FRESHNESS_DEADLINE, |a| a.status == 200 && !a.text().contains("better text")).await?;
    assert_verified(&server, "hiding a thread")?;
    let restored = moderate(&stranger, &moderator, &thread_path, json!({"action": "restore"})).await?;
    assert_eq!(restored.status, 200, "{}", restored.text());
    author.eventually(&page, FRESHNESS_DEADLINE, |a| a.text().contains("better text")).await?;

    // Revert the edit: the original text is published again.
    let reverted =
        moderate(&stranger, &moderator, &thread_path, json!({"action": "revert", "revision_id": revision})).await?;
    assert_eq!(reverted.status, 200, "{}", reverted.text());
    author.eventually(&page, FRESHNESS_DEADLINE, |a| a.text().contains("the original text")).await?;
    assert_verified(&server, "a revert")?;

    // Hide the whole project: its page is gone and the front page no longer lists it.
    let project_path = format!("/api/v1/moderation/projects/{id}");
    let gone = moderate(&stranger, &moderator, &project_path, json!({"action": "hide"})).await?;
    assert_eq!(gone.status, 200, "{}", gone.text());
    author.eventually(&page, FRESHNESS_DEADLINE, |a| a.status == 404).await?;
    author.eventually("/", FRESHNESS_DEADLINE, |a| a.status == 200 && !a.text().contains(&name)).await?;
    assert_verified(&server, "hiding a project")?;
    let back = moderate(&stranger, &moderator, &project_path, json!({"action": "restore"})).await?;
    assert_eq!(back.status, 200, "{}", back.text());
    author.eventually(&page, FRESHNESS_DEADLINE, |a| a.status == 200 && a.text().contains("the original text")).await?;
    author.eventually("/", FRESHNESS_DEADLINE, |a| a.text().contains(&name)).await?;
    assert_verified(&server, "restoring a project")?;

    // Every action is in the log, by the moderator's name, and no token is.
    let log = stranger.send(stranger.request(Method::GET, "/api/v1/moderation/log").bearer_auth(&moderator)).await?;
    let actions: Vec<String> = log.json()["actions"]
        .as_array()
        .map(|a| a.iter().filter_map(|a| a["action"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    assert_eq!(actions, ["restore", "hide", "revert", "restore", "hide"], "{}", log.text());
    assert!(!log.text().contains(&moderator) && !server.log_text().contains(&moderator), "no token is logged");
    Ok(())
}
