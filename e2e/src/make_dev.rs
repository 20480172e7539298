//! `make dev` itself, as a newcomer runs it: on a free port, with a fresh state directory, until
//! it has seeded `data/seed.json` and serves; stopped by process group on drop.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::{free_port, repo_root, TempDir};

/// `make dev` serves on PORT, its Worker on PORT+1 and the edge's purge listener on PORT+2.
const PORTS_USED: u16 = 3;

/// A running `make dev`.
pub struct MakeDev {
    pub url: String,
    child: Option<Child>,
    log: PathBuf,
    _tmp: TempDir,
}

impl MakeDev {
    /// Runs `make dev PORT=<free> STATE=<fresh>` and waits until the seed projects are in.
    /// A port found free can be taken by a concurrent test before `make dev` binds it: when
    /// that is why it stopped, it is run again on fresh ports (three attempts).
    pub fn start(seeded_projects: i64) -> Result<Self> {
        for attempt in 1..=3 {
            let mut dev = Self::spawn()?;
            match dev.wait_seeded(seeded_projects, Duration::from_secs(300)) {
                Ok(()) => return Ok(dev),
                Err(_) if attempt < 3 && dev.log_text().contains("Address already in use") => drop(dev),
                Err(e) => return Err(e),
            }
        }
        bail!("make dev found no free ports in three attempts")
    }

    fn spawn() -> Result<Self> {
        let tmp = TempDir::new("crowdfund-make-dev")?;
        let port = free_run_of_ports(PORTS_USED)?;
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
        Ok(MakeDev { url: format!("http://127.0.0.1:{port}"), child: Some(child), log, _tmp: tmp })
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

/// A port P such that P..P+count were all free a moment ago on 127.0.0.1.
fn free_run_of_ports(count: u16) -> Result<u16> {
    for _ in 0..50 {
        let first = free_port()?;
        let Some(last) = first.checked_add(count - 1) else { continue };
        let held: Vec<_> = (first..=last).map_while(|p| std::net::TcpListener::bind(("127.0.0.1", p)).ok()).collect();
        if held.len() == usize::from(count) {
            return Ok(first);
        }
    }
    bail!("no run of {count} free ports found on 127.0.0.1")
}
