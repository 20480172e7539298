//! The router: matches method and path, and hands the request to one handler per resource
//! (`projects`, `threads`, `auth`, `admin`, `pages`). Handlers turn input into a use-case call
//! and its result into a response (`respond`); `request` holds the input helpers.
//!
//! Write API (versioned): `POST /api/v1/projects`, `PUT|PATCH|POST /api/v1/projects/{id}/tags`,
//! `GET|POST /api/v1/projects/{id}/threads`, `POST /api/v1/threads/{id}/vote`,
//! `POST /api/v1/voters`, `GET /api/v1/health`, admin export, import and rebuilds; the spec's
//! literal `POST /projects/propose` and `PUT /projects/tags` too. A thread's reply page
//! (`GET /projects/{id}/threads/{id}/reply`) is rendered per request; every other GET/HEAD is
//! a published page (`serve`). data/openapi.yaml documents all of it (a test reads the arms below).

mod admin;
mod auth;
mod pages;
mod projects;
mod request;
mod respond;
mod threads;

use serde_json::json;
use worker::{Context, D1Database, Env, Method, Request, Response};

use crate::config::{Config, DB};
use crate::cors;
use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::forms::{Form, FormRoute};
use crate::limits;

/// What the log line records about a handled request, and what its answer depends on.
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

/// Everything a handler works with.
struct Call<'a> {
    req: Request,
    env: &'a Env,
    config: Config,
    db: D1Database,
    method: Method,
    path: String,
    figures: &'a mut Figures,
}

/// Handles one request; never fails: errors become JSON error responses (or, for an HTML
/// form, the form again).
pub async fn handle(req: Request, env: Env, _ctx: Context) -> Response {
    let start = worker::Date::now().as_millis();
    let method = req.method();
    let path = req.path();
    let mut figures = Figures::default();
    let origin = request::header(&req, "origin");
    let config = Config::from_env(&env);
    let allowed_origins = config.allowed_origins.clone();
    let site = config.site.clone();
    let response = match route(req, &env, config, &mut figures).await {
        Ok(response) => response,
        Err(e) => {
            if let ApiError::Internal(cause) = &e {
                worker::console_error!(
                    "{}",
                    json!({"event": "internal_error", "route": figures.route, "cause": cause})
                );
            }
            match &figures.form {
                Some(submission) => respond::form_error(&site, submission, &e),
                None => respond::error(&e),
            }
        }
    };
    // HEAD answers like GET, without the body.
    let response = if method == Method::Head { respond::without_body(response) } else { response };
    let preflight = method == Method::Options;
    for (name, value) in cors::headers_for(origin.as_deref(), &allowed_origins, preflight) {
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

async fn route(req: Request, env: &Env, config: Config, figures: &mut Figures) -> ApiResult<Response> {
    figures.drop_message = config.test_hooks && request::header(&req, "x-test-drop-message").as_deref() == Some("1");
    let method = req.method();
    let path = req.path();
    if method == Method::Options {
        // CORS preflight: `handle` adds the grant for allow-listed origins.
        figures.route = "preflight";
        return Ok(Response::empty().map_err(db::internal)?.with_status(204));
    }
    if matches!(method, Method::Post | Method::Put | Method::Patch) {
        limits::check_address(env, &req).await?;
    }
    let allow = |allowed: &str| ApiError::MethodNotAllowed { method: method.to_string(), allowed: allowed.into() };
    let db = env.d1(DB).map_err(db::internal)?;
    let segments: Vec<String> = path.trim_start_matches('/').split('/').map(str::to_owned).collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let mut c = Call { req, env, config, db, method: method.clone(), path: path.clone(), figures };
    match (segments.as_slice(), &method) {
        (["projects", "propose"] | ["api", "v1", "projects"], Method::Post) => projects::propose(&mut c).await,
        (["projects", "propose"] | ["api", "v1", "projects"], _) => Err(allow("POST")),
        (["projects", "tags"], Method::Put)
        | (["api", "v1", "projects", _, "tags"], Method::Put | Method::Patch | Method::Post) => {
            projects::update_tags(&mut c).await
        }
        (["projects", "tags"], _) => Err(allow("PUT")),
        (["api", "v1", "projects", _, "tags"], _) => Err(allow("PUT, PATCH, POST")),
        (["api", "v1", "projects", id, "threads"], Method::Get | Method::Head) => threads::list(&mut c, id).await,
        (["api", "v1", "projects", id, "threads"], Method::Post) => threads::update(&mut c, id).await,
        (["api", "v1", "projects", _, "threads"], _) => Err(allow("GET, HEAD, POST")),
        (["api", "v1", "threads", id, "vote"], Method::Post) => threads::vote(&mut c, id).await,
        (["api", "v1", "threads", _, "vote"], _) => Err(allow("POST")),
        (["api", "v1", "voters"], Method::Post) => auth::new_voter(&mut c),
        (["api", "v1", "voters"], _) => Err(allow("POST")),
        (["api", "v1", "health"], Method::Get | Method::Head) => admin::health(&mut c).await,
        (["api", "v1", "health"], _) => Err(allow("GET, HEAD")),
        (["api", "v1", "export"], Method::Get | Method::Head) => admin::export(&mut c).await,
        (["api", "v1", "export"], _) => Err(allow("GET, HEAD")),
        (["api", "v1", "admin", "import"], Method::Post) => admin::import(&mut c).await,
        (["api", "v1", "admin", "import"], _) => Err(allow("POST")),
        (["api", "v1", "admin", "rebuilds"], Method::Post) => admin::start_rebuild(&mut c).await,
        (["api", "v1", "admin", "rebuilds"], _) => Err(allow("POST")),
        (["api", "v1", "admin", "rebuilds", id], Method::Get | Method::Head) => {
            admin::rebuild_progress(&mut c, id).await
        }
        (["api", "v1", "admin", "rebuilds", _], _) => Err(allow("GET, HEAD")),
        (["favicon.ico"], Method::Get | Method::Head) => pages::favicon(&mut c),
        (["projects", project, "threads", thread, "reply"], Method::Get | Method::Head) => {
            pages::reply(&mut c, project, thread).await
        }
        (_, Method::Get | Method::Head) => pages::page(&mut c).await,
        _ => Err(crate::serve::method_not_allowed(&method)),
    }
}
