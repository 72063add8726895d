//! The query API: it answers searches over REST and serves the HTML search
//! page.
//!
//! It owns query parsing, ranking, snippets and every HTTP surface (the
//! index and document services' too). It reads the index and the docstore
//! through the indexer crate's read side and never writes to either.
//!
//! - [`search`]: a query string to ranked results with snippets.
//! - [`routes`]: the axum router: `/api/v1/search`, `/`, `/healthz`.
//! - [`shard`]: one index shard's matches and scores, `/shard/search`, for
//!   the index service of a sharded (RabbitMQ) pipeline.
//! - [`docs`]: a stored document by id, `/docs/{doc_id}`, for the document
//!   service.
//! - [`page`]: the HTML search page (works without JavaScript).
//! - [`error`]: API errors, mapped to JSON with a 4xx or 5xx status.

pub mod docs;
pub mod error;
pub mod page;
pub mod routes;
pub mod search;
pub mod shard;
pub mod snippet;
pub mod spell;

use std::future::Future;
use std::sync::Arc;

pub use error::ApiError;
pub use routes::router;
pub use search::{SearchResponse, SearchResult, SearchService};

/// Serves the API on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    service: Arc<SearchService>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(service))
        .with_graceful_shutdown(shutdown)
        .await
}
