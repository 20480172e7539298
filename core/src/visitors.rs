//! Visitors as authors: the display name a visitor chose (`visitors` table) and what they
//! wrote. A display name applies to what they write from then on: pages are static, and
//! re-rendering every page a prolific author ever wrote on for a name change would make one
//! request cost unbounded publishing.

use serde::Deserialize;
use serde_json::{json, Value};

use generator::model::{pseudonym, Thread};

use crate::error::ApiResult;
use crate::params;
use crate::platform::Now;
use crate::read_model::{decode_threads, THREAD_COLUMNS};
use crate::sql::{nth, Database, Rows, Statement};

/// At most this many of a visitor's threads are listed on their page.
pub const OWN_THREADS_SHOWN: i64 = 100;

/// A visitor as an author: their key, the display name they chose, and their shown threads
/// (newest first) with each one's project name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub author: String,
    pub display_name: Option<String>,
    pub threads: Vec<(String, Thread)>,
}

impl Profile {
    /// The name pages show for them: the display name, else the pseudonym.
    pub fn name(&self) -> String {
        self.display_name.clone().unwrap_or_else(|| pseudonym(&self.author))
    }

    /// The API's view of the profile.
    pub fn to_json(&self) -> Value {
        let threads: Vec<Value> =
            self.threads.iter().map(|(_, t)| json!({"thread_id": t.thread_id, "project_id": t.project_id})).collect();
        json!({"author": self.author, "name": self.name(), "display_name": self.display_name, "threads": threads})
    }
}

/// Reads a visitor's profile (one round trip).
pub async fn profile(db: &impl Database, author: &str) -> ApiResult<Profile> {
    #[derive(Deserialize)]
    struct Name {
        display_name: String,
    }
    #[derive(Deserialize)]
    struct ProjectName {
        project_name: String,
    }
    let results = db
        .batch(vec![
            Statement::new("SELECT display_name FROM visitors WHERE author = ?1", params![author]),
            Statement::built(
                format!(
                    "SELECT {THREAD_COLUMNS} FROM threads WHERE author = ?1 AND hidden = 0 \
                     AND project_id IN (SELECT project_id FROM projects WHERE hidden = 0) \
                     ORDER BY thread_id DESC LIMIT ?2"
                ),
                params![author, OWN_THREADS_SHOWN],
            ),
            Statement::new(
                "SELECT p.project_name FROM threads th JOIN projects p ON p.project_id = th.project_id \
                 WHERE th.author = ?1 AND th.hidden = 0 AND p.hidden = 0 ORDER BY th.thread_id DESC LIMIT ?2",
                params![author, OWN_THREADS_SHOWN],
            ),
        ])
        .await?;
    let display_name = nth(&results, 0, "profile")?.first::<Name>()?.map(|n| n.display_name);
    let threads = decode_threads(nth(&results, 1, "profile")?)?;
    let names: Vec<ProjectName> = nth(&results, 2, "profile")?.decode()?;
    let threads = names.into_iter().map(|n| n.project_name).zip(threads).collect();
    Ok(Profile { author: author.to_owned(), display_name, threads })
}

/// Sets a visitor's display name (validated by the route); answers the profile's name.
pub async fn set_display_name(db: &impl Database, author: &str, display_name: &str, now: &Now) -> ApiResult<Value> {
    db.batch(vec![Statement::new(
        "INSERT INTO visitors (author, display_name, updated_ms) VALUES (?1, ?2, ?3) \
             ON CONFLICT (author) DO UPDATE SET display_name = excluded.display_name, updated_ms = excluded.updated_ms",
        params![author, display_name, now.ms as i64],
    )])
    .await?;
    Ok(json!({"author": author, "name": display_name, "display_name": display_name}))
}
