//! HTML forms without JavaScript: a valid form is answered with 303 back to its page, an
//! invalid one with the form again (what was typed kept, the error by its field), a form vote
//! from a new visitor gets a voter cookie, a thread's reply page carries its reply form, and a
//! form from another site is refused.

use crowdfund_e2e::{unique, Server, FRESHNESS_DEADLINE};

/// A client that behaves like a browser without JavaScript: cookies kept, redirects not followed
/// (so the test sees each 303).
fn browser() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).cookie_store(true).build()?)
}

#[tokio::test]
async fn forms_work_without_javascript() -> anyhow::Result<()> {
    let server = Server::start()?;
    let http = browser()?;
    let url = |p: &str| format!("{}{p}", server.url);
    let name = unique("Form project");

    // Propose: 303 to the new project's page.
    let form = [
        ("project_name", name.as_str()),
        ("tagline", "made with a form"),
        ("tags", "Form, web"),
        ("problems", "no script\r\nslow pages"),
        ("solutions", "plain HTML"),
        ("return_to", "/"),
    ];
    let answer = http.post(url("/api/v1/projects")).header("origin", &server.url).form(&form).send().await?;
    assert_eq!(answer.status(), 303);
    let cookies: Vec<&str> = answer.headers().get_all("set-cookie").iter().filter_map(|c| c.to_str().ok()).collect();
    assert!(
        cookies.iter().any(|c| c.starts_with("voter=") && c.contains("HttpOnly")),
        "the proposer is issued an identity: {cookies:?}"
    );
    let location = answer.headers()["location"].to_str()?.to_owned();
    assert!(location.starts_with("/projects/") && location.ends_with("/?published=pending"), "{location}");
    let id: i64 = location.trim_start_matches("/projects/").split('/').next().unwrap_or("").parse()?;
    let page =
        server.client().eventually(&format!("/projects/{id}"), FRESHNESS_DEADLINE, |a| a.status == 200).await?.0.json();
    assert_eq!(page["tags"], serde_json::json!(["form", "web"]));
    assert_eq!(page["threads"].as_array().map(Vec::len), Some(3));

    // Invalid: the form comes back with the typed values and the error, status 422.
    let bad = [("project_name", "   "), ("tagline", "typed <tagline>"), ("return_to", "/")];
    let answer = http.post(url("/api/v1/projects")).header("origin", &server.url).form(&bad).send().await?;
    assert_eq!(answer.status(), 422);
    assert!(answer.headers()["content-type"].to_str()?.starts_with("text/html"));
    let html = answer.text().await?;
    assert!(
        html.contains("typed &#60;tagline&#62;") || html.contains("typed &lt;tagline&gt;"),
        "the typed tagline is kept, escaped:\n{html}"
    );
    assert!(html.contains("must not be empty"), "the error is shown");

    // Vote from a new visitor: a voter cookie is issued and the vote counts.
    let thread = page["threads"][0]["thread_id"].as_i64().expect("thread");
    let vote = [("direction", "up"), ("return_to", &format!("/projects/{id}/") as &str)];
    let visitor = browser()?;
    let answer = visitor
        .post(url(&format!("/api/v1/threads/{thread}/vote")))
        .header("origin", &server.url)
        .form(&vote)
        .send()
        .await?;
    assert_eq!(answer.status(), 303);
    assert!(answer.headers().get("set-cookie").is_some_and(|c| c.to_str().unwrap_or("").starts_with("voter=")));
    let again = visitor
        .post(url(&format!("/api/v1/threads/{thread}/vote")))
        .header("origin", &server.url)
        .form(&vote)
        .send()
        .await?;
    assert_eq!(again.status(), 303);
    assert!(again.headers().get("set-cookie").is_none(), "the cookie identifies the voter now");
    let threads = server.client().get(&format!("/api/v1/projects/{id}/threads")).await?.json();
    let voted = threads["threads"]
        .as_array()
        .and_then(|a| a.iter().find(|t| t["thread_id"] == thread).cloned())
        .expect("thread");
    assert_eq!(voted["up_vote"], 1, "one visitor, one vote");

    // Reply: the thread's "Reply" link opens its reply page, the thread quoted, the form
    // filled with where it posts and returns to.
    let reply_page = format!("/projects/{id}/threads/{thread}/reply");
    let answer = http.get(url(&reply_page)).send().await?;
    assert_eq!(answer.status(), 200);
    assert!(answer.headers()["content-type"].to_str()?.starts_with("text/html"));
    let etag = answer.headers()["etag"].to_str()?.to_owned();
    let html = answer.text().await?;
    assert!(html.contains(&format!(r#"<input type="hidden" name="parent_id" value="{thread}">"#)), "{html}");
    assert!(html.contains(&format!(r#"action="/api/v1/projects/{id}/threads""#)));
    assert!(html.contains(&format!(r#"name="return_to" value="/projects/{id}/""#)));
    assert!(html.contains("<p>no script</p>"), "the thread is quoted:\n{html}");
    let head = http.head(url(&reply_page)).send().await?;
    assert_eq!((head.status().as_u16(), head.text().await?.len()), (200, 0));
    let cached = http.get(url(&reply_page)).header("if-none-match", &etag).send().await?;
    assert_eq!(cached.status(), 304);
    // A thread of another project, a thread that does not exist, an id that is no number: 404.
    let other = server.client().propose(&serde_json::json!({"project_name": unique("Other"), "tagline": "t"})).await?;
    for path in [
        format!("/projects/{other}/threads/{thread}/reply"),
        format!("/projects/{id}/threads/999999/reply"),
        format!("/projects/{id}/threads/x/reply"),
    ] {
        let answer = http.get(url(&path)).send().await?;
        assert_eq!(answer.status(), 404, "{path}");
        assert!(answer.text().await?.contains("Page not found"), "{path}: the site's 404 page");
    }
    let answer = http.post(url(&reply_page)).header("origin", &server.url).form(&[("message", "x")]).send().await?;
    assert_eq!(answer.status(), 405);

    // Reply: back to the page at the new thread.
    let reply = [
        ("thread_type", "COMMENT"),
        ("parent_id", &thread.to_string() as &str),
        ("message", "a reply"),
        ("return_to", &format!("/projects/{id}/") as &str),
    ];
    let answer = http
        .post(url(&format!("/api/v1/projects/{id}/threads")))
        .header("origin", &server.url)
        .form(&reply)
        .send()
        .await?;
    assert_eq!(answer.status(), 303);
    assert!(answer.headers()["location"].to_str()?.contains("?published=pending#thread-"));

    // From another site, or with no origin at all: refused.
    let answer = http.post(url("/api/v1/projects")).header("origin", "https://evil.example").form(&form).send().await?;
    assert_eq!(answer.status(), 403);
    let answer = http.post(url("/api/v1/projects")).form(&form).send().await?;
    assert_eq!(answer.status(), 403);
    Ok(())
}
