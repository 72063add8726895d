//! Snippets: the passage of a page's text that best shows why it matched a
//! query, with the matches highlighted.
//!
//! The text's words are analyzed with the index's own analyzer, so a
//! snippet highlights exactly what the query matched ("borrowed" for
//! "borrowing"); only the words that begin as a query word's stem must
//! are analyzed (the text is searched for those beginnings first), which
//! finds the same words as analyzing all of it.
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

use indexer::SectionView;
use indexer::identifiers::{heading_name, identifier_form_into, looks_like_identifier};
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
///
/// `form` is a buffer for the anchor's identifier form, one for many
/// anchors: a page of results may have tens of thousands (`core::arch`).
fn names_query(anchor: &str, query: &SnippetQuery, form: &mut String) -> usize {
    identifier_form_into(anchor, form);
    let anchor = form.as_str();
    let named = form_names_identifier(anchor, &query.identifiers);
    if named > 0 {
        return named + 1;
    }
    match anchor.rsplit_once('.') {
        Some((_, last)) if query.plain_words.iter().any(|word| word == last) => 1,
        _ => 0,
    }
}

/// How well `anchor` (in its [`identifier_form`]) names one of
/// `identifiers`: 2 when it is one of them (or ends with it after a `.`),
/// 1 when their last parts agree (`method.push` for `Vec::push`), 0
/// otherwise.
fn form_names_identifier(anchor: &str, identifiers: &[String]) -> usize {
    fn last(text: &str) -> &str {
        text.rsplit('.').next().unwrap_or_default()
    }
    identifiers
        .iter()
        .map(|identifier| {
            let after_dot = || {
                anchor
                    .strip_suffix(identifier.as_str())
                    .is_some_and(|head| head.ends_with('.'))
            };
            if anchor == identifier || after_dot() {
                2
            } else if !identifier.is_empty() && last(anchor) == last(identifier) {
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
    snippet_of(text, &words, &words.hits(text), max_chars)
}

/// The snippet of `text` from its `hits`.
fn snippet_of(text: &str, words: &QueryWords, hits: &[Hit], max_chars: usize) -> Option<Snippet> {
    let best = &hits[best_window(hits, words, max_chars)?];
    // The last hit ends last, unless two phrases overlap.
    let hits_end = best.iter().map(|hit| hit.bytes.end).max().unwrap_or_default();
    let (start, end) = widen(text, best[0].bytes.start, hits_end, max_chars);
    Some(render(text, start, end, hits))
}

/// Where a result links and what it shows: the section of a page that
/// answers the query best ([`best_section`]) and the snippet cut from that
/// section's text (from the whole text when the page has no sections or
/// none holds a word of the query). The text is read once for both.
pub fn passage(
    text: &str,
    sections: &[SectionView],
    query: &SnippetQuery,
    max_chars: usize,
) -> (Option<usize>, Option<Snippet>) {
    Passages::new(query).passage(text, sections, max_chars)
}

/// [`passage`] for the documents of one query: what the query looks for
/// is worked out once.
pub struct Passages<'q> {
    query: &'q SnippetQuery,
    words: QueryWords<'q>,
}

impl<'q> Passages<'q> {
    pub fn new(query: &'q SnippetQuery) -> Passages<'q> {
        Passages {
            query,
            words: QueryWords::new(query),
        }
    }

    /// See [`passage`].
    pub fn passage(
        &self,
        text: &str,
        sections: &[SectionView],
        max_chars: usize,
    ) -> (Option<usize>, Option<Snippet>) {
        let words = &self.words;
        let named = named_by(sections, self.query);
        if let Some(best) = sole_best_named(&named) {
            // The section that alone names the query's identifier best is
            // the best whatever the text holds (best_of ranks by the name
            // first): only its own text is read, not the whole page's,
            // which for a long reference page (an integer type's methods,
            // `core::arch`) is a megabyte. The snippet is the one the
            // whole text's hits would give (a test compares the two).
            let section_text = &text[section_range(text, sections, best)];
            let own = words.hits(section_text);
            return (Some(best), snippet_of(section_text, words, &own, max_chars));
        }
        self.passage_of_whole_text(text, sections, &named, max_chars)
    }

    /// [`Passages::passage`] from the hits of the whole text.
    fn passage_of_whole_text(
        &self,
        text: &str,
        sections: &[SectionView],
        named: &[usize],
        max_chars: usize,
    ) -> (Option<usize>, Option<Snippet>) {
        let words = &self.words;
        let hits = words.hits(text);
        let Some(best) = best_of(text, sections, named, words, &hits) else {
            return (None, snippet_of(text, words, &hits, max_chars));
        };
        let range = section_range(text, sections, best);
        let section_text = &text[range.clone()];
        // A phrase across the section's edge is not the section's; its
        // words inside may still be terms: the section is read again.
        if hits.iter().any(|hit| {
            (hit.bytes.start < range.start) != (hit.bytes.end <= range.start)
                || (hit.bytes.start < range.end) != (hit.bytes.end <= range.end)
        }) {
            let own = words.hits(section_text);
            return (Some(best), snippet_of(section_text, words, &own, max_chars));
        }
        // The section's own hits, in its text's bytes; character offsets
        // only ever count as differences, so they stay as they are.
        let inside: Vec<Hit> = hits
            .iter()
            .filter(|hit| range.contains(&hit.bytes.start) && hit.bytes.end <= range.end)
            .map(|hit| Hit {
                bytes: hit.bytes.start - range.start..hit.bytes.end - range.start,
                chars: hit.chars.clone(),
                what: hit.what,
            })
            .collect();
        (Some(best), snippet_of(section_text, words, &inside, max_chars))
    }
}

/// The bytes of `text` that section `i` of `sections` holds (as
/// [`SectionView::range`]: nothing when its offsets do not fit the text).
fn section_range(text: &str, sections: &[SectionView], i: usize) -> Range<usize> {
    sections[i].range(text, sections.get(i + 1))
}

/// The section of `sections` (a page's, over its `text`) that answers the
/// query best: the one whose anchor names an identifier of the query (the
/// definition of `str.split`), then the one holding the most distinct
/// words and phrases of the query, then the one whose own heading holds
/// the most of them, then the one with the most occurrences, then the
/// first. `None` when no section holds any.
pub fn best_section(text: &str, sections: &[SectionView], query: &SnippetQuery) -> Option<usize> {
    let words = QueryWords::new(query);
    best_of(
        text,
        sections,
        &named_by(sections, query),
        &words,
        &words.hits(text),
    )
}

/// How well each section names the query ([`names_query`]): by its anchor,
/// or by its heading when that is a name. The index counts both
/// (`indexer::identifiers::heading_name`); an anchor comes first at the
/// same level (twice its level, a heading's one less): Sphinx's
/// `object.__slots__` definition before the "3.3.2.4. __slots__" section
/// above it, while DocBook's table row `jsonb_set`, whose anchor is
/// `id-1.5.8...`, is named by its heading alone.
fn named_by(sections: &[SectionView], query: &SnippetQuery) -> Vec<usize> {
    if query.identifiers.is_empty() && query.plain_words.is_empty() {
        // Nothing to name: no heading is read (a page may have thousands).
        return vec![0; sections.len()];
    }
    let mut form = String::new();
    sections
        .iter()
        .map(|section| {
            let heading = section.heading_path.last().copied().unwrap_or_default();
            let by_heading = heading_name(heading).map_or(0, |name| names_query(name, query, &mut form));
            let by_anchor = names_query(section.anchor, query, &mut form);
            (2 * by_anchor).max((2 * by_heading).saturating_sub(1))
        })
        .collect()
}

/// The section whose anchor names the query best ([`names_query`], each
/// section's in `named`) when it is the only one that names it that well.
fn sole_best_named(named: &[usize]) -> Option<usize> {
    let top = named.iter().copied().max().filter(|&top| top > 0)?;
    let mut at_top = named.iter().enumerate().filter(|&(_, &n)| n == top);
    match (at_top.next(), at_top.next()) {
        (Some((i, _)), None) => Some(i),
        _ => None,
    }
}

/// [`best_section`] from the text's `hits`, with `named` holding how well
/// each section's anchor names the query.
fn best_of(
    text: &str,
    sections: &[SectionView],
    named: &[usize],
    words: &QueryWords,
    hits: &[Hit],
) -> Option<usize> {
    let mut best: Option<(usize, (usize, usize, usize, usize))> = None;
    // Hits and sections are both in the text's order: one walk over each.
    let mut next_hit = 0;
    // The last section each word and phrase was counted in (by slot): a
    // long page has thousands of sections, and nothing is cleared or hashed
    // between them.
    let mut counted_in = vec![usize::MAX; words.slots()];
    for i in 0..sections.len() {
        let range = section_range(text, sections, i);
        while next_hit < hits.len() && hits[next_hit].bytes.start < range.start {
            next_hit += 1;
        }
        let mut distinct = 0;
        let mut inside = 0;
        while next_hit < hits.len() && hits[next_hit].bytes.start < range.end {
            let slot = words.slot(hits[next_hit].what);
            if counted_in[slot] != i {
                counted_in[slot] = i;
                distinct += 1;
            }
            inside += 1;
            next_hit += 1;
        }
        let named = named[i];
        // A section that names the identifier answers even when its text
        // lies past the part of the page that was kept.
        if distinct == 0 && named == 0 {
            continue;
        }
        let heading = sections[i].heading_path.last().copied().unwrap_or_default();
        let in_heading = words.hits(heading).len();
        let score = (named, distinct, in_heading, inside);
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
    /// What every word with one of the stems starts with ([`needles`]);
    /// None when a needle is not ASCII, and the text is then analyzed whole.
    needles: Option<Vec<memchr::memmem::Finder<'static>>>,
    /// The text searched last, lower-cased: written over by the next
    /// document's, without a new allocation for each.
    lowered: std::cell::RefCell<Vec<u8>>,
}

/// What every word stemmed to `stem` starts with, lower case: all of the
/// stem but its last character, and at least its first. English Snowball
/// stemming rewrites only a word's ending, and leaves a stem that differs
/// from the word in its last character at most ("happy" to "happi",
/// "hoping" to "hope"), but for a consonant and "ying" ("dying", "vying"),
/// which becomes the consonant and "ie": such a stem's own beginning, the
/// consonant and "y", is a needle too. Checked over the 238,000 distinct
/// words of the Rust, Python, PostgreSQL and Java docs, and by a test here
/// on every word of a text.
fn needles(stem: &str) -> Vec<String> {
    let keep = stem.chars().count().saturating_sub(1).max(1);
    let needle = match stem.char_indices().nth(keep) {
        Some((end, _)) => &stem[..end],
        None => stem,
    };
    let mut needles = vec![needle.to_string()];
    let chars: Vec<char> = stem.chars().collect();
    if let [first, 'i', 'e'] = chars[..]
        && !"aeiouy".contains(first)
    {
        needles.push(format!("{first}y"));
    }
    needles
}

impl<'q> QueryWords<'q> {
    fn new(query: &'q SnippetQuery) -> QueryWords<'q> {
        let mut words = QueryWords {
            ids: HashMap::new(),
            is_term: Vec::new(),
            phrases: Vec::new(),
            needles: None,
            lowered: Default::default(),
        };
        for term in &query.terms {
            let id = words.id(term);
            words.is_term[id] = true;
        }
        for phrase in query.phrases.iter().filter(|phrase| !phrase.is_empty()) {
            let ids = phrase.iter().map(|word| words.id(word)).collect();
            words.phrases.push(ids);
        }
        let mut needles: Vec<String> = words.ids.keys().flat_map(|stem| needles(stem)).collect();
        needles.sort_unstable();
        needles.dedup();
        if needles
            .iter()
            .all(|needle| needle.is_ascii() && !needle.is_empty())
        {
            words.needles = Some(
                needles
                    .iter()
                    .map(|needle| memchr::memmem::Finder::new(needle).into_owned())
                    .collect(),
            );
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

    /// How many words and phrases the query has: [`QueryWords::slot`]'s
    /// numbers are below it.
    fn slots(&self) -> usize {
        self.is_term.len() + self.phrases.len()
    }

    /// A number for each word and each phrase of the query: words first.
    fn slot(&self, found: Found) -> usize {
        match found {
            Found::Term(word) => word,
            Found::Phrase(phrase) => self.is_term.len() + phrase,
        }
    }

    /// Every occurrence in `text` of a phrase, and of a term outside the
    /// phrases found, in order.
    fn hits(&self, text: &str) -> Vec<Hit> {
        if self.ids.is_empty() {
            return Vec::new();
        }
        let matches = match &self.needles {
            Some(needles) if !lower_cases_into_ascii(text) => self.scan(text, needles),
            _ => self.analyze(text),
        };

        let mut hits = Vec::with_capacity(matches.len());
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

    /// The tokens of `text` that are query words: one pass of the analyzer
    /// over the whole text.
    fn analyze(&self, text: &str) -> Vec<Match> {
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
        matches
    }

    /// What [`QueryWords::analyze`] finds, analyzing only the tokens that
    /// start with a needle: a search of the text for a few short strings
    /// instead of stemming every word of it. The analyzer's tokens are runs
    /// of alphanumeric characters, lower-cased and stemmed each alone, so a
    /// token analyzed alone is what it is in its text. Positions are not
    /// counted, only whether two matches are neighbours (nothing
    /// alphanumeric between them): all a phrase needs.
    fn scan(&self, text: &str, needles: &[memchr::memmem::Finder<'static>]) -> Vec<Match> {
        // ASCII lower-casing keeps every byte where it is; a needle is
        // ASCII, and no other character lower-cases into ASCII here
        // (lower_cases_into_ascii). A window at a time, so that the
        // lowered copy stays in the cache while the needles are searched in
        // it: a page's text can be megabytes. Windows overlap by a needle's
        // length less one, so a needle across a window's end is found in
        // the next one.
        let mut lowered = self.lowered.borrow_mut();
        let overlap = needles.iter().map(|n| n.needle().len()).max().unwrap_or(1) - 1;
        let bytes = text.as_bytes();
        let mut starts: Vec<usize> = Vec::new();
        let mut from = 0;
        while from < bytes.len() {
            let to = (from + SCAN_WINDOW_BYTES + overlap).min(bytes.len());
            lowered.clear();
            lowered.extend_from_slice(&bytes[from..to]);
            lowered.make_ascii_lowercase();
            for needle in needles {
                // A needle starts with an ASCII byte: a character's start.
                starts.extend(
                    needle
                        .find_iter(&lowered)
                        .map(|at| from + at)
                        .filter(|&at| starts_word(text, at)),
                );
            }
            from += SCAN_WINDOW_BYTES;
        }
        // Found twice where windows overlap. Each needle's starts are
        // already in order, a run per needle and window: the stable sort
        // merges runs it finds rather than sorting from scratch.
        starts.sort();
        starts.dedup();

        let mut matches: Vec<Match> = Vec::new();
        let mut chars = CharCounter::default();
        let mut analyzer = indexer::analyzer::text_analyzer();
        // Each distinct candidate analyzed once: a long page names the same
        // words again and again, and most candidates are not query words.
        let mut analyzed: HashMap<&str, Option<usize>, foldhash::fast::RandomState> = HashMap::default();
        for start in starts {
            let end = alphanumeric_end(text, start);
            let candidate = &text[start..end];
            let word = *analyzed.entry(candidate).or_insert_with(|| {
                let mut tokens = analyzer.token_stream(candidate);
                // None: a token too long to be indexed.
                let token = tokens.next()?;
                self.ids.get(token.text.as_str()).copied()
            });
            let Some(word) = word else { continue };
            let position = match matches.last() {
                None => 0,
                Some(last) if !text[last.bytes.end..start].chars().any(char::is_alphanumeric) => {
                    last.position + 1
                }
                Some(last) => last.position + 2,
            };
            let char_start = chars.at(text, start);
            let char_end = chars.at(text, end);
            matches.push(Match {
                word,
                position,
                bytes: start..end,
                chars: char_start..char_end,
            });
        }
        matches
    }
}

/// Whether no alphanumeric character comes right before byte `at` of
/// `text` (a character's start): ASCII is judged by its byte.
fn starts_word(text: &str, at: usize) -> bool {
    match at.checked_sub(1).map(|before| text.as_bytes()[before]) {
        None => true,
        Some(byte) if byte.is_ascii() => !byte.is_ascii_alphanumeric(),
        Some(_) => !text[..at].chars().next_back().is_some_and(char::is_alphanumeric),
    }
}

/// Where the run of alphanumeric characters starting at byte `start` of
/// `text` ends: its ASCII part judged byte by byte, Unicode's rules from
/// its first other character on.
fn alphanumeric_end(text: &str, start: usize) -> usize {
    let bytes = text.as_bytes();
    let mut end = start;
    while end < bytes.len() && bytes[end].is_ascii_alphanumeric() {
        end += 1;
    }
    if end == bytes.len() || bytes[end].is_ascii() {
        return end;
    }
    text[end..]
        .char_indices()
        .find(|(_, c)| !c.is_alphanumeric())
        .map_or(text.len(), |(i, _)| end + i)
}

/// The bytes of a page's text lower-cased and searched at a time by
/// [`QueryWords::scan`]: well inside a core's L2 cache.
const SCAN_WINDOW_BYTES: usize = 64 * 1024;

/// Whether `text` has a character that is not ASCII but lower-cases into
/// ASCII (the Kelvin sign into `k`, the dotted capital I into `i` and a
/// dot), which [`QueryWords::scan`]'s search of the ASCII-lower-cased text
/// would miss.
fn lower_cases_into_ascii(text: &str) -> bool {
    // Their UTF-8 bytes searched for (SIMD), not every character decoded.
    ["\u{212A}", "\u{130}"]
        .iter()
        .any(|c| memchr::memmem::find(text.as_bytes(), c.as_bytes()).is_some())
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    use common::message::Section;

    use super::*;

    /// Sections as the docstore reads them.
    fn views(sections: &[Section]) -> Vec<SectionView<'_>> {
        sections.iter().map(SectionView::of).collect()
    }

    fn names_identifier(anchor: &str, identifiers: &[String]) -> usize {
        form_names_identifier(&indexer::identifiers::identifier_form(anchor), identifiers)
    }
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

    /// Matches as comparable tuples: word, bytes, characters, and whether
    /// each is the neighbour of the one before.
    fn described(matches: &[Match]) -> Vec<(usize, Range<usize>, Range<usize>, bool)> {
        matches
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let next_to_last = i > 0 && matches[i - 1].position + 1 == m.position;
                (m.word, m.bytes.clone(), m.chars.clone(), next_to_last)
            })
            .collect()
    }

    // The scan for needles must find what analyzing the whole text finds:
    // every word of a text, alone and with its neighbour as a phrase.
    #[test]
    fn scanning_for_needles_finds_what_analysis_finds() {
        let text = "Possibility, possibilities and POSSIBLY possible: the relational (Conditional) \
                    tables. Hoping, hopping, hoped; happy happiness HAPPILY. Skies, skis, dying, lying, \
                    tying, vying, hying, 2ying, idly, gently, ugly, early, only, singly. Naïve café ÉCOLE école über Über. \
                    generously generalization communication arsenal. utf8 UTF-8 x86_64 u32x4_gt \
                    __slots__ HashMap::entry str.split() self-referential re-exported 2024-01-01 \
                    Antidisestablishmentarianismantidisestablishmentarianism words \
                    sensibility feasibilities agreed agreeing feed fed ies ied eyes cries ties \
                    日本語のテキスト and 中文 text; Ωmega ωmega ΣΑΣ σας.";
        let mut analyzer = indexer::analyzer::text_analyzer();
        let mut stream = analyzer.token_stream(text);
        let mut words: Vec<String> = Vec::new();
        while let Some(token) = stream.next() {
            words.push(token.text.clone());
        }
        assert!(words.len() > 60, "{}", words.len());
        // And the same text past a scan window's end: its first word across
        // the end, then the window's end inside a two-byte character.
        let across = format!("{}{text}", " ".repeat(SCAN_WINDOW_BYTES - 4));
        let inside = format!("a{} {text} {text}", "é".repeat(SCAN_WINDOW_BYTES / 2));
        // And a short word ("and") starting where the next window does, in
        // the first window's overlap: found by both, kept once.
        let and_at = text.find(" and ").unwrap() + 1;
        let at_edge = format!("{}{text}", " ".repeat(SCAN_WINDOW_BYTES - and_at));
        assert_eq!(at_edge.find(" and ").unwrap() + 1, SCAN_WINDOW_BYTES);
        for text in [text, &across, &inside, &at_edge] {
            assert_scan_finds_what_analysis_finds(text, &words);
        }
        // The Kelvin sign lower-cases into `k`: such a text is analyzed.
        assert!(lower_cases_into_ascii("\u{212A}elvin"));
        assert!(!lower_cases_into_ascii(text));
    }

    fn assert_scan_finds_what_analysis_finds(text: &str, words: &[String]) {
        let mut scanned = 0;
        for (i, word) in words.iter().enumerate() {
            let mut query = SnippetQuery {
                terms: vec![word.clone()],
                ..SnippetQuery::default()
            };
            if let Some(next) = words.get(i + 1) {
                query.phrases.push(vec![word.clone(), next.clone()]);
            }
            // And four words at once: several needles, some of which
            // occur inside others' occurrences.
            let several = SnippetQuery {
                terms: words[i..(i + 4).min(words.len())].to_vec(),
                ..SnippetQuery::default()
            };
            for query in [query, several] {
                let query_words = QueryWords::new(&query);
                let analyzed = query_words.analyze(text);
                assert!(!analyzed.is_empty(), "{word}");
                if let Some(needles) = &query_words.needles {
                    scanned += 1;
                    assert_eq!(
                        described(&query_words.scan(text, needles)),
                        described(&analyzed),
                        "{:?}",
                        query.terms
                    );
                }
            }
        }
        assert!(scanned > 50, "{scanned}");
    }

    #[test]
    fn word_starts_and_ends_are_unicodes_with_ascii_read_by_byte() {
        let text = "a1 é日本x_y-z Kx\u{212a}k ça,ü9 \u{301}b end";
        for (at, _) in text.char_indices().chain([(text.len(), ' ')]) {
            let unicode_start = !text[..at].chars().next_back().is_some_and(char::is_alphanumeric);
            assert_eq!(starts_word(text, at), unicode_start, "start at {at}");
            let unicode_end = text[at..]
                .char_indices()
                .find(|(_, c)| !c.is_alphanumeric())
                .map_or(text.len(), |(i, _)| at + i);
            assert_eq!(alphanumeric_end(text, at), unicode_end, "end from {at}");
        }
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
        let owned = vec![
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
        let sections = views(&owned);
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
    fn a_heading_that_is_a_name_names_its_section_after_anchors_that_do() {
        // DocBook: a function table's rows, anchored by generated ids, each
        // named by its function; the mention in the first row loses to the
        // row that defines it.
        let text =
            "jsonb_insert ( target ) Like jsonb_set, but inserts. jsonb_set ( target ) Replaces the item.";
        let row = |anchor: &str, name: &str, at: &str| Section {
            anchor: anchor.into(),
            heading_path: vec!["9.16. JSON Functions".into(), name.into()],
            start: text.find(at).unwrap() as u32,
        };
        let owned = vec![
            row("id-1.5.8.22.1", "jsonb_insert", "jsonb_insert"),
            row("id-1.5.8.22.2", "jsonb_set", "jsonb_set ("),
        ];
        let sections = views(&owned);
        let mut query = terms("jsonb_set");
        query.identifiers = query_identifiers("jsonb_set");
        assert_eq!(best_section(text, &sections, &query), Some(1));
        // Sphinx: a section headed by the name holds the definition whose
        // anchor is the name: the definition is named first.
        let text = "3.3.2.4. __slots__ Slots save space. object.__slots__ This class variable...";
        let owned = vec![
            Section {
                anchor: "id3".into(),
                heading_path: vec!["3.3.2.4. __slots__".into()],
                start: 0,
            },
            Section {
                anchor: "object.__slots__".into(),
                heading_path: vec!["3.3.2.4. __slots__".into(), "object.__slots__".into()],
                start: text.find("object.").unwrap() as u32,
            },
        ];
        let sections = views(&owned);
        let mut query = terms("slots");
        query.identifiers = query_identifiers("__slots__");
        assert_eq!(best_section(text, &sections, &query), Some(1));
    }

    #[test]
    fn a_passage_is_the_best_section_and_its_own_snippet() {
        let text = "Intro ünïcode words here. bytes.split(sep) Split the bytes on sep. \
                    str.split(sep) Return a list of the words in the string, using sep.";
        let section = |anchor: &str, at: &str| Section {
            anchor: anchor.into(),
            heading_path: vec![at.into()],
            start: text.find(at).unwrap() as u32,
        };
        let owned = vec![
            section("intro", "Intro"),
            section("bytes.split", "bytes.split"),
            section("str.split", "str.split"),
        ];
        let sections = views(&owned);
        let mut query = terms("split words sep");
        query.identifiers = query_identifiers("str.split words sep");
        for max_chars in [20, 40, 200] {
            let (best, snippet) = passage(text, &sections, &query, max_chars);
            assert_eq!(best, Some(2));
            assert_eq!(best, best_section(text, &sections, &query));
            let own_text = owned[2].text(text, None);
            assert_eq!(snippet, query_snippet(own_text, &query, max_chars), "{max_chars}");
        }
        // No sections: the snippet of the whole text.
        let (best, snippet) = passage(text, &[], &query, 60);
        assert_eq!((best, snippet), (None, query_snippet(text, &query, 60)));
        // Offsets that do not fit the text give an empty section, no panic.
        let broken = vec![
            section("intro", "Intro"),
            Section {
                anchor: "x".into(),
                heading_path: Vec::new(),
                start: text.find('ü').unwrap() as u32 + 1,
            },
        ];
        let _ = passage(text, &views(&broken), &query, 60);
    }

    // A section that alone names the query's identifier is read alone
    // (Passages::passage); reading the whole text must give the same
    // section and snippet: phrases across its edges, its words elsewhere
    // on the page, a start inside a word, no word of the query inside it,
    // text that is not ASCII.
    #[test]
    fn reading_only_the_named_section_gives_what_the_whole_text_gives() {
        let text = "Intro: split the words, then sort them. str.split(sep) Split the string on sep \
                    and return the words; see also split whitespace. Ünïcode splits wörds too. \
                    str.sort_by(key) Sort the words by key, stable sort. Split words again at the end.";
        let anchors = ["intro", "method.split", "method.sort_by", "method.len", "x"];
        let queries = [
            ("str.split", "split"),
            ("str.split words", "split words"),
            ("str.sort_by stable", "sort stable"),
            ("sort_by", "sort by"),
            ("str.split \"the words\"", "split"),
            ("Vec::len", "len"),
        ];
        let mut read_alone = 0;
        let mut compared = 0;
        // Every way of starting four sections at word starts (and one
        // inside a word), each with every anchor in turn in its place.
        let starts: Vec<usize> = text
            .char_indices()
            .filter(|&(i, c)| c.is_alphanumeric() && (i == 0 || text[..i].ends_with(' ')))
            .map(|(i, _)| i)
            .chain([text.find("plit").unwrap()])
            .collect();
        for (identifiers, words) in queries {
            let mut query = terms(words);
            query.identifiers = query_identifiers(identifiers);
            query.plain_words = query_plain_words(identifiers);
            if identifiers.contains('"') {
                query.phrases = vec![stems("the words")];
            }
            let passages = Passages::new(&query);
            for (n, window) in starts.windows(4).enumerate() {
                let owned: Vec<Section> = window
                    .iter()
                    .enumerate()
                    .map(|(i, &start)| Section {
                        anchor: anchors[(i + n) % anchors.len()].to_string(),
                        heading_path: vec![format!("heading {i}")],
                        start: start as u32,
                    })
                    .collect();
                let sections = views(&owned);
                let named = named_by(&sections, &query);
                if sole_best_named(&named).is_some() {
                    read_alone += 1;
                }
                for max_chars in [30, 200] {
                    compared += 1;
                    assert_eq!(
                        passages.passage(text, &sections, max_chars),
                        passages.passage_of_whole_text(text, &sections, &named, max_chars),
                        "{identifiers:?} with sections at {window:?}, {max_chars} characters"
                    );
                }
            }
        }
        // Most cases took the short way: it is what is tested.
        assert!(read_alone * 2 > compared / 2, "{read_alone} of {}", compared / 2);
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
