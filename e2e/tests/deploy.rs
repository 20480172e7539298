//! The deployment configuration is valid for both Workers in every environment: `wrangler
//! deploy --dry-run` (which builds, bundles and checks the bindings without uploading)
//! succeeds offline, each environment names its own database, bucket and queues, and the
//! request Worker binds to that environment's publisher.

use crowdfund_e2e::{wrangler, TempDir};

#[test]
fn every_environment_passes_a_dry_run_deploy_of_both_workers() -> anyhow::Result<()> {
    for (env, database, bucket, publisher) in [
        (None, "crowdfund", "crowdfund-pages", "crowdfund-publisher"),
        (Some("staging"), "crowdfund-staging", "crowdfund-staging-pages", "crowdfund-staging-publisher"),
        (Some("production"), "crowdfund-production", "crowdfund-production-pages", "crowdfund-production-publisher"),
    ] {
        for (config, expected) in [
            ("wrangler.toml", vec![database, bucket, "env.DB", "env.PAGES", "env.CHANGES", "env.PUBLISHER", publisher]),
            ("publisher.toml", vec![database, bucket, "env.DB", "env.PAGES", "env.CHANGES"]),
        ] {
            let out = TempDir::new("crowdfund-dry-run")?;
            let mut cmd = wrangler();
            cmd.args(["deploy", "--dry-run", "--config", config, "--outdir"]).arg(&out.0);
            if let Some(env) = env {
                cmd.args(["--env", env]);
            }
            let output = cmd.output()?;
            let text =
                format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
            assert!(output.status.success(), "{config} {env:?}: {text}");
            assert!(text.contains("--dry-run: exiting now"), "{config} {env:?}: {text}");
            for binding in expected {
                assert!(text.contains(binding), "{config} {env:?} lacks {binding}: {text}");
            }
            assert!(std::fs::read_dir(&out.0)?.next().is_some(), "{config}: a bundle was written");
        }
    }
    Ok(())
}
