//! The benchmark's same-work reference (`bench/reference/index.js`, a plain JS Worker) issues the
//! statements a proposal and a vote issue here, so `write_bench` compares like with like: this
//! test runs both use cases on SQLite, records every statement, and requires each one's SQL in
//! the reference, in the same order.

mod common;

use std::cell::RefCell;

use common::AUTHOR;
use crowdfund_core::platform::Platform;
use crowdfund_core::projects;
use crowdfund_core::rules::input::ProposeRequest;
use crowdfund_core::rules::votes::Direction;
use crowdfund_core::sql::{Database, DbError, Statement};
use crowdfund_core::testing::{run, TestPlatform};
use crowdfund_core::threads;

/// A database that records the SQL of every statement it runs, round trip by round trip.
struct Recording<'a, D> {
    inner: &'a D,
    round_trips: RefCell<Vec<Vec<String>>>,
}

impl<D: Database> Database for Recording<'_, D> {
    type Rows = D::Rows;

    async fn query(&self, statement: Statement) -> Result<D::Rows, DbError> {
        self.round_trips.borrow_mut().push(vec![statement.sql.to_string()]);
        self.inner.query(statement).await
    }

    async fn batch(&self, statements: Vec<Statement>) -> Result<Vec<D::Rows>, DbError> {
        self.round_trips.borrow_mut().push(statements.iter().map(|s| s.sql.to_string()).collect());
        self.inner.batch(statements).await
    }
}

fn reference() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/reference/index.js");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Asserts that every statement appears in the reference, each after the one before (a
/// statement repeated for each tag or thread is written once, in a loop).
fn assert_in_order(what: &str, round_trips: &[Vec<String>], reference: &str) {
    let mut from = 0;
    let mut previous: Option<&String> = None;
    for sql in round_trips.iter().flatten() {
        if previous.replace(sql) == Some(sql) {
            continue;
        }
        match reference[from..].find(sql.as_str()) {
            Some(at) => from += at + sql.len(),
            None => panic!("{what}: bench/reference/index.js lacks (after byte {from}) the statement\n{sql}"),
        }
    }
}

#[test]
fn the_reference_worker_issues_a_proposals_and_a_votes_statements() {
    let p = TestPlatform::default();
    let db = Recording { inner: &p.db, round_trips: RefCell::new(Vec::new()) };
    let proposal = ProposeRequest {
        project_name: "Reference".into(),
        tagline: "the same work".into(),
        tags: vec!["load".into()],
        problems: vec!["p".into()],
        solutions: vec!["s".into()],
    }
    .validate()
    .expect("valid");
    let written = run(projects::propose(&db, &proposal, AUTHOR, None, p.random_id(), &p.now())).expect("proposed");
    let proposed = db.round_trips.take();
    // One batch: project, a tag, a problem, a solution, the search index, the outbox, the id.
    assert_eq!(proposed.iter().map(Vec::len).collect::<Vec<_>>(), [7]);

    let project_id = written.body["project_id"].as_i64().expect("id");
    let thread_id: i64 = p.db.select::<serde_json::Value>(&format!(
        "SELECT thread_id FROM threads WHERE project_id = {project_id} ORDER BY thread_id LIMIT 1"
    ))[0]["thread_id"]
        .as_i64()
        .expect("thread");
    run(threads::vote(&db, thread_id, "voter", Direction::Up, p.random_id(), &p.now())).expect("voted");
    let voted = db.round_trips.take();
    // The lookup of the thread's project, then one batch of four.
    assert_eq!(voted.iter().map(Vec::len).collect::<Vec<_>>(), [1, 4]);

    let reference = reference();
    let propose_at = reference.find("async function propose").expect("a propose function");
    let vote_at = reference.find("async function vote").expect("a vote function");
    let (propose_src, vote_src) = if propose_at < vote_at {
        (&reference[propose_at..vote_at], &reference[vote_at..])
    } else {
        (&reference[propose_at..], &reference[vote_at..propose_at])
    };
    assert_in_order("propose", &proposed, propose_src);
    assert_in_order("vote", &voted, vote_src);
}
