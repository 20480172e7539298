//! Admin operations: the rebuild re-renders every page from D1 in bounded steps with progress,
//! and admin routes refuse callers without the bearer token.

use crowdfund_e2e::{crowdfund_cli, dev_var, unique, Options, Server, FRESHNESS_DEADLINE};
use serde_json::json;

#[tokio::test]
async fn a_rebuild_repairs_every_stale_page_and_reports_progress() -> anyhow::Result<()> {
    // REDRIVE_AFTER_MS is large so only the rebuild can repair the pages in this test.
    let options = Options {
        vars: vec![("TEST_HOOKS".into(), "1".into()), ("REDRIVE_AFTER_MS".into(), "86400000".into())],
        ..Options::default()
    };
    let server = Server::start_with(options)?;
    let client = server.client();
    let token = dev_var("ADMIN_TOKEN")?;

    // Writes whose messages are lost: their pages are never published.
    for i in 0..5 {
        let body = json!({"project_name": unique("Stale"), "tagline": format!("stale {i}"), "tags": ["stale", format!("t{i}")]});
        let req =
            client.request(reqwest::Method::POST, "/api/v1/projects").header("x-test-drop-message", "1").json(&body);
        assert_eq!(client.send(req).await?.status, 201);
    }
    let out = crowdfund_cli(&["verify", "--from", &server.url])?;
    assert!(!out.status.success(), "verify sees the unpublished pages before the rebuild");

    // Without the token: 401, nothing started.
    let anonymous = client.send(client.request(reqwest::Method::POST, "/api/v1/admin/rebuilds")).await?;
    assert_eq!(anonymous.status, 401);
    assert_eq!(anonymous.error_code(), "unauthenticated");
    let wrong = client
        .send(client.request(reqwest::Method::POST, "/api/v1/admin/rebuilds").bearer_auth("not-the-token"))
        .await?;
    assert_eq!(wrong.status, 401);

    let started =
        client.send(client.request(reqwest::Method::POST, "/api/v1/admin/rebuilds").bearer_auth(&token)).await?;
    assert_eq!(started.status, 202, "{}", started.text());
    let status_url = started.json()["status_url"].as_str().expect("status_url").to_owned();
    let start = std::time::Instant::now();
    loop {
        let progress = client.send(client.request(reqwest::Method::GET, &status_url).bearer_auth(&token)).await?.json();
        if progress["done"] == true {
            assert_eq!(progress["phase"], "done");
            assert!(progress["pages_rendered"].as_i64().unwrap_or(0) >= 5 + 1 + 6 * 2, "{progress}");
            println!("rebuild: {progress}");
            break;
        }
        assert!(start.elapsed() < FRESHNESS_DEADLINE, "the rebuild did not finish: {progress}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let out = crowdfund_cli(&["verify", "--from", &server.url])?;
    assert!(out.status.success(), "verify after the rebuild:\n{}", String::from_utf8_lossy(&out.stdout));
    Ok(())
}

#[tokio::test]
async fn export_then_import_moves_a_site_with_ids_times_and_totals() -> anyhow::Result<()> {
    let source = Server::start()?;
    let client = source.client();
    client.become_voter().await?;
    for i in 0..4 {
        let id = client
            .propose(&json!({"project_name": unique("Moving"), "tagline": format!("moving {i}"), "tags": ["move", format!("m{i}")],
                "problems": ["a **problem**"], "solutions": ["a solution"]}))
            .await?;
        let first = client.first_thread(id).await?;
        client.post(&format!("/api/v1/threads/{first}/vote"), &json!({"direction": "up"})).await?;
        let reply = json!({"threads": [{"message": "a reply", "parent_id": first}]});
        client.post(&format!("/api/v1/projects/{id}/threads"), &reply).await?;
    }
    let dir = crowdfund_e2e::TempDir::new("crowdfund-move")?;
    let file = dir.0.join("snapshot.json");
    let file = file.to_str().expect("utf-8 path");
    let out = crowdfund_cli(&["export", "--from", &source.url, "--out", file])?;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let target = Server::start()?;
    let out = crowdfund_cli(&["import", "--to", &target.url, file])?;
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{said}{}", String::from_utf8_lossy(&out.stderr));
    let status_url = said.split("rebuild started: ").nth(1).expect("a rebuild was started").trim().to_owned();
    let target_client = target.client();
    let token = dev_var("ADMIN_TOKEN")?;
    let start = std::time::Instant::now();
    while target_client.send(target_client.request(reqwest::Method::GET, &status_url).bearer_auth(&token)).await?.json()
        ["done"]
        != true
    {
        assert!(start.elapsed() < FRESHNESS_DEADLINE, "the rebuild after the import did not finish");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    // Same data (ids, times, totals), and the published site equals a full build.
    let copy = dir.0.join("copy.json");
    let copy = copy.to_str().expect("utf-8 path");
    assert!(crowdfund_cli(&["export", "--from", &target.url, "--out", copy])?.status.success());
    let original: serde_json::Value = serde_json::from_slice(&std::fs::read(file)?)?;
    let moved: serde_json::Value = serde_json::from_slice(&std::fs::read(copy)?)?;
    assert_eq!(original, moved);
    let out = crowdfund_cli(&["verify", "--from", &target.url])?;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));

    // Imported totals are a baseline: the next vote moves them by one.
    let first = &moved["projects"][0]["threads"][0];
    let (thread, up) = (first["thread_id"].as_i64().expect("id"), first["up_vote"].as_i64().expect("up"));
    target_client.become_voter().await?;
    let vote = target_client.post(&format!("/api/v1/threads/{thread}/vote"), &json!({"direction": "up"})).await?.json();
    assert_eq!(vote["up_vote"], up + 1);

    // Importing the same data again is a conflict, and writes nothing.
    let again = crowdfund_cli(&["import", "--to", &target.url, file])?;
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("409"));
    Ok(())
}
