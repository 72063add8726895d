//! The query API: it answers searches over REST and serves the HTML search
//! page.
//!
//! It owns query parsing, ranking, snippets and every HTTP surface (the
//! index and document services' too). It reads the index and the docstore
//! through the indexer crate's read side and never writes to either.
//!
//! A search's path: [`routes`] reads the request, [`query`] parses it,
//! [`search`] asks every shard ([`shards`], each one a [`shard`]) for
//! statistics and matches ranked by [`rank`], corrects spelling with
//! [`spell`], keeps answers in the [`cache`], and cuts [`snippet`]s from
//! the documents the document service ([`docs`]) returns.
//!
//! - [`query`]: the query language (AND, OR, NOT, phrases, site:, intitle:).
//! - [`rank`]: a parsed query to a tantivy query; priors; corpus statistics.
//! - [`spell`]: did-you-mean from the index's term dictionary.
//! - [`snippet`]: highlighted, phrase-aware snippets.
//! - [`cache`]: the LRU query cache with single flight.
//! - [`search`]: scatter-gather over shards, paging, host crowding.
//! - [`shards`]: shards and documents in this process or over HTTP.
//! - [`shard`]: one shard's searches, `/shard/*`, served by `trawl index`.
//! - [`docs`]: stored documents, `/docs`, served by `trawl docs`.
//! - [`routes`]: `/api/v1/search`, `/api/v1/openapi.json`, `/`, health.
//! - [`page`]: the HTML search page (works without JavaScript).
//! - [`error`]: API errors, mapped to JSON with a 4xx or 5xx status.

pub mod cache;
pub mod docs;
pub mod error;
pub mod page;
pub mod query;
pub mod rank;
pub mod routes;
pub mod search;
pub mod shard;
pub mod shards;
pub mod snippet;
pub mod spell;

use std::future::Future;
use std::sync::Arc;

pub use error::ApiError;
pub use routes::router;
pub use search::{SearchConfig, SearchRequest, SearchResponse, SearchResult, SearchService};

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

/// The Prometheus text of every metric this process records.
pub fn render_metrics() -> String {
    common::metrics::render()
}
