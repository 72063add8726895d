//! Three of the ranking's query shapes, scored as tantivy scores them but
//! walked by seeking: a word over several fields, or the readings a page
//! may match a query by ([`FieldsMaxQuery`]),
//! most of a question's words ([`AtLeastQuery`]) and bonuses that only add
//! to pages already matched ([`WithBonusQuery`]).
//!
//! Why: tantivy runs a word over fields and a boolean query's `Should`
//! clauses as buffered unions (and a minimum of them in a heap over every
//! clause's pages); a buffered union fills a window of
//! 4,096 documents from every posting list it holds whenever it is asked
//! for one document (`BufferedUnionScorer::seek`). A word that must match
//! then reads its whole posting lists even when another required word is
//! rare, and a common word's bonus ("how", "a") reads every page that has
//! it: a third of the query path's instructions went there
//! (BENCHMARKS.md §24). These scorers move each posting list with `seek`,
//! which skips whole blocks, so the rarest required word leads.
//!
//! The scores are tantivy's: the best field's score plus the tie breaker
//! times the others' (`DisjunctionMaxCombiner`), and the required part's
//! score plus the bonuses that match (`RequiredOptionalScorer`). Only the
//! order in which a few floats are added may differ (a test compares both
//! over an index).

use tantivy::query::{EmptyScorer, EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::{DocId, DocSet, Score, SegmentReader, TERMINATED, Term};

/// The best of several queries: one word (or phrase) over several fields,
/// or the ways a page may match a query (its words, or a name the query
/// names). A page scores its best part plus `tie_breaker` times the
/// others', as tantivy's `DisjunctionMaxQuery`.
#[derive(Debug)]
pub struct FieldsMaxQuery {
    per_field: Vec<Box<dyn Query>>,
    tie_breaker: Score,
}

impl FieldsMaxQuery {
    pub fn new(per_field: Vec<Box<dyn Query>>, tie_breaker: Score) -> FieldsMaxQuery {
        FieldsMaxQuery {
            per_field,
            tie_breaker,
        }
    }
}

impl Clone for FieldsMaxQuery {
    fn clone(&self) -> FieldsMaxQuery {
        FieldsMaxQuery::new(
            self.per_field.iter().map(|query| query.box_clone()).collect(),
            self.tie_breaker,
        )
    }
}

impl Query for FieldsMaxQuery {
    fn weight(&self, enable_scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let per_field = self
            .per_field
            .iter()
            .map(|query| query.weight(enable_scoring))
            .collect::<tantivy::Result<_>>()?;
        Ok(Box::new(FieldsMaxWeight {
            per_field,
            tie_breaker: self.tie_breaker,
        }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        for query in &self.per_field {
            query.query_terms(visitor);
        }
    }
}

struct FieldsMaxWeight {
    per_field: Vec<Box<dyn Weight>>,
    tie_breaker: Score,
}

impl Weight for FieldsMaxWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let mut per_field = live_scorers(&self.per_field, reader, boost)?;
        Ok(match per_field.len() {
            0 => Box::new(EmptyScorer),
            // max + (sum - max) * tie_breaker is the one score.
            1 => per_field.pop().expect("one"),
            _ => Box::new(FieldsMaxScorer::new(per_field, self.tie_breaker)),
        })
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        explain_parts(
            self,
            "best part, plus the others times the tie breaker",
            &self.per_field,
            reader,
            doc,
        )
    }
}

/// At most a handful of fields or readings: the lowest document is found
/// by looking at each, with no heap. Each field's current document is kept here, not
/// asked of its scorer (a call through a `dyn` each time).
struct FieldsMaxScorer {
    per_field: Vec<Box<dyn Scorer>>,
    docs: Vec<DocId>,
    doc: DocId,
    tie_breaker: Score,
}

impl FieldsMaxScorer {
    fn new(per_field: Vec<Box<dyn Scorer>>, tie_breaker: Score) -> FieldsMaxScorer {
        let docs: Vec<DocId> = per_field.iter().map(|scorer| scorer.doc()).collect();
        let doc = docs.iter().copied().min().unwrap_or(TERMINATED);
        FieldsMaxScorer {
            per_field,
            docs,
            doc,
            tie_breaker,
        }
    }

    fn lowest(&self) -> DocId {
        self.docs.iter().copied().min().unwrap_or(TERMINATED)
    }
}

impl DocSet for FieldsMaxScorer {
    fn advance(&mut self) -> DocId {
        let current = self.doc;
        if current == TERMINATED {
            return TERMINATED;
        }
        for (scorer, doc) in self.per_field.iter_mut().zip(&mut self.docs) {
            if *doc == current {
                *doc = scorer.advance();
            }
        }
        self.doc = self.lowest();
        self.doc
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc >= target {
            return self.doc;
        }
        for (scorer, doc) in self.per_field.iter_mut().zip(&mut self.docs) {
            if *doc < target {
                *doc = scorer.seek(target);
            }
        }
        self.doc = self.lowest();
        self.doc
    }

    fn doc(&self) -> DocId {
        self.doc
    }

    fn size_hint(&self) -> u32 {
        self.per_field
            .iter()
            .map(|scorer| scorer.size_hint())
            .max()
            .unwrap_or(0)
    }

    fn cost(&self) -> u64 {
        self.per_field.iter().map(|scorer| scorer.cost()).sum()
    }
}

impl Scorer for FieldsMaxScorer {
    fn score(&mut self) -> Score {
        let (mut max, mut sum) = (0.0, 0.0);
        for (scorer, &doc) in self.per_field.iter_mut().zip(&self.docs) {
            if doc == self.doc {
                let score = scorer.score();
                max = Score::max(score, max);
                sum += score;
            }
        }
        max + (sum - max) * self.tie_breaker
    }
}

/// The pages `required` matches, each scored by it plus every bonus query
/// that matches it too: as a boolean query of `required` and `Should`
/// clauses, but a bonus is only ever asked about a page already matched.
#[derive(Debug)]
pub struct WithBonusQuery {
    required: Box<dyn Query>,
    bonuses: Vec<Box<dyn Query>>,
}

impl WithBonusQuery {
    pub fn new(required: Box<dyn Query>, bonuses: Vec<Box<dyn Query>>) -> WithBonusQuery {
        WithBonusQuery { required, bonuses }
    }
}

impl Clone for WithBonusQuery {
    fn clone(&self) -> WithBonusQuery {
        WithBonusQuery::new(
            self.required.box_clone(),
            self.bonuses.iter().map(|query| query.box_clone()).collect(),
        )
    }
}

impl Query for WithBonusQuery {
    fn weight(&self, enable_scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(WithBonusWeight {
            required: self.required.weight(enable_scoring)?,
            bonuses: self
                .bonuses
                .iter()
                .map(|query| query.weight(enable_scoring))
                .collect::<tantivy::Result<_>>()?,
        }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        self.required.query_terms(visitor);
        for query in &self.bonuses {
            query.query_terms(visitor);
        }
    }
}

struct WithBonusWeight {
    required: Box<dyn Weight>,
    bonuses: Vec<Box<dyn Weight>>,
}

impl Weight for WithBonusWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let required = self.required.scorer(reader, boost)?;
        if required.doc() == TERMINATED {
            return Ok(Box::new(EmptyScorer));
        }
        let bonuses = live_scorers(&self.bonuses, reader, boost)?;
        if bonuses.is_empty() {
            return Ok(required);
        }
        Ok(Box::new(WithBonusScorer {
            required,
            bonus_docs: bonuses.iter().map(|scorer| scorer.doc()).collect(),
            bonuses,
        }))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        // The required part matches whenever the whole does: its
        // explanation is always the first.
        let parts = std::iter::once(&self.required).chain(&self.bonuses);
        explain_parts(self, "required, plus the bonuses that match", parts, reader, doc)
    }
}

/// Each bonus's current document is kept beside it (see
/// [`FieldsMaxScorer`]).
struct WithBonusScorer {
    required: Box<dyn Scorer>,
    bonuses: Vec<Box<dyn Scorer>>,
    bonus_docs: Vec<DocId>,
}

impl DocSet for WithBonusScorer {
    fn advance(&mut self) -> DocId {
        self.required.advance()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        self.required.seek(target)
    }

    fn doc(&self) -> DocId {
        self.required.doc()
    }

    fn size_hint(&self) -> u32 {
        self.required.size_hint()
    }

    fn cost(&self) -> u64 {
        self.required.cost()
    }
}

impl Scorer for WithBonusScorer {
    fn score(&mut self) -> Score {
        let doc = self.required.doc();
        let mut bonus = 0.0;
        for (scorer, bonus_doc) in self.bonuses.iter_mut().zip(&mut self.bonus_docs) {
            if *bonus_doc < doc {
                *bonus_doc = scorer.seek(doc);
            }
            if *bonus_doc == doc {
                bonus += scorer.score();
            }
        }
        self.required.score() + bonus
    }
}

/// The pages that at least `minimum` of `clauses` match, scored by the sum
/// of those that do: tantivy's boolean query of `Should` clauses with a
/// minimum, which walks every clause's pages in a heap.
///
/// Here only the `clauses - minimum + 1` cheapest clauses are walked (the
/// leads): a page that `minimum` clauses match has at least one of them.
/// The other clauses (the most common words) are moved by `seek` to the
/// pages the leads propose, and only while the page can still reach the
/// minimum (Lucene's minimum-should-match scorer does the same).
#[derive(Debug)]
pub struct AtLeastQuery {
    clauses: Vec<Box<dyn Query>>,
    minimum: usize,
}

impl AtLeastQuery {
    pub fn new(clauses: Vec<Box<dyn Query>>, minimum: usize) -> AtLeastQuery {
        AtLeastQuery { clauses, minimum }
    }
}

impl Clone for AtLeastQuery {
    fn clone(&self) -> AtLeastQuery {
        AtLeastQuery::new(
            self.clauses.iter().map(|query| query.box_clone()).collect(),
            self.minimum,
        )
    }
}

impl Query for AtLeastQuery {
    fn weight(&self, enable_scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(AtLeastWeight {
            clauses: self
                .clauses
                .iter()
                .map(|query| query.weight(enable_scoring))
                .collect::<tantivy::Result<_>>()?,
            minimum: self.minimum.max(1),
        }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        for query in &self.clauses {
            query.query_terms(visitor);
        }
    }
}

struct AtLeastWeight {
    clauses: Vec<Box<dyn Weight>>,
    minimum: usize,
}

impl Weight for AtLeastWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let mut scorers = live_scorers(&self.clauses, reader, boost)?;
        if scorers.len() < self.minimum {
            return Ok(Box::new(EmptyScorer));
        }
        if scorers.len() == 1 {
            return Ok(scorers.pop().expect("one"));
        }
        Ok(Box::new(AtLeastScorer::new(scorers, self.minimum)))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        explain_parts(self, "sum of the clauses that match", &self.clauses, reader, doc)
    }
}

/// See [`AtLeastQuery`]. Each scorer's current document is kept beside it.
struct AtLeastScorer {
    /// The cheapest clauses, walked.
    leads: Vec<Box<dyn Scorer>>,
    lead_docs: Vec<DocId>,
    /// The others, cheapest first: moved to the leads' pages.
    tails: Vec<Box<dyn Scorer>>,
    tail_docs: Vec<DocId>,
    minimum: usize,
    doc: DocId,
}

impl AtLeastScorer {
    /// `scorers`: at least `minimum` of them, none terminated.
    fn new(mut scorers: Vec<Box<dyn Scorer>>, minimum: usize) -> AtLeastScorer {
        scorers.sort_by_key(|scorer| scorer.cost());
        let tails = scorers.split_off(scorers.len() - minimum + 1);
        let leads = scorers;
        let mut scorer = AtLeastScorer {
            lead_docs: leads.iter().map(|scorer| scorer.doc()).collect(),
            tail_docs: tails.iter().map(|scorer| scorer.doc()).collect(),
            leads,
            tails,
            minimum,
            doc: 0,
        };
        scorer.settle();
        scorer
    }

    /// Moves to the first page from the leads' lowest one on that enough
    /// clauses match.
    fn settle(&mut self) -> DocId {
        loop {
            let candidate = self.lead_docs.iter().copied().min().unwrap_or(TERMINATED);
            if candidate == TERMINATED || self.matches(candidate) {
                self.doc = candidate;
                return candidate;
            }
            self.advance_leads_at(candidate);
        }
    }

    fn advance_leads_at(&mut self, doc: DocId) {
        for (scorer, lead_doc) in self.leads.iter_mut().zip(&mut self.lead_docs) {
            if *lead_doc == doc {
                *lead_doc = scorer.advance();
            }
        }
    }

    /// Whether at least `minimum` clauses match `candidate`, which the leads
    /// propose: the tails are asked only while it can still reach it.
    fn matches(&mut self, candidate: DocId) -> bool {
        let mut matched = self.lead_docs.iter().filter(|&&doc| doc == candidate).count();
        let mut unasked = self.tails.len();
        for (scorer, tail_doc) in self.tails.iter_mut().zip(&mut self.tail_docs) {
            if matched + unasked < self.minimum {
                return false;
            }
            unasked -= 1;
            if *tail_doc < candidate {
                *tail_doc = scorer.seek(candidate);
            }
            if *tail_doc == candidate {
                matched += 1;
            }
        }
        matched >= self.minimum
    }
}

impl DocSet for AtLeastScorer {
    fn advance(&mut self) -> DocId {
        if self.doc == TERMINATED {
            return TERMINATED;
        }
        self.advance_leads_at(self.doc);
        self.settle()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc >= target {
            return self.doc;
        }
        for (scorer, lead_doc) in self.leads.iter_mut().zip(&mut self.lead_docs) {
            if *lead_doc < target {
                *lead_doc = scorer.seek(target);
            }
        }
        self.settle()
    }

    fn doc(&self) -> DocId {
        self.doc
    }

    fn size_hint(&self) -> u32 {
        self.leads
            .iter()
            .map(|scorer| scorer.size_hint())
            .max()
            .unwrap_or(0)
    }

    fn cost(&self) -> u64 {
        self.leads.iter().map(|scorer| scorer.cost()).sum()
    }
}

impl Scorer for AtLeastScorer {
    fn score(&mut self) -> Score {
        // Every tail was asked about a page that matched (matches stops
        // early only on a page that does not).
        let doc = self.doc;
        let mut sum = 0.0;
        for (scorer, &lead_doc) in self.leads.iter_mut().zip(&self.lead_docs) {
            if lead_doc == doc {
                sum += scorer.score();
            }
        }
        for (scorer, &tail_doc) in self.tails.iter_mut().zip(&self.tail_docs) {
            if tail_doc == doc {
                sum += scorer.score();
            }
        }
        sum
    }
}

/// The scorers of `weights` in `reader` that match anything there: a term
/// this segment does not have gives none.
fn live_scorers(
    weights: &[Box<dyn Weight>],
    reader: &SegmentReader,
    boost: Score,
) -> tantivy::Result<Vec<Box<dyn Scorer>>> {
    let mut scorers = Vec::with_capacity(weights.len());
    for weight in weights {
        let scorer = weight.scorer(reader, boost)?;
        if scorer.doc() != TERMINATED {
            scorers.push(scorer);
        }
    }
    Ok(scorers)
}

/// `weight`'s score of `doc`, called `what`, with the explanations of those
/// of its `parts` that match it beneath; an error when `doc` does not match.
fn explain_parts<'a>(
    weight: &dyn Weight,
    what: &'static str,
    parts: impl IntoIterator<Item = &'a Box<dyn Weight>>,
    reader: &SegmentReader,
    doc: DocId,
) -> tantivy::Result<Explanation> {
    let mut scorer = weight.scorer(reader, 1.0)?;
    // A scorer is only sought forward: one already past `doc` misses it.
    if scorer.doc() > doc || scorer.seek(doc) != doc {
        return Err(tantivy::TantivyError::InvalidArgument(format!(
            "document {doc} does not match"
        )));
    }
    let mut explanation = Explanation::new(what, scorer.score());
    for part in parts {
        if let Ok(part) = part.explain(reader, doc) {
            explanation.add_detail(part);
        }
    }
    Ok(explanation)
}

#[cfg(test)]
mod tests {
    use tantivy::collector::{Count, TopDocs};
    use tantivy::query::{
        BooleanQuery, BoostQuery, ConstScoreQuery, DisjunctionMaxQuery, Occur, PhraseQuery, TermQuery,
    };
    use tantivy::schema::{Field, IndexRecordOption, Schema, TEXT};
    use tantivy::{DocAddress, Index, IndexWriter, TantivyDocument};

    use super::*;

    const WORDS: &[&str] = &[
        "a", "the", "how", "read", "file", "line", "vec", "map", "sort", "key", "rare", "thread",
    ];

    /// Three text fields over four segments, one with deletions; words
    /// drawn so that "a" and "the" are in most pages and "rare" in few.
    fn index() -> (Index, [Field; 3]) {
        let mut schema = Schema::builder();
        let fields = [
            schema.add_text_field("title", TEXT),
            schema.add_text_field("headings", TEXT),
            schema.add_text_field("body", TEXT),
        ];
        let index = Index::create_in_ram(schema.build());
        let mut writer: IndexWriter = index.writer_with_num_threads(1, 15_000_000).unwrap();
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = move |below: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % below as u64) as usize
        };
        let text = |words: usize, next: &mut dyn FnMut(usize) -> usize| {
            (0..words)
                .map(|_| {
                    // The lower of two draws: the first words of WORDS are
                    // the common ones.
                    let i = next(WORDS.len()).min(next(WORDS.len()));
                    WORDS[i]
                })
                .collect::<Vec<_>>()
                .join(" ")
        };
        for segment in 0..4 {
            for _ in 0..3_000 {
                let mut doc = TantivyDocument::default();
                for (field, words) in fields.iter().zip([3, 8, 60]) {
                    let count = next(words + 1);
                    doc.add_text(*field, text(count, &mut next));
                }
                writer.add_document(doc).unwrap();
            }
            if segment == 2 {
                writer.delete_term(Term::from_field_text(fields[0], "rare"));
            }
            writer.commit().unwrap();
        }
        (index, fields)
    }

    fn term(field: Field, word: &str) -> Box<dyn Query> {
        Box::new(TermQuery::new(
            Term::from_field_text(field, word),
            IndexRecordOption::WithFreqs,
        ))
    }

    fn per_field(fields: &[Field; 3], word: &str) -> Vec<Box<dyn Query>> {
        fields
            .iter()
            .zip([3.0, 1.5, 1.0])
            .map(|(&field, boost)| Box::new(BoostQuery::new(term(field, word), boost)) as Box<dyn Query>)
            .collect()
    }

    /// Every match of `query`, with its score, in the order of documents.
    fn matches(index: &Index, query: &dyn Query) -> (usize, Vec<(DocAddress, Score)>) {
        let searcher = index.reader().unwrap().searcher();
        let (top, count) = searcher
            .search(query, &(TopDocs::with_limit(100_000).order_by_score(), Count))
            .unwrap();
        let mut found: Vec<(DocAddress, Score)> = top.into_iter().map(|(score, doc)| (doc, score)).collect();
        found.sort_by_key(|&(doc, _)| doc);
        (count, found)
    }

    fn assert_same(index: &Index, ours: &dyn Query, tantivys: &dyn Query, what: &str) {
        let (our_count, ours) = matches(index, ours);
        let (their_count, theirs) = matches(index, tantivys);
        assert_eq!(our_count, their_count, "{what}: counts");
        assert!(our_count > 0, "{what}: matches nothing, tests nothing");
        assert_eq!(ours.len(), theirs.len(), "{what}: matches");
        for ((our_doc, our_score), (their_doc, their_score)) in ours.iter().zip(&theirs) {
            assert_eq!(our_doc, their_doc, "{what}: the same pages");
            // Only the order of additions differs.
            let tolerance = 1e-5 * their_score.abs().max(1.0);
            assert!(
                (our_score - their_score).abs() <= tolerance,
                "{what}: {our_doc:?} scores {our_score} against tantivy's {their_score}"
            );
        }
    }

    #[test]
    fn a_word_over_fields_scores_as_tantivys_disjunction_max() {
        let (index, fields) = index();
        for word in WORDS {
            for tie_breaker in [0.0, 0.3] {
                assert_same(
                    &index,
                    &FieldsMaxQuery::new(per_field(&fields, word), tie_breaker),
                    &DisjunctionMaxQuery::with_tie_breaker(per_field(&fields, word), tie_breaker),
                    word,
                );
            }
        }
    }

    #[test]
    fn at_least_some_words_match_and_score_as_tantivys_minimum_should_match() {
        let (index, fields) = index();
        let words = |words: &[&str], ours: bool| -> Vec<Box<dyn Query>> {
            words
                .iter()
                .map(|word| -> Box<dyn Query> {
                    if ours {
                        Box::new(FieldsMaxQuery::new(per_field(&fields, word), 0.1))
                    } else {
                        Box::new(DisjunctionMaxQuery::with_tie_breaker(
                            per_field(&fields, word),
                            0.1,
                        ))
                    }
                })
                .collect()
        };
        for (asked, minimum) in [
            (&["read", "file", "line"][..], 2),
            (&["rare", "thread", "a"][..], 2),
            (&["read", "file", "line", "sort", "key", "rare"][..], 3),
            (&["read", "file", "line", "sort", "key", "rare"][..], 5),
            (&["vec", "map", "rare"][..], 1),
            (&["vec", "map", "rare"][..], 3),
        ] {
            let theirs = BooleanQuery::with_minimum_required_clauses(
                words(asked, false)
                    .into_iter()
                    .map(|word| (Occur::Should, word))
                    .collect(),
                minimum,
            );
            let ours = AtLeastQuery::new(words(asked, true), minimum);
            assert_same(
                &index,
                &ours,
                &theirs,
                &format!("{minimum} of {}", asked.join(" ")),
            );
        }
    }

    #[test]
    fn required_words_with_bonuses_score_as_a_boolean_query() {
        let (index, fields) = index();
        let body = fields[2];
        let phrase = |words: &[&str], slop: u32| -> Box<dyn Query> {
            let terms = words.iter().map(|w| Term::from_field_text(body, w)).collect();
            let mut query = PhraseQuery::new(terms);
            query.set_slop(slop);
            Box::new(query)
        };
        // A common word's bonus as the ranking asks it: ours over fields
        // on our side, tantivy's on tantivy's.
        let bonuses = |ours: bool| -> Vec<Box<dyn Query>> {
            let the: Box<dyn Query> = if ours {
                Box::new(FieldsMaxQuery::new(per_field(&fields, "the"), 0.1))
            } else {
                Box::new(DisjunctionMaxQuery::with_tie_breaker(
                    per_field(&fields, "the"),
                    0.1,
                ))
            };
            vec![
                Box::new(BoostQuery::new(the, 0.2)),
                phrase(&["read", "file"], 2),
                Box::new(ConstScoreQuery::new(term(fields[0], "map"), 5.0)),
                Box::new(ConstScoreQuery::new(term(fields[1], "rare"), 7.0)),
            ]
        };
        for required in [
            vec!["file"],
            vec!["rare", "a"],
            vec!["read", "file", "line"],
            vec!["thread", "sort"],
        ] {
            let ours_required = BooleanQuery::new(
                required
                    .iter()
                    .map(|word| {
                        let word: Box<dyn Query> =
                            Box::new(FieldsMaxQuery::new(per_field(&fields, word), 0.1));
                        (Occur::Must, word)
                    })
                    .collect(),
            );
            let ours = WithBonusQuery::new(Box::new(ours_required), bonuses(true));
            let mut clauses: Vec<(Occur, Box<dyn Query>)> = required
                .iter()
                .map(|word| {
                    let word: Box<dyn Query> = Box::new(DisjunctionMaxQuery::with_tie_breaker(
                        per_field(&fields, word),
                        0.1,
                    ));
                    (Occur::Must, word)
                })
                .collect();
            clauses.extend(bonuses(false).into_iter().map(|bonus| (Occur::Should, bonus)));
            let theirs = BooleanQuery::new(clauses);
            assert_same(&index, &ours, &theirs, &required.join(" "));
        }
    }
}
