//! Health tells the truth: `degraded`, with the reason, while an outbox row waits longer than
//! the cron's re-drive threshold allows or the queue has given up on a message; `ok` again once
//! the pipeline caught up.

mod common;

use crowdfund_core::testing::{run, TestPlatform};
use crowdfund_core::{cron, dead_letters, health};
use serde_json::{json, Value};

use common::{drain, drain_now, propose_named};

fn report(p: &TestPlatform) -> Value {
    run(health::report(p)).expect("health")
}

#[test]
fn a_fresh_site_is_ok_with_no_runs_yet() {
    let h = report(&TestPlatform::default());
    assert_eq!((h["status"].as_str(), h["reasons"].as_array().map(Vec::len)), (Some("ok"), Some(0)));
    assert_eq!((h["outbox_backlog"].as_i64(), h["dead_letters"].as_i64()), (Some(0), Some(0)));
    assert_eq!((h["last_publish_ms"].clone(), h["last_cron_ms"].clone()), (Value::Null, Value::Null));
}

#[test]
fn an_outbox_row_nothing_re_drives_degrades_health_until_it_is_published() {
    let p = TestPlatform::default();
    propose_named(&p, "Stuck");
    p.queue.take(); // the message is lost, and no cron runs
    p.advance(p.config.stuck_after_ms - 1);
    assert_eq!(report(&p)["status"], "ok", "within the allowed lag");
    p.advance(2);
    let h = report(&p);
    assert_eq!(h["status"], "degraded");
    assert!(h["reasons"][0].as_str().is_some_and(|r| r.contains("is the cron running")), "{h}");
    run(cron::run(&p));
    drain_now(&p);
    let h = report(&p);
    assert_eq!((h["status"].as_str(), h["outbox_backlog"].as_i64()), (Some("ok"), Some(0)));
    assert_eq!(h["last_publish_ms"].as_u64(), Some(p.clock.get()));
    assert_eq!(h["last_cron_ms"].as_u64(), Some(p.clock.get()));
}

#[test]
fn dead_letters_degrade_health_and_resolve_once_their_change_is_published() {
    let p = TestPlatform::default();
    propose_named(&p, "Dead");
    let message = p.queue.take().remove(0);
    run(dead_letters::store(&p, &[("m1".into(), message.clone()), ("m1".into(), message)])).expect("stored");
    let h = report(&p);
    assert_eq!((h["status"].as_str(), h["dead_letters"].as_i64()), (Some("degraded"), Some(1)));
    assert!(h["reasons"][0].as_str().is_some_and(|r| r.contains("dead-letter")), "{h}");
    // The cron re-drives the outbox row; once it is published, the dead letter is resolved.
    p.advance(p.config.redrive_after_ms + 1);
    run(cron::run(&p));
    assert_eq!(report(&p)["dead_letters"], 1, "not yet published");
    drain(&p);
    run(cron::run(&p));
    assert_eq!((report(&p)["status"].as_str(), report(&p)["dead_letters"].as_i64()), (Some("ok"), Some(0)));
}

#[test]
fn operators_list_and_clear_dead_letters_with_the_admin_token() {
    let p = TestPlatform::default();
    run(dead_letters::store(&p, &[("poison".into(), json!({"nonsense": true}))])).expect("stored");
    let admin = |req: crowdfund_core::http::Request| req.with_header("authorization", "Bearer test-admin-token");
    let path = "/api/v1/admin/dead-letters";
    use crowdfund_core::http::Method;
    assert_eq!(common::send(&p, &common::request(Method::Get, path)).status, 401);
    let list = common::send(&p, &admin(common::request(Method::Get, path)));
    assert_eq!(list.json()["dead_letters"][0]["body"], json!({"nonsense": true}));
    // A poison message has no outbox row: only an operator resolves it.
    run(cron::run(&p));
    assert_eq!(report(&p)["dead_letters"], 1);
    let cleared = common::send(&p, &admin(common::request(Method::Delete, path)));
    assert_eq!(cleared.json(), json!({"cleared": 1}));
    assert_eq!(report(&p)["status"], "ok");
}
