//! The runtime's requests and responses to and from the core's plain ones.

use worker::{Headers, Request, Response, ResponseBody, Result};
#[cfg(feature = "front")]
use worker::{RequestInit, RequestRedirect};

use crowdfund_core::http::{self, Method};

/// Reads a runtime request (its body only for methods that carry one). The method is taken
/// as sent: the `worker` crate maps methods it does not know to GET. The URL is split as the
/// runtime serialised it (WHATWG: host lower-cased and in ASCII, default port dropped, path
/// percent-encoded), not parsed again: `Request::url` would link the `url` crate's IDNA and
/// Unicode tables, a fifth of the wasm's bytes, to redo what the runtime did.
pub async fn request(mut req: Request) -> Result<http::Request> {
    let method = Method::parse(&req.inner().method());
    let mut request = http::Request::new(method, &req.inner().url());
    request.headers = req.headers().entries().collect();
    if request.method.has_body() {
        request.body = req.bytes().await?;
    }
    Ok(request)
}

/// Builds the runtime's response; `held` is the page store's stream for an answer whose body
/// it is (`held_body`).
pub fn response(answer: http::Response, held: Option<ResponseBody>) -> Result<Response> {
    let headers = Headers::new();
    for (name, value) in answer.headers.iter() {
        headers.append(name, value)?;
    }
    let response = match held {
        Some(stream) if answer.held_body => Response::from_body(stream)?,
        _ if answer.body.is_empty() => Response::empty()?,
        _ => Response::from_bytes(answer.body)?,
    };
    Ok(response.with_status(answer.status).with_headers(headers))
}

/// The request again, as the publisher receives it through its service binding (`url` as the
/// visitor sent it; the body already read). Redirects are the visitor's to follow, not ours.
#[cfg(feature = "front")]
pub fn forwarded(url: &str, request: &http::Request) -> Result<Request> {
    let headers = Headers::new();
    for (name, value) in request.headers.iter() {
        headers.append(name, value)?;
    }
    let mut init = RequestInit::new();
    init.with_method(worker::Method::from(request.method.as_str().to_owned()))
        .with_headers(headers)
        .with_redirect(RequestRedirect::Manual);
    if !request.body.is_empty() {
        init.with_body(Some(js_sys::Uint8Array::from(request.body.as_slice()).into()));
    }
    Request::new_with_init(url, &init)
}
