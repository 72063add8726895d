//! The query language: what a user types, read into a [`ParsedQuery`].
//!
//! Words are ANDed by default. `a OR b` (or `a | b`) matches either,
//! `-word`, `-"a phrase"` and `NOT word` exclude, `"a phrase"` matches the
//! words in order, `site:host` keeps one host's pages (`-site:host` drops
//! them), `intitle:word` and `intitle:"a phrase"` match in the title only.
//! `AND` and `+word` are accepted and change nothing. Parentheses are not
//! grouping: they are read as spaces, but for a call's `()` right after a
//! name (`enumerate()`), which stays on it: the word is written as code.
//!
//! Technical text is read as written where the operators would misread
//! it: a command-line option (`--onto`, `-m`, `-la`, `-std=c++17`: two
//! dashes, or one before one or two ASCII characters or a setting) is a
//! word, not an exclusion, and so is `NOT` before a word in capitals
//! (SQL's `IS NOT NULL`). A short word is excluded as `NOT x` or `-"x"`.
//!
//! Reading is lenient: an unbalanced quote closes at the end, an operator
//! with nothing to apply to is dropped, and HTML tags and control
//! characters are removed before anything else (a type's parameters,
//! `Box<dyn Error>` or `List<object>`, and a header after `#include` are
//! not tags). A query is refused (400) only when it
//! is too long or nothing searchable is left. Words keep their spelling
//! here (lower-cased); the index's analyzer turns them into terms when the
//! query is built ([`crate::rank`]). A word whose case alone says it is
//! code (`HashMap`, `getKey`) keeps that case beside it, and is written
//! back with it. A word quoted alone (`"postgres"`) is searched as the
//! word, but kept as typed: never spelling-corrected, and a value where it
//! is part of a pasted error message.

/// Longest query accepted, in bytes.
pub const MAX_QUERY_BYTES: usize = 512;
/// Words and phrases kept from one query; the rest are ignored.
pub const MAX_ATOMS: usize = 32;

/// A word or a phrase, as typed (lower-cased).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Atom {
    /// For a phrase, its words joined by single spaces.
    pub text: String,
    pub phrase: bool,
    /// `intitle:`: matches in the title only.
    pub title_only: bool,
    /// The word as typed, when only its case said it was written as code
    /// (CamelCase: `HashMap`, `getKey`), which `text` lost to lower-casing.
    /// It is how the atom is written back, so that the shards, which parse
    /// the query again, and the cache's key see the same query.
    pub camel_case: Option<String>,
    /// A word typed alone in double quotes (`"postgres"`), to search for
    /// and not to be excluded or kept to titles: searched as the bare word,
    /// but never corrected, and in a pasted message it is a value
    /// ([`Atom::typed_as_value`]). Written back quoted.
    pub quoted: bool,
}

impl Atom {
    /// The text searched for: a word without a type's parameters
    /// (`std::vector<int>` searches for `std::vector`, `Box<dyn` for
    /// `box`), which the page that documents the type seldom writes as
    /// the query does; a phrase as it is.
    pub fn searched(&self) -> &str {
        if self.phrase {
            &self.text
        } else {
            indexer::identifiers::without_type_parameters(&self.text)
        }
    }

    /// Whether the word was typed as code ([`indexer::identifiers::looks_like_identifier`]
    /// of the word as typed): `dict.setdefault`, `__slots__`, `HashMap`.
    /// A phrase never is.
    pub fn written_as_code(&self) -> bool {
        !self.phrase && (self.camel_case.is_some() || indexer::identifiers::looks_like_identifier(&self.text))
    }

    /// Whether the word was typed in double quotes, single quotes or
    /// backticks (`"postgres"`, `'orders'`, `` `running_total` ``, with
    /// the punctuation after: `` `x`, ``): a name as the user's own code or
    /// data has it, which a spelling correction must leave alone, and a
    /// value where it is part of a pasted message (`rank::near_form`).
    pub fn typed_as_value(&self) -> bool {
        let word = self.text.trim_end_matches([',', ';', ':', '.']);
        self.quoted
            || (!self.phrase
                && word.len() >= 3
                && ['`', '\'']
                    .iter()
                    .any(|&quote| word.starts_with(quote) && word.ends_with(quote)))
    }

    /// The atom as the query language writes it, quoted where the bare
    /// word would read back as something else: an option, an exclusion, an
    /// operator's prefix (a word of a phrase typed `"-abc"` or `"site:x"`).
    fn render(&self, excluded: bool) -> String {
        let typed = self.camel_case.as_ref().unwrap_or(&self.text);
        let text = if self.phrase || self.quoted || misread_bare(&self.text, excluded, self.title_only) {
            format!("\"{typed}\"")
        } else {
            typed.clone()
        };
        if self.title_only {
            format!("intitle:{text}")
        } else {
            text
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct ParsedQuery {
    /// Every group must match; a group matches when any of its atoms does.
    pub groups: Vec<Vec<Atom>>,
    /// No match may contain any of these.
    pub excluded: Vec<Atom>,
    /// When not empty, matches come from one of these hosts.
    pub sites: Vec<String>,
    pub excluded_sites: Vec<String>,
}

/// Why a query cannot be searched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("query too long: at most {MAX_QUERY_BYTES} bytes")]
    TooLong,
    #[error("empty query")]
    Empty,
    #[error("nothing to search for in {0:?}: give at least one word that is not excluded")]
    NothingToSearch(String),
}

impl ParsedQuery {
    /// Reads `raw` (as the user typed it) into a query.
    pub fn parse(raw: &str) -> Result<ParsedQuery, QueryError> {
        if raw.len() > MAX_QUERY_BYTES {
            return Err(QueryError::TooLong);
        }
        let cleaned = clean(raw);
        let mut query = ParsedQuery::default();
        let mut negate_next = false;
        let mut or_next = false;
        let mut atoms = 0;
        let mut lexemes = lex(&cleaned).into_iter().peekable();
        while let Some(lexeme) = lexemes.next() {
            let (negated, lexeme) = match lexeme {
                // Before a word in capitals, NOT is a word too: SQL's `NOT
                // NULL`, `IS NOT NULL`, `NOT EXISTS` are what the pages say,
                // and excluding NULL would leave out the page about them.
                Lexeme::Word(word) if word == "NOT" && !lexemes.peek().is_some_and(is_in_capitals) => {
                    negate_next = true;
                    continue;
                }
                Lexeme::Word(word) if word == "OR" || word == "|" || word == "||" => {
                    or_next = !query.groups.is_empty();
                    continue;
                }
                Lexeme::Word(word) if word == "AND" || word == "&&" => continue,
                Lexeme::Negated(inner) => (true, *inner),
                other => (std::mem::take(&mut negate_next), other),
            };
            let negated = negated || std::mem::take(&mut negate_next);
            let joins_previous = std::mem::take(&mut or_next) && !negated;
            let atom = match lexeme {
                Lexeme::Word(word_as_typed) => {
                    let lower = word_as_typed.to_lowercase();
                    if let Some(host) = lower.strip_prefix("site:") {
                        if let Some(host) = site_host(host) {
                            if negated {
                                query.excluded_sites.push(host);
                            } else {
                                query.sites.push(host);
                            }
                        }
                        continue;
                    }
                    let title_only = lower.starts_with("intitle:");
                    let typed = typed_word(&word_as_typed, title_only);
                    let text = typed.to_lowercase();
                    if !text.chars().any(char::is_alphanumeric) {
                        continue;
                    }
                    Atom {
                        camel_case: camel_case(typed, &text),
                        text,
                        phrase: false,
                        title_only,
                        quoted: false,
                    }
                }
                Lexeme::Phrase { words, title_only } => {
                    let typed: Vec<&str> = words
                        .split_whitespace()
                        .filter(|w| w.chars().any(char::is_alphanumeric))
                        .collect();
                    let text = typed
                        .iter()
                        .map(|word| word.to_lowercase())
                        .collect::<Vec<_>>()
                        .join(" ");
                    // A word quoted alone is a word, code as it would be bare.
                    let camel_case = match typed.as_slice() {
                        [] => continue,
                        [word] => camel_case(word, &text),
                        _ => None,
                    };
                    Atom {
                        phrase: typed.len() > 1,
                        quoted: typed.len() == 1
                            && !negated
                            && !title_only
                            && !misread_bare(&text, false, false),
                        text,
                        title_only,
                        camel_case,
                    }
                }
                Lexeme::Negated(_) => unreachable!("unwrapped above"),
            };
            if atoms >= MAX_ATOMS {
                break;
            }
            atoms += 1;
            if negated {
                query.excluded.push(atom);
            } else if joins_previous {
                query.groups.last_mut().expect("or_next needs a group").push(atom);
            } else {
                query.groups.push(vec![atom]);
            }
        }
        if query.groups.is_empty() && query.sites.is_empty() {
            return Err(if cleaned.is_empty() {
                QueryError::Empty
            } else {
                QueryError::NothingToSearch(cleaned)
            });
        }
        Ok(query)
    }

    /// The query written back in one canonical form: what the cache is keyed
    /// by and what the answer says was searched.
    pub fn normalized(&self) -> String {
        let mut parts: Vec<String> = self
            .groups
            .iter()
            .map(|group| {
                group
                    .iter()
                    .map(|atom| atom.render(false))
                    .collect::<Vec<_>>()
                    .join(" OR ")
            })
            .collect();
        parts.extend(self.excluded.iter().map(|atom| format!("-{}", atom.render(true))));
        parts.extend(self.sites.iter().map(|site| format!("site:{site}")));
        parts.extend(self.excluded_sites.iter().map(|site| format!("-site:{site}")));
        parts.join(" ")
    }

    /// The plain words a user may have misspelled: positive, not phrases'
    /// words excepted (each word of a phrase can be misspelled too), but
    /// not a word typed as a value ([`Atom::typed_as_value`]): quoted, it
    /// is meant as typed, as search engines read a quoted word. An
    /// identifier's parts are words of their own (`json.lods`: `json`,
    /// `lods`), so a typo inside a name is corrected like any other and
    /// punctuation is never what a correction changes.
    pub fn spellable_words(&self) -> Vec<String> {
        let mut words: Vec<String> = Vec::new();
        for atom in self.groups.iter().flatten().filter(|atom| !atom.typed_as_value()) {
            for word in atom.text.split(|c: char| !c.is_alphanumeric()) {
                if !word.is_empty() && !words.iter().any(|w| w == word) {
                    words.push(word.to_string());
                }
            }
        }
        words
    }

    /// This query with `from` replaced by `to` wherever it is a whole word
    /// (a run of letters and digits) of a positive atom: `json.lods` with
    /// `lods` replaced is `json.loads`. Not in a word typed as a value
    /// ([`Atom::typed_as_value`]), which is meant as typed.
    pub fn with_word_replaced(&self, from: &str, to: &str) -> ParsedQuery {
        let mut query = self.clone();
        for atom in query
            .groups
            .iter_mut()
            .flatten()
            .filter(|atom| !atom.typed_as_value())
        {
            let text = replace_word(&atom.text, from, to);
            // The same word of the form typed, whatever its case: what is
            // left of it may still be code (`HashMap<Strnig>`).
            if let Some(typed) = &atom.camel_case {
                atom.camel_case = camel_case(&replace_word(typed, from, to), &text);
            }
            atom.text = text;
        }
        query
    }
}

/// Whether `text`, a word as [`ParsedQuery::parse`] reads it (lower-cased:
/// `Site:x` is `site:x`), would read back as something else written bare:
/// an option, an exclusion, an operator's prefix; excluded or in a title,
/// also a word quoted for its `(`, `)` or leading `+` (`-"f(x"`), which
/// bare would be two words or lose its `+`. Such a word is written back
/// quoted, and its quotes say nothing more of it.
fn misread_bare(text: &str, excluded: bool, title_only: bool) -> bool {
    ((excluded || title_only) && (text.contains(['(', ')']) || text.starts_with('+')))
        || text.starts_with("site:")
        || text.starts_with("intitle:")
        || if excluded {
            text.starts_with('-') || reads_as_option(text)
        } else {
            text.starts_with('-') && !text.starts_with("--") && !reads_as_option(&text[1..])
        }
}

/// `text` with `from` replaced by `to` wherever it is a whole word (a run
/// of letters and digits), compared in lower case.
fn replace_word(text: &str, from: &str, to: &str) -> String {
    let mut replaced = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        out.push_str(if word.to_lowercase() == from {
            to
        } else {
            word.as_str()
        });
        word.clear();
    };
    for c in text.chars() {
        if c.is_alphanumeric() {
            word.push(c);
        } else {
            flush(&mut word, &mut replaced);
            replaced.push(c);
        }
    }
    flush(&mut word, &mut replaced);
    replaced
}

/// [`Atom::camel_case`] of a word typed as `typed`, `text` lower-cased.
fn camel_case(typed: &str, text: &str) -> Option<String> {
    let code = indexer::identifiers::looks_like_identifier;
    (code(typed) && !code(text)).then(|| typed.to_string())
}

/// A word as typed, without what [`ParsedQuery::parse`] takes off the
/// lower-cased word: `intitle:` and a leading `+`.
fn typed_word(word: &str, title_only: bool) -> &str {
    let word = if title_only {
        word.get("intitle:".len()..).unwrap_or(word)
    } else {
        word
    };
    word.trim_start_matches('+')
}

/// `site:` takes a host key (`example.com`, `127.0.0.1:8088`); a URL is
/// cut down to one.
fn site_host(text: &str) -> Option<String> {
    let text = text
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap_or_default()
        .trim_end_matches('.');
    (!text.is_empty()).then(|| text.to_string())
}

#[derive(Debug, PartialEq)]
enum Lexeme {
    Word(String),
    Phrase { words: String, title_only: bool },
    Negated(Box<Lexeme>),
}

/// Splits a cleaned query into words, phrases and negations.
fn lex(text: &str) -> Vec<Lexeme> {
    let mut lexemes = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() || c == '(' || c == ')' {
            chars.next();
            continue;
        }
        // Two dashes start a command-line option (`git rebase --onto`,
        // `pg_dump --data-only`), read as a word with its dashes: not `-`
        // and a word to exclude, which would leave out the very page that
        // documents the option.
        let long_option = c == '-' && {
            let mut ahead = chars.clone();
            ahead.next();
            ahead.peek() == Some(&'-')
        };
        let negated = c == '-' && !long_option && {
            chars.next();
            chars.peek().is_some_and(|next| !next.is_whitespace())
        };
        if c == '-' && !negated && !long_option {
            continue;
        }
        let mut word = String::new();
        let mut lexeme = None;
        while let Some(&c) = chars.peek() {
            if c == '(' && !word.is_empty() {
                // A call's `()` right after a name (`enumerate()`) says the
                // word is written as code: it stays on the word.
                let mut ahead = chars.clone();
                ahead.next();
                if ahead.peek() == Some(&')') {
                    chars = ahead;
                    chars.next();
                    word.push_str("()");
                    // The name ends there (`iter().map()` is two), but for
                    // the punctuation it is typed with (`what():`).
                    if chars
                        .peek()
                        .is_some_and(|next| matches!(next, ':' | ',' | ';' | '?'))
                    {
                        continue;
                    }
                    break;
                }
            }
            if c.is_whitespace() || c == '(' || c == ')' {
                break;
            }
            chars.next();
            if c == '"' {
                // A phrase, alone or after `intitle:`.
                let mut words = String::new();
                for c in chars.by_ref() {
                    if c == '"' {
                        break;
                    }
                    words.push(c);
                }
                let title_only = word.eq_ignore_ascii_case("intitle:");
                if !word.is_empty() && !title_only {
                    lexemes.push(Lexeme::Word(std::mem::take(&mut word)));
                }
                lexeme = Some(Lexeme::Phrase { words, title_only });
                word.clear();
                break;
            }
            word.push(c);
        }
        let lexeme = lexeme.unwrap_or(Lexeme::Word(word));
        if matches!(&lexeme, Lexeme::Word(w) if w.is_empty()) {
            continue;
        }
        lexemes.push(match lexeme {
            // `-m`, `-la`, `-O2`, `-std=c++17` are options (`python -m
            // venv`), not words to exclude: the page that documents the
            // option has it ([`reads_as_option`] says which).
            Lexeme::Word(word) if negated && reads_as_option(&word) => Lexeme::Word(format!("-{word}")),
            lexeme if negated => Lexeme::Negated(Box::new(lexeme)),
            lexeme => lexeme,
        });
    }
    lexemes
}

/// Whether `word`, typed after one dash, is a command-line option rather
/// than a word to exclude: one or two ASCII characters, or a setting
/// (`=`), and not an operator's (`-site:x=y`). An ASCII word that short
/// is seldom one anybody excludes, while options that short are common
/// (`python -m`, `ls -la`); an acronym is excluded as `NOT js` or `-"JS"`.
/// Scripts without letter case keep their short words excludable.
fn reads_as_option(word: &str) -> bool {
    word.is_ascii() && !word.contains(':') && (word.len() <= 2 || word.contains('='))
}

/// Whether `lexeme` is a word written in capitals (`NULL`, `EXISTS`,
/// `IN`): with a capital letter and no small one, and not an operator
/// (`NOT OR AND` is operators only).
fn is_in_capitals(lexeme: &Lexeme) -> bool {
    matches!(lexeme, Lexeme::Word(word)
        if word.chars().any(char::is_uppercase)
            && !word.chars().any(char::is_lowercase)
            && !matches!(word.as_str(), "NOT" | "OR" | "AND"))
}

/// Removes HTML tags and control characters and collapses whitespace.
pub(crate) fn clean(raw: &str) -> String {
    strip_tags(raw)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Drops HTML tags (`<b>`, `</script>`, `<!-- -->`): an HTML element's
/// name in lower case after `<` or `</`, or `<!`. Anything else between
/// angle brackets is a type's parameters, which people search for as
/// written (`Box<dyn Error>`, `Vec<u8>`, `std::vector<int>`, `Pin<P>`).
/// So is an element's name opened right after an ASCII name and closed
/// before a space, punctuation or the end (`List<object>`,
/// `Map<String, List<object>>`; but `foo<b>bar</b>` is markup), and a
/// header after `#include` (`#include <map>`, `#include <span>`).
/// Closing tags (`</b>`) and `<!` are always markup.
fn strip_tags(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let closing = after.starts_with('/');
        let name = after.strip_prefix('/').unwrap_or(after);
        let in_code = !closing
            && ((ends_with_name_character(&out) && closes_before_a_word_ends(after))
                || out.trim_end().ends_with("#include"));
        let looks_like_tag = after.starts_with('!') || (!in_code && starts_with_element_name(name));
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

/// Whether `text` starts with an HTML element's name in lower case, the
/// name ending the way a tag's does.
fn starts_with_element_name(text: &str) -> bool {
    let end = text
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(text.len());
    HTML_ELEMENTS.split(' ').any(|element| element == &text[..end])
        && text[end..].starts_with(|c: char| c == '>' || c == '/' || c.is_whitespace())
}

/// Whether `text` ends with a character of an ASCII name: `<` right
/// after it may open a type's parameters (`List<object>`).
fn ends_with_name_character(text: &str) -> bool {
    text.ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
}

/// Whether the `>` that closes `text`'s first angle bracket is followed by
/// no letter or digit: a type's parameters end there (`List<object> x`,
/// `List<object>>`), where a tag in pasted text runs into its words
/// (`foo<b>bar`, `東京<b>タワー`).
fn closes_before_a_word_ends(text: &str) -> bool {
    text.find('>')
        .is_some_and(|close| !text[close + 1..].starts_with(char::is_alphanumeric))
}

/// The names of HTML's elements, obsolete ones included, as a query
/// pasted from a web page may hold them, one space apart.
const HTML_ELEMENTS: &str = "\
    a abbr acronym address applet area article aside audio b base bdi bdo big blink blockquote \
    body br button canvas caption center cite code col colgroup data datalist dd del details dfn \
    dialog dir div dl dt em embed fieldset figcaption figure font footer form frame frameset h1 \
    h2 h3 h4 h5 h6 head header hgroup hr html i iframe img input ins kbd label legend li link \
    main map mark marquee math menu meta meter nav noframes noscript object ol optgroup option \
    output p param picture plaintext pre progress q rp rt ruby s samp script search section \
    select slot small source span strike strong style sub summary sup svg table tbody td \
    template textarea tfoot th thead time title tr track tt u ul var video wbr xmp";

#[cfg(test)]
mod tests {
    use super::*;

    fn normalized(raw: &str) -> String {
        ParsedQuery::parse(raw).unwrap().normalized()
    }

    #[test]
    fn words_are_anded_and_lower_cased() {
        let query = ParsedQuery::parse("Hello  World").unwrap();
        assert_eq!(query.groups.len(), 2);
        assert_eq!(query.normalized(), "hello world");
    }

    #[test]
    fn operators() {
        assert_eq!(normalized("a OR b c"), "a OR b c");
        assert_eq!(normalized("a | b"), "a OR b");
        assert_eq!(normalized("a AND b"), "a b");
        assert_eq!(normalized("a -bee NOT cee"), "a -bee -cee");
        assert_eq!(normalized("a NOT c"), "a -\"c\"", "-c would be an option");
        assert_eq!(normalized("\"Hello World\" x"), "\"hello world\" x");
        assert_eq!(normalized("a -\"b c\""), "a -\"b c\"");
        assert_eq!(normalized("Site:Docs.RS/std a"), "a site:docs.rs");
        assert_eq!(normalized("a -site:x.test"), "a -site:x.test");
        assert_eq!(
            normalized("intitle:Ownership intitle:\"what is\""),
            "intitle:ownership intitle:\"what is\""
        );
        assert_eq!(normalized("+a"), "a");
        assert_eq!(normalized("Vec::with_capacity"), "vec::with_capacity");
        assert_eq!(normalized("site:127.0.0.1:8088"), "site:127.0.0.1:8088");
    }

    #[test]
    fn lenient_reading() {
        assert_eq!(normalized("\"unbalanced quote"), "\"unbalanced quote\"");
        assert_eq!(normalized("title:( x"), "title: x");
        assert_eq!(normalized("OR a OR"), "a");
        assert_eq!(normalized("a - b"), "a b");
        assert_eq!(normalized("\"one\""), "\"one\"");
        assert_eq!(normalized("x -\"one\" intitle:\"two\""), "x intitle:two -one");
        assert_eq!(normalized("  own\u{0}ership\u{7} <b>x</b>"), "own ership x");
        assert_eq!(normalized("a < b"), "a b", "a lone < is not a word");
    }

    #[test]
    fn html_tags_go_and_a_types_parameters_stay() {
        assert_eq!(
            normalized("<b>bold</b> <a href=\"x\">link</a> <br/>x"),
            "bold link x"
        );
        assert_eq!(normalized("<!-- c --> <SCRIPT>x</script>"), "<script>x");
        assert_eq!(normalized("Box<dyn Error>"), "box<dyn error>");
        assert_eq!(normalized("Vec<u8> Pin<P> Cow<str>"), "vec<u8> pin<p> cow<str>");
        assert_eq!(normalized("std::vector<int>"), "std::vector<int>");
        // An element's name as a type's parameter or a header is code.
        assert_eq!(normalized("List<object> size"), "list<object> size");
        assert_eq!(
            normalized("Map<String, List<object>>"),
            "map<string, list<object>>"
        );
        assert_eq!(normalized("#include <map>"), "#include <map>");
        assert_eq!(normalized("#include<span> std::span"), "#include<span> std::span");
        // A tag after a space or punctuation is still markup, and so is
        // one that runs into the next word, and a closing tag anywhere.
        assert_eq!(normalized("foo<b>bar</b> x"), "foo bar x");
        assert_eq!(normalized("a<br>b"), "a b");
        assert_eq!(normalized("東京<b>タワー</b>"), "東京 タワー");
        assert_eq!(normalized("see <code>Vec</code> docs"), "see vec docs");
        assert_eq!(normalized("(<b>x</b>)"), "x");
    }

    #[test]
    fn a_calls_parentheses_stay_on_its_name() {
        // `()` right after a name says it is code (`looks_like_identifier`).
        assert_eq!(normalized("enumerate()"), "enumerate()");
        assert_eq!(normalized("Arrays.asList() x"), "arrays.aslist() x");
        assert_eq!(normalized("what(): basic_string"), "what(): basic_string");
        // Other parentheses separate words, as before.
        assert_eq!(normalized("(a b) c"), "a b c");
        assert_eq!(normalized("f(x) ()"), "f x");
        assert_eq!(normalized("f( ) g()h"), "f g() h");
        assert_eq!(normalized("iter().map()"), "iter() .map()");
    }

    #[test]
    fn not_before_a_word_in_capitals_is_a_word() {
        assert_eq!(normalized("NOT NULL constraint"), "not null constraint");
        assert_eq!(normalized("IS NOT NULL"), "is not null");
        assert_eq!(normalized("NOT EXISTS subquery"), "not exists subquery");
        // Before other words it excludes them, as before.
        assert_eq!(normalized("value NOT ownership"), "value -ownership");
        assert_eq!(normalized("value NOT \"a b\""), "value -\"a b\"");
        assert!(ParsedQuery::parse("NOT a").is_err());
        assert!(
            ParsedQuery::parse("NOT OR AND").is_err(),
            "operators are not words in capitals"
        );
    }

    #[test]
    fn a_long_option_is_a_word_not_an_exclusion() {
        let query = ParsedQuery::parse("git rebase --onto").unwrap();
        assert!(query.excluded.is_empty());
        assert_eq!(query.normalized(), "git rebase --onto");
        assert_eq!(normalized("--help"), "--help");
        assert_eq!(normalized("pg_dump --data-only"), "pg_dump --data-only");
        assert_eq!(
            ParsedQuery::parse("a -bee").unwrap().excluded.len(),
            1,
            "one dash still excludes"
        );
    }

    #[test]
    fn a_short_option_or_a_setting_is_a_word_not_an_exclusion() {
        for (raw, read) in [
            ("python -m venv", "python -m venv"),
            ("ls -la", "ls -la"),
            ("g++ -O2 -std=c++17", "g++ -o2 -std=c++17"),
            ("returns -1", "returns -1"),
        ] {
            let query = ParsedQuery::parse(raw).unwrap();
            assert!(query.excluded.is_empty(), "{raw}");
            assert_eq!(query.normalized(), read);
        }
        // A word of three letters or more is still excluded.
        assert_eq!(ParsedQuery::parse("venv -pip").unwrap().excluded.len(), 1);
        // Words of scripts without letter case are excluded, short or not.
        assert_eq!(ParsedQuery::parse("東京 -大阪").unwrap().excluded.len(), 1);
        assert_eq!(ParsedQuery::parse("東京 NOT 大阪").unwrap().excluded.len(), 1);
    }

    #[test]
    fn a_word_in_camel_case_keeps_its_case_as_code() {
        let query = ParsedQuery::parse("HashMap entry intitle:getKey").unwrap();
        let atoms: Vec<&Atom> = query.groups.iter().flatten().collect();
        assert_eq!(atoms[0].text, "hashmap", "searched lower-cased");
        assert_eq!(atoms[0].camel_case.as_deref(), Some("HashMap"));
        assert!(atoms[0].written_as_code());
        assert!(!atoms[1].written_as_code());
        assert_eq!(atoms[2].camel_case.as_deref(), Some("getKey"));
        // Written back as typed, so that shards and the cache see code.
        assert_eq!(query.normalized(), "HashMap entry intitle:getKey");
        // Typed in lower case or in capitals, it is a word.
        for raw in ["hashmap entry", "HASHMAP entry", "Hashmap entry"] {
            let query = ParsedQuery::parse(raw).unwrap();
            assert!(query.groups[0][0].camel_case.is_none(), "{raw}");
            assert_eq!(query.normalized(), "hashmap entry");
        }
        // Case that says nothing more than the punctuation does is not kept.
        let dotted = ParsedQuery::parse("Map.Entry").unwrap();
        assert_eq!(dotted.normalized(), "map.entry");
        // A correction replaces the word typed, and with it its case; the
        // rest of the name keeps its own.
        let corrected = ParsedQuery::parse("HashMpa entry")
            .unwrap()
            .with_word_replaced("hashmpa", "hashmap");
        assert_eq!(corrected.normalized(), "hashmap entry");
        let corrected = ParsedQuery::parse("HashMap<Strnig> new")
            .unwrap()
            .with_word_replaced("strnig", "string");
        assert_eq!(corrected.normalized(), "HashMap<string> new");
        assert!(corrected.groups[0][0].written_as_code());
        // Quoted alone, a word is code as it is bare.
        assert!(ParsedQuery::parse("\"HashMap\"").unwrap().groups[0][0].written_as_code());
        assert!(!ParsedQuery::parse("\"HashMap entry\"").unwrap().groups[0][0].written_as_code());
    }

    #[test]
    fn every_normalized_query_reads_back_as_itself() {
        for raw in [
            "cargo test -- --nocapture -bench",
            "a NOT c -m",
            "x NOT \"a b\" -intitle:yy",
            "pip NOT --user",
            "-\"--user\" x",
            "-\"-abc\" x",
            "\"-abc\" \"site:x\" \"intitle:y\"",
            "x NOT intitle:a=b",
            "x -intitle:\"a=b\"",
            "東京 -\"大阪\"",
            "a OR -m b",
            "NOT NULL OR x",
            "x -\"a=b\" -\"é\" intitle:\"-z\"",
            "HashMap<String, Vec<u8>> -Map<K, V> a<b, c Box<dyn Error>",
            "#include <map> List<object>",
            "HashMap entry intitle:getKey +RefCell -BufReader",
            "+Site:fooBar +inTitle:fooBar +intitle:getKey +-fooBar",
            "x NOT aB \"HashMap\" -\"getKey\"",
            "password failed for user \"postgres\" \"a b\"",
            "x -\"f(x\" intitle:\"+abc\" -\"+abc\" intitle:enumerate() -enumerate()",
        ] {
            let query = ParsedQuery::parse(raw).unwrap();
            assert_eq!(ParsedQuery::parse(&query.normalized()).unwrap(), query, "{raw}");
        }
    }

    #[test]
    fn nothing_searchable_is_refused() {
        for raw in [
            "",
            "   ",
            "<script></script>",
            "-abc",
            "NOT a",
            "OR",
            "\"\"",
            "-- !!",
        ] {
            assert!(ParsedQuery::parse(raw).is_err(), "{raw:?}");
        }
        assert!(ParsedQuery::parse(&"x".repeat(MAX_QUERY_BYTES + 1)).is_err());
        assert!(ParsedQuery::parse("site:example.com").is_ok());
    }

    #[test]
    fn spelling_words_and_replacement() {
        let query = ParsedQuery::parse("ownrship \"borow rules\" -xyz").unwrap();
        assert_eq!(query.spellable_words(), ["ownrship", "borow", "rules"]);
        let fixed = query.with_word_replaced("borow", "borrow");
        assert_eq!(fixed.normalized(), "ownrship \"borrow rules\" -xyz");
        // Identifiers are corrected part by part, their punctuation kept.
        let query = ParsedQuery::parse("json.lods sqllite3 connect").unwrap();
        assert_eq!(query.spellable_words(), ["json", "lods", "sqllite3", "connect"]);
        let fixed = query
            .with_word_replaced("lods", "loads")
            .with_word_replaced("sqllite3", "sqlite3");
        assert_eq!(fixed.normalized(), "json.loads sqlite3 connect");
        assert_eq!(
            ParsedQuery::parse("f-string").unwrap().spellable_words(),
            ["f", "string"],
            "never one word across punctuation"
        );
        // A word quoted alone is meant as typed: a value, never corrected.
        let query = ParsedQuery::parse("user \"postgers\" `runing_total`, 'ordrs' \"a b\"").unwrap();
        assert_eq!(query.spellable_words(), ["user", "a", "b"]);
        let fixed = ParsedQuery::parse("json.lods 'lods'")
            .unwrap()
            .with_word_replaced("lods", "loads");
        assert_eq!(fixed.normalized(), "json.loads 'lods'");
    }
}
