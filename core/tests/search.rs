//! Search through the router, on SQLite built from the real migrations (FTS5 included): words
//! of a name, tagline or tags find a project whatever their case and accents; the index
//! follows tag edits and moderation; bad queries are refused by field.

mod common;

use crowdfund_core::http::Method;
use crowdfund_core::testing::{TestPlatform, MODERATOR_TOKEN};
use serde_json::{json, Value};

use common::{json_request, propose, proposer_token, request, send};

fn found(p: &TestPlatform, q: &str) -> Vec<i64> {
    let answer = send(p, &request(Method::Get, &format!("/api/v1/search?q={q}")));
    assert_eq!(answer.status, 200, "{q}: {}", answer.text());
    answer.json()["projects"].as_array().expect("projects").iter().filter_map(|p| p["project_id"].as_i64()).collect()
}

fn as_proposer(p: &TestPlatform, method: Method, path: &str, body: Value) -> u16 {
    let req = json_request(method, path, &body).with_header("authorization", &format!("Bearer {}", proposer_token(p)));
    send(p, &req).status
}

#[test]
fn words_of_a_name_tagline_or_tags_find_a_project_accents_and_case_folded() {
    let p = TestPlatform::default();
    let cafe = propose(
        &p,
        json!({"project_name": "Repair Café", "tagline": "Fix toasters together", "tags": ["Électronique"]}),
    );
    let solar = propose(&p, json!({"project_name": "Solar roofs", "tagline": "Panels for the café down the street"}));
    assert_eq!(found(&p, "cafe"), vec![cafe, solar], "the name counts more than the tagline");
    assert_eq!(found(&p, "TOAST"), vec![cafe], "a word's start finds it");
    assert_eq!(found(&p, "electronique"), vec![cafe], "tags, accents folded");
    assert_eq!(found(&p, "cafe+street"), vec![solar], "every word must match");
    assert_eq!(found(&p, "%22cafe%22+OR+NEAR(solar"), Vec::<i64>::new(), "FTS5 syntax is only words");
    assert_eq!(found(&p, "nothing"), Vec::<i64>::new());
    assert_eq!(found(&p, ""), Vec::<i64>::new(), "no words, no lookup");

    // The index follows the tags and moderation.
    assert_eq!(
        as_proposer(&p, Method::Put, &format!("/api/v1/projects/{solar}/tags"), json!({"add": ["photovoltaic"]})),
        200
    );
    assert_eq!(found(&p, "photovolt"), vec![solar]);
    assert_eq!(
        as_proposer(&p, Method::Put, &format!("/api/v1/projects/{cafe}/tags"), json!({"remove": ["électronique"]})),
        200
    );
    assert_eq!(found(&p, "electronique"), Vec::<i64>::new());
    let moderate = |action: &str| {
        let req =
            json_request(Method::Post, &format!("/api/v1/moderation/projects/{cafe}"), &json!({"action": action}))
                .with_header("authorization", &format!("Bearer {MODERATOR_TOKEN}"));
        send(&p, &req).status
    };
    assert_eq!(moderate("hide"), 200);
    assert_eq!(found(&p, "repair"), Vec::<i64>::new(), "a hidden project is not found");
    assert_eq!(moderate("restore"), 200);
    assert_eq!(found(&p, "repair"), vec![cafe]);
}

#[test]
fn the_page_works_without_script_and_pages_through_many_matches() {
    let p = TestPlatform::default();
    for i in 0..45 {
        propose(&p, json!({"project_name": format!("Garden {i}"), "tagline": "green"}));
    }
    let page = send(&p, &request(Method::Get, "/search?q=garden"));
    assert_eq!(page.status, 200);
    assert!(page.headers.get("content-type").unwrap_or("").starts_with("text/html"));
    let html = page.text();
    assert_eq!(html.matches(r#"<li class="card">"#).count(), 20, "one page of matches: {html}");
    assert!(html.contains(r#"href="/search?q=garden&#38;page=2""#), "a next page: {html}");
    assert_eq!(page.headers.get("cloudflare-cdn-cache-control"), Some("max-age=60"), "the edge keeps it briefly");
    let last = send(&p, &request(Method::Get, "/api/v1/search?q=garden&page=3")).json();
    assert_eq!(last["projects"].as_array().map(Vec::len), Some(5));
    assert_eq!(last["next"], Value::Null);
    let all: Vec<i64> = (1..=3)
        .flat_map(|page| {
            let answer = send(&p, &request(Method::Get, &format!("/api/v1/search?q=garden&page={page}"))).json();
            answer["projects"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter_map(|p| p["project_id"].as_i64())
        })
        .collect();
    let mut unique = all.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!((all.len(), unique.len()), (45, 45), "every match once across the pages");
}

#[test]
fn bad_queries_are_refused_by_field_as_json_and_as_a_page() {
    let p = TestPlatform::default();
    let long = "a".repeat(10 * 1024);
    let api = send(&p, &request(Method::Get, &format!("/api/v1/search?q={long}")));
    assert_eq!((api.status, api.json()["error"]["field"].as_str()), (422, Some("q")), "{}", api.text());
    let page = send(&p, &request(Method::Get, &format!("/search?q={long}")));
    assert_eq!(page.status, 422);
    let html = page.text();
    assert!(html.contains("at most 200 characters") && html.contains(r#"aria-invalid="true""#), "{html}");
    assert!(html.len() < 20_000, "the page does not echo the whole query");
    assert_eq!(page.headers.get("cache-control"), Some("private, no-store"));
    let bad_page = send(&p, &request(Method::Get, "/api/v1/search?q=a&page=99"));
    assert_eq!((bad_page.status, bad_page.json()["error"]["field"].as_str()), (422, Some("page")));
}
