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
