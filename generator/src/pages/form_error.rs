//! The page a form submission gets back when its input was refused and the browser runs no
//! script: the same form, filled with what was typed, the error next to its field. Not a
//! stored page: the Worker renders it in answer to one request (status 4xx).

use askama::Template;

use super::view::Layout;
use super::{Page, SiteConfig, HTML};
use crate::Result;

/// Which form was submitted, and where it posts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormKind {
    Propose,
    Tags { project_id: i64 },
    Thread { project_id: i64, parent_id: Option<i64> },
    Vote { thread_id: i64 },
}

/// A refused form submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormError {
    pub kind: FormKind,
    /// Where the form posts (the API path it was sent to).
    pub action: String,
    /// The same-site page the visitor came from.
    pub return_to: String,
    /// The submitted fields, as typed.
    pub values: Vec<(String, String)>,
    /// The field the error concerns, if one.
    pub field: Option<String>,
    pub message: String,
}

impl FormError {
    /// Returns what was typed into a field ("" if nothing).
    pub fn value(&self, name: &str) -> &str {
        self.values.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
    }

    /// Returns the error message if it concerns this field.
    pub fn error_for(&self, name: &str) -> Option<&str> {
        (self.field.as_deref().map(|f| f.split(['[', '.']).next().unwrap_or(f)) == Some(name))
            .then_some(self.message.as_str())
    }
}

#[derive(Template)]
#[template(path = "form_error.html")]
struct FormErrorHtml<'a> {
    layout: Layout<'a>,
    form: &'a FormError,
    /// What the visitor was doing, as the page's heading.
    heading: &'static str,
    /// The field's label, to name it in the summary at the top ("Tags: ...").
    label: Option<&'static str>,
    /// The id of the control the error concerns, linked from the summary.
    target: Option<&'static str>,
}

/// The label and control id of a field of a form (ids as in `templates/forms/`).
fn control(kind: &FormKind, field: &str) -> Option<(&'static str, &'static str)> {
    let name = field.split(['[', '.']).next().unwrap_or(field);
    match (kind, name) {
        (FormKind::Propose, "project_name") => Some(("Project name", "propose-name")),
        (FormKind::Propose, "tagline") => Some(("Tagline", "propose-tagline")),
        (FormKind::Propose, "tags") => Some(("Tags", "propose-tags")),
        (FormKind::Propose, "problems") => Some(("Problems", "propose-problems")),
        (FormKind::Propose, "solutions") => Some(("Solutions", "propose-solutions")),
        (FormKind::Tags { .. }, "add") => Some(("Tags to add", "tags-add")),
        (FormKind::Tags { .. }, "remove") => Some(("Tags to remove", "tags-remove")),
        (FormKind::Thread { parent_id: Some(_), .. }, "threads" | "message") => Some(("Your reply", "reply-message")),
        (FormKind::Thread { parent_id: None, .. }, "threads" | "message") => Some(("Message", "new-thread-message")),
        _ => None,
    }
}

/// Renders the refused form (no object key: it is an answer, not a stored page).
pub fn render(site: &SiteConfig, form: &FormError) -> Result<Page> {
    let heading = match form.kind {
        FormKind::Propose => "Propose a project",
        FormKind::Tags { .. } => "Edit tags",
        FormKind::Thread { parent_id: Some(_), .. } => "Reply",
        FormKind::Thread { parent_id: None, .. } => "Add to the discussion",
        FormKind::Vote { .. } => "Vote",
    };
    let found = form.field.as_deref().and_then(|f| control(&form.kind, f));
    let html = FormErrorHtml {
        layout: Layout::new(site, "Please check the form".into(), None),
        form,
        heading,
        label: found.map(|(label, _)| label),
        target: found.map(|(_, id)| id),
    };
    Ok(Page { key: String::new(), content_type: HTML, body: html.render()?.into_bytes() })
}
