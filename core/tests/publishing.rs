//! The publisher and the page route over the in-memory page store: what a change publishes,
//! what a GET answers before and after, conditional reads, retries, the cron and the rebuild.

mod common;

use crowdfund_core::config::Config;
use crowdfund_core::http::Method;
use crowdfund_core::publish::Delivery;
use crowdfund_core::testing::{run, TestPlatform};
use crowdfund_core::{cron, serve};
use serde_json::json;

use common::{drain, propose, request, send};

#[test]
fn a_proposal_publishes_its_pages_and_clears_its_outbox_row() {
    let p = TestPlatform::default();
    let id = propose(&p, json!({"project_name": "Published", "tagline": "t", "tags": ["solar"], "problems": ["p"]}));
    assert_eq!(common::drain_now(&p), vec![vec![Delivery::Ack]]);
    for key in [
        format!("projects/{id}/index.html"),
        format!("api/v1/projects/{id}.json"),
        "index.html".into(),
        "api/v1/projects.json".into(),
        "page/1/index.html".into(),
        "tags/solar/index.html".into(),
        "tags/solar/page/1/index.html".into(),
        "feed.xml".into(),
        "sitemap.xml".into(),
        "sitemaps/1.xml".into(),
    ] {
        assert!(p.pages.body(&key).is_some(), "{key} published");
    }
    assert_eq!(common::outbox_rows(&p), 0);
}

#[test]
fn a_batch_of_votes_on_one_project_is_one_render_of_each_page() {
    let p = TestPlatform::default();
    let id = propose(&p, json!({"project_name": "Votes", "tagline": "t", "problems": ["p"]}));
    drain(&p);
    let thread = common::thread_ids(&p, id)[0];
    for _ in 0..5 {
        let token = common::voter(&p);
        let vote =
            common::json_request(Method::Post, &format!("/api/v1/threads/{thread}/vote"), &json!({"direction": "up"}))
                .with_header("authorization", &format!("Bearer {token}"));
        assert_eq!(send(&p, &vote).status, 200);
    }
    let batches = common::drain_now(&p);
    assert_eq!(batches, vec![vec![Delivery::Ack; 5]]);
    let publish = p.logs.borrow().iter().map(|(_, l)| l.clone()).rfind(|l| l["event"] == "publish").expect("logged");
    assert_eq!(
        (publish["changes"].as_i64(), publish["pages"].as_i64(), publish["objects_written"].as_i64()),
        // Its detail page and the Top pages (one of them exists), each rendered once.
        (Some(5), Some(1 + i64::from(generator::paths::TOP_PAGES)), Some(4))
    );
    let page = String::from_utf8(p.pages.body(&format!("api/v1/projects/{id}.json")).expect("stored")).expect("utf-8");
    assert!(page.contains("\"up_vote\": 5"), "{page}");
}

#[test]
fn a_batch_split_between_the_two_workers_publishes_then_purges_as_one_consume_does() {
    let p = TestPlatform::default();
    let id = propose(&p, json!({"project_name": "Split", "tagline": "t"}));
    let messages = p.queue.take();
    // The publisher Worker: pages stored, tags owed, nothing purged yet.
    let consumed = run(crowdfund_core::publish::consume_pages(&p, &messages));
    assert!(p.pages.body(&format!("projects/{id}/index.html")).is_some(), "the detail page is stored");
    assert!(p.edge.tags().is_empty(), "the publisher purges nothing");
    // Through the service binding the answer is JSON.
    let wire = serde_json::to_value(&consumed).expect("json");
    let consumed: crowdfund_core::publish::Consumed = serde_json::from_value(wire).expect("read back");
    // The request Worker purges its own edge cache.
    let deliveries = run(crowdfund_core::publish::purge_after(&p, consumed));
    assert_eq!(deliveries, vec![Delivery::Ack]);
    assert!(p.edge.tags().contains(&format!("project:{id}")), "{:?}", p.edge.tags());
}

#[test]
fn unreadable_messages_are_retried_and_the_rest_of_the_batch_is_not_held_up() {
    let p = TestPlatform::default();
    propose(&p, json!({"project_name": "Good", "tagline": "t"}));
    let mut messages = p.queue.take();
    messages.insert(0, json!({"nonsense": true}));
    let deliveries = run(crowdfund_core::publish::consume(&p, &messages));
    assert_eq!(deliveries, vec![Delivery::Retry, Delivery::Ack]);
    assert!(p.log_text().contains("message_unreadable"));
}

#[test]
fn a_page_is_rendered_on_a_miss_then_served_from_the_store_with_cheap_revalidation() {
    let p = TestPlatform::default();
    let id = propose(&p, json!({"project_name": "Served", "tagline": "t"}));
    let path = format!("/projects/{id}/");
    let before = send(&p, &request(Method::Get, &path));
    assert_eq!((before.status, before.header(serve::SOURCE_HEADER)), (200, Some("rendered")));
    drain(&p);
    let stored = send(&p, &request(Method::Get, &path));
    assert_eq!((stored.status, stored.header(serve::SOURCE_HEADER)), (200, Some("stored")));
    assert_eq!(stored.body, before.body, "the stand-in was the page");
    assert_eq!(stored.header("cache-control"), Some("public, max-age=0, must-revalidate"));
    let etag = stored.header("etag").expect("an ETag").to_owned();
    let reads = p.pages.bodies_read.get();
    let again = send(&p, &request(Method::Get, &path).with_header("if-none-match", &etag));
    assert_eq!((again.status, again.body.len()), (304, 0));
    assert_eq!(p.pages.bodies_read.get(), reads, "a 304 reads no body from the store");
    let other = send(&p, &request(Method::Get, &path).with_header("if-none-match", "\"other\""));
    assert_eq!(other.status, 200);
}

#[test]
fn a_store_that_holds_the_bytes_streams_them_into_the_answer_except_for_head_and_304() {
    let p = TestPlatform::default();
    let id = propose(&p, json!({"project_name": "Held", "tagline": "t"}));
    drain(&p);
    p.pages.hold_bodies.set(true);
    let path = format!("/projects/{id}/");
    let held = send(&p, &request(Method::Get, &path));
    assert_eq!((held.status, held.header(serve::SOURCE_HEADER)), (200, Some("stored")));
    assert!(held.held_body && held.body.is_empty(), "the platform streams the stored bytes");
    assert_eq!(held.header("content-type"), Some("text/html; charset=utf-8"));
    let etag = held.header("etag").expect("an ETag").to_owned();
    let unchanged = send(&p, &request(Method::Get, &path).with_header("if-none-match", &etag));
    assert_eq!((unchanged.status, unchanged.held_body), (304, false));
    let head = send(&p, &request(Method::Head, &path));
    assert_eq!((head.status, head.held_body, head.body.len()), (200, false, 0));
    let rendered = send(&p, &request(Method::Get, &format!("{path}?published=pending")));
    assert!(!rendered.held_body && !rendered.body.is_empty(), "a render carries its own bytes");
}

#[test]
fn stored_page_reads_are_left_out_of_the_request_log_and_everything_else_is_logged() {
    let p = TestPlatform::default();
    let id = propose(&p, json!({"project_name": "Logged", "tagline": "t"}));
    let path = format!("/projects/{id}/");
    let request_lines = |p: &TestPlatform| p.log_text().lines().filter(|l| l.contains(r#""event":"request""#)).count();
    assert_eq!(request_lines(&p), 1, "the write is logged:\n{}", p.log_text());
    send(&p, &request(Method::Get, &path));
    assert_eq!(request_lines(&p), 2, "a miss rendered from D1 is logged");
    drain(&p);
    let stored = send(&p, &request(Method::Get, &path));
    assert_eq!(stored.header(serve::SOURCE_HEADER), Some("stored"));
    let etag = stored.header("etag").expect("an ETag").to_owned();
    assert_eq!(send(&p, &request(Method::Get, &path).with_header("if-none-match", &etag)).status, 304);
    assert_eq!(request_lines(&p), 2, "stored reads and their 304s are not logged");
    send(&p, &request(Method::Get, "/projects/12345/"));
    assert_eq!(request_lines(&p), 3, "a 404 is logged");
}

#[test]
fn at_log_level_warn_writes_are_not_logged_and_errors_still_are() {
    let config = Config::from_vars(
        |name| (name == "LOG_LEVEL").then(|| "warn".into()),
        |name| (name == "VOTER_SECRET").then(|| "test voter secret".into()),
    );
    let p = TestPlatform::with_config(config);
    propose(&p, json!({"project_name": "Quiet", "tagline": "t"}));
    assert!(!p.log_text().contains(r#""event":"request""#), "no request line:\n{}", p.log_text());
    run(crowdfund_core::publish::consume(&p, &[json!({"nonsense": true})]));
    assert!(p.log_text().contains("message_unreadable"), "errors are still logged");
}

#[test]
fn unknown_pages_are_the_404_page_and_deployment_pages_come_from_the_code() {
    let p = TestPlatform::default();
    let missing = send(&p, &request(Method::Get, "/no/such/page"));
    assert_eq!((missing.status, missing.header("cache-control")), (404, Some("no-store")));
    assert!(missing.text().contains("<html"));
    let style = send(&p, &request(Method::Get, "/static/style.css"));
    assert_eq!((style.status, style.header(serve::SOURCE_HEADER)), (200, Some("deployment")));
    assert_eq!(style.header("cache-control"), Some("public, max-age=3600"));
    let gone = send(&p, &request(Method::Get, "/projects/12345/"));
    assert_eq!(gone.status, 404);
}

#[test]
fn a_lost_message_is_re_driven_by_the_cron_and_published() {
    let p = TestPlatform::default();
    let id = propose(&p, json!({"project_name": "Lost", "tagline": "t"}));
    p.queue.take(); // the message is lost
    run(cron::run(&p));
    assert!(p.queue.sent.borrow().is_empty(), "too young to re-drive");
    p.advance(31_000);
    run(cron::run(&p));
    drain(&p);
    assert!(p.pages.body(&format!("projects/{id}/index.html")).is_some());
    assert_eq!(common::outbox_rows(&p), 0);
}

#[test]
fn a_failed_queue_send_loses_nothing() {
    let p = TestPlatform::default();
    p.queue.failing.set(true);
    let answer = common::post(&p, "/api/v1/projects", json!({"project_name": "Unsent", "tagline": "t"}));
    assert_eq!(answer.status, 201, "the write is committed and acknowledged");
    assert!(p.log_text().contains("queue_send_failed"));
    assert_eq!(common::outbox_rows(&p), 1);
}

#[test]
fn the_admin_rebuild_renders_every_page_in_steps_and_reports_progress() {
    let p = TestPlatform::default();
    for i in 0..3 {
        propose(&p, json!({"project_name": format!("R{i}"), "tagline": "t", "tags": ["x"]}));
    }
    drain(&p);
    // Hidden behind the publisher's back: only the rebuild takes its page down.
    p.db.execute("UPDATE projects SET hidden = 1 WHERE project_id = 2");
    assert!(p.pages.body("projects/2/index.html").is_some());
    let start = send(
        &p,
        &request(Method::Post, "/api/v1/admin/rebuilds").with_header("authorization", "Bearer test-admin-token"),
    );
    assert_eq!(start.status, 202);
    let status_url = start.json()["status_url"].as_str().expect("status_url").to_owned();
    let messages = common::drain_now(&p);
    assert_eq!(messages.len(), 1, "a small site's steps (projects, tags, site) fit one message's budget");
    let progress = send(&p, &request(Method::Get, &status_url).with_header("authorization", "Bearer test-admin-token"));
    assert_eq!((progress.json()["done"].as_bool(), progress.json()["phase"].as_str()), (Some(true), Some("done")));
    assert_eq!(
        (progress.json()["projects_total"].as_i64(), progress.json()["projects_done"].as_i64()),
        (Some(3), Some(3))
    );
    for key in ["projects/3/index.html", "tags/x/index.html", "index.html", "feed.xml", "sitemaps/1.xml"] {
        assert!(p.pages.body(key).is_some(), "{key}");
    }
    assert!(p.pages.body("static/style.css").is_none(), "deployment pages are not stored");
    assert!(p.pages.body("projects/2/index.html").is_none(), "a hidden project's page is deleted");
}

fn admin(req: crowdfund_core::http::Request) -> crowdfund_core::http::Request {
    req.with_header("authorization", "Bearer test-admin-token")
}

/// Proposes `n` projects, publishes them, then starts a rebuild; returns its status URL.
fn rebuild_of_published_projects(p: &TestPlatform, name: &str, n: usize) -> String {
    for i in 0..n {
        propose(p, json!({"project_name": format!("{name} {i}"), "tagline": "t"}));
    }
    drain(p);
    let start = send(p, &admin(request(Method::Post, "/api/v1/admin/rebuilds")));
    start.json()["status_url"].as_str().expect("status_url").to_owned()
}

#[test]
fn a_big_rebuild_chains_messages_within_the_subrequest_budget_and_counts_every_project() {
    let p = TestPlatform::default();
    let status_url = rebuild_of_published_projects(&p, "Big", 350);
    let status = || send(&p, &admin(request(Method::Get, &status_url))).json();
    assert_eq!((status()["projects_total"].as_i64(), status()["projects_done"].as_i64()), (Some(350), Some(0)));
    let mut messages = 0;
    while let Some(body) = p.queue.take().into_iter().next() {
        messages += 1;
        let before = status()["projects_done"].as_i64().unwrap();
        assert_eq!(run(crowdfund_core::publish::consume(&p, &[body])), vec![Delivery::Ack]);
        assert!(status()["projects_done"].as_i64().unwrap() > before || status()["done"] == json!(true));
    }
    // 100 projects are about 210 subrequests (their data is one read, each page two writes):
    // three steps a message, so the fourth step starts the second.
    assert_eq!(messages, 2);
    assert_eq!((status()["projects_done"].as_i64(), status()["done"].as_bool()), (Some(350), Some(true)));
    for id in [1, 100, 101, 300, 301, 350] {
        assert!(p.pages.body(&format!("projects/{id}/index.html")).is_some(), "project {id}");
    }
}

#[test]
fn a_step_failing_after_others_of_its_message_is_retried_alone_and_nothing_is_counted_twice() {
    let p = TestPlatform::default();
    let status_url = rebuild_of_published_projects(&p, "Flaky", 350);
    let status = || send(&p, &admin(request(Method::Get, &status_url))).json();
    // The first step (about 206 writes) succeeds, the second fails partway.
    p.pages.fail_puts_after.set(Some(p.pages.puts.get() + 300));
    let first = p.queue.take();
    assert_eq!(run(crowdfund_core::publish::consume(&p, &first)), vec![Delivery::Ack]);
    assert_eq!(status()["projects_done"].as_i64(), Some(100), "the step that succeeded is counted once");
    assert!(p.log_text().contains("sent on as its own message"));
    // The failed step's own message fails while the store does, and is the queue's to retry.
    let again = p.queue.take();
    assert_eq!(again.len(), 1);
    assert_eq!(run(crowdfund_core::publish::consume(&p, &again)), vec![Delivery::Retry]);
    p.pages.fail_puts_after.set(None);
    p.queue.sent.borrow_mut().extend(again);
    drain(&p);
    assert_eq!((status()["projects_done"].as_i64(), status()["done"].as_bool()), (Some(350), Some(true)));
    assert!(p.pages.body("projects/350/index.html").is_some());
}
