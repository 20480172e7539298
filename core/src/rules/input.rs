//! Request bodies of the write API, and the rules that turn raw input into valid commands.
//!
//! Policy (documented in data/openapi.yaml): unknown fields are rejected (422), so a typo
//! never silently drops data; text is trimmed and NFC-normalised; control characters are
//! refused except newlines and tabs in Markdown messages; tags are lower-cased, spaces become
//! `-`, and duplicates are dropped.

use super::nfc::nfc;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::error::{ApiError, ApiResult};
use generator::model::ThreadType;

/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_TAGLINE_CHARS: usize = 200;
pub const MAX_TAGS: usize = 10;
pub const MAX_TAG_CHARS: usize = 32;
pub const MAX_MESSAGE_CHARS: usize = 10_000;
/// Problems (and solutions) in one proposal; threads in one UpdateThreads call.
pub const MAX_THREADS_PER_WRITE: usize = 20;
pub const MAX_THREADS_LIMIT: u32 = 100;
pub const DEFAULT_THREADS_LIMIT: u32 = 20;

/// Parses a JSON body: syntax errors are 400, well-formed JSON of the wrong shape is 422.
/// The body must be a JSON object (serde would otherwise take an array as a struct's fields
/// in order).
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    parse_json_within(body, MAX_BODY_BYTES)
}

/// [`parse_json`] with another size limit (admin imports take larger bodies).
pub fn parse_json_within<T: DeserializeOwned>(body: &[u8], limit: usize) -> ApiResult<T> {
    if body.len() > limit {
        return Err(ApiError::TooLarge { limit });
    }
    let text =
        std::str::from_utf8(body).map_err(|_| ApiError::Malformed { message: "the body is not valid UTF-8".into() })?;
    let is_object = text.trim_start().starts_with('{');
    let not_an_object = || ApiError::invalid("body", "must be a JSON object");
    let parsed = match serde_json::from_str::<serde_json::Value>(text) {
        Ok(mut value) => {
            integral_numbers(&mut value);
            T::deserialize(value)
        }
        Err(e) => Err(e),
    };
    match parsed {
        Ok(value) if is_object => Ok(value),
        Ok(_) => Err(not_an_object()),
        Err(e) if e.classify() == serde_json::error::Category::Data => {
            if !is_object {
                return Err(not_an_object());
            }
            let message = strip_position(&e.to_string());
            Err(ApiError::invalid(field_of::<T>(text, &message), message))
        }
        Err(e) => Err(ApiError::Malformed {
            message: format!("the body is not valid JSON: {}", strip_position(&e.to_string())),
        }),
    }
}

/// Makes every number without a fraction an integer (`4574.0` is `4574`): JSON has one
/// number type, and JSON Schema's `integer` is any number whose fraction is zero.
fn integral_numbers(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Number(n) if !n.is_i64() && !n.is_u64() => {
            if let Some(f) = n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() <= MAX_ID as f64) {
                // Within ±2^53 the float is exactly this integer.
                *value = Value::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_numbers),
        Value::Object(fields) => fields.values_mut().for_each(integral_numbers),
        _ => {}
    }
}

/// Deserializes an optional field that, when present, must be a `T`: absent is `None` (with
/// `#[serde(default)]`), and `null` is refused like any other wrong type (422), as the
/// description's schemas say (`Option<T>` alone would take `null` for absent).
pub fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

fn strip_position(message: &str) -> String {
    message.split(" at line ").next().unwrap_or(message).to_owned()
}

/// Names the field a serde data error is about: the one its message names (`unknown field
/// `x``, `missing field `x``), else the top-level field that fails on its own (a wrong
/// type), else `body`.
fn field_of<T: DeserializeOwned>(text: &str, message: &str) -> String {
    for marker in ["unknown field `", "missing field `"] {
        if let Some(rest) = message.split(marker).nth(1) {
            if let Some(name) = rest.split('`').next() {
                return name.to_owned();
            }
        }
    }
    let Ok(serde_json::Value::Object(fields)) = serde_json::from_str(text) else { return "body".into() };
    fields
        .into_iter()
        .find(|(name, value)| {
            let alone = serde_json::Map::from_iter([(name.clone(), value.clone())]);
            serde_json::from_value::<T>(serde_json::Value::Object(alone))
                .is_err_and(|e| !e.to_string().starts_with("missing field"))
        })
        .map_or_else(|| "body".into(), |(name, _)| name)
}

/// The spec's ProposeProject body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProposeRequest {
    pub project_name: String,
    pub tagline: String,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub problems: Vec<String>,
    #[serde(default)]
    pub solutions: Vec<String>,
}

/// A proposal that passed every rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    pub project_name: String,
    /// The key duplicates are detected on: the name lower-cased.
    pub name_key: String,
    pub tagline: String,
    pub tags: Vec<String>,
    pub problems: Vec<String>,
    pub solutions: Vec<String>,
}

impl ProposeRequest {
    /// Validates and normalises a proposal.
    pub fn validate(self) -> ApiResult<Proposal> {
        let project_name = line("project_name", &self.project_name, MAX_NAME_CHARS)?;
        let tagline = line("tagline", &self.tagline, MAX_TAGLINE_CHARS)?;
        let tags = tags("tags", &self.tags)?;
        for (field, list) in [("problems", &self.problems), ("solutions", &self.solutions)] {
            if list.len() > MAX_THREADS_PER_WRITE {
                return Err(ApiError::invalid(field, format!("at most {MAX_THREADS_PER_WRITE} {field}")));
            }
        }
        let problems = messages("problems", &self.problems)?;
        let solutions = messages("solutions", &self.solutions)?;
        Ok(Proposal { name_key: name_key(&project_name), project_name, tagline, tags, problems, solutions })
    }
}

/// The body of UpdateTags: the spec's `PUT /projects/tags` carries `project_id`; the
/// per-project path takes it from the URL.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagsRequest {
    #[serde(default, deserialize_with = "present")]
    pub project_id: Option<i64>,
    #[serde(default)]
    pub add: Vec<String>,
    #[serde(default)]
    pub remove: Vec<String>,
}

/// A validated tag edit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagEdit {
    pub add: Vec<String>,
    pub remove: Vec<String>,
}

impl TagsRequest {
    /// Validates a tag edit; a tag both added and removed is a contradiction (422).
    pub fn validate(&self) -> ApiResult<TagEdit> {
        let add = tags("add", &self.add)?;
        let remove = tags("remove", &self.remove)?;
        if add.is_empty() && remove.is_empty() {
            return Err(ApiError::invalid("add", "nothing to add or remove"));
        }
        if let Some(both) = add.iter().find(|t| remove.contains(t)) {
            return Err(ApiError::invalid("remove", format!("tag `{both}` is both added and removed")));
        }
        Ok(TagEdit { add, remove })
    }
}

/// One entry of UpdateThreads: with `thread_id` it edits that thread's message; without, it
/// adds a thread (a reply when `parent_id` is set).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThreadInput {
    #[serde(default, deserialize_with = "present")]
    pub thread_id: Option<i64>,
    #[serde(default, deserialize_with = "present")]
    pub project_id: Option<i64>,
    #[serde(default, deserialize_with = "present")]
    pub parent_id: Option<i64>,
    #[serde(default, deserialize_with = "present")]
    pub thread_type: Option<String>,
    pub message: String,
}

/// The UpdateThreads body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThreadsRequest {
    pub threads: Vec<ThreadInput>,
}

/// A validated thread write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThreadWrite {
    Edit { thread_id: i64, message: String },
    Add { parent_id: Option<i64>, thread_type: ThreadType, message: String },
}

impl ThreadsRequest {
    /// Validates every entry against the project the URL names; all or nothing.
    pub fn validate(&self, project_id: i64) -> ApiResult<Vec<ThreadWrite>> {
        if self.threads.is_empty() {
            return Err(ApiError::invalid("threads", "at least one thread"));
        }
        if self.threads.len() > MAX_THREADS_PER_WRITE {
            return Err(ApiError::invalid("threads", format!("at most {MAX_THREADS_PER_WRITE} threads per call")));
        }
        self.threads
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let field = |name: &str| format!("threads[{i}].{name}");
                if t.project_id.is_some_and(|p| p != project_id) {
                    return Err(ApiError::invalid(field("project_id"), "does not match the project in the path"));
                }
                let message = message(&field("message"), &t.message)?;
                match t.thread_id {
                    Some(thread_id) => {
                        id(&field("thread_id"), thread_id)?;
                        if t.parent_id.is_some() || t.thread_type.is_some() {
                            return Err(ApiError::invalid(field("thread_id"), "an edit changes only the message"));
                        }
                        Ok(ThreadWrite::Edit { thread_id, message })
                    }
                    None => {
                        let kind = t.thread_type.as_deref().unwrap_or("COMMENT");
                        let thread_type = ThreadType::parse(kind).ok_or_else(|| {
                            ApiError::invalid(field("thread_type"), "must be PROBLEM, SOLUTION or COMMENT")
                        })?;
                        if let Some(parent) = t.parent_id {
                            id(&field("parent_id"), parent)?;
                        }
                        Ok(ThreadWrite::Add { parent_id: t.parent_id, thread_type, message })
                    }
                }
            })
            .collect()
    }
}

/// The Vote body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoteRequest {
    pub direction: String,
}

/// The largest id: 2^53, so every id is exact as a JavaScript number.
pub const MAX_ID: i64 = 1 << 53;

/// Checks an id from the outside: positive and small enough to be a JS number.
pub fn id(field: &str, value: i64) -> ApiResult<i64> {
    if (1..=MAX_ID).contains(&value) {
        Ok(value)
    } else {
        Err(ApiError::invalid(field, "must be a positive integer"))
    }
}

/// Parses a `limit` query value.
pub fn threads_limit(raw: Option<&str>) -> ApiResult<u32> {
    let Some(raw) = raw else { return Ok(DEFAULT_THREADS_LIMIT) };
    match raw.parse::<u32>() {
        Ok(n) if (1..=MAX_THREADS_LIMIT).contains(&n) => Ok(n),
        _ => Err(ApiError::invalid("limit", format!("must be an integer from 1 to {MAX_THREADS_LIMIT}"))),
    }
}

/// Refuses text longer than `max_chars` as sent: the description's `maxLength` counts what
/// is sent, before trimming (the normalised text is held to the same bound after).
fn within(field: &str, raw: &str, max_chars: usize) -> ApiResult<()> {
    if raw.chars().count() > max_chars {
        return Err(ApiError::invalid(field, format!("at most {max_chars} characters")));
    }
    Ok(())
}

/// A one-line text field: trimmed, NFC, non-empty, no control characters, bounded.
pub fn line(field: &str, raw: &str, max_chars: usize) -> ApiResult<String> {
    within(field, raw, max_chars)?;
    let text = nfc(raw.trim());
    if text.is_empty() {
        return Err(ApiError::invalid(field, "must not be empty"));
    }
    if text.chars().any(char::is_control) {
        return Err(ApiError::invalid(field, "must not contain control characters"));
    }
    if text.chars().count() > max_chars {
        return Err(ApiError::invalid(field, format!("at most {max_chars} characters")));
    }
    Ok(text)
}

/// A Markdown message: like [`line`] but newlines and tabs are kept.
pub fn message(field: &str, raw: &str) -> ApiResult<String> {
    within(field, raw, MAX_MESSAGE_CHARS)?;
    let text = nfc(raw.replace("\r\n", "\n").trim());
    if text.is_empty() {
        return Err(ApiError::invalid(field, "must not be empty"));
    }
    if text.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(ApiError::invalid(field, "must not contain control characters"));
    }
    if text.chars().count() > MAX_MESSAGE_CHARS {
        return Err(ApiError::invalid(field, format!("at most {MAX_MESSAGE_CHARS} characters")));
    }
    Ok(text)
}

fn messages(field: &str, raw: &[String]) -> ApiResult<Vec<String>> {
    raw.iter().enumerate().map(|(i, m)| message(&format!("{field}[{i}]"), m)).collect()
}

/// Normalises one tag: trimmed, NFC, lower-cased, inner whitespace as `-`; letters, digits
/// and `-` only, so a tag is always a safe URL path segment.
pub fn tag(field: &str, raw: &str) -> ApiResult<String> {
    if raw.chars().count() > MAX_TAG_CHARS {
        return Err(ApiError::invalid(field, format!("a tag has at most {MAX_TAG_CHARS} characters")));
    }
    let lowered = nfc(raw.trim()).to_lowercase();
    let tag = lowered.split_whitespace().collect::<Vec<_>>().join("-");
    if tag.is_empty() {
        return Err(ApiError::invalid(field, "a tag must not be empty"));
    }
    if tag.chars().count() > MAX_TAG_CHARS {
        return Err(ApiError::invalid(field, format!("a tag has at most {MAX_TAG_CHARS} characters")));
    }
    if !tag.chars().all(|c| c.is_alphanumeric() || c == '-') {
        return Err(ApiError::invalid(field, "a tag has only letters, digits and '-'"));
    }
    Ok(tag)
}

/// Normalises a list of tags. The limit counts the tags as sent, duplicates too, as the
/// description's `maxItems` says: a list the schema refuses is never accepted.
fn tags(field: &str, raw: &[String]) -> ApiResult<Vec<String>> {
    if raw.len() > MAX_TAGS {
        return Err(ApiError::invalid(field, format!("at most {MAX_TAGS} tags")));
    }
    let mut out = raw.iter().map(|t| tag(field, t)).collect::<ApiResult<Vec<_>>>()?;
    out.sort();
    out.dedup();
    Ok(out)
}

/// The key that makes project names unique: the same name in any letter case is one name.
pub fn name_key(project_name: &str) -> String {
    project_name.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn propose(json: &str) -> ApiResult<Proposal> {
        parse_json::<ProposeRequest>(json.as_bytes())?.validate()
    }

    #[test]
    fn the_spec_example_is_valid() {
        let p = propose(
            r#"{"project_name": "Popee the Performer", "tagline": "an apprentice clown in Wolf Circus",
               "problems": ["short temper", "self centered"], "solutions": ["play the drums"],
               "tags": ["clown", "circus"]}"#,
        )
        .expect("valid");
        assert_eq!(p.tags, vec!["circus", "clown"]);
        assert_eq!(p.name_key, "popee the performer");
        assert_eq!(p.problems.len(), 2);
    }

    #[test]
    fn syntax_errors_are_malformed_and_shape_errors_invalid() {
        assert_eq!(propose("{").unwrap_err().status(), 400);
        assert_eq!(propose(r#"{"project_name": 5, "tagline": "x"}"#).unwrap_err().status(), 422);
        let unknown = propose(r#"{"project_name": "a", "tagline": "b", "colour": 1}"#).unwrap_err();
        assert_eq!(unknown.field(), Some("colour"));
        let missing = propose(r#"{"tagline": "b"}"#).unwrap_err();
        assert_eq!(missing.field(), Some("project_name"));
        let wrong_type = propose(r#"{"project_name": "a", "tagline": 5}"#).unwrap_err();
        assert_eq!(wrong_type.field(), Some("tagline"));
        let nested = parse_json::<ThreadsRequest>(br#"{"threads": [{"message": 5}]}"#).unwrap_err();
        assert_eq!(nested.field(), Some("threads"));
        for not_an_object in [r#"["a", "b"]"#, "null", "5"] {
            let e = propose(not_an_object).unwrap_err();
            assert_eq!((e.status(), e.field()), (422, Some("body")), "{not_an_object}");
        }
    }

    #[test]
    fn text_is_trimmed_normalised_and_bounded() {
        assert_eq!(line("f", "  Cafe\u{301}  ", 10).expect("ok"), "Caf\u{e9}");
        assert_eq!(line("f", "   ", 10).unwrap_err().status(), 422);
        assert_eq!(line("f", "a\u{0}b", 10).unwrap_err().status(), 422);
        assert!(line("f", &"x".repeat(11), 10).is_err());
        assert!(line("f", &format!("x{}", " ".repeat(10)), 10).is_err(), "the length as sent counts");
        assert_eq!(message("m", "line 1\r\nline 2").expect("ok"), "line 1\nline 2");
    }

    #[test]
    fn tags_are_lowercased_deduplicated_and_limited() {
        assert_eq!(tags("tags", &["Solar Power".into(), "solar  power".into()]).expect("ok"), vec!["solar-power"]);
        assert!(tag("tags", "a/b").is_err());
        assert!(tag("tags", "<script>").is_err());
        let many: Vec<String> = (0..11).map(|i| format!("t{i}")).collect();
        assert_eq!(tags("tags", &many).unwrap_err().field(), Some("tags"));
        let repeated = vec!["same".to_owned(); MAX_TAGS + 1];
        assert_eq!(tags("remove", &repeated).unwrap_err().field(), Some("remove"), "duplicates count too");
        assert_eq!(tags("remove", &repeated[..MAX_TAGS]).expect("ten"), vec!["same"]);
    }

    #[test]
    fn integral_floats_are_integers_and_null_is_not_absent() {
        let edit: TagsRequest = parse_json(br#"{"project_id": 7.0, "add": ["a"]}"#).expect("7.0 is an integer");
        assert_eq!(edit.project_id, Some(7));
        assert_eq!(parse_json::<TagsRequest>(br#"{"project_id": 7.5, "add": ["a"]}"#).unwrap_err().status(), 422);
        // A long integer written with `.0` is parsed exactly (serde_json's `float_roundtrip`;
        // its default parse lands on 2251799813685247.25 here, which schemathesis found).
        let long: ThreadsRequest =
            parse_json(br#"{"threads": [{"thread_id": 2251799813685247.0, "message": "m"}]}"#).expect("an integer");
        assert_eq!(
            long.validate(1).expect("valid")[0],
            ThreadWrite::Edit { thread_id: 2251799813685247, message: "m".into() }
        );
        let near = parse_json::<ThreadsRequest>(br#"{"threads": [{"thread_id": 2251799813685247.2, "message": "m"}]}"#);
        assert_eq!(near.unwrap_err().status(), 422, "a fraction is still refused");
        let absent: TagsRequest = parse_json(br#"{"add": ["a"]}"#).expect("absent");
        assert_eq!(absent.project_id, None);
        let null = parse_json::<TagsRequest>(br#"{"project_id": null, "add": ["a"]}"#).unwrap_err();
        assert_eq!((null.status(), null.field()), (422, Some("project_id")));
        let thread = parse_json::<ThreadsRequest>(br#"{"threads": [{"message": "m", "parent_id": null}]}"#);
        assert_eq!(thread.unwrap_err().status(), 422);
    }

    #[test]
    fn oversized_bodies_are_refused_before_parsing() {
        let big = vec![b' '; MAX_BODY_BYTES + 1];
        assert_eq!(parse_json::<ProposeRequest>(&big).unwrap_err().status(), 413);
    }

    #[test]
    fn thread_writes_check_types_and_edits() {
        let req: ThreadsRequest =
            parse_json(br#"{"threads": [{"message": "hi", "parent_id": 3}, {"thread_id": 4, "message": "edited"}]}"#)
                .expect("json");
        let writes = req.validate(1).expect("valid");
        assert_eq!(
            writes[0],
            ThreadWrite::Add { parent_id: Some(3), thread_type: ThreadType::Comment, message: "hi".into() }
        );
        let bad: ThreadsRequest =
            parse_json(br#"{"threads": [{"message": "x", "thread_type": "RANT"}]}"#).expect("json");
        assert_eq!(bad.validate(1).unwrap_err().field(), Some("threads[0].thread_type"));
    }

    #[test]
    fn limits_are_bounded() {
        assert_eq!(threads_limit(None).expect("default"), DEFAULT_THREADS_LIMIT);
        for bad in ["0", "-1", "101", "abc", "99999999999"] {
            assert_eq!(threads_limit(Some(bad)).unwrap_err().status(), 422, "{bad}");
        }
    }
}
