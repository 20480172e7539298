//! The deployment configuration is valid for every environment: `wrangler deploy --dry-run`
//! (which builds, bundles and checks the bindings without uploading) succeeds offline, and each
//! environment names its own database, bucket and queues.

use crowdfund_e2e::{wrangler, TempDir};

#[test]
fn every_environment_passes_a_dry_run_deploy() -> anyhow::Result<()> {
    for (env, database, bucket) in [
        (None, "crowdfund", "crowdfund-pages"),
        (Some("staging"), "crowdfund-staging", "crowdfund-staging-pages"),
        (Some("production"), "crowdfund-production", "crowdfund-production-pages"),
    ] {
        let out = TempDir::new("crowdfund-dry-run")?;
        let mut cmd = wrangler();
        cmd.args(["deploy", "--dry-run", "--outdir"]).arg(&out.0);
        if let Some(env) = env {
            cmd.args(["--env", env]);
        }
        let output = cmd.output()?;
        let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        assert!(output.status.success(), "{env:?}: {text}");
        assert!(text.contains("--dry-run: exiting now"), "{env:?}: {text}");
        for binding in [database, bucket, "env.DB", "env.PAGES", "env.CHANGES"] {
            assert!(text.contains(binding), "{env:?} lacks {binding}: {text}");
        }
        assert!(out.0.join("shim.mjs").exists() || std::fs::read_dir(&out.0)?.next().is_some(), "a bundle was written");
    }
    Ok(())
}
