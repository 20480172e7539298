//! Publishing purges the edge exactly: the tags of the pages a change stored, once at once and
//! once more to settle; within the budget, coalesced when it is scarce, coarser when exact
//! purges would not fit, everything when waiting would last too long; never dropped when the
//! edge fails.

mod common;

use crowdfund_core::platform::PurgeError;
use crowdfund_core::purge::plan::Call;
use crowdfund_core::testing::{run, TestPlatform};
use crowdfund_core::{cron, health};
use generator::paths::{cache_tags, pages_touched, Change, PageKey};
use serde::Deserialize;
use serde_json::json;

use common::{drain, drain_now, propose, propose_named};

#[derive(Debug, Deserialize, PartialEq)]
struct Owed {
    tag: String,
    settle: i64,
}

fn owed(p: &TestPlatform) -> Vec<Owed> {
    p.db.select("SELECT tag, settle FROM purges ORDER BY tag")
}

fn scarce() -> TestPlatform {
    let mut p = TestPlatform::default();
    p.config.purge_budget.burst = 1.0;
    p.config.purge_budget.per_minute = 1.0;
    p
}

#[test]
fn a_publish_purges_exactly_the_tags_of_the_pages_it_stored_then_settles_them() {
    let p = TestPlatform::default();
    let id = propose(&p, json!({"project_name": "Purged", "tagline": "t", "tags": ["solar"]}));
    drain_now(&p);
    // Exactly the cache tags of the pages pages_touched names (tag pages resolved).
    let mut expected: Vec<String> = pages_touched(&Change::Proposed { project_id: id, tags: vec!["solar".into()] })
        .iter()
        .flat_map(|t| match t {
            generator::paths::Target::Page(key) => vec![key.clone()],
            generator::paths::Target::TagTail { tag, .. } => {
                vec![
                    PageKey::TagIndex { tag: tag.clone() },
                    PageKey::TagPage { tag: tag.clone(), page: 1 },
                    PageKey::TagPage { tag: tag.clone(), page: 2 },
                ]
            }
        })
        .flat_map(|k| cache_tags(&k))
        .collect();
    expected.sort();
    let mut purged = p.edge.tags();
    purged.sort();
    assert_eq!(purged, expected);
    assert_eq!(p.edge.calls.borrow().len(), 1, "one call for the whole batch");
    // Every tag waits to settle, and a wake-up is scheduled for then.
    assert!(owed(&p).iter().all(|o| o.settle == 1));
    let delays: Vec<u32> = p.queue.delayed.borrow().iter().map(|(_, d)| *d).collect();
    assert_eq!(delays, vec![2]);
    drain(&p);
    assert_eq!(p.edge.calls.borrow().len(), 2, "the settle purge");
    assert_eq!(owed(&p), vec![], "nothing left owed");
}

#[test]
fn a_failing_edge_loses_no_purge_and_health_says_so_while_it_lasts() {
    let p = TestPlatform::default();
    *p.edge.refuse.borrow_mut() = Some((3, PurgeError::Failed("edge down".into())));
    let id = propose_named(&p, "Refused");
    drain_now(&p);
    assert!(p.edge.calls.borrow().is_empty());
    assert!(owed(&p).iter().any(|o| o.tag == format!("project:{id}") && o.settle == 0), "still owed");
    assert!(p.log_text().contains("purge_failed"));
    p.advance(p.config.stuck_after_ms + 1);
    let h = run(health::report(&p)).expect("health");
    assert_eq!(h["status"], "degraded");
    assert!(h["reasons"].to_string().contains("edge purge"), "{h}");
    // Wake-ups retry until the edge takes them.
    drain(&p);
    run(cron::run(&p));
    drain(&p);
    assert!(p.edge.tags().contains(&format!("project:{id}")));
    assert_eq!(run(health::report(&p)).expect("health")["purges_owed"], 0);
}

#[test]
fn a_rate_limited_edge_empties_the_bucket_and_the_purge_waits_for_a_token() {
    let p = TestPlatform::default();
    *p.edge.refuse.borrow_mut() = Some((1, PurgeError::RateLimited));
    propose_named(&p, "Limited");
    drain_now(&p);
    let delays: Vec<u32> = p.queue.delayed.borrow().iter().map(|(_, d)| *d).collect();
    assert_eq!(delays, vec![2], "retried soon");
    drain(&p);
    assert!(!p.edge.tags().is_empty(), "purged once a token was back");
}

#[test]
fn a_scarce_budget_coalesces_batches_into_one_call() {
    let p = scarce();
    let a = propose_named(&p, "First");
    drain_now(&p);
    assert_eq!(p.edge.calls.borrow().len(), 1, "the one token");
    let b = propose_named(&p, "Second");
    let c = propose_named(&p, "Third");
    drain_now(&p);
    assert_eq!(p.edge.calls.borrow().len(), 1, "no token: they wait");
    let before = p.clock.get();
    drain(&p);
    let waited = p.clock.get() - before;
    assert!(waited <= 125_000, "two tokens' time: {waited} ms");
    let calls = p.edge.calls.borrow();
    assert_eq!(calls.len(), 3, "the first, the coalesced one, the last settle: {calls:?}");
    let Call::Tags(second) = &calls[1] else { panic!("{calls:?}") };
    for id in [b, c] {
        assert!(second.contains(&format!("project:{id}")), "{second:?}");
    }
    assert!(second.contains(&format!("project:{a}")), "the first batch's settle rode along");
}

#[test]
fn more_owed_tags_than_the_tokens_cover_go_in_one_coarse_call() {
    let p = scarce();
    for i in 0..120 {
        propose_named(&p, &format!("Many {i}"));
    }
    // One batch owing over a hundred tags, with one token: the coarse cover.
    let messages = p.queue.take();
    run(crowdfund_core::publish::consume(&p, &messages));
    let calls = p.edge.calls.borrow();
    assert_eq!(calls.len(), 1);
    let Call::Coarse { tags, prefixes } = &calls[0] else { panic!("{calls:?}") };
    assert!(tags.contains(&"front".to_owned()));
    assert!(
        prefixes.contains(&"/projects/".to_owned()) && prefixes.contains(&"/tags/".to_owned()) || !prefixes.is_empty()
    );
    assert!(owed(&p).iter().all(|o| o.settle == 1), "every owed tag covered");
}

#[test]
fn an_owed_purge_that_waited_too_long_purges_everything() {
    let mut p = scarce();
    p.config.purge_budget.per_minute = 0.01; // a token every 100 minutes
    p.config.purge_budget.max_wait_ms = 30_000;
    propose_named(&p, "Uses the token");
    drain_now(&p);
    propose_named(&p, "Waits");
    drain_now(&p);
    assert_eq!(p.edge.calls.borrow().len(), 1);
    p.advance(30_000);
    run(cron::run(&p));
    assert_eq!(p.edge.calls.borrow().last(), Some(&Call::Everything));
    assert_eq!(owed(&p).iter().filter(|o| o.settle == 0).count(), 0);
}

#[test]
fn the_test_hook_fails_the_first_purges_only_with_hooks_on() {
    let mut p = TestPlatform::default();
    p.config.test_purge_failures = 2;
    propose_named(&p, "Hooks off");
    drain_now(&p);
    assert_eq!(p.edge.calls.borrow().len(), 1, "the hook needs TEST_HOOKS");
    p.config.test_hooks = true;
    propose_named(&p, "Hooks on");
    drain_now(&p);
    assert_eq!(p.edge.calls.borrow().len(), 1, "failed by the hook");
    drain(&p);
    assert!(p.edge.tags().contains(&"project:2".to_owned()), "retried until it went through");
}

#[test]
fn pages_carry_the_tags_their_publish_purges() {
    let p = TestPlatform::default();
    let id = propose(&p, json!({"project_name": "Tagged", "tagline": "t", "tags": ["solar"]}));
    drain(&p);
    for (path, key) in [
        (format!("/projects/{id}/"), PageKey::Detail { project_id: id }),
        (format!("/projects/{id}"), PageKey::Detail { project_id: id }),
        ("/".to_owned(), PageKey::Front),
        ("/tags/solar/".to_owned(), PageKey::TagIndex { tag: "solar".into() }),
    ] {
        let answer = p.edge.get(&p, &path);
        assert_eq!(answer.status, 200, "{path}");
        let cached = p.edge.cached.borrow();
        assert_eq!(cached[&path].1, cache_tags(&key), "{path}");
        assert!(answer.header("cache-tag").is_none(), "the edge strips Cache-Tag");
    }
    // A writer's view is never kept; a missing page is kept under the tag that will purge it.
    p.edge.get(&p, &format!("/projects/{id}/?fresh=1"));
    assert!(!p.edge.cached.borrow().contains_key(&format!("/projects/{id}/?fresh=1")));
    let missing = p.edge.get(&p, "/projects/77/");
    assert_eq!(missing.status, 404);
    assert_eq!(p.edge.cached.borrow()["/projects/77/"].1, vec!["project:77"]);
}
