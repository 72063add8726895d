//! The shard protocol: what the query API says to an index shard and to
//! the document service, and what they answer, the same in this process
//! ([`crate::backends::LocalShard`]) or over HTTP (`trawl index --listen`,
//! `trawl docs --listen`); and the paging limits both sides agree on.
//!
//! Document ids travel as their 16 hex digits (a JSON number would lose
//! bits in JavaScript). An error answer is JSON `{"error": "...", "code": "...",
//! "status": N}` ([`ErrorBody`]); a 400 means the request was bad and would
//! be bad on every shard.

use indexer::StoredDoc;
use serde::{Deserialize, Serialize};

use crate::rank::{CorpusStats, Ranking};

/// Results on one page of the API at most.
pub const MAX_PER_PAGE: usize = 50;
pub const DEFAULT_PER_PAGE: usize = 10;
/// Deepest result reachable by paging.
pub const MAX_RESULT_OFFSET: usize = 1000;
/// Results a shard's `/shard/search` answers unless told.
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
    /// Require most words rather than all ([`crate::rank::build`]).
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
    /// Documents containing the word as typed (in the `spell` field: the
    /// title, the headings and the body's first part).
    pub df: u64,
    pub candidates: Vec<(String, u64)>,
    /// For a word rare enough on this shard to be corrected: the documents
    /// whose title, headings, URL words or whole body have it (as
    /// analyzed), which `df` may not see. None for a word not rare here,
    /// and from a shard that does not say: taken as found.
    #[serde(default)]
    pub text_df: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryRequest {
    pub query: String,
    #[serde(default)]
    pub ranking: Ranking,
    pub limit: usize,
    /// Require most words rather than all ([`crate::rank::build`]).
    #[serde(default)]
    pub relaxed: bool,
    /// Every shard's statistics together; this shard's own when absent.
    #[serde(default)]
    pub stats: Option<CorpusStats>,
    /// Words to find spelling candidates for, as [`PrepareRequest`]'s: a
    /// search of one shard asks once, without preparing first.
    #[serde(default)]
    pub spell_words: Vec<String>,
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
    /// The spelling of the request's `spell_words`.
    #[serde(default)]
    pub spelling: Vec<WordSpelling>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardHit {
    pub doc_id: String,
    pub score: f32,
    pub url: String,
    pub title: String,
    /// The host key, for at most two results per host on a page.
    pub site: String,
    /// The simhash of the page's text: hits that are the same page at two
    /// URLs collapse into one result. 0 when unknown (a shard of an older
    /// trawl), which never collapses.
    #[serde(default)]
    pub simhash: u64,
    /// Whether the page may quote the query as an error message (it
    /// matches [`crate::rank::quoted_message_query`]'s phrases): where the
    /// query API looks for the code of a message pasted without it. False
    /// from a shard of an older trawl.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub quotes_message: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerationResponse {
    pub shard: u32,
    pub generation: u64,
    /// Live documents in the commit searched now.
    #[serde(default)]
    pub documents: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocResponse {
    pub doc_id: String,
    #[serde(flatten)]
    pub doc: StoredDoc,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocsResponse {
    pub docs: Vec<Option<DocResponse>>,
}

/// The body of every error answer, of the API and of the shard servers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
    /// Stable across versions ([`crate::error::ApiError::code`]); absent
    /// from the answers of servers older than the codes.
    #[serde(default)]
    pub code: String,
    pub status: u16,
}
