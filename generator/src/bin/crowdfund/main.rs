//! `crowdfund`: the generator's command line. One file per subcommand:
//! `build` (full site from a snapshot or a running instance), `seed` (load projects through the
//! public write API), `verify` (compare what an instance serves with a full build of its data),
//! `export` and `import` (back up and move a site's data, admin), `rebuild` (re-render every
//! page, admin), `cron` (fire a local Worker's cron triggers). Long commands show progress
//! (`progress`) and retry through rate limits and transient failures (`retry`).

use clap::{Parser, Subcommand};

mod build;
mod client;
mod cron;
mod export;
mod import;
mod progress;
mod rebuild;
mod retry;
mod seed;
mod verify;

/// A full build allocates and frees millions of small strings on every core; mimalloc's
/// per-thread free lists take measurably less CPU for that than glibc's arenas
/// (docs/BENCHMARKS.md). Built without transparent huge pages (`no_thp`): zeroing 2 MB pages
/// on first touch cost a fifth of a 1k-project build.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "crowdfund", version, about = "Build, seed and verify crowdfund sites")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build the whole static site into a directory.
    Build(build::Args),
    /// Load projects through the public write API of a running instance.
    Seed(seed::Args),
    /// Write an instance's whole data as a snapshot file (admin).
    Export(export::Args),
    /// Load a snapshot file into an instance, ids and totals kept, then rebuild (admin);
    /// resumes an interrupted import.
    Import(import::Args),
    /// Re-render every page of an instance (admin); --wait follows it to the end.
    Rebuild(rebuild::Args),
    /// Check that every page an instance serves equals a full rebuild from its data.
    Verify(verify::Args),
    /// Fire a local Worker's cron triggers (wrangler dev does not), at start and on schedule.
    Cron(cron::Args),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Build(args) => build::run(args).await,
        Command::Seed(args) => seed::run(args).await,
        Command::Export(args) => export::run(args).await,
        Command::Import(args) => import::run(args).await,
        Command::Rebuild(args) => rebuild::run(args).await,
        Command::Verify(args) => verify::run(args).await,
        Command::Cron(args) => cron::run(args).await,
    }
}
