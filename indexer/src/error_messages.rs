//! The error messages a page quotes: the words after `error:`,
//! `error[E0382]:`, `ERROR:`, `warning:` or `ZeroDivisionError:` in its
//! text, as a compiler, an interpreter or a server prints them in the
//! examples that documentation shows. People paste such a message into the
//! search box; the page that shows it (the error index's entry, the
//! book's chapter that walks through it) is what they want, and the
//! message where a page quotes it is a far surer match than its words
//! anywhere in the text, where "does not live long enough" is also prose.
//!
//! The page's text reaches the indexer with its whitespace collapsed, so a
//! message has no line end to stop at: it is the [`MESSAGE_WORDS`] words
//! after its marker, or fewer when another marker comes sooner. The query
//! side ([`query_message`]) reads a pasted message the same way.

/// How many words after a marker a message takes. The messages people
/// search for are a few words to a line; a longer tail only adds the words
/// of the example's next line.
pub const MESSAGE_WORDS: usize = 12;

/// How many messages of one page are kept: a page that lists every error
/// (a whole book on one page) would otherwise add thousands.
pub const MAX_MESSAGES: usize = 64;

/// Words that mark a message as its severity, before the colon: `error:`,
/// `FATAL:`, rustc's `error[E0382]:`, Go's `panic:`.
pub const SEVERITIES: &[&str] = &[
    "error", "warning", "warn", "fatal", "panic", "panicked", "critical",
];

/// What the word before a colon says of the text after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker<'a> {
    /// A severity (`error`, `ERROR`, `// error`), with the code of
    /// `error[E0382]` when it has one: the code is part of the message.
    Severity { code: Option<&'a str> },
    /// The name of an exception or an error type (`ZeroDivisionError`,
    /// `java.lang.NullPointerException`): the page that defines the name
    /// is where such a message is explained, and the name is not kept.
    Name,
}

/// The [`Marker`] that `word` (the text before a colon, without it) is, if
/// any.
pub fn marker(word: &str) -> Option<Marker<'_>> {
    // Comment and quoting punctuation before the word: `// error`, `"error`.
    let word = word.trim_start_matches(|c: char| !c.is_alphanumeric());
    let (name, code) = match word.strip_suffix(']').map(|w| w.split_once('[')) {
        Some(Some((name, code))) if !code.is_empty() && code.chars().all(|c| c.is_ascii_alphanumeric()) => {
            (name, Some(code))
        }
        Some(_) => return None,
        None => (word, None),
    };
    if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '.') {
        return None;
    }
    if SEVERITIES
        .iter()
        .any(|severity| name.eq_ignore_ascii_case(severity))
    {
        return Some(Marker::Severity { code });
    }
    // Asked of every word before a colon: compared in place, no allocation.
    let named = code.is_none()
        && ["error", "exception", "warning"].iter().any(|suffix| {
            name.len() > suffix.len()
                && name.is_char_boundary(name.len() - suffix.len())
                && name[name.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
        });
    named.then_some(Marker::Name)
}

/// `word` as a marker when it ends with its colon (`error:`, not `std::`).
fn marker_word(word: &str) -> Option<Marker<'_>> {
    let before = word.strip_suffix(':')?;
    if before.ends_with(':') {
        return None;
    }
    marker(before)
}

/// The messages `text` quotes, each the words that follow its marker (and
/// the code of `error[E0382]`), at most [`MESSAGE_WORDS`] words, at most
/// [`MAX_MESSAGES`] different ones. A message after an exception's name
/// is kept without the name ("division by zero"); an `except ValueError:`
/// or `catch (IOException e):` in a code sample is no message.
pub fn quoted(text: &str) -> Vec<String> {
    quoted_messages(text)
        .into_iter()
        .map(|quoted| quoted.indexed)
        .collect()
}

/// A message a page quotes ([`quoted`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotedMessage<'a> {
    /// The code of `error[E0425]:`, if the message has one (a letter and a
    /// digit, `E0425`, `C2065`; a word or a number in the brackets names
    /// nothing): the page that explains the code (rustc's error index)
    /// explains the message.
    pub code: Option<&'a str>,
    /// The message as indexed: what its brackets hold, then its words.
    pub indexed: String,
}

/// [`quoted`], with each message's code apart.
pub fn quoted_messages(text: &str) -> Vec<QuotedMessage<'_>> {
    let mut messages: Vec<QuotedMessage> = Vec::new();
    let mut at = 0;
    while messages.len() < MAX_MESSAGES {
        let Some(offset) = text[at..].find(':') else {
            break;
        };
        let colon = at + offset;
        at = colon + 1;
        // A marker's colon ends its word; a path's `::` is no marker.
        let followed_by_space = text[colon + 1..].chars().next().is_none_or(char::is_whitespace);
        if !followed_by_space || text[..colon].ends_with(':') {
            continue;
        }
        let mut before = text[..colon].rsplit(char::is_whitespace);
        let word = before.next().unwrap_or_default();
        let Some(marker) = marker(word) else {
            continue;
        };
        if marker == Marker::Name
            && before
                .next()
                .is_some_and(|previous| previous == "except" || previous == "catch")
        {
            continue;
        }
        let code = match marker {
            Marker::Severity { code } => code,
            Marker::Name => None,
        };
        let mut message = code.map(str::to_string).unwrap_or_default();
        let code = code.filter(|code| {
            code.chars().any(|c| c.is_ascii_alphabetic()) && code.chars().any(|c| c.is_ascii_digit())
        });
        let mut words = 0;
        for word in text[colon + 1..].split_whitespace() {
            if words == MESSAGE_WORDS || marker_word(word).is_some() {
                break;
            }
            if !message.is_empty() {
                message.push(' ');
            }
            message.push_str(word);
            words += 1;
        }
        if words > 0 && !messages.iter().any(|quoted| quoted.indexed == message) {
            messages.push(QuotedMessage {
                code,
                indexed: message,
            });
        }
    }
    messages
}

/// A query as the message it pastes, in the words [`quoted`] keeps: what
/// follows its last marker (`error:`, `ERROR:`, `fatal error:`, Go's
/// `panic: runtime error:`), with the code of `error[E0382]:`, at most
/// [`MESSAGE_WORDS`] words. None when the query names the exception
/// before its message (`AttributeError: object has no attribute`): the
/// page that defines the name is what answers it, not every page whose
/// example shows the message.
pub fn query_message<'a>(words: &[&'a str]) -> Option<Vec<&'a str>> {
    let last_marker = words
        .iter()
        .enumerate()
        .rev()
        .find_map(|(at, word)| marker_word(word).map(|marker| (at, marker)));
    let mut message = Vec::new();
    let rest = match last_marker {
        None => words,
        Some((_, Marker::Name)) => return None,
        Some((at, Marker::Severity { code })) => {
            message.extend(code);
            &words[at + 1..]
        }
    };
    message.extend(rest.iter().take(MESSAGE_WORDS).copied());
    Some(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_compilers_message_is_the_words_after_its_severity() {
        let text = "fn main() { use std::intrinsics; // error: use of unstable library feature \
                    `core_intrinsics` } If you're using a stable or a beta version of rustc, you won't";
        assert_eq!(
            quoted(text),
            ["use of unstable library feature `core_intrinsics` } If you're using a stable"]
        );
    }

    #[test]
    fn a_code_is_part_of_the_message_and_an_exceptions_name_is_not() {
        let text = "$ cargo run error[E0382]: borrow of moved value: `s1` --> src/main.rs \
                    Traceback (most recent call last): ZeroDivisionError: division by zero";
        assert_eq!(
            quoted(text),
            [
                "E0382 borrow of moved value: `s1` --> src/main.rs Traceback (most recent call last):",
                "division by zero",
            ]
        );
        let codes: Vec<Option<&str>> = quoted_messages(text).iter().map(|quoted| quoted.code).collect();
        assert_eq!(codes, [Some("E0382"), None]);
    }

    #[test]
    fn a_server_log_line_stops_at_the_next_marker() {
        let text = "ERROR: duplicate key value violates unique constraint \"pk\" FATAL: sorry, too many \
                    clients ERROR: duplicate key value violates unique constraint \"pk\"";
        assert_eq!(
            quoted(text),
            [
                "duplicate key value violates unique constraint \"pk\"",
                "sorry, too many clients",
            ],
            "the same message twice is kept once"
        );
    }

    #[test]
    fn paths_headings_and_handlers_are_no_markers() {
        let text = "std::io::Error: see Examples: the Error type, Errors: none. try: f() \
                    except ValueError: pass error:no-space error[bad code]: x";
        assert!(quoted(text).is_empty(), "{:?}", quoted(text));
        // A severity in prose marks one all the same: nothing tells the two apart.
        assert_eq!(
            quoted("returns an error: if the file is missing"),
            ["if the file is missing"]
        );
    }

    #[test]
    fn odd_text_is_read_without_a_panic() {
        let text = "error: one word. ".repeat(MAX_MESSAGES * 2);
        assert_eq!(quoted(&text), ["one word."]);
        let different: String = (0..MAX_MESSAGES * 2)
            .map(|n| format!("error: word {n} "))
            .collect();
        assert_eq!(quoted(&different).len(), MAX_MESSAGES);
        assert!(quoted("").is_empty());
        assert!(quoted(":::: : error:").is_empty());
        // Wide whitespace and letters next to the colon.
        assert_eq!(quoted("a\u{3000}error:\u{3000}é ü"), ["é ü"]);
        assert_eq!(quoted("\u{a0}Fehler: x ÉrrorÉ: y"), Vec::<String>::new());
        assert_eq!(quoted("AssertionErrör: x"), Vec::<String>::new());
    }

    #[test]
    fn a_query_is_read_as_the_message_it_pastes() {
        fn read(query: &str) -> Option<String> {
            let words: Vec<&str> = query.split_whitespace().collect();
            query_message(&words).map(|message| message.join(" "))
        }
        assert_eq!(
            read("cannot find value in this scope").unwrap(),
            "cannot find value in this scope"
        );
        assert_eq!(
            read("ERROR: permission denied for table").unwrap(),
            "permission denied for table"
        );
        assert_eq!(
            read("error[E0382]: borrow of moved value").unwrap(),
            "E0382 borrow of moved value"
        );
        assert_eq!(
            read("fatal error: foo.h: No such file").unwrap(),
            "foo.h: No such file"
        );
        assert_eq!(
            read("panic: runtime error: index out of range").unwrap(),
            "index out of range"
        );
        assert_eq!(read("AttributeError: object has no attribute"), None);
        assert_eq!(read(&"x ".repeat(40)).unwrap().split(' ').count(), MESSAGE_WORDS);
    }
}
