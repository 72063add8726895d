//! Every error the API returns, as JSON `{"error": "...", "status": N}`
//! ([`crate::protocol::ErrorBody`]) with a status that says whose fault it
//! is: 4xx for the request, 5xx for us. Domain code fails with a
//! [`SearchError`]; this is where it becomes a status. Paths and methods no route takes answer the same way
//! ([`not_found`], [`method_not_allowed`]), and so do requests the HTTP
//! library itself refuses ([`crate::wire`]).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::search_error::SearchError;

#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
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
            SearchError::Invalid(message) => ApiError::BadRequest(message),
            SearchError::Unavailable(message) => ApiError::Unavailable(message),
            SearchError::Internal(message) => ApiError::Internal(message),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Unavailable(_) => {
                tracing::warn!(error = %self, "search unavailable");
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Internal(_) => {
                tracing::error!(error = %self, "request failed");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        (
            status,
            Json(json!({ "error": self.to_string(), "status": status.as_u16() })),
        )
            .into_response()
    }
}

/// `404` for a path no route serves, as JSON.
pub async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::NotFound(format!("no such path: {}", uri.path()))
}

/// `405` for a method a route does not take, as JSON.
pub async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> Response {
    let status = StatusCode::METHOD_NOT_ALLOWED;
    let message = format!("{method} is not allowed on {}", uri.path());
    (
        status,
        Json(json!({ "error": message, "status": status.as_u16() })),
    )
        .into_response()
}
