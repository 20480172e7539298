//! A thread on a page of its own, with one form: a reply (what a thread's "Reply" link opens
//! in a browser without script; with script, `static/app.js` opens the detail page's one reply
//! form in place), its author's edit, or a report to the moderators. Not a stored page: the
//! Worker renders it on request from the thread it reads, so a detail page carries a link per
//! thread rather than a whole form per thread.

use askama::Template;

use super::detail::ThreadView;
use super::view::{project_action, Layout};
use super::{Page, SiteConfig, HTML};
use crate::model::Thread;
use crate::paths::{url_of, PageKey};
use crate::Result;

/// What the page's form does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Reply,
    Edit,
    Report,
}

/// The thread a page is about, and its project's name.
#[derive(Debug, Clone, Copy)]
pub struct ThreadPage<'a> {
    pub purpose: Purpose,
    pub project_name: &'a str,
    pub thread: &'a Thread,
    /// Shown instead of the form: a report was sent, or this visitor may not edit the thread.
    pub notice: Option<&'a str>,
}

/// The form's fields as the form templates read them (`action`, `return_to`, `value(name)`,
/// `error_for(name)`, like `EmptyForm` and `FormError`): empty, but for the message an edit
/// starts from.
struct FormFields<'a> {
    action: String,
    return_to: String,
    message: &'a str,
}

impl FormFields<'_> {
    fn value(&self, name: &str) -> &str {
        if name == "message" {
            self.message
        } else {
            ""
        }
    }

    fn error_for(&self, _name: &str) -> Option<&'static str> {
        None
    }
}

#[derive(Template)]
#[template(path = "thread_page.html")]
struct ThreadPageHtml<'a> {
    layout: Layout<'a>,
    heading: String,
    purpose: Purpose,
    project_name: &'a str,
    /// The thread on its project's page.
    back: String,
    thread: ThreadView<'a>,
    form: FormFields<'a>,
    notice: Option<&'a str>,
}

/// Renders a thread page (no object key: it is an answer, not a stored page).
pub fn render(site: &SiteConfig, page: &ThreadPage<'_>) -> Result<Page> {
    let thread = page.thread;
    let project = url_of(&PageKey::Detail { project_id: thread.project_id });
    let view = ThreadView::new(thread, None);
    let (heading, action, message) = match page.purpose {
        Purpose::Reply => (format!("Reply to #{}", view.id), project_action(thread.project_id, "threads"), ""),
        Purpose::Edit => {
            (format!("Edit #{}", view.id), project_action(thread.project_id, "threads"), thread.message.as_str())
        }
        Purpose::Report => (format!("Report #{}", view.id), format!("/api/v1/threads/{}/reports", view.id), ""),
    };
    let html = ThreadPageHtml {
        layout: Layout::new(site, format!("{heading} · {}", page.project_name), None).noindex(),
        heading,
        purpose: page.purpose,
        project_name: page.project_name,
        back: format!("{project}#thread-{}", view.id),
        form: FormFields { action, return_to: project, message },
        thread: view,
        notice: page.notice,
    };
    Ok(Page { key: String::new(), content_type: HTML, body: html.render()?.into_bytes() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ThreadType;

    fn page(purpose: Purpose, message: &str) -> String {
        page_with(purpose, message, None)
    }

    fn page_with(purpose: Purpose, message: &str, notice: Option<&str>) -> String {
        let thread = Thread {
            thread_id: 7,
            project_id: 3,
            thread_type: ThreadType::Problem,
            message: message.into(),
            created_at: "2026-01-02T03:04:05Z".into(),
            author: Some("9f2c44ab01d3e5f6a7b8c9d0e1f2a3b4".into()),
            ..Default::default()
        };
        let page = ThreadPage { purpose, project_name: "Solar <kiosk>", thread: &thread, notice };
        String::from_utf8(render(&SiteConfig::default(), &page).expect("render").body).expect("utf-8")
    }

    #[test]
    fn the_reply_page_quotes_the_thread_above_its_form() {
        let html = page(Purpose::Reply, "**hot** <script>x</script>");
        assert!(html.contains("<strong>hot</strong>") && !html.contains("<script>x"), "{html}");
        assert!(html.contains(r#"action="/api/v1/projects/3/threads""#));
        assert!(html.contains(r#"name="parent_id" value="7""#));
        assert!(html.contains("← Back to Solar &#60;kiosk&#62;"));
        assert!(html.contains(r#"<meta name="robots" content="noindex">"#));
    }

    #[test]
    fn the_edit_page_starts_from_the_current_message() {
        let html = page(Purpose::Edit, "a <b>message</b>");
        assert!(html.contains(r#"name="thread_id" value="7""#), "{html}");
        assert!(html.contains(">a &#60;b&#62;message&#60;/b&#62;</textarea>"), "{html}");
        assert!(html.contains("Edit #7"));
    }

    #[test]
    fn the_report_page_posts_to_the_threads_reports() {
        let html = page(Purpose::Report, "spam");
        assert!(html.contains(r#"action="/api/v1/threads/7/reports""#), "{html}");
        assert!(html.contains(r#"name="reason""#));
    }

    #[test]
    fn a_notice_takes_the_place_of_the_form() {
        let html = page_with(Purpose::Edit, "theirs", Some("Only its author can edit #7."));
        assert!(html.contains("Only its author can edit #7."), "{html}");
        assert!(!html.contains("<form class=\"form edit-form\""), "{html}");
    }
}
