//! The page a form submission gets back when its input was refused and the browser runs no
//! script: the same form, filled with what was typed, the error next to its field. Not a
//! stored page: the Worker renders it in answer to one request (status 4xx).

use askama::Template;

use super::view::Layout;
use super::{Page, SiteConfig, HTML};
use crate::Result;

/// Which form was submitted (where it posts is [`FormError::action`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormKind {
    Propose,
    Tags,
    /// A new thread, or a reply to `parent_id`.
    Thread {
        parent_id: Option<i64>,
    },
    /// An edit of the author's own thread.
    Edit {
        thread_id: i64,
    },
    /// A report of a thread to the moderators.
    Report,
    /// A visitor's display name.
    DisplayName,
    Vote,
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
        (self.field.as_deref().map(base_field) == Some(name)).then_some(self.message.as_str())
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

/// The form field an API error field names: `threads[0].message` is `threads`.
fn base_field(field: &str) -> &str {
    field.split(['[', '.']).next().unwrap_or(field)
}

/// The label and control id of a field of a form (ids as in `templates/forms/`).
fn control(kind: &FormKind, field: &str) -> Option<(&'static str, &'static str)> {
    let name = base_field(field);
    match (kind, name) {
        (FormKind::Propose, "project_name") => Some(("Project name", "propose-name")),
        (FormKind::Propose, "tagline") => Some(("Tagline", "propose-tagline")),
        (FormKind::Propose, "tags") => Some(("Tags", "propose-tags")),
        (FormKind::Propose, "problems") => Some(("Problems", "propose-problems")),
        (FormKind::Propose, "solutions") => Some(("Solutions", "propose-solutions")),
        (FormKind::Tags, "add") => Some(("Tags to add", "tags-add")),
        (FormKind::Tags, "remove") => Some(("Tags to remove", "tags-remove")),
        (FormKind::Thread { parent_id: Some(_) }, "threads" | "message") => Some(("Your reply", "reply-message")),
        (FormKind::Thread { parent_id: None }, "threads" | "message") => Some(("Message", "new-thread-message")),
        (FormKind::Report, "reason") => Some(("What is wrong with it?", "report-reason")),
        (FormKind::DisplayName, "display_name") => Some(("Display name", "display-name")),
        _ => None,
    }
}

/// Renders the refused form (no object key: it is an answer, not a stored page).
pub fn render(site: &SiteConfig, form: &FormError) -> Result<Page> {
    let heading = match form.kind {
        FormKind::Propose => "Propose a project",
        FormKind::Tags => "Edit tags",
        FormKind::Thread { parent_id: Some(_) } => "Reply",
        FormKind::Thread { parent_id: None } => "Add to the discussion",
        FormKind::Edit { .. } => "Edit your message",
        FormKind::Report => "Report to the moderators",
        FormKind::DisplayName => "Your display name",
        FormKind::Vote => "Vote",
    };
    let found = form.field.as_deref().and_then(|f| control(&form.kind, f));
    let html = FormErrorHtml {
        layout: Layout::new(site, "Please check the form".into(), None).noindex(),
        form,
        heading,
        label: found.map(|(label, _)| label),
        target: found.map(|(_, id)| id),
    };
    Ok(Page { key: String::new(), content_type: HTML, body: html.render()?.into_bytes() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(form: &FormError) -> String {
        let page = render(&SiteConfig::default(), form).expect("render");
        String::from_utf8(page.body).expect("utf-8")
    }

    #[test]
    fn a_refused_proposal_keeps_what_was_typed_and_marks_the_field() {
        let html = page(&FormError {
            kind: FormKind::Propose,
            action: "/api/v1/projects".into(),
            return_to: "/".into(),
            values: vec![
                ("project_name".into(), "Solar \"kiosk\" <b>".into()),
                ("tags".into(), "solar, bad/tag".into()),
                ("problems".into(), "No power\nPhones".into()),
            ],
            field: Some("tags".into()),
            message: "a tag has only letters, digits and '-'".into(),
        });
        assert!(html.contains(r#"value="Solar &#34;kiosk&#34; &#60;b&#62;""#), "{html}");
        assert!(html.contains(">No power\nPhones</textarea>"));
        assert!(html.contains(r#"value="solar, bad/tag" autocomplete="off" autocapitalize="none" spellcheck="false" aria-invalid="true" aria-describedby="propose-tags-hint propose-tags-error">"#));
        assert!(html.contains(r#"<p class="field-error" id="propose-tags-error">"#));
        assert!(
            html.contains(r##"<a href="#propose-tags">Tags: a tag has only letters, digits and &#39;-&#39;</a>"##),
            "{html}"
        );
        assert!(html.contains(r#"<input type="hidden" name="return_to" value="/">"#));
        assert_eq!(html.matches("aria-invalid").count(), 1);
    }

    #[test]
    fn a_refused_reply_names_its_parent_and_its_message() {
        let html = page(&FormError {
            kind: FormKind::Thread { parent_id: Some(7) },
            action: "/api/v1/projects/3/threads".into(),
            return_to: "/projects/3/".into(),
            values: vec![("message".into(), " ".into())],
            field: Some("threads[0].message".into()),
            message: "must not be empty".into(),
        });
        assert!(html.contains(r#"<input type="hidden" name="parent_id" value="7">"#));
        assert!(html.contains(r#"<input type="hidden" name="thread_type" value="COMMENT">"#));
        assert!(html.contains(r#"id="reply-message" name="message" rows="5" required aria-invalid="true""#));
        assert!(html.contains(r##"<a href="#reply-message">Your reply: must not be empty</a>"##));
    }

    #[test]
    fn an_error_without_a_control_is_only_summarised() {
        let html = page(&FormError {
            kind: FormKind::Vote,
            action: "/api/v1/threads/9/vote".into(),
            return_to: "/projects/3/".into(),
            values: vec![],
            field: Some("direction".into()),
            message: "must be `up` or `down`".into(),
        });
        assert!(html.contains("<p>must be `up` or `down`</p>"), "{html}");
        assert!(html.contains(r#"action="/api/v1/threads/9/vote""#));
        assert!(!html.contains("aria-invalid"));
    }
}
