//! `make dev` itself, as a newcomer runs it: on a free port, with a fresh state directory, until
//! it has seeded `data/seed.json` and serves; stopped by process group on drop.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::{free_port, repo_root, TempDir};

/// A running `make dev`.
pub struct MakeDev {
    pub url: String,
    child: Option<Child>,
    log: PathBuf,
    _tmp: TempDir,
}

impl MakeDev {
    /// Runs `make dev PORT=<free> STATE=<fresh>` and waits until the seed projects are in.
    pub fn start(seeded_projects: i64) -> Result<Self> {
        let tmp = TempDir::new("crowdfund-make-dev")?;
        let port = free_port()?;
        let log = tmp.0.join("make-dev.log");
        let out = std::fs::File::create(&log)?;
        let child = Command::new("make")
            .args(["--no-print-directory", "dev", &format!("PORT={port}")])
            .arg(format!("STATE={}", tmp.0.join("state").display()))
            .current_dir(repo_root())
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .process_group(0)
            .spawn()
            .context("running make dev")?;
        let mut dev = MakeDev { url: format!("http://127.0.0.1:{port}"), child: Some(child), log, _tmp: tmp };
        dev.wait_seeded(seeded_projects, Duration::from_secs(300))?;
        Ok(dev)
    }

    fn wait_seeded(&mut self, projects: i64, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        let health = format!("{}/api/v1/health", self.url);
        while Instant::now() < deadline {
            if let Some(status) = self.child.as_mut().map(Child::try_wait).transpose()?.flatten() {
                bail!("make dev exited with {status}:\n{}", self.log_tail());
            }
            let out = Command::new("curl").args(["-fsS", "-m", "2", &health]).output()?;
            let seeded = serde_json::from_slice::<serde_json::Value>(&out.stdout)
                .is_ok_and(|h| h["projects"].as_i64() == Some(projects));
            // "serving" is printed after the seed: the site is what a newcomer sees.
            if seeded && self.log_text().contains("crowdfund is serving") {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        bail!("make dev did not serve {projects} seeded projects within {timeout:?}:\n{}", self.log_tail())
    }

    /// Everything `make dev` printed.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn log_tail(&self) -> String {
        let text = self.log_text();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for MakeDev {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            crate::stop_group(&mut child);
        }
    }
}
