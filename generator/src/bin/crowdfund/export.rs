//! `crowdfund export --from URL --out FILE`: writes a running instance's whole read model as a
//! snapshot file (the admin export, page by page): a backup, or the input of `import`/`build`.

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::client::{self, Instance};

#[derive(clap::Args)]
pub struct Args {
    /// Base URL of the running instance.
    #[arg(long)]
    from: String,
    /// Admin bearer token (default: $CROWDFUND_ADMIN_TOKEN).
    #[arg(long)]
    admin_token: Option<String>,
    /// The snapshot file to write.
    #[arg(long)]
    out: PathBuf,
}

pub async fn run(args: Args) -> Result<()> {
    let instance = Instance::new(&args.from)?;
    let (_, snapshot) = client::export(&instance, &client::admin_token(args.admin_token.as_deref())?).await?;
    let json = serde_json::to_vec(&snapshot)?;
    std::fs::write(&args.out, json).with_context(|| format!("writing {}", args.out.display()))?;
    println!("export: {} projects from {} into {}", snapshot.projects.len(), instance.base, args.out.display());
    Ok(())
}
