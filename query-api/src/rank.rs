//! Ranking: a [`ParsedQuery`] to a tantivy query, and the document priors
//! and corpus statistics it is scored with.
//!
//! Every word must match in some field: the title, the headings, the URL's
//! words or the body; a query of [`MIN_WORDS_FOR_HALF`] content words or
//! more (a question, an error message) needs only half of them, and the
//! pages with all of them earn [`weights::ALL_WORDS`]: the page that
//! answers a question seldom has every word of it. BM25 scores each field,
//! and a word's score is its best field's plus a share of the others' (a
//! disjunction-max), with the title weighing most. Words found next to
//! each other in the order typed earn a proximity bonus, and a query of
//! three words or more quoted word for word in a page's text (an error
//! message on the page that explains it) a bonus of its own, and more
//! where the page quotes it as an error message, also with other values
//! than the user's in it (`` `x` `` where the user pasted `` `total` ``). Common English
//! words ("how", "do", "the") only add to the score when the query also
//! has other words: questions read as their content words. A word written
//! as code (`str.split`, `Vec::with_capacity`) earns a bonus on the pages
//! with a section anchored by that name: the page that defines it; and the
//! page named for it is a match even without the query's other words (an
//! error message's text is seldom on the page of its exception). Then
//! priors from the page itself: whole-book print pages, listing pages,
//! source views and release notes rank below ordinary pages (but for a
//! query typed as the page's title), and so do the implementation's own
//! pages where an ordinary page defines a name the query asks for (but for
//! a query that names the implementation's scope); very long pages (which
//! match everything) lose some of their score. Last, a
//! shard's best pages get their best section's score added
//! ([`crate::sections`]): the answer is often one section of a long page.
//!
//! Scores of shards are comparable because BM25 is computed from the
//! statistics of every shard together ([`CorpusStats`]), as Elasticsearch's
//! dfs_query_then_fetch does.
//!
//! [`Ranking::Baseline`] is plain tantivy BM25 over title and body with
//! tantivy's own query parser (OR by default): what the tuned ranking is
//! measured against (BENCHMARKS.md).

use std::collections::{BTreeMap, HashMap};

use indexer::schema::{IndexSchema, PageKind};
use serde::{Deserialize, Serialize};
use tantivy::query::{
    Bm25StatisticsProvider, BooleanQuery, BoostQuery, ConstScoreQuery, EmptyQuery, Occur, PhraseQuery, Query,
    QueryParser, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::TokenizerManager;
use tantivy::{DocId, DocSet, Score, Searcher, SegmentReader, Term};

use crate::query::{Atom, ParsedQuery};
use crate::seeking::{AtLeastQuery, FieldsMaxQuery, WithBonusQuery};

/// How results are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Ranking {
    /// trawl's ranking (this module).
    #[default]
    Tuned,
    /// Plain tantivy BM25 over title and body, tantivy's query parser: the
    /// baseline of the ranking evaluation.
    Baseline,
}

/// The weights of the tuned ranking, chosen on the labelled query set in
/// bench/ranking (BENCHMARKS.md).
pub mod weights {
    pub const TITLE: f32 = 3.0;
    pub const HEADINGS: f32 = 1.5;
    pub const URL: f32 = 1.5;
    pub const BODY: f32 = 1.0;
    /// A word's other fields add this share of their score to its best one.
    pub const TIE_BREAKER: f32 = 0.3;
    /// The words of a query near each other, in order, in the body / title.
    pub const PROXIMITY_BODY: f32 = 1.0;
    pub const PROXIMITY_TITLE: f32 = 2.0;
    /// The words of a query in the title as typed, next to each other.
    pub const TITLE_PHRASE: f32 = 2.0;
    /// How far apart (in words) the proximity bonus still applies.
    pub const PROXIMITY_SLOP: u32 = 3;
    /// Points for a page with every content word of a query that needs only
    /// half of them (about a sixth of a best page's BM25 sum): such pages
    /// come first as a rule, but a page with most of the words, the rarer
    /// ones, together in one section ([`crate::sections`]) can pass them.
    pub const ALL_WORDS: f32 = 10.0;
    /// A common word's share when the query has other words.
    pub const STOPWORD: f32 = 0.2;
    /// Score factors of pages that are not ordinary pages.
    pub const PRINT_PAGE: f32 = 0.1;
    pub const LISTING_PAGE: f32 = 0.35;
    pub const SOURCE_PAGE: f32 = 0.5;
    pub const RELEASE_NOTES: f32 = 0.5;
    /// The implementation's own pages rank as its source files do.
    pub const IMPLEMENTATION_PAGE: f32 = 0.5;
    /// Points (added to the BM25 sum, whose best pages score 20 to 60 on
    /// the evaluation's sites) for an identifier of the query that names a
    /// section of the page (`str.split`, the anchor `str.split`; rustdoc's
    /// `method.with_capacity` on the page "Vec" for `Vec::with_capacity`)...
    pub const IDENTIFIER: f32 = 50.0;
    /// ...whose last part names one (`HashMap.get` and any `#method.get`)...
    pub const IDENTIFIER_TAIL: f32 = 20.0;
    /// ...the more when the name is written as code, bare, and a section
    /// is anchored by it bare (the built-in `enumerate` for `enumerate()`,
    /// not `threading.enumerate`)...
    pub const BARE_NAME: f32 = 20.0;
    /// ...or that the page's text writes as code (`jsonb_set(...)`).
    pub const CODE_TERM: f32 = 5.0;
    /// A plain word of a longer query that names a section (`map` of
    /// "iter map filter", a section anchored `map`).
    pub const WORD_NAMES: f32 = 10.0;
    /// The first content word of a query (stopwords, phrases and
    /// `intitle:` words aside) when a colon follows it, as an error
    /// message opens with the name of its error (`Exception: x`, or
    /// `keyerror: 'x'` typed in lower case; typed `KeyError`, it is
    /// written as code): a name's last part's weight ([`IDENTIFIER_TAIL`]).
    pub const MESSAGE_NAME: f32 = 20.0;
    /// The one word of a one-word query, a plain word, on the page named
    /// for it as a whole (javadoc's `Files`, rustdoc's `spawn` function)
    /// over a member of that name on another page (`FILES`,
    /// `Builder::spawn`), both of which earn [`IDENTIFIER`]: a name's last
    /// part's weight again.
    pub const PAGE_NAME: f32 = 20.0;
    /// [`PAGE_NAME`] for a name written as code, in a query of any length
    /// (`unordered_map`, `Map.Entry` over `Map.entry()`, a package's
    /// `java.util.stream`, `os.path`): surely a name, so the page named
    /// for it comes before another page's section that defines the same
    /// name. Both earn [`IDENTIFIER`], and BM25 alone had put libstdc++'s
    /// header page, whose short title and typedef `std::pmr::unordered_map`
    /// match the name, before the class page. Twice a name's last part's
    /// weight. A plain word (`static`, `result`) keeps [`PAGE_NAME`]: a page
    /// that happens to be named so is less surely what it means.
    pub const CODE_PAGE_NAME: f32 = 40.0;
    /// A query that is a page's title (or first heading) as typed, on
    /// that page ([`indexer::identifiers::title_keys`]): a name's last
    /// part's weight. It adds to [`PAGE_NAME`] (or [`CODE_PAGE_NAME`]) on
    /// a page titled by the name a one-word query is (javadoc's "Files
    /// (Java SE 17 & JDK 17)").
    pub const TITLE_AS_TYPED: f32 = 20.0;
    /// A query of three words or more quoted in a page's text, word for
    /// word (an error message on the page that explains it).
    pub const QUOTED_IN_BODY: f32 = 5.0;
    /// A query of two words and three terms or more that a page quotes as
    /// an error message (after `error:`, `ERROR:` or an exception's name in its
    /// text: [`indexer::error_messages`]): the message pasted into the
    /// search box, on the page that shows it. Surer than [`QUOTED_IN_BODY`],
    /// where the words may be prose.
    pub const QUOTED_MESSAGE: f32 = 40.0;
    /// A pasted message of four words or more that a page quotes but for
    /// its values, which differ (the user's own names where the page has
    /// its example's: `rank::message_bonuses`). Three quarters of
    /// [`QUOTED_MESSAGE`], which the page that quotes the whole message
    /// earns besides.
    pub const NEAR_MESSAGE: f32 = 30.0;
    /// Body length (words) past which a page's score shrinks...
    pub const LONG_PAGE_WORDS: f32 = 4000.0;
    /// ...as (LONG_PAGE_WORDS / words) to this power.
    pub const LONG_PAGE_EXPONENT: f32 = 0.35;
}

/// Words too common to require: a question reads as its other words.
const STOPWORDS: &[&str] = &[
    "a", "about", "an", "and", "are", "as", "at", "be", "by", "can", "could", "do", "does", "for", "from",
    "get", "how", "i", "if", "in", "is", "it", "its", "me", "my", "of", "on", "or", "should", "so", "t",
    "that", "the", "there", "this", "to", "was", "way", "we", "what", "when", "where", "which", "why",
    "will", "with", "would", "you", "your",
];

/// The words a message's severity is written in ("ERROR: ...", "fatal:
/// ..."): before a colon they are no name. (More than the severities that
/// mark a quoted error message, [`indexer::error_messages::SEVERITIES`]:
/// a note or a hint is no error.)
const SEVERITIES: &[&str] = &[
    "error", "warning", "warn", "fatal", "panic", "note", "hint", "info", "debug", "notice", "critical",
];

/// A word or phrase as index terms: the analyzer's output.
struct AnalyzedAtom<'a> {
    atom: &'a Atom,
    terms: Vec<String>,
}

/// `text` as the index's text fields analyze it: lower-cased, stemmed terms.
pub(crate) fn analyze(text: &str) -> Vec<String> {
    let mut analyzer = indexer::analyzer::text_analyzer();
    let mut stream = analyzer.token_stream(text);
    let mut terms = Vec::new();
    while let Some(token) = stream.next() {
        terms.push(token.text.clone());
    }
    terms
}

fn is_stopword(atom: &Atom) -> bool {
    !atom.phrase && !atom.title_only && STOPWORDS.contains(&atom.text.as_str())
}

/// The terms that snippets highlight: every positive word's, and each
/// phrase's as a sequence.
pub fn snippet_terms(query: &ParsedQuery) -> (Vec<String>, Vec<Vec<String>>) {
    let mut terms = Vec::new();
    let mut phrases = Vec::new();
    for atom in query.groups.iter().flatten() {
        let analyzed = analyze(atom.searched());
        if atom.phrase && analyzed.len() > 1 {
            phrases.push(analyzed.clone());
        }
        for term in analyzed {
            if !terms.contains(&term) {
                terms.push(term);
            }
        }
    }
    (terms, phrases)
}

/// Fewer required words than this are never relaxed.
pub const MIN_WORDS_TO_RELAX: usize = 3;

/// A query of this many content words or more requires only half of them
/// (rounded up), relaxed or not.
pub const MIN_WORDS_FOR_HALF: usize = 3;

/// How many of `words` required words a relaxed query still requires.
pub fn relaxed_minimum(words: usize) -> usize {
    (words * 2).div_ceil(3).max(2)
}

/// Whether `query` has [`MIN_WORDS_FOR_HALF`] content words or more, so
/// that it requires only half of them and relaxing it finds no more.
/// Common words alone ("what is it") are all required.
fn requires_half(query: &ParsedQuery) -> bool {
    content_words(query) >= MIN_WORDS_FOR_HALF
}

/// Whether relaxing `query` ([`build`]'s `relaxed`) requires fewer of its
/// words than it does as typed: its required words (the content words, or
/// every word when all are common ones) are [`MIN_WORDS_TO_RELAX`] or more,
/// and it does not already require only half ([`requires_half`]). With the
/// constants as they are, that is a query of common words alone ("what is
/// it"); a search relaxed otherwise would be the same search again.
pub fn relaxing_requires_fewer(query: &ParsedQuery) -> bool {
    let content = content_words(query);
    let required = if content > 0 {
        content
    } else {
        words_searched(query, |_| true)
    };
    required >= MIN_WORDS_TO_RELAX && content < MIN_WORDS_FOR_HALF
}

/// How many of `query`'s alternatives have a content word: a word not
/// common that the analyzer keeps.
fn content_words(query: &ParsedQuery) -> usize {
    words_searched(query, |atom| !is_stopword(atom))
}

/// How many of `query`'s alternatives have a word that `counts` and that
/// the analyzer keeps (it drops a word of 40 bytes or more, and
/// punctuation alone), as [`build`] searches them.
fn words_searched(query: &ParsedQuery, counts: impl Fn(&Atom) -> bool) -> usize {
    query
        .groups
        .iter()
        .filter(|group| {
            group
                .iter()
                .any(|atom| counts(atom) && !analyze(atom.searched()).is_empty())
        })
        .count()
}

/// Builds the tantivy query of `query` (the tuned ranking). `relaxed`: a
/// query of [`MIN_WORDS_TO_RELAX`] words or more requires only most of
/// them ([`relaxed_minimum`]), for when requiring all finds (almost)
/// nothing: a question's words are not all on the page that answers it.
/// A query of [`MIN_WORDS_FOR_HALF`] words or more always requires only
/// half.
pub fn build(query: &ParsedQuery, fields: &IndexSchema, relaxed: bool) -> Box<dyn Query> {
    let analyze_atom = |atom: &'_ Atom| -> Option<(bool, Box<dyn Query>)> {
        let terms = analyze(atom.searched());
        if terms.is_empty() {
            return None;
        }
        let analyzed = AnalyzedAtom { atom, terms };
        Some((is_stopword(atom), atom_query(&analyzed, fields)))
    };
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let mut required = 0;
    let mut optional: Vec<Box<dyn Query>> = Vec::new();
    let groups: Vec<Vec<(bool, Box<dyn Query>)>> = query
        .groups
        .iter()
        .map(|group| group.iter().filter_map(analyze_atom).collect::<Vec<_>>())
        .filter(|group| !group.is_empty())
        .collect();
    let has_content_word = groups.iter().any(|group| group.iter().any(|(stop, _)| !stop));
    let mut words: Vec<Box<dyn Query>> = Vec::new();
    for mut group in groups {
        let all_stopwords = group.iter().all(|(stop, _)| *stop);
        let query: Box<dyn Query> = if group.len() == 1 {
            group.pop().expect("one").1
        } else {
            Box::new(BooleanQuery::union(group.into_iter().map(|(_, q)| q).collect()))
        };
        if all_stopwords && has_content_word {
            optional.push(Box::new(BoostQuery::new(query, weights::STOPWORD)));
        } else {
            words.push(query);
        }
    }
    // The pages the query names, scored by whichever of its words they
    // have (a name's own clause scores nothing: its points are the
    // identifier bonuses below).
    let named = named_by_query(query, fields);
    let named: Option<Box<dyn Query>> = (!named.is_empty()).then(|| -> Box<dyn Query> {
        Box::new(WithBonusQuery::new(
            Box::new(FieldsMaxQuery::new(named, 0.0)),
            words.iter().map(|word| word.box_clone()).collect(),
        ))
    });
    let half = requires_half(query);
    let mut word_clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let mut all_words_bonus: Option<Box<dyn Query>> = None;
    if half || (relaxed && words.len() >= MIN_WORDS_TO_RELAX) {
        let minimum = if half {
            words.len().div_ceil(2)
        } else {
            relaxed_minimum(words.len())
        };
        if half {
            // Not a cliff: the pages with every word come first as a rule.
            let every: Vec<(Occur, Box<dyn Query>)> =
                words.iter().map(|word| (Occur::Must, word.box_clone())).collect();
            all_words_bonus = Some(Box::new(ConstScoreQuery::new(
                Box::new(BooleanQuery::new(every)),
                weights::ALL_WORDS,
            )));
        }
        let most = AtLeastQuery::new(words, minimum);
        required += 1;
        word_clauses.push((Occur::Must, Box::new(most)));
    } else {
        required += words.len();
        word_clauses.extend(words.into_iter().map(|q| (Occur::Must, q)));
    }
    match named {
        Some(named) if !word_clauses.is_empty() => {
            // A page named by the query matches without its other words; a
            // page that also has them is scored once, not twice: the words'
            // clause and the names' are the better of the two (a
            // disjunction-max without a tie breaker), which for such a page
            // are the same words' scores.
            let words: Box<dyn Query> = Box::new(BooleanQuery::new(word_clauses));
            clauses.push((
                Occur::Must,
                Box::new(FieldsMaxQuery::new(vec![words, named], 0.0)),
            ));
        }
        _ => clauses.extend(word_clauses),
    }
    // Bonuses only add to the pages matched (by the words or a name):
    // asked page by page.
    let mut bonuses: Vec<Box<dyn Query>> = all_words_bonus.into_iter().collect();
    bonuses.extend(optional);
    bonuses.extend(proximity_bonus(query, fields));
    bonuses.extend(message_bonuses(query, fields));
    bonuses.extend(identifier_bonus(query, fields));
    bonuses.extend(title_bonus(query, fields));
    for atom in &query.excluded {
        let terms = analyze(atom.searched());
        if !terms.is_empty() {
            let analyzed = AnalyzedAtom { atom, terms };
            clauses.push((Occur::MustNot, atom_query(&analyzed, fields)));
        }
    }
    if !query.sites.is_empty() {
        let sites: Vec<Box<dyn Query>> = query.sites.iter().map(|site| site_query(site, fields)).collect();
        clauses.push((Occur::Must, Box::new(BooleanQuery::union(sites))));
        required += 1;
    }
    for site in &query.excluded_sites {
        clauses.push((Occur::MustNot, site_query(site, fields)));
    }
    if required == 0 {
        // Every word analyzed to nothing (e.g. only punctuation).
        return Box::new(EmptyQuery);
    }
    Box::new(WithBonusQuery::new(Box::new(BooleanQuery::new(clauses)), bonuses))
}

/// `site:` matches without adding to the score.
fn site_query(site: &str, fields: &IndexSchema) -> Box<dyn Query> {
    let term = TermQuery::new(Term::from_field_text(fields.site, site), IndexRecordOption::Basic);
    Box::new(ConstScoreQuery::new(Box::new(term), 0.0))
}

/// The fields a typed word is searched in, with their weights.
pub(crate) fn word_fields(fields: &IndexSchema) -> [(Field, f32); 4] {
    [
        (fields.title, weights::TITLE),
        (fields.headings, weights::HEADINGS),
        (fields.url_words, weights::URL),
        (fields.body, weights::BODY),
    ]
}

/// One word or phrase over the fields it may match in.
fn atom_query(atom: &AnalyzedAtom, fields: &IndexSchema) -> Box<dyn Query> {
    let all_fields = word_fields(fields);
    let field_boosts: &[(Field, f32)] = if atom.atom.title_only {
        &[(fields.title, weights::TITLE)]
    } else {
        &all_fields
    };
    if atom.terms.len() == 1 {
        let per_field = field_boosts
            .iter()
            .map(|&(field, boost)| boosted(term_query(field, &atom.terms[0]), boost))
            .collect();
        return Box::new(FieldsMaxQuery::new(per_field, weights::TIE_BREAKER));
    }
    if atom.atom.phrase {
        let per_field = field_boosts
            .iter()
            .map(|&(field, boost)| boosted(phrase_query(field, &atom.terms, 0), boost))
            .collect();
        return Box::new(FieldsMaxQuery::new(per_field, weights::TIE_BREAKER));
    }
    // One typed word the analyzer split (`Vec::with_capacity`, `E0382`'s
    // neighbours): each piece must match, in any field; adjacent pieces
    // earn the proximity bonus.
    let mut pieces: Vec<(Occur, Box<dyn Query>)> = atom
        .terms
        .iter()
        .map(|term| {
            let per_field = field_boosts
                .iter()
                .map(|&(field, boost)| boosted(term_query(field, term), boost))
                .collect();
            let query: Box<dyn Query> = Box::new(FieldsMaxQuery::new(per_field, weights::TIE_BREAKER));
            (Occur::Must, query)
        })
        .collect();
    pieces.push((
        Occur::Should,
        boosted(phrase_query(fields.body, &atom.terms, 1), weights::PROXIMITY_BODY),
    ));
    Box::new(BooleanQuery::new(pieces))
}

/// The query's plain words near each other in the body and the title:
/// none, or three bonuses.
fn proximity_bonus(query: &ParsedQuery, fields: &IndexSchema) -> Vec<Box<dyn Query>> {
    let words: Vec<String> = query
        .groups
        .iter()
        .filter(|group| group.len() == 1 && !group[0].phrase && !is_stopword(&group[0]))
        .flat_map(|group| analyze(group[0].searched()))
        .collect();
    if words.len() < 2 {
        return Vec::new();
    }
    // The title as typed: every word in its place, common ones too
    // ("Errors and Exceptions").
    let typed: Vec<String> = query
        .groups
        .iter()
        .filter(|group| group.len() == 1 && !group[0].phrase)
        .flat_map(|group| analyze(group[0].searched()))
        .collect();
    let slop = weights::PROXIMITY_SLOP * (words.len() as u32 - 1);
    let mut bonus = vec![
        boosted(phrase_query(fields.body, &words, slop), weights::PROXIMITY_BODY),
        boosted(phrase_query(fields.title, &words, slop), weights::PROXIMITY_TITLE),
        boosted(phrase_query(fields.title, &typed, 0), weights::TITLE_PHRASE),
    ];
    // A message quoted on the page that explains it ("use of unstable
    // library feature `core_intrinsics`"): the whole query in the text,
    // common words too, one word (a quoted name) allowed in between.
    if typed.len() >= MIN_QUOTED_WORDS {
        bonus.push(constant(
            phrase_query(fields.body, &typed, 1),
            weights::QUOTED_IN_BODY,
        ));
    }
    bonus
}

/// A query of this many words or more earns [`weights::QUOTED_IN_BODY`] on
/// the pages that quote it, and [`weights::QUOTED_MESSAGE`] on those that
/// quote it as an error message.
const MIN_QUOTED_WORDS: usize = 3;

/// How many words a message quoted on a page may have that the query has
/// not, in all: the names a message quotes ("cannot find value `x` in this
/// scope", "no method named `push` found for struct `Foo`"). (Such a
/// phrase may also span the end of one quoted message and the start of the
/// next, a position apart: rare for three words or more.)
const MESSAGE_SLOP: u32 = 2;

/// The query as an error message that pages quote, its words as
/// [`message_words`] reads them: [`weights::QUOTED_MESSAGE`] on the pages
/// that quote it whole. And a message pasted with the user's own value in
/// it ("password authentication failed for user "postgres"", "cannot find
/// value `total` in this scope") where the page quotes it with another
/// ("... for user "andym"", "... value `x` in ..."): the pages that quote
/// every word of it but its values ([`near_form`]) earn
/// [`weights::NEAR_MESSAGE`]. A page that quotes the whole message earns
/// both (but where the user's value is three words or more longer than
/// one: the phrase's slop), so it comes first.
fn message_bonuses(query: &ParsedQuery, fields: &IndexSchema) -> Vec<Box<dyn Query>> {
    let Some(words) = message_words(query) else {
        return Vec::new();
    };
    let mut bonuses = vec![constant(whole_phrase(&words, fields), weights::QUOTED_MESSAGE)];
    bonuses.extend(near_phrase(&words, fields).map(|near| constant(near, weights::NEAR_MESSAGE)));
    bonuses
}

/// The message's words, every term, as a phrase of the `error_messages`
/// field.
fn whole_phrase(words: &[MessageWord], fields: &IndexSchema) -> Box<dyn Query> {
    let terms: Vec<String> = words.iter().flat_map(|word| word.terms.iter().cloned()).collect();
    phrase_query(fields.error_messages, &terms, MESSAGE_SLOP)
}

/// [`near_form`] as a phrase of the `error_messages` field, the open
/// places kept between the words around them.
fn near_phrase(words: &[MessageWord], fields: &IndexSchema) -> Option<Box<dyn Query>> {
    let terms = near_form(words)?
        .terms
        .into_iter()
        .map(|(position, term)| (position, Term::from_field_text(fields.error_messages, term)))
        .collect();
    Some(Box::new(PhraseQuery::new_with_offset_and_slop(
        terms,
        MESSAGE_SLOP,
    )))
}

/// A pasted message with its values left out, their places left open: the
/// user's own values where a page's example has others.
struct NearForm<'a> {
    /// The other words' terms, each at its position in the message, where
    /// each value left out takes one position.
    terms: Vec<(usize, &'a str)>,
    /// How many values were left out between the first term and the last:
    /// a page's value there takes words that the phrase's slop must allow.
    inner_open: usize,
}

/// A message with its values left out: the words typed as values (in
/// backticks, single or double quotes: `` `total` ``,
/// `'std::out_of_range'`, `"orders"`), as compilers and servers print the
/// names in their messages. None when it has none, or fewer than
/// [`MIN_QUOTED_WORDS`] other words. No other word of the message is ever
/// left out: "cannot find module in this scope" is not "cannot find value
/// `x` in this scope", nor "cannot borrow `x` as immutable" "... as
/// mutable".
fn near_form(words: &[MessageWord]) -> Option<NearForm<'_>> {
    let values = words.iter().filter(|word| word.value).count();
    if values == 0 || words.len() - values < MIN_QUOTED_WORDS {
        return None;
    }
    let mut terms = Vec::new();
    let mut position = 0;
    for word in words {
        if word.value {
            position += 1;
            continue;
        }
        for term in &word.terms {
            terms.push((position, term.as_str()));
            position += 1;
        }
    }
    // The positions the terms span that none of them takes: the values'.
    let span = terms.last()?.0 - terms.first()?.0 + 1;
    Some(NearForm {
        inner_open: span - terms.len(),
        terms,
    })
}

/// The pages that quote the query as an error message, whole or but for
/// its values ([`near_form`]), unscored: what [`message_bonuses`] reward.
/// None when the query reads as no message.
pub fn quoted_message_query(query: &ParsedQuery, fields: &IndexSchema) -> Option<Box<dyn Query>> {
    let words = message_words(query)?;
    let whole = whole_phrase(&words, fields);
    Some(match near_phrase(&words, fields) {
        Some(near) => Box::new(BooleanQuery::union(vec![whole, near])),
        None => whole,
    })
}

/// The query as an error message pasted into the search box: its plain
/// words (not a phrase's, nor `intitle:`'s, nor a group of alternatives),
/// in order, common ones too (a word the analyzer keeps nothing of is left
/// out), read as
/// [`indexer::error_messages::query_message`] reads them: after a severity
/// ("ERROR: permission denied", "error[E0382]: borrow of moved value"),
/// and not at all when the query names the exception before its message
/// ("AttributeError: object has no attribute"), which the name finds.
/// None unless they are three terms or more ("non-exhaustive patterns" has
/// three) of two words or more: one dotted name
/// (`java.lang.NullPointerException`) is a name, which the page that
/// defines it answers.
pub fn message_words(query: &ParsedQuery) -> Option<Vec<MessageWord>> {
    let atoms: Vec<&Atom> = query
        .groups
        .iter()
        .filter(|group| group.len() == 1 && !group[0].phrase && !group[0].title_only)
        .map(|group| &group[0])
        .collect();
    let typed: Vec<&str> = atoms.iter().map(|atom| atom.text.as_str()).collect();
    let message = indexer::error_messages::query_message(&typed)?;
    // Each word of the message is an atom's whole text, but for the code
    // of `error[E0382]:`, a piece of the marker's: the same slice.
    let atom_of = |word: &str| atoms.iter().find(|atom| std::ptr::eq(atom.text.as_str(), word));
    let words: Vec<MessageWord> = message
        .iter()
        .map(|word| MessageWord {
            terms: analyze(word),
            value: atom_of(word).is_some_and(|atom| atom.typed_as_value()),
        })
        .filter(|word| !word.terms.is_empty())
        .collect();
    let terms: usize = words.iter().map(|word| word.terms.len()).sum();
    (message.len() >= 2 && terms >= MIN_QUOTED_WORDS).then_some(words)
}

/// A word of a pasted message ([`message_words`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageWord {
    /// The word as the index's terms.
    pub terms: Vec<String>,
    /// Typed as a value ([`Atom::typed_as_value`]: `` `total` ``,
    /// `'orders'`, `"postgres"`): a name from the user's own code or data.
    pub value: bool,
}

/// Whether a message a page quotes, as indexed
/// ([`indexer::error_messages::QuotedMessage::indexed`]), has the words of
/// [`message_words`] in their order with at most [`MESSAGE_SLOP`] other
/// words among them, in one value, or all of them but its values
/// ([`near_form`]), with one more other word for each value between the
/// first word kept and the last: about what the phrases of
/// [`quoted_message_query`] match (tantivy's slop also lets two words
/// swap; here a value's place may be empty), read again on the pages the
/// shards flagged.
pub fn quotes_message(indexed: &str, words: &[MessageWord]) -> bool {
    let quoted = analyze(indexed);
    let whole: Vec<&str> = words
        .iter()
        .flat_map(|word| word.terms.iter().map(String::as_str))
        .collect();
    in_order(&quoted, &whole, MESSAGE_SLOP as usize)
        || near_form(words).is_some_and(|form| {
            let terms: Vec<&str> = form.terms.iter().map(|&(_, term)| term).collect();
            in_order(&quoted, &terms, MESSAGE_SLOP as usize + form.inner_open)
        })
}

/// Whether `words` has `terms` in their order from one start, with at most
/// `slop` other words among them.
fn in_order(words: &[String], terms: &[&str], slop: usize) -> bool {
    let Some(first) = terms.first() else {
        return false;
    };
    words
        .iter()
        .enumerate()
        .filter(|(_, word)| word == first)
        .any(|(start, _)| {
            let mut skipped = 0;
            let mut at = start + 1;
            for term in &terms[1..] {
                while at < words.len() && words[at] != *term && skipped <= slop {
                    skipped += 1;
                    at += 1;
                }
                if at == words.len() || skipped > slop {
                    return false;
                }
                at += 1;
            }
            true
        })
}

/// The query's identifiers matched whole against the anchors of the
/// sections pages define (the `identifiers` field): a word written as code
/// (`dict.setdefault`, `Vec::with_capacity`, `__slots__`, `enumerate()`),
/// or the one word of a one-word query (`keyerror`), which may be a name
/// as well. Each matches as written and by its last part, and earns
/// [`weights::PAGE_NAME`] more on the page named for it as a whole
/// ([`weights::CODE_PAGE_NAME`] for a name written as code). The
/// other words of a longer query match whole, for fewer points; more for
/// the name that opens an error message ([`weights::MESSAGE_NAME`]).
fn identifier_bonus(query: &ParsedQuery, fields: &IndexSchema) -> Vec<Box<dyn Query>> {
    let words = plain_content_words(query);
    let one_word = words.len() == 1;
    let mut bonus = Vec::new();
    for (at, atom) in words.into_iter().enumerate() {
        // The punctuation a name is typed with (`KeyError:`,
        // `java.lang.NullPointerException:`) is not part of it.
        let text = indexer::identifiers::trim_typed_punctuation(&atom.text);
        let written_as_code = atom.written_as_code();
        if !(one_word || written_as_code) {
            // A plain word may still be a name (`map` of "iter map
            // filter"): less surely. The word before the colon that opens
            // an error message ("Exception: x", "keyerror: 'x'" typed in
            // lower case) is what the message is about.
            let word = text.trim_matches(|c: char| !(c.is_alphanumeric() || c == '_'));
            let weight = if opens_message(at, atom, word) {
                weights::MESSAGE_NAME
            } else {
                weights::WORD_NAMES
            };
            if !word.is_empty() {
                bonus.push(constant(term_query(fields.identifiers, word), weight));
            }
            continue;
        }
        let form = indexer::identifiers::identifier_form(text);
        if form.is_empty() {
            continue;
        }
        let tail = form.rsplit('.').next().unwrap_or_default();
        bonus.push(constant(
            term_query(fields.identifiers, &form),
            weights::IDENTIFIER,
        ));
        // Only a name written as code: a plain word alone may be a
        // heading's slug (Sphinx's `exceptions`) or a constant (`FILES`).
        if written_as_code && indexer::identifiers::is_plain_name(&form) {
            bonus.push(constant(
                term_query(fields.identifiers, &indexer::identifiers::bare_name_key(&form)),
                weights::BARE_NAME,
            ));
        }
        bonus.push(constant(term_query(fields.code_terms, &form), weights::CODE_TERM));
        let page_name_weight = if written_as_code {
            weights::CODE_PAGE_NAME
        } else {
            weights::PAGE_NAME
        };
        bonus.push(constant(
            term_query(fields.identifiers, &indexer::identifiers::page_name_key(&form)),
            page_name_weight,
        ));
        if tail != form && !tail.is_empty() {
            bonus.push(constant(
                term_query(fields.identifiers, tail),
                weights::IDENTIFIER_TAIL,
            ));
        }
    }
    bonus
}

/// The query's words that may be names: its content words, not in a
/// phrase nor `intitle:`, in the order typed.
fn plain_content_words(query: &ParsedQuery) -> Vec<&Atom> {
    query
        .groups
        .iter()
        .flatten()
        .filter(|atom| !atom.phrase && !atom.title_only && !is_stopword(atom))
        .collect()
}

/// Whether `word` (of `atom`, the query's `at`th content word) is the
/// name before the colon that opens an error message ("Exception: x").
/// `std::` is a path typed short, and "ERROR:", "warning:" a message's
/// severity, not its subject.
fn opens_message(at: usize, atom: &Atom, word: &str) -> bool {
    at == 0 && atom.text.ends_with(':') && !atom.text.ends_with("::") && !SEVERITIES.contains(&word)
}

/// The pages and sections named by a name of a query of several words:
/// a word written as code, or the name that opens an error message. Such a
/// page is a match even without the query's other words, which are often
/// on no page (the operating system's "No such file or directory" of
/// "java.io.FileNotFoundException (No such file or directory)"); it scores
/// by the [`identifier_bonus`] its name earns, and by whatever words it has.
fn named_by_query(query: &ParsedQuery, fields: &IndexSchema) -> Vec<Box<dyn Query>> {
    let words = plain_content_words(query);
    if words.len() < 2 {
        return Vec::new();
    }
    let mut named = Vec::new();
    for (at, atom) in words.into_iter().enumerate() {
        let text = indexer::identifiers::trim_typed_punctuation(&atom.text);
        let form = if atom.written_as_code() {
            indexer::identifiers::identifier_form(text)
        } else {
            let word = text.trim_matches(|c: char| !(c.is_alphanumeric() || c == '_'));
            if !opens_message(at, atom, word) {
                continue;
            }
            word.to_string()
        };
        if form.is_empty() {
            continue;
        }
        let page_name_key = indexer::identifiers::page_name_key(&form);
        for key in [form, page_name_key] {
            named.push(constant(term_query(fields.identifiers, &key), 0.0));
        }
    }
    named
}

/// The query typed as a page's title or first heading, word for word
/// ([`indexer::identifiers::title_keys`]): "Documentation tests" names the
/// page of that title, not "Documentation testing", which the stemmed
/// fields cannot tell apart.
fn title_bonus(query: &ParsedQuery, fields: &IndexSchema) -> Option<Box<dyn Query>> {
    let key = typed_title_key(query)?;
    Some(constant(
        term_query(fields.identifiers, &key),
        weights::TITLE_AS_TYPED,
    ))
}

/// [`typed_title_key`] as a term of the `identifiers` field: the pages
/// the query is typed as the title of ([`kind_factors`]).
pub fn typed_title_term(query: &ParsedQuery, fields: &IndexSchema) -> Option<Term> {
    typed_title_key(query).map(|key| Term::from_field_text(fields.identifiers, &key))
}

/// The `identifiers` term of the title that `query` is typed as
/// ([`indexer::identifiers::title_key`]); None for alternatives (`a OR
/// b`), which are no one title.
fn typed_title_key(query: &ParsedQuery) -> Option<String> {
    if query.groups.iter().any(|group| group.len() > 1) {
        return None;
    }
    // A type's parameters are not part of its page's title (`Class<T>` is
    // `Class`'s page).
    let words: Vec<&str> = query
        .groups
        .iter()
        .flatten()
        .map(|atom| atom.searched())
        .collect();
    indexer::identifiers::title_key(&words.join(" "))
}

/// A match worth `score` whatever the term's frequency, rarity or the
/// page's length: naming a definition is a yes or a no.
fn constant(query: Box<dyn Query>, score: f32) -> Box<dyn Query> {
    Box::new(ConstScoreQuery::new(query, score))
}

fn term_query(field: Field, term: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, term),
        IndexRecordOption::WithFreqs,
    ))
}

fn phrase_query(field: Field, terms: &[String], slop: u32) -> Box<dyn Query> {
    let terms = terms
        .iter()
        .enumerate()
        .map(|(position, term)| (position, Term::from_field_text(field, term)))
        .collect();
    let mut query = PhraseQuery::new_with_offset(terms);
    query.set_slop(slop);
    Box::new(query)
}

fn boosted(query: Box<dyn Query>, boost: f32) -> Box<dyn Query> {
    if boost == 1.0 {
        query
    } else {
        Box::new(BoostQuery::new(query, boost))
    }
}

/// The baseline: tantivy's query parser over title and body, OR by
/// default, no boosts.
pub fn build_baseline(text: &str, fields: &IndexSchema) -> Box<dyn Query> {
    let tokenizers = TokenizerManager::default();
    tokenizers.register(
        indexer::analyzer::TEXT_ANALYZER,
        indexer::analyzer::text_analyzer(),
    );
    let parser = QueryParser::new(fields.schema.clone(), vec![fields.title, fields.body], tokenizers);
    parser.parse_query_lenient(text).0
}

/// A hit's place in a ranking: its score, ties broken by document id (the
/// smaller first). Paging is stable, and one shard or many order the same
/// hits the same way: tantivy's own tie-break, the address of a document in
/// its segment, changes with every merge and means nothing across shards.
/// (One exception: each shard adds section scores to its own best
/// [`crate::sections::RESCORE_DEPTH`], so with many shards more pages get
/// one than with one.)
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RankKey {
    pub score: Score,
    pub doc_id: u64,
}

impl PartialOrd for RankKey {
    /// Greater ranks first.
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(
            self.score
                .total_cmp(&other.score)
                .then_with(|| other.doc_id.cmp(&self.doc_id)),
        )
    }
}

/// Whether the query names something written as code (`dict.setdefault`,
/// `Vec::with_capacity`, `__slots__`): the page that defines it is often
/// the longest of a site (a type's whole reference), so such a query does
/// not hold a page's length against it.
pub fn names_code(query: &ParsedQuery) -> bool {
    query.groups.iter().flatten().any(Atom::written_as_code)
}

/// A document's [`RankKey`] from its BM25 score: with the tuned ranking,
/// the score is multiplied by the priors of the page (what it is, not what
/// it says; its length only when `long_pages_lose`); the baseline keeps
/// the plain score. A page the query asks for by what it is (`lift`, see
/// [`kind_factors`]) keeps its score whatever its kind but a print page's:
/// "asyncio" names the page "asyncio — Asynchronous I/O", which is mostly
/// links to the package's other pages.
pub fn rank_key_fn(
    fields: &IndexSchema,
    ranking: Ranking,
    long_pages_lose: bool,
    lift: KindLift,
) -> impl Fn(&SegmentReader) -> Box<dyn Fn(DocId, Score) -> RankKey> + Send + Sync + 'static {
    let body = fields.body;
    move |segment: &SegmentReader| {
        let doc_ids = segment
            .fast_fields()
            .u64("doc_id")
            .ok()
            .map(|column| column.first_or_default_col(0));
        let doc_id_of = move |doc: DocId| doc_ids.as_ref().map_or(0, |column| column.get_val(doc));
        if ranking == Ranking::Baseline {
            return Box::new(move |doc: DocId, score: Score| RankKey {
                score,
                doc_id: doc_id_of(doc),
            });
        }
        let kind_factor_of = kind_factors(segment, &lift);
        let lengths = segment.get_fieldnorms_reader(body).ok();
        Box::new(move |doc: DocId, score: Score| {
            let kind_factor = kind_factor_of(doc);
            let words = lengths.as_ref().map(|l| l.fieldnorm(doc)).unwrap_or(0) as f32;
            let length_factor = if long_pages_lose && words > weights::LONG_PAGE_WORDS {
                (weights::LONG_PAGE_WORDS / words).powf(weights::LONG_PAGE_EXPONENT)
            } else {
                1.0
            };
            RankKey {
                score: score * kind_factor * length_factor,
                doc_id: doc_id_of(doc),
            }
        })
    }
}

/// The documents of `segment` that have `term`, in order.
fn docs_with(segment: &SegmentReader, term: &Term) -> tantivy::Result<Vec<DocId>> {
    let mut docs = Vec::new();
    let index = segment.inverted_index(term.field())?;
    if let Some(mut postings) = index.read_postings(term, IndexRecordOption::Basic)? {
        while postings.doc() != tantivy::TERMINATED {
            docs.push(postings.doc());
            postings.advance();
        }
    }
    Ok(docs)
}

/// What in a query makes pages of a lowered kind ordinary pages again
/// ([`kind_factors`]).
#[derive(Debug, Clone, Default)]
pub struct KindLift {
    /// The term of the title the query is typed as ([`typed_title_term`]),
    /// when few pages have it ([`MAX_TITLED_PAGES`]): those pages are what
    /// the query names, whatever their kind, but a whole book on one page,
    /// which has the book's title.
    pub typed_title: Option<Term>,
    /// The implementation's own pages keep their score: the query names
    /// their scope ([`names_implementation`]), or asks for names of which
    /// no ordinary page defines one ([`CorpusStats::public_page_defines`]:
    /// `rope`, only `__gnu_cxx::rope`).
    pub keeps_implementation: bool,
}

/// Each document of `segment` to [`kind_factor`] of its page kind (an
/// ordinary page's when the segment has no kinds), but for the pages the
/// query asks for as what they are (`lift`).
pub fn kind_factors(segment: &SegmentReader, lift: &KindLift) -> impl Fn(DocId) -> f32 + use<> {
    let kind_of = page_kinds(segment);
    // A read that fails lifts nothing: the pages keep their kinds' factors.
    let titled = match &lift.typed_title {
        Some(term) => docs_with(segment, term).unwrap_or_default(),
        None => Vec::new(),
    };
    let keeps_implementation = lift.keeps_implementation;
    move |doc: DocId| {
        let kind = kind_of(doc);
        if kind != PageKind::Print && titled.binary_search(&doc).is_ok() {
            return 1.0;
        }
        if kind == PageKind::Implementation && keeps_implementation {
            return 1.0;
        }
        kind_factor(kind)
    }
}

/// The page kind of each document of `segment`: an ordinary page's when
/// the segment has no kinds.
fn page_kinds(segment: &SegmentReader) -> impl Fn(DocId) -> PageKind + use<> {
    let kinds = segment
        .fast_fields()
        .u64(indexer::schema::PAGE_KIND_FIELD)
        .ok()
        .map(|column| column.first_or_default_col(0));
    move |doc: DocId| {
        kinds
            .as_ref()
            .map_or(PageKind::Page, |column| PageKind::from_u64(column.get_val(doc)))
    }
}

/// The names a query asks for surely, as [`identifier_bonus`] asks the
/// `identifiers` field for them at full weight: its words written as code,
/// or its one word, in their identifier form (`emplace_back`,
/// `std.vector.push_back`). The plain words of a longer query, which it
/// asks for as possible names, are not among them.
fn asked_names(query: &ParsedQuery) -> Vec<String> {
    let words = plain_content_words(query);
    let one_word = words.len() == 1;
    words
        .into_iter()
        .filter(|atom| one_word || atom.written_as_code())
        .map(typed_name)
        .filter(|form| !form.is_empty())
        .collect()
}

/// The pseudo-field of [`CorpusStats`] that counts, for each name a query
/// asks for, the shards where a live ordinary page defines it
/// ([`public_definitions`]). No field of the index is called
/// so: BM25 never reads it, and a shard that does not count them adds
/// nothing.
const PUBLIC_DEFINITIONS: &str = "#public_definitions";

/// For each name `query` asks for, 1 if a live ordinary page of this
/// shard defines it (has it in `identifiers`; not the implementation's own
/// page, nor a listing, a source file, release notes or a print page),
/// else 0: summed over the shards with the other statistics, it says
/// whether debug mode's `std::__debug::deque` has a public `std::deque`
/// beside it, wherever each is indexed. Every site of the index counts,
/// whatever the query's `site:`.
pub fn public_definitions(
    live: &LiveDocs,
    query: &ParsedQuery,
    fields: &IndexSchema,
) -> tantivy::Result<Vec<TermDf>> {
    let mut counts = Vec::new();
    for name in asked_names(query) {
        let term = Term::from_field_text(fields.identifiers, &name);
        let mut defined = false;
        for (segment, deleted) in live.searcher.segment_readers().iter().zip(&live.deleted) {
            let kind_of = page_kinds(segment);
            // The first such page answers: a common name (`new`) has
            // thousands, of which the first is nearly always public.
            let index = segment.inverted_index(term.field())?;
            if let Some(mut postings) = index.read_postings(&term, IndexRecordOption::Basic)? {
                while postings.doc() != tantivy::TERMINATED {
                    let doc = postings.doc();
                    if kind_of(doc) == PageKind::Page && deleted.binary_search(&doc).is_err() {
                        defined = true;
                        break;
                    }
                    postings.advance();
                }
            }
            if defined {
                break;
            }
        }
        counts.push(TermDf {
            field: PUBLIC_DEFINITIONS.to_string(),
            text: name,
            df: u64::from(defined),
        });
    }
    Ok(counts)
}

/// Whether a word of the query is a name with a part reserved for the
/// implementation (`std::__debug::vector`,
/// [`indexer::identifiers::names_reserved_scope`]).
pub fn names_implementation(query: &ParsedQuery) -> bool {
    query
        .groups
        .iter()
        .flatten()
        .any(|atom| indexer::identifiers::names_reserved_scope(&typed_name(atom)))
}

/// A query word as the name it is typed as: its [`identifier_form`]
/// without the punctuation it is typed with (`KeyError:`).
///
/// [`identifier_form`]: indexer::identifiers::identifier_form
fn typed_name(atom: &Atom) -> String {
    indexer::identifiers::identifier_form(indexer::identifiers::trim_typed_punctuation(&atom.text))
}

/// A title typed that more pages than this have names none of them
/// ("Index", the title of each of Sphinx's index pages).
pub const MAX_TITLED_PAGES: u64 = 3;

/// The factor a page's score is multiplied by for what kind of page it is.
pub fn kind_factor(kind: PageKind) -> f32 {
    match kind {
        PageKind::Page => 1.0,
        PageKind::Print => weights::PRINT_PAGE,
        PageKind::Listing => weights::LISTING_PAGE,
        PageKind::Source => weights::SOURCE_PAGE,
        PageKind::ReleaseNotes => weights::RELEASE_NOTES,
        PageKind::Implementation => weights::IMPLEMENTATION_PAGE,
    }
}

/// The analyzed terms of the query's content words (of every word when it
/// has only common ones), each once, in order; `intitle:` words aside.
pub fn content_terms(query: &ParsedQuery) -> Vec<String> {
    let atoms: Vec<&Atom> = query
        .groups
        .iter()
        .flatten()
        .filter(|atom| !atom.title_only)
        .collect();
    let has_content_word = atoms
        .iter()
        .any(|atom| !is_stopword(atom) && !analyze(atom.searched()).is_empty());
    let mut terms: Vec<String> = Vec::new();
    for atom in atoms {
        if has_content_word && is_stopword(atom) {
            continue;
        }
        for term in analyze(atom.searched()) {
            if !terms.contains(&term) {
                terms.push(term);
            }
        }
    }
    terms
}

/// The corpus statistics BM25 needs, for the terms of one query: one
/// shard's, or the sum over every shard. Their `terms` also count, under a
/// field no index has, whether an ordinary page defines each name the
/// query asks for ([`public_definitions`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CorpusStats {
    pub num_docs: u64,
    /// Field name -> tokens in that field over every document.
    pub field_tokens: BTreeMap<String, u64>,
    pub terms: Vec<TermDf>,
}

/// A term and the number of documents containing it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TermDf {
    pub field: String,
    pub text: String,
    pub df: u64,
}

impl CorpusStats {
    /// The statistics of `query`'s terms in `searcher`'s index, over its
    /// live documents only (see [`LiveDocs`]).
    pub fn of(live: &LiveDocs, query: &dyn Query) -> tantivy::Result<CorpusStats> {
        let searcher = live.searcher;
        let schema = searcher.schema();
        let mut terms: Vec<Term> = Vec::new();
        query.query_terms(&mut |term, _| {
            if !terms.contains(term) {
                terms.push(term.clone());
            }
        });
        let mut stats = CorpusStats {
            num_docs: searcher.num_docs(),
            ..CorpusStats::default()
        };
        for term in terms {
            let field = term.field();
            let value = term.value();
            let Some(text) = value.as_str() else { continue };
            let field_name = schema.get_field_name(field).to_string();
            if !stats.field_tokens.contains_key(&field_name) {
                stats
                    .field_tokens
                    .insert(field_name.clone(), live.num_tokens(field)?);
            }
            stats.terms.push(TermDf {
                field: field_name,
                text: text.to_string(),
                df: live.doc_freq(&term)?,
            });
        }
        Ok(stats)
    }

    /// Whether the query asks for names ([`public_definitions`] counted
    /// some).
    pub fn asks_names(&self) -> bool {
        self.terms.iter().any(|term| term.field == PUBLIC_DEFINITIONS)
    }

    /// Whether an ordinary page defines a name the query asks for, in any
    /// shard ([`public_definitions`]).
    pub fn public_page_defines(&self) -> bool {
        self.terms
            .iter()
            .any(|term| term.field == PUBLIC_DEFINITIONS && term.df > 0)
    }

    /// The statistics of several shards together.
    pub fn sum<'a>(all: impl IntoIterator<Item = &'a CorpusStats>) -> CorpusStats {
        let mut total = CorpusStats::default();
        let mut dfs: BTreeMap<(String, String), u64> = BTreeMap::new();
        for stats in all {
            total.num_docs += stats.num_docs;
            for (field, tokens) in &stats.field_tokens {
                *total.field_tokens.entry(field.clone()).or_default() += tokens;
            }
            for term in &stats.terms {
                *dfs.entry((term.field.clone(), term.text.clone())).or_default() += term.df;
            }
        }
        total.terms = dfs
            .into_iter()
            .map(|((field, text), df)| TermDf { field, text, df })
            .collect();
        total
    }
}

/// Statistics over the live documents of a searcher, whose deleted
/// documents it lists once per query.
///
/// tantivy's own `doc_freq` counts deleted documents until a merge purges
/// them, while the live document count does not: after a page was indexed
/// again (an upsert deletes the old copy), a common word's document
/// frequency exceeded the document count and BM25 panicked ("112 >= 115").
/// Every statistic here comes from one population, the live documents.
pub struct LiveDocs<'s> {
    searcher: &'s Searcher,
    /// Per segment, in the searcher's order, its deleted documents
    /// ascending (empty for a segment without deletes).
    deleted: Vec<Vec<DocId>>,
}

impl<'s> LiveDocs<'s> {
    pub fn of(searcher: &'s Searcher) -> LiveDocs<'s> {
        let deleted = searcher
            .segment_readers()
            .iter()
            .map(|segment| match segment.alive_bitset() {
                None => Vec::new(),
                Some(alive) => (0..segment.max_doc())
                    .filter(|&doc| alive.is_deleted(doc))
                    .collect(),
            })
            .collect();
        LiveDocs { searcher, deleted }
    }

    pub fn searcher(&self) -> &'s Searcher {
        self.searcher
    }

    /// The number of live documents that contain `term`: a segment's
    /// count from its term dictionary, less its deleted documents that hold
    /// the term (each looked up in the term's postings, which skip ahead).
    pub fn doc_freq(&self, term: &Term) -> tantivy::Result<u64> {
        let mut doc_freq = 0u64;
        for (segment, deleted) in self.searcher.segment_readers().iter().zip(&self.deleted) {
            let inverted_index = segment.inverted_index(term.field())?;
            let all = u64::from(inverted_index.doc_freq(term)?);
            doc_freq += all;
            if deleted.is_empty() || all == 0 {
                continue;
            }
            let Some(mut postings) = inverted_index.read_postings(term, IndexRecordOption::Basic)? else {
                continue;
            };
            for &doc in deleted {
                if postings.doc() == tantivy::TERMINATED {
                    break;
                }
                if postings.doc() <= doc && postings.seek(doc) == doc {
                    doc_freq -= 1;
                }
            }
        }
        Ok(doc_freq)
    }

    /// Tokens of `field` in the live documents: a segment's total less what
    /// its deleted documents held (their field norms, which are exact up to
    /// 40 tokens and close beyond).
    pub fn num_tokens(&self, field: Field) -> tantivy::Result<u64> {
        let mut tokens = 0u64;
        for (segment, deleted) in self.searcher.segment_readers().iter().zip(&self.deleted) {
            let total = segment.inverted_index(field)?.total_num_tokens();
            if deleted.is_empty() {
                tokens += total;
                continue;
            }
            let norms = segment.get_fieldnorms_reader(field)?;
            let gone: u64 = deleted.iter().map(|&doc| u64::from(norms.fieldnorm(doc))).sum();
            tokens += total.saturating_sub(gone);
        }
        Ok(tokens)
    }
}

/// BM25 statistics from [`CorpusStats`], falling back to the local index
/// (its live documents) for anything they do not cover.
pub struct GlobalStatistics<'a> {
    local: &'a LiveDocs<'a>,
    num_docs: u64,
    field_tokens: HashMap<Field, u64>,
    dfs: HashMap<Term, u64>,
}

impl<'a> GlobalStatistics<'a> {
    pub fn new(local: &'a LiveDocs<'a>, stats: &CorpusStats) -> GlobalStatistics<'a> {
        let schema = local.searcher.schema();
        let mut field_tokens = HashMap::new();
        for (name, tokens) in &stats.field_tokens {
            if let Ok(field) = schema.get_field(name) {
                field_tokens.insert(field, *tokens);
            }
        }
        let mut dfs = HashMap::new();
        for term in &stats.terms {
            if let Ok(field) = schema.get_field(&term.field) {
                dfs.insert(Term::from_field_text(field, &term.text), term.df);
            }
        }
        GlobalStatistics {
            local,
            num_docs: stats.num_docs,
            field_tokens,
            dfs,
        }
    }
}

impl Bm25StatisticsProvider for GlobalStatistics<'_> {
    fn total_num_tokens(&self, field: Field) -> tantivy::Result<u64> {
        match self.field_tokens.get(&field) {
            Some(tokens) => Ok(*tokens),
            None => self.local.num_tokens(field),
        }
    }

    fn total_num_docs(&self) -> tantivy::Result<u64> {
        Ok(self.num_docs.max(1))
    }

    fn doc_freq(&self, term: &Term) -> tantivy::Result<u64> {
        let doc_freq = match self.dfs.get(term) {
            Some(df) => *df,
            None => self.local.doc_freq(term)?,
        };
        // BM25's idf asserts this. Statistics gathered from one population
        // satisfy it; the clamp keeps a query from panicking should a shard
        // ever send inconsistent ones.
        Ok(doc_freq.min(self.num_docs.max(1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_query_of_common_words_alone_is_relaxed() {
        let relaxes = |query: &str| relaxing_requires_fewer(&ParsedQuery::parse(query).unwrap());
        // Common words alone are all required; relaxed, two of three.
        assert!(relaxes("what is it"));
        assert!(relaxes("how can i"));
        // Common words beside a content word are never required, and
        // three content words need only half already.
        assert!(!relaxes("does the kettle"));
        assert!(!relaxes("how do i read a file"));
        assert!(!relaxes("read a file line by line"));
        assert!(!relaxes("what is"));
        // A word the analyzer drops (40 bytes or more) is not searched.
        assert!(!relaxes(&format!("what is {}", "a".repeat(40))));
    }

    #[test]
    fn a_quoted_message_has_the_pasted_words_in_order_with_few_between() {
        let terms = |query: &str| message_words(&ParsedQuery::parse(query).unwrap()).unwrap();
        let quoted = "E0425 cannot find value `y` in this scope --> src/main.rs:5:20";
        assert!(quotes_message(quoted, &terms("cannot find value in this scope")));
        assert!(quotes_message(quoted, &terms("error[E0425]: cannot find value")));
        assert!(quotes_message(quoted, &terms("E0425 cannot find value")));
        assert!(
            !quotes_message(quoted, &terms("find value cannot")),
            "out of order"
        );
        assert!(
            !quotes_message(quoted, &terms("cannot find scope")),
            "four words between"
        );
        assert!(!quotes_message(
            quoted,
            &terms("cannot find module in this scope")
        ));
        assert!(!quotes_message("", &terms("cannot find value")));
        // The user's own values where the page has its example's: typed in
        // backticks, single or double quotes; never another word.
        let borrow = "E0502 cannot borrow `x` as mutable because it is also borrowed as immutable";
        let relation = "relation \"foo\" does not exist LINE 1: SELECT";
        let andym = "password authentication failed for user \"andym\" Messages like this indicate";
        for (page, query, quotes) in [
            (quoted, "cannot find value `total` in this scope", true),
            (
                quoted,
                "cannot find value `self.running_total` in this scope",
                true,
            ),
            (quoted, "cannot find value `total` in this crate", false),
            (quoted, "cannot see value `y` in this scope", false),
            (borrow, "cannot borrow `v` as immutable", false),
            (borrow, "cannot borrow v as mutable because", false),
            (borrow, "cannot borrow `v` as mutable because", true),
            (relation, "ERROR: relation \"orders\" does not exist", true),
            (relation, "relation orders does not exist", false),
            (relation, "relation \"orders\" does not matter", false),
            (
                andym,
                "FATAL: password authentication failed for user \"postgres\"",
                true,
            ),
            (andym, "password authentication failed for user postgres", false),
            (
                andym,
                "password authentication failed for role \"postgres\"",
                false,
            ),
        ] {
            assert_eq!(quotes_message(page, &terms(query)), quotes, "{query}");
        }
        // Too short to read as a message: one word, or two terms.
        assert_eq!(
            message_words(&ParsedQuery::parse("java.lang.NullPointerException").unwrap()),
            None
        );
        assert_eq!(
            message_words(&ParsedQuery::parse("mismatched types").unwrap()),
            None
        );
    }

    #[test]
    fn stats_sum_per_term() {
        let a = CorpusStats {
            num_docs: 10,
            field_tokens: [("body".to_string(), 100)].into(),
            terms: vec![TermDf {
                field: "body".into(),
                text: "own".into(),
                df: 3,
            }],
        };
        let mut b = a.clone();
        b.terms.push(TermDf {
            field: "title".into(),
            text: "own".into(),
            df: 1,
        });
        let total = CorpusStats::sum([&a, &b]);
        assert_eq!(total.num_docs, 20);
        assert_eq!(total.field_tokens["body"], 200);
        assert_eq!(total.terms.len(), 2);
        assert_eq!(total.terms[0].df, 6);
    }

    /// An index term as a query's debug form prints it.
    fn printed(term: String) -> String {
        format!("{term:?}").trim_matches('"').to_string()
    }

    /// The identifier bonus of `query`, as its queries print.
    fn bonus(query: &str) -> String {
        let fields = IndexSchema::new();
        format!(
            "{:?}",
            identifier_bonus(&ParsedQuery::parse(query).unwrap(), &fields)
        )
    }

    /// Whether `query`'s bonus gives `weight` to the page named `name`.
    fn on_page_named(query: &str, name: &str, weight: f32) -> bool {
        let key = printed(indexer::identifiers::page_name_key(name));
        bonus(query)
            .split("Const(")
            .any(|one| one.starts_with(&format!("score={weight},")) && one.contains(&key))
    }

    #[test]
    fn a_message_opens_with_the_name_of_its_error() {
        // A name that only its place and colon say is one (`Exception`, or
        // a CamelCase name typed in lower case).
        let message = bonus("attributeerror: object has no attribute");
        assert!(
            message.contains("\"attributeerror\"")
                && message.contains(&format!("score={},", weights::MESSAGE_NAME)),
            "{message}"
        );
        // Only the first word, and only with its colon; not a path typed
        // short, nor a severity.
        assert!(!bonus("object attributeerror: has").contains(&format!("score={},", weights::MESSAGE_NAME)));
        assert!(!bonus("std:: collections").contains(&format!("score={},", weights::MESSAGE_NAME)));
        assert!(!bonus("ERROR: permission denied").contains(&format!("score={},", weights::MESSAGE_NAME)));
        assert!(!bonus("attributeerror object has").contains(&format!("score={},", weights::MESSAGE_NAME)));
        // Typed in CamelCase, it is a name written as code wherever it is,
        // and earns what such a name earns on its page.
        assert!(on_page_named(
            "AttributeError: object has no attribute",
            "attributeerror",
            weights::CODE_PAGE_NAME
        ));
        // A name written as code keeps its whole form without the colon.
        let java = bonus("java.lang.NullPointerException: cannot invoke");
        assert!(java.contains("\"java.lang.nullpointerexception\""), "{java}");
        assert!(!java.contains("nullpointerexception:"), "{java}");
    }

    #[test]
    fn a_name_prefers_the_page_named_for_it() {
        let key_of = |name: &str| printed(indexer::identifiers::page_name_key(name));
        let one = bonus("localdate");
        // The page name's term, with its own weight (the one bonus of that
        // weight among the name's).
        assert!(one.contains(&key_of("localdate")), "{one}");
        assert_eq!(
            one.matches(&format!("score={},", weights::PAGE_NAME)).count(),
            1,
            "{one}"
        );
        // A name written as code in a longer query, dotted too.
        let nested = bonus("Map.Entry getKey");
        assert!(nested.contains(&key_of("map.entry")), "{nested}");
        assert!(bonus("Package java.util.stream").contains(&key_of("java.util.stream")));
        // A plain word of a longer query is no page's name.
        assert!(!bonus("date parse").contains(&key_of("date")));
        // A name written as code earns more on its page than a plain word,
        // which may be an English word (`static`), alone or in a longer
        // query.
        assert!(on_page_named(
            "unordered_map",
            "unordered_map",
            weights::CODE_PAGE_NAME
        ));
        assert!(on_page_named(
            "Map.Entry getKey",
            "map.entry",
            weights::CODE_PAGE_NAME
        ));
        assert!(on_page_named("static", "static", weights::PAGE_NAME));
        assert!(!bonus("static").contains(&format!("score={},", weights::CODE_PAGE_NAME)));
        // CamelCase says a word is code as typed, alone or in a longer
        // query, though the query's words are lower-cased; the same word
        // typed in lower case is a plain word.
        assert!(on_page_named("LocalDate", "localdate", weights::CODE_PAGE_NAME));
        assert!(on_page_named("HashMap entry", "hashmap", weights::CODE_PAGE_NAME));
        assert!(!bonus("hashmap entry").contains(&key_of("hashmap")));
    }

    #[test]
    fn camel_case_as_typed_names_code() {
        let names = |raw: &str| names_code(&ParsedQuery::parse(raw).unwrap());
        assert!(names("RefCell borrow"));
        assert!(names("HashMap entry"));
        assert!(!names("hashmap entry"));
        assert!(!names("\"HashMap entry\""), "a phrase is words");
    }

    #[test]
    fn a_query_typed_as_a_title_names_the_page_of_that_title() {
        let fields = IndexSchema::new();
        let built = |text: &str| format!("{:?}", build(&ParsedQuery::parse(text).unwrap(), &fields, false));
        let key = |text: &str| printed(indexer::identifiers::title_key(text).unwrap());
        let query = built("Documentation tests");
        assert!(query.contains(&key("documentation tests")), "{query}");
        assert!(
            query.contains(&format!("score={},", weights::TITLE_AS_TYPED)),
            "{query}"
        );
        // The words of a name count as a title's words.
        assert!(built("Package java.util.stream").contains(&key("package java util stream")));
        // A type's parameters are not part of its page's title: the key is
        // the name's alone (the `"` after it ends the term).
        for (typed, name) in [("Class<T>", "class"), ("List<object>", "list")] {
            let query = built(typed);
            assert!(query.contains(&format!("{}\"", key(name))), "{query}");
        }
        // Excluded words are no part of a title, and alternatives make none.
        let query = built("Documentation tests -rustdoc");
        assert!(query.contains(&key("documentation tests")), "{query}");
        let query = built("Documentation OR tests");
        assert!(
            !query.contains(&format!("score={},", weights::TITLE_AS_TYPED)),
            "{query}"
        );
    }

    #[test]
    fn questions_require_their_content_words_only() {
        let fields = IndexSchema::new();
        let query = ParsedQuery::parse("how do I read a file").unwrap();
        let built = format!("{:?}", build(&query, &fields, false));
        let (required, bonuses) = built.split_once("bonuses: ").expect("a query with bonuses");
        assert!(
            required.contains("\"read\"") && required.contains("\"file\"") && !required.contains("\"how\""),
            "{built}"
        );
        assert!(bonuses.contains("\"how\""), "{built}");
        // All stopwords: they are required, or nothing would be.
        let query = ParsedQuery::parse("how to").unwrap();
        let built = format!("{:?}", build(&query, &fields, false));
        let (required, bonuses) = built.split_once("bonuses: ").expect("a query with bonuses");
        // (The one bonus: the words typed as a title.)
        assert!(
            required.contains("\"how\"")
                && !bonuses.contains("\"how\"")
                && bonuses.matches("Const(").count() == 1,
            "{built}"
        );
    }
}
