//! Every error the API returns, as JSON `{"error": "...", "code": "...",
//! "status": N}` ([`crate::protocol::ErrorBody`]) with a status that says
//! whose fault it is (4xx for the request, 5xx for us) and a `code` that
//! programs can match on: it never changes for the same kind of error,
//! whatever the message says. Domain code fails with a [`SearchError`];
//! this is where it becomes a status and a code. Paths and methods no
//! route takes answer the same way ([`not_found`], [`method_not_allowed`]),
//! and so do requests the HTTP library itself refuses ([`crate::wire`]).

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::search_error::SearchError;

#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// A parameter of the wrong type or out of its range.
    #[error("{0}")]
    BadRequest(String),
    /// A query that cannot be searched: empty, too long, only exclusions.
    #[error("{0}")]
    InvalidQuery(String),
    #[error("{0}")]
    NotFound(String),
    /// No API key, or one this server does not know.
    #[error("{0}")]
    Unauthorized(String),
    /// A known key that may not do this (a search key on an admin route).
    #[error("{0}")]
    Forbidden(String),
    /// The client asked faster than its rate limit allows.
    #[error(
        "too many requests: at most {per_second} per second from one client; retry in {retry_after_secs} s"
    )]
    RateLimited { per_second: f64, retry_after_secs: u64 },
    /// Nothing to answer from: every index shard failed.
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<SearchError> for ApiError {
    /// The one place a search's failure becomes an HTTP status.
    fn from(error: SearchError) -> Self {
        match error {
            SearchError::Invalid(message) => ApiError::InvalidQuery(message),
            SearchError::Unavailable(message) => ApiError::Unavailable(message),
            SearchError::Internal(message) => ApiError::Internal(message),
        }
    }
}

impl ApiError {
    /// The error's stable code (the OpenAPI document lists them all).
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "invalid_parameter",
            ApiError::InvalidQuery(_) => "invalid_query",
            ApiError::NotFound(_) => "not_found",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) | ApiError::InvalidQuery(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        match &self {
            ApiError::Unavailable(_) => tracing::warn!(error = %self, "search unavailable"),
            ApiError::Internal(_) => tracing::error!(error = %self, "request failed"),
            _ => {}
        }
        let mut response = error_response(status, self.code(), &self.to_string());
        let headers = response.headers_mut();
        match &self {
            ApiError::Unauthorized(_) => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    header::HeaderValue::from_static("Bearer"),
                );
            }
            ApiError::RateLimited { retry_after_secs, .. } => {
                headers.insert(header::RETRY_AFTER, header::HeaderValue::from(*retry_after_secs));
            }
            _ => {}
        }
        response
    }
}

/// The JSON error body every error of the API has.
fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({ "error": message, "code": code, "status": status.as_u16() })),
    )
        .into_response()
}

/// `404` for a path no route serves, as JSON.
pub async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::NotFound(format!("no such path: {}", uri.path()))
}

/// `405` for a method a route does not take, as JSON.
pub async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> Response {
    let message = format!("{method} is not allowed on {}", uri.path());
    error_response(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", &message)
}
