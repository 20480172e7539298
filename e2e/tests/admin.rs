//! Admin operations: the rebuild re-renders every page from D1 in bounded steps with progress,
//! admin routes refuse callers without the bearer token, and an import killed halfway
//! completes when run again.

use std::time::{Duration, Instant};

use crowdfund_e2e::{crowdfund_cli, crowdfund_command, dev_var, unique, Options, Server, FRESHNESS_DEADLINE};
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

/// A snapshot of `n` projects with a thread each, in the export's format.
fn snapshot(n: i64) -> serde_json::Value {
    let projects: Vec<_> = (1..=n)
        .map(|id| {
            json!({"project_id": id, "project_name": format!("Moved project {id}"), "tagline": format!("moved {id}"),
                "tags": ["moved", format!("group-{}", id % 7)], "created_at": "2026-01-02T03:04:05Z",
                "threads": [{"thread_id": id, "project_id": id, "parent_id": null, "thread_type": "PROBLEM",
                    "message": format!("problem **{id}**"), "up_vote": id % 5, "down_vote": 1,
                    "created_at": "2026-01-02T03:04:05Z"}]})
        })
        .collect();
    json!({ "projects": projects })
}

#[tokio::test]
async fn an_import_killed_halfway_completes_when_run_again() -> anyhow::Result<()> {
    const PROJECTS: i64 = 2000;
    let dir = crowdfund_e2e::TempDir::new("crowdfund-resume")?;
    let file = dir.0.join("snapshot.json");
    std::fs::write(&file, serde_json::to_vec(&snapshot(PROJECTS))?)?;
    let file = file.to_str().expect("utf-8 path");
    let target = Server::start()?;
    let client = target.client();
    let projects =
        || async { anyhow::Ok(client.get("/api/v1/health").await?.json()["projects"].as_i64().unwrap_or(-1)) };

    // The first run is killed once some chunks are in.
    let mut first = crowdfund_command(&["import", "--to", &target.url, file])?
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let deadline = Instant::now() + FRESHNESS_DEADLINE;
    while projects().await? < 200 {
        assert!(first.try_wait()?.is_none(), "the import ended before it could be interrupted");
        assert!(Instant::now() < deadline, "the import loaded nothing");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.kill()?;
    first.wait()?;
    let half = projects().await?;
    assert!(half < PROJECTS, "the import was interrupted halfway: {half} of {PROJECTS}");
    assert_eq!(half % 20, 0, "a chunk is all or nothing: {half} projects are in");

    // The second run skips what is in, loads the rest and follows the rebuild to its end.
    let out = crowdfund_cli(&["import", "--wait", "--to", &target.url, file])?;
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{said}{}", String::from_utf8_lossy(&out.stderr));
    let numbers: Vec<i64> = said
        .split("import: ")
        .nth(1)
        .expect("an import summary")
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .take(2)
        .collect();
    let (loaded, skipped) = (numbers[0], numbers[1]);
    assert_eq!(loaded + skipped, PROJECTS, "{said}");
    assert!(skipped >= half, "{said}");
    assert!(said.contains("rebuild: ") && said.contains("pages in"), "{said}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("import: 2000/2000 projects (100%)"));
    assert_eq!(projects().await?, PROJECTS);

    // Every page equals a full build of the data, which equals the file.
    let out = crowdfund_cli(&["verify", "--from", &target.url])?;
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && said.contains("equal a full build (compared in"), "{said}");
    let copy = dir.0.join("copy.json");
    let copy = copy.to_str().expect("utf-8 path");
    let out = crowdfund_cli(&["export", "--from", &target.url, "--out", copy])?;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let moved: serde_json::Value = serde_json::from_slice(&std::fs::read(copy)?)?;
    assert_eq!(moved["projects"].as_array().map(Vec::len), Some(PROJECTS as usize));
    assert_eq!(moved["projects"][1999]["threads"][0]["message"], "problem **2000**");
    Ok(())
}
