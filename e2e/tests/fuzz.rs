//! Schema-driven fuzzing: schemathesis (PyPI, installed into .venv by scripts/tools.sh)
//! generates requests from data/openapi.yaml against the real Worker; no answer may be a 5xx,
//! and the Worker keeps serving afterwards.

use std::process::Command;

use crowdfund_e2e::{dev_var, repo_root, Options, Server};

#[tokio::test]
async fn fuzzing_the_openapi_description_finds_no_server_error() -> anyhow::Result<()> {
    // Rate limits off: the fuzzer sends far more writes than a person would.
    let server =
        Server::start_with(Options { vars: vec![("RATE_LIMITS".into(), "off".into())], ..Options::default() })?;
    let client = server.client();
    // Something for the generated ids to hit.
    client.become_voter().await?;
    for i in 0..3 {
        client
            .propose(&serde_json::json!({"project_name": format!("Fuzz target {i}"), "tagline": "t", "tags": ["fuzz"],
                "problems": ["p"], "solutions": ["s"]}))
            .await?;
    }
    let root = repo_root();
    let report = root.join("target/schemathesis");
    let output = Command::new(root.join(".venv/bin/schemathesis"))
        .args(["run", "data/openapi.yaml", "--url", &server.url])
        .args(["--checks", "not_a_server_error", "--max-examples", "30", "--seed", "7"])
        // One worker: with two, hypothesis parses lambda sources from two threads at once and
        // CPython 3.11 (gh-106905) can fail with "AST constructor recursion depth mismatch",
        // an error of the fuzzer, not of the Worker.
        .args(["--workers", "1"])
        .args(["--phases", "examples,coverage,fuzzing", "--max-time", "90", "--request-timeout", "30"])
        .args(["--header", &format!("Authorization: Bearer {}", dev_var("ADMIN_TOKEN")?)])
        .args(["--header", &format!("Origin: {}", server.url)])
        .arg("--report-junit-path")
        .arg(report.join("junit.xml"))
        .current_dir(&root)
        .env("SCHEMATHESIS_HOOKS", "")
        .output()?;
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    let summary: Vec<&str> = text.lines().rev().take(25).collect::<Vec<_>>().into_iter().rev().collect();
    println!("{}", summary.join("\n"));
    assert!(output.status.success(), "schemathesis found failures:\n{text}\n--- server log ---\n{}", server.log_tail());
    assert_eq!(client.get("/api/v1/health").await?.status, 200, "the Worker keeps serving");
    Ok(())
}
