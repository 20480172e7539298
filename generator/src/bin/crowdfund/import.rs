//! `crowdfund import --to URL FILE`: loads a snapshot file into an instance through the admin
//! import (ids, times and vote totals kept), in chunks, with progress, then starts an admin
//! rebuild so the pages follow (`--wait` follows it to the end). Each chunk is retried through
//! rate limits and transient failures, and the import resumes: run again after an interruption,
//! it skips the projects already there with the same content and loads the rest. Only a real
//! conflict (a project there with other content, an id or name another project holds) stops it.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use generator::model::Snapshot;
use serde_json::json;

use crate::client::AdminTarget;
use crate::progress::Progress;
use crate::{rebuild, retry};

/// Projects per import call (the Worker accepts at most 20).
const CHUNK: usize = 20;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    target: AdminTarget,
    /// Follow the rebuild that follows the import to its end, with progress.
    #[arg(long)]
    wait: bool,
    /// The snapshot file.
    file: PathBuf,
}

pub async fn run(args: Args) -> Result<()> {
    let (instance, token) = args.target.connect()?;
    let text = std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let snapshot: Snapshot =
        serde_json::from_slice(&text).with_context(|| format!("parsing {}", args.file.display()))?;
    let url = format!("{}/api/v1/admin/import", instance.base);
    let mut progress = Progress::new("import", "projects", snapshot.projects.len() as u64);
    let (mut loaded, mut skipped) = (0, 0);
    for (i, chunk) in snapshot.projects.chunks(CHUNK).enumerate() {
        let body = json!({ "projects": chunk });
        let what = format!("import chunk {i}");
        let response = retry::send(&what, || instance.http.post(&url).bearer_auth(&token).json(&body)).await?;
        let status = response.status();
        let answer: serde_json::Value = response.json().await.unwrap_or_default();
        if !status.is_success() {
            bail!(
                "{what}: {status}: {answer}\n{} projects are in; fix the conflict and run the same command again to \
                 load the rest",
                progress.done()
            );
        }
        loaded += answer["projects"].as_u64().unwrap_or(0);
        skipped += answer["skipped"].as_u64().unwrap_or(0);
        progress.inc(chunk.len() as u64);
    }
    let took = progress.finish();
    println!(
        "import: {loaded} projects loaded, {skipped} already there, into {} in {:.1} s",
        instance.base,
        took.as_secs_f64()
    );
    let status_url = rebuild::start(&instance, &token).await?;
    if args.wait {
        println!("rebuild: {}", rebuild::summary(&rebuild::follow(&instance, &token, &status_url).await?));
    } else {
        println!("import: rebuild started: {status_url}");
    }
    Ok(())
}
