//! Did-you-mean: spelling corrections drawn from the index's own words.
//!
//! A word's candidates are the words of the `spell` field (unstemmed, as
//! written in the pages) within a small edit distance of it, found as
//! tantivy's `FuzzyTermQuery` finds them: a Levenshtein automaton walks each
//! segment's term dictionary, an FST, and only the matches are read, never
//! the whole dictionary. Whether a word is replaced is decided apart, by
//! [`correct_words`], from document frequencies that the caller may have
//! summed over several shards ([`merge_candidates`]).
//!
//! Edit distances are Damerau-Levenshtein in its restricted form (optimal
//! string alignment): swapping two neighbouring letters ("hashmpa") is one
//! edit, as in the automaton.

use std::collections::HashMap;

use tantivy::query::FuzzyTermQuery;
use tantivy::schema::Field;
use tantivy::{Searcher, Term};

/// Words shorter than this (in characters) are never corrected: too many
/// words are one edit away from "an" or "fn".
pub const MIN_CORRECTED_CHARS: usize = 3;
/// Words up to this many characters get candidates one edit away only; two
/// edits would make "from" of "form", "trim" and "frog" alike.
pub const MAX_ONE_EDIT_CHARS: usize = 4;
/// The analyzer drops longer words, so the dictionary has none.
const MAX_WORD_BYTES: usize = 40;

/// A word found in at most this many documents may be a typo that the
/// pages themselves contain ("ownrship"), and is replaced when a candidate
/// is far more common; a word in more documents is taken as meant.
pub const MAX_RARE_WORD_DF: u64 = 2;
/// How many times more documents a candidate must be in than a rare word to
/// replace it.
pub const RARE_WORD_DF_FACTOR: u64 = 20;
/// What one edit more costs in a candidate's score, in the natural log of
/// its document frequency: a candidate one edit further away wins only if
/// it is in about 1,000 times more documents.
const EDIT_COST: f64 = 6.9; // ln(1000)

/// One word of a query and what to write instead; the same when the word
/// stays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Correction {
    pub original: String,
    pub corrected: String,
}

/// The words of `field` (the `spell` field) within the edit distance
/// allowed for `word` (2, or 1 for words of [`MAX_ONE_EDIT_CHARS`]
/// characters or fewer), each with its document frequency summed over the
/// searcher's segments, best first (fewest edits, then most documents; see
/// [`correct_words`]). `word` is lower-cased as the field is; the word
/// itself is not among its candidates. Words too short, too long or with a
/// digit get none.
///
/// Document frequencies come from the term dictionary and so still count
/// deleted documents until their segment is merged: good enough to rank.
pub fn candidates(searcher: &Searcher, field: Field, word: &str) -> tantivy::Result<Vec<(String, u64)>> {
    let word = word.to_lowercase();
    let Some(max_edits) = max_edits(&word) else {
        return Ok(Vec::new());
    };
    let automaton = FuzzyTermQuery::new(Term::from_field_text(field, &word), max_edits, true).automaton()?;
    let mut doc_freqs: HashMap<String, u64> = HashMap::new();
    for segment in searcher.segment_readers() {
        let inverted_index = segment.inverted_index(field)?;
        let mut terms = inverted_index.terms().search(&automaton).into_stream()?;
        while let Some((term, info)) = terms.next() {
            // Terms of a text field are UTF-8; skip rather than fail if not.
            let Ok(term) = std::str::from_utf8(term) else {
                continue;
            };
            if term != word {
                *doc_freqs.entry(term.to_string()).or_default() += u64::from(info.doc_freq);
            }
        }
    }
    let mut found: Vec<(String, u64)> = doc_freqs.into_iter().collect();
    sort_best_first(&word, &mut found);
    Ok(found)
}

/// How many documents of `searcher` have `word` (lower-cased) in `field`:
/// the first half of what [`correct_words`]'s `lookup` answers.
pub fn doc_freq(searcher: &Searcher, field: Field, word: &str) -> tantivy::Result<u64> {
    searcher.doc_freq(&Term::from_field_text(field, &word.to_lowercase()))
}

/// Candidate lists of several shards as one, document frequencies summed
/// per word, best first only by document frequency (the caller's word is
/// not known here; [`correct_words`] ranks again).
pub fn merge_candidates(lists: Vec<Vec<(String, u64)>>) -> Vec<(String, u64)> {
    let mut doc_freqs: HashMap<String, u64> = HashMap::new();
    for (word, doc_freq) in lists.into_iter().flatten() {
        *doc_freqs.entry(word).or_default() += doc_freq;
    }
    let mut merged: Vec<(String, u64)> = doc_freqs.into_iter().collect();
    merged.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    merged
}

/// Decides for each of `words` whether to replace it; `lookup` gets a word,
/// lower-cased, and answers how many documents have it and its candidates
/// with theirs (for one index: [`doc_freq`] and [`candidates`]; for
/// shards: their sums, [`merge_candidates`]).
///
/// A word stays when it is in more than [`MAX_RARE_WORD_DF`] documents. A
/// word in no document is replaced by its best candidate; a rare word only
/// by a candidate in [`RARE_WORD_DF_FACTOR`] times more documents. The best
/// candidate has the fewest edits, then the most documents, on a log scale
/// where an edit weighs a thousandfold.
///
/// Returns one correction per word, in order (unchanged words corrected to
/// themselves), or None when no word changes.
pub fn correct_words(
    words: &[String],
    lookup: impl Fn(&str) -> (u64, Vec<(String, u64)>),
) -> Option<Vec<Correction>> {
    let mut changed = false;
    let corrections = words
        .iter()
        .map(|original| {
            let corrected = correct_word(original, &lookup);
            changed |= corrected.is_some();
            Correction {
                original: original.clone(),
                corrected: corrected.unwrap_or_else(|| original.clone()),
            }
        })
        .collect();
    changed.then_some(corrections)
}

/// The replacement of `original`, if it needs one.
fn correct_word(original: &str, lookup: &impl Fn(&str) -> (u64, Vec<(String, u64)>)) -> Option<String> {
    let word = original.to_lowercase();
    let max_edits = max_edits(&word)?;
    let (word_doc_freq, candidates) = lookup(&word);
    if word_doc_freq > MAX_RARE_WORD_DF {
        return None;
    }
    let min_doc_freq = (word_doc_freq * RARE_WORD_DF_FACTOR).max(1);
    candidates
        .into_iter()
        .filter(|(candidate, doc_freq)| {
            let edits = edit_distance(&word, candidate);
            // The digits are what the writer typed surely: `sqllite3` may
            // become `sqlite3`, never `sqlite2`.
            *doc_freq >= min_doc_freq
                && edits > 0
                && edits <= usize::from(max_edits)
                && digits(candidate) == digits(&word)
        })
        .map(|(candidate, doc_freq)| (score(&word, &candidate, doc_freq), candidate))
        .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(&a.1)))
        .map(|(_, candidate)| candidate)
}

/// How many edits away candidates of `word` may be; None when the word is
/// not to be corrected. Its letters count: a number ("2025") is never
/// corrected, a name with a digit (`sqllite3`) is.
fn max_edits(word: &str) -> Option<u8> {
    let chars = word.chars().filter(|c| !c.is_numeric()).count();
    if chars < MIN_CORRECTED_CHARS || word.len() > MAX_WORD_BYTES {
        None
    } else if chars <= MAX_ONE_EDIT_CHARS {
        Some(1)
    } else {
        Some(2)
    }
}

fn digits(word: &str) -> String {
    word.chars().filter(|c| c.is_numeric()).collect()
}

/// Higher is better: fewer edits, then more documents, on a log scale.
fn score(word: &str, candidate: &str, doc_freq: u64) -> f64 {
    (doc_freq as f64 + 1.0).ln() - edit_distance(word, candidate) as f64 * EDIT_COST
}

fn sort_best_first(word: &str, found: &mut [(String, u64)]) {
    found.sort_by(|a, b| {
        score(word, &b.0, b.1)
            .total_cmp(&score(word, &a.0, a.1))
            .then_with(|| a.0.cmp(&b.0))
    });
}

/// Restricted Damerau-Levenshtein distance (optimal string alignment) in
/// characters: insertions, deletions, substitutions and swaps of two
/// neighbours each cost one.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Three rows of the usual table: the one before last, the last, this one.
    let mut before_last: Vec<usize> = vec![0; b.len() + 1];
    let mut last: Vec<usize> = (0..=b.len()).collect();
    let mut row: Vec<usize> = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        row[0] = i;
        for j in 1..=b.len() {
            let substitution = usize::from(a[i - 1] != b[j - 1]);
            row[j] = (last[j] + 1).min(row[j - 1] + 1).min(last[j - 1] + substitution);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                row[j] = row[j].min(before_last[j - 2] + 1);
            }
        }
        std::mem::swap(&mut before_last, &mut last);
        std::mem::swap(&mut last, &mut row);
    }
    last[b.len()]
}

#[cfg(test)]
mod tests {
    use indexer::schema::IndexSchema;
    use tantivy::{Index, IndexWriter, TantivyDocument};

    use super::*;

    /// An in-RAM index with the real schema and analyzers; each inner list
    /// of texts is one commit (one segment), each text one document.
    fn index(segments: &[Vec<String>]) -> (Index, IndexSchema) {
        let fields = IndexSchema::new();
        let index = Index::create_in_ram(fields.schema.clone());
        indexer::analyzer::register(&index);
        let mut writer: IndexWriter = index.writer_with_num_threads(1, 15_000_000).unwrap();
        for texts in segments {
            for text in texts {
                let mut doc = TantivyDocument::default();
                doc.add_text(fields.spell, text);
                writer.add_document(doc).unwrap();
            }
            writer.commit().unwrap();
        }
        (index, fields)
    }

    fn repeat(text: &str, times: usize) -> Vec<String> {
        vec![text.to_string(); times]
    }

    /// Rust-book-like pages over two segments: "ownership" in 30 documents,
    /// a page with the typo "ownrship", "crate" in 60 and "crane" (a real
    /// word) in 3.
    fn book() -> (Index, IndexSchema) {
        let mut first = repeat("Ownership and Borrowing in the HashMap", 20);
        first.push("ownrship is misspelled on this page".to_string());
        first.extend(repeat("each crate", 40));
        let mut second = repeat("ownership rules", 10);
        second.extend(repeat("the crate registry", 20));
        second.extend(repeat("a crane lifts", 3));
        second.extend(repeat("version 2024 of the edition", 5));
        second.extend(repeat("the sqlite3 module", 5));
        index(&[first, second])
    }

    fn correct(index: &Index, fields: &IndexSchema, query: &str) -> Option<String> {
        let searcher = index.reader().unwrap().searcher();
        let words: Vec<String> = query.split_whitespace().map(str::to_string).collect();
        correct_words(&words, |word| {
            (
                doc_freq(&searcher, fields.spell, word).unwrap(),
                candidates(&searcher, fields.spell, word).unwrap(),
            )
        })
        .map(|corrections| {
            corrections
                .into_iter()
                .map(|c| c.corrected)
                .collect::<Vec<_>>()
                .join(" ")
        })
    }

    #[test]
    fn candidates_come_from_the_dictionary_with_summed_doc_freqs() {
        let (index, fields) = book();
        let searcher = index.reader().unwrap().searcher();
        assert_eq!(searcher.segment_readers().len(), 2);
        let found = candidates(&searcher, fields.spell, "ownrship").unwrap();
        // 20 + 10 documents over two segments; the word itself is left out.
        assert_eq!(found, vec![("ownership".to_string(), 30)]);
        let found = candidates(&searcher, fields.spell, "Crafe").unwrap();
        assert_eq!(
            found,
            vec![("crate".to_string(), 60), ("crane".to_string(), 3)],
            "lower-cased, best first"
        );
    }

    #[test]
    fn misspelled_words_are_corrected() {
        let (index, fields) = book();
        assert_eq!(correct(&index, &fields, "ownrship").as_deref(), Some("ownership"));
        assert_eq!(correct(&index, &fields, "borowing").as_deref(), Some("borrowing"));
        // A swap of two neighbours is one edit.
        assert_eq!(correct(&index, &fields, "hashmpa").as_deref(), Some("hashmap"));
        assert_eq!(
            correct(&index, &fields, "Ownrship rules borowing").as_deref(),
            Some("ownership rules borrowing")
        );
    }

    #[test]
    fn correct_words_numbers_and_short_words_stay() {
        let (index, fields) = book();
        assert_eq!(correct(&index, &fields, "ownership borrowing hashmap"), None);
        assert_eq!(correct(&index, &fields, "2025 2024"), None, "numbers");
        // A name with a digit is corrected, its digits kept.
        assert_eq!(correct(&index, &fields, "sqllite3").as_deref(), Some("sqlite3"));
        assert_eq!(
            correct(&index, &fields, "sqllite4"),
            None,
            "sqlite3 has another digit"
        );
        assert_eq!(correct(&index, &fields, "th"), None, "under 3 characters");
        // Both one edit away; "crate" is in more documents.
        assert_eq!(correct(&index, &fields, "crae").as_deref(), Some("crate"));
        assert_eq!(correct(&index, &fields, "rules"), None);
        assert_eq!(correct(&index, &fields, "xyzzy"), None, "nothing near");
    }

    #[test]
    fn a_rare_real_word_stays_but_a_rare_typo_goes() {
        let (index, fields) = book();
        // "crane" is in 3 documents, "crate" one edit away in 60: 3 is
        // enough to be meant.
        assert_eq!(correct(&index, &fields, "crane"), None);
        // "ownrship" is in 1 document, "ownership" in 30 (20 times more).
        assert_eq!(correct(&index, &fields, "ownrship").as_deref(), Some("ownership"));
    }

    /// A word, its document frequency and its candidates with theirs.
    type Row = (&'static str, u64, Vec<(&'static str, u64)>);

    /// A `lookup` answering from a table.
    fn table(rows: Vec<Row>) -> impl Fn(&str) -> (u64, Vec<(String, u64)>) {
        move |word| {
            rows.iter()
                .find(|(w, _, _)| *w == word)
                .map(|(_, doc_freq, candidates)| {
                    let candidates = candidates.iter().map(|(c, df)| (c.to_string(), *df)).collect();
                    (*doc_freq, candidates)
                })
                .unwrap_or_default()
        }
    }

    fn corrected(text: &str, lookup: impl Fn(&str) -> (u64, Vec<(String, u64)>)) -> Option<String> {
        let words: Vec<String> = text.split(' ').map(str::to_string).collect();
        let corrections = correct_words(&words, lookup)?;
        Some(
            corrections
                .into_iter()
                .map(|c| c.corrected)
                .collect::<Vec<_>>()
                .join(" "),
        )
    }

    #[test]
    fn the_decision_weighs_doc_freqs() {
        // Rare, but the candidate is not 20 times more common: it stays.
        assert_eq!(
            corrected("tokio", table(vec![("tokio", 1, vec![("token", 19)])])),
            None
        );
        assert_eq!(
            corrected("tokio", table(vec![("tokio", 1, vec![("token", 20)])])).as_deref(),
            Some("token")
        );
        // In more than 2 documents: meant, however common a neighbour.
        assert_eq!(
            corrected("tokio", table(vec![("tokio", 3, vec![("token", 9000)])])),
            None
        );

        // Absent: one edit beats two unless in about 1,000 times more documents.
        let one_or_two_edits = |two_edits_doc_freq| {
            table(vec![(
                "abcdefg",
                0,
                vec![("abcdefx", 3), ("abcdezz", two_edits_doc_freq)],
            )])
        };
        assert_eq!(
            corrected("abcdefg", one_or_two_edits(2000)).as_deref(),
            Some("abcdefx")
        );
        assert_eq!(
            corrected("abcdefg", one_or_two_edits(9000)).as_deref(),
            Some("abcdezz")
        );
        // Same edits: more documents win.
        let lookup = table(vec![("recieve", 0, vec![("recieved", 1), ("receive", 5)])]);
        assert_eq!(corrected("recieve", lookup).as_deref(), Some("receive"));

        // Corrections keep the other words, in order, as written.
        let words = vec!["Rust".to_string(), "borowing".to_string()];
        assert_eq!(
            correct_words(&words, table(vec![("borowing", 0, vec![("borrowing", 7)])])),
            Some(vec![
                Correction {
                    original: "Rust".into(),
                    corrected: "Rust".into()
                },
                Correction {
                    original: "borowing".into(),
                    corrected: "borrowing".into()
                },
            ])
        );
        // Candidates too far for the word's length are ignored.
        assert_eq!(
            corrected("brow", table(vec![("brow", 0, vec![("borrow", 100)])])),
            None
        );
    }

    #[test]
    fn merged_candidates_sum_doc_freqs() {
        let merged = merge_candidates(vec![
            vec![("crate".into(), 5), ("crane".into(), 1)],
            vec![("crane".into(), 2)],
            vec![],
            vec![("crate".into(), 7), ("grate".into(), 3)],
        ]);
        assert_eq!(
            merged,
            vec![("crate".into(), 12), ("crane".into(), 3), ("grate".into(), 3)]
        );
    }

    #[test]
    fn edit_distances_count_swaps_as_one() {
        assert_eq!(edit_distance("hashmpa", "hashmap"), 1);
        assert_eq!(edit_distance("ownrship", "ownership"), 1);
        assert_eq!(edit_distance("borowing", "borrowing"), 1);
        assert_eq!(edit_distance("crate", "crane"), 1);
        assert_eq!(edit_distance("ca", "abc"), 3, "restricted: no edit inside a swap");
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("été", "ete"), 2, "characters, not bytes");
        assert_eq!(edit_distance("same", "same"), 0);
    }
}
