//! `crowdfund export --from URL --out FILE`: writes a running instance's whole read model as a
//! snapshot file (the admin export, page by page, with progress): a backup, or the input of
//! `import`/`build`. Resumable: the pages are kept in `FILE.partial` as they come (one project
//! a line, after a line naming the instance), so running the same command again after an
//! interruption continues after the last project it has; the snapshot is written whole (to a
//! temporary file, then renamed) only at the end, and the partial file removed.

use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use generator::model::{Project, Snapshot};
use serde_json::json;

use crate::client::{self, AdminSource, Instance};
use crate::progress::Progress;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    source: AdminSource,
    /// The snapshot file to write.
    #[arg(long)]
    out: PathBuf,
}

pub async fn run(args: Args) -> Result<()> {
    let instance = Instance::new(&args.source.from)?;
    let token = client::admin_token(args.source.admin_token.as_deref())?;
    let partial = path_with_suffix(&args.out, ".partial");
    let mut projects = resume(&partial, &instance.base)?;
    let resumed = projects.len();
    let mut file = BufWriter::new(
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&partial)
            .with_context(|| format!("opening {}", partial.display()))?,
    );
    if resumed == 0 {
        writeln!(file, "{}", json!({ "from": instance.base }))?;
    }
    let mut progress = Progress::new("export", "projects", client::project_count(&instance).await?);
    progress.set(resumed as u64);
    let after = projects.last().map_or(0, |p: &Project| p.project_id);
    client::export_after(&instance, &token, after, |page| {
        for project in page {
            writeln!(file, "{}", serde_json::to_string(&project)?)?;
            projects.push(project);
        }
        // A page is on disk before the next is asked for: an interruption loses at most one.
        file.flush()?;
        progress.set(projects.len() as u64);
        Ok(())
    })
    .await?;
    drop(file);
    progress.finish();
    let count = projects.len();
    let temporary = path_with_suffix(&args.out, ".tmp");
    std::fs::write(&temporary, serde_json::to_vec(&Snapshot { projects })?)
        .with_context(|| format!("writing {}", temporary.display()))?;
    std::fs::rename(&temporary, &args.out).with_context(|| format!("writing {}", args.out.display()))?;
    std::fs::remove_file(&partial).with_context(|| format!("removing {}", partial.display()))?;
    let note = if resumed > 0 { format!(" ({resumed} of them kept from an interrupted run)") } else { String::new() };
    println!("export: {count} projects from {} into {}{note}", instance.base, args.out.display());
    Ok(())
}

/// The projects an interrupted export of `base` kept in `partial` (none if there is no such
/// file). A last line cut short by the interruption is dropped; a partial file of another
/// instance is refused rather than mixed in.
fn resume(partial: &Path, base: &str) -> Result<Vec<Project>> {
    let Ok(file) = std::fs::File::open(partial) else { return Ok(Vec::new()) };
    let mut lines = std::io::BufReader::new(file).lines();
    let Some(header) = lines.next().transpose()? else { return Ok(Vec::new()) };
    let from: serde_json::Value = serde_json::from_str(&header).unwrap_or_default();
    if from["from"].as_str() != Some(base) {
        bail!("{} is an interrupted export of another instance ({header}); remove it first", partial.display());
    }
    let mut projects = Vec::new();
    let mut kept_bytes = header.len() + 1;
    for line in lines {
        let line = line?;
        match serde_json::from_str::<Project>(&line) {
            Ok(project) => {
                kept_bytes += line.len() + 1;
                projects.push(project);
            }
            Err(_) => break,
        }
    }
    // Whatever followed the last whole project goes, so appending continues cleanly.
    std::fs::OpenOptions::new().write(true).open(partial)?.set_len(kept_bytes as u64)?;
    Ok(projects)
}

fn path_with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(id: i64) -> String {
        let p = Project { project_id: id, project_name: format!("P{id}"), ..Project::default() };
        serde_json::to_string(&p).unwrap()
    }

    #[test]
    fn an_interrupted_export_resumes_after_its_last_whole_project() {
        let dir = std::env::temp_dir().join(format!("crowdfund-export-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let partial = dir.join("snapshot.json.partial");
        let header = json!({ "from": "http://a" }).to_string();
        std::fs::write(&partial, format!("{header}\n{}\n{}\n{{\"project_id\": 3, \"proj", project(1), project(2)))
            .unwrap();
        let kept = resume(&partial, "http://a").unwrap();
        assert_eq!(kept.iter().map(|p| p.project_id).collect::<Vec<_>>(), [1, 2]);
        // The cut line is gone, so what is appended next starts on a line of its own.
        let text = std::fs::read_to_string(&partial).unwrap();
        assert_eq!(text, format!("{header}\n{}\n{}\n", project(1), project(2)));
        // Another instance's partial file is not mixed in.
        assert!(resume(&partial, "http://b").is_err());
        assert!(resume(&dir.join("absent"), "http://a").unwrap().is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
