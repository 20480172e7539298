//! What a search query is: at most [`MAX_QUERY_CHARS`] characters, read as words (runs of
//! letters and digits, any script), at most [`MAX_WORDS`] of them, each matched as a prefix
//! ("solar" finds "solar-roofs", "cafe" finds "Café"). The words become an FTS5 expression
//! built only from quoted terms, so no query text is ever read as FTS5 syntax.

use crate::error::{ApiError, ApiResult};

/// Longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// Most words a query may hold (every word must match: more would find nothing anyway).
pub const MAX_WORDS: usize = 8;
/// Matches per page.
pub const PAGE_SIZE: u32 = 20;
/// Deepest page served: past it, the query should be narrower.
pub const MAX_PAGE: u32 = 50;

/// A valid query: what was typed (trimmed) and its words, lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    pub text: String,
    pub words: Vec<String>,
    pub page: u32,
}

impl SearchQuery {
    /// Reads `q` and `page` (1 when absent).
    pub fn parse(q: Option<&str>, page: Option<&str>) -> ApiResult<SearchQuery> {
        // The rules hold for the query as sent (as the description's schema states them), then
        // it is trimmed.
        let raw = q.unwrap_or("");
        if raw.chars().count() > MAX_QUERY_CHARS {
            return Err(ApiError::invalid("q", format!("at most {MAX_QUERY_CHARS} characters")));
        }
        if raw.chars().any(char::is_control) {
            return Err(ApiError::invalid("q", "must not contain control characters"));
        }
        let text = raw.trim();
        let words: Vec<String> =
            text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect();
        if words.len() > MAX_WORDS {
            return Err(ApiError::invalid("q", format!("at most {MAX_WORDS} words")));
        }
        let page = match page {
            None => 1,
            Some(raw) => match raw.parse::<u32>() {
                Ok(n) if (1..=MAX_PAGE).contains(&n) => n,
                _ => return Err(ApiError::invalid("page", format!("a whole number from 1 to {MAX_PAGE}"))),
            },
        };
        Ok(SearchQuery { text: text.to_owned(), words, page })
    }

    /// The FTS5 MATCH expression: every word, quoted, as a prefix (`"solar"* "roof"*`);
    /// `None` when the query has no words (nothing to look up).
    pub fn fts_expression(&self) -> Option<String> {
        (!self.words.is_empty()).then(|| {
            self.words.iter().map(|w| format!("\"{}\"*", w.replace('"', "\"\""))).collect::<Vec<_>>().join(" ")
        })
    }

    /// Rows to skip for this page.
    pub fn offset(&self) -> u32 {
        (self.page - 1) * PAGE_SIZE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(q: &str) -> Vec<String> {
        SearchQuery::parse(Some(q), None).expect("valid").words
    }

    #[test]
    fn words_are_runs_of_letters_and_digits_lower_cased() {
        assert_eq!(words("  Solar ROOFS, café-2024! "), vec!["solar", "roofs", "café", "2024"]);
        assert_eq!(words("日本 the"), vec!["日本", "the"]);
        assert!(words("  \"* OR NEAR( ").iter().all(|w| w.chars().all(char::is_alphanumeric)));
        assert_eq!(SearchQuery::parse(None, None).expect("empty").fts_expression(), None);
        assert_eq!(SearchQuery::parse(Some("!!"), None).expect("no words").fts_expression(), None);
    }

    #[test]
    fn the_fts_expression_is_quoted_prefixes_only() {
        let q = SearchQuery::parse(Some("solar OR roof*"), None).expect("valid");
        assert_eq!(q.fts_expression().as_deref(), Some(r#""solar"* "or"* "roof"*"#));
    }

    #[test]
    fn long_queries_many_words_and_bad_pages_are_refused_by_field() {
        let field = |q: &str, page: Option<&str>| match SearchQuery::parse(Some(q), page) {
            Err(ApiError::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(&"x".repeat(MAX_QUERY_CHARS + 1), None), "q");
        assert!(SearchQuery::parse(Some(&"é".repeat(MAX_QUERY_CHARS)), None).is_ok(), "characters, not bytes");
        assert_eq!(field(&"a ".repeat(MAX_WORDS + 1), None), "q");
        assert_eq!(field("a\u{0}b", None), "q");
        assert_eq!(field("\tpadded", None), "q", "as sent, not as trimmed");
        assert_eq!(field(&format!("{}a", " ".repeat(MAX_QUERY_CHARS)), None), "q");
        for page in ["0", "51", "-1", "x", ""] {
            assert_eq!(field("a", Some(page)), "page", "{page}");
        }
        let q = SearchQuery::parse(Some("a"), Some("3")).expect("valid");
        assert_eq!((q.page, q.offset()), (3, 40));
    }
}
