//! Search: the query string to ranked results with snippets.
//!
//! Ranking is tantivy's BM25 over title, headings and body, with matches in
//! the title weighing most. Terms are combined with AND. Snippets are cut
//! from the docstore's text around the query terms (tantivy's
//! SnippetGenerator), falling back to the page's static snippet.

use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::DocId;
use indexer::schema::IndexSchema;
use indexer::{Docstore, IndexReaderHandle};
use serde::Serialize;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{Query, QueryParser};
use tantivy::schema::Value;
use tantivy::snippet::SnippetGenerator;
use tantivy::{Searcher, TantivyDocument};

use crate::ApiError;

/// Longest query accepted, in bytes.
pub const MAX_QUERY_BYTES: usize = 512;
pub const MAX_PER_PAGE: usize = 50;
pub const DEFAULT_PER_PAGE: usize = 10;
/// Deepest result reachable by paging.
pub const MAX_RESULT_OFFSET: usize = 1000;

const TITLE_BOOST: f32 = 3.0;
const HEADINGS_BOOST: f32 = 1.5;
const SNIPPET_CHARS: usize = 200;

/// How often a reader in another process than the writer picks up the
/// docstore's new writes.
const DOCSTORE_CATCH_UP_EVERY: Duration = Duration::from_millis(500);

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SearchResponse {
    pub query: String,
    pub total: usize,
    pub took_ms: f64,
    pub page: usize,
    pub per_page: usize,
    pub results: Vec<SearchResult>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SearchResult {
    pub title: String,
    /// HTML: escaped text with the query's terms in `<b>`.
    pub snippet: String,
    pub link: String,
}

pub struct SearchService {
    index: IndexReaderHandle,
    docstore: Arc<Docstore>,
    last_catch_up: Mutex<Instant>,
}

impl SearchService {
    pub fn new(index: IndexReaderHandle, docstore: Arc<Docstore>) -> SearchService {
        SearchService {
            index,
            docstore,
            last_catch_up: Mutex::new(Instant::now()),
        }
    }

    pub fn fields(&self) -> &IndexSchema {
        &self.index.fields
    }

    /// Searches for `query`; `page` counts from 1.
    pub fn search(&self, query: &str, page: usize, per_page: usize) -> Result<SearchResponse, ApiError> {
        let started = Instant::now();
        let query_text = clean_query(query)?;
        let per_page = per_page.clamp(1, MAX_PER_PAGE);
        let page = page.max(1);
        let offset = (page - 1) * per_page;
        if offset >= MAX_RESULT_OFFSET {
            return Err(ApiError::BadRequest(format!(
                "page too deep: at most {MAX_RESULT_OFFSET} results can be paged"
            )));
        }

        let searcher = self.index.reader.searcher();
        let query = parse_query(&self.index, &query_text);
        let collector = (
            TopDocs::with_limit(per_page).and_offset(offset).order_by_score(),
            Count,
        );
        let (top, total) = searcher.search(&*query, &collector)?;
        let results = self.results(
            &searcher,
            &*query,
            top.into_iter().map(|(_, address)| address).collect(),
        )?;
        Ok(SearchResponse {
            query: query_text,
            total,
            took_ms: started.elapsed().as_secs_f64() * 1000.0,
            page,
            per_page,
            results,
        })
    }

    fn results(
        &self,
        searcher: &Searcher,
        query: &dyn Query,
        addresses: Vec<tantivy::DocAddress>,
    ) -> Result<Vec<SearchResult>, ApiError> {
        let fields = &self.index.fields;
        let mut ids = Vec::with_capacity(addresses.len());
        for address in addresses {
            let doc: TantivyDocument = searcher.doc(address)?;
            let id = doc
                .get_first(fields.doc_id)
                .and_then(|v| v.as_u64())
                .unwrap_or_default();
            let url = doc
                .get_first(fields.url)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string();
            let title = doc
                .get_first(fields.title)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string();
            ids.push((DocId(id), url, title));
        }
        self.catch_up_docstore();
        let doc_ids: Vec<DocId> = ids.iter().map(|(id, _, _)| *id).collect();
        let stored = self.docstore.get_many(&doc_ids)?;
        let mut generator = SnippetGenerator::create(searcher, query, fields.body)?;
        generator.set_max_num_chars(SNIPPET_CHARS);

        Ok(ids
            .into_iter()
            .zip(stored)
            .map(|((_, url, title), stored)| {
                let snippet = stored
                    .as_ref()
                    .map(|doc| {
                        let snippet = generator.snippet(&doc.text);
                        if snippet.highlighted().is_empty() {
                            html_escape::encode_text(&doc.static_snippet).into_owned()
                        } else {
                            snippet.to_html()
                        }
                    })
                    .unwrap_or_default();
                let title = if title.is_empty() { url.clone() } else { title };
                SearchResult {
                    title,
                    snippet,
                    link: url,
                }
            })
            .collect())
    }

    fn catch_up_docstore(&self) {
        let mut last = self.last_catch_up.lock().unwrap_or_else(|p| p.into_inner());
        if last.elapsed() >= DOCSTORE_CATCH_UP_EVERY {
            *last = Instant::now();
            if let Err(error) = self.docstore.catch_up() {
                tracing::warn!(%error, "docstore catch-up failed");
            }
        }
    }
}

/// Parses a cleaned query over title, headings and body, AND by default,
/// with matches in the title weighing most.
pub(crate) fn parse_query(index: &IndexReaderHandle, query: &str) -> Box<dyn Query> {
    let fields = &index.fields;
    let mut parser = QueryParser::for_index(&index.index, vec![fields.title, fields.headings, fields.body]);
    parser.set_conjunction_by_default();
    parser.set_field_boost(fields.title, TITLE_BOOST);
    parser.set_field_boost(fields.headings, HEADINGS_BOOST);
    // Lenient: a stray quote or colon never fails a search; whatever
    // parses is searched.
    parser.parse_query_lenient(query).0
}

/// Removes control characters and markup, collapses whitespace, and
/// refuses what cannot be a query.
pub(crate) fn clean_query(raw: &str) -> Result<String, ApiError> {
    if raw.len() > MAX_QUERY_BYTES {
        return Err(ApiError::BadRequest(format!(
            "query too long: at most {MAX_QUERY_BYTES} bytes"
        )));
    }
    let without_markup = strip_tags(raw);
    let cleaned: String = without_markup
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if cleaned.is_empty() {
        return Err(ApiError::BadRequest("empty query".to_string()));
    }
    Ok(cleaned)
}

/// Drops anything that looks like an HTML tag (`<b>`, `</script>`).
fn strip_tags(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let looks_like_tag = after.starts_with(|c: char| c.is_ascii_alphabetic() || c == '/' || c == '!');
        match after.find('>') {
            Some(close) if looks_like_tag => {
                out.push(' ');
                rest = &after[close + 1..];
            }
            _ => {
                out.push('<');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_cleaned() {
        assert_eq!(clean_query("  hello\u{0}  <b>world</b> ").unwrap(), "hello world");
        assert_eq!(clean_query("a < b").unwrap(), "a < b");
        assert!(clean_query("   ").is_err());
        assert!(clean_query("<script></script>").is_err());
        assert!(clean_query(&"x".repeat(MAX_QUERY_BYTES + 1)).is_err());
    }
}
