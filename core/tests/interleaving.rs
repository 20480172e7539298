//! Rules that must hold under concurrency, tested by interleaving: a use case is held between
//! its round trips (`Paused`) while another request runs to its end, as D1 allows (each batch
//! is atomic; between two batches of one request, anything may commit).

mod common;

use common::AUTHOR;

use std::pin::pin;

use crowdfund_core::platform::Platform;
use crowdfund_core::projects;
use crowdfund_core::rules::input::{ProposeRequest, TagEdit};
use crowdfund_core::rules::votes::Direction;
use crowdfund_core::testing::{poll_once, run, Paused, TestPlatform};
use crowdfund_core::threads;
use serde::Deserialize;
use serde_json::json;

fn tags_of(p: &TestPlatform, id: i64) -> Vec<String> {
    #[derive(Deserialize)]
    struct Row {
        tag: String,
    }
    p.db.select::<Row>(&format!("SELECT tag FROM tags WHERE project_id = {id} ORDER BY tag"))
        .into_iter()
        .map(|r| r.tag)
        .collect()
}

fn add(tag: &str) -> TagEdit {
    TagEdit { add: vec![tag.into()], remove: vec![] }
}

#[test]
fn two_adds_that_each_read_nine_tags_cannot_make_eleven() {
    let p = TestPlatform::default();
    let tags: Vec<String> = (0..9).map(|i| format!("t{i}")).collect();
    let id = common::propose(&p, json!({"project_name": "Nine", "tagline": "t", "tags": tags}));
    // A reads nine tags, then waits before its batch.
    let gate = Paused::new(&p.db, 1);
    let now = p.now();
    let edit_a = add("from-a");
    let mut a = pin!(projects::update_tags(&gate, id, &edit_a, AUTHOR, p.random_id(), &now));
    assert!(poll_once(a.as_mut()).is_none(), "A waits after its read");
    // B adds the tenth meanwhile.
    run(projects::update_tags(&p.db, id, &add("from-b"), AUTHOR, p.random_id(), &p.now())).expect("B fits");
    // A's batch, checked against the stale read, is refused by the database: nothing changes.
    gate.allow(1);
    let outcome = poll_once(a.as_mut()).expect("A finished");
    let e = outcome.expect_err("A is over the limit");
    assert_eq!((e.status(), e.field()), (409, Some("add")));
    let tags = tags_of(&p, id);
    assert_eq!(tags.len(), 10);
    assert!(tags.contains(&"from-b".to_owned()) && !tags.contains(&"from-a".to_owned()));
}

#[test]
fn an_add_racing_the_same_add_is_not_refused() {
    let p = TestPlatform::default();
    let tags: Vec<String> = (0..9).map(|i| format!("t{i}")).collect();
    let id = common::propose(&p, json!({"project_name": "Same", "tagline": "t", "tags": tags}));
    let gate = Paused::new(&p.db, 1);
    let now = p.now();
    let edit = add("same");
    let mut a = pin!(projects::update_tags(&gate, id, &edit, AUTHOR, p.random_id(), &now));
    assert!(poll_once(a.as_mut()).is_none());
    run(projects::update_tags(&p.db, id, &add("same"), AUTHOR, p.random_id(), &p.now())).expect("B");
    gate.allow(1);
    let answer = poll_once(a.as_mut()).expect("finished").expect("the tag is there: no limit was passed");
    assert_eq!(answer.body["tags"].as_array().map(Vec::len), Some(10));
}

#[test]
fn a_removal_racing_an_add_answers_the_tags_the_batch_left() {
    let p = TestPlatform::default();
    let id = common::propose(&p, json!({"project_name": "Answer", "tagline": "t", "tags": ["a", "b"]}));
    let gate = Paused::new(&p.db, 1);
    let now = p.now();
    let edit = add("c");
    let mut a = pin!(projects::update_tags(&gate, id, &edit, AUTHOR, p.random_id(), &now));
    assert!(poll_once(a.as_mut()).is_none());
    let remove_b = TagEdit { add: vec![], remove: vec!["b".into()] };
    run(projects::update_tags(&p.db, id, &remove_b, &common::proposer(&p), p.random_id(), &p.now())).expect("B");
    gate.allow(1);
    let answer = poll_once(a.as_mut()).expect("finished").expect("ok");
    assert_eq!(answer.body["tags"], json!(["a", "c"]), "not the stale [a, b, c]");
}

#[test]
fn votes_interleaved_with_other_votes_keep_totals_equal_to_the_votes() {
    let p = TestPlatform::default();
    let id = common::propose_named(&p, "Race");
    let thread = common::thread_ids(&p, id)[0];
    // A looks the thread up, then waits; B and C vote meanwhile; then A votes.
    let gate = Paused::new(&p.db, 1);
    let now = p.now();
    let mut a = pin!(threads::vote(&gate, thread, "alice", Direction::Up, p.random_id(), &now));
    assert!(poll_once(a.as_mut()).is_none());
    run(threads::vote(&p.db, thread, "bob", Direction::Up, p.random_id(), &p.now())).expect("bob");
    run(threads::vote(&p.db, thread, "alice", Direction::Down, p.random_id(), &p.now())).expect("alice first");
    gate.allow(1);
    let answer = poll_once(a.as_mut()).expect("finished").expect("voted");
    // Alice switched back to up: bob up + alice up.
    assert_eq!((answer.body["up_vote"].as_i64(), answer.body["down_vote"].as_i64()), (Some(2), Some(0)));
    assert_eq!(answer.body["changed"], true);
}

#[test]
fn concurrent_retries_with_one_idempotency_key_get_one_project_and_one_answer() {
    let p = TestPlatform::default();
    let proposal = ProposeRequest {
        project_name: "Retry".into(),
        tagline: "t".into(),
        tags: vec![],
        problems: vec![],
        solutions: vec![],
    }
    .validate()
    .expect("valid");
    // Both look the key up and find nothing; A waits, B commits; then A's batch fails on the
    // name B took, and A answers B's stored answer instead of a 409.
    let gate = Paused::new(&p.db, 1);
    let now = p.now();
    let mut a = pin!(projects::propose(&gate, &proposal, AUTHOR, Some("k"), p.random_id(), &now));
    assert!(poll_once(a.as_mut()).is_none());
    let b = run(projects::propose(&p.db, &proposal, AUTHOR, Some("k"), p.random_id(), &p.now())).expect("B");
    gate.allow(2);
    let a = poll_once(a.as_mut()).expect("finished").expect("the stored answer, not a 409");
    assert_eq!((a.status, &a.body), (201, &b.body));
    assert!(a.message.is_none(), "nothing new to publish");
    let without_key = run(projects::propose(&p.db, &proposal, AUTHOR, None, p.random_id(), &p.now())).unwrap_err();
    assert_eq!(without_key.status(), 409);
}
