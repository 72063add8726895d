//! One index shard's side of a search: the statistics of a query's terms,
//! spelling candidates from its term dictionary, and its best matches with
//! their scores. The query API gathers these over every shard
//! ([`crate::backends`]) and fetches titles and snippets from the document
//! service. What is asked and answered is [`crate::protocol`].
//!
//! Over HTTP (`trawl index --listen`):
//! - `GET /shard/generation` answers the generation of the commit searched
//!   now: the query API's cache key;
//! - `POST /shard/prepare` with a [`PrepareRequest`] answers [`Prepared`]:
//!   the shard's generation, the corpus statistics of the query's terms
//!   (and whether an ordinary page defines a name it asks for:
//!   `rank::public_definitions`) and spelling candidates;
//! - `POST /shard/query` with a [`QueryRequest`] answers [`ShardHits`],
//!   scored with the statistics given (every shard's together), so that
//!   scores of different shards compare, or with its own when none are
//!   given (a search of one shard: then it spells the words too, and the
//!   search needs no prepare);
//! - `GET /shard/search?query=...&limit=...` is the same search for people
//!   and scripts, scored with this shard's own statistics.

use std::sync::{Arc, Mutex};

use axum::extract::{RawQuery, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use common::DocId;
use indexer::IndexReaderHandle;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{EnableScoring, Query, Scorer};
use tantivy::schema::Value;
use tantivy::{DocAddress, DocSet, Searcher, TantivyDocument, Term};

use crate::error::ApiError;
use crate::protocol::{
    DEFAULT_LIMIT, GenerationResponse, MAX_LIMIT, PrepareRequest, Prepared, QueryRequest, ShardHit,
    ShardHits, WordSpelling,
};
use crate::query::{ParsedQuery, QueryError};
use crate::rank::{self, CorpusStats, GlobalStatistics, LiveDocs, Ranking};
use crate::search_error::SearchError;
use crate::sections::{RESCORE_DEPTH, SectionScorer};

/// Searches one shard's index, following its writer's commits.
pub struct ShardSearcher {
    index: IndexReaderHandle,
    shard: u32,
    /// The last searcher's generation: tantivy's id of that searcher, and
    /// ours. Every search asks for it (the cache's key) and it changes
    /// only at a reload, so it is hashed once per reload.
    last_generation: Mutex<(u64, u64)>,
}

impl ShardSearcher {
    pub fn new(index: IndexReaderHandle, shard: u32) -> ShardSearcher {
        ShardSearcher {
            index,
            shard,
            last_generation: Mutex::new((u64::MAX, 0)),
        }
    }

    pub fn shard(&self) -> u32 {
        self.shard
    }

    /// The generation of the commit searches see now.
    pub fn generation(&self) -> u64 {
        self.generation_of(&self.index.reader.searcher())
    }

    /// `searcher`'s generation, from the memo when it is the last one seen.
    fn generation_of(&self, searcher: &Searcher) -> u64 {
        let searcher_id = searcher.generation().generation_id();
        let mut last = self.last_generation.lock().unwrap_or_else(|p| p.into_inner());
        if last.0 != searcher_id {
            *last = (searcher_id, generation(searcher));
        }
        last.1
    }

    /// The live documents searches see now.
    pub fn documents(&self) -> u64 {
        self.index.reader.searcher().num_docs()
    }

    /// The tantivy query of `query`, and for the tuned ranking the parsed
    /// query it is built from: parsed once, as its best pages are scored by
    /// their sections and its names counted from it too.
    fn build(
        &self,
        query: &str,
        ranking: Ranking,
        relaxed: bool,
    ) -> Result<(Option<ParsedQuery>, Box<dyn Query>), SearchError> {
        Ok(match ranking {
            Ranking::Tuned => {
                let parsed = ParsedQuery::parse(query)?;
                let built = rank::build(&parsed, &self.index.fields, relaxed);
                (Some(parsed), built)
            }
            Ranking::Baseline => {
                let cleaned = crate::query::clean(query);
                if cleaned.is_empty() {
                    return Err(QueryError::Empty.into());
                }
                (None, rank::build_baseline(&cleaned, &self.index.fields))
            }
        })
    }

    /// This shard's statistics of `query`'s terms, and whether an ordinary
    /// page defines each name `parsed` asks for.
    fn statistics(
        &self,
        live: &LiveDocs,
        query: &dyn Query,
        parsed: Option<&ParsedQuery>,
    ) -> Result<CorpusStats, SearchError> {
        let mut stats = CorpusStats::of(live, query)?;
        if let Some(parsed) = parsed {
            stats
                .terms
                .extend(rank::public_definitions(live, parsed, &self.index.fields)?);
        }
        Ok(stats)
    }

    /// Statistics and spelling candidates for a query, and the generation
    /// that answers it.
    pub fn prepare(&self, request: &PrepareRequest) -> Result<Prepared, SearchError> {
        let searcher = self.index.reader.searcher();
        let (parsed, query) = self.build(&request.query, request.ranking, request.relaxed)?;
        let live = LiveDocs::of(&searcher);
        let stats = self.statistics(&live, &*query, parsed.as_ref())?;
        Ok(Prepared {
            shard: self.shard,
            generation: self.generation_of(&searcher),
            stats,
            spelling: self.spelling(&live, &request.spell_words)?,
        })
    }

    /// How many documents have `word` in a field a typed word is searched
    /// in (title, headings, URL words, body), as those fields analyze it
    /// (the `spell` field holds only a body's first part): a sum over the
    /// fields, which is 0 only when the word matches no page. None for a
    /// word the analyzer makes no single term of.
    fn text_doc_freq(&self, live: &LiveDocs, word: &str) -> Result<Option<u64>, SearchError> {
        let terms = rank::analyze(word);
        let [term] = terms.as_slice() else {
            return Ok(None);
        };
        let mut df = 0;
        for (field, _weight) in rank::word_fields(&self.index.fields) {
            df += live.doc_freq(&Term::from_field_text(field, term))?;
        }
        Ok(Some(df))
    }

    /// Each of `words`' document frequency here, and its spelling
    /// candidates when it may need them.
    fn spelling(&self, live: &LiveDocs, words: &[String]) -> Result<Vec<WordSpelling>, SearchError> {
        let spell_field = self.index.fields.spell;
        let mut spelling = Vec::new();
        for word in words.iter().take(crate::query::MAX_ATOMS) {
            let df = live.doc_freq(&Term::from_field_text(spell_field, word))?;
            // A word in more documents here than a typo may be is in at
            // least as many over every shard, and so stays as typed
            // (spell::correct_words): walking the dictionary for its
            // candidates would be work for nothing.
            let (candidates, text_df) = if df > crate::spell::MAX_RARE_WORD_DF {
                (Vec::new(), None)
            } else {
                let candidates = crate::spell::candidates(live.searcher(), spell_field, word)?;
                (candidates, self.text_doc_freq(live, word)?)
            };
            spelling.push(WordSpelling {
                word: word.clone(),
                df,
                candidates,
                text_df,
            });
        }
        Ok(spelling)
    }

    /// The best `request.limit` matches (1 to [`MAX_LIMIT`]).
    pub fn query(&self, request: &QueryRequest) -> Result<ShardHits, SearchError> {
        let searcher = self.index.reader.searcher();
        let live = LiveDocs::of(&searcher);
        let (parsed, query) = self.build(&request.query, request.ranking, request.relaxed)?;
        let limit = request.limit.clamp(1, MAX_LIMIT);
        let own_stats;
        let stats = match &request.stats {
            Some(stats) => stats,
            None => {
                own_stats = self.statistics(&live, &*query, parsed.as_ref())?;
                &own_stats
            }
        };
        let statistics = GlobalStatistics::new(&live, stats);
        // The pages the query is typed as the title of, when it names few
        // (in this shard), rank as ordinary pages whatever their kind; so do
        // the implementation's pages when the query names their scope, or
        // asks for names that no ordinary page defines (in any shard).
        let lift = match &parsed {
            Some(parsed) => rank::KindLift {
                typed_title: match rank::typed_title_term(parsed, &self.index.fields) {
                    Some(term) if (1..=rank::MAX_TITLED_PAGES).contains(&live.doc_freq(&term)?) => Some(term),
                    _ => None,
                },
                keeps_implementation: rank::names_implementation(parsed)
                    || (stats.asks_names() && !stats.public_page_defines()),
            },
            None => rank::KindLift::default(),
        };
        let section_scorer = match &parsed {
            Some(parsed) => SectionScorer::new(parsed, &self.index.fields, &statistics, lift.clone())?,
            None => None,
        };
        let depth = if section_scorer.is_some() {
            limit.max(RESCORE_DEPTH)
        } else {
            limit
        };
        let collector = (
            TopDocs::with_limit(depth).tweak_score(rank::rank_key_fn(
                &self.index.fields,
                request.ranking,
                !parsed.as_ref().is_some_and(rank::names_code),
                lift,
            )),
            Count,
        );
        let (mut top, total) = searcher.search_with_statistics_provider(&*query, &collector, &statistics)?;
        if let Some(scorer) = &section_scorer {
            // Exactly the best RESCORE_DEPTH, whatever the limit: a later
            // page of the same query sees the same order. Rescored scores
            // only grow, so they stay above the rest.
            let depth = RESCORE_DEPTH.min(top.len());
            scorer.rescore(&searcher, &mut top[..depth])?;
            top.truncate(limit);
        }
        let addresses: Vec<DocAddress> = top.iter().map(|(_, address)| *address).collect();
        let quoting = match &parsed {
            Some(parsed) => self.quoting_hits(&searcher, parsed, &addresses)?,
            None => vec![false; addresses.len()],
        };
        let mut hits = Vec::with_capacity(top.len());
        for ((key, address), quotes_message) in top.into_iter().zip(quoting) {
            hits.push(ShardHit {
                quotes_message,
                ..self.hit(&searcher, key.score, address)?
            });
        }
        Ok(ShardHits {
            shard: self.shard,
            generation: self.generation_of(&searcher),
            query: request.query.clone(),
            total,
            hits,
            spelling: self.spelling(&live, &request.spell_words)?,
        })
    }

    /// Which of `addresses` quote `query` as an error message: those that
    /// [`rank::quoted_message_query`]'s phrases match, unscored (tantivy
    /// then checks the slop of the last two words only, so a few more than
    /// the message bonus rewards; the query API reads them again, exactly).
    /// All false when the query reads as no message.
    fn quoting_hits(
        &self,
        searcher: &Searcher,
        query: &ParsedQuery,
        addresses: &[DocAddress],
    ) -> Result<Vec<bool>, SearchError> {
        let mut quoting = vec![false; addresses.len()];
        let Some(message) = rank::quoted_message_query(query, &self.index.fields) else {
            return Ok(quoting);
        };
        let weight = message.weight(EnableScoring::disabled_from_searcher(searcher))?;
        // One scorer a segment, asked in the order of its documents.
        let mut order: Vec<usize> = (0..addresses.len()).collect();
        order.sort_by_key(|&at| (addresses[at].segment_ord, addresses[at].doc_id));
        let mut segment: Option<(u32, Box<dyn Scorer>)> = None;
        for at in order {
            let DocAddress { segment_ord, doc_id } = addresses[at];
            let scorer = match &mut segment {
                Some((ord, scorer)) if *ord == segment_ord => scorer,
                _ => {
                    let scorer = weight.scorer(searcher.segment_reader(segment_ord), 1.0)?;
                    &mut segment.insert((segment_ord, scorer)).1
                }
            };
            quoting[at] = scorer.doc() <= doc_id && scorer.seek(doc_id) == doc_id;
        }
        Ok(quoting)
    }

    /// `query`'s best `limit` matches, scored with this shard's statistics.
    pub fn search(&self, query: &str, limit: usize) -> Result<ShardHits, SearchError> {
        let parsed = ParsedQuery::parse(query)?;
        self.query(&QueryRequest {
            query: parsed.normalized(),
            ranking: Ranking::Tuned,
            limit,
            relaxed: false,
            stats: None,
            spell_words: Vec::new(),
        })
    }

    fn hit(
        &self,
        searcher: &Searcher,
        score: f32,
        address: tantivy::DocAddress,
    ) -> Result<ShardHit, SearchError> {
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
        let simhash = searcher
            .segment_reader(address.segment_ord)
            .fast_fields()
            .u64(indexer::schema::SIMHASH_FIELD)
            .ok()
            .and_then(|column| column.first(address.doc_id))
            .unwrap_or_default();
        Ok(ShardHit {
            doc_id: DocId(id).to_string(),
            score,
            url: text(fields.url),
            title: text(fields.title),
            site: text(fields.site),
            simhash,
            quotes_message: false,
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

/// Runs a search on the blocking pool (it reads mmapped segments); its
/// error, or its panic, as the HTTP answer.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, SearchError> + Send + 'static,
) -> Result<T, ApiError> {
    let answer = tokio::task::spawn_blocking(work)
        .await
        .map_err(SearchError::from)?;
    Ok(answer?)
}

async fn current_generation(State(searcher): State<Arc<ShardSearcher>>) -> Json<GenerationResponse> {
    Json(GenerationResponse {
        shard: searcher.shard,
        generation: searcher.generation(),
        documents: searcher.documents(),
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
