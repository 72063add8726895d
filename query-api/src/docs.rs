//! The document service's HTTP surface: a stored document by its id.
//!
//! `GET /docs/{doc_id}` (16 hex digits) answers the document as JSON
//! (`doc_id`, `url`, `title`, `static_snippet`, `headings`, `text`,
//! `fetched_at_ms`), 404 when the store does not have it, 400 for an id
//! that is not one.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use common::DocId;
use indexer::{Docstore, StoredDoc};
use serde::{Deserialize, Serialize};

use crate::ApiError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocResponse {
    pub doc_id: String,
    #[serde(flatten)]
    pub doc: StoredDoc,
}

/// `/docs/{doc_id}` and `/healthz`.
pub fn router(docstore: Arc<Docstore>) -> Router {
    Router::new()
        .route("/docs/{doc_id}", get(document))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(docstore)
}

async fn document(
    State(docstore): State<Arc<Docstore>>,
    Path(doc_id): Path<String>,
) -> Result<axum::Json<DocResponse>, ApiError> {
    let doc_id: DocId = doc_id
        .parse()
        .map_err(|e: common::model::InvalidDocId| ApiError::BadRequest(e.to_string()))?;
    // A RocksDB read may touch the disk: blocking work.
    let found = tokio::task::spawn_blocking(move || {
        docstore.catch_up()?;
        docstore.get(doc_id)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))??;
    match found {
        Some(doc) => Ok(axum::Json(DocResponse {
            doc_id: doc_id.to_string(),
            doc,
        })),
        None => Err(ApiError::NotFound(format!("no document {doc_id}"))),
    }
}
