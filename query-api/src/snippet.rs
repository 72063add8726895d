//! Snippets: the passage of a page's text that best shows why it matched a
//! query, with the matches highlighted.
//!
//! The text is tokenized once with the index's own analyzer, so a snippet
//! highlights exactly what the query matched ("borrowed" for "borrowing").
//! A quoted phrase counts where its words stand at consecutive positions, as
//! in the index, and is highlighted as one span. A window slides over the
//! matches: the best one shows the most distinct phrases, then the most
//! distinct words, then the most matches. A phrase goes first because a
//! quoted phrase is what the user asked for by name: a page matches such a
//! query only through it.
//!
//! Highlight offsets count characters (Unicode scalar values) of the
//! snippet's `text`, not bytes.

use std::collections::HashMap;
use std::ops::Range;

use common::message::Section;
use indexer::identifiers::{identifier_form, looks_like_identifier};
use serde::{Deserialize, Serialize};

/// Where a snippet may start or end: after or before whitespace, failing
/// that a character outside words, within this many characters of the cut.
const MAX_BOUNDARY_SEARCH_CHARS: usize = 20;
const ELLIPSIS: &str = "…";

/// What a snippet highlights, in the analyzer's stems (as the index holds
/// them): the query's positive words, and each quoted phrase's words.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SnippetQuery {
    pub terms: Vec<String>,
    pub phrases: Vec<Vec<String>>,
    /// Identifiers the query names ([`query_identifiers`]): a section
    /// whose anchor names one of them is the one that defines it.
    pub identifiers: Vec<String>,
    /// The query's other words ([`query_plain_words`]), which name a
    /// definition's anchor (`method.push`) less surely.
    pub plain_words: Vec<String>,
}

/// The other words of `query`, lower case: a plain word may still be the
/// name of a definition (`PathBuf push` names `method.push`).
pub fn query_plain_words(query: &str) -> Vec<String> {
    query
        .split_whitespace()
        .filter(|word| !looks_like_identifier(word))
        .map(|word| word.trim_matches(|c: char| matches!(c, '"' | '\'' | ',' | '?' | '`')))
        .map(|word| word.to_lowercase())
        .filter(|word| word.chars().any(char::is_alphanumeric))
        .collect()
}

/// How well `anchor` names what the query asks for: 3 when it is one of
/// its identifiers (or ends with it after a `.`), 2 when their last parts
/// agree (`method.push` for `Vec::push`), 1 when the last part of a
/// definition's anchor (one with a `.`) is a plain word of the query
/// (`method.push` for `PathBuf push`), 0 otherwise.
fn names_query(anchor: &str, query: &SnippetQuery) -> usize {
    let named = names_identifier(anchor, &query.identifiers);
    if named > 0 {
        return named + 1;
    }
    let anchor = identifier_form(anchor);
    match anchor.rsplit_once('.') {
        Some((_, last)) if query.plain_words.iter().any(|word| word == last) => 1,
        _ => 0,
    }
}

/// How well `anchor` names one of `identifiers`: 2 when it is one of them
/// (or ends with it after a `.`), 1 when their last parts agree
/// (`method.push` for `Vec::push`), 0 otherwise.
fn names_identifier(anchor: &str, identifiers: &[String]) -> usize {
    let anchor = identifier_form(anchor);
    let last = |text: &str| text.rsplit('.').next().unwrap_or_default().to_string();
    identifiers
        .iter()
        .map(|identifier| {
            if anchor == *identifier || anchor.ends_with(&format!(".{identifier}")) {
                2
            } else if !identifier.is_empty() && last(&anchor) == last(identifier) {
                1
            } else {
                0
            }
        })
        .max()
        .unwrap_or(0)
}

/// A passage of text, plain and as HTML.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Snippet {
    /// `text` HTML-escaped, each highlight in `<b>..</b>`.
    pub html: String,
    /// The passage, with "…" where it was cut from longer text.
    pub text: String,
    /// In order, not overlapping.
    pub highlights: Vec<Highlight>,
}

/// A highlighted span `start..end` of [`Snippet::text`], in characters
/// (Unicode scalar values: what Rust's `chars()` and Python's `str` count),
/// not bytes.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Highlight {
    pub start: usize,
    pub end: usize,
}

/// The passage of about `max_chars` characters of `text` that shows the
/// query best (see the module's documentation), cut at word boundaries;
/// None when no word of the query occurs in `text`.
pub fn query_snippet(text: &str, query: &SnippetQuery, max_chars: usize) -> Option<Snippet> {
    let words = QueryWords::new(query);
    let hits = words.hits(text);
    let best = &hits[best_window(&hits, &words, max_chars)?];
    // The last hit ends last, unless two phrases overlap.
    let hits_end = best.iter().map(|hit| hit.bytes.end).max().unwrap_or_default();
    let (start, end) = widen(text, best[0].bytes.start, hits_end, max_chars);
    Some(render(text, start, end, &hits))
}

/// The section of `sections` (a page's, over its `text`) that answers the
/// query best: the one whose anchor names an identifier of the query (the
/// definition of `str.split`), then the one holding the most distinct
/// words and phrases of the query, then the one whose own heading holds
/// the most of them, then the one with the most occurrences, then the
/// first. `None` when no section holds any.
pub fn best_section(text: &str, sections: &[Section], query: &SnippetQuery) -> Option<usize> {
    if sections.is_empty() {
        return None;
    }
    let words = QueryWords::new(query);
    let hits = words.hits(text);
    let mut best: Option<(usize, (usize, usize, usize, usize))> = None;
    for (i, section) in sections.iter().enumerate() {
        let start = section.start as usize;
        let end = sections.get(i + 1).map_or(text.len(), |next| next.start as usize);
        let inside: Vec<&Hit> = hits
            .iter()
            .filter(|hit| hit.bytes.start >= start && hit.bytes.start < end)
            .collect();
        let distinct = inside
            .iter()
            .map(|hit| match hit.what {
                Found::Term(word) => (0, word),
                Found::Phrase(phrase) => (1, phrase),
            })
            .collect::<std::collections::HashSet<_>>()
            .len();
        let named = names_query(&section.anchor, query);
        // A section that names the identifier answers even when its text
        // lies past the part of the page that was kept.
        if distinct == 0 && named == 0 {
            continue;
        }
        let heading = section
            .heading_path
            .last()
            .map(String::as_str)
            .unwrap_or_default();
        let in_heading = words.hits(heading).len();
        let score = (named, distinct, in_heading, inside.len());
        if best.is_none_or(|(_, best_score)| score > best_score) {
            best = Some((i, score));
        }
    }
    best.map(|(i, _)| i)
}

/// `text` as a snippet with nothing highlighted: the fallback when no word
/// of the query is in the page's text.
pub fn static_snippet(text: &str) -> Snippet {
    Snippet {
        html: html_escape::encode_text(text).into_owned(),
        text: text.to_string(),
        highlights: Vec::new(),
    }
}

/// The query's distinct stems, numbered, and its phrases in those numbers.
struct QueryWords<'q> {
    ids: HashMap<&'q str, usize>,
    /// Whether a word counts alone, outside a phrase.
    is_term: Vec<bool>,
    phrases: Vec<Vec<usize>>,
}

impl<'q> QueryWords<'q> {
    fn new(query: &'q SnippetQuery) -> QueryWords<'q> {
        let mut words = QueryWords {
            ids: HashMap::new(),
            is_term: Vec::new(),
            phrases: Vec::new(),
        };
        for term in &query.terms {
            let id = words.id(term);
            words.is_term[id] = true;
        }
        for phrase in query.phrases.iter().filter(|phrase| !phrase.is_empty()) {
            let ids = phrase.iter().map(|word| words.id(word)).collect();
            words.phrases.push(ids);
        }
        words
    }

    fn id(&mut self, word: &'q str) -> usize {
        let next = self.ids.len();
        let id = *self.ids.entry(word).or_insert(next);
        if id == next {
            self.is_term.push(false);
        }
        id
    }

    /// Every occurrence in `text` of a phrase, and of a term outside the
    /// phrases found, in order: one pass of the analyzer over the text.
    fn hits(&self, text: &str) -> Vec<Hit> {
        if self.ids.is_empty() {
            return Vec::new();
        }
        let mut matches = Vec::new();
        let mut chars = CharCounter::default();
        let mut analyzer = indexer::analyzer::text_analyzer();
        let mut tokens = analyzer.token_stream(text);
        while let Some(token) = tokens.next() {
            if let Some(&word) = self.ids.get(token.text.as_str()) {
                let char_start = chars.at(text, token.offset_from);
                let char_end = chars.at(text, token.offset_to);
                matches.push(Match {
                    word,
                    position: token.position,
                    bytes: token.offset_from..token.offset_to,
                    chars: char_start..char_end,
                });
            }
        }

        let mut hits = Vec::new();
        // Words of a phrase found: highlighted by the phrase, not again alone.
        let mut in_phrase = vec![false; matches.len()];
        for at in 0..matches.len() {
            for (phrase_id, phrase) in self.phrases.iter().enumerate() {
                if phrase_at(&matches, at, phrase) {
                    let last = &matches[at + phrase.len() - 1];
                    hits.push(Hit {
                        bytes: matches[at].bytes.start..last.bytes.end,
                        chars: matches[at].chars.start..last.chars.end,
                        what: Found::Phrase(phrase_id),
                    });
                    in_phrase[at..at + phrase.len()].fill(true);
                }
            }
            let found = &matches[at];
            if !in_phrase[at] && self.is_term[found.word] {
                hits.push(Hit {
                    bytes: found.bytes.clone(),
                    chars: found.chars.clone(),
                    what: Found::Term(found.word),
                });
            }
        }
        hits
    }
}

/// A token of the text that is a word of the query.
struct Match {
    word: usize,
    position: usize,
    bytes: Range<usize>,
    chars: Range<usize>,
}

/// Whether `phrase`'s words start at `matches[at]`, at consecutive
/// positions. A phrase is made of query words only, so its tokens are
/// neighbours among the matches too.
fn phrase_at(matches: &[Match], at: usize, phrase: &[usize]) -> bool {
    let Some(candidate) = matches.get(at..at + phrase.len()) else {
        return false;
    };
    let first = candidate[0].position;
    candidate
        .iter()
        .zip(phrase)
        .enumerate()
        .all(|(i, (found, &word))| found.word == word && found.position == first + i)
}

/// An occurrence of a phrase or a term: what a snippet highlights.
struct Hit {
    bytes: Range<usize>,
    chars: Range<usize>,
    what: Found,
}

enum Found {
    Term(usize),
    Phrase(usize),
}

/// Turns increasing byte offsets into character offsets in one pass.
#[derive(Default)]
struct CharCounter {
    byte: usize,
    chars: usize,
}

impl CharCounter {
    fn at(&mut self, text: &str, byte: usize) -> usize {
        self.chars += text[self.byte..byte].chars().count();
        self.byte = byte;
        self.chars
    }
}

/// Which hits the best window holds: the most distinct phrases, then words,
/// then hits, within `max_chars` characters (a lone hit longer than that
/// still makes a window); the earliest of equals. Two pointers over the
/// hits, so linear in their number.
fn best_window(hits: &[Hit], words: &QueryWords, max_chars: usize) -> Option<Range<usize>> {
    let mut window = Coverage::new(words);
    let mut best: Option<((usize, usize, usize), Range<usize>)> = None;
    let mut start = 0;
    for end in 0..hits.len() {
        window.change(&hits[end], words, true);
        while start < end && hits[end].chars.end - hits[start].chars.start > max_chars {
            window.change(&hits[start], words, false);
            start += 1;
        }
        let score = (window.distinct_phrases, window.distinct_words, end + 1 - start);
        if best.as_ref().is_none_or(|(best_score, _)| score > *best_score) {
            best = Some((score, start..end + 1));
        }
    }
    best.map(|(_, window)| window)
}

/// How many times a window holds each query word and phrase.
struct Coverage {
    words: Vec<usize>,
    distinct_words: usize,
    phrases: Vec<usize>,
    distinct_phrases: usize,
}

impl Coverage {
    fn new(words: &QueryWords) -> Coverage {
        Coverage {
            words: vec![0; words.is_term.len()],
            distinct_words: 0,
            phrases: vec![0; words.phrases.len()],
            distinct_phrases: 0,
        }
    }

    /// Counts `hit` in (`add`) or out; a phrase counts its words too.
    fn change(&mut self, hit: &Hit, words: &QueryWords, add: bool) {
        match hit.what {
            Found::Term(word) => tally(&mut self.words, &mut self.distinct_words, word, add),
            Found::Phrase(phrase) => {
                tally(&mut self.phrases, &mut self.distinct_phrases, phrase, add);
                for &word in &words.phrases[phrase] {
                    tally(&mut self.words, &mut self.distinct_words, word, add);
                }
            }
        }
    }
}

fn tally(counts: &mut [usize], distinct: &mut usize, id: usize, add: bool) {
    if add {
        counts[id] += 1;
        if counts[id] == 1 {
            *distinct += 1;
        }
    } else {
        counts[id] -= 1;
        if counts[id] == 0 {
            *distinct -= 1;
        }
    }
}

/// The bytes `start..end` of a passage of about `max_chars` characters
/// around the hits at `first..last` (bytes): the room left shared before
/// and after them, the text's ends given their share to the other side,
/// then both ends moved inwards to word boundaries (never into the hits).
fn widen(text: &str, first: usize, last: usize, max_chars: usize) -> (usize, usize) {
    let hits_chars = text[first..last].chars().count();
    let room = max_chars.saturating_sub(hits_chars);
    let available_before = text[..first].chars().rev().take(room).count();
    let available_after = text[last..].chars().take(room).count();
    let before = available_before.min((room / 2).max(room.saturating_sub(available_after)));
    let after = available_after.min(room - before);
    let start = match before {
        0 => first,
        _ => text[..first]
            .char_indices()
            .rev()
            .nth(before - 1)
            .map_or(first, |(i, _)| i),
    };
    let end = text[last..]
        .char_indices()
        .nth(after)
        .map_or(text.len(), |(i, _)| last + i);
    (word_start(text, start, first), word_end(text, last, end))
}

/// The first place at or after `cut` (and at most at `limit`, the first
/// hit, itself a word's start) where a word starts: after whitespace, or
/// failing that after a character outside words. A CJK text without either
/// nearby is cut where it is.
fn word_start(text: &str, cut: usize, limit: usize) -> usize {
    let is_boundary = |at: usize, separator: fn(char) -> bool| {
        at == 0 || text[..at].chars().next_back().is_some_and(separator)
    };
    let candidates = || {
        text[cut..limit]
            .char_indices()
            .map(|(i, _)| cut + i)
            .chain(std::iter::once(limit))
            .take(MAX_BOUNDARY_SEARCH_CHARS)
    };
    let start = candidates()
        .find(|&at| is_boundary(at, char::is_whitespace))
        .or_else(|| candidates().find(|&at| is_boundary(at, |c| !c.is_alphanumeric())))
        .unwrap_or(cut);
    // Leading whitespace is cut off too.
    start + text[start..limit].len() - text[start..limit].trim_start().len()
}

/// The last place at or before `cut` (and at least at `limit`, the last
/// hit's end) where a word ends: see [`word_start`].
fn word_end(text: &str, limit: usize, cut: usize) -> usize {
    let is_boundary = |at: usize, separator: fn(char) -> bool| {
        at == text.len() || text[at..].chars().next().is_some_and(separator)
    };
    let candidates = || {
        text[limit..cut]
            .char_indices()
            .map(|(i, _)| limit + i)
            .chain(std::iter::once(cut))
            .rev()
            .take(MAX_BOUNDARY_SEARCH_CHARS)
    };
    let end = candidates()
        .find(|&at| is_boundary(at, char::is_whitespace))
        .or_else(|| candidates().find(|&at| is_boundary(at, |c| !c.is_alphanumeric())))
        .unwrap_or(cut);
    limit + text[limit..end].trim_end().len()
}

/// The snippet of `text[start..end]`: "…" at each end that cuts text, the
/// hits inside highlighted (overlapping ones as one span).
fn render(text: &str, start: usize, end: usize, hits: &[Hit]) -> Snippet {
    let mut spans: Vec<Range<usize>> = Vec::new();
    for hit in hits
        .iter()
        .filter(|hit| hit.bytes.start >= start && hit.bytes.end <= end)
    {
        match spans.last_mut() {
            Some(last) if hit.bytes.start < last.end => last.end = last.end.max(hit.bytes.end),
            _ => spans.push(hit.bytes.clone()),
        }
    }

    let mut snippet = Snippet {
        html: String::new(),
        text: String::new(),
        highlights: Vec::with_capacity(spans.len()),
    };
    let mut chars = 0;
    let mut push = |snippet: &mut Snippet, part: &str, highlighted: bool| {
        let part_chars = part.chars().count();
        snippet.text.push_str(part);
        if highlighted {
            snippet.highlights.push(Highlight {
                start: chars,
                end: chars + part_chars,
            });
            snippet.html.push_str("<b>");
            snippet.html.push_str(&html_escape::encode_text(part));
            snippet.html.push_str("</b>");
        } else {
            snippet.html.push_str(&html_escape::encode_text(part));
        }
        chars += part_chars;
    };
    if !text[..start].trim().is_empty() {
        push(&mut snippet, ELLIPSIS, false);
    }
    let mut at = start;
    for span in spans {
        push(&mut snippet, &text[at..span.start], false);
        push(&mut snippet, &text[span.clone()], true);
        at = span.end;
    }
    push(&mut snippet, &text[at..end], false);
    if !text[end..].trim().is_empty() {
        push(&mut snippet, ELLIPSIS, false);
    }
    snippet
}

#[cfg(test)]
mod tests {
    use super::*;
    use indexer::identifiers::query_identifiers;

    /// The analyzer's stems of `text`, as the query parser gives them.
    fn stems(text: &str) -> Vec<String> {
        let mut analyzer = indexer::analyzer::text_analyzer();
        let mut tokens = analyzer.token_stream(text);
        let mut stems = Vec::new();
        while let Some(token) = tokens.next() {
            stems.push(token.text.clone());
        }
        stems
    }

    fn terms(words: &str) -> SnippetQuery {
        SnippetQuery {
            terms: stems(words),
            phrases: Vec::new(),
            identifiers: Vec::new(),
            plain_words: Vec::new(),
        }
    }

    /// The text of each highlight, taken by its character offsets.
    fn highlighted(snippet: &Snippet) -> Vec<String> {
        snippet
            .highlights
            .iter()
            .map(|h| snippet.text.chars().skip(h.start).take(h.end - h.start).collect())
            .collect()
    }

    #[test]
    fn highlights_point_at_the_matched_words() {
        let text = "Ownership is a set of rules. Borrowing lets code use a value without taking ownership.";
        let snippet = query_snippet(text, &terms("ownership borrowed"), 200).unwrap();
        assert_eq!(snippet.text, text, "short text: whole, no ellipsis");
        assert_eq!(highlighted(&snippet), ["Ownership", "Borrowing", "ownership"]);
        assert_eq!(
            snippet.html,
            "<b>Ownership</b> is a set of rules. <b>Borrowing</b> lets code use a value without taking \
             <b>ownership</b>."
        );
    }

    #[test]
    fn a_phrase_is_one_span_and_beats_scattered_words() {
        let filler = "lorem ipsum dolor sit amet ".repeat(12);
        let text = format!(
            "{filler}the map of each hash is here. {filler}Use a hash map when keys are unique. {filler}"
        );
        let query = SnippetQuery {
            terms: stems("hash map"),
            phrases: vec![stems("hash map")],
            identifiers: Vec::new(),
            plain_words: Vec::new(),
        };
        let snippet = query_snippet(&text, &query, 60).unwrap();
        assert_eq!(highlighted(&snippet), ["hash map"]);
        assert!(snippet.html.contains("<b>hash map</b>"), "{}", snippet.html);
        assert!(
            snippet.text.contains("Use a hash map when keys are unique."),
            "{}",
            snippet.text
        );

        // Without the phrase, the first window with both words wins.
        let snippet = query_snippet(&text, &terms("hash map"), 60).unwrap();
        assert_eq!(highlighted(&snippet), ["map", "hash"]);
    }

    #[test]
    fn identifiers_of_a_query_and_the_anchors_that_name_them() {
        assert_eq!(
            query_identifiers("str.split Vec::push() __slots__ enumerate() how to sort"),
            ["str.split", "vec.push", "__slots__", "enumerate"]
        );
        let ids = query_identifiers("String.split");
        assert_eq!(names_identifier("split(java.lang.String)", &ids), 1);
        assert_eq!(names_identifier("java.lang.String.split", &ids), 2);
        assert_eq!(
            names_identifier("bytes.split", &query_identifiers("str.split")),
            1
        );
        assert_eq!(names_identifier("str.split", &query_identifiers("str.split")), 2);
        assert_eq!(
            names_identifier("method.push", &query_identifiers("Vec::push")),
            1
        );
        assert_eq!(names_identifier("examples", &query_identifiers("Vec::push")), 0);
    }

    #[test]
    fn the_section_that_defines_the_identifier_is_the_best() {
        let text = "bytes.split(sep) Split the bytes on sep. str.split(sep) Return a list of the words.";
        let sections = vec![
            Section {
                anchor: "bytes.split".into(),
                heading_path: vec!["bytes.split(sep)".into()],
                start: 0,
            },
            Section {
                anchor: "str.split".into(),
                heading_path: vec!["str.split(sep)".into()],
                start: text.find("str.split").unwrap() as u32,
            },
        ];
        let mut query = terms("split sep");
        assert_eq!(
            best_section(text, &sections, &query),
            Some(0),
            "by words alone, the first"
        );
        query.identifiers = query_identifiers("str.split sep");
        assert_eq!(best_section(text, &sections, &query), Some(1));
        // A plain word names a definition's anchor too.
        let mut query = terms("str split");
        query.plain_words = query_plain_words("str split");
        assert_eq!(best_section(text, &sections, &query), Some(1));
    }

    #[test]
    fn phrase_words_must_be_consecutive() {
        let query = SnippetQuery {
            terms: Vec::new(),
            phrases: vec![stems("hash map")],
            identifiers: Vec::new(),
            plain_words: Vec::new(),
        };
        assert_eq!(query_snippet("a hash of a map", &query, 100), None);
        let snippet = query_snippet("a hash, map! and HashMap", &query, 100).unwrap();
        // Punctuation is no gap in positions, as in the index.
        assert_eq!(highlighted(&snippet), ["hash, map"]);
    }

    #[test]
    fn the_window_with_most_distinct_words_wins() {
        let text = format!(
            "{} Then the rules of ownership and borrowing. {}",
            "ownership again. ".repeat(20),
            "more text here. ".repeat(20)
        );
        let snippet = query_snippet(&text, &terms("ownership borrowing rules"), 50).unwrap();
        assert!(
            snippet.text.contains("rules of ownership and borrowing"),
            "{}",
            snippet.text
        );
        assert!(highlighted(&snippet).contains(&"borrowing".to_string()));
    }

    #[test]
    fn html_in_the_text_is_escaped() {
        let text = "<script>alert('x')</script> & <b>bold</b> claims";
        let snippet = query_snippet(text, &terms("script claims"), 200).unwrap();
        assert!(!snippet.html.contains("<script>"), "{}", snippet.html);
        assert_eq!(
            snippet.html,
            "&lt;<b>script</b>&gt;alert('x')&lt;/<b>script</b>&gt; &amp; &lt;b&gt;bold&lt;/b&gt; <b>claims</b>"
        );
        assert_eq!(snippet.text, text);
        let fallback = static_snippet(text);
        assert!(!fallback.html.contains("<script>"));
        assert!(fallback.highlights.is_empty());
        assert_eq!(fallback.text, text);
    }

    #[test]
    fn offsets_count_characters_in_multibyte_text() {
        let text = "Déjà vu: café société, le marché du 日本 et crème brûlée.";
        let snippet = query_snippet(text, &terms("société 日本 brûlée"), 200).unwrap();
        assert_eq!(highlighted(&snippet), ["société", "日本", "brûlée"]);
        assert_eq!(snippet.highlights[0], Highlight { start: 14, end: 21 });

        // Cut text: the leading "…" is one character of the offsets.
        let long = format!("{}日本 et crème brûlée.", "éàü ".repeat(50));
        let snippet = query_snippet(&long, &terms("brûlée"), 20).unwrap();
        assert!(snippet.text.starts_with('…'), "{}", snippet.text);
        assert_eq!(highlighted(&snippet), ["brûlée"]);
    }

    #[test]
    fn no_match_no_snippet() {
        assert_eq!(query_snippet("nothing to see", &terms("ownership"), 100), None);
        assert_eq!(
            query_snippet("nothing to see", &SnippetQuery::default(), 100),
            None
        );
        assert_eq!(query_snippet("", &terms("ownership"), 100), None);
    }

    #[test]
    fn windows_are_cut_at_word_boundaries() {
        let words: Vec<String> = (0..200).map(|i| format!("word{i}")).collect();
        let text = words.join(" ");
        let snippet = query_snippet(&text, &terms("word100"), 60).unwrap();
        assert!(
            snippet.text.starts_with('…') && snippet.text.ends_with('…'),
            "{}",
            snippet.text
        );
        let inner = snippet.text.trim_matches('…');
        assert!(inner.chars().count() <= 60, "{inner}");
        assert!(inner.chars().count() >= 40, "{inner}");
        for word in inner.split(' ') {
            assert!(
                words.contains(&word.to_string()),
                "cut word {word:?} in {inner:?}"
            );
        }
        // The match sits about in the middle.
        let before = inner.split("word100").next().unwrap();
        assert!((15..=30).contains(&before.chars().count()), "{inner}");

        // A match near the start: the room goes after it.
        let snippet = query_snippet(&text, &terms("word1"), 60).unwrap();
        assert!(snippet.text.starts_with("word0 word1 word2"), "{}", snippet.text);
    }

    #[test]
    fn long_texts_take_one_pass() {
        // 100 KB, the match at the end: no timing asserted, it just has to
        // finish quickly for the suite.
        let text = format!("{}the needle is here.", "plain filler words, ".repeat(5_000));
        let snippet = query_snippet(&text, &terms("needle filler"), 200).unwrap();
        assert!(highlighted(&snippet).contains(&"needle".to_string()));
        assert!(snippet.text.contains("words, the needle"), "{}", snippet.text);
        assert!(snippet.text.chars().count() <= 202, "{}", snippet.text);
    }
}
