//! What several page kinds share: the layout fields every HTML page provides, project cards,
//! pagers, and the formatting of dates and counts for humans (done here, not in templates).

use serde::Serialize;

use super::{Page, SiteConfig, HTML, JSON};
use crate::model::ProjectSummary;
use crate::paths::{json_url_of, object_keys_of, url_of, PageKey};
use crate::Result;

/// The fields `templates/base.html` reads; every HTML page has one as its `layout` field.
#[derive(Debug, Clone)]
pub(super) struct Layout<'a> {
    pub site_name: &'a str,
    /// The page's own title; `<title>` adds the site name.
    pub title: String,
    /// Absolute URL of the page, or `None` for pages without a home (404).
    pub canonical: Option<String>,
    /// The page's JSON twin, advertised as an alternate representation.
    pub json: Option<String>,
    pub home: String,
    pub feed: String,
    pub style: String,
    pub script: String,
    /// Asks search engines not to index the page (answers rendered per request).
    pub noindex: bool,
}

impl<'a> Layout<'a> {
    /// Builds the layout of the page `key` (or of a page with no URL of its own).
    pub fn new(site: &'a SiteConfig, title: String, key: Option<&PageKey>) -> Self {
        Layout {
            site_name: &site.site_name,
            title,
            canonical: key.map(|k| absolute(site, &url_of(k))),
            json: key.and_then(json_url_of),
            home: url_of(&PageKey::Front),
            feed: url_of(&PageKey::Feed),
            style: url_of(&PageKey::Stylesheet),
            script: url_of(&PageKey::Script),
            noindex: false,
        }
    }

    /// The same layout, with search engines asked not to index the page.
    pub fn noindex(self) -> Self {
        Layout { noindex: true, ..self }
    }
}

/// Returns the absolute URL of a site path, for the feed, the sitemap and canonical links.
pub(super) fn absolute(site: &SiteConfig, path: &str) -> String {
    format!("{}{}", site.base_url.trim_end_matches('/'), path)
}

/// A form shown empty on its page. `templates/forms/*.html` read it exactly like a refused
/// [`FormError`](super::form_error::FormError) (`action`, `return_to`, `value(name)`,
/// `error_for(name)`), so the page and the error answer share one form markup.
#[derive(Debug, Clone)]
pub(super) struct EmptyForm {
    /// Where the form posts.
    pub action: String,
    /// The page's own path, sent back as `return_to`.
    pub return_to: String,
}

impl EmptyForm {
    pub fn new(action: String, return_to: String) -> Self {
        EmptyForm { action, return_to }
    }

    /// Nothing was typed yet.
    pub fn value(&self, _name: &str) -> &'static str {
        ""
    }

    /// No error yet.
    pub fn error_for(&self, _name: &str) -> Option<&'static str> {
        None
    }
}

/// The write API's paths the forms post to (the Worker takes forms and JSON on the same
/// routes; see `worker/src/forms.rs`).
pub(super) const PROPOSE_ACTION: &str = "/api/v1/projects";

/// `/api/v1/projects/{id}/{tail}`: the tags and threads actions of a project.
pub(super) fn project_action(project_id: i64, tail: &str) -> String {
    let mut s = String::with_capacity(32 + tail.len());
    s.push_str("/api/v1/projects/");
    if project_id < 0 {
        s.push('-');
    }
    push_decimal(&mut s, project_id.unsigned_abs());
    s.push('/');
    s.push_str(tail);
    s
}

/// A tag as a link to its page.
#[derive(Debug, Clone)]
pub(super) struct TagLink<'a> {
    pub name: &'a str,
    pub url: String,
}

impl<'a> TagLink<'a> {
    pub fn new(tag: &'a str) -> Self {
        TagLink { name: tag, url: url_of(&PageKey::TagIndex { tag: tag.to_owned() }) }
    }
}

/// A project as a listing shows it.
#[derive(Debug, Clone)]
pub(super) struct Card<'a> {
    pub name: &'a str,
    pub tagline: &'a str,
    pub url: String,
    /// Empty on tag pages (see `tag.rs`).
    pub tags: Vec<TagLink<'a>>,
    pub created: When<'a>,
}

impl<'a> Card<'a> {
    pub fn new(p: &'a ProjectSummary, with_tags: bool) -> Self {
        let tags = if with_tags { p.tags.iter().map(|t| TagLink::new(t)).collect() } else { Vec::new() };
        Card {
            name: &p.project_name,
            tagline: &p.tagline,
            url: url_of(&PageKey::Detail { project_id: p.project_id }),
            tags,
            created: When::new(&p.created_at),
        }
    }
}

/// Cards newest first, whatever order the items came in (ids grow with time).
pub(super) fn cards_newest_first(items: &[ProjectSummary], with_tags: bool) -> Vec<Card<'_>> {
    newest_first(items).into_iter().map(|p| Card::new(p, with_tags)).collect()
}

/// Items newest first (highest id first), for cards, JSON twins and the feed.
pub(super) fn newest_first(items: &[ProjectSummary]) -> Vec<&ProjectSummary> {
    let mut sorted: Vec<&ProjectSummary> = items.iter().collect();
    sorted.sort_by_key(|p| std::cmp::Reverse(p.project_id));
    sorted
}

/// Links to the neighbouring pages of a paginated list (HTML and JSON).
#[derive(Debug, Clone, Default, Serialize)]
pub(super) struct Pager {
    pub newer: Option<String>,
    pub older: Option<String>,
    #[serde(skip)]
    pub newer_html: Option<String>,
    #[serde(skip)]
    pub older_html: Option<String>,
}

impl Pager {
    /// Builds the links of page `page` of `last`, with `key(k)` naming page `k`.
    pub fn new(page: u32, last: u32, key: impl Fn(u32) -> PageKey) -> Self {
        let newer = (page < last).then(|| key(page + 1));
        let older = (page > 1).then(|| key(page - 1));
        Pager {
            newer: newer.as_ref().and_then(json_url_of),
            older: older.as_ref().and_then(json_url_of),
            newer_html: newer.as_ref().map(url_of),
            older_html: older.as_ref().map(url_of),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.newer_html.is_none() && self.older_html.is_none()
    }
}

/// A timestamp: the machine form for `datetime=` and the human form shown.
#[derive(Debug, Clone)]
pub(super) struct When<'a> {
    pub iso: &'a str,
    pub human: String,
}

impl<'a> When<'a> {
    pub fn new(iso: &'a str) -> Self {
        When { iso, human: human_date(iso) }
    }
}

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// Formats a UTC RFC 3339 timestamp as "1 May 2024, 12:34 UTC"; anything else is shown as is.
pub(super) fn human_date(iso: &str) -> String {
    // Every page shows several dates: built by hand, this is several times faster than `format!`.
    let Some((y, mo, d, h, mi)) = parse_minute(iso) else {
        return iso.to_owned();
    };
    let mut out = String::with_capacity(24);
    push_decimal(&mut out, u64::from(d));
    out.push(' ');
    out.push_str(MONTHS[mo as usize - 1]);
    out.push(' ');
    push_decimal(&mut out, u64::from(y));
    out.push_str(", ");
    push_two_digits(&mut out, h);
    out.push(':');
    push_two_digits(&mut out, mi);
    out.push_str(" UTC");
    out
}

/// Appends `n` in decimal, like `{n}`.
pub(super) fn push_decimal(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[at..] {
        out.push(char::from(d));
    }
}

/// Appends `n < 100` as two digits, like `{n:02}`.
fn push_two_digits(out: &mut String, n: u32) {
    out.push(char::from(b'0' + (n / 10 % 10) as u8));
    out.push(char::from(b'0' + (n % 10) as u8));
}

fn parse_minute(iso: &str) -> Option<(u32, u32, u32, u32, u32)> {
    let b = iso.as_bytes();
    if b.len() < 16 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') || b[13] != b':' {
        return None;
    }
    // Two to four ASCII digits: read in place rather than through `str::parse`.
    let num = |r: std::ops::Range<usize>| {
        b[r].iter().try_fold(0u32, |n, &c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')))
    };
    let (y, mo, d, h, mi) = (num(0..4)?, num(5..7)?, num(8..10)?, num(11..13)?, num(14..16)?);
    let utc = iso.ends_with('Z') || iso.ends_with('z') || iso.ends_with("+00:00");
    ((1..=12).contains(&mo) && (1..=31).contains(&d) && h < 24 && mi < 60 && utc).then_some((y, mo, d, h, mi))
}

/// Formats a count with its noun: "1 project", "1,234 projects".
pub(super) fn count(n: i64, singular: &str, plural: &str) -> String {
    let noun = if n == 1 { singular } else { plural };
    let mut out = String::with_capacity(8 + noun.len());
    if n < 0 {
        out.push('-');
    }
    let mut digits = String::with_capacity(20);
    push_decimal(&mut digits, n.unsigned_abs());
    for (i, c) in digits.bytes().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(char::from(c));
    }
    out.push(' ');
    out.push_str(noun);
    out
}

/// Renders a template into a buffer of at least `estimate` bytes (askama's own guess is the
/// template's static text, far below a page whose loops print most of it).
pub(super) fn render_sized<T: askama::Template>(template: &T, estimate: usize) -> Result<String> {
    let mut out = String::with_capacity(estimate.max(T::SIZE_HINT));
    template.render_into(&mut out)?;
    Ok(out)
}

/// Makes a page's objects: its HTML at the key's first object, its JSON twin at the second.
pub(super) fn html_and_json(key: &PageKey, html: String, json: &impl Serialize) -> Result<Vec<Page>> {
    html_and_json_with(key, html, |body| {
        json.serialize(&mut serde_json::Serializer::with_formatter(body, PrettyJson::default()))?;
        Ok(())
    })
}

/// [`html_and_json`] with the twin written by `write_json` (pretty JSON, as
/// `serde_json::to_vec_pretty` would print it; the final newline is added here).
pub(super) fn html_and_json_with(
    key: &PageKey,
    html: String,
    write_json: impl FnOnce(&mut Vec<u8>) -> Result<()>,
) -> Result<Vec<Page>> {
    let mut objects = object_keys_of(key).into_iter();
    let mut pages = Vec::with_capacity(2);
    // A JSON twin is smaller than its page: one allocation instead of a dozen doublings.
    let json_capacity = html.len();
    if let Some(k) = objects.next() {
        pages.push(Page { key: k, content_type: HTML, body: html.into_bytes() });
    }
    if let Some(k) = objects.next() {
        let mut body = Vec::with_capacity(json_capacity);
        write_json(&mut body)?;
        body.push(b'\n');
        pages.push(Page { key: k, content_type: JSON, body });
    }
    Ok(pages)
}

/// Appends `s` as a JSON string exactly as serde_json escapes it: `"` and `\\` with a
/// backslash, control characters as `\b \t \n \f \r` or `\u00xx`, everything else as is.
pub(super) fn push_json_str(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut start = 0;
    while let Some(i) = next_json_escape(bytes, start) {
        let b = bytes[i];
        out.extend_from_slice(&bytes[start..i]);
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            _ => out.extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xf)]]),
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// The index of the first byte at or after `from` that JSON escapes (`"`, `\\`, below 0x20),
/// eight bytes at a time.
fn next_json_escape(bytes: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut at = from;
    while at + 8 <= bytes.len() {
        let mut word = [0u8; 8];
        word.copy_from_slice(&bytes[at..at + 8]);
        let w = u64::from_le_bytes(word);
        // High bit set in the bytes below 0x20, equal to `"`, equal to `\\`; in each term the
        // lowest flagged byte is always a true match, so the lowest of all three is the first.
        let below = w.wrapping_sub(ONES * 0x20) & !w & HIGHS;
        let quote = (w ^ (ONES * 0x22)).wrapping_sub(ONES) & !(w ^ (ONES * 0x22)) & HIGHS;
        let backslash = (w ^ (ONES * 0x5c)).wrapping_sub(ONES) & !(w ^ (ONES * 0x5c)) & HIGHS;
        let hits = below | quote | backslash;
        if hits != 0 {
            return Some(at + hits.trailing_zeros() as usize / 8);
        }
        at += 8;
    }
    bytes[at.min(bytes.len())..].iter().position(|&b| b < 0x20 || b == b'"' || b == b'\\').map(|i| at + i)
}

/// Appends an integer as JSON (and `{n}`) prints it.
pub(super) fn push_json_i64(out: &mut Vec<u8>, n: i64) {
    if n < 0 {
        out.push(b'-');
    }
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut n = n.unsigned_abs();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// serde_json's `PrettyFormatter` (two-space indent), byte for byte, writing each line's
/// indentation at once instead of two bytes at a time: JSON twins are mostly indentation calls.
#[derive(Debug, Default)]
pub(super) struct PrettyJson {
    level: usize,
    has_value: bool,
}

impl PrettyJson {
    /// A newline (after a comma when `comma`) and the current indentation, in one write.
    fn new_line<W: ?Sized + std::io::Write>(&self, w: &mut W, comma: bool) -> std::io::Result<()> {
        const LINE: &[u8] = b",\n                                                                ";
        let start = usize::from(!comma);
        match LINE.get(start..2 + 2 * self.level) {
            Some(line) => w.write_all(line),
            None => {
                w.write_all(&LINE[start..2])?;
                (0..self.level).try_for_each(|_| w.write_all(b"  "))
            }
        }
    }
}

impl PrettyJson {
    /// Opens an array or object one level deeper.
    fn open<W: ?Sized + std::io::Write>(&mut self, w: &mut W, bracket: &[u8]) -> std::io::Result<()> {
        self.level += 1;
        self.has_value = false;
        w.write_all(bracket)
    }

    /// Closes an array or object, on its own line when it held anything.
    fn close<W: ?Sized + std::io::Write>(&mut self, w: &mut W, bracket: &[u8]) -> std::io::Result<()> {
        self.level -= 1;
        if self.has_value {
            self.new_line(w, false)?;
        }
        w.write_all(bracket)
    }
}

impl serde_json::ser::Formatter for PrettyJson {
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open(w, b"[")
    }

    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.close(w, b"]")
    }

    fn begin_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W, first: bool) -> std::io::Result<()> {
        self.new_line(w, !first)
    }

    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, _w: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open(w, b"{")
    }

    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.close(w, b"}")
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(&mut self, w: &mut W, first: bool) -> std::io::Result<()> {
        self.new_line(w, !first)
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, _w: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

/// Makes the single object of a page without a JSON twin.
pub(super) fn single(key: &PageKey, content_type: &'static str, body: String) -> Page {
    let k = object_keys_of(key).into_iter().next().unwrap_or_default();
    Page { key: k, content_type, body: body.into_bytes() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_dates_for_humans() {
        assert_eq!(human_date("2024-05-01T12:34:56Z"), "1 May 2024, 12:34 UTC");
        assert_eq!(human_date("2024-12-31T23:59:00.123+00:00"), "31 Dec 2024, 23:59 UTC");
        assert_eq!(human_date("2024-13-01T00:00:00Z"), "2024-13-01T00:00:00Z");
        assert_eq!(human_date("2024-05-01T12:34:56+02:00"), "2024-05-01T12:34:56+02:00");
        assert_eq!(human_date("soon"), "soon");
        assert_eq!(human_date("2024-05-01T1é:34:56Z"), "2024-05-01T1é:34:56Z");
        assert_eq!(human_date("2024-05-0é12:34:56Z"), "2024-05-0é12:34:56Z");
        assert_eq!(human_date("+024-05-01T12:34:56Z"), "+024-05-01T12:34:56Z");
        assert_eq!(human_date("2024-05-01T12:34Z"), "1 May 2024, 12:34 UTC");
    }

    #[test]
    fn formats_decimals_like_format() {
        for n in [0, 1, 9, 10, 99, 100, 12_345, u64::from(u32::MAX), u64::MAX] {
            let mut s = String::new();
            push_decimal(&mut s, n);
            assert_eq!(s, n.to_string());
        }
        for n in 0..100 {
            let mut s = String::new();
            push_two_digits(&mut s, n);
            assert_eq!(s, format!("{n:02}"));
        }
        assert_eq!(human_date("0999-01-09T00:05:00Z"), "9 Jan 999, 00:05 UTC");
        assert_eq!(count(i64::MIN, "a", "b"), "-9,223,372,036,854,775,808 b");
    }

    #[test]
    fn json_strings_match_serde_json() {
        let all: String = (0u8..0x80).map(char::from).chain("é€😀".chars()).collect();
        for start in 0..all.len() {
            for end in (start..=all.len()).filter(|e| all.is_char_boundary(*e) && all.is_char_boundary(start)) {
                let s = &all[start..end];
                let mut ours = Vec::new();
                push_json_str(&mut ours, s);
                assert_eq!(String::from_utf8(ours).unwrap(), serde_json::to_string(s).unwrap());
            }
        }
        for n in [0, 1, -1, 42, i64::MIN, i64::MAX] {
            let mut ours = Vec::new();
            push_json_i64(&mut ours, n);
            assert_eq!(String::from_utf8(ours).unwrap(), n.to_string());
        }
    }

    #[test]
    fn pretty_json_matches_serde_json() {
        let deep = (0..40).fold(serde_json::json!([]), |v, i| serde_json::json!({ "k": [v, i, {}] }));
        let values = [
            serde_json::json!(null),
            serde_json::json!([]),
            serde_json::json!({}),
            serde_json::json!({"a": [], "b": {}, "c": [1, [2, []], {"d": null}], "e": "\"\\\n\u{1}é\u{7f}"}),
            serde_json::json!([[[]], [{}], [1.5, -3, true]]),
            deep,
        ];
        for value in values {
            let mut ours = Vec::new();
            value.serialize(&mut serde_json::Serializer::with_formatter(&mut ours, PrettyJson::default())).unwrap();
            assert_eq!(String::from_utf8(ours).unwrap(), serde_json::to_string_pretty(&value).unwrap());
        }
    }

    #[test]
    fn formats_counts() {
        assert_eq!(count(1, "vote", "votes"), "1 vote");
        assert_eq!(count(0, "vote", "votes"), "0 votes");
        assert_eq!(count(1_234_567, "vote", "votes"), "1,234,567 votes");
        assert_eq!(count(-1000, "vote", "votes"), "-1,000 votes");
    }

    #[test]
    fn pager_links_only_existing_neighbours() {
        let key = |page| PageKey::Listing { page };
        let p = Pager::new(1, 1, key);
        assert!(p.is_empty());
        let p = Pager::new(2, 3, key);
        assert_eq!(p.newer_html.as_deref(), Some("/page/3/"));
        assert_eq!(p.older.as_deref(), Some("/api/v1/projects/page/1.json"));
    }
}
