//! The request Worker's share of the routes (`routes::handle_front`): the JSON API and stored
//! pages are answered as `routes::handle` answers them; whatever renders HTML is handed on to
//! the publisher (`None`), before anything is counted or written.

mod common;

use crowdfund_core::http::{Method, Request, Response};
use crowdfund_core::routes;
use crowdfund_core::serve;
use crowdfund_core::testing::{run, TestPlatform};
use serde_json::json;

use common::{drain, json_request, outbox_rows, propose, request, send, SITE};

fn front(p: &TestPlatform, req: &Request) -> Option<Response> {
    run(routes::handle_front(p, req))
}

#[test]
fn the_json_api_is_answered_as_the_full_router_answers_it() {
    let (full, lean) = (TestPlatform::default(), TestPlatform::default());
    for req in [
        json_request(Method::Post, "/api/v1/projects", &json!({"project_name": "Front", "tagline": "t"})),
        json_request(Method::Post, "/api/v1/projects", &json!({"project_name": ""})),
        json_request(Method::Post, "/projects/propose", &json!({"project_name": "Spec", "tagline": "t"})),
        request(Method::Get, "/api/v1/projects/1/threads"),
        request(Method::Get, "/api/v1/search?q=front"),
        request(Method::Delete, "/api/v1/projects"),
        request(Method::Options, "/api/v1/projects").with_header("origin", SITE),
        request(Method::Get, "/favicon.ico"),
        // The spec's curl: JSON sent with curl's default form content type.
        request(Method::Post, "/projects/propose")
            .with_header("content-type", "application/x-www-form-urlencoded")
            .with_body(r#"{"project_name": "Curl", "tagline": "t"}"#),
    ] {
        let (a, b) = (send(&full, &req), front(&lean, &req).expect("answered by the request Worker"));
        assert_eq!((a.status, a.json()), (b.status, b.json()), "{} {}", req.method.as_str(), req.path);
    }
}

#[test]
fn stored_pages_are_answered_and_pages_to_render_are_handed_on() {
    let p = TestPlatform::default();
    let id = propose(&p, json!({"project_name": "Stored", "tagline": "t"}));
    let page = format!("/projects/{id}/");
    assert!(front(&p, &request(Method::Get, &page)).is_none(), "not stored yet: the publisher renders it");
    drain(&p);
    let stored = front(&p, &request(Method::Get, &page)).expect("stored");
    assert_eq!(stored, send(&p, &request(Method::Get, &page)), "the same answer as the full router's");
    assert_eq!(stored.header(serve::SOURCE_HEADER), Some("stored"));
    let head = front(&p, &request(Method::Head, &page)).expect("stored");
    assert_eq!((head.status, head.body.len()), (200, 0));
    for path in [
        format!("{page}?published=pending"),
        "/static/style.css".into(),
        "/robots.txt".into(),
        "/no/such/page".into(),
        "/me".into(),
        "/search?q=stored".into(),
        format!("/projects/{id}/threads/1/reply"),
    ] {
        assert!(front(&p, &request(Method::Get, &path)).is_none(), "{path} is rendered by the publisher");
    }
}

#[test]
fn an_html_form_is_handed_on_before_it_is_counted_or_written() {
    let p = TestPlatform::default();
    let form = request(Method::Post, "/projects/propose")
        .with_header("content-type", "application/x-www-form-urlencoded")
        .with_header("origin", SITE)
        .with_body("project_name=Form&tagline=t");
    let before = (outbox_rows(&p), p.limits.uses.borrow().values().sum::<usize>());
    assert!(front(&p, &form).is_none());
    assert_eq!(
        (outbox_rows(&p), p.limits.uses.borrow().values().sum::<usize>()),
        before,
        "nothing written, no limit spent"
    );
}
