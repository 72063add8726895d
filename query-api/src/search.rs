//! Search: a query string to a page of ranked results with snippets,
//! gathered over every index shard.
//!
//! A search asks each shard for its generation (cheap), and answers from
//! the cache when it has the answer for exactly those generations: the
//! cache keeps each answer's JSON, so a hit on the JSON API is a lookup and
//! a write. On a miss it asks every shard for the statistics of the
//! query's terms and for spelling candidates, sums the statistics, asks
//! every shard for its best matches scored with the sums, merges them by
//! score, keeps at most [`MAX_PER_HOST`] results of a host on a page, and
//! cuts snippets from the documents of the page. One shard alone is asked
//! once: its own statistics are the sums. Each shard has a deadline; an
//! answer without some shard says which and is not cached. When a query
//! has a spelling correction and finds (almost) nothing as typed, or the
//! words corrected are on no page, the corrected query is searched too and
//! answers instead when it finds more pages (any, for words on no page),
//! and the answer says so; such a second search starts only within the
//! query's time budget.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::DocId;
use futures::future::join_all;
use indexer::{DocRecord, Docstore, IndexReaderHandle};
use serde::Serialize;

use crate::admission::Admission;
use crate::backends::{BackendError, DocumentSource, IndexShard, LocalDocs, LocalShard, within};
use crate::cache::{CacheCounts, CacheKey, Cached, QueryCache};
use crate::protocol::{
    MAX_LIMIT, MAX_PER_PAGE, MAX_RESULT_OFFSET, PrepareRequest, QueryRequest, ShardHit, WordSpelling,
};
use crate::query::{self, ParsedQuery, QueryError};
use crate::rank::{self, CorpusStats, Ranking};
use crate::search_error::SearchError;
use crate::seen::{Recalled, Seen, SeenRequests};
use crate::shard_search::ShardSearcher;
use crate::snippet::{Highlight, SnippetQuery};
use crate::spell;

pub use crate::query::MAX_QUERY_BYTES;
/// Results of one host on a page, unless the query names a `site:`.
pub const MAX_PER_HOST: usize = 2;
/// A query with fewer results than this is searched again spelled right,
/// when a correction exists.
const FEW_RESULTS: usize = 3;
const SNIPPET_CHARS: usize = 220;
/// Among how many of the first results a page that quotes a pasted
/// message is looked for ([`SearchService::put_code_page_first`]): the same
/// for every page of results, so that they follow one order.
const MESSAGE_PAGES_LOOKED_AT: usize = 10;
/// How many of those pages are read for the message's code.
const MAX_QUOTING_PAGES_READ: usize = 3;

/// What [`SearchService::put_code_page_first`] did.
enum CodePage {
    /// Nothing: no code, or no page titled by it, or it is first already.
    None,
    /// The code's page was among the hits, further down.
    Moved,
    /// The code's page was not among the hits (nor, as a rule, a match).
    Added,
    /// A shard or the document service failed the search for it.
    NotLookedFor,
}

/// How the service reaches its shards and caches answers.
#[derive(Debug, Clone)]
pub struct SearchConfig {
    /// How long a shard may take to answer one request.
    pub shard_timeout: Duration,
    /// How long the document service may take for a page of documents.
    pub docs_timeout: Duration,
    /// Answers the cache keeps at most...
    pub cache_entries: usize,
    /// ...and bytes of answers (JSON) at most.
    pub cache_bytes: usize,
    /// How long a search may go on doing more than its first pass: a
    /// second search with the spelling corrected or with fewer words
    /// required starts only within it. The first pass itself is bounded by
    /// the shards' and the document service's deadlines.
    pub query_budget: Duration,
    /// Searches computed at once (cache misses); the others wait their
    /// turn ([`crate::admission`]). By default twice the cores: a search
    /// also waits on its shards and documents, and with only as many as
    /// the cores, those waits left cores idle (BENCHMARKS.md §19).
    pub searches_at_once: usize,
    /// Searches that may wait for a turn; one more is refused (503).
    pub searches_waiting: usize,
    /// Parts the page of results of a search that runs alone is assembled
    /// in at once, each on its own thread: reading the page's documents
    /// and finding the query's words in their texts is almost half of an
    /// uncached search's CPU (BENCHMARKS.md §21), and one search would
    /// leave the other cores idle meanwhile. By default as many as the
    /// cores. Beside other searches (or with 1), a search assembles its
    /// page in one part on its own task: the cores are busy, and handing
    /// parts to other threads would only add to the work (6-8% fewer
    /// searches a second under wrk, §21).
    pub result_parts: usize,
}

impl Default for SearchConfig {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        SearchConfig {
            shard_timeout: Duration::from_millis(1000),
            docs_timeout: Duration::from_millis(1000),
            cache_entries: 10_000,
            cache_bytes: 64 * 1024 * 1024,
            query_budget: Duration::from_millis(250),
            searches_at_once: 2 * cores,
            searches_waiting: 1000,
            result_parts: cores,
        }
    }
}

/// What to search for: the API's parameters.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    pub query: String,
    /// From 1.
    pub page: usize,
    pub per_page: usize,
    /// Results to skip, when given instead of a page (`offset`/`limit`
    /// rather than `page`/`per_page`; `per_page` is the limit then).
    pub offset: Option<usize>,
    pub ranking: Ranking,
}

impl SearchRequest {
    pub fn new(query: &str, page: usize, per_page: usize) -> SearchRequest {
        SearchRequest {
            query: query.to_string(),
            page,
            per_page,
            offset: None,
            ranking: Ranking::Tuned,
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SearchResponse {
    // `cached` and `took_ms` come first, the only fields that differ
    // between two requests served the same answer: a cached answer's JSON
    // is kept without them (see [`Answer`]).
    /// Answered from the query cache.
    pub cached: bool,
    pub took_ms: f64,
    /// The query as searched, normalized (lower case but for a word whose
    /// case says it is code, `HashMap`; canonical operators).
    pub query: String,
    /// Set when these results are for this corrected query instead: the
    /// query as typed found (almost) nothing and the corrected one more,
    /// or every word the correction replaces matches no page and the
    /// corrected query found some.
    pub corrected_query: Option<String>,
    /// "Did you mean": the query with misspelled words corrected.
    pub suggestion: Option<String>,
    pub total: usize,
    /// The page these results are, from 1 (with `offset`: the page of
    /// `per_page` results the first of them falls on).
    pub page: usize,
    pub per_page: usize,
    /// Results before these (`(page - 1) * per_page` when paged).
    pub offset: usize,
    /// The same as `per_page`: the most results this answer holds.
    pub limit: usize,
    /// Some shard did not answer: results are from the others.
    pub partial: bool,
    /// Fewer than three pages had every word: these results have most of
    /// them (a question's words are not all on the page that answers it).
    pub relaxed: bool,
    /// The query budget ran out before a second search (spelling corrected,
    /// fewer words required, or the page that explains a pasted message's
    /// code) that might have answered better, or that search failed: these
    /// are the first search's results. Such an answer is not cached.
    pub cut_short: bool,
    pub shards: ShardsReport,
    pub results: Vec<SearchResult>,
}

/// The per-request head of an answer's JSON.
#[derive(Serialize)]
struct AnswerHead {
    cached: bool,
    took_ms: f64,
}

/// An answer as the cache keeps it: the response, and its JSON without
/// its head (`cached` and `took_ms`), so that a cache hit on the JSON API
/// is a lookup and a write, not a clone and a serialization.
#[derive(Debug)]
pub struct Answer {
    response: SearchResponse,
    /// The JSON after the head: `"query":...}`. None in the one case
    /// serde_json wrote the head otherwise than expected (never so far);
    /// such an answer is serialized whole on every request.
    json_tail: Option<bytes::Bytes>,
    /// The length of the whole JSON.
    json_bytes: usize,
    /// Given from [`SeenRequests`] since the cache last looked: the cache
    /// did not see that hit, and keeps the answer once more when it would
    /// evict it ([`crate::cache::Cached`]).
    read_elsewhere: AtomicBool,
}

impl Answer {
    fn new(response: SearchResponse) -> Answer {
        let json = serde_json::to_vec(&response).unwrap_or_default();
        let head = head_json(response.cached, response.took_ms);
        // `{"cached":false,"took_ms":0.0` then `,` and the rest.
        let open_head = &head[..head.len() - 1];
        let json_tail = json
            .strip_prefix(open_head)
            .and_then(|rest| rest.strip_prefix(b","))
            .map(bytes::Bytes::copy_from_slice);
        Answer {
            response,
            json_tail,
            json_bytes: json.len(),
            read_elsewhere: AtomicBool::new(false),
        }
    }

    /// A whole answer: every shard answered and the budget held. Only such
    /// an answer is cached.
    fn may_be_cached(&self) -> bool {
        !self.response.partial && !self.response.cut_short
    }

    /// Marks it given from [`SeenRequests`], behind the cache's back.
    pub fn mark_read(&self) {
        // Read first: a popular answer is read on every core, and a store
        // each time would move its cache line back and forth between them.
        if !self.read_elsewhere.load(Ordering::Relaxed) {
            self.read_elsewhere.store(true, Ordering::Relaxed);
        }
    }

    pub fn response(&self) -> &SearchResponse {
        &self.response
    }

    /// The bytes the cache counts: the response and its JSON.
    fn bytes(&self) -> usize {
        2 * self.json_bytes
    }

    /// The answer's JSON with this request's head, as a response body:
    /// the head, then the JSON the cache keeps, shared rather than copied.
    pub fn json(&self, cached: bool, took_ms: f64) -> JsonBody {
        let Some(tail) = &self.json_tail else {
            let response = SearchResponse {
                cached,
                took_ms,
                ..self.response.clone()
            };
            return JsonBody::whole(serde_json::to_vec(&response).unwrap_or_default().into());
        };
        let mut head = head_json(cached, took_ms);
        // `{"cached":true,"took_ms":0.1}` opened again: `...0.1,` then the tail.
        head.pop();
        head.push(b',');
        JsonBody {
            chunks: [Some(head.into()), Some(tail.clone())],
        }
    }
}

impl Cached for Answer {
    fn take_read_elsewhere(&self) -> bool {
        self.read_elsewhere.swap(false, Ordering::Relaxed)
    }
}

/// A JSON response body of up to two chunks sent as they are, its length
/// known up front (`content-length`, not chunked encoding).
pub struct JsonBody {
    chunks: [Option<bytes::Bytes>; 2],
}

impl JsonBody {
    fn whole(json: bytes::Bytes) -> JsonBody {
        JsonBody {
            chunks: [Some(json), None],
        }
    }

    /// Its bytes, joined.
    #[cfg(test)]
    fn to_vec(&self) -> Vec<u8> {
        self.chunks
            .iter()
            .flatten()
            .flat_map(|chunk| chunk.iter().copied())
            .collect()
    }
}

impl http_body::Body for JsonBody {
    type Data = bytes::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<bytes::Bytes>, Self::Error>>> {
        let next = self.get_mut().chunks.iter_mut().find_map(Option::take);
        std::task::Poll::Ready(next.map(|chunk| Ok(http_body::Frame::data(chunk))))
    }

    fn is_end_stream(&self) -> bool {
        self.chunks.iter().all(Option::is_none)
    }

    fn size_hint(&self) -> http_body::SizeHint {
        let bytes = self.chunks.iter().flatten().map(|chunk| chunk.len() as u64).sum();
        http_body::SizeHint::with_exact(bytes)
    }
}

/// `{"cached":...,"took_ms":...}`.
fn head_json(cached: bool, took_ms: f64) -> Vec<u8> {
    serde_json::to_vec(&AnswerHead { cached, took_ms }).unwrap_or_else(|_| b"{}".to_vec())
}

/// A search's answer to one request: shared with the cache, and this
/// request's head.
pub struct Answered {
    pub answer: Arc<Answer>,
    pub cached: bool,
    pub took_ms: f64,
}

impl Answered {
    /// The response as this request sees it.
    pub fn response(&self) -> SearchResponse {
        SearchResponse {
            cached: self.cached,
            took_ms: self.took_ms,
            ..self.answer.response.clone()
        }
    }

    pub fn json(&self) -> JsonBody {
        self.answer.json(self.cached, self.took_ms)
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ShardsReport {
    pub searched: usize,
    pub answered: usize,
    pub failed: Vec<ShardFailure>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ShardFailure {
    pub shard: String,
    pub error: String,
    /// The shard did not answer within its deadline (rather than answer
    /// an error).
    pub timed_out: bool,
}

impl ShardFailure {
    fn new(shard: &dyn IndexShard, error: &BackendError) -> ShardFailure {
        ShardFailure {
            shard: shard.name().to_string(),
            error: error.to_string(),
            timed_out: matches!(error, BackendError::Timeout(_)),
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SearchResult {
    pub title: String,
    /// The page, at the section that answers the query when it has one
    /// (`url#anchor`).
    pub link: String,
    /// The page itself, without an anchor.
    pub page_link: String,
    /// The headings of the section `link` lands on, outermost first; empty
    /// when it lands on the page.
    pub section: Vec<String>,
    /// HTML: escaped text with the query's words and phrases in `<b>`.
    pub snippet: String,
    /// The snippet as plain text...
    pub snippet_text: String,
    /// ...and where its highlights are, in characters (code points).
    pub highlights: Vec<Highlight>,
    pub site: String,
    pub score: f32,
    pub doc_id: String,
    /// The same page at other URLs (the same title and text), folded into
    /// this result rather than shown again below it.
    pub also_at: Vec<String>,
}

/// Searches shards, caches answers.
pub struct SearchService {
    shards: Vec<Arc<dyn IndexShard>>,
    docs: Arc<dyn DocumentSource>,
    cache: QueryCache<Answer, SearchError>,
    seen: SeenRequests<Answer>,
    admission: Admission,
    config: SearchConfig,
    /// `trawl_api_search_duration_seconds` of hits and of misses, looked up
    /// in the registry once rather than per search.
    hit_seconds: metrics::Histogram,
    miss_seconds: metrics::Histogram,
}

/// A shard's answer to the first question of a search.
type Generations = Vec<Result<u64, BackendError>>;

impl SearchService {
    /// One index and docstore in this process, default settings.
    pub fn new(index: IndexReaderHandle, docstore: Arc<Docstore>) -> SearchService {
        SearchService::with_backends(
            vec![Arc::new(LocalShard::new("local", ShardSearcher::new(index, 0)))],
            Arc::new(LocalDocs::new("local", docstore)),
            SearchConfig::default(),
        )
    }

    pub fn with_backends(
        shards: Vec<Arc<dyn IndexShard>>,
        docs: Arc<dyn DocumentSource>,
        config: SearchConfig,
    ) -> SearchService {
        // Record from the first search on, not from the first scrape.
        common::metrics::handle();
        SearchService {
            shards,
            docs,
            cache: QueryCache::new(config.cache_entries, config.cache_bytes),
            seen: SeenRequests::new(config.cache_entries),
            admission: Admission::new(config.searches_at_once, config.searches_waiting),
            config,
            hit_seconds: metrics::histogram!("trawl_api_search_duration_seconds", "cache" => "hit"),
            miss_seconds: metrics::histogram!("trawl_api_search_duration_seconds", "cache" => "miss"),
        }
    }

    /// The cache's counts, its hits with those answered from the memo.
    pub fn cache_counts(&self) -> CacheCounts {
        let counts = self.cache.counts();
        CacheCounts {
            hits: counts.hits + self.seen.answers_given(),
            ..counts
        }
    }

    /// Searches for `query` with the tuned ranking; `page` counts from 1.
    pub async fn search(
        &self,
        query: &str,
        page: usize,
        per_page: usize,
    ) -> Result<SearchResponse, SearchError> {
        self.search_with(SearchRequest::new(query, page, per_page)).await
    }

    pub async fn search_with(&self, request: SearchRequest) -> Result<SearchResponse, SearchError> {
        Ok(self.answer_request(request).await?.response())
    }

    /// The answer to `request`, from the cache or the shards.
    pub async fn answer_request(&self, request: SearchRequest) -> Result<Answered, SearchError> {
        self.answer_from(request, None, None, Instant::now()).await
    }

    /// The answer to the request whose query string (the URL's, as sent)
    /// is `query_string`, which `read` turns into a [`SearchRequest`]. A
    /// request asked before is answered from [`SeenRequests`] while its
    /// answer holds: one lookup, nothing read or parsed again. The search
    /// is timed from `started`, when the request came in: the caller's
    /// clock reading, not one more (on a hit, each was 0.5% of the CPU).
    pub async fn answer_query_string<E: From<SearchError>>(
        &self,
        started: Instant,
        query_string: &str,
        read: impl FnOnce(&str) -> Result<SearchRequest, E>,
    ) -> Result<Answered, E> {
        let generations = self.generations().await;
        let normalized = match self.seen.recall(query_string, &generations) {
            Some(Recalled::Answer(answer)) => {
                answer.mark_read();
                return Ok(self.answered(answer, true, started));
            }
            Some(Recalled::NormalForm(normalized)) => Some(normalized),
            None => None,
        };
        let request = read(query_string)?;
        let seen = Some((query_string, normalized));
        Ok(self
            .answer_from(request, seen, Some(generations), started)
            .await?)
    }

    /// The answer to `request`, from the cache or the shards. `seen` is the
    /// request's query string, to remember it by, and its normal form if
    /// known; `generations`, the shards' if already asked.
    async fn answer_from(
        &self,
        request: SearchRequest,
        seen: Option<(&str, Option<String>)>,
        generations: Option<Generations>,
        started: Instant,
    ) -> Result<Answered, SearchError> {
        let budget_ends = started + self.config.query_budget;
        let paging = Paging::of(&request)?;
        // A query seen before is not read again for its cache key: only a
        // miss needs the whole plan.
        let (query_string, normalized) = seen.unzip();
        let mut plan = None;
        let normalized = match normalized.flatten() {
            Some(normalized) => normalized,
            None => plan.insert(Plan::new(&request, budget_ends)?).normalized.clone(),
        };
        let generations = match generations {
            Some(generations) => generations,
            None => self.generations().await,
        };
        let all_answered = generations.iter().all(Result::is_ok);
        if !generations.iter().any(Result::is_ok) {
            return Err(SearchError::Unavailable(describe_failures(&failures(
                &self.shards,
                &generations,
            ))));
        }
        let compute = async {
            // A miss waits for its turn; a hit never gets here.
            let _turn = self.admission.turn().await?;
            let plan = match plan {
                Some(plan) => plan,
                None => Plan::new(&request, budget_ends)?,
            };
            let response = self.answer(plan, &generations).await?;
            Ok(Answer::new(response))
        };
        let generation_numbers: Vec<u64> = generations.iter().map(|g| *g.as_ref().unwrap_or(&0)).collect();
        let (answer, cached) = if all_answered {
            let key = CacheKey {
                query: normalized.clone(),
                ranking: request.ranking,
                offset: paging.offset,
                per_page: paging.per_page,
                generations: generation_numbers.clone(),
            };
            self.cache
                .get_or_compute(key, compute, Answer::bytes, Answer::may_be_cached)
                .await
        } else {
            (compute.await.map(Arc::new), false)
        };
        let answer = answer?;
        if let Some(query_string) = query_string {
            let seen = if all_answered && answer.may_be_cached() {
                Seen::answered(normalized, &generation_numbers, &answer)
            } else {
                Seen::unanswered(normalized)
            };
            self.seen.put(query_string, seen);
        }
        Ok(self.answered(answer, cached, started))
    }

    /// `answer` as this request's, its time since `started` recorded.
    fn answered(&self, answer: Arc<Answer>, cached: bool, started: Instant) -> Answered {
        let took = started.elapsed();
        let histogram = if cached {
            &self.hit_seconds
        } else {
            &self.miss_seconds
        };
        histogram.record(took.as_secs_f64());
        Answered {
            answer,
            cached,
            took_ms: took.as_secs_f64() * 1000.0,
        }
    }

    /// Every shard's generation, each within the deadline.
    async fn generations(&self) -> Generations {
        // Shards in this process answer at once: no future, no deadline.
        let now: Option<Generations> = self
            .shards
            .iter()
            .map(|shard| shard.generation_now().map(Ok))
            .collect();
        if let Some(now) = now {
            return now;
        }
        let deadline = self.config.shard_timeout;
        let answers = join_all(
            self.shards
                .iter()
                .map(|shard| within(deadline, shard.generation())),
        )
        .await;
        for (shard, answer) in self.shards.iter().zip(&answers) {
            if let Err(error) = answer {
                shard_error(shard.name(), error);
            }
        }
        answers
    }

    /// Whether every shard and the document service answer now, and how
    /// many documents the shards that answered hold.
    pub async fn readiness(&self) -> (bool, serde_json::Value) {
        let deadline = self.config.shard_timeout;
        let counts = join_all(
            self.shards
                .iter()
                .map(|shard| within(deadline, shard.documents())),
        )
        .await;
        let docs = within(self.config.docs_timeout, self.docs.ping()).await;
        let failed = failures(&self.shards, &counts);
        let documents: u64 = counts.iter().filter_map(|count| count.as_ref().ok()).sum();
        let ready = failed.is_empty() && docs.is_ok();
        let body = serde_json::json!({
            "ready": ready,
            "shards": self.shards.len(),
            "documents": documents,
            "failed_shards": failed,
            "docs": docs.err().map(|e| e.to_string()),
        });
        (ready, body)
    }

    /// What `/api/v1/stats` shows: documents, each shard's documents and
    /// generation (or why it did not answer), and the cache's counts.
    pub async fn stats(&self) -> serde_json::Value {
        let deadline = self.config.shard_timeout;
        let shards = join_all(self.shards.iter().map(|shard| async move {
            let (documents, generation) = futures::join!(
                within(deadline, shard.documents()),
                within(deadline, shard.generation())
            );
            let error = documents
                .as_ref()
                .err()
                .or(generation.as_ref().err())
                .map(|e| e.to_string());
            serde_json::json!({
                "name": shard.name(),
                "documents": documents.ok(),
                "generation": generation.ok(),
                "error": error,
            })
        }))
        .await;
        let documents: u64 = shards.iter().filter_map(|s| s["documents"].as_u64()).sum();
        serde_json::json!({
            "documents": documents,
            "shards": shards,
            "cache": self.cache_counts(),
            "cache_limits": {
                "entries": self.config.cache_entries,
                "bytes": self.config.cache_bytes,
            },
        })
    }

    /// The answer for `plan`, from the shards whose generation came back:
    /// the hits of the pass that answers it ([`SearchService::rank`]) made
    /// into a page of results ([`SearchService::finish`]).
    async fn answer(&self, plan: Plan, generations: &Generations) -> Result<SearchResponse, SearchError> {
        let ranked = self.rank(plan, generations, true).await?;
        Ok(self.finish(ranked, generations).await)
    }

    /// The ranked hits of the pass that answers `plan`: the query as typed,
    /// or its spelling correction or relaxed form when those find more (the
    /// correction also when it finds any and the words it replaces are on
    /// no page, below). Passes are chosen on their matches alone, so the
    /// one not chosen costs no snippets and no document reads.
    async fn rank(
        &self,
        plan: Plan,
        generations: &Generations,
        may_correct: bool,
    ) -> Result<Ranked, SearchError> {
        let mut failed = failures(&self.shards, generations);
        let live = self.shards_answering(generations, &[]);
        let Gathered {
            total,
            mut hits,
            shards_answered,
            spelling,
        } = self.gather(&plan, live, may_correct, &mut failed).await?;
        hits.sort_by(by_rank);

        let correction = if may_correct {
            spelling_correction(&plan, &spelling)
        } else {
            None
        };
        // A second pass that the budget leaves no time for is skipped, and
        // the answer says so (and is not cached).
        let mut cut_short = false;
        // The correction is searched when the query found almost nothing,
        // or when the words it corrects are on no page at all: then the
        // query's other words alone found what it found ("genric data
        // types" found pages about data types, none about generics). A
        // rare word that some page has ("upsert", on the page of INSERT)
        // is left as typed, with its suggestion. The corrected search
        // answers when it finds more pages, or any when the words it
        // replaces matched none (the typed query found what it found
        // without them).
        let corrected = correction.as_ref().map(|correction| &correction.query);
        let suggestion = corrected.map(ParsedQuery::normalized);
        let unknown_words = correction.as_ref().is_some_and(|c| c.replaces_unknown_words);
        if let Some(corrected) = corrected
            && (total < FEW_RESULTS || unknown_words)
        {
            if plan.within_budget() {
                let fixed = Plan {
                    normalized: corrected.normalized(),
                    parsed: Some(corrected.clone()),
                    ..plan.clone()
                };
                let retried = Box::pin(self.rank(fixed, generations, false)).await?;
                if retried.total > total || (unknown_words && retried.total > 0) {
                    return Ok(Ranked {
                        query: plan.normalized,
                        corrected_query: suggestion.clone(),
                        suggestion,
                        ..retried
                    });
                }
            } else {
                cut_short = true;
            }
        }
        if total < FEW_RESULTS && plan.can_relax() {
            if plan.within_budget() {
                let relaxed = Plan {
                    relaxed: true,
                    ..plan.clone()
                };
                let retried = Box::pin(self.rank(relaxed, generations, false)).await?;
                if retried.total > total {
                    return Ok(Ranked {
                        suggestion,
                        ..retried
                    });
                }
            } else {
                cut_short = true;
            }
        }
        Ok(Ranked {
            query: plan.normalized.clone(),
            corrected_query: None,
            suggestion,
            plan,
            hits,
            total,
            shards_answered,
            failed,
            cut_short,
        })
    }

    /// The page of results that `ranked` asks for: the page that explains
    /// a pasted message's code joins the hits, then the same page at two
    /// URLs is folded into one, a host's results are spread over pages,
    /// and the page's hits get their titles and snippets.
    async fn finish(&self, ranked: Ranked, generations: &Generations) -> SearchResponse {
        let Ranked {
            plan,
            query,
            corrected_query,
            suggestion,
            mut hits,
            mut total,
            shards_answered,
            failed,
            mut cut_short,
        } = ranked;
        let mut unfinished = false;
        if hits
            .iter()
            .take(MESSAGE_PAGES_LOOKED_AT)
            .any(|hit| hit.quotes_message)
        {
            if plan.within_budget() {
                let answered = self.shards_answering(generations, &failed);
                let every_match_fetched = hits.len() >= total;
                match self.put_code_page_first(&plan, &answered, &mut hits).await {
                    CodePage::Added if every_match_fetched => total += 1,
                    CodePage::Added | CodePage::Moved | CodePage::None => {}
                    // Not cached: the same query may be answered in full later.
                    CodePage::NotLookedFor => unfinished = true,
                }
            } else {
                cut_short = true;
            }
        }
        let (mut hits, also_at) = collapse(hits);
        if plan.crowding {
            hits = crowd(hits, plan.per_page, MAX_PER_HOST);
        }
        if cut_short {
            // Once per search, whichever passes it skipped.
            metrics::counter!("trawl_api_search_over_budget_total").increment(1);
        }
        let page_hits: Vec<ShardHit> = hits.into_iter().skip(plan.offset).take(plan.per_page).collect();
        let results = self.results(&plan, page_hits, &also_at).await;
        SearchResponse {
            query,
            corrected_query,
            suggestion,
            total,
            took_ms: 0.0,
            page: plan.page,
            per_page: plan.per_page,
            offset: plan.offset,
            limit: plan.per_page,
            cached: false,
            partial: !failed.is_empty(),
            relaxed: plan.relaxed,
            cut_short: cut_short || unfinished,
            shards: ShardsReport {
                searched: self.shards.len(),
                answered: shards_answered,
                failed,
            },
            results,
        }
    }

    /// An error message pasted without its code ("cannot find value in
    /// this scope"): where one of the first pages quotes it with a code
    /// (the Rustonomicon's `error[E0425]: cannot find value `x` in this
    /// scope`), the page that explains that code (`E0425`, in rustc's
    /// error index) is what the message means, though it may not say the
    /// message's words. The code is searched alone (within the query's
    /// `site:` and exclusions, over the shards that `answered` the query)
    /// and, if the best page's title has the code as a word, that page
    /// comes first.
    async fn put_code_page_first(
        &self,
        plan: &Plan,
        answered: &[&Arc<dyn IndexShard>],
        hits: &mut Vec<ShardHit>,
    ) -> CodePage {
        let Some(parsed) = &plan.parsed else {
            return CodePage::None;
        };
        let Some(words) = rank::message_words(parsed) else {
            return CodePage::None;
        };
        let ids: Vec<DocId> = hits
            .iter()
            .take(MESSAGE_PAGES_LOOKED_AT)
            .filter(|hit| hit.quotes_message)
            .take(MAX_QUOTING_PAGES_READ)
            .filter_map(|hit| hit.doc_id.parse().ok())
            .collect();
        let docs = match within(self.config.docs_timeout, self.docs.get_many(&ids)).await {
            Ok(docs) => docs,
            Err(error) => {
                self.docs_unavailable(&error, "a message's code not looked for");
                return CodePage::NotLookedFor;
            }
        };
        let quoted_code = docs.into_iter().find_map(|doc| {
            let doc = doc?;
            let view = doc.view().ok()?;
            let code = indexer::error_messages::quoted_messages(view.text)
                .into_iter()
                .filter(|message| rank::quotes_message(&message.indexed, &words))
                .find_map(|message| message.code)?;
            Some(code.to_string())
        });
        let Some(code) = quoted_code else {
            return CodePage::None;
        };
        let Ok(code_words) = ParsedQuery::parse(&code) else {
            return CodePage::None;
        };
        let code_query = ParsedQuery {
            groups: code_words.groups,
            ..parsed.clone()
        };
        let code_plan = Plan {
            normalized: code_query.normalized(),
            parsed: Some(code_query),
            page: 1,
            per_page: 1,
            offset: 0,
            crowding: false,
            relaxed: false,
            spell_words: Vec::new(),
            ..plan.clone()
        };
        // A shard that fails this second search is not the query's failure:
        // the answer says only that it is unfinished.
        let mut failed = Vec::new();
        let found = self
            .gather(&code_plan, answered.to_vec(), false, &mut failed)
            .await;
        let Some(page) = found
            .ok()
            .and_then(|found| found.hits.into_iter().min_by(by_rank))
        else {
            return if failed.is_empty() {
                CodePage::None
            } else {
                CodePage::NotLookedFor
            };
        };
        if !failed.is_empty() {
            // The best page of the shards that answered may not be the best.
            return CodePage::NotLookedFor;
        }
        let titled_by_code = page
            .title
            .split(|c: char| !c.is_alphanumeric())
            .any(|word| word.eq_ignore_ascii_case(&code));
        if !titled_by_code {
            return CodePage::None;
        }
        let moved = match hits.iter().position(|hit| hit.doc_id == page.doc_id) {
            Some(0) => return CodePage::None,
            Some(at) => {
                hits.remove(at);
                true
            }
            None => false,
        };
        // The first page's score: scores shown stay in order.
        let score = hits.first().map_or(page.score, |first| first.score);
        hits.insert(0, ShardHit { score, ..page });
        if moved { CodePage::Moved } else { CodePage::Added }
    }

    /// The shards whose generation came back, but those in `failed`.
    fn shards_answering(
        &self,
        generations: &Generations,
        failed: &[ShardFailure],
    ) -> Vec<&Arc<dyn IndexShard>> {
        self.shards
            .iter()
            .zip(generations)
            .filter(|(shard, generation)| {
                generation.is_ok() && !failed.iter().any(|failure| failure.shard == shard.name())
            })
            .map(|(shard, _)| shard)
            .collect()
    }

    /// Every live shard's best matches for `plan`, scored with the
    /// statistics of every shard together, and the spelling of the plan's
    /// words when `may_correct`. Shards that fail are added to `failed`.
    async fn gather(
        &self,
        plan: &Plan,
        live: Vec<&Arc<dyn IndexShard>>,
        may_correct: bool,
        failed: &mut Vec<ShardFailure>,
    ) -> Result<Gathered, SearchError> {
        let deadline = self.config.shard_timeout;
        let spell_words = if may_correct {
            plan.spell_words.clone()
        } else {
            Vec::new()
        };
        let mut limit = plan.offset + plan.per_page * if plan.crowding { 4 } else { 1 };
        if plan.parsed.as_ref().and_then(rank::message_words).is_some() {
            // Every page of results looks for a page that quotes the
            // message among the same first results.
            limit = limit.max(MESSAGE_PAGES_LOOKED_AT);
        }
        let mut request = QueryRequest {
            query: plan.normalized.clone(),
            ranking: plan.ranking,
            limit: limit.min(MAX_LIMIT),
            relaxed: plan.relaxed,
            stats: None,
            spell_words: Vec::new(),
        };
        let mut spelling = Vec::new();
        let asked: Vec<&Arc<dyn IndexShard>> = if live.len() == 1 {
            // One shard's own statistics are the whole corpus's: it scores
            // and spells in one pass, without being prepared first.
            request.spell_words = spell_words;
            live
        } else {
            let prepare = PrepareRequest {
                query: plan.normalized.clone(),
                ranking: plan.ranking,
                relaxed: plan.relaxed,
                spell_words,
            };
            let prepared = join_all(live.iter().map(|shard| within(deadline, shard.prepare(&prepare)))).await;
            let mut answered = Vec::new();
            let mut stats = Vec::new();
            for (shard, result) in live.into_iter().zip(prepared) {
                match result {
                    Ok(prepared) => {
                        answered.push(shard);
                        stats.push(prepared.stats);
                        spelling.push(prepared.spelling);
                    }
                    Err(BackendError::BadRequest(message)) => return Err(SearchError::Invalid(message)),
                    Err(error) => {
                        shard_error(shard.name(), &error);
                        failed.push(ShardFailure::new(shard.as_ref(), &error));
                    }
                }
            }
            if answered.is_empty() {
                return Err(no_shard_answered(failed));
            }
            request.stats = Some(CorpusStats::sum(stats.iter()));
            answered
        };
        let answers = join_all(asked.iter().map(|shard| within(deadline, shard.query(&request)))).await;
        let mut gathered = Gathered::default();
        for (shard, result) in asked.iter().zip(answers) {
            match result {
                Ok(hits) => {
                    gathered.shards_answered += 1;
                    gathered.total += hits.total;
                    gathered.hits.extend(hits.hits);
                    if !hits.spelling.is_empty() {
                        spelling.push(hits.spelling);
                    }
                }
                Err(BackendError::BadRequest(message)) => return Err(SearchError::Invalid(message)),
                Err(error) => {
                    shard_error(shard.name(), &error);
                    failed.push(ShardFailure::new(shard.as_ref(), &error));
                }
            }
        }
        if gathered.shards_answered == 0 {
            // Never an empty 200: nothing was searched.
            return Err(no_shard_answered(failed));
        }
        gathered.spelling = spelling;
        Ok(gathered)
    }

    /// Titles, links and snippets of a page of hits: when the search runs
    /// alone, in [`SearchConfig::result_parts`] parts at once. Without the
    /// document service, the results keep what the index stores (title
    /// and link).
    async fn results(
        &self,
        plan: &Plan,
        hits: Vec<ShardHit>,
        also_at: &HashMap<String, Vec<String>>,
    ) -> Vec<SearchResult> {
        let query = Arc::new(plan.snippet_query());
        let alone = self.admission.running() <= 1;
        let part_count = if alone { self.config.result_parts.max(1) } else { 1 };
        let on_pool = part_count > 1;
        let part_len = hits.len().div_ceil(part_count).max(1);
        let mut parts = Vec::new();
        let mut hits = hits.into_iter().peekable();
        while hits.peek().is_some() {
            let part: Vec<ShardHit> = hits.by_ref().take(part_len).collect();
            let also_at = part
                .iter()
                .map(|hit| also_at.get(&hit.doc_id).cloned().unwrap_or_default())
                .collect();
            parts.push(self.results_part(query.clone(), part, also_at, on_pool));
        }
        let mut results = Vec::new();
        let mut docs_error = None;
        for (part, error) in join_all(parts).await {
            results.extend(part);
            docs_error = docs_error.or(error);
        }
        if let Some(error) = docs_error {
            self.docs_unavailable(&error, "results without snippets");
        }
        results
    }

    /// Says that the document service failed, and what was done without it.
    fn docs_unavailable(&self, error: &BackendError, without: &str) {
        tracing::warn!(docs = self.docs.name(), %error, "documents unavailable: {without}");
        metrics::counter!("trawl_api_docs_errors_total").increment(1);
    }

    /// One part of [`SearchService::results`]: its documents read, then
    /// its snippets cut, on the blocking pool when `on_pool` (else on this
    /// task). Says why the documents were not read, if they were not.
    async fn results_part(
        &self,
        query: Arc<SnippetQuery>,
        hits: Vec<ShardHit>,
        also_at: Vec<Vec<String>>,
        on_pool: bool,
    ) -> (Vec<SearchResult>, Option<BackendError>) {
        let ids: Vec<DocId> = hits
            .iter()
            .map(|hit| hit.doc_id.parse().unwrap_or(DocId(0)))
            .collect();
        let (docs, error) = match within(self.config.docs_timeout, self.docs.get_many(&ids)).await {
            Ok(docs) => (docs, None),
            Err(error) => (vec![None; ids.len()], Some(error)),
        };
        let assemble = move || -> Vec<SearchResult> {
            let passages = crate::snippet::Passages::new(&query);
            hits.into_iter()
                .zip(docs)
                .zip(also_at)
                .map(|((hit, doc), also_at)| search_result(&passages, hit, doc.as_ref(), also_at))
                .collect()
        };
        if !on_pool {
            return (assemble(), error);
        }
        match tokio::task::spawn_blocking(assemble).await {
            Ok(results) => (results, error),
            // A panic while cutting a snippet is the search's, as it is
            // when snippets are cut on the request's own task.
            Err(join_error) => std::panic::resume_unwind(join_error.into_panic()),
        }
    }
}

/// A hit as a result: its best section's link and heading path, and its
/// snippet cut from that section of `record` (the stored document, if read
/// and readable).
fn search_result(
    passages: &crate::snippet::Passages<'_>,
    hit: ShardHit,
    record: Option<&DocRecord>,
    also_at: Vec<String>,
) -> SearchResult {
    let doc = record.and_then(|record| match record.view() {
        Ok(doc) => Some(doc),
        Err(error) => {
            // Its result shows what the index holds; the others are whole.
            tracing::warn!(doc_id = %hit.doc_id, %error, "stored document unreadable: result without a snippet");
            metrics::counter!("trawl_api_docs_errors_total").increment(1);
            None
        }
    });
    // The section that answers best: the result links to it and its
    // snippet comes from its text.
    let (section, snippet) = match &doc {
        Some(doc) => {
            let (best, snippet) = passages.passage(doc.text, &doc.sections, SNIPPET_CHARS);
            let snippet = snippet.unwrap_or_else(|| crate::snippet::static_snippet(doc.static_snippet));
            (best.map(|best| &doc.sections[best]), Some(snippet))
        }
        None => (None, None),
    };
    let (link, heading_path) = match section {
        Some(section) => (
            with_fragment(&hit.url, section.anchor),
            section
                .heading_path
                .iter()
                .map(|heading| heading.to_string())
                .collect(),
        ),
        None => (hit.url.clone(), Vec::new()),
    };
    let (snippet, snippet_text, highlights) = match snippet {
        Some(s) => (s.html, s.text, s.highlights),
        None => Default::default(),
    };
    let title = match (&doc, hit.title.is_empty()) {
        (_, false) => hit.title,
        (Some(doc), true) if !doc.title.is_empty() => doc.title.to_string(),
        _ => hit.url.clone(),
    };
    SearchResult {
        title,
        link,
        page_link: hit.url,
        section: heading_path,
        snippet,
        snippet_text,
        highlights,
        site: hit.site,
        score: hit.score,
        also_at,
        doc_id: hit.doc_id,
    }
}

/// `url` with `anchor` as its fragment, escaped as a fragment must be.
fn with_fragment(url: &str, anchor: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut url) => {
            url.set_fragment(Some(anchor));
            url.to_string()
        }
        Err(_) => url.to_string(),
    }
}

/// A search request, checked and read.
#[derive(Debug, Clone)]
struct Plan {
    /// None for the baseline ranking, which reads the text itself.
    parsed: Option<ParsedQuery>,
    normalized: String,
    ranking: Ranking,
    page: usize,
    per_page: usize,
    offset: usize,
    /// Whether to keep at most [`MAX_PER_HOST`] results of a host on a page.
    crowding: bool,
    /// Require most words rather than all.
    relaxed: bool,
    spell_words: Vec<String>,
    /// When the search's budget ([`SearchConfig::query_budget`]) ends.
    budget_ends: Instant,
}

/// Which results of a query a request asks for.
struct Paging {
    page: usize,
    per_page: usize,
    offset: usize,
}

impl Paging {
    fn of(request: &SearchRequest) -> Result<Paging, SearchError> {
        let per_page = request.per_page.clamp(1, MAX_PER_PAGE);
        let offset = request.offset.unwrap_or((request.page.max(1) - 1) * per_page);
        if offset >= MAX_RESULT_OFFSET {
            return Err(SearchError::Invalid(format!(
                "page too deep: at most {MAX_RESULT_OFFSET} results can be paged"
            )));
        }
        Ok(Paging {
            page: offset / per_page + 1,
            per_page,
            offset,
        })
    }
}

impl Plan {
    fn new(request: &SearchRequest, budget_ends: Instant) -> Result<Plan, SearchError> {
        let Paging {
            page,
            per_page,
            offset,
        } = Paging::of(request)?;
        let (parsed, normalized) = match request.ranking {
            Ranking::Tuned => {
                let parsed = ParsedQuery::parse(&request.query)?;
                let normalized = parsed.normalized();
                (Some(parsed), normalized)
            }
            Ranking::Baseline => {
                if request.query.len() > MAX_QUERY_BYTES {
                    return Err(QueryError::TooLong.into());
                }
                let cleaned = query::clean(&request.query);
                if cleaned.is_empty() {
                    return Err(QueryError::Empty.into());
                }
                (None, cleaned)
            }
        };
        let crowding = parsed.as_ref().is_some_and(|p| p.sites.is_empty());
        let spell_words = parsed
            .as_ref()
            .map(ParsedQuery::spellable_words)
            .unwrap_or_default();
        Ok(Plan {
            parsed,
            normalized,
            ranking: request.ranking,
            page,
            per_page,
            offset,
            crowding,
            relaxed: false,
            spell_words,
            budget_ends,
        })
    }

    /// Whether there is time left for a second pass.
    fn within_budget(&self) -> bool {
        Instant::now() < self.budget_ends
    }

    /// Whether a relaxed search could find more: the tuned ranking, not
    /// relaxed yet, and a query that relaxing requires fewer words of.
    fn can_relax(&self) -> bool {
        !self.relaxed && self.parsed.as_ref().is_some_and(rank::relaxing_requires_fewer)
    }

    fn snippet_query(&self) -> SnippetQuery {
        let parsed = match &self.parsed {
            Some(parsed) => parsed.clone(),
            None => ParsedQuery::parse(&self.normalized).unwrap_or_default(),
        };
        let (terms, phrases) = rank::snippet_terms(&parsed);
        SnippetQuery {
            terms,
            phrases,
            identifiers: indexer::identifiers::query_identifiers(&self.normalized),
            plain_words: crate::snippet::query_plain_words(&self.normalized),
        }
    }
}

/// What the shards answered a search.
#[derive(Default)]
struct Gathered {
    /// Matching documents over every shard that answered.
    total: usize,
    /// Every shard's best hits, unordered.
    hits: Vec<ShardHit>,
    shards_answered: usize,
    /// Each shard's spelling of the plan's words.
    spelling: Vec<Vec<WordSpelling>>,
}

/// The hits of the pass that answers a query, ranked, and what the
/// response says of them, before they are made into a page of results.
struct Ranked {
    /// The pass's plan: the query as typed, corrected or relaxed.
    plan: Plan,
    /// The query as the response shows it: as typed, normalized.
    query: String,
    corrected_query: Option<String>,
    suggestion: Option<String>,
    /// Best first.
    hits: Vec<ShardHit>,
    /// Matching documents over every shard that answered.
    total: usize,
    shards_answered: usize,
    failed: Vec<ShardFailure>,
    /// A pass was skipped for want of time.
    cut_short: bool,
}

/// Spelling candidates of a word with their document frequencies.
type Candidates = Vec<(String, u64)>;

/// A query with its misspelled words corrected.
struct SpellingCorrection {
    query: ParsedQuery,
    /// Every word it replaces is in the text of no page of any shard.
    replaces_unknown_words: bool,
}

/// A word of the query as every shard together spells it.
#[derive(Default)]
struct WordOverShards {
    /// Its document frequency, summed.
    df: u64,
    /// Each shard's candidates.
    candidates: Vec<Candidates>,
    /// Whether some shard's pages have it in their text (or a shard did
    /// not say).
    in_text: bool,
}

/// The query with its misspelled words corrected, from every shard's
/// dictionary together; None when every word is spelled as indexed.
fn spelling_correction(plan: &Plan, shards: &[Vec<WordSpelling>]) -> Option<SpellingCorrection> {
    let parsed = plan.parsed.as_ref()?;
    let mut by_word: HashMap<&str, WordOverShards> = HashMap::new();
    for shard in shards {
        for spelling in shard {
            let word = by_word.entry(spelling.word.as_str()).or_default();
            word.df += spelling.df;
            word.candidates.push(spelling.candidates.clone());
            word.in_text |= spelling.text_df != Some(0);
        }
    }
    let corrections = spell::correct_words(&plan.spell_words, |word| match by_word.get(word) {
        Some(word) => (word.df, spell::merge_candidates(word.candidates.clone())),
        None => (0, Vec::new()),
    })?;
    let mut corrected = parsed.clone();
    let mut replaces_unknown_words = true;
    for correction in corrections {
        if correction.original != correction.corrected {
            let word = correction.original.to_lowercase();
            let spelling = by_word.get(word.as_str());
            // A misspelling with its correction's stem ("maintenence" and
            // "maintenance" are both "mainten") is found in the stemmed
            // text wherever the correction is: that says nothing of the
            // word as typed, which may be on no page. Unless the
            // dictionary has it as typed ("cancelled" beside "canceled"),
            // or it is its correction but for an ending ("pivot",
            // "pivotal"): then it is another word of the same stem.
            let stem = rank::analyze(&word);
            let corrected = correction.corrected.to_lowercase();
            let another_ending = word.starts_with(&corrected) || corrected.starts_with(&word);
            let only_its_stem = !stem.is_empty()
                && !another_ending
                && stem == rank::analyze(&corrected)
                && spelling.is_some_and(|word| word.df == 0);
            replaces_unknown_words &= only_its_stem || spelling.is_some_and(|word| !word.in_text);
        }
        corrected = corrected.with_word_replaced(&correction.original, &correction.corrected);
    }
    (corrected != *parsed).then_some(SpellingCorrection {
        query: corrected,
        replaces_unknown_words,
    })
}

/// The order of ranked hits (rank::RankKey): score, then document id (16
/// hex digits, so the strings compare as the numbers do).
fn by_rank(a: &ShardHit, b: &ShardHit) -> std::cmp::Ordering {
    b.score.total_cmp(&a.score).then_with(|| a.doc_id.cmp(&b.doc_id))
}

/// Simhashes this many bits apart or fewer are the same text: the
/// crawler's own near-duplicate threshold.
const SAME_PAGE_BITS: u32 = 3;

/// Folds each hit that is the same page as a better one (simhashes at most
/// [`SAME_PAGE_BITS`] apart, and the same title or the same file name:
/// rustdoc's `HashMap` at two paths, `std::fmt::Display` re-exported as
/// `core::fmt::Display`, a page under two URLs) into that one. Returns the
/// hits left, in order, and for each that absorbed others, their URLs.
fn collapse(hits: Vec<ShardHit>) -> (Vec<ShardHit>, HashMap<String, Vec<String>>) {
    let mut kept: Vec<ShardHit> = Vec::with_capacity(hits.len());
    let mut also_at: HashMap<String, Vec<String>> = HashMap::new();
    for hit in hits {
        // The signatures first: comparing them is one instruction, and
        // they rule out all but the same page (40 hits make 780 pairs).
        let same = kept.iter().find(|k| {
            hit.simhash != 0
                && k.simhash != 0
                && (k.simhash ^ hit.simhash).count_ones() <= SAME_PAGE_BITS
                && (k.title == hit.title || file_name(&k.url) == file_name(&hit.url))
        });
        match same {
            Some(first) => also_at.entry(first.doc_id.clone()).or_default().push(hit.url),
            None => kept.push(hit),
        }
    }
    (kept, also_at)
}

/// The last segment of a URL's path (`trait.Display.html`), without its
/// query.
fn file_name(url: &str) -> &str {
    let path = url.split(['?', '#']).next().unwrap_or_default();
    path.rsplit('/').next().unwrap_or_default()
}

/// Reorders ranked hits so that no page shows more than `max_per_host`
/// results of one host while other hosts have results left: a host's
/// extra results move down to later pages. A page is filled from capped
/// hosts only when no other host has anything left to show.
fn crowd(hits: Vec<ShardHit>, per_page: usize, max_per_host: usize) -> Vec<ShardHit> {
    let mut remaining: VecDeque<ShardHit> = hits.into();
    let mut ordered = Vec::with_capacity(remaining.len());
    while !remaining.is_empty() {
        let mut on_page: HashMap<String, usize> = HashMap::new();
        let mut page = Vec::with_capacity(per_page);
        let mut held_back = VecDeque::new();
        while let Some(hit) = remaining.pop_front() {
            if page.len() == per_page {
                remaining.push_front(hit);
                break;
            }
            let count = on_page.entry(hit.site.clone()).or_default();
            if *count < max_per_host {
                *count += 1;
                page.push(hit);
            } else {
                held_back.push_back(hit);
            }
        }
        // Nothing else to show: fill the page from the held-back results.
        while page.len() < per_page
            && let Some(hit) = held_back.pop_front()
        {
            page.push(hit);
        }
        ordered.extend(page);
        for hit in held_back.into_iter().rev() {
            remaining.push_front(hit);
        }
    }
    ordered
}

fn failures<T>(shards: &[Arc<dyn IndexShard>], generations: &[Result<T, BackendError>]) -> Vec<ShardFailure> {
    shards
        .iter()
        .zip(generations)
        .filter_map(|(shard, g)| {
            g.as_ref()
                .err()
                .map(|error| ShardFailure::new(shard.as_ref(), error))
        })
        .collect()
}

/// "no index shard answered", with each shard's reason.
fn describe_failures(failed: &[ShardFailure]) -> String {
    let reasons: Vec<String> = failed
        .iter()
        .map(|f| format!("{}: {}", f.shard, f.error))
        .collect();
    format!("no index shard answered: {}", reasons.join("; "))
}

/// The error of a search that no shard answered, with each one's reason:
/// 503 when they all timed out (try again later), 500 when one failed.
fn no_shard_answered(failed: &[ShardFailure]) -> SearchError {
    let message = describe_failures(failed);
    if failed.iter().all(|f| f.timed_out) {
        SearchError::Unavailable(message)
    } else {
        SearchError::Internal(message)
    }
}

fn shard_error(shard: &str, error: &BackendError) {
    let kind = match error {
        BackendError::Timeout(_) => "timeout",
        BackendError::Failed(_) => "failed",
        BackendError::BadRequest(_) => "bad_request",
    };
    tracing::warn!(shard, %error, "index shard did not answer");
    metrics::counter!("trawl_api_shard_errors_total", "shard" => shard.to_string(), "kind" => kind)
        .increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(id: u64, site: &str) -> ShardHit {
        ShardHit {
            doc_id: format!("{id:016x}"),
            score: 100.0 - id as f32,
            url: format!("http://{site}/{id}"),
            title: String::new(),
            site: site.into(),
            simhash: 0,
            quotes_message: false,
        }
    }

    #[test]
    fn a_word_matches_no_page_only_when_every_shard_says_so() {
        let plan = Plan::new(&SearchRequest::new("borowing rules", 1, 10), Instant::now()).unwrap();
        let shard = |text_df| {
            vec![
                WordSpelling {
                    word: "borowing".into(),
                    df: 0,
                    candidates: vec![("borrowing".into(), 40)],
                    text_df,
                },
                WordSpelling {
                    word: "rules".into(),
                    df: 30,
                    candidates: Vec::new(),
                    text_df: None,
                },
            ]
        };
        let unknown = |shards: Vec<Vec<WordSpelling>>| {
            let correction = spelling_correction(&plan, &shards).expect("a correction");
            assert_eq!(correction.query.normalized(), "borrowing rules");
            correction.replaces_unknown_words
        };
        assert!(unknown(vec![shard(Some(0)), shard(Some(0))]));
        // A shard that has it, or does not say (an older one), counts.
        assert!(!unknown(vec![shard(Some(0)), shard(Some(3))]));
        assert!(!unknown(vec![shard(Some(0)), shard(None)]));
        let older: WordSpelling =
            serde_json::from_str(r#"{"word": "borowing", "df": 0, "candidates": []}"#).unwrap();
        assert_eq!(older.text_df, None);
    }

    #[test]
    fn a_kept_answer_writes_the_json_its_response_would() {
        let response = SearchResponse {
            cached: false,
            took_ms: 0.0,
            query: "hash \"map\" ü".into(),
            corrected_query: None,
            suggestion: Some("hashmap".into()),
            total: 1,
            page: 1,
            per_page: 10,
            offset: 0,
            limit: 10,
            partial: false,
            relaxed: true,
            cut_short: false,
            shards: ShardsReport {
                searched: 1,
                answered: 1,
                failed: Vec::new(),
            },
            results: vec![SearchResult {
                title: "HashMap <K, V>".into(),
                link: "http://a/#x".into(),
                page_link: "http://a/".into(),
                section: vec!["Methods".into()],
                snippet: "<b>map</b>".into(),
                snippet_text: "map".into(),
                highlights: vec![Highlight { start: 0, end: 3 }],
                site: "a".into(),
                score: 1.5,
                doc_id: "0000000000000001".into(),
                also_at: Vec::new(),
            }],
        };
        let answer = Answer::new(response.clone());
        assert!(answer.json_tail.is_some(), "the head is where it is expected");
        for (cached, took_ms) in [(true, 0.0123), (false, 17.0), (true, 1e-7)] {
            let written: serde_json::Value =
                serde_json::from_slice(&answer.json(cached, took_ms).to_vec()).unwrap();
            let expected = serde_json::to_value(SearchResponse {
                cached,
                took_ms,
                ..response.clone()
            })
            .unwrap();
            assert_eq!(written, expected);
        }
    }

    #[test]
    fn the_same_page_at_two_urls_is_one_result() {
        let page = |id, title: &str, simhash| ShardHit {
            title: title.into(),
            simhash,
            ..hit(id, "a")
        };
        let hits = vec![
            page(1, "HashMap", 0b1111_0000),
            page(2, "Vec", 0b1111_0000),
            page(3, "HashMap", 0b1111_0111), // 3 bits from the first
            page(4, "HashMap", 0b0000_1111), // a different text
            page(5, "Unknown", 0),
            page(6, "Unknown", 0),
            page(7, "Display in std::fmt", 0b1010_1010),
            ShardHit {
                url: "http://b/x/7".into(), // the same file name
                ..page(8, "Display in core::fmt", 0b1010_1011)
            },
            page(9, "Other in core::fmt", 0b1010_1011), // title and file differ
        ];
        let (kept, also_at) = collapse(hits);
        let ids: Vec<&str> = kept.iter().map(|h| &h.doc_id[14..]).collect();
        assert_eq!(ids, ["01", "02", "04", "05", "06", "07", "09"]);
        assert_eq!(also_at[&format!("{:016x}", 1)], ["http://a/3"]);
        assert_eq!(also_at[&format!("{:016x}", 7)], ["http://b/x/7"]);
        assert_eq!(also_at.len(), 2, "an unknown simhash never collapses");
    }

    fn sites(hits: &[ShardHit]) -> String {
        hits.iter().map(|h| h.site.as_str()).collect::<Vec<_>>().join(",")
    }

    #[test]
    fn crowding_moves_a_hosts_extra_results_down() {
        let hits = vec![
            hit(1, "a"),
            hit(2, "a"),
            hit(3, "a"),
            hit(4, "b"),
            hit(5, "a"),
            hit(6, "c"),
        ];
        let ordered = crowd(hits, 3, 2);
        assert_eq!(sites(&ordered[..3]), "a,a,b");
        // a's third moves to the next page, where it is one of a's two.
        assert_eq!(sites(&ordered[3..]), "a,a,c");
        assert_eq!(ordered.len(), 6, "nothing is dropped");
    }

    #[test]
    fn crowding_fills_pages_when_only_one_host_is_left() {
        let hits: Vec<ShardHit> = (1..=7).map(|i| hit(i, "a")).collect();
        let ordered = crowd(hits.clone(), 3, 2);
        assert_eq!(ordered, hits, "one host: order unchanged, pages full");
    }
}
