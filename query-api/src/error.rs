//! Every error the API returns, as JSON `{"error": "...", "code": "...",
//! "status": N}` ([`crate::protocol::ErrorBody`]) with a status that says
//! whose fault it is (4xx for the request, 5xx for us) and a `code` that
//! programs can match on: it never changes for the same kind of error,
//! whatever the message says. Domain code fails with a [`SearchError`];
//! this is where it becomes a status and a code. Paths and methods no
//! route takes answer the same way ([`not_found`], [`method_not_allowed`]),
//! and so do requests the HTTP library itself refuses ([`crate::wire`]).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

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
            // Refusals come in floods when the server is overloaded: a line
            // each would cost the CPU that is short and bury other lines.
            ApiError::Unavailable(_) => {
                if let Some(held_back) = UNAVAILABLE_LINES.admit(LogThrottle::now_ms()) {
                    tracing::warn!(error = %self, held_back, "search unavailable");
                }
            }
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

/// The "search unavailable" lines: at most one a second.
static UNAVAILABLE_LINES: LogThrottle = LogThrottle::new();

/// At most one log line a second for an error that can come thousands of
/// times a second; the line written says how many were held back since the
/// last one (`held_back`). The counts in the metrics stay exact.
struct LogThrottle {
    /// When the last line was written, in [`LogThrottle::now_ms`]'s
    /// milliseconds; `u64::MAX` before the first.
    last_line_ms: AtomicU64,
    held_back: AtomicU64,
}

impl LogThrottle {
    const INTERVAL_MS: u64 = 1000;

    const fn new() -> LogThrottle {
        LogThrottle {
            last_line_ms: AtomicU64::new(u64::MAX),
            held_back: AtomicU64::new(0),
        }
    }

    /// Milliseconds of a monotonic clock that starts with the process's
    /// first call.
    fn now_ms() -> u64 {
        static START: OnceLock<Instant> = OnceLock::new();
        START.get_or_init(Instant::now).elapsed().as_millis() as u64
    }

    /// Whether a line may be written at `now_ms`: `Some` with how many were
    /// held back since the last line, or `None`, counted as held back.
    fn admit(&self, now_ms: u64) -> Option<u64> {
        let last = self.last_line_ms.load(Ordering::Relaxed);
        let due = last == u64::MAX || now_ms.saturating_sub(last) >= Self::INTERVAL_MS;
        // Of callers that find a line due at once, one writes it.
        if due
            && self
                .last_line_ms
                .compare_exchange(last, now_ms, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            return Some(self.held_back.swap(0, Ordering::Relaxed));
        }
        self.held_back.fetch_add(1, Ordering::Relaxed);
        None
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_of_errors_writes_a_line_a_second_and_counts_the_rest() {
        let throttle = LogThrottle::new();
        // The first line is written whatever the clock says.
        assert_eq!(throttle.admit(5), Some(0));
        for now in [6, 500, 1004] {
            assert_eq!(throttle.admit(now), None, "at {now} ms");
        }
        assert_eq!(throttle.admit(1005), Some(3));
        assert_eq!(throttle.admit(1500), None);
        // A quiet spell: the next line is written at once, with what was held back.
        assert_eq!(throttle.admit(60_000), Some(1));
        assert_eq!(throttle.admit(60_001), None);
        // A clock read late by another thread (an earlier time) holds back.
        assert_eq!(throttle.admit(59_000), None);
        assert_eq!(throttle.admit(61_000), Some(2));
    }

    #[test]
    fn threads_racing_write_one_line_between_them() {
        let throttle = LogThrottle::new();
        let written = std::thread::scope(|scope| {
            let racers: Vec<_> = (0..4)
                .map(|_| scope.spawn(|| (0..1000).filter(|_| throttle.admit(0).is_some()).count()))
                .collect();
            racers
                .into_iter()
                .map(|racer| racer.join().unwrap())
                .sum::<usize>()
        });
        assert_eq!(written, 1);
        assert_eq!(throttle.admit(LogThrottle::INTERVAL_MS), Some(3999));
    }
}
