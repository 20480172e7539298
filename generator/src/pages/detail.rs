//! A project's detail page and its JSON twin (the spec's GetProjectDetail).
//!
//! The discussion is grouped into Problems, Solutions and Comments: top-level threads best
//! first ([`ranking::best_first`]), each followed by its replies nested recursively, best
//! first too. The JSON twin lists the threads in the same order. A reply lives under its
//! parent whatever its own type; a thread whose parent is missing (or not older than itself,
//! which also rules out cycles) is shown at the top level of its own type. Nesting stops at
//! [`MAX_DEPTH`]: deeper replies follow in order, each marked "in reply to #n".

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use askama::Template;

use super::view::{
    html_and_json_with, project_action, push_json_i64, push_json_str, render_sized, EmptyForm, Layout, TagLink, When,
};
use super::{Page, SiteConfig};
use crate::markdown::{render_markdown, SafeHtml};
use crate::model::{pseudonym, Project, Thread, ThreadType};
use crate::paths::{url_of, PageKey};
use crate::ranking;
use crate::Result;

/// How deep replies nest visually before they are listed flat.
pub const MAX_DEPTH: usize = 6;

#[derive(Template)]
#[template(path = "detail.html")]
struct DetailHtml<'a> {
    layout: Layout<'a>,
    project: ProjectView<'a>,
    sections: Vec<Section<'a>>,
    /// The page's own path: every form sends it back as `return_to`, and a thread's reply
    /// page is `{path}threads/{id}/reply`.
    path: String,
    tags_form: EmptyForm,
    thread_form: EmptyForm,
}

struct ProjectView<'a> {
    name: &'a str,
    tagline: &'a str,
    tags: Vec<TagLink<'a>>,
    created: When<'a>,
    /// Who proposed it (display name or pseudonym), when known.
    by: Option<String>,
}

/// The name pages show for an author: their display name, else their pseudonym.
fn byline(author: Option<&str>, author_name: Option<&str>) -> Option<String> {
    match (author_name, author) {
        (Some(name), _) => Some(name.to_owned()),
        (None, Some(author)) => Some(pseudonym(author)),
        (None, None) => None,
    }
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
    Item(Box<ThreadView<'a>>),
    Open,
    Close,
    End,
}

/// A thread as the page shows it (the reply page shows its parent the same way).
pub(super) struct ThreadView<'a> {
    pub id: i64,
    pub kind: &'static str,
    pub class: &'static str,
    pub message: SafeHtml,
    pub up_vote: i64,
    pub down_vote: i64,
    pub created: When<'a>,
    /// Set when the reply is shown outside its parent's list (past [`MAX_DEPTH`]).
    pub reply_to: Option<i64>,
    /// The author's public id: app.js offers Edit on the visitor's own threads by it.
    pub author: Option<&'a str>,
    /// The author's display name or pseudonym.
    pub by: Option<String>,
    /// When the message was last edited.
    pub edited: Option<When<'a>>,
}

impl<'a> ThreadView<'a> {
    pub(super) fn new(t: &'a Thread, reply_to: Option<i64>) -> Self {
        let (kind, class) = match t.thread_type {
            ThreadType::Problem => ("Problem", "problem"),
            ThreadType::Solution => ("Solution", "solution"),
            ThreadType::Comment => ("Comment", "comment"),
        };
        ThreadView {
            id: t.thread_id,
            kind,
            class,
            message: render_markdown(&t.message),
            up_vote: t.up_vote,
            down_vote: t.down_vote,
            created: When::new(&t.created_at),
            reply_to,
            author: t.author.as_deref(),
            by: byline(t.author.as_deref(), t.author_name.as_deref()),
            edited: t.edited_at.as_deref().map(When::new),
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
        for siblings in forest.roots.values_mut().chain(forest.replies.values_mut()) {
            siblings.sort_by(|a, b| ranking::best_first(a, b));
        }
        forest
    }

    /// Every thread in the order the page shows them: sections in turn, each thread followed
    /// by its replies (the JSON twin lists them so).
    fn ordered(&self) -> Vec<&'a Thread> {
        let mut out = Vec::new();
        for roots in self.roots.values() {
            let mut stack: Vec<&Thread> = roots.iter().rev().copied().collect();
            while let Some(t) = stack.pop() {
                out.push(t);
                stack.extend(self.children(t).iter().rev());
            }
        }
        out
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
        out.push(Node::Item(Box::new(ThreadView::new(t, None))));
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
                out.push(Node::Item(Box::new(ThreadView::new(t, t.parent_id))));
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
/// page does not depend on the order a database returned rows in. Projects from a
/// [`SiteIndex`](crate::site::SiteIndex) already are, and are not copied.
fn canonical(project: &Project) -> Cow<'_, Project> {
    let tags_canonical = project.tags.windows(2).all(|w| w[0] < w[1]);
    let threads_canonical = project.threads.windows(2).all(|w| w[0].thread_id <= w[1].thread_id);
    if tags_canonical && threads_canonical {
        return Cow::Borrowed(project);
    }
    let mut p = project.clone();
    p.tags.sort();
    p.tags.dedup();
    p.threads.sort_by_key(|t| t.thread_id);
    Cow::Owned(p)
}

/// Renders `/projects/{id}/` and `/api/v1/projects/{id}.json` (the spec's project object).
pub(super) fn render(site: &SiteConfig, project: &Project) -> Result<Vec<Page>> {
    let project = canonical(project);
    let key = PageKey::Detail { project_id: project.project_id };
    let forest = Forest::new(&project.threads);
    let path = url_of(&key);
    let html = DetailHtml {
        layout: Layout::new(site, project.project_name.clone(), Some(&key)),
        project: ProjectView {
            name: &project.project_name,
            tagline: &project.tagline,
            tags: project.tags.iter().map(|t| TagLink::new(t)).collect(),
            created: When::new(&project.created_at),
            by: byline(project.author.as_deref(), project.author_name.as_deref()),
        },
        sections: [ThreadType::Problem, ThreadType::Solution, ThreadType::Comment]
            .into_iter()
            .map(|kind| forest.section(kind))
            .collect(),
        tags_form: EmptyForm::new(project_action(project.project_id, "tags"), path.clone()),
        thread_form: EmptyForm::new(project_action(project.project_id, "threads"), path.clone()),
        path,
    };
    // The page is mostly its threads: sized up front, it is written once instead of being
    // copied through four or five doublings from the template's static size.
    let estimate = 4096 + project.threads.iter().map(|t| 2048 + 2 * t.message.len()).sum::<usize>();
    html_and_json_with(&key, render_sized(&html, estimate)?, |out| {
        write_project_json(out, &project, &forest.ordered());
        Ok(())
    })
}

/// Writes `,\n{indent}"name": "value"` when the value is there (serde's
/// `skip_serializing_if = "Option::is_none"`).
fn optional(out: &mut Vec<u8>, indent: &str, name: &str, value: Option<&str>) {
    if let Some(value) = value {
        out.extend_from_slice(b",\n");
        out.extend_from_slice(indent.as_bytes());
        out.push(b'"');
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"\": ");
        push_json_str(out, value);
    }
}

/// Writes the project as `serde_json::to_vec_pretty(project)` does, byte for byte (a test
/// holds the two equal, so a field added to the model fails it until added here): a
/// third of a detail page's render time went to serde's generic path.
fn write_project_json(out: &mut Vec<u8>, p: &Project, threads: &[&Thread]) {
    let field = |out: &mut Vec<u8>, indent: &str, name: &str| {
        out.extend_from_slice(indent.as_bytes());
        out.push(b'"');
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"\": ");
    };
    field(out, "{\n  ", "project_id");
    push_json_i64(out, p.project_id);
    field(out, ",\n  ", "project_name");
    push_json_str(out, &p.project_name);
    field(out, ",\n  ", "tagline");
    push_json_str(out, &p.tagline);
    field(out, ",\n  ", "tags");
    if p.tags.is_empty() {
        out.extend_from_slice(b"[]");
    } else {
        for (i, tag) in p.tags.iter().enumerate() {
            out.extend_from_slice(if i == 0 { b"[\n    " } else { b",\n    " });
            push_json_str(out, tag);
        }
        out.extend_from_slice(b"\n  ]");
    }
    field(out, ",\n  ", "created_at");
    push_json_str(out, &p.created_at);
    optional(out, "  ", "author", p.author.as_deref());
    optional(out, "  ", "author_name", p.author_name.as_deref());
    field(out, ",\n  ", "threads");
    if threads.is_empty() {
        out.extend_from_slice(b"[]");
    } else {
        for (i, t) in threads.iter().enumerate() {
            out.extend_from_slice(if i == 0 { b"[\n    " } else { b",\n    " });
            field(out, "{\n      ", "thread_id");
            push_json_i64(out, t.thread_id);
            field(out, ",\n      ", "project_id");
            push_json_i64(out, t.project_id);
            field(out, ",\n      ", "parent_id");
            match t.parent_id {
                Some(id) => push_json_i64(out, id),
                None => out.extend_from_slice(b"null"),
            }
            field(out, ",\n      ", "thread_type");
            push_json_str(out, t.thread_type.as_str());
            field(out, ",\n      ", "message");
            push_json_str(out, &t.message);
            field(out, ",\n      ", "up_vote");
            push_json_i64(out, t.up_vote);
            field(out, ",\n      ", "down_vote");
            push_json_i64(out, t.down_vote);
            field(out, ",\n      ", "created_at");
            push_json_str(out, &t.created_at);
            optional(out, "      ", "author", t.author.as_deref());
            optional(out, "      ", "author_name", t.author_name.as_deref());
            optional(out, "      ", "edited_at", t.edited_at.as_deref());
            if !t.revisions.is_empty() {
                field(out, ",\n      ", "revisions");
                for (j, r) in t.revisions.iter().enumerate() {
                    out.extend_from_slice(if j == 0 { b"[\n        " } else { b",\n        " });
                    field(out, "{\n          ", "revision_id");
                    push_json_i64(out, r.revision_id);
                    field(out, ",\n          ", "message");
                    push_json_str(out, &r.message);
                    field(out, ",\n          ", "written_at");
                    push_json_str(out, &r.written_at);
                    field(out, ",\n          ", "replaced_at");
                    push_json_str(out, &r.replaced_at);
                    out.extend_from_slice(b"\n        }");
                }
                out.extend_from_slice(b"\n      ]");
            }
            out.extend_from_slice(b"\n    }");
        }
        out.extend_from_slice(b"\n  ]");
    }
    out.extend_from_slice(b"\n}");
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
            ..Default::default()
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
    fn project_json_matches_serde_json() {
        let nasty: String = (0u8..0x80).map(char::from).chain("é\u{2028}😀\"\\".chars()).collect();
        let mut threads: Vec<Thread> =
            (1..=3).map(|id| thread(id, (id > 1).then_some(id - 1), ThreadType::Comment)).collect();
        threads[0].thread_type = ThreadType::Problem;
        threads[1].thread_type = ThreadType::Solution;
        threads[2].message = nasty.clone();
        threads[2].up_vote = -7;
        threads[2].down_vote = i64::MAX;
        threads[1].thread_id = i64::MIN;
        threads[1].author = Some("ab12cd".into());
        threads[1].author_name = Some(nasty.clone());
        threads[1].edited_at = Some("2024-02-01T00:00:00Z".into());
        threads[1].revisions = vec![
            crate::model::Revision {
                revision_id: 1,
                message: nasty.clone(),
                written_at: "w".into(),
                replaced_at: "r".into(),
            },
            crate::model::Revision {
                revision_id: 2,
                message: "b".into(),
                written_at: "w2".into(),
                replaced_at: "r2".into(),
            },
        ];
        let full = Project {
            project_id: 42,
            project_name: nasty.clone(),
            tagline: "a \"tag\" line\n".into(),
            tags: vec!["a".into(), nasty.clone()],
            created_at: "2024-01-01T00:00:00Z".into(),
            threads,
            ..Default::default()
        };
        let authored = Project { author: Some("f00d".into()), author_name: Some(nasty.clone()), ..full.clone() };
        let empty = Project { tags: vec![], threads: vec![], project_id: -1, ..full.clone() };
        let one = Project { tags: vec!["x".into()], threads: full.threads[..1].to_vec(), ..full.clone() };
        for project in [full, authored, empty, one] {
            let mut ours = Vec::new();
            write_project_json(&mut ours, &project, &project.threads.iter().collect::<Vec<_>>());
            assert_eq!(String::from_utf8(ours).unwrap(), serde_json::to_string_pretty(&project).unwrap());
        }
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
