//! One index shard's search over HTTP: the documents of this shard that
//! match, with their scores, and nothing else. A query API that gathers
//! over every shard merges these by score and fetches titles and snippets
//! from the document service.
//!
//! `GET /shard/search?query=...&limit=...` answers
//! `{"shard": 0, "query": "...", "total": 12, "hits": [{"doc_id": "00ab...", "score": 3.2}]}`;
//! document ids are their 16 hex digits (a JSON number would lose bits in
//! JavaScript). Queries are read as the full API reads them, and scored by
//! the same BM25, so scores from shards of one crawl compare.

use std::sync::Arc;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::routing::get;
use common::DocId;
use indexer::IndexReaderHandle;
use serde::{Deserialize, Serialize};
use tantivy::TantivyDocument;
use tantivy::collector::{Count, TopDocs};
use tantivy::schema::Value;

use crate::ApiError;
use crate::search::{MAX_PER_PAGE, MAX_RESULT_OFFSET, clean_query, parse_query};

pub const DEFAULT_LIMIT: usize = 10;
/// The deepest page the full API can ask for, from any one shard.
pub const MAX_LIMIT: usize = MAX_RESULT_OFFSET + MAX_PER_PAGE;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardHits {
    pub shard: u32,
    pub query: String,
    /// Matching documents in this shard, beyond the `limit` returned.
    pub total: usize,
    /// Best first.
    pub hits: Vec<ShardHit>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardHit {
    pub doc_id: String,
    pub score: f32,
}

/// Searches one shard's index, following its writer's commits.
pub struct ShardSearcher {
    index: IndexReaderHandle,
    shard: u32,
}

impl ShardSearcher {
    pub fn new(index: IndexReaderHandle, shard: u32) -> ShardSearcher {
        ShardSearcher { index, shard }
    }

    /// The best `limit` matches of `query` (1 to [`MAX_LIMIT`]).
    pub fn search(&self, query: &str, limit: usize) -> Result<ShardHits, ApiError> {
        let query_text = clean_query(query)?;
        let limit = limit.clamp(1, MAX_LIMIT);
        let searcher = self.index.reader.searcher();
        let query = parse_query(&self.index, &query_text);
        let collector = (TopDocs::with_limit(limit).order_by_score(), Count);
        let (top, total) = searcher.search(&*query, &collector)?;
        let mut hits = Vec::with_capacity(top.len());
        for (score, address) in top {
            let doc: TantivyDocument = searcher.doc(address)?;
            let id = doc
                .get_first(self.index.fields.doc_id)
                .and_then(|v| v.as_u64())
                .unwrap_or_default();
            hits.push(ShardHit {
                doc_id: DocId(id).to_string(),
                score,
            });
        }
        Ok(ShardHits {
            shard: self.shard,
            query: query_text,
            total,
            hits,
        })
    }
}

/// `/shard/search` and `/healthz`.
pub fn router(searcher: Arc<ShardSearcher>) -> Router {
    Router::new()
        .route("/shard/search", get(search))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(searcher)
}

async fn search(
    State(searcher): State<Arc<ShardSearcher>>,
    RawQuery(raw): RawQuery,
) -> Result<axum::Json<ShardHits>, ApiError> {
    let mut query = String::new();
    let mut limit = DEFAULT_LIMIT;
    for (key, value) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "query" | "q" => query = value.into_owned(),
            "limit" => {
                limit = value
                    .trim()
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_LIMIT).contains(n))
                    .ok_or_else(|| {
                        ApiError::BadRequest(format!("limit must be from 1 to {MAX_LIMIT}, got {value:?}"))
                    })?
            }
            _ => {}
        }
    }
    // Searching reads mmapped segments: blocking work.
    let hits = tokio::task::spawn_blocking(move || searcher.search(&query, limit))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    Ok(axum::Json(hits))
}
