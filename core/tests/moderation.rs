//! Authorship and moderation through the router: who may edit and remove what, the revisions
//! an edit keeps, moderators hiding, restoring and reverting (and the pages following), reports,
//! the log, and the pages rendered per visitor.

mod common;

use crowdfund_core::http::{Method, Request, Response};
use crowdfund_core::testing::{TestPlatform, MODERATOR, MODERATOR_TOKEN};
use serde_json::{json, Value};

use common::{drain, json_request, propose, proposer_token, request, send, SITE};

/// A visitor: the bearer token of a fresh identity.
fn visitor(p: &TestPlatform) -> String {
    let answer = send(p, &json_request(Method::Post, "/api/v1/visitors", &Value::Null));
    assert_eq!(answer.status, 201, "{}", answer.text());
    answer.json()["visitor_token"].as_str().expect("visitor_token").to_owned()
}

fn as_visitor(req: Request, token: &str) -> Request {
    req.with_header("authorization", &format!("Bearer {token}"))
}

fn write(p: &TestPlatform, token: &str, method: Method, path: &str, body: Value) -> Response {
    send(p, &as_visitor(json_request(method, path, &body), token))
}

fn moderate(p: &TestPlatform, path: &str, body: Value) -> Response {
    send(p, &as_visitor(json_request(Method::Post, path, &body), MODERATOR_TOKEN))
}

/// The published JSON twin of a project's page (`None` once it is gone).
fn twin(p: &TestPlatform, project_id: i64) -> Option<Value> {
    p.pages.body(&format!("api/v1/projects/{project_id}.json")).map(|b| serde_json::from_slice(&b).expect("json"))
}

fn message_of(twin: &Value, thread_id: i64) -> Option<String> {
    twin["threads"].as_array()?.iter().find(|t| t["thread_id"] == thread_id)?["message"].as_str().map(str::to_owned)
}

/// A project by the proposer with one problem, published; its id and the problem's id.
fn project(p: &TestPlatform, name: &str) -> (i64, i64) {
    let id = propose(p, json!({"project_name": name, "tagline": "t", "tags": ["a", "b"], "problems": ["original"]}));
    drain(p);
    (id, common::thread_ids(p, id)[0])
}

#[test]
fn a_strangers_edit_and_tag_removal_are_refused_and_change_nothing() {
    let p = TestPlatform::default();
    let (id, problem) = project(&p, "Owned");
    let outbox_before = common::outbox_rows(&p);
    let stranger = visitor(&p);
    let threads = format!("/api/v1/projects/{id}/threads");
    let edit = write(
        &p,
        &stranger,
        Method::Post,
        &threads,
        json!({"threads": [{"thread_id": problem, "message": "VANDALIZED"}]}),
    );
    assert_eq!((edit.status, edit.json()["error"]["code"].as_str()), (403, Some("forbidden")), "{}", edit.text());
    assert_eq!(edit.json()["error"]["field"], "threads[0].thread_id");
    // Without any identity, the same edit is issued one, and is still not the author's.
    let anonymous =
        send(&p, &json_request(Method::Post, &threads, &json!({"threads": [{"thread_id": problem, "message": "x"}]})));
    assert_eq!(anonymous.status, 403);
    let tags = format!("/api/v1/projects/{id}/tags");
    let removal = write(&p, &stranger, Method::Put, &tags, json!({"add": ["spam"], "remove": ["a", "b"]}));
    assert_eq!((removal.status, removal.json()["error"]["field"].as_str()), (403, Some("remove")));
    let spec = write(&p, &stranger, Method::Put, "/projects/tags", json!({"project_id": id, "remove": ["a"]}));
    assert_eq!(spec.status, 403, "the spec's route holds the same rule");
    drain(&p);
    let page = twin(&p, id).expect("published");
    assert_eq!(message_of(&page, problem).as_deref(), Some("original"));
    assert_eq!(page["tags"], json!(["a", "b"]));
    assert_eq!(common::outbox_rows(&p), outbox_before, "nothing was written");
    // Anyone may still add: a tag, a reply, a vote.
    assert_eq!(write(&p, &stranger, Method::Put, &tags, json!({"add": ["c"]})).status, 200);
    let reply = json!({"threads": [{"parent_id": problem, "message": "a reply"}]});
    assert_eq!(write(&p, &stranger, Method::Post, &threads, reply).status, 201);
    let vote =
        write(&p, &stranger, Method::Post, &format!("/api/v1/threads/{problem}/vote"), json!({"direction": "up"}));
    assert_eq!(vote.status, 200);
    // The proposer removes tags.
    let own = write(&p, &proposer_token(&p), Method::Put, &tags, json!({"remove": ["a"]}));
    assert_eq!((own.status, &own.json()["tags"]), (200, &json!(["b", "c"])));
}

#[test]
fn the_authors_edit_keeps_the_old_text_as_a_revision() {
    let p = TestPlatform::default();
    let (id, problem) = project(&p, "Edited");
    p.advance(60_000);
    let threads = format!("/api/v1/projects/{id}/threads");
    let edit = write(
        &p,
        &proposer_token(&p),
        Method::Post,
        &threads,
        json!({"threads": [{"thread_id": problem, "message": "better"}]}),
    );
    assert_eq!(edit.status, 200, "{}", edit.text());
    drain(&p);
    let page = twin(&p, id).expect("published");
    let thread =
        page["threads"].as_array().expect("threads").iter().find(|t| t["thread_id"] == problem).expect("shown").clone();
    assert_eq!(thread["message"], "better");
    assert!(thread["edited_at"].as_str().is_some(), "marked edited: {thread}");
    assert_eq!(thread["revisions"][0]["message"], "original", "{thread}");
    let html = String::from_utf8(p.pages.body(&format!("projects/{id}/index.html")).expect("page")).expect("utf-8");
    assert!(html.contains(r#"class="edited""#), "the page marks the edit");
    let revisions = send(&p, &request(Method::Get, &format!("/api/v1/threads/{problem}/revisions")));
    assert_eq!(revisions.json()["revisions"][0]["message"], "original", "{}", revisions.text());
    let stored: Vec<Value> = p.db.select("SELECT message FROM revisions");
    assert_eq!(stored, vec![json!({"message": "original"})]);
}

#[test]
fn moderators_hide_and_restore_threads_and_projects_and_pages_follow() {
    let p = TestPlatform::default();
    let (id, problem) = project(&p, "Moderated");
    let threads = format!("/api/v1/projects/{id}/threads");
    let reply = write(
        &p,
        &visitor(&p),
        Method::Post,
        &threads,
        json!({"threads": [{"parent_id": problem, "message": "under it"}]}),
    );
    let reply_id = reply.json()["threads"][0]["thread_id"].as_i64().expect("reply id");
    drain(&p);

    let hide =
        moderate(&p, &format!("/api/v1/moderation/threads/{problem}"), json!({"action": "hide", "reason": "abuse"}));
    assert_eq!((hide.status, &hide.json()["hidden"]), (200, &json!(true)), "{}", hide.text());
    drain(&p);
    let page = twin(&p, id).expect("still published");
    assert_eq!(message_of(&page, problem), None, "the hidden thread left the page");
    assert_eq!(message_of(&page, reply_id), None, "and its reply with it");
    let vote =
        write(&p, &visitor(&p), Method::Post, &format!("/api/v1/threads/{reply_id}/vote"), json!({"direction": "up"}));
    assert_eq!(vote.status, 404, "nothing hidden takes votes");
    let restore = moderate(&p, &format!("/api/v1/moderation/threads/{problem}"), json!({"action": "restore"}));
    assert_eq!(restore.status, 200);
    drain(&p);
    assert!(message_of(&twin(&p, id).expect("page"), reply_id).is_some(), "restored with its reply");

    let hide = moderate(&p, &format!("/api/v1/moderation/projects/{id}"), json!({"action": "hide"}));
    assert_eq!(hide.status, 200, "{}", hide.text());
    drain(&p);
    assert_eq!(twin(&p, id), None, "the project's pages are gone");
    assert!(p.pages.body("tags/a/index.html").is_none(), "and its only tag's page");
    let front = String::from_utf8(p.pages.body("index.html").expect("front")).expect("utf-8");
    assert!(!front.contains("Moderated"), "and it is in no listing");
    assert_eq!(send(&p, &request(Method::Get, &format!("/projects/{id}/"))).status, 404);
    let add = write(&p, &visitor(&p), Method::Post, &threads, json!({"threads": [{"message": "x"}]}));
    assert_eq!(add.status, 404, "a hidden project takes no writes");
    assert_eq!(moderate(&p, &format!("/api/v1/moderation/projects/{id}"), json!({"action": "restore"})).status, 200);
    drain(&p);
    assert!(twin(&p, id).is_some(), "restored");
    assert!(p.pages.body("tags/a/index.html").is_some());
}

#[test]
fn a_moderator_reverts_a_thread_to_an_earlier_revision() {
    let p = TestPlatform::default();
    let (id, problem) = project(&p, "Reverted");
    let threads = format!("/api/v1/projects/{id}/threads");
    let edit = json!({"threads": [{"thread_id": problem, "message": "defaced by its author"}]});
    assert_eq!(write(&p, &proposer_token(&p), Method::Post, &threads, edit).status, 200);
    let revisions = send(&p, &request(Method::Get, &format!("/api/v1/threads/{problem}/revisions"))).json();
    let first = revisions["revisions"][0]["revision_id"].as_i64().expect("revision");
    let path = format!("/api/v1/moderation/threads/{problem}");
    let unknown = moderate(&p, &path, json!({"action": "revert", "revision_id": first + 100}));
    assert_eq!((unknown.status, unknown.json()["error"]["field"].as_str()), (404, Some("revision_id")));
    let revert = moderate(&p, &path, json!({"action": "revert", "revision_id": first}));
    assert_eq!(revert.status, 200, "{}", revert.text());
    drain(&p);
    let page = twin(&p, id).expect("page");
    assert_eq!(message_of(&page, problem).as_deref(), Some("original"));
    let kept: Vec<Value> = p.db.select("SELECT message, replaced_by FROM revisions ORDER BY revision_id");
    assert_eq!(
        kept,
        vec![
            json!({"message": "original", "replaced_by": "author"}),
            json!({"message": "defaced by its author", "replaced_by": format!("moderator:{MODERATOR}")})
        ],
        "the revert is itself an edit: nothing is lost"
    );
}

#[test]
fn reports_reach_the_moderators_and_every_action_is_logged_without_a_token() {
    let p = TestPlatform::default();
    let (_, problem) = project(&p, "Reported");
    let reporter = visitor(&p);
    let path = format!("/api/v1/threads/{problem}/reports");
    let first = write(&p, &reporter, Method::Post, &path, json!({"reason": "spam"}));
    assert_eq!(first.status, 201, "{}", first.text());
    let again = write(&p, &reporter, Method::Post, &path, json!({"reason": "spam!"}));
    assert_eq!(again.json()["report_id"], first.json()["report_id"], "one report per visitor and thread");
    assert_eq!(again.status, 200, "the repeat wrote nothing");
    assert_eq!(write(&p, &reporter, Method::Post, &path, json!({"reason": " "})).status, 422);
    assert_eq!(write(&p, &reporter, Method::Post, "/api/v1/threads/999/reports", json!({"reason": "x"})).status, 404);
    let reports = send(&p, &as_visitor(request(Method::Get, "/api/v1/moderation/reports"), MODERATOR_TOKEN));
    assert_eq!(reports.json()["reports"].as_array().map(Vec::len), Some(1), "{}", reports.text());
    assert_eq!(reports.json()["reports"][0]["reason"], "spam");
    for refused in [Some(reporter.as_str()), Some("wrong-token-0123456789"), None] {
        let mut req = request(Method::Get, "/api/v1/moderation/reports");
        if let Some(token) = refused {
            req = as_visitor(req, token);
        }
        assert_eq!(send(&p, &req).status, 401, "{refused:?}");
    }
    assert_eq!(moderate(&p, &format!("/api/v1/moderation/threads/{problem}"), json!({"action": "hide"})).status, 200);
    let by_admin = send(
        &p,
        &json_request(Method::Post, &format!("/api/v1/moderation/threads/{problem}"), &json!({"action": "restore"}))
            .with_header("authorization", "Bearer test-admin-token"),
    );
    assert_eq!(by_admin.status, 200, "the admin token moderates too");
    let log = send(&p, &as_visitor(request(Method::Get, "/api/v1/moderation/log"), MODERATOR_TOKEN)).json();
    let actions: Vec<(String, String)> = log["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .map(|a| (a["moderator"].as_str().unwrap_or("").to_owned(), a["action"].as_str().unwrap_or("").to_owned()))
        .collect();
    assert_eq!(actions, vec![("admin".into(), "restore".into()), (MODERATOR.into(), "hide".into())]);
    let everything = format!("{log} {}", p.log_text());
    assert!(!everything.contains(MODERATOR_TOKEN) && !everything.contains("test-admin-token"), "no token is logged");
}

#[test]
fn forged_or_tampered_identities_are_refused() {
    let p = TestPlatform::default();
    let (id, problem) = project(&p, "Forged");
    let mut tampered = proposer_token(&p);
    tampered.pop();
    tampered.push(if tampered.ends_with('0') { '1' } else { '0' });
    let forged_id = format!("attacker.{}", "0".repeat(64));
    let threads = format!("/api/v1/projects/{id}/threads");
    for token in [tampered, forged_id] {
        let edit =
            write(&p, &token, Method::Post, &threads, json!({"threads": [{"thread_id": problem, "message": "x"}]}));
        assert_eq!((edit.status, edit.json()["error"]["code"].as_str()), (401, Some("unauthenticated")));
        let cookie = json_request(Method::Post, "/api/v1/projects", &json!({"project_name": "n", "tagline": "t"}))
            .with_header("cookie", &format!("voter={token}"));
        let refused = send(&p, &cookie);
        assert_eq!(refused.status, 401, "a bad cookie is refused, not replaced");
        let cleared: Vec<&str> = refused.headers.get_all("set-cookie").collect();
        assert_eq!(cleared, ["voter=; Path=/; Max-Age=0", "author=; Path=/; Max-Age=0"], "and cleared");
        // Pages render for a visitor without an identity (and clear it too), not an error.
        for page in ["/me", &format!("/projects/{id}/threads/{problem}/edit")] {
            let answer = send(&p, &request(Method::Get, page).with_header("cookie", &format!("voter={token}")));
            assert!(answer.headers.get("content-type").unwrap_or("").starts_with("text/html"), "{page}");
            assert_ne!(answer.status, 401, "{page}");
            assert_eq!(answer.headers.get_all("set-cookie").count(), 2, "{page}");
        }
    }
}

#[test]
fn the_edit_page_is_its_authors_and_no_cache_keeps_it() {
    let p = TestPlatform::default();
    let (id, problem) = project(&p, "Edit page");
    let path = format!("/projects/{id}/threads/{problem}/edit");
    let own = send(&p, &as_visitor(request(Method::Get, &path), &proposer_token(&p)));
    assert_eq!((own.status, own.header("cache-control")), (200, Some("private, no-store")));
    assert!(own.text().contains(">original</textarea>"), "{}", own.text());
    for other in [Some(visitor(&p)), None] {
        let mut req = request(Method::Get, &path);
        if let Some(token) = &other {
            req = as_visitor(req, token);
        }
        let answer = send(&p, &req);
        assert_eq!((answer.status, answer.header("cache-control")), (403, Some("private, no-store")));
        assert!(answer.text().contains("Only the author") && !answer.text().contains("<textarea"));
    }
    // The edit form, sent without script, goes back to the page at the thread.
    let form = request(Method::Post, &format!("/api/v1/projects/{id}/threads"))
        .with_header("content-type", "application/x-www-form-urlencoded")
        .with_header("origin", SITE)
        .with_header("cookie", &format!("voter={}", proposer_token(&p)))
        .with_body(format!("thread_id={problem}&message=via+the+form&return_to=%2Fprojects%2F{id}%2F"));
    let answer = send(&p, &form);
    assert_eq!(answer.status, 303, "{}", answer.text());
    assert_eq!(answer.header("location"), Some(format!("/projects/{id}/?published=pending#thread-{problem}").as_str()));
    assert!(
        answer.headers.iter().any(|(n, v)| n == "set-cookie" && v.starts_with("author=")),
        "a browser without the readable author cookie gets it back"
    );
}

#[test]
fn the_visitors_page_lists_their_threads_and_takes_a_display_name() {
    let p = TestPlatform::default();
    let (id, problem) = project(&p, "Mine");
    let token = proposer_token(&p);
    let page = send(&p, &as_visitor(request(Method::Get, "/me"), &token));
    assert_eq!((page.status, page.header("cache-control")), (200, Some("private, no-store")));
    assert!(page.text().contains(&format!("/projects/{id}/threads/{problem}/edit")), "{}", page.text());
    let me = send(&p, &as_visitor(request(Method::Get, "/api/v1/visitors/me"), &token)).json();
    assert_eq!(me["display_name"], Value::Null);
    let pseudonym = me["name"].as_str().expect("a pseudonym").to_owned();
    assert_eq!(pseudonym.split('-').count(), 3, "{pseudonym}");
    let named = write(&p, &token, Method::Put, "/api/v1/visitors/me", json!({"display_name": "  Popee  "}));
    assert_eq!((named.status, &named.json()["display_name"]), (200, &json!("Popee")), "{}", named.text());
    let bad = write(&p, &token, Method::Put, "/api/v1/visitors/me", json!({"display_name": "a\u{7}b"}));
    assert_eq!((bad.status, bad.json()["error"]["field"].as_str()), (422, Some("display_name")));
    // What they write from now on shows the name; what they wrote before keeps the pseudonym.
    let threads = format!("/api/v1/projects/{id}/threads");
    assert_eq!(write(&p, &token, Method::Post, &threads, json!({"threads": [{"message": "named"}]})).status, 201);
    drain(&p);
    let html = String::from_utf8(p.pages.body(&format!("projects/{id}/index.html")).expect("page")).expect("utf-8");
    assert!(html.contains("by Popee") && html.contains(&format!("by {pseudonym}")), "{html}");
    assert_eq!(send(&p, &request(Method::Get, "/api/v1/visitors/me")).status, 401);
}

#[test]
fn an_anonymous_retry_with_the_same_idempotency_key_gets_the_identity_that_owns_the_project() {
    let p = TestPlatform::default();
    let proposal = json!({"project_name": "Retried", "tagline": "t", "tags": ["a", "b"]});
    let attempt = |key: &str| {
        let answer =
            send(&p, &json_request(Method::Post, "/api/v1/projects", &proposal).with_header("idempotency-key", key));
        assert_eq!(answer.status, 201, "{}", answer.text());
        answer.json()
    };
    // The first answer is lost; the client retries with the key, still without an identity.
    let (first, retry) = (attempt("retry-1"), attempt("retry-1"));
    assert_eq!(first["project_id"], retry["project_id"], "one project");
    assert_eq!(first["visitor_token"], retry["visitor_token"], "the retry is issued the same identity");
    let token = retry["visitor_token"].as_str().expect("visitor_token");
    let tags = format!("/api/v1/projects/{}/tags", retry["project_id"]);
    let removal = write(&p, token, Method::Put, &tags, json!({"remove": ["a"]}));
    assert_eq!(removal.status, 200, "the retried identity owns the project: {}", removal.text());
    // Another key is another sender: a different identity, which does not own it.
    let other = send(
        &p,
        &json_request(Method::Post, "/api/v1/projects", &json!({"project_name": "Other", "tagline": "t"}))
            .with_header("idempotency-key", "retry-2"),
    );
    assert_ne!(other.json()["visitor_token"], first["visitor_token"]);
    let stranger = other.json()["visitor_token"].as_str().expect("token").to_owned();
    assert_eq!(write(&p, &stranger, Method::Put, &tags, json!({"remove": ["b"]})).status, 403);
}
