//! Helpers of the native tests: a fresh platform, requests through the real router, and the
//! publisher run over what the queue holds.

#![allow(dead_code)]

use crowdfund_core::http::{Method, Request, Response};
use crowdfund_core::platform::Platform;
use crowdfund_core::publish::{self, Delivery};
use crowdfund_core::routes;
use crowdfund_core::rules::identity;
use crowdfund_core::testing::{run, TestPlatform};
use serde_json::{json, Value};

/// An author key for use cases called directly (what `identity::author_of` makes).
pub const AUTHOR: &str = "0123456789abcdef0123456789abcdef";

/// The origin the test platform's site answers at.
pub const SITE: &str = "http://127.0.0.1:8787";

/// A request to the test site.
pub fn request(method: Method, path: &str) -> Request {
    Request::new(method, &format!("{SITE}{path}"))
}

/// A JSON request (as an API client sends it: no Origin).
pub fn json_request(method: Method, path: &str, body: &Value) -> Request {
    request(method, path).with_header("content-type", "application/json").with_body(body.to_string())
}

/// Handles a request through the router.
pub fn send(p: &TestPlatform, req: &Request) -> Response {
    run(routes::handle(p, req))
}

/// POSTs JSON.
pub fn post(p: &TestPlatform, path: &str, body: Value) -> Response {
    send(p, &json_request(Method::Post, path, &body))
}

/// The visitor id of [`proposer_token`].
const PROPOSER: &str = "proposer0001";

/// The bearer token of the visitor [`propose`] proposes as.
pub fn proposer_token(p: &TestPlatform) -> String {
    identity::sign(&p.config().voter_secret, PROPOSER)
}

/// The author key of that visitor (what the use cases take as `author`).
pub fn proposer(p: &TestPlatform) -> String {
    identity::author_of(&p.config().voter_secret, PROPOSER)
}

/// Proposes a project through the API, as [`proposer`], and returns its id.
pub fn propose(p: &TestPlatform, body: Value) -> i64 {
    let req = json_request(Method::Post, "/api/v1/projects", &body)
        .with_header("authorization", &format!("Bearer {}", proposer_token(p)));
    let answer = send(p, &req);
    assert_eq!(answer.status, 201, "{}", answer.text());
    answer.json()["project_id"].as_i64().expect("project_id")
}

/// Proposes a project with just a name and one problem.
pub fn propose_named(p: &TestPlatform, name: &str) -> i64 {
    propose(p, json!({"project_name": name, "tagline": "t", "problems": ["a problem"]}))
}

/// A voter token for a bearer header.
pub fn voter(p: &TestPlatform) -> String {
    let answer = post(p, "/api/v1/voters", Value::Null);
    assert_eq!(answer.status, 201, "{}", answer.text());
    answer.json()["voter_token"].as_str().expect("voter_token").to_owned()
}

/// Runs the publisher over what the queue holds now and the messages that sends (rebuild
/// steps), not the delayed ones; returns the deliveries of each batch.
pub fn drain_now(p: &TestPlatform) -> Vec<Vec<Delivery>> {
    let mut batches = Vec::new();
    loop {
        let messages = p.queue.take();
        if messages.is_empty() {
            return batches;
        }
        batches.push(run(publish::consume(p, &messages)));
    }
}

/// Runs the publisher over everything the queue holds (and the steps it sends), as the
/// queue consumer would, until the queue is empty; delayed messages (the purger's wake-ups)
/// are delivered when due, the clock moved on to then. Returns the deliveries of each batch.
pub fn drain(p: &TestPlatform) -> Vec<Vec<Delivery>> {
    let mut batches = Vec::new();
    loop {
        let messages = p.queue.take();
        if !messages.is_empty() {
            batches.push(run(publish::consume(p, &messages)));
            continue;
        }
        let delayed = std::mem::take(&mut *p.queue.delayed.borrow_mut());
        let Some(wait) = delayed.iter().map(|(_, d)| *d).max() else { return batches };
        p.advance(u64::from(wait) * 1000);
        p.queue.sent.borrow_mut().extend(delayed.into_iter().map(|(m, _)| m));
    }
}

/// The ids of a project's threads, oldest first.
pub fn thread_ids(p: &TestPlatform, project_id: i64) -> Vec<i64> {
    #[derive(serde::Deserialize)]
    struct Row {
        thread_id: i64,
    }
    p.db.select::<Row>(&format!("SELECT thread_id FROM threads WHERE project_id = {project_id} ORDER BY thread_id"))
        .into_iter()
        .map(|r| r.thread_id)
        .collect()
}

/// How many outbox rows wait.
pub fn outbox_rows(p: &TestPlatform) -> i64 {
    #[derive(serde::Deserialize)]
    struct N {
        n: i64,
    }
    p.db.select::<N>("SELECT count(*) AS n FROM outbox")[0].n
}
