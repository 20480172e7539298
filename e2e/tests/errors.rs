//! Every error status of the write API against the real Worker. Each case asserts the status,
//! the one error body `{"error": {"code", "message", "field"?}}` with its stable code and the
//! field it blames, and the no-store cache policy; afterwards nothing was half-written and the
//! Worker still serves.

use crowdfund_e2e::{Answer, Client, Server};
use reqwest::Method;
use serde_json::{json, Value};

/// One request expected to fail.
struct Case {
    label: &'static str,
    method: Method,
    path: String,
    /// `None`: no content-type header at all.
    content_type: Option<&'static str>,
    body: Vec<u8>,
    headers: Vec<(&'static str, String)>,
    status: u16,
    code: &'static str,
    /// `None`: the body must carry no `field`.
    field: Option<&'static str>,
}

impl Case {
    fn json(label: &'static str, method: Method, path: &str, body: Value, status: u16, code: &'static str) -> Self {
        Case {
            label,
            method,
            path: path.to_owned(),
            content_type: Some("application/json"),
            body: body.to_string().into_bytes(),
            headers: Vec::new(),
            status,
            code,
            field: None,
        }
    }

    /// A request without a body or content type.
    fn bare(label: &'static str, method: Method, path: &str, status: u16, code: &'static str) -> Self {
        Case { content_type: None, body: Vec::new(), ..Case::json(label, method, path, Value::Null, status, code) }
    }

    /// A GET whose query breaks a rule.
    fn query(label: &'static str, path: &str, field: &'static str) -> Self {
        Case::bare(label, Method::GET, path, 422, "invalid").field(field)
    }

    fn invalid(label: &'static str, path: &str, body: Value, field: &'static str) -> Self {
        Case::json(label, Method::POST, path, body, 422, "invalid").field(field)
    }

    fn method(mut self, method: Method) -> Self {
        self.method = method;
        self
    }

    fn field(mut self, field: &'static str) -> Self {
        self.field = Some(field);
        self
    }

    fn raw(mut self, content_type: Option<&'static str>, body: &[u8]) -> Self {
        self.content_type = content_type;
        self.body = body.to_vec();
        self
    }

    fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }

    async fn check(&self, client: &Client) -> anyhow::Result<Answer> {
        let mut req = client.request(self.method.clone(), &self.path);
        if let Some(content_type) = self.content_type {
            req = req.header("content-type", content_type);
        }
        for (name, value) in &self.headers {
            req = req.header(*name, value);
        }
        if !self.body.is_empty() {
            req = req.body(self.body.clone());
        }
        let answer = client.send(req).await?;
        let label = self.label;
        assert_eq!(answer.status, self.status, "{label}: {}", answer.text());
        assert_error_body(&answer, self.code, self.field, label);
        Ok(answer)
    }
}

/// Asserts the one error body shape, its code and field, and that it is not cached.
fn assert_error_body(answer: &Answer, code: &str, field: Option<&str>, label: &str) {
    assert!(
        answer.header("content-type").unwrap_or_default().starts_with("application/json"),
        "{label}: content type {:?}",
        answer.header("content-type")
    );
    assert_eq!(answer.header("cache-control").as_deref(), Some("no-store"), "{label}");
    let body = answer.json();
    let outer = body.as_object().unwrap_or_else(|| panic!("{label}: not a JSON object: {}", answer.text()));
    assert_eq!(outer.keys().collect::<Vec<_>>(), vec!["error"], "{label}: {body}");
    let error = body["error"].as_object().unwrap_or_else(|| panic!("{label}: error is not an object: {body}"));
    assert!(error.keys().all(|k| ["code", "message", "field"].contains(&k.as_str())), "{label}: {body}");
    assert_eq!(body["error"]["code"], code, "{label}: {body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{label}: {body}");
    assert_eq!(body["error"]["field"].as_str(), field, "{label}: {body}");
}

/// What must not change when writes are refused: the project count, the project's threads
/// with their votes, and its tags.
async fn state(client: &Client, project_id: i64) -> anyhow::Result<Value> {
    let health = client.get("/api/v1/health").await?.json();
    let threads = client.get(&format!("/api/v1/projects/{project_id}/threads?limit=100")).await?.json();
    // Removing a tag the project never had answers its tags and writes nothing.
    let tags = client
        .json(Method::PATCH, &format!("/api/v1/projects/{project_id}/tags"), &json!({"remove": ["never-a-tag"]}))
        .await?;
    assert_eq!(tags.header("x-d1").as_deref(), Some("round_trips=1; rows_written=0"));
    Ok(json!({"projects": health["projects"], "threads": threads, "tags": tags.json()["tags"]}))
}

/// The token with its signature's last digit changed.
fn forge(token: &str) -> String {
    let last = if token.ends_with('0') { '1' } else { '0' };
    format!("{}{last}", &token[..token.len() - 1])
}

#[tokio::test]
async fn request_errors_have_the_error_body_and_write_nothing() -> anyhow::Result<()> {
    let server = Server::start()?;
    let client = server.client();
    // The proposer and the voter are other clients: this one must stay without an identity
    // (a proposal is issued one), and owns nothing.
    let id = server
        .client()
        .propose(&json!({"project_name": "Clean Water", "tagline": "wells for villages", "tags": ["water"],
            "problems": ["dirty wells"], "solutions": ["filters"]}))
        .await?;
    let thread = client.first_thread(id).await?;
    let voter = server.client().become_voter().await?;
    let before = state(&client, id).await?;

    let valid = json!({"project_name": "Never Written", "tagline": "refused"});
    let threads = format!("/api/v1/projects/{id}/threads");
    let tags = format!("/api/v1/projects/{id}/tags");
    let vote = format!("/api/v1/threads/{thread}/vote");
    let too_big = format!(r#"{{"project_name": "Big", "tagline": "{}"}}"#, "x".repeat(64 * 1024));
    let cases = vec![
        // 400: not JSON, or not UTF-8.
        Case::bare("truncated JSON", Method::POST, "/api/v1/projects", 400, "malformed")
            .raw(Some("application/json"), b"{\"project_name\": "),
        Case::bare("empty body", Method::POST, "/projects/propose", 400, "malformed")
            .raw(Some("application/json"), b""),
        Case::bare("trailing garbage", Method::POST, &threads, 400, "malformed")
            .raw(Some("application/json"), b"{\"threads\": []} x"),
        Case::bare("invalid UTF-8", Method::POST, "/api/v1/projects", 400, "malformed")
            .raw(Some("application/json"), b"{\"project_name\": \"\xff\xfe\", \"tagline\": \"t\"}"),
        Case::bare("invalid UTF-8 vote", Method::POST, &vote, 400, "malformed")
            .raw(Some("application/json"), b"{\"direction\": \"\xc3\x28\"}")
            .header("authorization", &format!("Bearer {voter}")),
        Case::bare("bad JSON tags", Method::PUT, "/projects/tags", 400, "malformed")
            .raw(Some("application/json"), b"{'project_id': 1}"),
        // 401: a forged or tampered identity; the export without the admin token.
        Case::json("forged voter", Method::POST, &vote, json!({"direction": "up"}), 401, "unauthenticated")
            .header("authorization", &format!("Bearer {}", forge(&voter))),
        Case::json("voter of another id", Method::POST, &vote, json!({"direction": "up"}), 401, "unauthenticated")
            .header("authorization", &format!("Bearer abc{voter}")),
        Case::json("garbage voter cookie", Method::POST, &vote, json!({"direction": "up"}), 401, "unauthenticated")
            .header("cookie", "voter=nonsense"),
        Case::bare("export without token", Method::GET, "/api/v1/export", 401, "unauthenticated"),
        Case::bare("export with a wrong token", Method::GET, "/api/v1/export", 401, "unauthenticated")
            .header("authorization", "Bearer not-the-token"),
        // 403: a browser write from a foreign origin; a stranger's edit or tag removal.
        Case::json("foreign origin", Method::POST, "/api/v1/projects", valid.clone(), 403, "forbidden")
            .header("origin", "https://evil.example"),
        Case::json(
            "a stranger edits the proposer's thread",
            Method::POST,
            &threads,
            json!({"threads": [{"thread_id": thread, "message": "VANDALIZED"}]}),
            403,
            "forbidden",
        )
        .field("threads[0].thread_id")
        .header("authorization", &format!("Bearer {voter}")),
        Case::json("a stranger removes tags", Method::PUT, &tags, json!({"remove": ["water"]}), 403, "forbidden")
            .field("remove")
            .header("authorization", &format!("Bearer {voter}")),
        Case::json(
            "moderation without a moderator",
            Method::POST,
            &format!("/api/v1/moderation/threads/{thread}"),
            json!({"action": "hide"}),
            401,
            "unauthenticated",
        )
        .header("authorization", &format!("Bearer {voter}")),
        // 404: unknown or impossible ids.
        Case::bare("threads of unknown project", Method::GET, "/api/v1/projects/987654/threads", 404, "not_found")
            .field("project_id"),
        Case::bare("threads of id 0", Method::GET, "/api/v1/projects/0/threads", 404, "not_found").field("project_id"),
        Case::bare("threads of id abc", Method::GET, "/api/v1/projects/abc/threads", 404, "not_found")
            .field("project_id"),
        Case::json(
            "add threads to unknown project",
            Method::POST,
            "/api/v1/projects/987654/threads",
            json!({"threads": [{"message": "x"}]}),
            404,
            "not_found",
        )
        .field("project_id"),
        Case::json(
            "tags of unknown project",
            Method::PATCH,
            "/api/v1/projects/987654/tags",
            json!({"add": ["x"]}),
            404,
            "not_found",
        )
        .field("project_id"),
        Case::json(
            "spec tags of unknown project",
            Method::PUT,
            "/projects/tags",
            json!({"project_id": 987_654, "add": ["x"]}),
            404,
            "not_found",
        )
        .field("project_id"),
        Case::json(
            "vote on unknown thread",
            Method::POST,
            "/api/v1/threads/987654/vote",
            json!({"direction": "up"}),
            404,
            "not_found",
        )
        .field("thread_id")
        .header("authorization", &format!("Bearer {voter}")),
        Case::json(
            "reply to unknown parent",
            Method::POST,
            &threads,
            json!({"threads": [{"parent_id": 987_654, "message": "x"}]}),
            404,
            "not_found",
        )
        .field("threads[0].parent_id"),
        Case::json(
            "edit unknown thread",
            Method::POST,
            &threads,
            json!({"threads": [{"thread_id": 987_654, "message": "x"}]}),
            404,
            "not_found",
        )
        .field("threads[0].thread_id"),
        // 405: a known path with a method it does not take, with an Allow header.
        Case::bare("GET propose", Method::GET, "/projects/propose", 405, "method_not_allowed"),
        Case::json("PUT projects", Method::PUT, "/api/v1/projects", valid.clone(), 405, "method_not_allowed"),
        Case::bare("DELETE projects", Method::DELETE, "/api/v1/projects", 405, "method_not_allowed"),
        Case::json(
            "POST spec tags",
            Method::POST,
            "/projects/tags",
            json!({"project_id": id, "add": ["x"]}),
            405,
            "method_not_allowed",
        ),
        Case::bare("DELETE tags", Method::DELETE, &tags, 405, "method_not_allowed"),
        Case::json("PUT threads", Method::PUT, &threads, json!({"threads": []}), 405, "method_not_allowed"),
        Case::bare("GET vote", Method::GET, &vote, 405, "method_not_allowed"),
        Case::bare("GET voters", Method::GET, "/api/v1/voters", 405, "method_not_allowed"),
        Case::json("POST health", Method::POST, "/api/v1/health", json!({}), 405, "method_not_allowed"),
        Case::bare("DELETE export", Method::DELETE, "/api/v1/export", 405, "method_not_allowed"),
        Case::json("POST a page", Method::POST, &format!("/projects/{id}"), json!({}), 405, "method_not_allowed"),
        Case::bare("DELETE the listing", Method::DELETE, "/projects", 405, "method_not_allowed"),
        // 413: larger than 64 KiB.
        Case::bare("oversized proposal", Method::POST, "/api/v1/projects", 413, "too_large")
            .raw(Some("application/json"), too_big.as_bytes()),
        Case::bare("oversized threads", Method::POST, &threads, 413, "too_large")
            .raw(Some("application/json"), &vec![b' '; 64 * 1024 + 1]),
        // 415: neither a JSON document nor a form (a JSON document is read whatever its
        // content type says: spec_contract.rs).
        Case::bare("text/plain", Method::POST, "/api/v1/projects", 415, "unsupported_media_type")
            .raw(Some("text/plain"), b"project: Popee"),
        Case::bare("no content type", Method::POST, "/projects/propose", 415, "unsupported_media_type")
            .raw(None, b"project_name=Popee"),
        Case::bare("XML", Method::PUT, "/projects/tags", 415, "unsupported_media_type")
            .raw(Some("application/xml"), b"<tags><add>x</add></tags>"),
        Case::bare("json-ish", Method::POST, &vote, 415, "unsupported_media_type")
            .raw(Some("application/jsonx"), b"direction=up"),
    ];
    let allowed = [
        ("GET propose", "POST"),
        ("PUT projects", "POST"),
        ("DELETE projects", "POST"),
        ("POST spec tags", "PUT"),
        ("DELETE tags", "PUT, PATCH, POST"),
        ("PUT threads", "GET, HEAD, POST"),
        ("GET vote", "POST"),
        ("GET voters", "POST"),
        ("POST health", "GET, HEAD"),
        ("DELETE export", "GET, HEAD"),
        ("POST a page", "GET, HEAD"),
        ("DELETE the listing", "GET, HEAD"),
    ];
    for case in &cases {
        let answer = case.check(&client).await?;
        if let Some((_, allow)) = allowed.iter().find(|(label, _)| *label == case.label) {
            assert_eq!(answer.header("allow").as_deref(), Some(*allow), "{}", case.label);
        } else {
            assert_eq!(answer.header("allow"), None, "{}", case.label);
        }
    }
    assert_eq!(cases.iter().filter(|c| c.status == 405).count(), allowed.len());
    let statuses: std::collections::BTreeSet<u16> = cases.iter().map(|c| c.status).collect();
    assert_eq!(statuses.into_iter().collect::<Vec<_>>(), vec![400, 401, 403, 404, 405, 413, 415]);

    // Nothing was half-written, and the Worker still serves.
    assert_eq!(state(&client, id).await?, before, "refused requests changed nothing");
    // Who-am-I without an identity (a client that never wrote): 401.
    let nobody = Case::bare("who am I without an identity", Method::GET, "/api/v1/visitors/me", 401, "unauthenticated");
    nobody.check(&server.client()).await?;
    let health = client.get("/api/v1/health").await?;
    assert_eq!(health.status, 200);
    let fine = client.post("/api/v1/projects", &valid).await?;
    assert_eq!(fine.status, 201, "{}", fine.text());
    assert_eq!(client.get("/").await?.status, 200);
    Ok(())
}

#[tokio::test]
async fn rule_errors_are_422_or_409_and_write_nothing() -> anyhow::Result<()> {
    let server = Server::start()?;
    let client = server.client();
    let id = client
        .propose(&json!({"project_name": "Night Market", "tagline": "food stalls after dark", "tags": ["food"],
            "problems": ["no lights"]}))
        .await?;
    let thread = client.first_thread(id).await?;
    let voter = format!("Bearer {}", client.become_voter().await?);
    let admin = format!("Bearer {}", crowdfund_e2e::dev_var("ADMIN_TOKEN")?);
    let before = state(&client, id).await?;

    let propose = "/api/v1/projects";
    let spec = "/projects/propose";
    let threads = format!("/api/v1/projects/{id}/threads");
    let tags = format!("/api/v1/projects/{id}/tags");
    let vote = format!("/api/v1/threads/{thread}/vote");
    let eleven: Vec<String> = (0..11).map(|i| format!("tag{i}")).collect();
    let twenty_one: Vec<String> = (0..21).map(|i| format!("p{i}")).collect();
    let many_threads: Vec<Value> = (0..21).map(|i| json!({"message": format!("m{i}")})).collect();
    let name = |n: &str| json!({"project_name": n, "tagline": "t"});
    let cases = vec![
        // 409: a duplicate name, whatever its case and surrounding spaces.
        Case::json("duplicate name", Method::POST, propose, name("Night Market"), 409, "conflict")
            .field("project_name"),
        Case::json("duplicate name, other case", Method::POST, spec, name("  nIGHT mARKET "), 409, "conflict")
            .field("project_name"),
        // 422: the proposal's rules.
        Case::invalid("empty name", propose, name(""), "project_name"),
        Case::invalid("blank name", spec, name("   \t "), "project_name"),
        Case::invalid("name too long", propose, name(&"n".repeat(101)), "project_name"),
        Case::invalid("name with a control character", propose, name("bell\u{7}"), "project_name"),
        Case::invalid("empty tagline", propose, json!({"project_name": "x", "tagline": ""}), "tagline"),
        Case::invalid("tagline too long", propose, json!({"project_name": "x", "tagline": "t".repeat(201)}), "tagline"),
        Case::invalid("missing name", propose, json!({"tagline": "t"}), "project_name"),
        Case::invalid("missing tagline", spec, json!({"project_name": "x"}), "tagline"),
        Case::invalid("eleven tags", propose, json!({"project_name": "x", "tagline": "t", "tags": eleven}), "tags"),
        Case::invalid(
            "tag with a slash",
            propose,
            json!({"project_name": "x", "tagline": "t", "tags": ["a/b"]}),
            "tags",
        ),
        Case::invalid(
            "tag with markup",
            propose,
            json!({"project_name": "x", "tagline": "t", "tags": ["<script>"]}),
            "tags",
        ),
        Case::invalid("empty tag", propose, json!({"project_name": "x", "tagline": "t", "tags": ["  "]}), "tags"),
        Case::invalid(
            "tag too long",
            propose,
            json!({"project_name": "x", "tagline": "t", "tags": ["t".repeat(33)]}),
            "tags",
        ),
        Case::invalid(
            "21 problems",
            propose,
            json!({"project_name": "x", "tagline": "t", "problems": twenty_one}),
            "problems",
        ),
        Case::invalid(
            "empty problem",
            propose,
            json!({"project_name": "x", "tagline": "t", "problems": ["ok", " "]}),
            "problems[1]",
        ),
        Case::invalid(
            "solution too long",
            propose,
            json!({"project_name": "x", "tagline": "t", "solutions": ["s".repeat(10_001)]}),
            "solutions[0]",
        ),
        Case::invalid(
            "unknown field",
            propose,
            json!({"project_name": "x", "tagline": "t", "colour": "red"}),
            "colour",
        ),
        Case::invalid("name as a number", propose, json!({"project_name": 5, "tagline": "t"}), "project_name"),
        Case::invalid("tags as a string", spec, json!({"project_name": "x", "tagline": "t", "tags": "a,b"}), "tags"),
        Case::invalid("an array body", propose, json!(["x", "t"]), "body"),
        Case::invalid("a null body", propose, json!(null), "body"),
        Case::invalid("bad Idempotency-Key", propose, name("Keyed"), "Idempotency-Key")
            .header("idempotency-key", "has spaces in it"),
        Case::invalid("long Idempotency-Key", propose, name("Keyed"), "Idempotency-Key")
            .header("idempotency-key", &"k".repeat(129)),
        // 422: tag edits.
        Case::invalid("add and remove one tag", &tags, json!({"add": ["x", "Food"], "remove": ["food"]}), "remove")
            .method(Method::PATCH),
        Case::invalid("empty tag edit", &tags, json!({}), "add").method(Method::PUT),
        Case::invalid("eleven tags added", &tags, json!({"add": eleven}), "add").method(Method::PATCH),
        Case::invalid("bad tag added", &tags, json!({"add": ["semi;colon"]}), "add").method(Method::PATCH),
        Case::invalid("bad tag removed", &tags, json!({"remove": ["a b/c"]}), "remove").method(Method::PATCH),
        Case::invalid("unknown field in tag edit", &tags, json!({"add": ["x"], "tag": "y"}), "tag")
            .method(Method::PATCH),
        Case::invalid("add as a string", &tags, json!({"add": "x"}), "add").method(Method::PATCH),
        Case::invalid("mismatched project_id", &tags, json!({"project_id": id + 1, "add": ["x"]}), "project_id")
            .method(Method::PATCH),
        Case::invalid("spec edit without project_id", "/projects/tags", json!({"add": ["x"]}), "project_id")
            .method(Method::PUT),
        Case::invalid(
            "spec edit with project_id 0",
            "/projects/tags",
            json!({"project_id": 0, "add": ["x"]}),
            "project_id",
        )
        .method(Method::PUT),
        Case::invalid(
            "spec edit with a string id",
            "/projects/tags",
            json!({"project_id": "1", "add": ["x"]}),
            "project_id",
        )
        .method(Method::PUT),
        // 422: thread writes.
        Case::invalid(
            "unknown thread_type",
            &threads,
            json!({"threads": [{"thread_type": "RANT", "message": "x"}]}),
            "threads[0].thread_type",
        ),
        Case::invalid(
            "lower-case thread_type",
            &threads,
            json!({"threads": [{"thread_type": "comment", "message": "x"}]}),
            "threads[0].thread_type",
        ),
        Case::invalid("no threads", &threads, json!({"threads": []}), "threads"),
        Case::invalid("21 threads", &threads, json!({ "threads": many_threads }), "threads"),
        Case::invalid(
            "empty message",
            &threads,
            json!({"threads": [{"message": "ok"}, {"message": "\n \n"}]}),
            "threads[1].message",
        ),
        Case::invalid(
            "message too long",
            &threads,
            json!({"threads": [{"message": "m".repeat(10_001)}]}),
            "threads[0].message",
        ),
        Case::invalid("missing message", &threads, json!({"threads": [{"thread_type": "COMMENT"}]}), "message"),
        Case::invalid(
            "edit with a type",
            &threads,
            json!({"threads": [{"thread_id": thread, "thread_type": "COMMENT", "message": "x"}]}),
            "threads[0].thread_id",
        ),
        Case::invalid(
            "parent_id 0",
            &threads,
            json!({"threads": [{"parent_id": 0, "message": "x"}]}),
            "threads[0].parent_id",
        ),
        Case::invalid(
            "unknown thread field",
            &threads,
            json!({"threads": [{"message": "x", "author": "me"}]}),
            "author",
        ),
        Case::invalid(
            "unknown top-level field",
            &threads,
            json!({"threads": [{"message": "x"}], "dry_run": true}),
            "dry_run",
        ),
        Case::invalid("threads as an object", &threads, json!({"threads": {"message": "x"}}), "threads"),
        // 422: votes.
        Case::invalid("sideways vote", &vote, json!({"direction": "sideways"}), "direction")
            .header("authorization", &voter),
        Case::invalid("vote as a number", &vote, json!({"direction": 1}), "direction").header("authorization", &voter),
        Case::invalid("vote without direction", &vote, json!({}), "direction").header("authorization", &voter),
        Case::invalid("unknown vote field", &vote, json!({"direction": "up", "weight": 10}), "weight")
            .header("authorization", &voter),
        // 422: GetProjectThreads query values.
        Case::query("limit 0", &format!("{threads}?limit=0"), "limit"),
        Case::query("limit 101", &format!("{threads}?limit=101"), "limit"),
        Case::query("limit -1", &format!("{threads}?limit=-1"), "limit"),
        Case::query("limit abc", &format!("{threads}?limit=abc"), "limit"),
        Case::query("limit empty", &format!("{threads}?limit="), "limit"),
        Case::query("cursor abc", &format!("{threads}?cursor=abc"), "cursor"),
        Case::query("cursor 0", &format!("{threads}?cursor=0"), "cursor"),
        Case::query("export limit 0", "/api/v1/export?limit=0", "limit").header("authorization", &admin),
        Case::query("export after -1", "/api/v1/export?after=-1", "after").header("authorization", &admin),
    ];
    for case in &cases {
        case.check(&client).await?;
    }

    // Nothing was half-written, and the Worker still serves.
    assert_eq!(state(&client, id).await?, before, "refused requests changed nothing");
    let fine = client.post("/api/v1/projects", &name("Written After All")).await?;
    assert_eq!(fine.status, 201, "{}", fine.text());
    let voted = client.post(&vote, &json!({"direction": "up"})).await?;
    assert_eq!((voted.status, voted.json()["up_vote"].as_i64()), (200, Some(1)), "{}", voted.text());
    assert_eq!(client.get(&format!("/projects/{id}/")).await?.status, 200);
    Ok(())
}
