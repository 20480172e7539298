//! The runtime's requests and responses to and from the core's plain ones.

use worker::{Headers, Request, Response, Result};

use crowdfund_core::http::{self, Method};

/// Reads a runtime request (its body only for methods that carry one). The method is taken
/// as sent: the `worker` crate maps methods it does not know to GET.
pub async fn request(mut req: Request) -> Result<http::Request> {
    let method = Method::parse(&req.inner().method());
    let url = req.url()?;
    let headers = req.headers().entries().collect();
    let body = if method.has_body() { req.bytes().await? } else { Vec::new() };
    Ok(http::Request {
        method,
        origin: url.origin().ascii_serialization(),
        path: url.path().to_owned(),
        query: url.query().map(str::to_owned),
        headers,
        body,
    })
}

/// Builds the runtime's response.
pub fn response(answer: http::Response) -> Result<Response> {
    let headers = Headers::new();
    for (name, value) in answer.headers.iter() {
        headers.append(name, value)?;
    }
    let response = if answer.body.is_empty() { Response::empty()? } else { Response::from_bytes(answer.body)? };
    Ok(response.with_status(answer.status).with_headers(headers))
}
