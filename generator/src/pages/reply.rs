//! A thread's reply form on a page of its own: what a thread's "Reply" link opens in a
//! browser without script (with script, `static/app.js` opens the detail page's one reply
//! form in place). Not a stored page: the Worker renders it on request from the thread it
//! reads, so a detail page carries a link per thread rather than a whole form per thread.

use askama::Template;

use super::detail::ThreadView;
use super::view::{project_action, EmptyForm, Layout};
use super::{Page, SiteConfig, HTML};
use crate::model::Thread;
use crate::paths::{url_of, PageKey};
use crate::Result;

/// The thread a visitor is replying to, and its project's name.
#[derive(Debug, Clone, Copy)]
pub struct ReplyTo<'a> {
    pub project_name: &'a str,
    pub thread: &'a Thread,
}

#[derive(Template)]
#[template(path = "reply.html")]
struct ReplyHtml<'a> {
    layout: Layout<'a>,
    project_name: &'a str,
    /// The thread on its project's page.
    back: String,
    thread: ThreadView<'a>,
    form: EmptyForm,
}

/// Renders the reply page (no object key: it is an answer, not a stored page).
pub fn render(site: &SiteConfig, reply: &ReplyTo<'_>) -> Result<Page> {
    let project = url_of(&PageKey::Detail { project_id: reply.thread.project_id });
    let thread = ThreadView::new(reply.thread, None);
    let html = ReplyHtml {
        layout: Layout::new(site, format!("Reply to #{} · {}", thread.id, reply.project_name), None).noindex(),
        project_name: reply.project_name,
        back: format!("{project}#thread-{}", thread.id),
        form: EmptyForm::new(project_action(reply.thread.project_id, "threads"), project),
        thread,
    };
    Ok(Page { key: String::new(), content_type: HTML, body: html.render()?.into_bytes() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ThreadType;

    fn page(message: &str) -> String {
        let thread = Thread {
            thread_id: 7,
            project_id: 3,
            parent_id: None,
            thread_type: ThreadType::Problem,
            message: message.into(),
            up_vote: 0,
            down_vote: 0,
            created_at: "2026-01-02T03:04:05Z".into(),
        };
        let reply = ReplyTo { project_name: "Solar <kiosk>", thread: &thread };
        String::from_utf8(render(&SiteConfig::default(), &reply).expect("render").body).expect("utf-8")
    }

    #[test]
    fn the_form_posts_a_comment_under_the_thread_and_returns_to_the_project() {
        let html = page("No *power*");
        assert!(html.contains(
            r#"<form class="form reply-form" method="post" action="/api/v1/projects/3/threads" data-form="thread">"#
        ));
        assert!(html.contains(r#"<input type="hidden" name="parent_id" value="7">"#));
        assert!(html.contains(r#"<input type="hidden" name="thread_type" value="COMMENT">"#));
        assert!(html.contains(r#"<input type="hidden" name="return_to" value="/projects/3/">"#));
        assert!(html.contains(r#"<textarea id="reply-message" name="message" rows="5" required autofocus></textarea>"#));
        assert!(html.contains(r##"<a href="/projects/3/#thread-7">← Back to Solar &#60;kiosk&#62;</a>"##), "{html}");
    }

    #[test]
    fn the_thread_replied_to_is_quoted_as_rendered_markdown() {
        let html = page("No *power* <script>alert(1)</script>");
        assert!(html.contains("<p>No <em>power</em> &lt;script&gt;alert(1)&lt;/script&gt;</p>"), "{html}");
        assert!(!html.contains("<script>alert"));
    }

    #[test]
    fn search_engines_are_asked_not_to_index_it() {
        assert!(page("x").contains(r#"<meta name="robots" content="noindex">"#));
    }
}
