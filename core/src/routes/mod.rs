//! The entry point of a request: [`handle`] finds the route in the table (`table`), hands the
//! request to one handler per resource (`projects`, `threads`, `auth`, `admin`, `pages`), and
//! turns the outcome into an answer (`respond`): JSON, a JSON error, a redirect or the form
//! again for an HTML form. `request` reads bodies, ids and headers.
//!
//! Write API (versioned): `POST /api/v1/projects`, `PUT|PATCH|POST /api/v1/projects/{id}/tags`,
//! `GET|POST /api/v1/projects/{id}/threads`, `POST /api/v1/threads/{id}/vote`, a thread's
//! `revisions` and `reports`, `POST /api/v1/visitors` (and the older `/api/v1/voters`),
//! `GET|PUT /api/v1/visitors/me`, the moderators' `/api/v1/moderation/...`, `GET
//! /api/v1/health`, admin export, import and rebuilds; the spec's literal `POST
//! /projects/propose` and `PUT /projects/tags` too. A thread's reply, edit and report pages
//! (`GET /projects/{id}/threads/{id}/reply|edit|report`) and the visitor's page (`GET /me`) are
//! rendered per request; every other GET/HEAD is a published page (`serve`).
//! data/openapi.yaml documents all of it (a test reads the table).

mod admin;
mod auth;
mod moderation;
mod pages;
mod projects;
mod request;
mod respond;
mod search;
pub mod table;
mod threads;
mod visitors;

use serde_json::json;

use crate::error::{ApiError, ApiResult};
use crate::http::{cors, Method, Request, Response};
use crate::limits;
use crate::platform::{Level, Platform};
use crate::rules::forms::{Form, FormRoute};
use generator::pages::thread_page::Purpose;
use table::{Handler, Matched};

/// What the log line records about a handled request, and what its answer depends on.
#[derive(Default)]
struct Figures {
    route: &'static str,
    round_trips: u32,
    rows_written: usize,
    /// Set when the request is an HTML form submission: it is answered with a redirect or an
    /// HTML form page instead of JSON.
    form: Option<Submission>,
    /// Cookies of an identity issued (or completed) during this request.
    issued_cookies: Vec<String>,
    /// The token of an identity issued during this request: JSON answers carry it.
    issued_token: Option<String>,
    /// Set when the request's visitor cookie failed verification (a forged one, or one signed
    /// with a retired secret): the answer clears it, so the browser is not stuck with it.
    stale_cookie: bool,
}

/// An HTML form submission being handled.
struct Submission {
    form: Form,
    route: FormRoute,
    path: String,
}

/// Everything a handler works with.
struct Call<'a, P: Platform> {
    platform: &'a P,
    req: &'a Request,
    route: Matched,
    figures: Figures,
}

impl<P: Platform> Call<'_, P> {
    /// The test hook that skips a write's queue send (see `Config::test_hooks`).
    fn drop_message(&self) -> bool {
        self.platform.config().test_hooks && self.req.header("x-test-drop-message") == Some("1")
    }
}

/// Which routes a Worker answers itself: [`Every`] one (the publisher Worker, the tests), or
/// [`JsonApi`] (the request Worker, which hands whatever renders HTML to the publisher, so it
/// links no renderer: see [`handle_front`]).
#[allow(async_fn_in_trait)]
trait Routes {
    async fn dispatch<P: Platform>(c: &mut Call<'_, P>) -> ApiResult<Response>;
    /// The answer to a refused HTML form.
    fn refused_form(site: &generator::SiteConfig, submission: &Submission, e: &ApiError) -> Response;
}

/// Every route.
struct Every;

/// The JSON API and the page store's pages.
struct JsonApi;

impl Routes for Every {
    async fn dispatch<P: Platform>(c: &mut Call<'_, P>) -> ApiResult<Response> {
        match c.route.handler {
            Handler::VisitorPage => visitors::page(c).await,
            Handler::SearchPage => search::page(c).await,
            Handler::ReplyPage => pages::thread_page(c, Purpose::Reply).await,
            Handler::EditPage => pages::thread_page(c, Purpose::Edit).await,
            Handler::ReportPage => pages::thread_page(c, Purpose::Report).await,
            Handler::Page => pages::page(c).await,
            _ => dispatch(c).await,
        }
    }

    fn refused_form(site: &generator::SiteConfig, submission: &Submission, e: &ApiError) -> Response {
        respond::form_error(site, submission, e)
    }
}

impl Routes for JsonApi {
    async fn dispatch<P: Platform>(c: &mut Call<'_, P>) -> ApiResult<Response> {
        dispatch(c).await
    }

    fn refused_form(_: &generator::SiteConfig, _: &Submission, e: &ApiError) -> Response {
        respond::error(e)
    }
}

/// Handles one request; never fails: errors become JSON error answers (or, for an HTML form,
/// the form again). HEAD answers like GET without the body.
pub async fn handle(platform: &impl Platform, req: &Request) -> Response {
    answer::<Every>(platform, req).await
}

/// The request Worker's part of [`handle`]: the JSON API and stored pages are answered here;
/// `None` means the publisher answers (an HTML form, a page rendered per request or not
/// stored yet, the deployment's own pages, the 404 page), through its service binding. The
/// request is forwarded before it is counted against a rate limit, so no write counts twice.
pub async fn handle_front(platform: &impl Platform, req: &Request) -> Option<Response> {
    let route = table::find(&req.method, &req.path).ok();
    match route.map(|r| r.handler) {
        Some(Handler::Page) => {
            let path = request::percent_decode(&req.path)?;
            let head = req.method == Method::Head;
            let stored = crate::serve::stored(platform, &path, req.query.as_deref(), req.header("if-none-match"), head);
            let mut response = stored.await.ok()??;
            with_cors(platform, req, &mut response);
            Some(response)
        }
        Some(h) if renders(h) || is_form(req) => None,
        _ => Some(answer::<JsonApi>(platform, req).await),
    }
}

/// Whether a route's answer is a page rendered for the request.
fn renders(handler: Handler) -> bool {
    matches!(
        handler,
        Handler::VisitorPage | Handler::SearchPage | Handler::ReplyPage | Handler::EditPage | Handler::ReportPage
    )
}

/// Whether a write is an HTML form submission (refused, it is answered with the form again),
/// as `BodyKind::of` reads it: a JSON document sent as a form (the spec's `curl -d '{...}'`)
/// is JSON.
fn is_form(req: &Request) -> bool {
    use crate::http::sender::{looks_like_json, media_type_is};
    req.method.has_body()
        && media_type_is(req.header("content-type"), "application/x-www-form-urlencoded")
        && !looks_like_json(&req.body)
}

async fn answer<R: Routes>(platform: &impl Platform, req: &Request) -> Response {
    let start = platform.now().ms;
    let (response, figures) = match table::find(&req.method, &req.path) {
        Ok(route) => {
            let mut call = Call { platform, req, route, figures: Figures::default() };
            let outcome = R::dispatch(&mut call).await;
            (outcome, call.figures)
        }
        Err(e) => (Err(e), Figures { route: "unrouted", ..Figures::default() }),
    };
    let mut response = match response {
        Ok(response) => response,
        Err(e) => {
            if let ApiError::Internal(cause) = &e {
                platform.log(Level::Error, json!({"event": "internal_error", "route": figures.route, "cause": cause}));
            }
            match &figures.form {
                Some(submission) => R::refused_form(&platform.config().site, submission, &e),
                None => respond::error(&e),
            }
        }
    };
    if figures.stale_cookie {
        for cookie in auth::clearing_cookies() {
            response.headers.append("set-cookie", cookie);
        }
    }
    if req.method == Method::Head {
        response.clear_body();
    }
    with_cors(platform, req, &mut response);
    if !is_stored_page_read(&figures, &response) {
        platform.log(
            Level::Info,
            json!({"event": "request", "method": req.method.as_str(), "route": figures.route, "path": req.path,
                   "status": response.status, "duration_ms": platform.now().ms.saturating_sub(start),
                   "d1_round_trips": figures.round_trips, "rows_written": figures.rows_written}),
        );
    }
    response
}

/// Grants an allow-listed origin's page the answer (CORS).
fn with_cors(platform: &impl Platform, req: &Request, response: &mut Response) {
    let config = platform.config();
    for (name, value) in cors::headers_for(req.header("origin"), &config.allowed_origins, req.method == Method::Options)
    {
        response.headers.set(name, value);
    }
}

/// Whether the answer is a published page read from the store (200, or 304 to a revalidation):
/// the hot read path, left out of the request log. The platform's own invocation logs record
/// every request's method, path, status and duration; a console line per read is what made
/// the stored-page GET slow (one `console.log` per request costs a hello-world Worker about
/// 40 % of its throughput under `wrangler dev`). Writes, errors, misses rendered from D1 and
/// every other route are still logged with their D1 figures.
fn is_stored_page_read(figures: &Figures, response: &Response) -> bool {
    figures.route == "page"
        && matches!(response.status, 200 | 304)
        && response.header(crate::serve::SOURCE_HEADER) == Some("stored")
}

async fn dispatch<P: Platform>(c: &mut Call<'_, P>) -> ApiResult<Response> {
    if c.route.handler == Handler::Preflight {
        // CORS preflight: `handle` adds the grant for allow-listed origins.
        c.figures.route = "preflight";
        return Ok(Response::new(204, Vec::new()));
    }
    if c.req.method.has_body() {
        if auth::is_admin(c) {
            limits::check_admin(c.platform).await?;
        } else {
            limits::check_address(c.platform, c.req.header("cf-connecting-ip")).await?;
        }
    }
    match c.route.handler {
        Handler::ProposeProject => projects::propose(c).await,
        Handler::UpdateTags => projects::update_tags(c).await,
        Handler::ListThreads => threads::list(c).await,
        Handler::UpdateThreads => threads::update(c).await,
        Handler::Vote => threads::vote(c).await,
        Handler::Revisions => threads::revisions(c).await,
        Handler::Report => threads::report(c).await,
        Handler::NewVisitor => auth::new_visitor(c),
        Handler::Visitor => visitors::me(c).await,
        Handler::SetDisplayName => visitors::set_name(c).await,
        Handler::Search => search::api(c).await,
        Handler::ModerateThread => moderation::thread(c).await,
        Handler::ModerateProject => moderation::project(c).await,
        Handler::Reports => moderation::reports(c).await,
        Handler::ModerationLog => moderation::log(c).await,
        Handler::Health => admin::health(c).await,
        Handler::Export => admin::export(c).await,
        Handler::Import => admin::import(c).await,
        Handler::StartRebuild => admin::start_rebuild(c).await,
        Handler::RebuildProgress => admin::rebuild_progress(c).await,
        Handler::DeadLetters => admin::dead_letters(c).await,
        Handler::ClearDeadLetters => admin::clear_dead_letters(c).await,
        Handler::Favicon => Ok(pages::favicon(c)),
        Handler::Preflight => Ok(Response::new(204, Vec::new())),
        // Rendered pages: the request Worker hands them on before dispatch (`handle_front`).
        Handler::VisitorPage
        | Handler::SearchPage
        | Handler::ReplyPage
        | Handler::EditPage
        | Handler::ReportPage
        | Handler::Page => Err(ApiError::Internal("a rendered page reached the JSON API's dispatch".into())),
    }
}
