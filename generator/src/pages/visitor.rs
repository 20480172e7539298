//! A visitor's own page (`/me`): the name pages show for them, a form to choose a display
//! name, and what they wrote, each with its edit link: how a visitor without script finds the
//! edit page of their threads (with script, `static/app.js` offers Edit in place). Not a
//! stored page: the Worker renders it per request for the identity the request carries, and
//! no cache keeps it.

use askama::Template;

use super::detail::ThreadView;
use super::view::Layout;
use super::{Page, SiteConfig, HTML};
use crate::model::Thread;
use crate::paths::{url_of, PageKey};
use crate::Result;

/// The path of the page.
pub const PATH: &str = "/me";

/// One of the visitor's threads, with its project's name.
#[derive(Debug, Clone, Copy)]
pub struct OwnThread<'a> {
    pub project_name: &'a str,
    pub thread: &'a Thread,
}

/// What the page shows; `name` is `None` for a visitor without an identity yet.
#[derive(Debug, Clone)]
pub struct VisitorPage<'a> {
    pub name: Option<&'a str>,
    pub display_name: Option<&'a str>,
    pub threads: Vec<OwnThread<'a>>,
    /// Set right after the display name was saved.
    pub saved: bool,
}

struct Item<'a> {
    project_name: &'a str,
    project_url: String,
    edit_url: String,
    view: ThreadView<'a>,
}

/// The display-name form's fields as `forms` templates read them.
struct NameForm<'a> {
    display_name: &'a str,
}

impl NameForm<'_> {
    fn value(&self, name: &str) -> &str {
        if name == "display_name" {
            self.display_name
        } else {
            ""
        }
    }

    fn error_for(&self, _name: &str) -> Option<&'static str> {
        None
    }
}

#[derive(Template)]
#[template(path = "visitor.html")]
struct VisitorHtml<'a> {
    layout: Layout<'a>,
    name: Option<&'a str>,
    form: NameForm<'a>,
    saved: bool,
    items: Vec<Item<'a>>,
}

/// Renders the page (no object key: it is an answer, not a stored page).
pub fn render(site: &SiteConfig, page: &VisitorPage<'_>) -> Result<Page> {
    let items = page
        .threads
        .iter()
        .map(|own| {
            let t = own.thread;
            let project_url = url_of(&PageKey::Detail { project_id: t.project_id });
            Item {
                project_name: own.project_name,
                edit_url: format!("{project_url}threads/{}/edit", t.thread_id),
                project_url,
                view: ThreadView::new(t, None),
            }
        })
        .collect();
    let html = VisitorHtml {
        layout: Layout::new(site, "Your messages".into(), None).noindex(),
        name: page.name,
        form: NameForm { display_name: page.display_name.unwrap_or("") },
        saved: page.saved,
        items,
    };
    Ok(Page { key: String::new(), content_type: HTML, body: html.render()?.into_bytes() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ThreadType;

    #[test]
    fn the_page_lists_the_visitors_threads_with_edit_links() {
        let thread = Thread {
            thread_id: 7,
            project_id: 3,
            thread_type: ThreadType::Comment,
            message: "mine <b>x</b>".into(),
            created_at: "2026-01-02T03:04:05Z".into(),
            ..Default::default()
        };
        let page = VisitorPage {
            name: Some("Ada <L>"),
            display_name: Some("Ada <L>"),
            threads: vec![OwnThread { project_name: "Solar", thread: &thread }],
            saved: true,
        };
        let html = String::from_utf8(render(&SiteConfig::default(), &page).expect("render").body).expect("utf-8");
        assert!(html.contains(r#"href="/projects/3/threads/7/edit""#), "{html}");
        assert!(html.contains("Ada &#60;L&#62;") && !html.contains("<L>"), "{html}");
        assert!(html.contains(r#"value="Ada &#60;L&#62;""#), "{html}");
        assert!(html.contains("Saved."), "{html}");
        assert!(html.contains(r#"<meta name="robots" content="noindex">"#));
    }

    #[test]
    fn a_visitor_without_an_identity_is_told_how_to_get_one() {
        let page = VisitorPage { name: None, display_name: None, threads: vec![], saved: false };
        let html = String::from_utf8(render(&SiteConfig::default(), &page).expect("render").body).expect("utf-8");
        assert!(html.contains("You have not written anything here yet"), "{html}");
        assert!(!html.contains("/edit\""), "{html}");
    }
}
