//! Browser-facing security: CORS only for allow-listed origins (preflights included), writes
//! from other origins refused, and the security headers on pages and API answers.

use crowdfund_e2e::{unique, Options, Server};
use serde_json::json;

#[tokio::test]
async fn only_allowed_origins_may_write_and_pages_carry_security_headers() -> anyhow::Result<()> {
    let allowed = "https://app.example";
    let server =
        Server::start_with(Options { vars: vec![("ALLOWED_ORIGINS".into(), allowed.into())], ..Options::default() })?;
    let client = server.client();
    let preflight = |origin: &'static str| {
        let c = client.clone();
        async move {
            let req = c
                .request(reqwest::Method::OPTIONS, "/api/v1/projects")
                .header("origin", origin)
                .header("access-control-request-method", "POST")
                .header("access-control-request-headers", "content-type, idempotency-key");
            c.send(req).await
        }
    };
    let ok = preflight(allowed).await?;
    assert_eq!(ok.status, 204);
    assert_eq!(ok.header("access-control-allow-origin").as_deref(), Some(allowed));
    assert!(ok.header("access-control-allow-headers").unwrap_or_default().contains("idempotency-key"));
    assert!(ok.header("access-control-allow-methods").unwrap_or_default().contains("POST"));
    let evil = preflight("https://evil.example").await?;
    assert_eq!(evil.header("access-control-allow-origin"), None, "no CORS grant for other origins");

    let body = json!({"project_name": unique("Cors"), "tagline": "t"});
    let from_allowed = client
        .send(client.request(reqwest::Method::POST, "/api/v1/projects").header("origin", allowed).json(&body))
        .await?;
    assert_eq!(from_allowed.status, 201, "{}", from_allowed.text());
    assert_eq!(from_allowed.header("access-control-allow-origin").as_deref(), Some(allowed));
    assert_eq!(from_allowed.header("x-content-type-options").as_deref(), Some("nosniff"));
    let body = json!({"project_name": unique("Cors"), "tagline": "t"});
    let from_evil = client
        .send(
            client
                .request(reqwest::Method::POST, "/api/v1/projects")
                .header("origin", "https://evil.example")
                .json(&body),
        )
        .await?;
    assert_eq!(from_evil.status, 403);
    assert_eq!(from_evil.error_code(), "forbidden");
    assert_eq!(client.get("/api/v1/health").await?.json()["projects"], 1, "the refused write wrote nothing");

    for path in ["/", "/no/such/page", "/static/style.css"] {
        let page = client.get(path).await?;
        let csp = page.header("content-security-policy").unwrap_or_default();
        assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(page.header("x-content-type-options").as_deref(), Some("nosniff"), "{path}");
        assert!(page.header("referrer-policy").is_some(), "{path}");
    }
    Ok(())
}
