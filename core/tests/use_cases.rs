//! The use cases' SQL, run natively on SQLite with the real migrations: what each write stores,
//! what it answers, and which outbox row it leaves.

mod common;

use common::AUTHOR;

use crowdfund_core::error::ApiError;
use crowdfund_core::outbox;
use crowdfund_core::platform::Platform;
use crowdfund_core::projects;
use crowdfund_core::rules::input::{ProposeRequest, TagEdit, ThreadWrite};
use crowdfund_core::rules::votes::Direction;
use crowdfund_core::testing::{run, Sqlite, TestPlatform};
use crowdfund_core::threads;
use generator::gather::ReadModel;
use generator::model::ThreadType;
use generator::paths::Change;
use serde::Deserialize;
use serde_json::json;

use common::outbox_rows;

fn proposal(name: &str, tags: &[&str]) -> crowdfund_core::rules::input::Proposal {
    ProposeRequest {
        project_name: name.into(),
        tagline: "a tagline".into(),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        problems: vec!["short temper".into(), "self centered".into()],
        solutions: vec!["play the drums".into()],
    }
    .validate()
    .expect("valid")
}

fn propose(p: &TestPlatform, name: &str, tags: &[&str]) -> i64 {
    let w =
        run(projects::propose(&p.db, &proposal(name, tags), AUTHOR, None, p.random_id(), &p.now())).expect("proposed");
    w.body["project_id"].as_i64().expect("id")
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
struct OutboxRow {
    outbox_id: String,
    change: String,
    created_ms: i64,
}

fn outbox(db: &Sqlite) -> Vec<OutboxRow> {
    db.select("SELECT outbox_id, change, created_ms FROM outbox ORDER BY created_ms, outbox_id")
}

#[test]
fn a_proposal_is_one_batch_of_project_tags_threads_and_its_outbox_row() {
    let p = TestPlatform::default();
    let w = run(projects::propose(
        &p.db,
        &proposal("Popee the Performer", &["Clown", "circus"]),
        AUTHOR,
        None,
        "ob1".into(),
        &p.now(),
    ))
    .expect("proposed");
    assert_eq!((w.status, w.round_trips), (201, 1));
    let id = w.body["project_id"].as_i64().expect("id");
    assert_eq!(
        w.message.as_ref().map(|m| &m.change),
        Some(&Change::Proposed { project_id: id, tags: vec!["circus".into(), "clown".into()] })
    );
    assert!(w.rows_written >= 7, "project, 2 tags, 3 threads, outbox: {}", w.rows_written);
    let project = run(crowdfund_core::read_model::SqlReadModel(&p.db).project(id)).expect("read").expect("found");
    assert_eq!(project.tags, vec!["circus", "clown"]);
    let types: Vec<ThreadType> = project.threads.iter().map(|t| t.thread_type).collect();
    assert_eq!(types, vec![ThreadType::Problem, ThreadType::Problem, ThreadType::Solution]);
    assert_eq!(project.created_at, "2026-01-01T00:00:00Z");
    // The outbox row the batch wrote is the change the message carries.
    let rows = outbox(&p.db);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].outbox_id, "ob1");
    let change: Change = serde_json::from_str(&rows[0].change).expect("a change");
    assert_eq!(change, Change::Proposed { project_id: id, tags: vec!["circus".into(), "clown".into()] });
}

#[test]
fn names_are_unique_whatever_the_case_and_a_refused_proposal_writes_nothing() {
    let p = TestPlatform::default();
    propose(&p, "Solar Roofs", &["solar"]);
    let e = run(projects::propose(&p.db, &proposal("solar ROOFS", &["x"]), AUTHOR, None, p.random_id(), &p.now()))
        .unwrap_err();
    assert_eq!((e.status(), e.field()), (409, Some("project_name")));
    assert_eq!(run(crowdfund_core::read_model::SqlReadModel(&p.db).stats()).expect("stats").total, 1);
    assert_eq!(outbox_rows(&p), 1, "only the first proposal's row");
    #[derive(Deserialize)]
    struct N {
        n: i64,
    }
    assert_eq!(p.db.select::<N>("SELECT count(*) AS n FROM tags WHERE tag = 'x'")[0].n, 0);
}

#[test]
fn an_idempotency_key_replays_the_first_answer() {
    let p = TestPlatform::default();
    let first = run(projects::propose(&p.db, &proposal("Kiosk", &[]), AUTHOR, Some("key-1"), p.random_id(), &p.now()))
        .expect("ok");
    assert!(first.message.is_some());
    // The same key with another body: the first answer, nothing written, nothing to send.
    let again = run(projects::propose(&p.db, &proposal("Other", &[]), AUTHOR, Some("key-1"), p.random_id(), &p.now()))
        .expect("ok");
    assert_eq!((again.status, &again.body, again.message.is_none()), (201, &first.body, true));
    assert_eq!(again.rows_written, 0);
    assert_eq!(run(crowdfund_core::read_model::SqlReadModel(&p.db).stats()).expect("stats").total, 1);
}

#[test]
fn tag_edits_add_remove_and_answer_the_tags_left() {
    let p = TestPlatform::default();
    let id = propose(&p, "Tags", &["a", "b"]);
    let edit = TagEdit { add: vec!["c".into(), "a".into()], remove: vec!["b".into(), "zzz".into()] };
    let w = run(projects::update_tags(&p.db, id, &edit, AUTHOR, p.random_id(), &p.now())).expect("edited");
    assert_eq!(w.body, json!({"project_id": id, "tags": ["a", "c"]}));
    assert_eq!(
        w.message.map(|m| m.change),
        Some(Change::TagsChanged { project_id: id, added: vec!["c".into()], removed: vec!["b".into()] })
    );
    // Nothing to do: no write, no outbox row.
    let before = outbox_rows(&p);
    let noop = TagEdit { add: vec!["a".into()], remove: vec!["b".into()] };
    let w = run(projects::update_tags(&p.db, id, &noop, AUTHOR, p.random_id(), &p.now())).expect("no-op");
    assert_eq!((w.round_trips, w.message.is_none()), (1, true));
    assert_eq!(outbox_rows(&p), before);
}

#[test]
fn tag_edits_of_a_missing_project_are_404() {
    let p = TestPlatform::default();
    let edit = TagEdit { add: vec!["a".into()], remove: vec![] };
    let e = run(projects::update_tags(&p.db, 99, &edit, AUTHOR, p.random_id(), &p.now())).unwrap_err();
    assert_eq!((e.status(), e.field()), (404, Some("project_id")));
}

#[test]
fn the_tag_limit_refuses_an_eleventh_tag_and_writes_nothing() {
    let p = TestPlatform::default();
    let tags: Vec<String> = (0..10).map(|i| format!("t{i}")).collect();
    let refs: Vec<&str> = tags.iter().map(String::as_str).collect();
    let id = propose(&p, "Ten", &refs);
    let rows = outbox_rows(&p);
    let edit = TagEdit { add: vec!["eleven".into()], remove: vec![] };
    let e = run(projects::update_tags(&p.db, id, &edit, AUTHOR, p.random_id(), &p.now())).unwrap_err();
    assert_eq!((e.status(), e.field()), (409, Some("add")));
    assert_eq!(outbox_rows(&p), rows);
    // Swapping one tag for another stays within the limit: removals go first.
    let swap = TagEdit { add: vec!["eleven".into()], remove: vec!["t0".into()] };
    let w = run(projects::update_tags(&p.db, id, &swap, AUTHOR, p.random_id(), &p.now())).expect("swapped");
    assert_eq!(w.body["tags"].as_array().map(Vec::len), Some(10));
}

#[test]
fn the_database_itself_refuses_an_eleventh_tag() {
    let p = TestPlatform::default();
    let id = propose(&p, "Trigger", &[]);
    let values: Vec<String> = (0..10).map(|i| format!("({id}, 't{i}')")).collect();
    p.db.execute(&format!("INSERT INTO tags (project_id, tag) VALUES {}", values.join(", ")));
    // Re-adding a tag the project has is not a new row: allowed (and ignored).
    p.db.execute(&format!("INSERT OR IGNORE INTO tags (project_id, tag) VALUES ({id}, 't3')"));
    let e = run(crowdfund_core::sql::Database::batch(
        &p.db,
        vec![crowdfund_core::sql::Statement::new(
            "INSERT INTO tags (project_id, tag) VALUES (?1, 'eleven')",
            crowdfund_core::params![id],
        )],
    ))
    .unwrap_err();
    assert!(projects::is_tag_limit(&e), "{e}");
}

fn add(thread_type: ThreadType, parent_id: Option<i64>, message: &str) -> ThreadWrite {
    ThreadWrite::Add { parent_id, thread_type, message: message.into() }
}

#[test]
fn threads_are_added_replied_to_and_edited_in_one_batch() {
    let p = TestPlatform::default();
    let id = propose(&p, "Threads", &[]);
    let first = common::thread_ids(&p, id)[0];
    let writes = vec![
        add(ThreadType::Comment, None, "a comment"),
        add(ThreadType::Comment, Some(first), "a reply"),
        ThreadWrite::Edit { thread_id: first, message: "edited".into() },
    ];
    let w = run(threads::update_threads(&p.db, id, &writes, AUTHOR, p.random_id(), &p.now())).expect("written");
    assert_eq!((w.status, w.round_trips), (201, 3));
    let written = w.body["threads"].as_array().expect("threads");
    assert_eq!(written.len(), 3);
    assert_eq!(written[1]["parent_id"], first);
    assert_eq!(written[2]["message"], "edited");
    assert_eq!(w.message.map(|m| m.change), Some(Change::ThreadsChanged { project_id: id }));
    // An edit alone answers 200.
    let edit = vec![ThreadWrite::Edit { thread_id: first, message: "again".into() }];
    assert_eq!(
        run(threads::update_threads(&p.db, id, &edit, AUTHOR, p.random_id(), &p.now())).expect("ok").status,
        200
    );
}

#[test]
fn thread_writes_naming_threads_of_another_project_write_nothing() {
    let p = TestPlatform::default();
    let a = propose(&p, "A", &[]);
    let b = propose(&p, "B", &[]);
    let foreign = common::thread_ids(&p, b)[0];
    let before = common::thread_ids(&p, a);
    let writes = vec![add(ThreadType::Comment, None, "fine"), add(ThreadType::Comment, Some(foreign), "not here")];
    let e = run(threads::update_threads(&p.db, a, &writes, AUTHOR, p.random_id(), &p.now())).unwrap_err();
    assert_eq!((e.status(), e.field()), (404, Some("threads[1].parent_id")));
    let edit = vec![ThreadWrite::Edit { thread_id: foreign, message: "vandal".into() }];
    let e = run(threads::update_threads(&p.db, a, &edit, AUTHOR, p.random_id(), &p.now())).unwrap_err();
    assert_eq!(e.field(), Some("threads[0].thread_id"));
    assert_eq!(common::thread_ids(&p, a), before, "all or nothing");
    let e = run(threads::update_threads(&p.db, 999, &writes[..1], AUTHOR, p.random_id(), &p.now())).unwrap_err();
    assert_eq!((e.status(), e.field()), (404, Some("project_id")));
}

#[derive(Deserialize)]
struct Totals {
    up_vote: i64,
    down_vote: i64,
}

fn totals(db: &Sqlite, thread_id: i64) -> (i64, i64) {
    let t = &db.select::<Totals>(&format!("SELECT up_vote, down_vote FROM threads WHERE thread_id = {thread_id}"))[0];
    (t.up_vote, t.down_vote)
}

fn vote(p: &TestPlatform, thread: i64, voter: &str, direction: Direction) -> crowdfund_core::write::Written {
    run(threads::vote(&p.db, thread, voter, direction, p.random_id(), &p.now())).expect("voted")
}

#[test]
fn a_vote_counts_once_a_repeat_is_a_no_op_and_a_switch_moves_one_count() {
    let p = TestPlatform::default();
    let id = propose(&p, "Votes", &[]);
    let thread = common::thread_ids(&p, id)[0];
    let rows = outbox_rows(&p);
    let first = vote(&p, thread, "alice", Direction::Up);
    assert_eq!((first.body["changed"].as_bool(), first.body["up_vote"].as_i64()), (Some(true), Some(1)));
    assert_eq!(first.message.map(|m| m.change), Some(Change::Voted { project_id: id }));
    assert_eq!(outbox_rows(&p), rows + 1);
    let repeat = vote(&p, thread, "alice", Direction::Up);
    assert_eq!((repeat.body["changed"].as_bool(), repeat.message.is_none()), (Some(false), true));
    assert_eq!(outbox_rows(&p), rows + 1, "a repeat leaves no outbox row (changes() guard)");
    let switch = vote(&p, thread, "alice", Direction::Down);
    assert_eq!((switch.body["up_vote"].as_i64(), switch.body["down_vote"].as_i64()), (Some(0), Some(1)));
    vote(&p, thread, "bob", Direction::Down);
    assert_eq!(totals(&p.db, thread), (0, 2));
}

#[test]
fn votes_move_imported_totals_by_deltas() {
    let p = TestPlatform::default();
    let id = propose(&p, "Imported", &[]);
    let thread = common::thread_ids(&p, id)[0];
    p.db.execute(&format!("UPDATE threads SET up_vote = 500, down_vote = 40 WHERE thread_id = {thread}"));
    vote(&p, thread, "carol", Direction::Up);
    vote(&p, thread, "carol", Direction::Down);
    assert_eq!(totals(&p.db, thread), (500, 41));
}

#[test]
fn any_sequence_of_votes_leaves_totals_equal_to_the_last_vote_of_each_voter() {
    let p = TestPlatform::default();
    let id = propose(&p, "Sequence", &[]);
    let thread = common::thread_ids(&p, id)[0];
    let voters = ["v0", "v1", "v2", "v3"];
    let mut seed = 99_u32;
    for _ in 0..200 {
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
        let voter = voters[(seed >> 16) as usize % voters.len()];
        let direction = if (seed >> 8) & 1 == 0 { Direction::Up } else { Direction::Down };
        vote(&p, thread, voter, direction);
    }
    #[derive(Deserialize)]
    struct Count {
        up: i64,
        down: i64,
    }
    let stored = &p.db.select::<Count>(&format!(
        "SELECT sum(direction = 1) AS up, sum(direction = -1) AS down FROM votes WHERE thread_id = {thread}"
    ))[0];
    assert_eq!(totals(&p.db, thread), (stored.up, stored.down));
}

#[test]
fn a_vote_on_a_missing_thread_is_404() {
    let p = TestPlatform::default();
    let e = run(threads::vote(&p.db, 42, "alice", Direction::Up, p.random_id(), &p.now())).unwrap_err();
    assert_eq!(e, ApiError::NotFound { what: "thread 42".into(), field: Some("thread_id".into()) });
}

#[test]
fn thread_listings_page_newest_first_by_cursor() {
    let p = TestPlatform::default();
    let id = propose(&p, "Listing", &[]);
    let writes: Vec<ThreadWrite> = (0..5).map(|i| add(ThreadType::Comment, None, &format!("c{i}"))).collect();
    run(threads::update_threads(&p.db, id, &writes, AUTHOR, p.random_id(), &p.now())).expect("written");
    let all = common::thread_ids(&p, id);
    let page = run(threads::list(&p.db, id, 4, None)).expect("listed");
    let ids: Vec<i64> =
        page["threads"].as_array().expect("threads").iter().filter_map(|t| t["thread_id"].as_i64()).collect();
    assert_eq!(ids, all.iter().rev().take(4).copied().collect::<Vec<_>>());
    let cursor = page["next_cursor"].as_i64();
    assert_eq!(cursor, ids.last().copied());
    let rest = run(threads::list(&p.db, id, 4, cursor)).expect("listed");
    assert_eq!(rest["threads"].as_array().map(Vec::len), Some(all.len() - 4));
    assert_eq!(rest["next_cursor"], json!(null));
    assert_eq!(run(threads::list(&p.db, 77, 4, None)).unwrap_err().field(), Some("project_id"));
}

#[test]
fn the_cron_re_sends_old_outbox_rows_and_only_those() {
    let p = TestPlatform::default();
    propose(&p, "Old", &[]);
    p.advance(60_000);
    propose(&p, "New", &[]);
    p.queue.take();
    let sent = run(outbox::redrive(&p, p.now().ms, 30_000)).expect("redrive");
    assert_eq!(sent, 1);
    let messages = p.queue.take();
    assert_eq!(messages[0]["change"]["change"], "proposed");
    assert_eq!(messages[0]["change"]["project_id"], 1);
    let health = run(crowdfund_core::health::report(&p)).expect("health");
    assert_eq!((health["outbox_backlog"].as_i64(), health["outbox_oldest_age_ms"].as_i64()), (Some(2), Some(60_000)));
}

#[test]
fn clearing_the_outbox_deletes_exactly_the_rows_named() {
    let p = TestPlatform::default();
    propose(&p, "One", &[]);
    propose(&p, "Two", &[]);
    let rows = outbox(&p.db);
    run(crowdfund_core::sql::Database::query(&p.db, outbox::clear(&[rows[0].outbox_id.clone()]))).expect("cleared");
    assert_eq!(outbox(&p.db), rows[1..].to_vec());
}
