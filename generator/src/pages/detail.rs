//! A project's detail page and its JSON twin (the spec's GetProjectDetail).
//!
//! The discussion is grouped into Problems, Solutions and Comments: top-level threads in
//! `thread_id` order, each followed by its replies nested recursively. A reply lives under its
//! parent whatever its own type; a thread whose parent is missing (or not older than itself,
//! which also rules out cycles) is shown at the top level of its own type. Nesting stops at
//! [`MAX_DEPTH`]: deeper replies follow in order, each marked "in reply to #n".

use std::collections::{BTreeMap, BTreeSet};

use askama::Template;

use super::view::{count, html_and_json, Layout, TagLink, When};
use super::{Page, SiteConfig};
use crate::markdown::{render_markdown, SafeHtml};
use crate::model::{Project, Thread, ThreadType};
use crate::paths::PageKey;
use crate::Result;

/// How deep replies nest visually before they are listed flat.
pub const MAX_DEPTH: usize = 6;

#[derive(Template)]
#[template(path = "detail.html")]
struct DetailHtml<'a> {
    layout: Layout<'a>,
    project: ProjectView<'a>,
    sections: Vec<Section<'a>>,
}

struct ProjectView<'a> {
    name: &'a str,
    tagline: &'a str,
    tags: Vec<TagLink<'a>>,
    created: When<'a>,
}

/// One of Problems, Solutions, Comments.
struct Section<'a> {
    id: &'static str,
    heading: &'static str,
    empty: &'static str,
    /// Threads in the section, replies included.
    count: usize,
    nodes: Vec<Node<'a>>,
}

/// The discussion tree, flattened into the tags the template prints: an item opens `<li>`,
/// `Open`/`Close` wrap its replies in `<ol>`, `End` closes the `<li>`.
enum Node<'a> {
    Item(ThreadView<'a>),
    Open,
    Close,
    End,
}

struct ThreadView<'a> {
    id: i64,
    anchor: String,
    kind: &'static str,
    class: &'static str,
    message: SafeHtml,
    up: String,
    down: String,
    created: When<'a>,
    /// Set when the reply is shown outside its parent's list (past [`MAX_DEPTH`]).
    reply_to: Option<i64>,
}

impl<'a> ThreadView<'a> {
    fn new(t: &'a Thread, reply_to: Option<i64>) -> Self {
        let (kind, class) = match t.thread_type {
            ThreadType::Problem => ("Problem", "problem"),
            ThreadType::Solution => ("Solution", "solution"),
            ThreadType::Comment => ("Comment", "comment"),
        };
        ThreadView {
            id: t.thread_id,
            anchor: format!("thread-{}", t.thread_id),
            kind,
            class,
            message: render_markdown(&t.message),
            up: count(t.up_vote, "up-vote", "up-votes"),
            down: count(t.down_vote, "down-vote", "down-votes"),
            created: When::new(&t.created_at),
            reply_to,
        }
    }
}

/// The threads of a project arranged as a forest: roots by type, replies by parent id.
struct Forest<'a> {
    roots: BTreeMap<ThreadType, Vec<&'a Thread>>,
    replies: BTreeMap<i64, Vec<&'a Thread>>,
}

impl<'a> Forest<'a> {
    fn new(threads: &'a [Thread]) -> Self {
        let mut sorted: Vec<&Thread> = threads.iter().collect();
        sorted.sort_by_key(|t| t.thread_id);
        let ids: BTreeSet<i64> = sorted.iter().map(|t| t.thread_id).collect();
        let mut forest = Forest { roots: BTreeMap::new(), replies: BTreeMap::new() };
        for t in sorted {
            match t.parent_id {
                Some(parent) if parent < t.thread_id && ids.contains(&parent) => {
                    forest.replies.entry(parent).or_default().push(t);
                }
                _ => forest.roots.entry(t.thread_type).or_default().push(t),
            }
        }
        forest
    }

    fn size(&self, t: &Thread) -> usize {
        let mut n = 0;
        let mut stack = vec![t];
        while let Some(t) = stack.pop() {
            n += 1;
            stack.extend(self.children(t));
        }
        n
    }

    fn children(&self, t: &Thread) -> &[&'a Thread] {
        self.replies.get(&t.thread_id).map(Vec::as_slice).unwrap_or_default()
    }

    /// Emits a thread and its replies. Recursion is bounded by [`MAX_DEPTH`]; below that the
    /// subtree is walked with an explicit stack, so no input can exhaust the call stack.
    fn emit(&self, t: &'a Thread, depth: usize, out: &mut Vec<Node<'a>>) {
        out.push(Node::Item(ThreadView::new(t, None)));
        let children = self.children(t);
        if !children.is_empty() && depth < MAX_DEPTH {
            out.push(Node::Open);
            for child in children {
                self.emit(child, depth + 1, out);
            }
            out.push(Node::Close);
        }
        out.push(Node::End);
        if depth >= MAX_DEPTH {
            let mut stack: Vec<&Thread> = children.iter().rev().copied().collect();
            while let Some(t) = stack.pop() {
                out.push(Node::Item(ThreadView::new(t, t.parent_id)));
                out.push(Node::End);
                stack.extend(self.children(t).iter().rev());
            }
        }
    }

    fn section(&self, kind: ThreadType) -> Section<'a> {
        let (id, heading, empty) = match kind {
            ThreadType::Problem => ("problems", "Problems", "No problems described yet."),
            ThreadType::Solution => ("solutions", "Solutions", "No solutions proposed yet."),
            ThreadType::Comment => ("comments", "Comments", "No comments yet."),
        };
        let roots = self.roots.get(&kind).map(Vec::as_slice).unwrap_or_default();
        let mut nodes = Vec::new();
        for root in roots {
            self.emit(root, 1, &mut nodes);
        }
        let count = roots.iter().map(|t| self.size(t)).sum();
        Section { id, heading, empty, count, nodes }
    }
}

/// Returns the project in canonical order (tags sorted and unique, threads by id), so the
/// page does not depend on the order a database returned rows in.
fn canonical(project: &Project) -> Project {
    let mut p = project.clone();
    p.tags.sort();
    p.tags.dedup();
    p.threads.sort_by_key(|t| t.thread_id);
    p
}

/// Renders `/projects/{id}/` and `/api/v1/projects/{id}.json` (the spec's project object).
pub(super) fn render(site: &SiteConfig, project: &Project) -> Result<Vec<Page>> {
    let project = canonical(project);
    let key = PageKey::Detail { project_id: project.project_id };
    let forest = Forest::new(&project.threads);
    let html = DetailHtml {
        layout: Layout::new(site, project.project_name.clone(), Some(&key)),
        project: ProjectView {
            name: &project.project_name,
            tagline: &project.tagline,
            tags: project.tags.iter().map(|t| TagLink::new(t)).collect(),
            created: When::new(&project.created_at),
        },
        sections: [ThreadType::Problem, ThreadType::Solution, ThreadType::Comment]
            .into_iter()
            .map(|kind| forest.section(kind))
            .collect(),
    };
    html_and_json(&key, html.render()?, &project)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thread(id: i64, parent: Option<i64>, kind: ThreadType) -> Thread {
        Thread {
            thread_id: id,
            project_id: 1,
            parent_id: parent,
            thread_type: kind,
            message: format!("m{id}"),
            up_vote: 0,
            down_vote: 0,
            created_at: "2024-01-01T00:00:00Z".into(),
        }
    }

    fn shape(nodes: &[Node<'_>]) -> String {
        nodes
            .iter()
            .map(|n| match n {
                Node::Item(t) => format!("{}{}", t.id, t.reply_to.map_or(String::new(), |p| format!("^{p}"))),
                Node::Open => "(".into(),
                Node::Close => ")".into(),
                Node::End => ".".into(),
            })
            .collect()
    }

    #[test]
    fn replies_nest_under_parents_of_any_type() {
        use ThreadType::*;
        let threads = vec![
            thread(1, None, Problem),
            thread(2, Some(1), Solution),
            thread(3, Some(2), Comment),
            thread(4, None, Comment),
            thread(5, Some(99), Solution), // orphan
            thread(6, Some(6), Comment),   // self-parent: treated as an orphan
        ];
        let forest = Forest::new(&threads);
        let problems = forest.section(Problem);
        assert_eq!(shape(&problems.nodes), "1(2(3.).).");
        assert_eq!(problems.count, 3);
        assert_eq!(shape(&forest.section(Solution).nodes), "5.");
        assert_eq!(shape(&forest.section(Comment).nodes), "4.6.");
    }

    #[test]
    fn deep_chains_flatten_past_max_depth() {
        let threads: Vec<Thread> =
            (1..=10_000).map(|id| thread(id, (id > 1).then(|| id - 1), ThreadType::Comment)).collect();
        let forest = Forest::new(&threads);
        let section = forest.section(ThreadType::Comment);
        assert_eq!(section.count, 10_000);
        let s = shape(&section.nodes);
        assert!(s.starts_with("1(2(3(4(5(6.7^6.8^7."), "{}", &s[..40]);
    }
}
