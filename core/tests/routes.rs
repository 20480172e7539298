//! The router and its handlers, driven with plain requests: CSRF and content types, forms,
//! identities, admin tokens, rate limits, HEAD and 405s. What the Worker answers, without wasm.

mod common;

use crowdfund_core::http::{Method, Response};
use crowdfund_core::routes::table::ROUTES;
use crowdfund_core::testing::TestPlatform;
use serde_json::{json, Value};

use common::{json_request, post, propose, propose_named, request, send, SITE};

const SPEC: &str = r#"{"project_name": "Popee the Performer", "tagline": "an apprentice clown in Wolf Circus", "problems": ["short temper", "self centered"], "solutions": ["play the drums"], "tags": ["clown", "circus"]}"#;

fn error_code(r: &Response) -> String {
    r.json()["error"]["code"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn the_specs_curl_is_a_json_document_sent_as_a_form() {
    let p = TestPlatform::default();
    let curl = request(Method::Post, "/projects/propose")
        .with_header("content-type", "application/x-www-form-urlencoded")
        .with_header("user-agent", "curl/8.5.0")
        .with_body(SPEC);
    let answer = send(&p, &curl);
    let body = answer.json();
    assert_eq!((answer.status, &body["project_id"]), (201, &json!(1)), "{}", answer.text());
    assert!(body["visitor_token"].as_str().is_some_and(|t| t.contains('.')), "the new identity, to send again");
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    // 7 rows of the proposal, 7 of its search index entry (FTS5: content, size, index
    // segment), 4 updates of the project's Top facts (one per row the triggers follow).
    assert_eq!(answer.header("x-d1"), Some("round_trips=1; rows_written=18"));
    assert_eq!(p.queue.sent.borrow().len(), 1, "the change was sent after the commit");
}

#[test]
fn cross_site_writes_are_403_for_every_content_type_and_write_nothing() {
    let p = TestPlatform::default();
    for (content_type, body, origin, referer) in [
        ("application/x-www-form-urlencoded", "project_name=x&tagline=y", Some("https://evil.example"), None),
        ("text/plain", SPEC, Some("https://evil.example"), None),
        ("application/x-www-form-urlencoded", SPEC, Some("https://evil.example"), None),
        ("application/json", SPEC, Some("null"), None),
        ("text/plain", SPEC, None, Some("https://evil.example/x")),
    ] {
        let mut req =
            request(Method::Post, "/api/v1/projects").with_header("content-type", content_type).with_body(body);
        if let Some(o) = origin {
            req = req.with_header("origin", o);
        }
        if let Some(r) = referer {
            req = req.with_header("referer", r);
        }
        let answer = send(&p, &req);
        assert_eq!((answer.status, error_code(&answer).as_str()), (403, "forbidden"), "{content_type} {origin:?}");
    }
    assert_eq!(common::outbox_rows(&p), 0);
    assert!(p.queue.sent.borrow().is_empty());
}

#[test]
fn bodies_that_are_neither_json_nor_forms_are_415() {
    let p = TestPlatform::default();
    for (content_type, body) in
        [(Some("text/plain"), "hello"), (None, "project_name=x"), (Some("application/xml"), "<x/>")]
    {
        let mut req = request(Method::Post, "/api/v1/projects").with_body(body);
        if let Some(ct) = content_type {
            req = req.with_header("content-type", ct);
        }
        assert_eq!(send(&p, &req).status, 415, "{content_type:?}");
    }
}

#[test]
fn html_forms_from_this_site_redirect_and_refused_ones_come_back_filled_in() {
    let p = TestPlatform::default();
    let form = |body: &str| {
        request(Method::Post, "/api/v1/projects")
            .with_header("content-type", "application/x-www-form-urlencoded")
            .with_header("origin", SITE)
            .with_body(body.to_owned())
    };
    let ok = send(&p, &form("project_name=Form+made&tagline=from+a+page&tags=a%2C+b&return_to=%2F"));
    assert_eq!((ok.status, ok.header("location")), (303, Some("/projects/1/?published=pending")));
    let refused = send(&p, &form("project_name=&tagline=still+here&return_to=%2F"));
    assert_eq!(refused.status, 422);
    assert!(refused.header("content-type").unwrap_or_default().starts_with("text/html"));
    let page = refused.text();
    assert!(page.contains("still here") && page.contains("aria-invalid"), "{page}");
    // A form without Origin or Referer is not taken: only this site's pages send forms.
    let bare = request(Method::Post, "/api/v1/projects")
        .with_header("content-type", "application/x-www-form-urlencoded")
        .with_body("project_name=x&tagline=y");
    assert_eq!(send(&p, &bare).status, 403);
}

#[test]
fn a_form_vote_from_a_new_visitor_is_issued_an_identity() {
    let p = TestPlatform::default();
    let id = propose_named(&p, "Form vote");
    let thread = common::thread_ids(&p, id)[0];
    let vote = request(Method::Post, &format!("/api/v1/threads/{thread}/vote"))
        .with_header("content-type", "application/x-www-form-urlencoded")
        .with_header("origin", SITE)
        .with_body(format!("direction=up&return_to=%2Fprojects%2F{id}%2F"));
    let answer = send(&p, &vote);
    assert_eq!(answer.status, 303);
    let cookie = answer.header("set-cookie").expect("a voter cookie");
    assert!(cookie.starts_with("voter=") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
    let cookies: Vec<&str> = answer.headers.iter().filter(|(n, _)| *n == "set-cookie").map(|(_, v)| v).collect();
    assert!(cookies.iter().any(|c| c.starts_with("author=") && !c.contains("HttpOnly")), "{cookies:?}");
    // A JSON vote without an identity is issued one too, and told how to send it again.
    let path = format!("/api/v1/threads/{thread}/vote");
    let anonymous = post(&p, &path, json!({"direction": "up"}));
    let token = anonymous.json()["visitor_token"].as_str().expect("visitor_token").to_owned();
    assert_eq!((anonymous.status, anonymous.json()["up_vote"].as_i64()), (200, Some(2)));
    let again = send(
        &p,
        &json_request(Method::Post, &path, &json!({"direction": "up"}))
            .with_header("authorization", &format!("Bearer {token}")),
    );
    assert_eq!((again.json()["changed"].as_bool(), again.json()["up_vote"].as_i64()), (Some(false), Some(2)));
    assert!(again.json().get("visitor_token").is_none(), "a known visitor is issued nothing");
}

#[test]
fn voters_vote_by_bearer_token_and_forged_tokens_are_refused() {
    let p = TestPlatform::default();
    let id = propose_named(&p, "Bearer");
    let thread = common::thread_ids(&p, id)[0];
    let token = common::voter(&p);
    let vote = |token: &str| {
        send(
            &p,
            &json_request(Method::Post, &format!("/api/v1/threads/{thread}/vote"), &json!({"direction": "up"}))
                .with_header("authorization", &format!("Bearer {token}")),
        )
    };
    let ok = vote(&token);
    assert_eq!((ok.status, ok.json()["up_vote"].as_i64()), (200, Some(1)));
    let mut forged = token.clone();
    forged.pop();
    forged.push(if token.ends_with('0') { '1' } else { '0' });
    assert_eq!(vote(&forged).status, 401);
}

#[test]
fn admin_routes_need_the_admin_token() {
    let p = TestPlatform::default();
    propose_named(&p, "Exported");
    assert_eq!(send(&p, &request(Method::Get, "/api/v1/export")).status, 401);
    let wrong = request(Method::Get, "/api/v1/export").with_header("authorization", "Bearer nope");
    assert_eq!(send(&p, &wrong).status, 401);
    let right = request(Method::Get, "/api/v1/export").with_header("authorization", "Bearer test-admin-token");
    let export = send(&p, &right);
    assert_eq!(export.status, 200);
    assert_eq!(export.json()["projects"][0]["project_name"], "Exported");
    assert_eq!(export.json()["next_after"], Value::Null);
}

#[test]
fn an_export_imports_into_an_empty_site_with_ids_and_totals() {
    let source = TestPlatform::default();
    let id = propose(&source, json!({"project_name": "Moved", "tagline": "t", "tags": ["a"], "problems": ["p"]}));
    let thread = common::thread_ids(&source, id)[0];
    source.db.execute(&format!("UPDATE threads SET up_vote = 7 WHERE thread_id = {thread}"));
    let admin = |req: crowdfund_core::http::Request| req.with_header("authorization", "Bearer test-admin-token");
    let export = send(&source, &admin(request(Method::Get, "/api/v1/export"))).json();
    let target = TestPlatform::default();
    let chunk = json!({"projects": export["projects"]});
    let import = send(&target, &admin(json_request(Method::Post, "/api/v1/admin/import", &chunk)));
    assert_eq!(import.status, 201, "{}", import.text());
    let again = send(&target, &admin(request(Method::Get, "/api/v1/export"))).json();
    assert_eq!(again["projects"], export["projects"]);
    // The same chunk again (a retry, a resumed run) skips what is there; the same id with
    // other content conflicts; a text body is 415; an unknown field 422.
    let again = send(&target, &admin(json_request(Method::Post, "/api/v1/admin/import", &chunk)));
    assert_eq!((again.status, again.json()["skipped"].as_i64()), (201, Some(1)), "{}", again.text());
    let mut changed = export["projects"][0].clone();
    changed["tagline"] = json!("another tagline");
    let conflict =
        send(&target, &admin(json_request(Method::Post, "/api/v1/admin/import", &json!({"projects": [changed]}))));
    assert_eq!(conflict.status, 409, "{}", conflict.text());
    assert!(conflict.text().contains(&format!("project {id} is already there")), "{}", conflict.text());
    let text = admin(request(Method::Post, "/api/v1/admin/import").with_header("content-type", "text/plain"))
        .with_body(chunk.to_string());
    assert_eq!(send(&target, &text).status, 415);
    let mut unknown = export["projects"][0].clone();
    unknown["colour"] = json!("red");
    let answer =
        send(&target, &admin(json_request(Method::Post, "/api/v1/admin/import", &json!({"projects": [unknown]}))));
    assert_eq!(answer.status, 422);
    // An author key in capitals is not one the site makes (pages and the export carry them in
    // lower case): refused, not stored as sent (found by schemathesis).
    let mut shouting = export["projects"][0].clone();
    shouting["project_id"] = json!(900);
    shouting["project_name"] = json!("Shouting");
    shouting["threads"] = json!([]);
    shouting["author"] = json!(shouting["author"].as_str().map(str::to_uppercase));
    let answer =
        send(&target, &admin(json_request(Method::Post, "/api/v1/admin/import", &json!({"projects": [shouting]}))));
    assert_eq!(
        (answer.status, answer.json()["error"]["field"].as_str()),
        (422, Some("projects[0].author")),
        "{}",
        answer.text()
    );
}

#[test]
fn head_answers_like_get_without_a_body() {
    let p = TestPlatform::default();
    let id = propose_named(&p, "Head");
    for path in ["/api/v1/health".to_owned(), format!("/api/v1/projects/{id}/threads"), format!("/projects/{id}/")] {
        let get = send(&p, &request(Method::Get, &path));
        let head = send(&p, &request(Method::Head, &path));
        assert_eq!((get.status, head.status), (200, 200), "{path}");
        assert!(!get.body.is_empty() && head.body.is_empty(), "{path}");
        assert_eq!(get.header("content-type"), head.header("content-type"), "{path}");
    }
}

#[test]
fn unknown_methods_are_405_with_allow_on_every_route() {
    let p = TestPlatform::default();
    for route in ROUTES {
        let path = route.path.replace("{project_id}", "1").replace("{thread_id}", "1").replace("{rebuild_id}", "x");
        let answer = send(&p, &request(Method::parse("QUERY"), &path));
        assert_eq!(answer.status, 405, "{path}");
        assert_eq!(answer.header("allow"), Some(route.allow().as_str()), "{path}");
        assert_eq!(error_code(&answer), "method_not_allowed");
    }
    let page = send(&p, &request(Method::Delete, "/projects/1/"));
    assert_eq!((page.status, page.header("allow")), (405, Some("GET, HEAD")));
}

#[test]
fn a_resumed_import_loads_what_is_missing_and_skips_what_is_there() {
    let source = TestPlatform::default();
    let first = propose(&source, json!({"project_name": "First", "tagline": "t", "tags": ["a"], "problems": ["p"]}));
    let second = propose(&source, json!({"project_name": "Second", "tagline": "t", "solutions": ["s"]}));
    let admin = |req: crowdfund_core::http::Request| req.with_header("authorization", "Bearer test-admin-token");
    let export = send(&source, &admin(request(Method::Get, "/api/v1/export"))).json();
    let target = TestPlatform::default();
    // An interrupted run loaded the first project only.
    let head = json!({"projects": [export["projects"][0]]});
    assert_eq!(send(&target, &admin(json_request(Method::Post, "/api/v1/admin/import", &head))).status, 201);
    let whole = json!({"projects": export["projects"]});
    let resumed = send(&target, &admin(json_request(Method::Post, "/api/v1/admin/import", &whole)));
    assert_eq!(resumed.status, 201, "{}", resumed.text());
    assert_eq!((resumed.json()["projects"].as_i64(), resumed.json()["skipped"].as_i64()), (Some(1), Some(1)));
    let moved = send(&target, &admin(request(Method::Get, "/api/v1/export"))).json();
    assert_eq!(moved["projects"], export["projects"]);
    let ids: Vec<i64> =
        moved["projects"].as_array().unwrap().iter().map(|p| p["project_id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![first, second]);
    // A different project under a name already taken is a real conflict, and loads nothing.
    let mut clash = export["projects"][1].clone();
    clash["project_id"] = json!(999);
    clash["threads"] = json!([]);
    let refused =
        send(&target, &admin(json_request(Method::Post, "/api/v1/admin/import", &json!({"projects": [clash]}))));
    assert_eq!(refused.status, 409, "{}", refused.text());
}

#[test]
fn writes_with_the_admin_token_count_against_the_admin_limit_not_the_address() {
    let mut p = TestPlatform::default();
    p.limits.limit = Some(2);
    let admin = |req: crowdfund_core::http::Request| req.with_header("authorization", "Bearer test-admin-token");
    for _ in 0..2 {
        assert_eq!(send(&p, &admin(request(Method::Post, "/api/v1/admin/rebuilds"))).status, 202);
    }
    // The address has used none of its writes; the admin limit is spent.
    assert!(propose_named(&p, "Still allowed") > 0);
    let third = send(&p, &admin(request(Method::Post, "/api/v1/admin/rebuilds")));
    assert_eq!((third.status, third.header("retry-after")), (429, Some("10")));
    // A wrong token is an address's write like any other.
    let forged = send(&p, &request(Method::Post, "/api/v1/admin/rebuilds").with_header("authorization", "Bearer nope"));
    assert_eq!(forged.status, 401);
    let uses = p.limits.uses.borrow();
    assert_eq!(uses.get("ADMIN_WRITES/admin"), Some(&3));
    assert_eq!(uses.keys().filter(|k| k.starts_with("WRITES_BY_ADDRESS/")).count(), 1);
}

#[test]
fn writes_over_the_address_limit_are_429_with_retry_after() {
    let mut p = TestPlatform::default();
    p.limits.limit = Some(2);
    propose_named(&p, "One");
    propose_named(&p, "Two");
    let third = post(&p, "/api/v1/projects", json!({"project_name": "Three", "tagline": "t"}));
    assert_eq!((third.status, third.header("retry-after")), (429, Some("10")));
    // Reads are not limited.
    assert_eq!(send(&p, &request(Method::Get, "/api/v1/health")).status, 200);
}

#[test]
fn preflights_grant_only_allowed_origins() {
    let mut p = TestPlatform::default();
    p.config.allowed_origins = vec!["https://app.example".into()];
    let preflight = |origin: &str| {
        send(
            &p,
            &request(Method::Options, "/api/v1/projects")
                .with_header("origin", origin)
                .with_header("access-control-request-method", "POST"),
        )
    };
    let ok = preflight("https://app.example");
    assert_eq!((ok.status, ok.header("access-control-allow-origin")), (204, Some("https://app.example")));
    assert_eq!(preflight("https://evil.example").header("access-control-allow-origin"), None);
    let write = send(
        &p,
        &json_request(Method::Post, "/api/v1/projects", &json!({"project_name": "CORS", "tagline": "t"}))
            .with_header("origin", "https://app.example"),
    );
    assert_eq!((write.status, write.header("access-control-allow-origin")), (201, Some("https://app.example")));
}

#[test]
fn the_test_hook_drops_a_message_only_when_enabled() {
    let mut p = TestPlatform::default();
    let dropped = |p: &TestPlatform, name: &str| {
        send(
            p,
            &json_request(Method::Post, "/api/v1/projects", &json!({"project_name": name, "tagline": "t"}))
                .with_header("x-test-drop-message", "1"),
        )
        .status
    };
    assert_eq!(dropped(&p, "Kept"), 201);
    assert_eq!(p.queue.take().len(), 1, "hooks are off by default");
    p.config.test_hooks = true;
    assert_eq!(dropped(&p, "Lost"), 201);
    assert!(p.queue.take().is_empty());
    assert_eq!(common::outbox_rows(&p), 2, "the outbox row stays for the cron");
}

#[test]
fn internal_causes_are_logged_but_never_answered() {
    let p = TestPlatform::default();
    p.db.execute("DROP TABLE idempotency");
    let answer = send(
        &p,
        &json_request(Method::Post, "/api/v1/projects", &json!({"project_name": "Broken", "tagline": "t"}))
            .with_header("idempotency-key", "k"),
    );
    assert_eq!((answer.status, error_code(&answer).as_str()), (500, "internal"));
    assert!(!answer.text().contains("idempotency"), "{}", answer.text());
    assert!(p.log_text().contains("no such table: idempotency"));
}
