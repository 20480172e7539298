//! The read model: the values pages are rendered from. Field names are the public contract of
//! the spec (`project_id`, `project_name`, ...), so the JSON twins and the snapshot format use
//! them unchanged.

use serde::{Deserialize, Serialize};

/// The kind of a thread, as the spec names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ThreadType {
    Problem,
    Solution,
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

/// One message in a project's discussion: a problem, a solution or a comment, possibly a
/// reply to another thread of the same project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
}

/// A project with everything its detail page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    pub project_id: i64,
    pub project_name: String,
    pub tagline: String,
    /// Sorted, lower-cased, unique.
    pub tags: Vec<String>,
    /// UTC, RFC 3339.
    pub created_at: String,
    #[serde(default)]
    pub threads: Vec<Thread>,
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
