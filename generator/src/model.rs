//! The read model: the values pages are rendered from. Field names are the public contract of
//! the spec (`project_id`, `project_name`, ...), so the JSON twins and the snapshot format use
//! them unchanged.

use serde::{Deserialize, Serialize};

/// The kind of a thread, as the spec names it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ThreadType {
    Problem,
    Solution,
    #[default]
    Comment,
}

impl ThreadType {
    /// Returns the spec's spelling, as stored in D1 and sent in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ThreadType::Problem => "PROBLEM",
            ThreadType::Solution => "SOLUTION",
            ThreadType::Comment => "COMMENT",
        }
    }

    /// Parses the spec's spelling; anything else is `None`, so callers choose the error.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "PROBLEM" => Some(ThreadType::Problem),
            "SOLUTION" => Some(ThreadType::Solution),
            "COMMENT" => Some(ThreadType::Comment),
            _ => None,
        }
    }
}

/// A text a thread had before an edit (or a moderator's revert) replaced it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revision {
    pub revision_id: i64,
    /// Markdown, as it was: untrusted.
    pub message: String,
    /// When that text was written (UTC, RFC 3339).
    pub written_at: String,
    /// When it was replaced.
    pub replaced_at: String,
}

/// One message in a project's discussion: a problem, a solution or a comment, possibly a
/// reply to another thread of the same project.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thread {
    pub thread_id: i64,
    pub project_id: i64,
    pub parent_id: Option<i64>,
    pub thread_type: ThreadType,
    /// Markdown written by a visitor: untrusted.
    pub message: String,
    pub up_vote: i64,
    pub down_vote: i64,
    /// UTC, RFC 3339.
    pub created_at: String,
    /// The author's public id: a keyed digest of their visitor identity, which cannot be
    /// turned back into it. `None` for threads written before authorship was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// The display name the author had chosen when writing; without one, pages show the
    /// author's [`pseudonym`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_name: Option<String>,
    /// When the message was last edited (UTC, RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<String>,
    /// The texts it had before, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revisions: Vec<Revision>,
    /// Hidden by a moderator: on no page, and its replies with it (the admin export keeps it).
    #[serde(default, skip_serializing_if = "is_false")]
    pub hidden: bool,
}

/// A project with everything its detail page shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    pub project_id: i64,
    pub project_name: String,
    pub tagline: String,
    /// Sorted, lower-cased, unique.
    pub tags: Vec<String>,
    /// UTC, RFC 3339.
    pub created_at: String,
    /// The proposer's public id (see [`Thread::author`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// The display name the proposer had chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_name: Option<String>,
    #[serde(default)]
    pub threads: Vec<Thread>,
    /// Hidden by a moderator: on no page (the admin export keeps it).
    #[serde(default, skip_serializing_if = "is_false")]
    pub hidden: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Project {
    /// The project as pages show it: without hidden threads, nor replies under a hidden
    /// thread (they answer something no longer shown). `None` when the project is hidden.
    pub fn visible(mut self) -> Option<Project> {
        if self.hidden {
            return None;
        }
        if self.threads.iter().any(|t| t.hidden) {
            let mut gone: std::collections::BTreeSet<i64> = std::collections::BTreeSet::new();
            self.threads.sort_by_key(|t| t.thread_id);
            // Parents come before replies (ids grow with time), so one pass finds every subtree.
            for t in &self.threads {
                if t.hidden || t.parent_id.is_some_and(|p| gone.contains(&p)) {
                    gone.insert(t.thread_id);
                }
            }
            self.threads.retain(|t| !gone.contains(&t.thread_id));
        }
        Some(self)
    }
}

/// The stable short name pages show for an author without a display name: two words and two
/// hex digits derived from the author's public id (`amber-otter-4f`).
///
/// ```
/// let name = generator::model::pseudonym("9f2c44ab01d3e5f6a7b8c9d0e1f2a3b4");
/// assert_eq!(name, generator::model::pseudonym("9f2c44ab01d3e5f6a7b8c9d0e1f2a3b4"));
/// assert_eq!(name.split('-').count(), 3);
/// ```
pub fn pseudonym(author: &str) -> String {
    const ADJECTIVES: [&str; 32] = [
        "amber", "azure", "bold", "brave", "bright", "calm", "clever", "coral", "crisp", "dapper", "eager", "fair",
        "gentle", "golden", "happy", "ivory", "jolly", "keen", "lively", "lucky", "mellow", "misty", "noble", "olive",
        "plucky", "quiet", "rosy", "sunny", "swift", "tidy", "vivid", "witty",
    ];
    const ANIMALS: [&str; 32] = [
        "badger", "bear", "beaver", "bison", "crane", "deer", "dolphin", "eagle", "falcon", "ferret", "finch", "fox",
        "gecko", "heron", "ibex", "koala", "lark", "lemur", "lynx", "marten", "moose", "newt", "otter", "owl", "panda",
        "puffin", "quail", "raven", "seal", "stork", "tapir", "wren",
    ];
    let digits: Vec<u8> = author.bytes().filter_map(|b| (b as char).to_digit(16).map(|d| d as u8)).collect();
    let at = |i: usize| usize::from(digits.get(i).copied().unwrap_or(0));
    let adjective = ADJECTIVES[(at(0) << 1 | at(1) >> 3) % 32];
    let animal = ANIMALS[(at(2) << 1 | at(3) >> 3) % 32];
    format!("{adjective}-{animal}-{:x}{:x}", at(4), at(5))
}

/// What a listing shows of a project: no threads (the spec's GetProjects).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectSummary {
    pub project_id: i64,
    pub project_name: String,
    pub tagline: String,
    pub tags: Vec<String>,
    pub created_at: String,
}

impl From<&Project> for ProjectSummary {
    fn from(p: &Project) -> Self {
        ProjectSummary {
            project_id: p.project_id,
            project_name: p.project_name.clone(),
            tagline: p.tagline.clone(),
            tags: p.tags.clone(),
            created_at: p.created_at.clone(),
        }
    }
}

/// The whole data set: the format of `shared/bench/make_snapshot.py` and of the export.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub projects: Vec<Project>,
}
