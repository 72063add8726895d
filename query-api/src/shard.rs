//! One index shard's side of a search: the statistics of a query's terms,
//! spelling candidates from its term dictionary, and its best matches with
//! their scores. The query API gathers these over every shard
//! ([`crate::shards`]) and fetches titles and snippets from the document
//! service.
//!
//! Over HTTP (`trawl index --listen`):
//! - `GET /shard/generation` answers the generation of the commit searched
//!   now: the query API's cache key;
//! - `POST /shard/prepare` with a [`PrepareRequest`] answers [`Prepared`]:
//!   the shard's generation, the corpus statistics of the query's terms and
//!   spelling candidates;
//! - `POST /shard/query` with a [`QueryRequest`] answers [`ShardHits`],
//!   scored with the statistics given (every shard's together), so that
//!   scores of different shards compare;
//! - `GET /shard/search?query=...&limit=...` is the same search for people
//!   and scripts, scored with this shard's own statistics.
//!
//! Document ids are their 16 hex digits (a JSON number would lose bits in
//! JavaScript).

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use common::DocId;
use indexer::IndexReaderHandle;
use serde::{Deserialize, Serialize};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::Query;
use tantivy::schema::Value;
use tantivy::{Searcher, TantivyDocument, Term};

use crate::ApiError;
use crate::query::ParsedQuery;
use crate::rank::{self, CorpusStats, GlobalStatistics, Ranking};
use crate::search::{MAX_PER_PAGE, MAX_RESULT_OFFSET};

pub const DEFAULT_LIMIT: usize = 10;
/// The deepest the full API asks any one shard for: every result it may
/// page to, and those that host crowding may move onto the last page.
pub const MAX_LIMIT: usize = MAX_RESULT_OFFSET + 4 * MAX_PER_PAGE;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrepareRequest {
    /// The normalized query (or, for the baseline, the cleaned text).
    pub query: String,
    #[serde(default)]
    pub ranking: Ranking,
    /// Require most words rather than all ([`rank::build`]).
    #[serde(default)]
    pub relaxed: bool,
    /// Words to find spelling candidates for.
    #[serde(default)]
    pub spell_words: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prepared {
    pub shard: u32,
    /// Changes with every commit the shard's reader has loaded.
    pub generation: u64,
    pub stats: CorpusStats,
    pub spelling: Vec<WordSpelling>,
}

/// A query word in this shard's dictionary, and the words within two
/// edits of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WordSpelling {
    pub word: String,
    /// Documents containing the word as typed.
    pub df: u64,
    pub candidates: Vec<(String, u64)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryRequest {
    pub query: String,
    #[serde(default)]
    pub ranking: Ranking,
    pub limit: usize,
    /// Require most words rather than all ([`rank::build`]).
    #[serde(default)]
    pub relaxed: bool,
    /// Every shard's statistics together; this shard's own when absent.
    #[serde(default)]
    pub stats: Option<CorpusStats>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardHits {
    pub shard: u32,
    pub generation: u64,
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
    pub url: String,
    pub title: String,
    /// The host key, for at most two results per host on a page.
    pub site: String,
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

    pub fn shard(&self) -> u32 {
        self.shard
    }

    /// The generation of the commit searches see now.
    pub fn generation(&self) -> u64 {
        generation(&self.index.reader.searcher())
    }

    fn build(&self, query: &str, ranking: Ranking, relaxed: bool) -> Result<Box<dyn Query>, ApiError> {
        Ok(match ranking {
            Ranking::Tuned => rank::build(&ParsedQuery::parse(query)?, &self.index.fields, relaxed),
            Ranking::Baseline => {
                let cleaned = crate::query::clean(query);
                if cleaned.is_empty() {
                    return Err(ApiError::BadRequest("empty query".into()));
                }
                rank::build_baseline(&cleaned, &self.index.fields)
            }
        })
    }

    /// Statistics and spelling candidates for a query, and the generation
    /// that answers it.
    pub fn prepare(&self, request: &PrepareRequest) -> Result<Prepared, ApiError> {
        let searcher = self.index.reader.searcher();
        let query = self.build(&request.query, request.ranking, request.relaxed)?;
        let stats = CorpusStats::of(&searcher, &*query)?;
        let spell_field = self.index.fields.spell;
        let mut spelling = Vec::new();
        for word in request.spell_words.iter().take(crate::query::MAX_ATOMS) {
            let df = searcher.doc_freq(&Term::from_field_text(spell_field, word))?;
            let candidates = crate::spell::candidates(&searcher, spell_field, word)?;
            spelling.push(WordSpelling {
                word: word.clone(),
                df,
                candidates,
            });
        }
        Ok(Prepared {
            shard: self.shard,
            generation: generation(&searcher),
            stats,
            spelling,
        })
    }

    /// The best `request.limit` matches (1 to [`MAX_LIMIT`]).
    pub fn query(&self, request: &QueryRequest) -> Result<ShardHits, ApiError> {
        let searcher = self.index.reader.searcher();
        let query = self.build(&request.query, request.ranking, request.relaxed)?;
        let limit = request.limit.clamp(1, MAX_LIMIT);
        let own_stats;
        let stats = match &request.stats {
            Some(stats) => stats,
            None => {
                own_stats = CorpusStats::of(&searcher, &*query)?;
                &own_stats
            }
        };
        let statistics = GlobalStatistics::new(&searcher, stats);
        let (top, total): (Vec<(f32, tantivy::DocAddress)>, usize) = match request.ranking {
            Ranking::Tuned => {
                let collector = (
                    TopDocs::with_limit(limit).tweak_score(rank::prior_fn(&self.index.fields)),
                    Count,
                );
                searcher.search_with_statistics_provider(&*query, &collector, &statistics)?
            }
            Ranking::Baseline => {
                let collector = (TopDocs::with_limit(limit).order_by_score(), Count);
                searcher.search_with_statistics_provider(&*query, &collector, &statistics)?
            }
        };
        let mut hits = Vec::with_capacity(top.len());
        for (score, address) in top {
            hits.push(self.hit(&searcher, score, address)?);
        }
        Ok(ShardHits {
            shard: self.shard,
            generation: generation(&searcher),
            query: request.query.clone(),
            total,
            hits,
        })
    }

    /// `query`'s best `limit` matches, scored with this shard's statistics.
    pub fn search(&self, query: &str, limit: usize) -> Result<ShardHits, ApiError> {
        let parsed = ParsedQuery::parse(query)?;
        self.query(&QueryRequest {
            query: parsed.normalized(),
            ranking: Ranking::Tuned,
            limit,
            relaxed: false,
            stats: None,
        })
    }

    fn hit(
        &self,
        searcher: &Searcher,
        score: f32,
        address: tantivy::DocAddress,
    ) -> Result<ShardHit, ApiError> {
        let fields = &self.index.fields;
        let doc: TantivyDocument = searcher.doc(address)?;
        let text = |field| {
            doc.get_first(field)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        };
        let id = doc
            .get_first(fields.doc_id)
            .and_then(|v| v.as_u64())
            .unwrap_or_default();
        Ok(ShardHit {
            doc_id: DocId(id).to_string(),
            score,
            url: text(fields.url),
            title: text(fields.title),
            site: text(fields.site),
        })
    }
}

/// A number that changes whenever the searcher's segments or their deletes
/// do: the same across restarts of the shard for the same commit.
pub fn generation(searcher: &Searcher) -> u64 {
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    for (segment, delete_opstamp) in searcher.generation().segments() {
        hasher.update(segment.uuid_string().as_bytes());
        hasher.update(&delete_opstamp.unwrap_or(u64::MAX).to_le_bytes());
    }
    hasher.digest()
}

/// `/shard/prepare`, `/shard/query`, `/shard/search` and `/healthz`.
pub fn router(searcher: Arc<ShardSearcher>) -> Router {
    Router::new()
        .route("/shard/generation", get(current_generation))
        .route("/shard/prepare", post(prepare))
        .route("/shard/query", post(query))
        .route("/shard/search", get(search))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(searcher)
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    // Searching reads mmapped segments: blocking work.
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerationResponse {
    pub shard: u32,
    pub generation: u64,
}

async fn current_generation(State(searcher): State<Arc<ShardSearcher>>) -> Json<GenerationResponse> {
    Json(GenerationResponse {
        shard: searcher.shard,
        generation: searcher.generation(),
    })
}

async fn prepare(
    State(searcher): State<Arc<ShardSearcher>>,
    Json(request): Json<PrepareRequest>,
) -> Result<Json<Prepared>, ApiError> {
    Ok(Json(blocking(move || searcher.prepare(&request)).await?))
}

async fn query(
    State(searcher): State<Arc<ShardSearcher>>,
    Json(request): Json<QueryRequest>,
) -> Result<Json<ShardHits>, ApiError> {
    if !(1..=MAX_LIMIT).contains(&request.limit) {
        return Err(ApiError::BadRequest(format!(
            "limit must be from 1 to {MAX_LIMIT}, got {}",
            request.limit
        )));
    }
    Ok(Json(blocking(move || searcher.query(&request)).await?))
}

async fn search(
    State(searcher): State<Arc<ShardSearcher>>,
    RawQuery(raw): RawQuery,
) -> Result<Json<ShardHits>, ApiError> {
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
    Ok(Json(blocking(move || searcher.search(&query, limit)).await?))
}
