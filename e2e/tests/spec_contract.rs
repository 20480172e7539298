//! What every newcomer tries first, exactly as written: the spec's curl (sent by curl itself,
//! so its bytes and headers are curl's), the README's quick-start commands against `make dev`,
//! and the rules a burst or a foreign page must not break: the tag limit under concurrency, and
//! CSRF for every content type.

use std::process::Command;

use crowdfund_e2e::make_dev::MakeDev;
use crowdfund_e2e::{repo_root, unique, Server, FRESHNESS_DEADLINE};
use reqwest::Method;
use serde_json::{json, Value};

/// The spec's example body, as the spec writes it.
const SPEC_BODY: &str = r#"{"project_name": "Popee the Performer", "tagline": "an apprentice clown in Wolf Circus", "problems": ["short temper", "self centered"], "solutions": ["play the drums"], "tags": ["clown", "circus"]}"#;

/// Runs a shell command line (as a reader pastes it) and returns what it printed.
fn sh(line: &str) -> anyhow::Result<String> {
    let out = Command::new("bash").args(["-c", line]).current_dir(repo_root()).output()?;
    anyhow::ensure!(out.status.success(), "`{line}` failed: {}", String::from_utf8_lossy(&out.stderr));
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[tokio::test]
async fn the_specs_curl_verbatim_is_a_created_project() -> anyhow::Result<()> {
    let server = Server::start()?;
    // curl -X POST -d '...' (no -H): sent as application/x-www-form-urlencoded, no Origin.
    let url = format!("http://localhost:{}/projects/propose", server.port);
    let out = sh(&format!("curl -sS -i -X POST -d '{SPEC_BODY}' {url}"))?;
    let (head, body) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
    assert!(head.starts_with("HTTP/1.1 201"), "{out}");
    let answer: Value = serde_json::from_str(body)?;
    let id = answer["project_id"].as_i64().expect("an integer project_id");
    let token = answer["visitor_token"].as_str().expect("the proposer is issued an identity");
    assert_eq!(answer, json!({ "project_id": id, "visitor_token": token }));
    let project = server.client().get(&format!("/projects/{id}")).await?.json();
    assert_eq!(project["project_name"], "Popee the Performer");
    assert_eq!(project["tags"], json!(["circus", "clown"]));
    assert_eq!(project["threads"].as_array().map(Vec::len), Some(3));
    Ok(())
}

/// The README's quick-start commands: the lines of its first `sh` block after the two make
/// commands, each followed by `# expected` lines (`...` elides). Output and expectations are
/// compared with whitespace removed, so pretty-printed JSON matches its one-line summary.
fn readme_examples() -> Vec<(String, Vec<String>)> {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).expect("README.md");
    let start = readme.find("The spec's own example").expect("the README shows the spec's example");
    let block = readme[start..].split("```sh\n").nth(1).and_then(|b| b.split("```").next()).expect("an sh block");
    let mut examples: Vec<(String, Vec<String>)> = Vec::new();
    for line in block.lines() {
        match (line.strip_prefix("# "), examples.last_mut()) {
            (Some(expected), Some((_, expectations))) => expectations.push(expected.to_owned()),
            (Some(_), None) => panic!("an expectation before any command: {line}"),
            (None, _) if line.trim().is_empty() => {}
            (None, _) => examples.push((line.to_owned(), Vec::new())),
        }
    }
    examples
}

fn squeeze(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

#[tokio::test]
async fn the_readme_quick_start_works_as_written_on_make_dev() -> anyhow::Result<()> {
    let examples = readme_examples();
    assert!(examples.len() >= 3, "{examples:?}");
    let seed: Value = serde_json::from_str(&std::fs::read_to_string(repo_root().join("data/seed.json"))?)?;
    let seeded = seed["projects"].as_array().map_or(0, Vec::len) as i64;
    let dev = MakeDev::start(seeded)?;
    for (command, expectations) in examples {
        assert!(command.starts_with("curl "), "the quick start shows curl commands: {command}");
        let output = squeeze(&sh(&command.replace("http://127.0.0.1:8787", &dev.url))?);
        for expected in &expectations {
            let mut rest = output.as_str();
            for fragment in squeeze(expected).split("...").filter(|f| !f.is_empty()) {
                let at = rest.find(fragment).unwrap_or_else(|| {
                    panic!("`{command}` printed\n{output}\nwithout `{fragment}` (README: `# {expected}`)")
                });
                rest = &rest[at + fragment.len()..];
            }
        }
    }
    Ok(())
}

#[tokio::test]
async fn the_tag_limit_holds_under_a_concurrent_burst() -> anyhow::Result<()> {
    let server = Server::start()?;
    let client = server.client();
    let id = client.propose(&json!({"project_name": unique("Tag burst"), "tagline": "t"})).await?;
    let burst = (0..24).map(|i| {
        let client = client.clone();
        async move {
            let tag = format!("burst-{i}");
            let answer = client.post(&format!("/api/v1/projects/{id}/tags"), &json!({ "add": [&tag] })).await?;
            anyhow::Ok((tag, answer))
        }
    });
    let answers = futures_join_all(burst).await?;
    // The published page follows the writes: read it once every change is published (it was
    // never read before, so the edge holds no older copy).
    client.eventually("/api/v1/health", FRESHNESS_DEADLINE, |a| a.json()["outbox_backlog"].as_i64() == Some(0)).await?;
    let tags: Vec<String> =
        serde_json::from_value(client.get(&format!("/projects/{id}")).await?.json()["tags"].clone())?;
    assert_eq!(tags.len(), 10, "at most 10 tags, whatever the interleaving: {tags:?}");
    for (tag, answer) in &answers {
        match answer.status {
            200 => assert!(tags.contains(tag), "{tag} was acknowledged but is missing"),
            409 => {
                assert!(!tags.contains(tag), "{tag} was refused but is present");
                assert_eq!(answer.json()["error"]["field"], "add");
            }
            other => panic!("{tag}: unexpected {other}: {}", answer.text()),
        }
    }
    assert_eq!(answers.iter().filter(|(_, a)| a.status == 200).count(), 10);
    Ok(())
}

/// Runs futures concurrently on the test's runtime and collects their results in order.
async fn futures_join_all<T: Send + 'static>(
    futures: impl Iterator<Item = impl std::future::Future<Output = anyhow::Result<T>> + Send + 'static>,
) -> anyhow::Result<Vec<T>> {
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await??);
    }
    Ok(out)
}

#[tokio::test]
async fn cross_site_writes_are_refused_whatever_the_content_type() -> anyhow::Result<()> {
    let server = Server::start()?;
    let client = server.client();
    let evil = "https://evil.example";
    let body = || json!({"project_name": unique("CSRF"), "tagline": "t"}).to_string();
    let form = "project_name=CSRF+form&tagline=t&return_to=%2F".to_owned();
    let cases = [
        ("a cross-site form post", "application/x-www-form-urlencoded", form, Some(evil), None),
        ("a cross-site text/plain body holding JSON", "text/plain", body(), Some(evil), None),
        (
            "a cross-site JSON post as a form (no preflight)",
            "application/x-www-form-urlencoded",
            body(),
            Some(evil),
            None,
        ),
        ("a cross-site multipart post", "multipart/form-data; boundary=x", body(), Some(evil), None),
        ("a sandboxed page (Origin: null)", "text/plain", body(), Some("null"), None),
        ("a cross-site Referer without Origin", "text/plain", body(), None, Some("https://evil.example/page")),
    ];
    for (label, content_type, body, origin, referer) in cases {
        let mut req = client.request(Method::POST, "/api/v1/projects").header("content-type", content_type).body(body);
        if let Some(origin) = origin {
            req = req.header("origin", origin);
        }
        if let Some(referer) = referer {
            req = req.header("referer", referer);
        }
        let answer = client.send(req).await?;
        assert_eq!((answer.status, answer.error_code().as_str()), (403, "forbidden"), "{label}: {}", answer.text());
    }
    assert_eq!(client.get("/api/v1/health").await?.json()["projects"], 0, "nothing was written");

    // The same bodies from this site's own pages, or from no browser at all, are taken.
    let own = client
        .send(
            client
                .request(Method::POST, "/api/v1/projects")
                .header("content-type", "text/plain")
                .header("origin", &server.url)
                .body(json!({"project_name": unique("Own page"), "tagline": "t"}).to_string()),
        )
        .await?;
    assert_eq!(own.status, 201, "{}", own.text());
    Ok(())
}

#[tokio::test]
async fn head_answers_like_get_and_small_error_shapes_hold() -> anyhow::Result<()> {
    let server = Server::start()?;
    let client = server.client();
    let id = client.propose(&json!({"project_name": unique("Head"), "tagline": "t", "problems": ["p"]})).await?;
    for path in ["/api/v1/health".to_owned(), format!("/api/v1/projects/{id}/threads")] {
        let get = client.get(&path).await?;
        let head = client.send(client.request(Method::HEAD, &path)).await?;
        assert_eq!((get.status, head.status), (200, 200), "{path}");
        assert!(head.body.is_empty(), "{path}: HEAD has no body");
        assert_eq!(head.header("content-type"), get.header("content-type"), "{path}");
    }
    let missing = client.get("/api/v1/projects/999999/threads").await?;
    assert_eq!((missing.status, missing.json()["error"]["field"].as_str()), (404, Some("project_id")));

    let admin = crowdfund_e2e::dev_var("ADMIN_TOKEN")?;
    let snapshot = |extra: Value| {
        let mut project = json!({"project_id": 500, "project_name": unique("Imported"), "tagline": "t", "tags": [],
            "created_at": "2026-01-01T00:00:00Z", "threads": []});
        if let (Some(p), Some(e)) = (project.as_object_mut(), extra.as_object()) {
            p.extend(e.clone());
        }
        json!({ "projects": [project] })
    };
    let unknown = client
        .send(
            client
                .request(Method::POST, "/api/v1/admin/import")
                .bearer_auth(&admin)
                .json(&snapshot(json!({"colour": "red"}))),
        )
        .await?;
    assert_eq!((unknown.status, unknown.error_code().as_str()), (422, "invalid"), "{}", unknown.text());
    let text = client
        .send(
            client
                .request(Method::POST, "/api/v1/admin/import")
                .bearer_auth(&admin)
                .header("content-type", "text/plain")
                .body(snapshot(json!({})).to_string()),
        )
        .await?;
    assert_eq!(text.status, 415, "{}", text.text());
    Ok(())
}
