//! The document service's HTTP surface: a stored document by its id.
//!
//! `GET /docs/{doc_id}` (16 hex digits) answers the document as JSON
//! (`doc_id`, `url`, `title`, `static_snippet`, `headings`, `text`,
//! `fetched_at_ms`), 404 when the store does not have it, 400 for an id
//! that is not one. `GET /docs?ids=a,b,c` answers several at once, in
//! order, `null` for any the store lacks (what the query API asks for a
//! page of results).

use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::routing::get;
use common::DocId;
use indexer::Docstore;

use crate::error::ApiError;
use crate::protocol::{DocResponse, DocsResponse};
use crate::search_error::SearchError;

/// Most documents one `/docs?ids=` request may ask for.
pub const MAX_IDS_PER_REQUEST: usize = 256;

/// How often a reader in another process than the writer picks up the
/// docstore's new writes.
const CATCH_UP_EVERY: Duration = Duration::from_millis(500);

/// Decides when a docstore secondary should catch up with its writer: at
/// most every [`CATCH_UP_EVERY`].
pub struct CatchUp {
    last: Mutex<Instant>,
}

impl Default for CatchUp {
    fn default() -> Self {
        CatchUp {
            last: Mutex::new(Instant::now() - CATCH_UP_EVERY),
        }
    }
}

impl CatchUp {
    /// True when it is time to catch up (and from then on, not for a while).
    pub fn due(&self) -> bool {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if last.elapsed() >= CATCH_UP_EVERY {
            *last = Instant::now();
            true
        } else {
            false
        }
    }
}

/// `/docs/{doc_id}`, `/docs?ids=` and `/healthz`.
pub fn router(docstore: Arc<Docstore>) -> Router {
    Router::new()
        .route("/docs", get(documents))
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
    .map_err(SearchError::from)?
    .map_err(SearchError::from)?;
    match found {
        Some(doc) => Ok(axum::Json(DocResponse {
            doc_id: doc_id.to_string(),
            doc,
        })),
        None => Err(ApiError::NotFound(format!("no document {doc_id}"))),
    }
}

async fn documents(
    State(docstore): State<Arc<Docstore>>,
    RawQuery(raw): RawQuery,
) -> Result<axum::Json<DocsResponse>, ApiError> {
    let mut ids: Vec<DocId> = Vec::new();
    for (key, value) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        if key == "ids" {
            for id in value.split(',').filter(|id| !id.trim().is_empty()) {
                ids.push(id.trim().parse().map_err(|e: common::model::InvalidDocId| {
                    ApiError::BadRequest(format!("{id:?}: {e}"))
                })?);
            }
        }
    }
    if ids.len() > MAX_IDS_PER_REQUEST {
        return Err(ApiError::BadRequest(format!(
            "at most {MAX_IDS_PER_REQUEST} ids per request, got {}",
            ids.len()
        )));
    }
    let found = tokio::task::spawn_blocking({
        let ids = ids.clone();
        move || {
            docstore.catch_up()?;
            docstore.get_many(&ids)
        }
    })
    .await
    .map_err(SearchError::from)?
    .map_err(SearchError::from)?;
    Ok(axum::Json(DocsResponse {
        docs: ids
            .iter()
            .zip(found)
            .map(|(id, doc)| {
                doc.map(|doc| DocResponse {
                    doc_id: id.to_string(),
                    doc,
                })
            })
            .collect(),
    }))
}
