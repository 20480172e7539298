//! The write API end to end, one operation at a time, against the real Worker: ProposeProject
//! on both paths, GetProjects and GetProjectDetail (the published pages), UpdateTags on all
//! three paths, GetProjectThreads paging, UpdateThreads (adds, replies, edits, all or nothing),
//! Idempotency-Key on proposals (sequential and concurrent retries), and the D1 figures each
//! write reports in its `x-d1` header.

use std::collections::BTreeSet;

use crowdfund_e2e::{Answer, Client, Server, FRESHNESS_DEADLINE};
use reqwest::Method;
use serde_json::{json, Value};

/// The D1 figures a write reports: `x-d1: round_trips=N; rows_written=M`.
fn d1(answer: &Answer) -> (u64, u64) {
    let header = answer.header("x-d1").unwrap_or_else(|| panic!("no x-d1 header on {}", answer.text()));
    let figure = |name: &str| -> u64 {
        header
            .split(';')
            .find_map(|part| part.trim().strip_prefix(name)?.strip_prefix('=')?.parse().ok())
            .unwrap_or_else(|| panic!("x-d1 `{header}` lacks {name}"))
    };
    (figure("round_trips"), figure("rows_written"))
}

/// The `projects` count `/api/v1/health` reports.
async fn project_count(client: &Client) -> anyhow::Result<i64> {
    let health = client.get("/api/v1/health").await?;
    assert_eq!(health.status, 200, "{}", health.text());
    Ok(health.json()["projects"].as_i64().expect("projects count"))
}

/// Every thread of a project, newest first, in one page.
async fn all_threads(client: &Client, project_id: i64) -> anyhow::Result<Vec<Value>> {
    let answer = client.get(&format!("/api/v1/projects/{project_id}/threads?limit=100")).await?;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.json()["next_cursor"], Value::Null);
    Ok(answer.json()["threads"].as_array().expect("threads").clone())
}

fn ids(threads: &[Value]) -> Vec<i64> {
    threads.iter().map(|t| t["thread_id"].as_i64().expect("thread_id")).collect()
}

#[tokio::test]
async fn proposals_become_the_listing_and_detail_pages() -> anyhow::Result<()> {
    let server = Server::start()?;
    let client = server.client();
    assert_eq!(project_count(&client).await?, 0);

    // The spec's path and body.
    let spec = json!({"project_name": "Popee the Performer", "tagline": "an apprentice clown in Wolf Circus",
        "problems": ["short temper", "self centered"], "solutions": ["play the drums"], "tags": ["clown", "circus"]});
    let first = client.post("/projects/propose", &spec).await?;
    assert_eq!(first.status, 201, "{}", first.text());
    let first_id = first.json()["project_id"].as_i64().expect("project_id");
    let token =
        first.json()["visitor_token"].as_str().map(str::to_owned).expect("a new proposer is issued an identity");
    assert_eq!(first.json(), json!({ "project_id": first_id, "visitor_token": token }));
    assert!(first.header("content-type").unwrap_or_default().starts_with("application/json"));
    assert_eq!(first.header("cache-control").as_deref(), Some("no-store"));
    let (round_trips, rows) = d1(&first);
    assert_eq!(round_trips, 1, "a proposal is one D1 batch");
    assert!(rows >= 7, "project, 2 tags, 3 threads and the outbox row: {rows}");

    // The versioned path, with a charset parameter and text that needs normalising (trimmed,
    // composed to NFC by the runtime's normalize in the Worker, tags lower-cased and joined).
    let versioned = client
        .send(
            client
                .request(Method::POST, "/api/v1/projects")
                .header("content-type", "application/json; charset=utf-8")
                .body(
                    json!({"project_name": "  Solar Roofs  ", "tagline": " panels for every e\u{301}cole ",
                "tags": ["Solar Power", "solar  power", "GRID", "Cafe\u{301}"], "problems": ["dark classrooms"]})
                    .to_string(),
                ),
        )
        .await?;
    assert_eq!(versioned.status, 201, "{}", versioned.text());
    let second_id = versioned.json()["project_id"].as_i64().expect("project_id");
    assert!(second_id > first_id, "ids grow: {first_id} then {second_id}");
    assert_eq!(project_count(&client).await?, 2);

    // GetProjectDetail: the published JSON page, on both of its paths.
    let detail_path = format!("/projects/{second_id}");
    let (detail, took) = client.eventually(&detail_path, FRESHNESS_DEADLINE, Answer::is_stored).await?;
    println!("detail published after {took:?}");
    let project = detail.json();
    assert_eq!(project["project_id"], second_id);
    assert_eq!(project["project_name"], "Solar Roofs");
    assert_eq!(project["tagline"], "panels for every \u{e9}cole");
    assert_eq!(project["tags"], json!(["caf\u{e9}", "grid", "solar-power"]));
    let threads = project["threads"].as_array().expect("threads");
    assert_eq!(threads.len(), 1);
    assert_eq!(threads[0]["thread_type"], "PROBLEM");
    assert_eq!(threads[0]["message"], "dark classrooms");
    assert_eq!(threads[0]["parent_id"], Value::Null);
    assert_eq!((threads[0]["up_vote"].as_i64(), threads[0]["down_vote"].as_i64()), (Some(0), Some(0)));
    let twin = client.get(&format!("/api/v1/projects/{second_id}.json")).await?;
    assert_eq!(twin.status, 200);
    assert_eq!(twin.json(), project, "/projects/{{id}} aliases the versioned JSON twin");
    let (first_detail, _) =
        client.eventually(&format!("/projects/{first_id}"), FRESHNESS_DEADLINE, Answer::is_stored).await?;
    let first_project = first_detail.json();
    let types: Vec<&str> = first_project["threads"]
        .as_array()
        .expect("threads")
        .iter()
        .filter_map(|t| t["thread_type"].as_str())
        .collect();
    assert_eq!(types, vec!["PROBLEM", "PROBLEM", "SOLUTION"]);

    // GetProjects: the published listing holds both, newest first, without threads.
    let both = |a: &Answer| a.is_stored() && a.json()["projects"].as_array().is_some_and(|p| p.len() == 2);
    let (listing, _) = client.eventually("/projects", FRESHNESS_DEADLINE, both).await?;
    let listing = listing.json();
    assert_eq!(listing["total"], 2);
    let projects = listing["projects"].as_array().expect("projects");
    let listed: Vec<i64> = projects.iter().filter_map(|p| p["project_id"].as_i64()).collect();
    assert_eq!(listed, vec![second_id, first_id]);
    assert_eq!(projects[0]["tags"], json!(["caf\u{e9}", "grid", "solar-power"]));
    assert!(projects.iter().all(|p| p.get("threads").is_none()), "a listing carries no threads");
    let versioned_listing = client.get("/api/v1/projects.json").await?;
    assert_eq!(versioned_listing.json(), listing, "/projects aliases /api/v1/projects.json");

    // Unknown projects are the generated 404 page.
    for path in ["/projects/987654", "/api/v1/projects/987654.json"] {
        let missing = client.get(path).await?;
        assert_eq!(missing.status, 404, "{path}");
        assert_eq!(missing.header("cache-control").as_deref(), Some("no-store"), "{path}");
    }
    Ok(())
}

#[tokio::test]
async fn tag_edits_are_atomic_on_every_path() -> anyhow::Result<()> {
    let server = Server::start()?;
    let client = server.client();
    let id = client
        .propose(&json!({"project_name": "Community Garden", "tagline": "vegetables for the block",
        "tags": ["garden", "food"]}))
        .await?;
    let tags_of = |a: &Answer| a.json()["tags"].clone();

    // The spec's path: project_id in the body, add and remove in one edit.
    let spec = client
        .json(Method::PUT, "/projects/tags", &json!({"project_id": id, "add": ["Compost"], "remove": ["food"]}))
        .await?;
    assert_eq!(spec.status, 200, "{}", spec.text());
    assert_eq!(spec.json(), json!({"project_id": id, "tags": ["compost", "garden"]}));
    assert_eq!(d1(&spec).0, 2, "read the tags, then one batch");

    // The versioned path with PUT and with PATCH.
    let put =
        client.json(Method::PUT, &format!("/api/v1/projects/{id}/tags"), &json!({"add": ["water", "bees"]})).await?;
    assert_eq!(put.status, 200, "{}", put.text());
    assert_eq!(tags_of(&put), json!(["bees", "compost", "garden", "water"]));
    let patch = client
        .json(Method::PATCH, &format!("/api/v1/projects/{id}/tags"), &json!({"remove": ["bees", "not-there"]}))
        .await?;
    assert_eq!(patch.status, 200, "{}", patch.text());
    assert_eq!(tags_of(&patch), json!(["compost", "garden", "water"]));
    // The body may repeat the path's project id.
    let same = client
        .json(Method::PATCH, &format!("/api/v1/projects/{id}/tags"), &json!({"project_id": id, "add": ["soil"]}))
        .await?;
    assert_eq!(tags_of(&same), json!(["compost", "garden", "soil", "water"]));

    // An edit that changes nothing writes nothing.
    let noop = client
        .json(Method::PATCH, &format!("/api/v1/projects/{id}/tags"), &json!({"add": ["garden"], "remove": ["absent"]}))
        .await?;
    assert_eq!(noop.status, 200, "{}", noop.text());
    assert_eq!(tags_of(&noop), json!(["compost", "garden", "soil", "water"]));
    assert_eq!(d1(&noop), (1, 0), "a no-op edit is one read and no write");

    // All or nothing: an edit that would leave 11 tags is refused whole, even the part that fit.
    let too_many: Vec<String> = (1..=8).map(|i| format!("extra{i}")).collect();
    let refused = client
        .json(Method::PUT, &format!("/api/v1/projects/{id}/tags"), &json!({"add": too_many, "remove": ["soil"]}))
        .await?;
    assert_eq!(refused.status, 409, "{}", refused.text());
    assert_eq!(refused.json()["error"]["field"], "add");
    let unchanged =
        client.json(Method::PATCH, &format!("/api/v1/projects/{id}/tags"), &json!({"add": ["garden"]})).await?;
    assert_eq!(tags_of(&unchanged), json!(["compost", "garden", "soil", "water"]));

    // The detail page, the listing and the tag pages converge to the edit.
    let want = json!(["compost", "garden", "soil", "water"]);
    let converged = |a: &Answer| a.is_stored() && a.json()["tags"] == want;
    let (_, took) = client.eventually(&format!("/projects/{id}"), FRESHNESS_DEADLINE, converged).await?;
    println!("tag edit visible on the detail page after {took:?}");
    let listed = |a: &Answer| a.is_stored() && a.json()["projects"][0]["tags"] == want;
    client.eventually("/projects", FRESHNESS_DEADLINE, listed).await?;
    let holds = |a: &Answer| {
        a.is_stored() && a.json()["projects"].as_array().is_some_and(|p| p.iter().any(|p| p["project_id"] == id))
    };
    client.eventually("/api/v1/tags/compost.json", FRESHNESS_DEADLINE, holds).await?;
    let dropped = |a: &Answer| a.status == 404 || (a.is_stored() && a.json()["total"] == 0);
    client.eventually("/api/v1/tags/food.json", FRESHNESS_DEADLINE, dropped).await?;
    Ok(())
}

#[tokio::test]
async fn threads_are_added_edited_and_paged() -> anyhow::Result<()> {
    let server = Server::start()?;
    let client = server.client();
    let id = client
        .propose(&json!({"project_name": "Library Bus", "tagline": "books on wheels",
            "problems": ["no library nearby", "buses are old"], "solutions": ["a mobile library"]}))
        .await?;
    let other = client
        .propose(&json!({"project_name": "Other Project", "tagline": "elsewhere", "problems": ["its own problem"]}))
        .await?;
    let initial = all_threads(&client, id).await?;
    assert_eq!(initial.len(), 3);
    let initial_ids = ids(&initial);
    assert!(initial_ids.windows(2).all(|w| w[0] > w[1]), "newest first: {initial_ids:?}");
    let (solution, problem) = (initial[0].clone(), initial[2].clone());
    assert_eq!(
        (solution["thread_type"].as_str(), problem["thread_type"].as_str()),
        (Some("SOLUTION"), Some("PROBLEM"))
    );
    let other_thread = all_threads(&client, other).await?[0]["thread_id"].as_i64().expect("id");

    // One call: a thread of each type, a reply, and an edit.
    let path = format!("/api/v1/projects/{id}/threads");
    let batch = json!({"threads": [
        {"message": "a plain comment"},
        {"thread_type": "PROBLEM", "message": "fuel costs"},
        {"thread_type": "SOLUTION", "message": "an electric bus", "project_id": id},
        {"thread_type": "COMMENT", "message": "*who* drives it?"},
        {"parent_id": problem["thread_id"], "message": "a reply to the first problem"},
        {"thread_id": solution["thread_id"], "message": "a mobile library, twice a week"},
    ]});
    let written = client.post(&path, &batch).await?;
    assert_eq!(written.status, 201, "{}", written.text());
    let (round_trips, rows) = d1(&written);
    assert_eq!(round_trips, 3, "project check, referenced threads check, one batch");
    assert!(rows >= 7, "five inserts, one update, the outbox row: {rows}");
    let answered = written.json()["threads"].as_array().expect("threads").clone();
    assert_eq!(answered.len(), 6);
    let types: Vec<&str> = answered.iter().filter_map(|t| t["thread_type"].as_str()).collect();
    assert_eq!(types, vec!["COMMENT", "PROBLEM", "SOLUTION", "COMMENT", "COMMENT", "SOLUTION"]);
    assert!(answered.iter().all(|t| t["project_id"] == id));
    assert_eq!(answered[3]["message"], "*who* drives it?", "Markdown is stored as written");
    assert_eq!(answered[4]["parent_id"], problem["thread_id"]);
    assert_eq!(answered[5]["thread_id"], solution["thread_id"], "an edit keeps the thread's id");
    assert_eq!(answered[5]["message"], "a mobile library, twice a week");
    assert_eq!(answered[5]["created_at"], solution["created_at"], "an edit keeps created_at");
    let reply_id = answered[4]["thread_id"].as_i64().expect("id");

    // Edits only answer 200; a reply to a reply is fine.
    let edit_only =
        client.post(&path, &json!({"threads": [{"thread_id": reply_id, "message": "a reply, edited"}]})).await?;
    assert_eq!(edit_only.status, 200, "{}", edit_only.text());
    assert_eq!(d1(&edit_only).0, 3);
    let nested =
        client.post(&path, &json!({"threads": [{"parent_id": reply_id, "message": "a reply to a reply"}]})).await?;
    assert_eq!(nested.status, 201, "{}", nested.text());
    let plain = client.post(&path, &json!({"threads": [{"message": "no references"}]})).await?;
    assert_eq!(d1(&plain).0, 2, "no referenced threads: project check and the batch");

    // All or nothing: one bad entry (unknown parent, unknown or foreign thread, bad type)
    // and nothing of the call is written.
    let before = all_threads(&client, id).await?;
    let bad_batches = [
        (json!([{"message": "must not land"}, {"parent_id": 987_654, "message": "x"}]), 404, "threads[1].parent_id"),
        (
            json!([{"thread_id": initial_ids[1], "message": "must not land"}, {"thread_id": 987_654, "message": "x"}]),
            404,
            "threads[1].thread_id",
        ),
        (
            json!([{"message": "must not land"}, {"parent_id": other_thread, "message": "x"}]),
            404,
            "threads[1].parent_id",
        ),
        (json!([{"thread_id": other_thread, "message": "hijack"}]), 404, "threads[0].thread_id"),
        (json!([{"message": "must not land"}, {"thread_type": "RANT", "message": "x"}]), 422, "threads[1].thread_type"),
        (json!([{"message": "must not land"}, {"project_id": other, "message": "x"}]), 422, "threads[1].project_id"),
    ];
    for (threads, status, field) in bad_batches {
        let refused = client.post(&path, &json!({ "threads": threads })).await?;
        assert_eq!(refused.status, status, "{threads}: {}", refused.text());
        assert_eq!(refused.json()["error"]["field"], field, "{threads}");
    }
    assert_eq!(all_threads(&client, id).await?, before, "refused batches wrote nothing");
    assert_eq!(all_threads(&client, other).await?.len(), 1, "the other project is untouched");

    // Enough threads for several pages, then page through them.
    let more: Vec<Value> = (0..14).map(|i| json!({"message": format!("comment {i}")})).collect();
    assert_eq!(client.post(&path, &json!({ "threads": more })).await?.status, 201);
    let everything = all_threads(&client, id).await?;
    let total = everything.len();
    assert_eq!(total, 3 + 5 + 2 + 14);
    let everything_ids = ids(&everything);
    assert!(everything_ids.windows(2).all(|w| w[0] > w[1]), "newest first");

    let mut paged = Vec::new();
    let mut cursor: Option<i64> = None;
    let mut pages = 0;
    loop {
        let query = cursor.map_or(String::new(), |c| format!("&cursor={c}"));
        let page = client.get(&format!("{path}?limit=5{query}")).await?;
        assert_eq!(page.status, 200, "{}", page.text());
        let page = page.json();
        assert_eq!(page["project_id"], id);
        let threads = page["threads"].as_array().expect("threads");
        assert!(threads.len() <= 5);
        paged.extend(ids(threads));
        pages += 1;
        match page["next_cursor"].as_i64() {
            Some(next) => {
                assert_eq!(
                    Some(next),
                    threads.last().and_then(|t| t["thread_id"].as_i64()),
                    "the cursor is the last id"
                );
                cursor = Some(next);
            }
            None => break,
        }
        assert!(pages <= total, "paging does not end");
    }
    assert_eq!(paged, everything_ids, "paging covers every thread exactly once, newest first");
    assert_eq!(pages, total.div_ceil(5));
    assert_eq!(paged.iter().collect::<BTreeSet<_>>().len(), total);

    let default = client.get(&path).await?.json();
    assert_eq!(default["threads"].as_array().map(Vec::len), Some(20), "the default limit is 20");
    assert_eq!(default["next_cursor"], everything_ids[19]);
    let one = client.get(&format!("{path}?limit=1")).await?.json();
    assert_eq!(ids(one["threads"].as_array().expect("threads")), vec![everything_ids[0]]);

    // The detail page converges to every thread, the edits included.
    let converged = |a: &Answer| {
        let threads = a.json()["threads"].as_array().cloned().unwrap_or_default();
        a.is_stored()
            && threads.len() == total
            && threads.iter().any(|t| t["message"] == "a mobile library, twice a week")
            && threads.iter().any(|t| t["message"] == "a reply, edited" && t["parent_id"] == problem["thread_id"])
    };
    let (_, took) = client.eventually(&format!("/projects/{id}"), FRESHNESS_DEADLINE, converged).await?;
    println!("threads visible on the detail page after {took:?}");
    Ok(())
}

#[tokio::test]
async fn idempotent_proposals_are_created_once() -> anyhow::Result<()> {
    let server = Server::start()?;
    let client = server.client();
    let propose = |key: &str, body: &Value, path: &str| {
        client.send(client.request(Method::POST, path).header("idempotency-key", key).json(body))
    };
    let body = json!({"project_name": "Retry Safe", "tagline": "sent twice, made once", "tags": ["net"], "problems": ["flaky links"]});

    // Sequential retries, on both paths (one key space): same status and body, nothing new.
    let first = propose("key-1", &body, "/api/v1/projects").await?;
    assert_eq!(first.status, 201, "{}", first.text());
    assert!(d1(&first).1 > 0);
    for path in ["/api/v1/projects", "/projects/propose", "/api/v1/projects"] {
        let retry = propose("key-1", &body, path).await?;
        // The same answer; the client now sends the identity it was issued, so none is issued again.
        assert_eq!(
            (retry.status, retry.json()),
            (first.status, json!({"project_id": first.json()["project_id"]})),
            "{path}"
        );
        assert_eq!(d1(&retry), (1, 0), "a replay is one read and writes nothing");
    }
    // The key alone decides (as documented): another body under the same key gets the first answer.
    let other_body = json!({"project_name": "Not Created", "tagline": "same key, other body"});
    let reused = propose("key-1", &other_body, "/api/v1/projects").await?;
    assert_eq!(
        (reused.status, reused.json()["project_id"].clone()),
        (first.status, first.json()["project_id"].clone())
    );
    assert_eq!(project_count(&client).await?, 1);
    let id = first.json()["project_id"].as_i64().expect("id");
    assert_eq!(all_threads(&client, id).await?.len(), 1, "the retries added no threads");

    // The same body without a key (or with another key) is a new request: a duplicate name.
    assert_eq!(client.post("/api/v1/projects", &body).await?.status, 409);
    let other_key = propose("key-2", &body, "/api/v1/projects").await?;
    assert_eq!(other_key.status, 409, "{}", other_key.text());
    // A refused request stores no answer: its retry is judged again (and refused again).
    let again = propose("key-2", &body, "/api/v1/projects").await?;
    assert_eq!((again.status, again.json()), (other_key.status, other_key.json()));
    assert_eq!(project_count(&client).await?, 1);

    // Concurrent retries with one key: one project, every answer the same 201.
    let concurrent = json!({"project_name": "Raced Retry", "tagline": "twelve at once", "problems": ["a", "b"]});
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..12 {
        let (client, concurrent) = (client.clone(), concurrent.clone());
        set.spawn(async move {
            let req =
                client.request(Method::POST, "/api/v1/projects").header("idempotency-key", "raced").json(&concurrent);
            client.send(req).await
        });
    }
    let mut answers = Vec::new();
    while let Some(answer) = set.join_next().await {
        answers.push(answer??);
    }
    let winner = answers[0].json();
    for a in &answers {
        assert_eq!((a.status, a.json()), (201, winner.clone()), "every retry answers the first answer");
    }
    assert_eq!(project_count(&client).await?, 2);
    let raced_id = winner["project_id"].as_i64().expect("id");
    assert_eq!(all_threads(&client, raced_id).await?.len(), 2, "threads written once");

    // Concurrent proposals of one name without a key: exactly one wins, the rest are 409s.
    let mut set = tokio::task::JoinSet::new();
    for i in 0..8 {
        let client = client.clone();
        let name = if i % 2 == 0 { "Same Name" } else { "SAME name" };
        set.spawn(
            async move { client.post("/projects/propose", &json!({"project_name": name, "tagline": "t"})).await },
        );
    }
    let mut statuses = Vec::new();
    while let Some(answer) = set.join_next().await {
        statuses.push(answer??.status);
    }
    statuses.sort_unstable();
    assert_eq!(statuses, vec![201, 409, 409, 409, 409, 409, 409, 409]);
    assert_eq!(project_count(&client).await?, 3);

    // The listing shows each project once.
    let three = |a: &Answer| a.is_stored() && a.json()["total"] == 3;
    let (listing, _) = client.eventually("/projects", FRESHNESS_DEADLINE, three).await?;
    let names: Vec<String> = listing.json()["projects"]
        .as_array()
        .expect("projects")
        .iter()
        .filter_map(|p| p["project_name"].as_str().map(str::to_lowercase))
        .collect();
    assert_eq!(names.iter().collect::<BTreeSet<_>>().len(), 3, "{names:?}");
    Ok(())
}

#[tokio::test]
async fn writes_report_their_d1_round_trips_and_rows() -> anyhow::Result<()> {
    let server = Server::start()?;
    let client = server.client();
    let mut table: Vec<(String, u64, u64)> = Vec::new();
    let mut record = |what: &str, answer: &Answer, status: u16| {
        assert_eq!(answer.status, status, "{what}: {}", answer.text());
        let (round_trips, rows) = d1(answer);
        table.push((what.to_owned(), round_trips, rows));
        (round_trips, rows)
    };

    let minimal = client.post("/api/v1/projects", &json!({"project_name": "Bare", "tagline": "nothing else"})).await?;
    let (rt, rows) = record("ProposeProject (no tags, no threads)", &minimal, 201);
    assert_eq!(rt, 1);
    assert!(rows >= 2, "project and outbox row");
    let spec = json!({"project_name": "Popee the Performer", "tagline": "an apprentice clown in Wolf Circus",
        "problems": ["short temper", "self centered"], "solutions": ["play the drums"], "tags": ["clown", "circus"]});
    let full = client.post("/projects/propose", &spec).await?;
    let (_, full_rows) = record("ProposeProject (spec example: 2 tags, 3 threads)", &full, 201);
    assert!(full_rows > rows);
    let id = full.json()["project_id"].as_i64().expect("id");
    let keyed = json!({"project_name": "Keyed", "tagline": "with a key", "tags": ["a"], "problems": ["p"]});
    let req = || client.request(Method::POST, "/api/v1/projects").header("idempotency-key", "figures").json(&keyed);
    let (rt, _) = record("ProposeProject with Idempotency-Key (1 tag, 1 thread)", &client.send(req()).await?, 201);
    assert_eq!(rt, 2, "the key lookup, then the batch");
    assert_eq!(record("ProposeProject replayed by Idempotency-Key", &client.send(req()).await?, 201), (1, 0));

    let tags = format!("/api/v1/projects/{id}/tags");
    let (rt, rows) =
        record("UpdateTags (add 1)", &client.json(Method::PATCH, &tags, &json!({"add": ["drums"]})).await?, 200);
    assert_eq!(rt, 2);
    assert!(rows >= 2, "the tag and the outbox row");
    record(
        "UpdateTags (add 1, remove 1)",
        &client.json(Method::PUT, &tags, &json!({"add": ["wolf"], "remove": ["drums"]})).await?,
        200,
    );
    let noop = client.json(Method::PATCH, &tags, &json!({"add": ["wolf"]})).await?;
    assert_eq!(record("UpdateTags (no change)", &noop, 200), (1, 0));

    let threads = format!("/api/v1/projects/{id}/threads");
    let added = client.post(&threads, &json!({"threads": [{"message": "a comment"}]})).await?;
    assert_eq!(record("UpdateThreads (add 1 thread)", &added, 201).0, 2);
    let comment = added.json()["threads"][0]["thread_id"].as_i64().expect("id");
    let five: Vec<Value> = (0..5).map(|i| json!({"message": format!("c{i}")})).collect();
    record("UpdateThreads (add 5 threads)", &client.post(&threads, &json!({ "threads": five })).await?, 201);
    let reply = json!({"threads": [{"parent_id": comment, "message": "a reply"}]});
    assert_eq!(record("UpdateThreads (add 1 reply)", &client.post(&threads, &reply).await?, 201).0, 3);
    let edit = json!({"threads": [{"thread_id": comment, "message": "edited"}]});
    assert_eq!(record("UpdateThreads (edit 1)", &client.post(&threads, &edit).await?, 200).0, 3);

    let voter = server.client();
    voter.become_voter().await?;
    let vote_path = format!("/api/v1/threads/{comment}/vote");
    let (up, down) = (json!({"direction": "up"}), json!({"direction": "down"}));
    let (rt, first_rows) = record("Vote (first vote)", &voter.post(&vote_path, &up).await?, 200);
    assert_eq!(rt, 2);
    let (_, repeat_rows) = record("Vote (repeat: no-op)", &voter.post(&vote_path, &up).await?, 200);
    assert!(repeat_rows < first_rows, "a repeat writes less than a vote: {repeat_rows} vs {first_rows}");
    record("Vote (switch)", &voter.post(&vote_path, &down).await?, 200);

    let voters = client.post("/api/v1/voters", &Value::Null).await?;
    assert_eq!(voters.status, 201);
    assert_eq!(voters.header("x-d1"), None, "issuing a voter touches no D1");
    table.push(("new voter (POST /api/v1/voters)".into(), 0, 0));

    println!("| operation | D1 round trips | rows written |");
    println!("|---|---|---|");
    for (what, round_trips, rows) in &table {
        println!("| {what} | {round_trips} | {rows} |");
    }
    Ok(())
}
