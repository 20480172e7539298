//! Answers: JSON bodies, JSON errors, the refused-form page, and the end of every write
//! (send the change, then answer JSON or redirect a form).

use generator::pages::form_error::{self, FormError, FormKind};
use generator::SiteConfig;
use serde_json::Value;
use worker::{Headers, Response};

use super::{Call, Submission};
use crate::config::CHANGES;
use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::forms::{self, FormRoute};
use crate::outbox;
use crate::projects::Written;
use crate::serve;

/// A JSON answer that no cache keeps.
pub fn json(status: u16, body: &Value) -> ApiResult<Response> {
    let response = Response::from_json(body).map_err(db::internal)?.with_status(status);
    let _ = response.headers().set("cache-control", "no-store");
    let _ = response.headers().set("x-content-type-options", "nosniff");
    Ok(response)
}

/// The same answer without its body (HEAD).
pub fn without_body(response: Response) -> Response {
    let (status, headers) = (response.status_code(), response.headers().clone());
    match Response::empty() {
        Ok(empty) => empty.with_status(status).with_headers(headers),
        Err(_) => response,
    }
}

/// The JSON error answer, with `Allow` on 405 and `Retry-After` on 429.
pub fn error(e: &ApiError) -> Response {
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

/// Sends the change (after the commit) and answers the write: JSON with the D1 figures, or a
/// 303 back to the page for a form.
pub async fn written(c: &mut Call<'_>, written: Written) -> ApiResult<Response> {
    c.figures.round_trips = written.round_trips;
    c.figures.rows_written = written.rows_written;
    if let Some(message) = written.message.as_ref().filter(|_| !c.figures.drop_message) {
        let queue = c.env.queue(CHANGES).map_err(db::internal)?;
        outbox::send(&queue, message).await;
    }
    if let Some(submission) = &c.figures.form {
        let location = forms::success_location(submission.route, &submission.form.return_to(), &written.body);
        let headers = Headers::new();
        headers.set("location", &location).map_err(db::internal)?;
        headers.set("cache-control", "no-store").map_err(db::internal)?;
        if let Some(cookie) = &c.figures.set_cookie {
            headers.set("set-cookie", cookie).map_err(db::internal)?;
        }
        return Ok(Response::empty().map_err(db::internal)?.with_status(303).with_headers(headers));
    }
    let response = json(written.status, &written.body)?;
    let _ = response
        .headers()
        .set("x-d1", &format!("round_trips={}; rows_written={}", written.round_trips, written.rows_written));
    Ok(response)
}

/// Answers a refused form with the form again, filled in, and the error by its field.
pub fn form_error(site: &SiteConfig, submission: &Submission, e: &ApiError) -> Response {
    let kind = match submission.route {
        FormRoute::Propose => FormKind::Propose,
        FormRoute::Tags => FormKind::Tags,
        FormRoute::Threads => {
            FormKind::Thread { parent_id: submission.form.get("parent_id").and_then(|p| p.trim().parse().ok()) }
        }
        FormRoute::Vote => FormKind::Vote,
    };
    let refused = FormError {
        kind,
        action: submission.path.clone(),
        return_to: submission.form.return_to(),
        values: submission.form.fields.clone(),
        field: e.field().map(str::to_owned),
        message: e.to_string(),
    };
    let Ok(page) = form_error::render(site, &refused) else { return error(e) };
    let headers = Headers::new();
    let _ = headers.set("content-type", page.content_type);
    let _ = headers.set("cache-control", "no-store");
    for (name, value) in serve::SECURITY_HEADERS {
        let _ = headers.set(name, value);
    }
    match Response::from_bytes(page.body) {
        Ok(r) => r.with_status(e.status()).with_headers(headers),
        Err(_) => error(e),
    }
}
