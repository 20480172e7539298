//! The walking skeleton's loop on the real stack: the spec's proposal is acknowledged with 201,
//! and within a deadline its JSON and HTML pages and the listing show it.

use crowdfund_e2e::{Answer, Server, FRESHNESS_DEADLINE};
use serde_json::json;

#[tokio::test]
async fn a_proposal_becomes_its_pages() -> anyhow::Result<()> {
    let server = Server::start()?;
    let client = server.client();
    let spec_body = json!({"project_name": "Popee the Performer", "tagline": "an apprentice clown in Wolf Circus",
        "problems": ["short temper", "self centered"], "solutions": ["play the drums"], "tags": ["clown", "circus"]});

    let answer = client.post("/projects/propose", &spec_body).await?;
    assert_eq!(answer.status, 201, "{}", answer.text());
    let id = answer.json()["project_id"].as_i64().expect("project_id");
    assert_eq!(answer.json()["project_id"], id, "{}", answer.text());

    // Wait for the page the queue consumer published (not the on-miss stand-in).
    let (detail, took) = client.eventually(&format!("/projects/{id}"), FRESHNESS_DEADLINE, Answer::is_stored).await?;
    println!("detail JSON published after {took:?}");
    let project = detail.json();
    assert_eq!(project["project_name"], "Popee the Performer");
    assert_eq!(project["tagline"], "an apprentice clown in Wolf Circus");
    assert_eq!(project["tags"], json!(["circus", "clown"]));
    let types: Vec<&str> =
        project["threads"].as_array().expect("threads").iter().filter_map(|t| t["thread_type"].as_str()).collect();
    assert_eq!(types, vec!["PROBLEM", "PROBLEM", "SOLUTION"]);
    assert!(project["created_at"].as_str().is_some_and(|t| t.ends_with('Z') && t.len() == 20), "{project}");

    let (html, _) = client.eventually(&format!("/projects/{id}/"), FRESHNESS_DEADLINE, Answer::is_stored).await?;
    assert_eq!(html.status, 200);
    assert!(html.header("content-type").unwrap_or_default().starts_with("text/html"));
    let text = html.text();
    for needle in ["Popee the Performer", "short temper", "self centered", "play the drums", "<time"] {
        assert!(text.contains(needle), "detail HTML lacks {needle}");
    }

    let (listing, _) = client.eventually("/projects", FRESHNESS_DEADLINE, Answer::is_stored).await?;
    assert_eq!(listing.status, 200);
    let listing = listing.json();
    let names: Vec<&str> =
        listing["projects"].as_array().expect("projects").iter().filter_map(|p| p["project_name"].as_str()).collect();
    assert!(names.contains(&"Popee the Performer"), "{names:?}");
    let front = client.get("/").await?;
    assert!(front.text().contains("Popee the Performer"));
    Ok(())
}

#[tokio::test]
async fn unknown_pages_get_the_generated_404() -> anyhow::Result<()> {
    let server = Server::start()?;
    let client = server.client();
    for path in ["/projects/999999", "/projects/999999/", "/no/such/page", "/tags/nothing/"] {
        let answer = client.get(path).await?;
        assert_eq!(answer.status, 404, "{path}");
        assert!(answer.text().contains("<html"), "{path}: the 404 page is HTML");
    }
    Ok(())
}
