//! The local edge's configuration (edge/edge.vcl) against a scripted origin: caching from the
//! origin's headers, `cf-cache-status`, `Cache-Tag` to xkey, purges by tag, prefix and
//! everything on the purge listener only, revalidation. The checks are edge/test/test_vcl.py's.

use std::process::Command;

use crowdfund_e2e::repo_root;

#[test]
fn the_local_edge_behaves_like_cloudflares() {
    let out = Command::new("python3")
        .arg(repo_root().join("edge/test/test_vcl.py"))
        .current_dir(repo_root())
        .output()
        .expect("python3 runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let failed: Vec<&str> = text.lines().filter(|l| l.starts_with("FAIL")).collect();
    assert!(
        out.status.success() && failed.is_empty(),
        "edge checks failed:\n{}\n{}",
        failed.join("\n"),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{}", text.lines().last().unwrap_or_default());
}
