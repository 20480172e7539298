//! Answers: JSON bodies, JSON errors, the refused-form page, and the end of every write
//! (send the change, then answer JSON or redirect a form).

use generator::pages::form_error::{self, FormError, FormKind};
use generator::SiteConfig;
use serde_json::Value;

use super::{Call, Submission};
use crate::error::{ApiError, ApiResult};
use crate::http::Response;
use crate::outbox;
use crate::platform::Platform;
use crate::rules::forms::{self, FormRoute};
use crate::serve::SECURITY_HEADERS;
use crate::write::Written;

/// A JSON answer that no cache keeps.
pub fn json(status: u16, body: &Value) -> ApiResult<Response> {
    Ok(Response::new(status, serde_json::to_vec(body)?)
        .with_header("content-type", "application/json")
        .with_header("cache-control", "no-store")
        .with_header("x-content-type-options", "nosniff"))
}

/// The JSON error answer, with `Allow` on 405 and `Retry-After` on 429.
pub fn error(e: &ApiError) -> Response {
    let mut response = Response::new(e.status(), e.body().into_bytes())
        .with_header("content-type", "application/json")
        .with_header("cache-control", "no-store")
        .with_header("x-content-type-options", "nosniff");
    match e {
        ApiError::MethodNotAllowed { allowed, .. } => response.headers.set("allow", allowed.as_str()),
        ApiError::RateLimited { retry_after } => response.headers.set("retry-after", retry_after.to_string()),
        _ => {}
    }
    response
}

/// Sends the change (after the commit) and answers the write: JSON with the D1 figures, or a
/// 303 back to the page for a form.
pub async fn written<P: Platform>(c: &mut Call<'_, P>, written: Written) -> ApiResult<Response> {
    c.figures.round_trips = written.round_trips;
    c.figures.rows_written = written.rows_written;
    if let Some(message) = written.message.as_ref().filter(|_| !c.drop_message()) {
        outbox::send(c.platform, message).await;
    }
    if let Some(submission) = &c.figures.form {
        let location = forms::success_location(submission.route, &submission.form.return_to(), &written.body);
        let response =
            Response::new(303, Vec::new()).with_header("location", location).with_header("cache-control", "no-store");
        return Ok(with_issued(c, response));
    }
    let mut body = written.body;
    if let (Some(token), Some(fields)) = (&c.figures.issued_token, body.as_object_mut()) {
        // How to send the new identity again: this token as a bearer token (or the cookie).
        fields.insert("visitor_token".into(), token.clone().into());
    }
    let response = json(written.status, &body)?
        .with_header("x-d1", format!("round_trips={}; rows_written={}", written.round_trips, written.rows_written));
    Ok(with_issued(c, response))
}

/// Adds the cookies of an identity issued during the request.
fn with_issued<P: Platform>(c: &Call<'_, P>, mut response: Response) -> Response {
    for cookie in &c.figures.issued_cookies {
        response.headers.append("set-cookie", cookie.as_str());
    }
    response
}

/// Answers a refused form with the form again, filled in, and the error by its field.
pub fn form_error(site: &SiteConfig, submission: &Submission, e: &ApiError) -> Response {
    let kind = match submission.route {
        FormRoute::Propose => FormKind::Propose,
        FormRoute::Tags => FormKind::Tags,
        FormRoute::Threads => match submission.form.get("thread_id").and_then(|t| t.trim().parse().ok()) {
            Some(thread_id) => FormKind::Edit { thread_id },
            None => {
                FormKind::Thread { parent_id: submission.form.get("parent_id").and_then(|p| p.trim().parse().ok()) }
            }
        },
        FormRoute::Vote => FormKind::Vote,
        FormRoute::Report => FormKind::Report,
        FormRoute::DisplayName => FormKind::DisplayName,
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
    let mut response = Response::new(e.status(), page.body)
        .with_header("content-type", page.content_type)
        .with_header("cache-control", "no-store");
    for (name, value) in SECURITY_HEADERS {
        response.headers.set(name, value);
    }
    response
}
