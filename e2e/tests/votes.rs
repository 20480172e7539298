//! Vote end to end: voter identity by cookie or bearer token, one vote per voter per thread
//! (a repeat is a no-op, a switch moves one count), 401 without a valid voter, 429 over the
//! per-voter limit, and exact totals under concurrent votes, in the answers, in
//! GetProjectThreads and in the published page.

use crowdfund_e2e::{Answer, Client, Server, FRESHNESS_DEADLINE};
use serde_json::{json, Value};
use tokio::task::JoinSet;

/// The vote path of a thread.
fn vote_path(thread_id: i64) -> String {
    format!("/api/v1/threads/{thread_id}/vote")
}

/// A thread's `(up_vote, down_vote)` as GetProjectThreads reports them.
async fn counts(client: &Client, project_id: i64, thread_id: i64) -> anyhow::Result<(i64, i64)> {
    let answer = client.get(&format!("/api/v1/projects/{project_id}/threads?limit=100")).await?;
    assert_eq!(answer.status, 200, "{}", answer.text());
    let threads = answer.json()["threads"].as_array().cloned().unwrap_or_default();
    let thread = threads.iter().find(|t| t["thread_id"] == thread_id).expect("the thread is listed");
    Ok((thread["up_vote"].as_i64().expect("up_vote"), thread["down_vote"].as_i64().expect("down_vote")))
}

/// `(changed, up_vote, down_vote)` of a vote answer, after checking its shape.
fn outcome(answer: &Answer, thread_id: i64, project_id: i64, direction: &str) -> (bool, i64, i64) {
    assert_eq!(answer.status, 200, "{}", answer.text());
    let body = answer.json();
    assert_eq!(body["thread_id"], thread_id, "{body}");
    assert_eq!(body["project_id"], project_id, "{body}");
    assert_eq!(body["vote"], direction, "{body}");
    (
        body["changed"].as_bool().expect("changed"),
        body["up_vote"].as_i64().expect("up_vote"),
        body["down_vote"].as_i64().expect("down_vote"),
    )
}

/// The threads of a new project: its one PROBLEM and one SOLUTION.
async fn project_with_two_threads(client: &Client, name: &str) -> anyhow::Result<(i64, i64, i64)> {
    let id = client
        .propose(&json!({"project_name": name, "tagline": "to vote on", "problems": ["a problem"], "solutions": ["a solution"]}))
        .await?;
    let threads = client.get(&format!("/api/v1/projects/{id}/threads")).await?.json()["threads"].clone();
    let id_of = |kind: &str| {
        threads
            .as_array()
            .and_then(|t| t.iter().find(|t| t["thread_type"] == kind))
            .and_then(|t| t["thread_id"].as_i64())
    };
    Ok((id, id_of("PROBLEM").expect("problem"), id_of("SOLUTION").expect("solution")))
}

#[tokio::test]
async fn one_vote_per_voter_by_cookie_or_token() -> anyhow::Result<()> {
    let server = Server::start()?;
    let client = server.client();
    let (project, problem, solution) = project_with_two_threads(&client, "Voting Booth").await?;
    let path = vote_path(problem);
    let up = json!({"direction": "up"});
    let down = json!({"direction": "down"});

    // A forged identity: 401 and nothing counted.
    let token = client.become_voter().await?;
    let (id, signature) = token.split_once('.').expect("id.signature");
    assert!(!id.is_empty() && signature.len() == 64, "{token}");
    let forged =
        [format!("{id}x.{signature}"), format!("{id}.{}", "0".repeat(64)), "not-a-token".into(), String::new()];
    let stranger = server.client();
    for bad in &forged {
        // (An empty bearer is no identity at all: one is issued, as below.)
        if !bad.is_empty() {
            let by_token =
                stranger.send(stranger.request(reqwest::Method::POST, &path).bearer_auth(bad).json(&up)).await?;
            assert_eq!(by_token.status, 401, "bearer {bad:?}: {}", by_token.text());
        }
        let by_cookie = stranger
            .send(stranger.request(reqwest::Method::POST, &path).header("cookie", format!("voter={bad}")).json(&up))
            .await?;
        assert_eq!(by_cookie.status, 401, "cookie {bad:?}: {}", by_cookie.text());
    }
    assert_eq!(counts(&client, project, problem).await?, (0, 0));

    // The cookie from POST /api/v1/voters: a first vote counts, a repeat does not.
    assert_eq!(outcome(&client.post(&path, &up).await?, problem, project, "up"), (true, 1, 0));
    let repeat = client.post(&path, &up).await?;
    assert_eq!(outcome(&repeat, problem, project, "up"), (false, 1, 0));
    assert_eq!(counts(&client, project, problem).await?, (1, 0));
    // A switch moves one count, and back.
    assert_eq!(outcome(&client.post(&path, &down).await?, problem, project, "down"), (true, 0, 1));
    assert_eq!(outcome(&client.post(&path, &down).await?, problem, project, "down"), (false, 0, 1));
    assert_eq!(outcome(&client.post(&path, &up).await?, problem, project, "up"), (true, 1, 0));

    // The same token as a bearer, from a client without the cookie, is the same voter.
    let bearer = server.client();
    let as_bearer = |body: &Value| bearer.request(reqwest::Method::POST, &path).bearer_auth(&token).json(body);
    assert_eq!(outcome(&bearer.send(as_bearer(&up)).await?, problem, project, "up"), (false, 1, 0));
    // A bearer wins over a cookie: another voter's token sent with this client's cookie.
    let other = server.client().become_voter().await?;
    let both = client.request(reqwest::Method::POST, &path).bearer_auth(&other).json(&down);
    assert_eq!(outcome(&client.send(both).await?, problem, project, "down"), (true, 1, 1));

    // Votes are per thread: the solution is untouched, then counted on its own.
    assert_eq!(counts(&client, project, solution).await?, (0, 0));
    assert_eq!(outcome(&client.post(&vote_path(solution), &down).await?, solution, project, "down"), (true, 0, 1));
    assert_eq!(counts(&client, project, problem).await?, (1, 1));

    // No identity at all: one is issued with the vote (like any write), and the vote counts
    // once: the issued token, sent back, is the same voter.
    let anonymous = server.client();
    let first = anonymous.post(&path, &up).await?;
    assert_eq!(outcome(&first, problem, project, "up"), (true, 2, 1));
    let issued = first.json()["visitor_token"].as_str().map(str::to_owned).expect("an identity is issued");
    let by_bearer = server.client();
    let again = by_bearer.send(by_bearer.request(reqwest::Method::POST, &path).bearer_auth(&issued).json(&up)).await?;
    assert_eq!(outcome(&again, problem, project, "up"), (false, 2, 1));

    // Unknown threads are 404 for a valid voter.
    let missing = client.post(&vote_path(987_654), &up).await?;
    assert_eq!((missing.status, missing.error_code()), (404, "not_found".into()), "{}", missing.text());

    // Over the per-voter limit (30 votes per 10 s): 429 with Retry-After, nothing counted twice,
    // and other voters unaffected.
    let eager = server.client();
    eager.become_voter().await?;
    // 90 at once: a burst this short spans at most two 10 s windows, so at most 60 pass.
    let mut set = JoinSet::new();
    for _ in 0..90 {
        let (eager, path) = (eager.clone(), vote_path(solution));
        set.spawn(async move { eager.post(&path, &json!({"direction": "up"})).await });
    }
    let mut limited = 0;
    while let Some(answer) = set.join_next().await {
        let answer = answer??;
        match answer.status {
            200 => {}
            429 => {
                limited += 1;
                assert_eq!(answer.error_code(), "rate_limited", "{}", answer.text());
                assert!(answer.header("retry-after").is_some_and(|s| s.parse::<u32>().is_ok_and(|s| s >= 1)));
            }
            other => panic!("a burst vote answered {other}: {}", answer.text()),
        }
    }
    assert!(limited >= 30, "at most 30 votes per window pass the per-voter limit: {limited} of 90 refused");
    assert_eq!(counts(&client, project, solution).await?, (1, 1), "the eager voter counted once");
    let calm = server.client();
    calm.become_voter().await?;
    assert_eq!(outcome(&calm.post(&vote_path(solution), &up).await?, solution, project, "up"), (true, 2, 1));

    // The published detail page converges to the counts.
    let converged = |a: &Answer| {
        let threads = a.json()["threads"].as_array().cloned().unwrap_or_default();
        let count = |id: i64| {
            threads.iter().find(|t| t["thread_id"] == id).map(|t| (t["up_vote"].clone(), t["down_vote"].clone()))
        };
        a.is_stored() && count(problem) == Some((json!(2), json!(1))) && count(solution) == Some((json!(2), json!(1)))
    };
    let (_, took) = client.eventually(&format!("/projects/{project}"), FRESHNESS_DEADLINE, converged).await?;
    println!("votes visible on the detail page after {took:?}");
    Ok(())
}

/// What one voter does in the concurrent test, by its index.
fn script(i: usize) -> Vec<&'static str> {
    match i % 5 {
        0 => vec!["up"],
        1 => vec!["down"],
        2 => vec!["up", "up", "up"],
        3 => vec!["down", "up"],
        _ => vec!["up", "down", "down"],
    }
}

#[tokio::test]
async fn concurrent_votes_add_up_exactly() -> anyhow::Result<()> {
    const VOTERS: usize = 40;
    let server = Server::start()?;
    let client = server.client();
    let (project, problem, solution) = project_with_two_threads(&client, "Crowded Vote").await?;

    // Forty voters, each with its own cookie jar.
    let mut set = JoinSet::new();
    for _ in 0..VOTERS {
        let voter = server.client();
        set.spawn(async move { voter.become_voter().await.map(|_| voter) });
    }
    let mut voters = Vec::new();
    while let Some(voter) = set.join_next().await {
        voters.push(voter??);
    }

    // All at once: each voter runs its script (first votes, repeats, switches) on the problem;
    // every third voter also votes up on the solution.
    let mut set = JoinSet::new();
    for (i, voter) in voters.iter().cloned().enumerate() {
        set.spawn(async move {
            let mut changes = Vec::new();
            for direction in script(i) {
                let answer = voter.post(&vote_path(problem), &json!({ "direction": direction })).await?;
                changes.push(outcome(&answer, problem, project, direction));
            }
            if i % 3 == 0 {
                let answer = voter.post(&vote_path(solution), &json!({"direction": "up"})).await?;
                changes.push(outcome(&answer, solution, project, "up"));
            }
            anyhow::Ok((i, changes))
        });
    }
    let mut vote_answers = 0;
    while let Some(result) = set.join_next().await {
        let (i, changes) = result??;
        // Whatever ran concurrently, a voter's own answers follow its own history.
        let mut previous: Option<&str> = None;
        for (step, direction) in script(i).into_iter().enumerate() {
            let (changed, up, down) = changes[step];
            assert_eq!(changed, previous != Some(direction), "voter {i} step {step}");
            assert!(
                (0..=VOTERS as i64).contains(&up) && (0..=VOTERS as i64).contains(&down) && up + down <= VOTERS as i64
            );
            assert!(up + down >= 1, "the voter's own vote is counted");
            previous = Some(direction);
        }
        vote_answers += changes.len();
    }
    let expected_up = (0..VOTERS).filter(|i| script(*i).last() == Some(&"up")).count() as i64;
    let expected_down = VOTERS as i64 - expected_up;
    let expected_solution = (0..VOTERS).filter(|i| i % 3 == 0).count() as i64;
    println!("{vote_answers} concurrent votes from {VOTERS} voters: problem {expected_up} up / {expected_down} down");
    assert_eq!((expected_up, expected_down), (24, 16), "the scripts' arithmetic");

    // The exact totals: in GetProjectThreads, in a (no-op) vote answer, and on the page.
    assert_eq!(counts(&client, project, problem).await?, (expected_up, expected_down));
    assert_eq!(counts(&client, project, solution).await?, (expected_solution, 0));
    let last = script(0).last().copied().unwrap_or("up");
    let repeat = voters[0].post(&vote_path(problem), &json!({ "direction": last })).await?;
    assert_eq!(outcome(&repeat, problem, project, last), (false, expected_up, expected_down));
    let converged = |a: &Answer| {
        let threads = a.json()["threads"].as_array().cloned().unwrap_or_default();
        let count = |id: i64| {
            threads.iter().find(|t| t["thread_id"] == id).map(|t| (t["up_vote"].as_i64(), t["down_vote"].as_i64()))
        };
        a.is_stored()
            && count(problem) == Some((Some(expected_up), Some(expected_down)))
            && count(solution) == Some((Some(expected_solution), Some(0)))
    };
    let (_, took) = client.eventually(&format!("/projects/{project}"), FRESHNESS_DEADLINE, converged).await?;
    println!("exact totals on the detail page after {took:?}");
    let html = client.get(&format!("/projects/{project}/")).await?;
    assert_eq!(html.status, 200);
    Ok(())
}
