//! The one error type of the write API: each variant knows its HTTP status and its stable
//! machine-readable code. Internal causes are logged by the caller, never sent to clients.

use serde::Serialize;

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// 400: the body is not JSON, or not the JSON a route takes.
    #[error("{message}")]
    Malformed { message: String },
    /// 401: a write that needs an identity came without one (e.g. a vote without a voter).
    #[error("{0}")]
    Unauthenticated(String),
    /// 403: the request came from an origin that may not write, or its visitor may not do
    /// this (edit another's thread, remove tags from another's project).
    #[error("{message}")]
    Forbidden { message: String, field: Option<String> },
    /// 404: the project, thread or page does not exist.
    #[error("{what} not found")]
    NotFound { what: String, field: Option<String> },
    /// 405: the path exists but not with this method.
    #[error("method {method} is not allowed here; allowed: {allowed}")]
    MethodNotAllowed { method: String, allowed: String },
    /// 409: the write conflicts with stored state (e.g. a duplicate project name).
    #[error("{message}")]
    Conflict { message: String, field: Option<String> },
    /// 413: the body is larger than the route accepts.
    #[error("the body is larger than {limit} bytes")]
    TooLarge { limit: usize },
    /// 415: the body is not `application/json` (or a form, where forms are taken).
    #[error("content type must be {expected}")]
    UnsupportedMediaType { expected: String },
    /// 422: well-formed input that breaks a rule (empty name, too many tags, unknown type...).
    #[error("{message}")]
    Invalid { field: String, message: String },
    /// 429: too many writes; retry after the given seconds.
    #[error("too many requests; retry in {retry_after} s")]
    RateLimited { retry_after: u32 },
    /// 500: something failed inside; details are in the log only.
    #[error("internal error")]
    Internal(String),
}

/// The JSON body every failure answers with: `{"error": {"code", "message", "field"?}}`.
#[derive(Debug, Serialize)]
pub struct ErrorBody<'a> {
    pub error: ErrorDetail<'a>,
}

#[derive(Debug, Serialize)]
pub struct ErrorDetail<'a> {
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'a str>,
}

impl ApiError {
    /// Builds a 422 for one field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Invalid { field: field.into(), message: message.into() }
    }

    /// Builds a 403 without a field.
    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError::Forbidden { message: message.into(), field: None }
    }

    /// Builds a 404 for a thing named in the message.
    pub fn not_found(what: impl Into<String>) -> Self {
        ApiError::NotFound { what: what.into(), field: None }
    }

    /// Returns the HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            ApiError::Malformed { .. } => 400,
            ApiError::Unauthenticated(_) => 401,
            ApiError::Forbidden { .. } => 403,
            ApiError::NotFound { .. } => 404,
            ApiError::MethodNotAllowed { .. } => 405,
            ApiError::Conflict { .. } => 409,
            ApiError::TooLarge { .. } => 413,
            ApiError::UnsupportedMediaType { .. } => 415,
            ApiError::Invalid { .. } => 422,
            ApiError::RateLimited { .. } => 429,
            ApiError::Internal(_) => 500,
        }
    }

    /// Returns the stable code clients can switch on.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Malformed { .. } => "malformed",
            ApiError::Unauthenticated(_) => "unauthenticated",
            ApiError::Forbidden { .. } => "forbidden",
            ApiError::NotFound { .. } => "not_found",
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::Conflict { .. } => "conflict",
            ApiError::TooLarge { .. } => "too_large",
            ApiError::UnsupportedMediaType { .. } => "unsupported_media_type",
            ApiError::Invalid { .. } => "invalid",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Internal(_) => "internal",
        }
    }

    /// Returns the field the error concerns, if one.
    pub fn field(&self) -> Option<&str> {
        match self {
            ApiError::Invalid { field, .. } => Some(field),
            ApiError::NotFound { field, .. } | ApiError::Conflict { field, .. } | ApiError::Forbidden { field, .. } => {
                field.as_deref()
            }
            _ => None,
        }
    }

    /// Serializes the public body; an internal cause never leaves the Worker.
    pub fn body(&self) -> String {
        let body =
            ErrorBody { error: ErrorDetail { code: self.code(), message: self.to_string(), field: self.field() } };
        serde_json::to_string(&body)
            .unwrap_or_else(|_| r#"{"error":{"code":"internal","message":"internal error"}}"#.into())
    }
}

/// Every code [`ApiError::code`] answers, in status order (the OpenAPI test reads this list).
pub const ERROR_CODES: [&str; 11] = [
    "malformed",
    "unauthenticated",
    "forbidden",
    "not_found",
    "method_not_allowed",
    "conflict",
    "too_large",
    "unsupported_media_type",
    "invalid",
    "rate_limited",
    "internal",
];

/// The write API's result type.
pub type ApiResult<T> = Result<T, ApiError>;

impl From<crate::sql::DbError> for ApiError {
    fn from(e: crate::sql::DbError) -> Self {
        ApiError::Internal(e.message)
    }
}

impl From<crate::platform::PortError> for ApiError {
    fn from(e: crate::platform::PortError) -> Self {
        ApiError::Internal(e.0)
    }
}

impl From<generator::Error> for ApiError {
    fn from(e: generator::Error) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl From<serde_json::Error> for ApiError {
    /// Serialising our own values; parsing input goes through `rules::input`, which words its
    /// errors for clients.
    fn from(e: serde_json::Error) -> Self {
        ApiError::Internal(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_causes_are_not_sent() {
        let e = ApiError::Internal("D1_ERROR: secret detail".into());
        assert_eq!(e.status(), 500);
        assert!(!e.body().contains("secret"));
    }

    #[test]
    fn every_code_is_listed_once() {
        let all = [
            ApiError::Malformed { message: String::new() },
            ApiError::Unauthenticated(String::new()),
            ApiError::forbidden(""),
            ApiError::not_found("x"),
            ApiError::MethodNotAllowed { method: String::new(), allowed: String::new() },
            ApiError::Conflict { message: String::new(), field: None },
            ApiError::TooLarge { limit: 1 },
            ApiError::UnsupportedMediaType { expected: String::new() },
            ApiError::invalid("f", "m"),
            ApiError::RateLimited { retry_after: 1 },
            ApiError::Internal(String::new()),
        ];
        assert_eq!(all.iter().map(ApiError::code).collect::<Vec<_>>(), ERROR_CODES);
        assert!(all.windows(2).all(|w| w[0].status() < w[1].status()));
    }

    #[test]
    fn invalid_names_its_field() {
        let e = ApiError::invalid("tags", "at most 10 tags");
        assert_eq!(e.status(), 422);
        let v: serde_json::Value = serde_json::from_str(&e.body()).expect("json");
        assert_eq!(v["error"]["field"], "tags");
        assert_eq!(v["error"]["code"], "invalid");
    }
}
