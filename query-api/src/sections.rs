//! A page scored by its best section as well as by its whole text, the way
//! documentation search engines (Algolia DocSearch) rank records rather
//! than pages: the page that answers a question is often long, and the
//! answer one short section of it ("Read all lines from a file" on the
//! page of `Files`), whose words BM25 over the whole page dilutes.
//!
//! After a shard has ranked its pages ([`crate::rank`]), the best
//! [`RESCORE_DEPTH`] get the BM25 score of their best section added:
//! the query's content words counted in each section of the body, the
//! section's length in words against [`SECTION_AVERAGE_WORDS`], and each
//! word's idf over the whole corpus (the statistics the page scores used).
//! The sections' bounds come from the index (`section_bounds`, written by
//! [`indexer::sections`]) and the words' places from the body's
//! positions, so no page text is read. A page without sections is one
//! section. Scores only grow, so the pages past the depth stay below.

use std::collections::HashMap;

use indexer::schema::{IndexSchema, SECTION_BOUNDS_FIELD};
use tantivy::postings::Postings;
use tantivy::query::Bm25StatisticsProvider;
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, DocSet, Searcher, Term};

use crate::query::ParsedQuery;
use crate::rank::{self, RankKey};

/// How many of a shard's best pages are scored by their sections: more
/// than the 40 a first page with host crowding asks for. 100 changed one
/// Rust query of the evaluation's 401 and costs twice the time.
pub const RESCORE_DEPTH: usize = 50;

/// A section's share of the page's score: its BM25 times this. Chosen
/// among 0.5 to 8 on the evaluation's four tuned-on sites together
/// (BENCHMARKS.md §14); the page scores it is added to run from 20 to 60
/// for a best page.
pub const SECTION_WEIGHT: f32 = 3.0;

/// The section length BM25 normalizes to, in words: a typical section of
/// a reference page, the same for every site (one ranking for all).
pub const SECTION_AVERAGE_WORDS: f32 = 120.0;

const K1: f32 = 1.2;
const B: f32 = 0.75;

/// The body terms of a query's content words, with their idf.
pub struct SectionScorer {
    terms: Vec<(Term, f32)>,
    body: tantivy::schema::Field,
    /// What lifts a page's kind factor ([`rank::kind_factors`]).
    lift: rank::KindLift,
}

impl SectionScorer {
    /// The scorer of `query`, None when it has no content word to count.
    pub fn new(
        query: &ParsedQuery,
        fields: &IndexSchema,
        statistics: &dyn Bm25StatisticsProvider,
        lift: rank::KindLift,
    ) -> tantivy::Result<Option<SectionScorer>> {
        let num_docs = statistics.total_num_docs()? as f32;
        let mut terms: Vec<(Term, f32)> = Vec::new();
        for text in rank::content_terms(query) {
            let term = Term::from_field_text(fields.body, &text);
            if terms.iter().any(|(known, _)| *known == term) {
                continue;
            }
            let df = statistics.doc_freq(&term)? as f32;
            let idf = (1.0 + (num_docs - df + 0.5) / (df + 0.5)).ln();
            terms.push((term, idf));
        }
        if terms.is_empty() {
            return Ok(None);
        }
        Ok(Some(SectionScorer {
            terms,
            body: fields.body,
            lift,
        }))
    }

    /// Adds to each of `hits` its best section's score (times the page's
    /// kind factor, as its page score was), and orders them again.
    pub fn rescore(&self, searcher: &Searcher, hits: &mut [(RankKey, DocAddress)]) -> tantivy::Result<()> {
        let mut by_segment: HashMap<u32, Vec<usize>> = HashMap::new();
        for (i, (_, address)) in hits.iter().enumerate() {
            by_segment.entry(address.segment_ord).or_default().push(i);
        }
        let mut starts: Vec<u32> = Vec::new();
        let mut positions = Vec::new();
        for (segment_ord, mut indices) in by_segment {
            indices.sort_by_key(|&i| hits[i].1.doc_id);
            let segment = searcher.segment_reader(segment_ord);
            // None in a segment where no page has sections.
            let column = segment.fast_fields().column_opt::<u64>(SECTION_BOUNDS_FIELD)?;
            let kind_factor_of = rank::kind_factors(segment, &self.lift);
            let lengths = segment.get_fieldnorms_reader(self.body)?;
            let inverted = segment.inverted_index(self.body)?;
            let mut postings = Vec::with_capacity(self.terms.len());
            for (term, idf) in &self.terms {
                if let Some(p) = inverted.read_postings(term, IndexRecordOption::WithFreqsAndPositions)? {
                    postings.push((p, *idf));
                }
            }
            // Per document: each term's positions, then the sections.
            for i in indices {
                let doc = hits[i].1.doc_id;
                starts.clear();
                if let Some(column) = &column {
                    starts.extend(column.values_for_doc(doc).map(|bound| bound as u32));
                }
                // The sections' starts, then where the last one ends; a
                // page without sections is one, as long as its field norm.
                let words = match starts.pop() {
                    Some(end) => end,
                    None => lengths.fieldnorm(doc),
                }
                .max(1);
                if starts.first() != Some(&0) {
                    starts.insert(0, 0);
                }
                let terms = postings.len();
                let mut tf = vec![0u32; starts.len() * terms];
                for (t, (term_postings, _)) in postings.iter_mut().enumerate() {
                    if term_postings.doc() > doc || term_postings.seek(doc) != doc {
                        continue;
                    }
                    positions.clear();
                    term_postings.positions(&mut positions);
                    for &position in &positions {
                        let section = starts.partition_point(|&start| start <= position) - 1;
                        tf[section * terms + t] += 1;
                    }
                }
                let mut best = 0.0f32;
                for (s, &start) in starts.iter().enumerate() {
                    let end = starts.get(s + 1).copied().unwrap_or(words).max(start + 1);
                    let length = (end - start) as f32;
                    let norm = K1 * (1.0 - B + B * length / SECTION_AVERAGE_WORDS);
                    let score: f32 = postings
                        .iter()
                        .enumerate()
                        .map(|(t, (_, idf))| {
                            let tf = tf[s * terms + t] as f32;
                            idf * tf * (K1 + 1.0) / (tf + norm)
                        })
                        .sum();
                    best = best.max(score);
                }
                hits[i].0.score += SECTION_WEIGHT * kind_factor_of(doc) * best;
            }
        }
        hits.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal));
        Ok(())
    }
}
