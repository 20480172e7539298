//! `crowdfund import --to URL FILE`: loads a snapshot file into an instance through the admin
//! import (ids, times and vote totals kept), in chunks, then starts an admin rebuild so the
//! pages follow. The target should be empty: ids or names already present are refused.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use generator::model::Snapshot;
use serde_json::json;

use crate::client::{self, Instance};

/// Projects per import call (the Worker accepts at most 20).
const CHUNK: usize = 20;

#[derive(clap::Args)]
pub struct Args {
    /// Base URL of the running instance.
    #[arg(long)]
    to: String,
    /// Admin bearer token (default: $CROWDFUND_ADMIN_TOKEN).
    #[arg(long)]
    admin_token: Option<String>,
    /// The snapshot file.
    file: PathBuf,
}

pub async fn run(args: Args) -> Result<()> {
    let instance = Instance::new(&args.to)?;
    let token = client::admin_token(args.admin_token.as_deref())?;
    let text = std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let snapshot: Snapshot =
        serde_json::from_slice(&text).with_context(|| format!("parsing {}", args.file.display()))?;
    for (i, chunk) in snapshot.projects.chunks(CHUNK).enumerate() {
        let url = format!("{}/api/v1/admin/import", instance.base);
        let response = instance.http.post(&url).bearer_auth(&token).json(&json!({ "projects": chunk })).send().await?;
        if !response.status().is_success() {
            let status = response.status();
            bail!("import chunk {i}: {status}: {}", response.text().await.unwrap_or_default());
        }
    }
    let url = format!("{}/api/v1/admin/rebuilds", instance.base);
    let started: serde_json::Value =
        instance.http.post(&url).bearer_auth(&token).send().await?.error_for_status()?.json().await?;
    println!(
        "import: {} projects into {}; rebuild started: {}",
        snapshot.projects.len(),
        instance.base,
        started["status_url"].as_str().unwrap_or("?")
    );
    Ok(())
}
