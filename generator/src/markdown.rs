//! Untrusted Markdown in, [`SafeHtml`] out: the only HTML that templates print unescaped.
//!
//! Thread messages are written by visitors, so the renderer is a filter over pulldown-cmark's
//! events, not a configuration of it:
//!
//! - raw HTML (blocks and inline) becomes escaped text, never markup;
//! - link destinations are kept only for `http`, `https`, `mailto` and relative URLs; any other
//!   scheme (`javascript:`, `data:`, `vbscript:`, ...) drops the link and keeps its text;
//! - images never load (the CSP allows only same-origin images): an image becomes a link to
//!   its destination labelled with its alt text, or plain text when the URL is refused;
//! - headings are demoted two levels so a message cannot outrank the page's own `<h1>`/`<h2>`;
//! - table column alignment is dropped: it prints inline `style` attributes, which the CSP
//!   (`default-src 'self'`) refuses.
//!
//! Links carry `rel="nofollow ugc noopener"`: the site does not vouch for them.

use std::fmt;

use pulldown_cmark::{html, Alignment, CowStr, Event, HeadingLevel, LinkType, Options, Parser, Tag, TagEnd};

/// HTML that is safe to print unescaped, because [`render_markdown`] made it.
///
/// The constructor is private to this module: no other code can wrap an arbitrary string, so
/// a template's `|safe` on a `SafeHtml` can only ever print filtered Markdown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafeHtml(String);

impl SafeHtml {
    /// Returns the HTML, for tests and for callers that embed it elsewhere.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SafeHtml {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl askama::filters::HtmlSafe for SafeHtml {}

/// What `rel` links from visitors carry.
const LINK_REL: &str = "nofollow ugc noopener";

/// Renders untrusted Markdown to HTML that cannot run script or load remote content.
///
/// ```
/// use generator::markdown::render_markdown;
/// let html = render_markdown("*hi* <script>alert(1)</script> [x](javascript:alert(1))");
/// assert_eq!(html.as_str(), "<p><em>hi</em> &lt;script&gt;alert(1)&lt;/script&gt; x</p>\n");
/// ```
pub fn render_markdown(markdown: &str) -> SafeHtml {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut filter = Filter::default();
    let events = Parser::new_ext(markdown, options).flat_map(|event| filter.event(event));
    let mut out = String::with_capacity(markdown.len() + markdown.len() / 2);
    html::push_html(&mut out, events);
    SafeHtml(out)
}

/// How a link or image start was rendered, so its end renders the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    /// We emitted `<a ...>`: close it.
    Anchor,
    /// We emitted nothing (refused URL, or an image inside a link): emit nothing.
    Nothing,
}

/// The event filter; it tracks open links and images to pair their ends, and counts the
/// lines of a raw HTML block to join them with line breaks.
#[derive(Debug, Default)]
struct Filter {
    open: Vec<Open>,
    html_block_lines: usize,
}

impl Filter {
    /// Maps one parser event to at most two output events.
    fn event<'a>(&mut self, event: Event<'a>) -> impl Iterator<Item = Event<'a>> {
        let (first, second) = match event {
            // Raw HTML is shown, never interpreted. A block (`Html`, one event per source
            // line) becomes a paragraph of its lines; inline HTML becomes text in place.
            Event::Start(Tag::HtmlBlock) => {
                self.html_block_lines = 0;
                (Some(Event::Start(Tag::Paragraph)), None)
            }
            Event::End(TagEnd::HtmlBlock) => (Some(Event::End(TagEnd::Paragraph)), None),
            Event::Html(raw) => {
                self.html_block_lines += 1;
                let line = Event::Text(CowStr::from(raw.trim_end_matches('\n').to_owned()));
                let (a, b) = if self.html_block_lines > 1 { (Event::SoftBreak, Some(line)) } else { (line, None) };
                (Some(a), b)
            }
            Event::InlineHtml(raw) => (Some(Event::Text(raw)), None),
            other => (self.rewrite(other), None),
        };
        first.into_iter().chain(second)
    }

    /// Rewrites headings, tables, links and images; passes everything else through.
    fn rewrite<'a>(&mut self, event: Event<'a>) -> Option<Event<'a>> {
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                Some(Event::Start(Tag::Heading { level: demote(level), id: None, classes: vec![], attrs: vec![] }))
            }
            Event::End(TagEnd::Heading(level)) => Some(Event::End(TagEnd::Heading(demote(level)))),
            // Column alignment would print `style` attributes, which the CSP refuses.
            Event::Start(Tag::Table(columns)) => {
                let plain = vec![Alignment::None; columns.len()];
                Some(Event::Start(Tag::Table(plain)))
            }
            Event::Start(Tag::Link { link_type, dest_url, title, .. }) => self.open_link(link_type, &dest_url, &title),
            Event::Start(Tag::Image { link_type, dest_url, title, .. }) => {
                // An image inside a link would nest anchors: show its alt text only.
                if self.open.contains(&Open::Anchor) {
                    self.open.push(Open::Nothing);
                    None
                } else {
                    self.open_link(link_type, &dest_url, &title)
                }
            }
            Event::End(TagEnd::Link) | Event::End(TagEnd::Image) => match self.open.pop() {
                Some(Open::Anchor) => Some(Event::InlineHtml(CowStr::Borrowed("</a>"))),
                _ => None,
            },
            other => Some(other),
        }
    }

    fn open_link<'a>(&mut self, link_type: LinkType, dest: &str, title: &str) -> Option<Event<'a>> {
        let href = match link_type {
            LinkType::Email => format!("mailto:{dest}"),
            _ => dest.to_owned(),
        };
        match safe_url(&href) {
            Some(href) => {
                self.open.push(Open::Anchor);
                let mut tag = format!("<a href=\"{}\" rel=\"{LINK_REL}\"", escape_attr(&href));
                if !title.is_empty() {
                    tag.push_str(&format!(" title=\"{}\"", escape_attr(title)));
                }
                tag.push('>');
                Some(Event::InlineHtml(CowStr::from(tag)))
            }
            None => {
                self.open.push(Open::Nothing);
                None
            }
        }
    }
}

fn demote(level: HeadingLevel) -> HeadingLevel {
    match level {
        HeadingLevel::H1 => HeadingLevel::H3,
        HeadingLevel::H2 => HeadingLevel::H4,
        HeadingLevel::H3 => HeadingLevel::H5,
        _ => HeadingLevel::H6,
    }
}

/// Returns the URL to print if its scheme is allowed, `None` otherwise.
///
/// The parser has already decoded entities (`&#106;avascript:` is `javascript:` here).
/// Browsers ignore leading C0 controls and spaces and strip tabs and newlines anywhere, so
/// the scheme is read after doing the same; the cleaned URL is what gets printed.
fn safe_url(url: &str) -> Option<String> {
    let cleaned: String =
        url.trim_start_matches(|c: char| c <= ' ').chars().filter(|c| !matches!(c, '\t' | '\n' | '\r')).collect();
    let scheme_end = cleaned.find([':', '/', '?', '#']);
    let allowed = match scheme_end {
        Some(at) if cleaned[at..].starts_with(':') => {
            matches!(cleaned[..at].to_ascii_lowercase().as_str(), "http" | "https" | "mailto")
        }
        // No scheme: a relative URL ("/x", "#x", "x", "?x", "//host/x").
        _ => true,
    };
    allowed.then(|| encode_spaces(&cleaned))
}

/// Percent-encodes spaces and control characters left inside a URL.
fn encode_spaces(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    for c in url.chars() {
        if c <= ' ' || c == '\u{7f}' {
            out.push_str(&format!("%{:02X}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Escapes a string for a double-quoted HTML attribute value.
fn escape_attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn md(s: &str) -> String {
        render_markdown(s).as_str().to_owned()
    }

    #[test]
    fn renders_ordinary_markdown() {
        assert_eq!(md("**bold** and `code`"), "<p><strong>bold</strong> and <code>code</code></p>\n");
        assert_eq!(md("~~gone~~"), "<p><del>gone</del></p>\n");
    }

    #[test]
    fn keeps_allowed_links_with_rel() {
        assert_eq!(
            md("[a](https://example.com/x?y=1&z=2 \"T\")"),
            "<p><a href=\"https://example.com/x?y=1&amp;z=2\" rel=\"nofollow ugc noopener\" title=\"T\">a</a></p>\n"
        );
        assert!(md("[a](/projects/1/)").contains("href=\"/projects/1/\""));
        assert!(md("[a](#thread-3)").contains("href=\"#thread-3\""));
        assert!(md("<me@example.com>").contains("href=\"mailto:me@example.com\""));
    }

    #[test]
    fn drops_dangerous_schemes_but_keeps_text() {
        for url in [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            "&#106;avascript:alert(1)",
            "java&#x09;script:alert(1)",
            "&#x20;javascript:alert(1)",
            "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
            "vbscript:msgbox(1)",
            "file:///etc/passwd",
        ] {
            let html = md(&format!("[click](<{url}>)"));
            assert_eq!(html, "<p>click</p>\n", "url {url}");
        }
    }

    #[test]
    fn raw_html_is_text() {
        assert_eq!(md("<b>x</b>"), "<p>&lt;b&gt;x&lt;/b&gt;</p>\n");
        assert_eq!(md("<div onclick=\"x\">\nhi\n</div>"), "<p>&lt;div onclick=\"x\"&gt;\nhi\n&lt;/div&gt;</p>\n");
        assert_eq!(md("<script>\n\nx"), "<p>&lt;script&gt;\n\nx</p>\n");
    }

    #[test]
    fn images_become_links_or_text() {
        assert_eq!(
            md("![cat](https://example.com/cat.png)"),
            "<p><a href=\"https://example.com/cat.png\" rel=\"nofollow ugc noopener\">cat</a></p>\n"
        );
        assert_eq!(md("![cat](javascript:x)"), "<p>cat</p>\n");
        let nested = md("[![cat](/c.png)](https://example.com)");
        assert_eq!(nested.matches("<a ").count(), 1, "{nested}");
        assert!(!md("![x](/a.png)").contains("<img"));
    }

    #[test]
    fn headings_are_demoted() {
        assert_eq!(md("# Big"), "<h3>Big</h3>\n");
        assert_eq!(md("#### Small"), "<h6>Small</h6>\n");
    }

    #[test]
    fn safe_url_rules() {
        assert_eq!(safe_url("  https://x.org"), Some("https://x.org".into()));
        assert_eq!(safe_url("relative/path:x"), Some("relative/path:x".into()));
        assert_eq!(safe_url("\u{1}javascript:x"), None);
        assert_eq!(safe_url("mailto:a@b.c"), Some("mailto:a@b.c".into()));
        assert_eq!(safe_url("ftp://x"), None);
        assert_eq!(safe_url("/a b\u{1}"), Some("/a%20b%01".into()));
    }
}
