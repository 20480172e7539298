//! `crowdfund export --from URL --out FILE`: writes a running instance's whole read model as a
//! snapshot file (the admin export, page by page): a backup, or the input of `import`/`build`.

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::client::AdminSource;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    source: AdminSource,
    /// The snapshot file to write.
    #[arg(long)]
    out: PathBuf,
}

pub async fn run(args: Args) -> Result<()> {
    let (instance, _, snapshot) = args.source.export().await?;
    let json = serde_json::to_vec(&snapshot)?;
    std::fs::write(&args.out, json).with_context(|| format!("writing {}", args.out.display()))?;
    println!("export: {} projects from {} into {}", snapshot.projects.len(), instance.base, args.out.display());
    Ok(())
}
