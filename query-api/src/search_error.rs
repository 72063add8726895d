//! Why a search failed, in the search's own terms. Domain code (parsing,
//! ranking, the shards, the gathering) returns these; the HTTP edge
//! ([`crate::error::ApiError`]) maps each to a status once.

use crate::query::QueryError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchError {
    /// The request is at fault (a query with nothing to search, a page
    /// beyond the last): the same on every shard.
    #[error("{0}")]
    Invalid(String),
    /// Nothing to answer from for now: no index shard answered in time
    /// (worth a retry).
    #[error("{0}")]
    Unavailable(String),
    /// A fault of ours: the index, the docstore, a panic.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<QueryError> for SearchError {
    fn from(error: QueryError) -> Self {
        SearchError::Invalid(error.to_string())
    }
}

impl From<tantivy::TantivyError> for SearchError {
    fn from(error: tantivy::TantivyError) -> Self {
        SearchError::Internal(error.to_string())
    }
}

impl From<indexer::IndexerError> for SearchError {
    fn from(error: indexer::IndexerError) -> Self {
        SearchError::Internal(error.to_string())
    }
}

impl From<tokio::task::JoinError> for SearchError {
    /// A search task that panicked: an error that says why, never a silent
    /// empty answer.
    fn from(error: tokio::task::JoinError) -> Self {
        if !error.is_panic() {
            return SearchError::Internal(format!("search task cancelled: {error}"));
        }
        let payload = error.into_panic();
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_string());
        SearchError::Internal(format!("search panicked: {message}"))
    }
}
