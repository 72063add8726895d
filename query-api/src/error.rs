//! Every error the API returns, as JSON `{"error": "..."}` with a status
//! that says whose fault it is: 4xx for the request, 5xx for us.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

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

impl From<tantivy::TantivyError> for ApiError {
    fn from(error: tantivy::TantivyError) -> Self {
        ApiError::Internal(error.to_string())
    }
}

impl From<indexer::IndexerError> for ApiError {
    fn from(error: indexer::IndexerError) -> Self {
        ApiError::Internal(error.to_string())
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
        (status, Json(json!({ "error": self.to_string() }))).into_response()
    }
}
