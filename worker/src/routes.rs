//! The router: turns an HTTP request into a use-case call and its answer into a response.
//!
//! Write API (versioned): `POST /api/v1/projects`, `PUT|PATCH /api/v1/projects/{id}/tags`,
//! `GET|POST /api/v1/projects/{id}/threads`, `POST /api/v1/threads/{id}/vote`,
//! `POST /api/v1/voters`, `GET /api/v1/health`; the spec's literal `POST /projects/propose`
//! and `PUT /projects/tags` too. Every other GET/HEAD is a page (see `serve`).

use generator::pages::form_error::{self, FormError, FormKind};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use worker::{Context, Env, Headers, Method, Request, Response};

use crate::config::{Config, CHANGES, DB, PAGES};
use crate::error::{ApiError, ApiResult};
use crate::forms::{self, Form, FormRoute};
use crate::input::{self, ProposeRequest, TagsRequest, ThreadsRequest, VoteRequest, MAX_BODY_BYTES};
use crate::outbox;
use crate::projects::{self, Written};
use crate::votes::Direction;
use crate::{cors, db, export, import, limits, rebuild, serve, threads, voter};

/// What the log line records about a handled request.
#[derive(Default)]
struct Figures {
    route: &'static str,
    round_trips: u32,
    rows_written: usize,
    /// Test hook: skip the queue send (see `Config::test_hooks`).
    drop_message: bool,
    /// Set when the request is an HTML form submission: it is answered with a redirect or an
    /// HTML form page instead of JSON.
    form: Option<Submission>,
    /// A voter cookie issued during this request (a form vote from a new visitor).
    set_cookie: Option<String>,
}

/// An HTML form submission being handled.
struct Submission {
    form: Form,
    route: FormRoute,
    path: String,
}

/// Handles one request; never fails: errors become JSON error responses.
pub async fn handle(req: Request, env: Env, _ctx: Context) -> Response {
    let start = worker::Date::now().as_millis();
    let method = req.method();
    let path = req.path();
    let mut figures = Figures::default();
    let origin = req.headers().get("origin").ok().flatten();
    let response = match route(req, &env, &mut figures).await {
        Ok(response) => response,
        Err(e) => {
            if let ApiError::Internal(cause) = &e {
                worker::console_error!(
                    "{}",
                    json!({"event": "internal_error", "route": figures.route, "cause": cause})
                );
            }
            match &figures.form {
                Some(submission) => form_error_response(&env, submission, &e),
                None => error_response(&e),
            }
        }
    };
    let preflight = method == Method::Options;
    for (name, value) in cors::headers_for(origin.as_deref(), &Config::from_env(&env).allowed_origins, preflight) {
        let _ = response.headers().set(name, &value);
    }
    worker::console_log!(
        "{}",
        json!({"event": "request", "method": method.to_string(), "route": figures.route, "path": path,
               "status": response.status_code(), "duration_ms": worker::Date::now().as_millis() - start,
               "d1_round_trips": figures.round_trips, "rows_written": figures.rows_written})
    );
    response
}

/// Builds the JSON error response.
pub fn error_response(e: &ApiError) -> Response {
    let headers = Headers::new();
    let _ = headers.set("content-type", "application/json");
    let _ = headers.set("cache-control", "no-store");
    let _ = headers.set("x-content-type-options", "nosniff");
    if let ApiError::MethodNotAllowed { allowed, .. } = e {
        let _ = headers.set("allow", allowed);
    }
    if let ApiError::RateLimited { retry_after } = e {
        let _ = headers.set("retry-after", &retry_after.to_string());
    }
    match Response::ok(e.body()) {
        Ok(r) => r.with_status(e.status()).with_headers(headers),
        Err(_) => {
            Response::error("internal error", 500).unwrap_or_else(|_| Response::empty().expect("an empty response"))
        }
    }
}

async fn route(mut req: Request, env: &Env, figures: &mut Figures) -> ApiResult<Response> {
    let config = Config::from_env(env);
    figures.drop_message =
        config.test_hooks && req.headers().get("x-test-drop-message").ok().flatten().as_deref() == Some("1");
    let method = req.method();
    let path = req.path();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let allow = |allowed: &str| ApiError::MethodNotAllowed { method: method.to_string(), allowed: allowed.into() };
    if method == Method::Options {
        // CORS preflight: `handle` adds the grant for allow-listed origins.
        figures.route = "preflight";
        return Ok(Response::empty().map_err(db::internal)?.with_status(204));
    }
    let db = env.d1(DB).map_err(db::internal)?;
    if matches!(method, Method::Post | Method::Put | Method::Patch) {
        limits::check_address(env, &req).await?;
    }
    match (segments.as_slice(), &method) {
        (["projects", "propose"] | ["api", "v1", "projects"], Method::Post) => {
            figures.route = "propose";
            check_origin(&req, &config)?;
            let body: ProposeRequest = read_input(&mut req, FormRoute::Propose, &path, figures).await?;
            let proposal = body.validate()?;
            let idem_key = idempotency_key(&req)?;
            let (now, now_ms) = now();
            let written = projects::propose(&db, &proposal, idem_key.as_deref(), &now, now_ms).await?;
            finish(env, written, figures).await
        }
        (["projects", "propose"] | ["api", "v1", "projects"], _) => Err(allow("POST")),
        (["projects", "tags"], Method::Put)
        | (["api", "v1", "projects", _, "tags"], Method::Put | Method::Patch | Method::Post) => {
            figures.route = "update_tags";
            check_origin(&req, &config)?;
            let body: TagsRequest = read_input(&mut req, FormRoute::Tags, &path, figures).await?;
            let project_id = match segments.as_slice() {
                ["api", "v1", "projects", id, "tags"] => {
                    let project_id = path_id(id, "project")?;
                    if body.project_id.is_some_and(|p| p != project_id) {
                        return Err(ApiError::invalid("project_id", "does not match the project in the path"));
                    }
                    project_id
                }
                _ => input::id(
                    "project_id",
                    body.project_id.ok_or_else(|| ApiError::invalid("project_id", "required"))?,
                )?,
            };
            let edit = body.validate()?;
            let (_, now_ms) = now();
            let written = projects::update_tags(&db, project_id, &edit, now_ms).await?;
            finish(env, written, figures).await
        }
        (["projects", "tags"], _) => Err(allow("PUT")),
        (["api", "v1", "projects", _, "tags"], _) => Err(allow("PUT, PATCH, POST")),
        (["api", "v1", "projects", id, "threads"], Method::Get) => {
            figures.route = "list_threads";
            let project_id = path_id(id, "project")?;
            let url = req.url().map_err(db::internal)?;
            let query = |name: &str| url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
            let limit = input::threads_limit(query("limit").as_deref())?;
            let cursor = match query("cursor") {
                Some(c) => Some(
                    c.parse::<i64>()
                        .ok()
                        .and_then(|c| input::id("cursor", c).ok())
                        .ok_or_else(|| ApiError::invalid("cursor", "must be a thread id from next_cursor"))?,
                ),
                None => None,
            };
            figures.round_trips = 2;
            json_response(200, &threads::list(&db, project_id, limit, cursor).await?)
        }
        (["api", "v1", "projects", id, "threads"], Method::Post) => {
            figures.route = "update_threads";
            check_origin(&req, &config)?;
            let project_id = path_id(id, "project")?;
            let body: ThreadsRequest = read_input(&mut req, FormRoute::Threads, &path, figures).await?;
            let writes = body.validate(project_id)?;
            let (now, now_ms) = now();
            let written = threads::update_threads(&db, project_id, &writes, &now, now_ms).await?;
            finish(env, written, figures).await
        }
        (["api", "v1", "projects", _, "threads"], _) => Err(allow("GET, POST")),
        (["api", "v1", "threads", id, "vote"], Method::Post) => {
            figures.route = "vote";
            check_origin(&req, &config)?;
            let thread_id = path_id(id, "thread")?;
            let body: VoteRequest = read_input(&mut req, FormRoute::Vote, &path, figures).await?;
            let direction = Direction::parse(&body.direction)?;
            let voter = match voter_of(&req, &config) {
                // A browser form from a visitor without an identity yet: issue one.
                Err(ApiError::Unauthenticated(_)) if figures.form.is_some() => {
                    let (id, cookie) = issue_voter(&config)?;
                    figures.set_cookie = Some(cookie);
                    id
                }
                other => other?,
            };
            limits::check_voter(env, &voter).await?;
            let (_, now_ms) = now();
            let written = threads::vote(&db, thread_id, &voter, direction, now_ms).await?;
            finish(env, written, figures).await
        }
        (["api", "v1", "threads", _, "vote"], _) => Err(allow("POST")),
        (["api", "v1", "voters"], Method::Post) => {
            figures.route = "new_voter";
            check_origin(&req, &config)?;
            new_voter(&config)
        }
        (["api", "v1", "voters"], _) => Err(allow("POST")),
        (["api", "v1", "health"], Method::Get) => {
            figures.route = "health";
            let (_, now_ms) = now();
            let (backlog, oldest_ms) = outbox::backlog(&db, now_ms).await?;
            let (projects, _) = db::project_stats(&db).await?;
            figures.round_trips = 2;
            json_response(
                200,
                &json!({"status": "ok", "projects": projects, "outbox_backlog": backlog, "outbox_oldest_age_ms": oldest_ms}),
            )
        }
        (["api", "v1", "health"], _) => Err(allow("GET")),
        (["api", "v1", "export"], Method::Get) => {
            figures.route = "export";
            require_admin(&req, &config)?;
            let url = req.url().map_err(db::internal)?;
            let query = |name: &str| url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
            let after = match query("after") {
                Some(a) => a
                    .parse::<i64>()
                    .ok()
                    .filter(|a| *a >= 0)
                    .ok_or_else(|| ApiError::invalid("after", "must be a project id or 0"))?,
                None => 0,
            };
            let limit = match query("limit") {
                Some(l) => {
                    l.parse::<u32>().ok().filter(|l| (1..=export::MAX_EXPORT_PAGE).contains(l)).ok_or_else(|| {
                        ApiError::invalid("limit", format!("must be an integer from 1 to {}", export::MAX_EXPORT_PAGE))
                    })?
                }
                None => export::MAX_EXPORT_PAGE,
            };
            figures.round_trips = 2;
            json_response(200, &export::page(&db, &config.site, after, limit).await?)
        }
        (["api", "v1", "export"], _) => Err(allow("GET")),
        (["api", "v1", "admin", "import"], Method::Post) => {
            figures.route = "import";
            require_admin(&req, &config)?;
            let body =
                req.bytes().await.map_err(|_| ApiError::Malformed { message: "the body could not be read".into() })?;
            if body.len() > import::MAX_IMPORT_BYTES {
                return Err(ApiError::TooLarge { limit: import::MAX_IMPORT_BYTES });
            }
            let chunk: import::ImportRequest = input::parse_json_within(&body, import::MAX_IMPORT_BYTES)?;
            import::validate(&chunk)?;
            figures.round_trips = 1;
            json_response(201, &import::import(&db, &chunk).await?)
        }
        (["api", "v1", "admin", "import"], _) => Err(allow("POST")),
        (["api", "v1", "admin", "rebuilds"], Method::Post) => {
            figures.route = "rebuild_start";
            require_admin(&req, &config)?;
            let rebuild_id = outbox::new_id();
            let queue = env.queue(CHANGES).map_err(db::internal)?;
            rebuild::start(&db, &queue, &rebuild_id, now().1).await?;
            let status_url = format!("/api/v1/admin/rebuilds/{rebuild_id}");
            json_response(202, &json!({ "rebuild_id": rebuild_id, "status_url": status_url }))
        }
        (["api", "v1", "admin", "rebuilds"], _) => Err(allow("POST")),
        (["api", "v1", "admin", "rebuilds", id], Method::Get) => {
            figures.route = "rebuild_progress";
            require_admin(&req, &config)?;
            json_response(200, &rebuild::progress(&db, id).await?)
        }
        (["api", "v1", "admin", "rebuilds", _], _) => Err(allow("GET")),
        // The site has no icon; an empty answer stops browsers from logging a 404 on every page.
        (["favicon.ico"], Method::Get | Method::Head) => {
            figures.route = "favicon";
            let response = Response::empty().map_err(db::internal)?.with_status(204);
            let _ = response.headers().set("cache-control", "public, max-age=86400");
            Ok(response)
        }
        (_, Method::Get | Method::Head) => {
            figures.route = "page";
            let bucket = env.bucket(PAGES).map_err(db::internal)?;
            let inm = req.headers().get("if-none-match").ok().flatten();
            let decoded = percent_decode(&path).ok_or_else(|| ApiError::not_found("page"))?;
            serve::page(&method, &decoded, inm, &db, &bucket, &config.site).await
        }
        _ => Err(serve::method_not_allowed(&method)),
    }
}

/// Sends the change (after the commit) and answers the write.
async fn finish(env: &Env, written: Written, figures: &mut Figures) -> ApiResult<Response> {
    figures.round_trips = written.round_trips;
    figures.rows_written = written.rows_written;
    if let Some(message) = written.message.as_ref().filter(|_| !figures.drop_message) {
        let queue = env.queue(CHANGES).map_err(db::internal)?;
        outbox::send(&queue, message).await;
    }
    if let Some(submission) = &figures.form {
        let location = forms::success_location(&submission.form.return_to(), &written.body);
        let headers = Headers::new();
        headers.set("location", &location).map_err(db::internal)?;
        headers.set("cache-control", "no-store").map_err(db::internal)?;
        if let Some(cookie) = &figures.set_cookie {
            headers.set("set-cookie", cookie).map_err(db::internal)?;
        }
        return Ok(Response::empty().map_err(db::internal)?.with_status(303).with_headers(headers));
    }
    let response = json_response(written.status, &written.body)?;
    let _ = response
        .headers()
        .set("x-d1", &format!("round_trips={}; rows_written={}", written.round_trips, written.rows_written));
    Ok(response)
}

fn json_response(status: u16, body: &Value) -> ApiResult<Response> {
    let response = Response::from_json(body).map_err(db::internal)?.with_status(status);
    let _ = response.headers().set("cache-control", "no-store");
    let _ = response.headers().set("x-content-type-options", "nosniff");
    Ok(response)
}

/// Reads a write's body: JSON (the API) or an urlencoded HTML form (the pages), which is turned
/// into the same JSON so one set of rules validates both. Anything else is a 415.
async fn read_input<T: DeserializeOwned>(
    req: &mut Request,
    route: FormRoute,
    path: &str,
    figures: &mut Figures,
) -> ApiResult<T> {
    let content_type = req.headers().get("content-type").ok().flatten().unwrap_or_default();
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let is_form = essence == "application/x-www-form-urlencoded";
    if essence != "application/json" && !is_form {
        return Err(ApiError::UnsupportedMediaType { expected: "application/json".into() });
    }
    if let Some(length) = req.headers().get("content-length").ok().flatten().and_then(|l| l.parse::<usize>().ok()) {
        if length > MAX_BODY_BYTES {
            return Err(ApiError::TooLarge { limit: MAX_BODY_BYTES });
        }
    }
    let body = req.bytes().await.map_err(|_| ApiError::Malformed { message: "the body could not be read".into() })?;
    if !is_form {
        return input::parse_json(&body);
    }
    if body.len() > MAX_BODY_BYTES {
        return Err(ApiError::TooLarge { limit: MAX_BODY_BYTES });
    }
    require_same_site_form(req)?;
    let form = Form::parse(&body);
    let json = form.to_json(route);
    figures.form = Some(Submission { form, route, path: path.to_owned() });
    let json = serde_json::to_vec(&json?).map_err(db::internal)?;
    input::parse_json(&json)
}

/// CSRF defence for forms (beyond SameSite=Lax cookies and `check_origin`): a browser form must
/// say where it comes from (Origin, or else Referer) and that must be this site.
fn require_same_site_form(req: &Request) -> ApiResult<()> {
    let own = req.url().map(|u| u.origin().ascii_serialization()).unwrap_or_default();
    let header = |name: &str| req.headers().get(name).ok().flatten().filter(|v| !v.is_empty() && v != "null");
    let from = header("origin").or_else(|| {
        header("referer").and_then(|r| worker::Url::parse(&r).ok()).map(|u| u.origin().ascii_serialization())
    });
    match from {
        Some(origin) if origin.trim_end_matches('/') == own => Ok(()),
        _ => Err(ApiError::Forbidden("a form must be sent from this site's pages".into())),
    }
}

/// Answers a refused form with the form again, filled in, and the error by its field.
fn form_error_response(env: &Env, submission: &Submission, e: &ApiError) -> Response {
    let site = Config::from_env(env).site;
    let segment_id = |i: usize| submission.path.split('/').nth(i).and_then(|s| s.parse::<i64>().ok()).unwrap_or(0);
    let kind = match submission.route {
        FormRoute::Propose => FormKind::Propose,
        FormRoute::Tags => FormKind::Tags { project_id: segment_id(4) },
        FormRoute::Threads => FormKind::Thread {
            project_id: segment_id(4),
            parent_id: submission.form.get("parent_id").and_then(|p| p.trim().parse().ok()),
        },
        FormRoute::Vote => FormKind::Vote { thread_id: segment_id(4) },
    };
    let refused = FormError {
        kind,
        action: submission.path.clone(),
        return_to: submission.form.return_to(),
        values: submission.form.fields.clone(),
        field: e.field().map(str::to_owned),
        message: e.to_string(),
    };
    let page = match form_error::render(&site, &refused) {
        Ok(page) => page,
        Err(_) => return error_response(e),
    };
    let headers = Headers::new();
    let _ = headers.set("content-type", page.content_type);
    let _ = headers.set("cache-control", "no-store");
    for (name, value) in serve::SECURITY_HEADERS {
        let _ = headers.set(name, value);
    }
    match Response::from_bytes(page.body) {
        Ok(r) => r.with_status(e.status()).with_headers(headers),
        Err(_) => error_response(e),
    }
}

fn path_id(raw: &str, what: &str) -> ApiResult<i64> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| (1..=(1_i64 << 53)).contains(id))
        .ok_or_else(|| ApiError::not_found(format!("{what} {raw}")))
}

fn idempotency_key(req: &Request) -> ApiResult<Option<String>> {
    match req.headers().get("idempotency-key").ok().flatten() {
        None => Ok(None),
        Some(k) if !k.is_empty() && k.len() <= 128 && k.bytes().all(|b| b.is_ascii_graphic()) => Ok(Some(k)),
        Some(_) => Err(ApiError::invalid("Idempotency-Key", "1 to 128 visible ASCII characters")),
    }
}

/// Refuses browser writes from origins that are neither this site nor allowed.
fn check_origin(req: &Request, config: &Config) -> ApiResult<()> {
    let Some(origin) = req.headers().get("origin").ok().flatten() else {
        return Ok(()); // not a browser: server-to-server calls carry no Origin
    };
    let own = req.url().map(|u| u.origin().ascii_serialization()).unwrap_or_default();
    let origin = origin.trim_end_matches('/');
    if origin == own || origin == config.site.base_url || config.allowed_origins.iter().any(|o| o == origin) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!("origin {origin} may not write")))
    }
}

/// Checks the admin bearer token (a Worker secret), in constant time.
fn require_admin(req: &Request, config: &Config) -> ApiResult<()> {
    let presented = req.headers().get("authorization").ok().flatten();
    let presented = presented.as_deref().and_then(|a| a.strip_prefix("Bearer ")).unwrap_or("");
    if config.admin_token.is_empty() || !constant_time_eq(presented.as_bytes(), config.admin_token.as_bytes()) {
        return Err(ApiError::Unauthenticated("this operation needs the admin bearer token".into()));
    }
    Ok(())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0_u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn voter_of(req: &Request, config: &Config) -> ApiResult<String> {
    let cookie = req.headers().get("cookie").ok().flatten();
    let authorization = req.headers().get("authorization").ok().flatten();
    let token = voter::token_from_headers(cookie.as_deref(), authorization.as_deref())
        .ok_or_else(|| ApiError::Unauthenticated("a vote needs a voter: POST /api/v1/voters first".into()))?;
    if config.voter_secret.is_empty() {
        return Err(ApiError::Internal("VOTER_SECRET is not set".into()));
    }
    voter::verify(&config.voter_secret, token)
        .ok_or_else(|| ApiError::Unauthenticated("the voter token is not valid".into()))
}

/// Issues a signed voter id; returns it and its `Set-Cookie` value.
fn issue_voter(config: &Config) -> ApiResult<(String, String)> {
    if config.voter_secret.is_empty() {
        return Err(ApiError::Internal("VOTER_SECRET is not set".into()));
    }
    let id = outbox::new_id();
    let token = voter::sign(&config.voter_secret, &id);
    let secure = if config.site.base_url.starts_with("https://") { "; Secure" } else { "" };
    let cookie = format!("{}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=31536000{secure}", voter::COOKIE);
    Ok((id, cookie))
}

fn new_voter(config: &Config) -> ApiResult<Response> {
    let (id, cookie) = issue_voter(config)?;
    let token = voter::sign(&config.voter_secret, &id);
    let response = json_response(201, &json!({ "voter_token": token }))?;
    let _ = response.headers().set("set-cookie", &cookie);
    Ok(response)
}

/// Returns the time now as RFC 3339 UTC to the second (the snapshot format) and in ms.
fn now() -> (String, u64) {
    let date = js_sys::Date::new_0();
    let iso = String::from(date.to_iso_string()); // 2026-11-22T14:16:38.123Z
    let seconds = iso.split('.').next().unwrap_or(&iso);
    (format!("{seconds}Z"), date.get_time() as u64)
}

/// Decodes `%XX` escapes of a URL path (tags may be non-ASCII); `None` if not valid UTF-8.
fn percent_decode(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}
