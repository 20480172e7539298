//! Schema-driven fuzzing: schemathesis (PyPI, installed into .venv by scripts/tools.sh)
//! generates requests from data/openapi.yaml against the real Worker, in all four phases
//! (examples, coverage, fuzzing, stateful) and with every check it has, each operation
//! carrying the credential its `security` names (e2e/schemathesis.toml). Any finding fails
//! the test; the Worker keeps serving afterwards.

use std::process::Command;

use crowdfund_e2e::{dev_var, repo_root, Options, Server};
use serde_json::Value;

/// The phases that must all have run.
const PHASES: &[&str] = &["examples", "coverage", "fuzzing", "stateful"];

#[tokio::test]
async fn fuzzing_the_openapi_description_finds_nothing() -> anyhow::Result<()> {
    // Rate limits off: the fuzzer sends far more writes than a person would.
    let server =
        Server::start_with(Options { vars: vec![("RATE_LIMITS".into(), "off".into())], ..Options::default() })?;
    let client = server.client();
    // The fuzzer's visitor proposes something for the generated ids to hit, so it is the
    // author of what it edits and the proposer of the tags it removes.
    let visitor_token = client.become_voter().await?;
    for i in 0..3 {
        client
            .propose(&serde_json::json!({"project_name": format!("Fuzz target {i}"), "tagline": "t", "tags": ["fuzz"],
                "problems": ["p"], "solutions": ["s"]}))
            .await?;
    }
    let root = repo_root();
    let report = root.join("target/schemathesis/report.json");
    let _ = std::fs::remove_file(&report);
    let output = Command::new(root.join(".venv/bin/schemathesis"))
        .arg("--config-file")
        .arg(root.join("e2e/schemathesis.toml"))
        .args(["run", "data/openapi.yaml", "--url", &server.url, "--no-color"])
        // Every check: e2e/schemathesis.toml enables them all.
        .args(["--phases", &PHASES.join(",")])
        // Bounds the run: fuzzing and stateful testing repeat until the budget is spent.
        .args(["--max-time", "150"])
        .arg("--report-json-path")
        .arg(&report)
        .arg("--report-junit-path")
        .arg(root.join("target/schemathesis/junit.xml"))
        .current_dir(&root)
        .env("CROWDFUND_VISITOR_TOKEN", &visitor_token)
        .env("CROWDFUND_ADMIN_TOKEN", dev_var("ADMIN_TOKEN")?)
        .env("SCHEMATHESIS_HOOKS", root.join("e2e/schemathesis_hooks.py"))
        .output()?;
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    let summary: Vec<&str> = text.lines().rev().take(40).collect::<Vec<_>>().into_iter().rev().collect();
    println!("{}", summary.join("\n"));
    assert!(output.status.success(), "schemathesis found failures:\n{text}\n--- server log ---\n{}", server.log_tail());

    let report: Value = serde_json::from_str(&std::fs::read_to_string(&report)?)?;
    let generated = report["test_cases"]["generated"].as_u64().unwrap_or(0);
    println!("schemathesis: {generated} test cases generated, seed {}", report["seed"]);
    assert!(generated > 100, "the fuzzer ran: {report}");
    for phase in PHASES {
        assert_eq!(report["phases"][phase]["status"], "success", "the {phase} phase ran and found nothing: {report}");
    }
    assert_eq!(report["failures"], serde_json::json!([]), "no failures");
    assert_eq!(report["errors"], serde_json::json!([]), "no errors");
    assert_eq!(client.get("/api/v1/health").await?.status, 200, "the Worker keeps serving");
    Ok(())
}
