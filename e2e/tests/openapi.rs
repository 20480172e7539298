//! Keeps data/openapi.yaml true. Without a server: the routes it documents are exactly the
//! Worker's (crowdfund-core's route table, read as data), its limits are the core's constants,
//! its request schemas have the fields of the core's request structs (as serde sees them) with
//! the same required ones, and reject unknown fields, its error codes are the core's. Against the real Worker: every
//! documented operation is routed (not 405, not the generic 404 page) and answers a documented
//! status whose body validates against the documented schema, documented errors too, and the
//! unknown-fields policy holds for every request body.

use std::collections::{BTreeMap, BTreeSet};

use crowdfund_core::error::ERROR_CODES;
use crowdfund_core::routes::table::ROUTES;
use crowdfund_core::rules::input::{self, ProposeRequest, TagsRequest, ThreadInput, ThreadsRequest, VoteRequest};
use crowdfund_core::rules::moderation_input::{
    self, DisplayNameRequest, ModerateProjectRequest, ModerateThreadRequest, ReportRequest,
};
use crowdfund_core::{export, import, visitors};
use crowdfund_e2e::{dev_var, repo_root, Answer, Client, Server};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

/// The documented published pages (GET and HEAD, served by the page route).
const PAGES: &[&str] = &[
    "/projects",
    "/api/v1/projects.json",
    "/projects/{project_id}",
    "/api/v1/projects/{project_id}.json",
    "/api/v1/top.json",
];

/// Every operation, in the order the server test calls them (proposals first). One client
/// (one cookie jar) makes every call, so the visitor the first proposal issues is the author
/// of what the examples edit, until `newVoter` gives the client another identity. A name
/// twice is called twice (see the body overrides).
const OPERATIONS: &[&str] = &[
    "proposeProjectSpec",
    "proposeProject",
    "getProjects",
    "getProjectsVersioned",
    "getProjectDetail",
    "getProjectDetailVersioned",
    "updateTagsSpec",
    "updateTags",
    "updateTagsPatch",
    "updateTagsPost",
    "getProjectThreads",
    "updateThreads",
    "getThreadRevisions",
    "replyForm",
    "editForm",
    "reportForm",
    "reportThread",
    "getVisitor",
    "setDisplayName",
    "setDisplayNamePost",
    "visitorPage",
    "moderateThread",
    "moderateThread",
    "moderateThread",
    "moderateProject",
    "moderateProject",
    "listReports",
    "moderationLog",
    "searchPage",
    "search",
    "getTop",
    "newVoter",
    "newVisitor",
    "vote",
    "health",
    "export",
    "importProjects",
    "startRebuild",
    "getRebuild",
    "listDeadLetters",
    "clearDeadLetters",
    "listDeadLetters",
    "clearDeadLetters",
    "favicon",
];

const HTTP_METHODS: &[&str] = &["get", "put", "post", "delete", "options", "head", "patch", "trace"];

fn read(path: &str) -> String {
    std::fs::read_to_string(repo_root().join(path)).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

fn load() -> Value {
    serde_yaml_ng::from_str(&read("data/openapi.yaml")).expect("data/openapi.yaml parses")
}

/// A path template with every parameter written `{}`.
fn shape(template: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in template.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            _ if !in_param => out.push(c),
            _ => {}
        }
    }
    out
}

/// The documented (path shape, METHOD) pairs.
fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let paths = doc["paths"].as_object().expect("paths");
    let mut out = BTreeSet::new();
    for (path, item) in paths {
        for method in HTTP_METHODS {
            if item.get(*method).is_some() {
                out.insert((shape(path), method.to_uppercase()));
            }
        }
    }
    out
}

/// The (path shape, METHOD) pairs of the core's route table.
fn routed() -> BTreeSet<(String, String)> {
    ROUTES
        .iter()
        .flat_map(|route| route.methods.iter().map(move |(m, _)| (shape(route.path), m.as_str().to_owned())))
        .collect()
}

/// The field names serde reads for a struct (what `deserialize_struct` is given).
fn serde_fields<T: DeserializeOwned>() -> BTreeSet<String> {
    #[derive(Debug)]
    struct Stop;
    impl std::fmt::Display for Stop {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("stop")
        }
    }
    impl std::error::Error for Stop {}
    impl serde::de::Error for Stop {
        fn custom<M: std::fmt::Display>(_: M) -> Self {
            Stop
        }
    }
    struct Probe<'a>(&'a mut &'static [&'static str]);
    impl<'de> serde::Deserializer<'de> for Probe<'_> {
        type Error = Stop;
        fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
            Err(Stop)
        }
        fn deserialize_struct<V: serde::de::Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Stop> {
            *self.0 = fields;
            Err(Stop)
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
            unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
        }
    }
    let mut seen: &'static [&'static str] = &[];
    let _ = T::deserialize(Probe(&mut seen));
    seen.iter().map(|s| (*s).to_owned()).collect()
}

/// How a request struct of the core takes a body: its fields, the ones without which a valid
/// example is refused as missing, and whether an unknown field is refused.
fn struct_rules<T: DeserializeOwned>(example: &Value) -> (BTreeSet<String>, BTreeSet<String>, bool) {
    let fields = serde_fields::<T>();
    let parses = |v: &Value| input::parse_json::<T>(v.to_string().as_bytes()).map(|_| ());
    assert!(parses(example).is_ok(), "{example} parses");
    let required = fields
        .iter()
        .filter(|f| {
            let mut without = example.clone();
            if let Some(o) = without.as_object_mut() {
                o.remove(f.as_str());
            }
            parses(&without).is_err_and(|e| e.to_string().contains("missing field"))
        })
        .cloned()
        .collect();
    let mut unknown = example.clone();
    if let Some(o) = unknown.as_object_mut() {
        o.insert("no_such_field".into(), json!(1));
    }
    let denies = parses(&unknown).is_err_and(|e| e.to_string().contains("unknown field"));
    (fields, required, denies)
}

/// Follows a local `$ref` (`#/components/...`).
fn resolve<'a>(doc: &'a Value, node: &'a Value) -> &'a Value {
    match node.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let pointer = reference.strip_prefix('#').unwrap_or_else(|| panic!("non-local $ref {reference}"));
            let target = doc.pointer(pointer).unwrap_or_else(|| panic!("dangling $ref {reference}"));
            resolve(doc, target)
        }
        None => node,
    }
}

/// Whether a schema (or one of its `allOf` parts) forbids unknown properties.
fn closed(doc: &Value, schema: &Value) -> bool {
    let schema = resolve(doc, schema);
    schema["additionalProperties"] == json!(false)
        || schema["allOf"].as_array().is_some_and(|parts| parts.iter().any(|p| closed(doc, p)))
}

/// Validates a value against a schema (the subset of JSON Schema the description uses, minus
/// `pattern`); returns what does not hold.
fn validate(doc: &Value, schema: &Value, value: &Value, at: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if schema.get("$ref").is_some() {
        // The target, then the siblings below (JSON Schema 2020-12 allows both).
        errors.extend(validate(doc, resolve(doc, schema), value, at));
    }
    for part in schema["allOf"].as_array().into_iter().flatten() {
        errors.extend(validate(doc, part, value, at));
    }
    let type_of = |v: &Value| match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let actual = type_of(value);
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !types.is_empty() && !types.iter().any(|t| *t == actual || (*t == "number" && actual == "integer")) {
        errors.push(format!("{at}: {actual} is not {types:?}"));
        return errors;
    }
    if let Some(allowed) = schema["enum"].as_array() {
        if !allowed.contains(value) {
            errors.push(format!("{at}: {value} is not one of {allowed:?}"));
        }
    }
    match value {
        Value::Object(map) => {
            for name in schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
                if !map.contains_key(name) {
                    errors.push(format!("{at}: required `{name}` missing"));
                }
            }
            let props = schema["properties"].as_object();
            for (name, v) in map {
                match props.and_then(|p| p.get(name)) {
                    Some(sub) => errors.extend(validate(doc, sub, v, &format!("{at}.{name}"))),
                    None if schema["additionalProperties"] == json!(false) => {
                        errors.push(format!("{at}: undocumented property `{name}`"));
                    }
                    None => {}
                }
            }
        }
        Value::Array(items) => {
            if schema["maxItems"].as_u64().is_some_and(|max| items.len() as u64 > max) {
                errors.push(format!("{at}: more than maxItems"));
            }
            if schema["minItems"].as_u64().is_some_and(|min| (items.len() as u64) < min) {
                errors.push(format!("{at}: fewer than minItems"));
            }
            if let Some(item) = schema.get("items") {
                for (i, v) in items.iter().enumerate() {
                    errors.extend(validate(doc, item, v, &format!("{at}[{i}]")));
                }
            }
        }
        Value::String(s) => {
            let chars = s.chars().count() as u64;
            if schema["maxLength"].as_u64().is_some_and(|max| chars > max)
                || schema["minLength"].as_u64().is_some_and(|min| chars < min)
            {
                errors.push(format!("{at}: length {chars} out of bounds"));
            }
        }
        Value::Number(n) => {
            let n = n.as_f64().unwrap_or(f64::NAN);
            if schema["minimum"].as_f64().is_some_and(|min| n < min)
                || schema["maximum"].as_f64().is_some_and(|max| n > max)
            {
                errors.push(format!("{at}: {n} out of bounds"));
            }
        }
        _ => {}
    }
    errors
}

/// The operation object of an operationId, with its path and method.
fn operation<'a>(doc: &'a Value, id: &str) -> (&'a str, &'static str, &'a Value) {
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in HTTP_METHODS {
            if item[*method]["operationId"] == id {
                return (path.as_str(), method, &item[*method]);
            }
        }
    }
    panic!("no operation {id}")
}

/// The request body schema and example of an operation.
fn request_body<'a>(doc: &'a Value, op: &'a Value) -> Option<(&'a Value, &'a Value, &'a Value)> {
    let body = resolve(doc, op.get("requestBody")?);
    let media = &body["content"]["application/json"];
    Some((body, &media["schema"], &media["example"]))
}

#[test]
fn the_description_matches_the_code() {
    let doc = load();
    assert_eq!(doc["openapi"], "3.1.0");

    // Routes: the description and the core's route table agree.
    let routed = routed();
    assert!(routed.len() >= 10, "the route table was read: {routed:?}");
    let pages: BTreeSet<(String, String)> = PAGES.iter().map(|p| (shape(p), "GET".to_owned())).collect();
    let documented = documented(&doc);
    let api: BTreeSet<_> = documented.difference(&pages).cloned().collect();
    assert_eq!(api, routed, "data/openapi.yaml API routes vs the Worker's");
    assert!(pages.is_subset(&documented), "the page routes are documented");
    let page_shapes: BTreeSet<String> = pages.iter().map(|(p, _)| p.clone()).collect();
    assert!(documented.iter().all(|(p, m)| !page_shapes.contains(p) || m == "GET"), "pages are GET only");
    let ids: BTreeSet<&str> = doc["paths"]
        .as_object()
        .expect("paths")
        .values()
        .flat_map(|item| HTTP_METHODS.iter().filter_map(|m| item[*m]["operationId"].as_str()))
        .collect();
    assert_eq!(ids, OPERATIONS.iter().copied().collect(), "every operation is exercised by the server test");

    // Limits: the core's constants.
    let c = |value: usize| json!(value);
    let schema = |name: &str| &doc["components"]["schemas"][name];
    let propose = schema("ProposeRequest");
    assert_eq!(propose["properties"]["project_name"]["maxLength"], c(input::MAX_NAME_CHARS));
    assert_eq!(propose["properties"]["tagline"]["maxLength"], c(input::MAX_TAGLINE_CHARS));
    assert_eq!(propose["properties"]["tags"]["maxItems"], c(input::MAX_TAGS));
    assert_eq!(propose["properties"]["problems"]["maxItems"], c(input::MAX_THREADS_PER_WRITE));
    assert_eq!(propose["properties"]["solutions"]["maxItems"], c(input::MAX_THREADS_PER_WRITE));
    assert_eq!(schema("Tag")["maxLength"], c(input::MAX_TAG_CHARS));
    assert_eq!(schema("NormalisedTag")["maxLength"], c(input::MAX_TAG_CHARS));
    assert_eq!(schema("Message")["maxLength"], c(input::MAX_MESSAGE_CHARS));
    assert_eq!(schema("TagsRequest")["properties"]["add"]["maxItems"], c(input::MAX_TAGS));
    assert_eq!(schema("TagsRequest")["properties"]["remove"]["maxItems"], c(input::MAX_TAGS));
    assert_eq!(schema("TagsResponse")["properties"]["tags"]["maxItems"], c(input::MAX_TAGS));
    assert_eq!(schema("ThreadsRequest")["properties"]["threads"]["maxItems"], c(input::MAX_THREADS_PER_WRITE));
    assert_eq!(schema("ThreadsPage")["properties"]["threads"]["maxItems"], json!(input::MAX_THREADS_LIMIT));
    assert_eq!(schema("Reason")["maxLength"], c(moderation_input::MAX_REASON_CHARS));
    let display_name = moderation_input::MAX_DISPLAY_NAME_CHARS;
    assert_eq!(schema("DisplayNameRequest")["properties"]["display_name"]["maxLength"], c(display_name));
    assert_eq!(schema("ImportAuthorName")["maxLength"], c(display_name));
    assert_eq!(schema("Visitor")["properties"]["threads"]["maxItems"], visitors::OWN_THREADS_SHOWN);
    assert_eq!(schema("ImportThread")["properties"]["up_vote"]["maximum"], import::MAX_IMPORT_ID);
    let (_, _, threads_op) = operation(&doc, "getProjectThreads");
    let limit =
        threads_op["parameters"].as_array().and_then(|ps| ps.iter().find(|p| p["name"] == "limit")).expect("limit");
    assert_eq!(limit["schema"]["maximum"], json!(input::MAX_THREADS_LIMIT));
    assert_eq!(limit["schema"]["default"], json!(input::DEFAULT_THREADS_LIMIT));
    assert_eq!(limit["schema"]["minimum"], 1);
    let export_page = export::MAX_EXPORT_PAGE;
    let (_, _, export_op) = operation(&doc, "export");
    let export_limit =
        export_op["parameters"].as_array().and_then(|ps| ps.iter().find(|p| p["name"] == "limit")).expect("limit");
    assert_eq!(export_limit["schema"]["maximum"], export_page);
    assert_eq!(schema("Id")["maximum"], 1_i64 << 53, "ids are JS-safe integers (input::id)");
    let max_body = input::MAX_BODY_BYTES;
    assert!(doc["info"]["description"].as_str().is_some_and(|d| d.contains(&max_body.to_string())));
    let key = &doc["components"]["parameters"]["IdempotencyKey"];
    assert_eq!((key["in"].as_str(), key["schema"]["maxLength"].as_i64()), (Some("header"), Some(128)));

    // Request schemas: the request structs, field for field, unknown fields rejected.
    let example = |id: &str| request_body(&doc, operation(&doc, id).2).expect("a body").2.clone();
    let threads_example = example("updateThreads");
    let import_example = example("importProjects");
    let import_thread = &import_example["projects"][0]["threads"][0];
    let structs = [
        ("ProposeRequest", struct_rules::<ProposeRequest>(&example("proposeProject"))),
        ("TagsRequest", struct_rules::<TagsRequest>(&example("updateTags"))),
        ("ThreadInput", struct_rules::<ThreadInput>(&threads_example["threads"][0])),
        ("ThreadsRequest", struct_rules::<ThreadsRequest>(&threads_example)),
        ("VoteRequest", struct_rules::<VoteRequest>(&example("vote"))),
        ("ReportRequest", struct_rules::<ReportRequest>(&example("reportThread"))),
        ("DisplayNameRequest", struct_rules::<DisplayNameRequest>(&example("setDisplayName"))),
        ("ModerateThreadRequest", struct_rules::<ModerateThreadRequest>(&example("moderateThread"))),
        ("ModerateProjectRequest", struct_rules::<ModerateProjectRequest>(&example("moderateProject"))),
        ("ImportRequest", struct_rules::<import::ImportRequest>(&import_example)),
        ("ImportProject", struct_rules::<import::ImportProject>(&import_example["projects"][0])),
        ("ImportThread", struct_rules::<import::ImportThread>(import_thread)),
        ("ImportRevision", struct_rules::<import::ImportRevision>(&import_thread["revisions"][0])),
    ];
    for (name, (fields, required, denies)) in structs {
        assert!(denies, "{name} denies unknown fields in the Worker");
        let s = schema(name);
        assert_eq!(s["additionalProperties"], false, "{name} documents the unknown-fields policy");
        let documented: BTreeSet<String> = s["properties"].as_object().expect("properties").keys().cloned().collect();
        assert_eq!(documented, fields, "{name}: documented fields vs the core's");
        let documented_required: BTreeSet<String> =
            s["required"].as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect();
        assert_eq!(documented_required, required, "{name}: required fields vs the core's");
    }
    assert_eq!(schema("SpecTagsRequest")["required"], json!(["project_id"]));
    let import_projects = &schema("ImportRequest")["properties"]["projects"];
    assert_eq!(import_projects["maxItems"], import::MAX_IMPORT_PROJECTS);

    // Every write documents its body limit, its errors and its x-d1 header.
    for id in OPERATIONS {
        let (path, method, op) = operation(&doc, id);
        let responses = op["responses"].as_object().unwrap_or_else(|| panic!("{id}: responses"));
        assert!(responses.keys().any(|s| s.starts_with('2')), "{id}: a success");
        if let Some((body, schema, example)) = request_body(&doc, op) {
            let limit = if admin_only(op) { import::MAX_IMPORT_BYTES } else { max_body };
            assert_eq!(body["x-max-body-bytes"], limit, "{id}: body limit");
            assert!(closed(&doc, schema), "{id}: unknown fields rejected");
            assert!(
                validate(&doc, schema, example, id).is_empty(),
                "{id}: the example is valid: {:?}",
                validate(&doc, schema, example, id)
            );
            for status in ["400", "413", "422"] {
                assert!(responses.contains_key(status), "{id} ({method} {path}) documents {status}");
            }
            // Every write but the admin import (visitors' and moderators') checks the content
            // type and reports D1 figures.
            if !admin_only(op) {
                assert!(responses.contains_key("415"), "{id} ({method} {path}) documents 415");
                let success =
                    responses.iter().find(|(s, _)| s.starts_with('2')).map(|(_, r)| resolve(&doc, r)).expect("success");
                assert!(success["headers"].get("x-d1").is_some(), "{id}: x-d1 documented");
            }
        }
        if !PAGES.contains(&path) {
            assert!(responses.contains_key("405"), "{id}: 405 documented");
        }
        if ["post", "put", "patch"].contains(&method) {
            assert!(responses.contains_key("429"), "{id}: writes are rate-limited (limits.rs)");
        }
    }
    // Security: a visitor's writes take an identity or issue one; their own view needs one.
    let security = |id: &str| operation(&doc, id).2["security"].clone();
    let visitor = json!([{"voterCookie": []}, {"voterBearer": []}, {}]);
    for id in OPERATIONS {
        let (_, method, op) = operation(&doc, id);
        let by_token = ["adminBearer", "moderatorBearer"].into_iter().any(|s| requires(op, s));
        if method != "get" && request_body(&doc, op).is_some() && !by_token {
            assert_eq!(security(id), visitor, "{id}: a visitor's write");
        }
    }
    assert_eq!(security("getVisitor"), json!([{"voterCookie": []}, {"voterBearer": []}]));
    assert_eq!(security("export"), json!([{"adminBearer": []}]));
    for id in ["moderateThread", "moderateProject", "listReports", "moderationLog"] {
        assert_eq!(security(id), json!([{"moderatorBearer": []}]), "{id}");
    }
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(
        (schemes["voterCookie"]["in"].as_str(), schemes["voterCookie"]["name"].as_str()),
        (Some("cookie"), Some("voter"))
    );
    assert_eq!(schemes["adminBearer"]["scheme"], "bearer");
    assert_eq!(schemes["moderatorBearer"]["scheme"], "bearer");
    for id in ["proposeProject", "proposeProjectSpec"] {
        let params = operation(&doc, id).2["parameters"].as_array().cloned().unwrap_or_default();
        assert!(params.iter().any(|p| resolve(&doc, p)["name"] == "Idempotency-Key"), "{id}: Idempotency-Key");
    }

    // Error codes: the core's.
    let codes: BTreeSet<String> = ERROR_CODES.iter().map(|c| (*c).to_owned()).collect();
    let documented_codes: BTreeSet<String> = schema("Error")["properties"]["error"]["properties"]["code"]["enum"]
        .as_array()
        .expect("codes")
        .iter()
        .filter_map(|c| c.as_str().map(str::to_owned))
        .collect();
    assert_eq!(documented_codes, codes);
}

/// The real ids path templates are filled with.
struct Ids {
    project: i64,
    thread: i64,
    /// A revision of `thread` (what a moderator's revert takes).
    revision: i64,
    rebuild: String,
}

impl Ids {
    /// Fills a path template.
    fn fill(&self, template: &str) -> String {
        template
            .replace("{project_id}", &self.project.to_string())
            .replace("{thread_id}", &self.thread.to_string())
            .replace("{rebuild_id}", &self.rebuild)
    }
}

/// Whether one of an operation's security requirements is this scheme.
fn requires(op: &Value, scheme: &str) -> bool {
    op["security"].as_array().is_some_and(|s| s.iter().any(|r| r.get(scheme).is_some()))
}

/// Whether an operation needs the admin token.
fn admin_only(op: &Value) -> bool {
    requires(op, "adminBearer")
}

/// The bearer tokens of the test server: the admin's and a moderator's.
struct Tokens {
    admin: String,
    moderator: String,
}

impl Tokens {
    /// The bearer token an operation's security scheme asks for; `None` for a visitor's
    /// operation (the client's cookie jar carries the visitor).
    fn for_op(&self, op: &Value) -> Option<&str> {
        if admin_only(op) {
            Some(&self.admin)
        } else if requires(op, "moderatorBearer") {
            Some(&self.moderator)
        } else {
            None
        }
    }
}

/// Asserts an answer is a documented response of the operation and validates its body and
/// documented headers.
fn conforms(doc: &Value, id: &str, answer: &Answer) {
    let (path, method, op) = operation(doc, id);
    let status = answer.status.to_string();
    let documented =
        op["responses"].get(&status).unwrap_or_else(|| panic!("{id}: status {status} undocumented: {}", answer.text()));
    let response = resolve(doc, documented);
    if let Some(schema) = response["content"]["application/json"].get("schema") {
        let errors = validate(doc, schema, &answer.json(), &format!("{method} {path} {status}"));
        assert!(errors.is_empty(), "{id} {status}: {errors:?}\n{}", answer.text());
    } else if response["content"].get("text/html").is_some() {
        assert!(answer.header("content-type").unwrap_or_default().starts_with("text/html"), "{id} {status}");
    }
    for (name, header) in response["headers"].as_object().into_iter().flatten() {
        // A header documented `required: false` is sent only sometimes (cookies of an identity
        // issued on the spot).
        if resolve(doc, header)["required"] != json!(false) {
            assert!(answer.header(name).is_some(), "{id} {status}: header {name} documented but missing");
        }
    }
}

/// An answer's `Set-Cookie` headers.
fn cookies(answer: &Answer) -> Vec<String> {
    answer.headers.get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).map(str::to_owned).collect()
}

/// Whether an answer issued a visitor identity: the HttpOnly `voter` cookie and the readable
/// `author` cookie.
fn issues_identity(answer: &Answer) -> bool {
    let cookies = cookies(answer);
    cookies.iter().any(|c| c.starts_with("voter=") && c.contains("HttpOnly"))
        && cookies.iter().any(|c| c.starts_with("author=") && !c.contains("HttpOnly"))
}

/// An operation's documented request example.
fn example_of(doc: &Value, id: &str) -> Value {
    request_body(doc, operation(doc, id).2).map(|(_, _, example)| example.clone()).unwrap_or_default()
}

/// Sends an operation's request with its documented example body (or `body` when given).
async fn call(
    client: &Client,
    doc: &Value,
    id: &str,
    url: &str,
    body: Option<Value>,
    auth: Option<&str>,
) -> anyhow::Result<Answer> {
    let (_, method, op) = operation(doc, id);
    let method = Method::from_bytes(method.to_uppercase().as_bytes())?;
    let mut req = client.request(method, url);
    if let Some(token) = auth {
        req = req.bearer_auth(token);
    }
    let example = request_body(doc, op).map(|(_, _, example)| example.clone());
    if let Some(body) = body.or(example) {
        req = req.json(&body);
    }
    client.send(req).await
}

#[tokio::test]
async fn the_worker_serves_what_the_description_says() -> anyhow::Result<()> {
    let doc = load();
    let server = Server::start()?;
    let client = server.client();
    let admin = dev_var("ADMIN_TOKEN")?;
    let moderators = dev_var("MODERATOR_TOKENS")?;
    let moderator = moderators.strip_prefix("local:").expect("MODERATOR_TOKENS is local:<token>").to_owned();
    let tokens = Tokens { admin: admin.clone(), moderator: moderator.clone() };

    // Every operation, with the documented examples where they fit a fresh server (the spec's
    // proposal becomes project 1 with threads 1, 2 and 3, written by the visitor that proposal
    // issues to the client).
    let mut ids = Ids { project: 1, thread: 1, revision: 0, rebuild: String::new() };
    let mut proposer_token = String::new();
    let mut calls: BTreeMap<&str, usize> = BTreeMap::new();
    for id in OPERATIONS {
        let nth = {
            let n = calls.entry(id).or_default();
            *n += 1;
            *n
        };
        let (template, _, op) = operation(&doc, id);
        let url = ids.fill(template);
        let body = match (*id, nth) {
            ("proposeProject", _) => Some(json!({"project_name": "Second", "tagline": "the versioned path"})),
            ("updateTagsSpec", _) => Some(json!({"project_id": ids.project, "add": ["drums"], "remove": ["circus"]})),
            ("updateTagsPatch", _) => Some(json!({"add": ["wolf"]})),
            ("setDisplayNamePost", _) => Some(json!({"display_name": "Popee the Performer"})),
            // The example hides; then restore, and revert to the revision the edit kept.
            ("moderateThread" | "moderateProject", 2) => Some(json!({"action": "restore"})),
            ("moderateThread", 3) => {
                Some(json!({"action": "revert", "revision_id": ids.revision, "reason": "vandalism"}))
            }
            _ => None,
        };
        let url = match *id {
            "getProjectThreads" => format!("{url}?limit=2"),
            "searchPage" | "search" => format!("{url}?q=POPEE+perf"),
            _ => url,
        };
        let answer = call(&client, &doc, id, &url, body, tokens.for_op(op)).await?;
        println!("{id}: {} {url} -> {}", op["summary"].as_str().unwrap_or_default(), answer.status);
        assert_ne!(answer.status, 405, "{id}: {url} is routed: {}", answer.text());
        assert!(
            !(answer.status == 404 && answer.header("content-type").unwrap_or_default().starts_with("text/html")),
            "{id}: {url} is not the generic 404 page"
        );
        assert!((200..300).contains(&answer.status), "{id}: {url}: {} {}", answer.status, answer.text());
        conforms(&doc, id, &answer);
        let body = answer.json();
        match *id {
            "proposeProjectSpec" => {
                // The client's first write: it had no identity, so it was issued one.
                assert!(issues_identity(&answer), "{:?}", cookies(&answer));
                proposer_token = body["visitor_token"].as_str().expect("visitor_token").to_owned();
                ids.project = body["project_id"].as_i64().expect("project_id");
                let threads = client.get(&format!("/api/v1/projects/{}/threads", ids.project)).await?.json();
                ids.thread = threads["threads"]
                    .as_array()
                    .and_then(|t| t.last())
                    .and_then(|t| t["thread_id"].as_i64())
                    .expect("a thread");
                assert_eq!((ids.project, ids.thread), (1, 1), "the examples assume a fresh server");
            }
            "proposeProject" => {
                assert!(body.get("visitor_token").is_none() && cookies(&answer).is_empty(), "the cookie was sent");
            }
            "getThreadRevisions" => {
                // The updateThreads example edited this thread: its old text is a revision.
                ids.revision = body["revisions"][0]["revision_id"].as_i64().expect("a revision");
            }
            "editForm" | "visitorPage" => {
                assert_eq!(answer.header("cache-control").as_deref(), Some("private, no-store"), "{id}");
            }
            "getVisitor" => {
                let own: Vec<i64> =
                    body["threads"].as_array().into_iter().flatten().filter_map(|t| t["thread_id"].as_i64()).collect();
                assert!(own.contains(&ids.thread), "the proposer wrote thread {}: {body}", ids.thread);
            }
            "moderateThread" | "moderateProject" => {
                let expected = [("hide", true), ("restore", false), ("revert", false)][nth - 1];
                assert_eq!((body["action"].as_str(), body["hidden"].as_bool()), (Some(expected.0), Some(expected.1)));
            }
            "listReports" => assert_eq!(body["reports"][0]["reason"], example_of(&doc, "reportThread")["reason"]),
            "moderationLog" => {
                let latest = &body["actions"][0];
                assert_eq!((latest["moderator"].as_str(), latest["action"].as_str()), (Some("local"), Some("restore")));
                assert_eq!(latest["target"], format!("project:{}", ids.project));
            }
            "searchPage" => assert!(answer.text().contains(r#"href="/projects/1/""#), "the spec's project is found"),
            "search" => assert_eq!(body["projects"][0]["project_id"], ids.project, "{body}"),
            "getTop" => assert!(body["projects"].as_array().is_some_and(|p| !p.is_empty()), "{body}"),
            "startRebuild" => {
                ids.rebuild = body["rebuild_id"].as_str().expect("rebuild_id").to_owned();
                assert_eq!(body["status_url"], ids.fill("/api/v1/admin/rebuilds/{rebuild_id}"));
            }
            "newVoter" | "newVisitor" => assert!(issues_identity(&answer), "{id}: {:?}", cookies(&answer)),
            _ => {}
        }
    }
    let sent = client.get(&ids.fill("/projects/{project_id}/threads/{thread_id}/report?sent=1")).await?;
    assert!(sent.status == 200 && sent.text().contains("Thank you"), "the report page thanks: {}", sent.text());
    conforms(&doc, "reportForm", &sent);

    // Documented errors, validated against their documented responses.
    let big = json!({"project_name": "x".repeat(70_000), "tagline": "t"});
    let vote = ids.fill("/api/v1/threads/{thread_id}/vote");
    let anonymous = Client::new(&server.url);
    let mut tampered = proposer_token.clone();
    let last = if tampered.pop() == Some('0') { '1' } else { '0' };
    tampered.push(last);
    let as_moderator =
        |method: Method, path: &str, body: &Value| client.request(method, path).bearer_auth(&moderator).json(body);
    let moderate_thread = ids.fill("/api/v1/moderation/threads/{thread_id}");
    let errors: Vec<(&str, Answer, u16)> = vec![
        ("proposeProject", client.post("/api/v1/projects", &json!({"project_name": "", "tagline": "t"})).await?, 422),
        (
            "proposeProjectSpec",
            client.post("/projects/propose", &json!({"project_name": "popee THE performer", "tagline": "t"})).await?,
            409,
        ),
        ("proposeProject", client.post("/api/v1/projects", &big).await?, 413),
        (
            "proposeProject",
            client.send(client.request(Method::POST, "/api/v1/projects").body("project_name=x")).await?,
            415,
        ),
        (
            "proposeProject",
            client
                .send(
                    client
                        .request(Method::POST, "/api/v1/projects")
                        .header("content-type", "application/json")
                        .body("{"),
                )
                .await?,
            400,
        ),
        (
            "proposeProject",
            client
                .send(
                    client
                        .request(Method::POST, "/api/v1/projects")
                        .header("origin", "https://elsewhere.example")
                        .json(&json!({})),
                )
                .await?,
            403,
        ),
        ("updateTags", client.json(Method::PUT, "/api/v1/projects/987654/tags", &json!({"add": ["x"]})).await?, 404),
        ("getProjectThreads", client.get("/api/v1/projects/1/threads?limit=101").await?, 422),
        ("getProjectThreads", client.get("/api/v1/projects/987654/threads").await?, 404),
        (
            "updateThreads",
            client
                .post("/api/v1/projects/1/threads", &json!({"threads": [{"parent_id": 987_654, "message": "x"}]}))
                .await?,
            404,
        ),
        // A vote without an identity is issued one; a tampered identity is refused.
        ("vote", anonymous.post(&vote, &json!({"direction": "up"})).await?, 200),
        (
            "vote",
            client
                .send(client.request(Method::POST, &vote).bearer_auth(&tampered).json(&json!({"direction": "up"})))
                .await?,
            401,
        ),
        ("vote", client.post("/api/v1/threads/987654/vote", &json!({"direction": "up"})).await?, 404),
        ("getThreadRevisions", client.get("/api/v1/threads/987654/revisions").await?, 404),
        ("reportThread", client.post("/api/v1/threads/987654/reports", &json!({"reason": "x"})).await?, 404),
        ("editForm", anonymous.get(&ids.fill("/projects/{project_id}/threads/{thread_id}/edit")).await?, 403),
        ("getVisitor", Client::new(&server.url).get("/api/v1/visitors/me").await?, 401),
        (
            "setDisplayName",
            client.json(Method::PUT, "/api/v1/visitors/me", &json!({"display_name": "a\u{7}b"})).await?,
            422,
        ),
        ("moderateThread", client.post(&moderate_thread, &json!({"action": "hide"})).await?, 401),
        (
            "moderateThread",
            client
                .send(client.request(Method::POST, &moderate_thread).bearer_auth(&moderator).body("action=hide"))
                .await?,
            415,
        ),
        (
            "moderateThread",
            client.send(as_moderator(Method::POST, &moderate_thread, &json!({"action": "revert"}))).await?,
            422,
        ),
        (
            "moderateThread",
            client
                .send(as_moderator(Method::POST, "/api/v1/moderation/threads/987654", &json!({"action": "hide"})))
                .await?,
            404,
        ),
        (
            "moderateProject",
            client
                .send(as_moderator(Method::POST, "/api/v1/moderation/projects/987654", &json!({"action": "hide"})))
                .await?,
            404,
        ),
        ("listReports", client.get("/api/v1/moderation/reports").await?, 401),
        (
            "moderationLog",
            client.send(client.request(Method::GET, "/api/v1/moderation/log").bearer_auth(&proposer_token)).await?,
            401,
        ),
        (
            "listReports",
            client.send(client.request(Method::GET, "/api/v1/moderation/reports").bearer_auth(&admin)).await?,
            200,
        ),
        ("export", client.get("/api/v1/export").await?, 401),
        (
            "export",
            client.send(client.request(Method::GET, "/api/v1/export?limit=501").bearer_auth(&admin)).await?,
            422,
        ),
        ("getProjectDetail", client.get("/projects/987654").await?, 404),
        ("startRebuild", client.send(client.request(Method::POST, "/api/v1/admin/rebuilds")).await?, 401),
        ("importProjects", client.post("/api/v1/admin/import", &json!({"projects": []})).await?, 401),
        (
            "importProjects",
            client
                .send(
                    client
                        .request(Method::POST, "/api/v1/admin/import")
                        .bearer_auth(&admin)
                        .json(&json!({"projects": []})),
                )
                .await?,
            422,
        ),
        (
            "getRebuild",
            client.send(client.request(Method::GET, "/api/v1/admin/rebuilds/nope").bearer_auth(&admin)).await?,
            404,
        ),
    ];
    for (id, answer, status) in &errors {
        assert_eq!(answer.status, *status, "{id}: {}", answer.text());
        conforms(&doc, id, answer);
    }
    let (_, anonymous_vote, _) = &errors.iter().find(|(id, a, _)| *id == "vote" && a.status == 200).expect("a vote");
    assert!(anonymous_vote.json()["visitor_token"].is_string() && issues_identity(anonymous_vote));

    // What is not theirs: a visitor other than the author edits nor removes (403, the field
    // named), whoever they are; the errors above gave `anonymous` an identity.
    let threads = ids.fill("/api/v1/projects/{project_id}/threads");
    let tags = ids.fill("/api/v1/projects/{project_id}/tags");
    let edit =
        json!({"threads": [{"parent_id": ids.thread, "message": "x"}, {"thread_id": ids.thread, "message": "x"}]});
    let refused: Vec<(&str, Answer, &str)> = vec![
        ("updateThreads", anonymous.post(&threads, &edit).await?, "threads[1].thread_id"),
        (
            "updateTags",
            anonymous.json(Method::PUT, &tags, &json!({"add": ["x"], "remove": ["clown"]})).await?,
            "remove",
        ),
        (
            "updateTagsSpec",
            anonymous
                .json(Method::PUT, "/projects/tags", &json!({"project_id": ids.project, "remove": ["clown"]}))
                .await?,
            "remove",
        ),
        (
            "updateThreads",
            client.post(&threads, &json!({"threads": [{"thread_id": 2, "message": "x"}]})).await?,
            "threads[0].thread_id",
        ),
    ];
    for (id, answer, field) in &refused {
        assert_eq!((answer.status, answer.error_code()), (403, "forbidden".to_owned()), "{id}: {}", answer.text());
        assert_eq!(answer.json()["error"]["field"], *field, "{id}");
        conforms(&doc, id, answer);
    }

    // Pages revalidate: their ETag gives a 304 (once publishing is done, so they stay unchanged).
    client.eventually("/api/v1/health", crowdfund_e2e::FRESHNESS_DEADLINE, |a| a.json()["outbox_backlog"] == 0).await?;
    for (id, url) in
        [("getProjects", "/projects".to_owned()), ("getProjectDetail", format!("/projects/{}", ids.project))]
    {
        let page = client.get(&url).await?;
        let etag = page.header("etag").expect("an ETag");
        let again = client.send(client.request(Method::GET, &url).header("if-none-match", etag)).await?;
        assert_eq!(again.status, 304, "{url}");
        conforms(&doc, id, &again);
    }

    // A method a documented API path does not take: 405, Allow lists the documented methods.
    for route in ROUTES {
        let template = route.path;
        let methods: Vec<&str> = route.methods.iter().map(|(m, _)| m.as_str()).collect();
        let url = ids.fill(template);
        let other = ["DELETE", "PATCH", "PUT"].into_iter().find(|m| !methods.contains(m)).expect("a method it refuses");
        let answer = client.send(client.request(Method::from_bytes(other.as_bytes())?, &url)).await?;
        assert_eq!(answer.status, 405, "{other} {url}");
        let allow: BTreeSet<String> = answer
            .header("allow")
            .unwrap_or_default()
            .split(',')
            .map(|m| m.trim().to_owned())
            .filter(|m| m != "HEAD")
            .collect();
        assert_eq!(allow, methods.iter().map(|m| (*m).to_owned()).collect(), "Allow of {url}");
        let id = OPERATIONS.iter().find(|op| operation(&doc, op).0 == template).expect("an operation of the path");
        conforms(&doc, id, &answer);
    }

    for template in PAGES {
        let answer = client.send(client.request(Method::DELETE, &ids.fill(template))).await?;
        assert_eq!((answer.status, answer.header("allow").as_deref()), (405, Some("GET, HEAD")), "DELETE {template}");
    }

    // The unknown-fields policy, for every request body: its example plus one unknown field.
    for id in OPERATIONS.iter().collect::<BTreeSet<_>>() {
        let (template, _, op) = operation(&doc, id);
        let Some((_, _, example)) = request_body(&doc, op) else { continue };
        let mut body = example.clone();
        body["surprise"] = json!(true);
        if *id == "updateTagsSpec" {
            body["project_id"] = json!(ids.project);
        }
        let url = ids.fill(template);
        let answer = call(&client, &doc, id, &url, Some(body), tokens.for_op(op)).await?;
        assert_eq!(answer.status, 422, "{id}: an unknown field is refused: {}", answer.text());
        assert_eq!(answer.json()["error"]["field"], "surprise", "{id}");
        conforms(&doc, id, &answer);
    }
    Ok(())
}

#[test]
fn the_validator_catches_what_does_not_match() {
    let doc = load();
    let thread = json!({"$ref": "#/components/schemas/Thread"});
    let good = json!({"thread_id": 1, "project_id": 1, "parent_id": null, "thread_type": "COMMENT", "message": "m",
        "up_vote": 0, "down_vote": 0, "created_at": "2026-11-22T14:16:38Z"});
    assert_eq!(validate(&doc, &thread, &good, "thread"), Vec::<String>::new());
    let mut authored = good.clone();
    authored["author"] = json!("9f2c44ab01d3e5f6a7b8c9d0e1f2a3b4");
    authored["edited_at"] = json!("2026-11-22T14:20:00Z");
    authored["revisions"] = json!([{"revision_id": 1, "message": "old", "written_at": "2026-11-22T14:16:38Z",
        "replaced_at": "2026-11-22T14:20:00Z"}]);
    assert_eq!(validate(&doc, &thread, &authored, "thread"), Vec::<String>::new());
    let mut cases = Vec::new();
    for (field, bad) in [
        ("thread_type", json!("RANT")),
        ("up_vote", json!(-1)),
        ("parent_id", json!("1")),
        ("extra", json!(1)),
        ("author", json!("abc")),
        ("hidden", json!(false)),
        ("revisions", json!([{"revision_id": 1, "message": "m"}])),
    ] {
        let mut value = good.clone();
        value[field] = bad;
        cases.push(value);
    }
    let mut missing = good.clone();
    missing.as_object_mut().map(|o| o.remove("created_at"));
    cases.push(missing);
    for value in cases {
        assert!(!validate(&doc, &thread, &value, "thread").is_empty(), "{value}");
    }
    let spec_tags = json!({"$ref": "#/components/schemas/SpecTagsRequest"});
    assert!(validate(&doc, &spec_tags, &json!({"project_id": 1, "add": ["a"]}), "tags").is_empty());
    assert!(!validate(&doc, &spec_tags, &json!({"project_id": 0, "add": ["a"]}), "tags").is_empty());
    assert!(!validate(&doc, &spec_tags, &json!({"project_id": 1, "colour": 1}), "tags").is_empty());
}
