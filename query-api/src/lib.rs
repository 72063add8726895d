//! The query API: it answers searches over REST and serves the HTML search
//! page.
//!
//! It owns query parsing, ranking, snippets and every HTTP surface (the
//! index and document services' too). It reads the index and the docstore
//! through the indexer crate's read side and never writes to either.
//!
//! A search's path: [`routes`] reads the request, [`query`] parses it,
//! [`search`] asks every shard ([`backends`]: each one a
//! [`shard_search::ShardSearcher`], here or over HTTP, spoken to in the
//! [`protocol`]) for statistics and matches ranked by [`rank`], corrects
//! spelling with [`spell`], keeps answers in the [`cache`], and cuts
//! [`snippet`]s from the documents the document service ([`docs`])
//! returns. Domain code fails with a [`SearchError`]; [`error`] turns it
//! into an HTTP status, once, at the edge.
//!
//! - [`query`]: the query language (AND, OR, NOT, phrases, site:, intitle:).
//! - [`rank`]: a parsed query to a tantivy query; priors; corpus statistics.
//! - [`seeking`]: a word over several fields, most of a question's words
//!   and a page's bonuses, walked by seeking rather than tantivy's unions.
//! - [`sections`]: a shard's best pages scored by their best section too.
//! - [`spell`]: did-you-mean from the index's term dictionary.
//! - [`snippet`]: highlighted, phrase-aware snippets.
//! - [`cache`]: the LRU query cache with single flight.
//! - [`seen`]: requests asked before, answered again with one lookup.
//! - [`admission`]: how many searches run at once; the others wait their turn.
//! - [`search`]: scatter-gather over shards, paging, host crowding.
//! - [`backends`]: shards and documents in this process or over HTTP.
//! - [`protocol`]: what the API and a shard or the document service say to
//!   each other; the paging limits.
//! - [`shard_search`]: one shard's searches, `/shard/*`, served by `trawl index`.
//! - [`docs`]: stored documents, `/docs`, served by `trawl docs`.
//! - [`routes`]: `/api/v1/search`, `/api/v1/stats`, `/api/v1/openapi.json`,
//!   `/`, health.
//! - [`access`]: API keys, the per-client rate limit, CORS.
//! - [`page`]: the HTML search page (works without JavaScript).
//! - [`search_error`]: why a search failed, in the domain's terms.
//! - [`error`]: API errors, mapped to JSON with a 4xx or 5xx status.
//! - [`wire`]: serving HTTP so that even the HTTP library's own errors are JSON.

pub mod access;
pub mod admission;
pub mod backends;
pub mod cache;
pub mod docs;
pub mod error;
pub mod page;
pub mod protocol;
pub mod query;
pub mod rank;
pub mod routes;
pub mod search;
pub mod search_error;
pub mod sections;
pub mod seeking;
pub mod seen;
pub mod shard_search;
pub mod snippet;
pub mod spell;
pub mod wire;

use std::future::Future;
use std::sync::Arc;

pub use access::{AccessConfig, RateLimit};
pub use error::ApiError;
pub use routes::router;
pub use search::{SearchConfig, SearchRequest, SearchResponse, SearchResult, SearchService};
pub use search_error::SearchError;

/// Serves the API on `listener`, behind `access`'s keys, rate limit and
/// CORS, until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    service: Arc<SearchService>,
    access: AccessConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits_rate = access.rate_limit.is_some();
    let app = access::protect(wire::with_json_fallbacks(router(service)), access);
    wire::serve_app(listener, app, limits_rate, shutdown).await
}

/// The Prometheus text of every metric this process records.
pub fn render_metrics() -> String {
    common::metrics::render()
}
