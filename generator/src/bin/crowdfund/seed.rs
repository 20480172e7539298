//! `crowdfund seed --to URL FILE`: proposes each project of FILE through the public write API,
//! then adds its comments. FILE is `{"projects": [{project_name, tagline, tags, problems,
//! solutions, comments?}]}` (data/seed.json).

use std::path::PathBuf;

use anyhow::{Context, Result};
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::client::Instance;

#[derive(clap::Args)]
pub struct Args {
    /// Base URL of the running instance.
    #[arg(long)]
    to: String,
    /// Seed only when the instance has no project yet.
    #[arg(long)]
    if_empty: bool,
    /// The seed file.
    file: PathBuf,
}

#[derive(Deserialize)]
struct SeedFile {
    projects: Vec<SeedProject>,
}

#[derive(Deserialize)]
struct SeedProject {
    project_name: String,
    tagline: String,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    problems: Vec<String>,
    #[serde(default)]
    solutions: Vec<String>,
    #[serde(default)]
    comments: Vec<String>,
}

pub async fn run(args: Args) -> Result<()> {
    let instance = Instance::new(&args.to)?;
    if args.if_empty {
        let health: Value = instance.get_json("/api/v1/health").await?;
        if health["projects"].as_i64().unwrap_or(0) > 0 {
            println!("seed: {} already has projects; nothing to do", instance.base);
            return Ok(());
        }
    }
    let text = std::fs::read_to_string(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let seed: SeedFile = serde_json::from_str(&text).with_context(|| format!("parsing {}", args.file.display()))?;
    for p in &seed.projects {
        let body = json!({"project_name": p.project_name, "tagline": p.tagline, "tags": p.tags,
                          "problems": p.problems, "solutions": p.solutions});
        let answer = instance.write(Method::POST, "/api/v1/projects", &body).await?;
        let id = answer["project_id"].as_i64().context("no project_id in the answer")?;
        if !p.comments.is_empty() {
            let threads: Vec<Value> =
                p.comments.iter().map(|m| json!({"thread_type": "COMMENT", "message": m})).collect();
            instance
                .write(Method::POST, &format!("/api/v1/projects/{id}/threads"), &json!({"threads": threads}))
                .await?;
        }
        println!("seed: project {id}: {}", p.project_name);
    }
    println!("seed: {} projects loaded into {}", seed.projects.len(), instance.base);
    Ok(())
}
