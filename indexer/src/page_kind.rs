//! What kind of page a document is, from its URL and shape, decided once
//! at indexing time so that ranking can read it from a fast field.
//!
//! Four kinds of pages match far more queries than they answer: a whole
//! book on one page (mdBook's `print.html`), listing pages that are mostly
//! links (rustdoc's `all.html`, site maps, indexes of error codes),
//! source-code views (rustdoc's `/src/` pages, Doxygen's "Source File"
//! pages) and release notes (Python's "What's New In Python 3.9",
//! PostgreSQL's "Release 15.1", "Rust Release Notes"), which name every
//! feature of their release in a short section of its own. Ranking lowers
//! them (query-api's `rank` module), but for a query typed as the page's
//! title; they stay searchable. A fifth kind, the implementation's own
//! pages (`std::__debug::vector`, debug mode's copy of `std::vector`, with
//! every member of it), ranks lower where an ordinary page defines a name
//! the query asks for (the public `std::vector`), but not for a query that
//! names its reserved scope.

use common::PageMessage;

/// The fast field that holds a document's [`PageKind`].
pub const PAGE_KIND_FIELD: &str = "page_kind";

/// A listing page has at least this many links...
const LISTING_MIN_LINKS: usize = 30;
/// ...and fewer words of text than this per link: a table of contents
/// (a DocBook chapter's first page, Sphinx's genindex, rustdoc's all.html)
/// is a title and a few words per entry.
const LISTING_MAX_WORDS_PER_LINK: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageKind {
    Page = 0,
    /// A whole book or manual on one page.
    Print = 1,
    /// Mostly links: an index, a site map, a list of all items.
    Listing = 2,
    /// A source file rendered as a page.
    Source = 3,
    /// Release notes: what changed in a version.
    ReleaseNotes = 4,
    /// A name in a scope reserved for the implementation
    /// ([`crate::identifiers::in_reserved_scope`]).
    Implementation = 5,
}

impl PageKind {
    pub fn of(page: &PageMessage) -> PageKind {
        let path = page.canonical_url.as_str();
        let path = path.split(['?', '#']).next().unwrap_or_default();
        if path.ends_with("/print.html") {
            return PageKind::Print;
        }
        if is_source_view(path, &page.title) {
            return PageKind::Source;
        }
        if is_release_notes(&page.title) {
            return PageKind::ReleaseNotes;
        }
        let links = page.outlinks.len();
        // The words are counted only as far as the bound: a long page's
        // text is not read to the end to learn that it has enough.
        let most_words = links * LISTING_MAX_WORDS_PER_LINK;
        if links >= LISTING_MIN_LINKS && words_up_to(&page.text, most_words) < most_words {
            return PageKind::Listing;
        }
        if crate::identifiers::in_reserved_scope(&page.title) {
            return PageKind::Implementation;
        }
        PageKind::Page
    }

    pub fn from_u64(value: u64) -> PageKind {
        match value {
            1 => PageKind::Print,
            2 => PageKind::Listing,
            3 => PageKind::Source,
            4 => PageKind::ReleaseNotes,
            5 => PageKind::Implementation,
            _ => PageKind::Page,
        }
    }
}

/// How many words `text` has, counting no further than `limit`: the
/// words of `split_whitespace`, those of an ASCII text found by their
/// bytes without decoding characters.
fn words_up_to(text: &str, limit: usize) -> usize {
    if !text.is_ascii() {
        return text.split_whitespace().take(limit).count();
    }
    text.as_bytes()
        .split(|&b| common::message::is_whitespace_byte(b))
        .filter(|word| !word.is_empty())
        .take(limit)
        .count()
}

/// Whether the page at `path` titled `title` shows a source file: rustdoc's
/// `/src/.../lib.rs.html`, Doxygen's `a20042_source.html`, "libstdc++:
/// shared_ptr.h Source File" (the file's name too: DocBook may title a
/// section "Compiling a Source File"). It names every function its file
/// defines, and the page that documents them is elsewhere.
fn is_source_view(path: &str, title: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or_default();
    (path.contains("/src/") && path.ends_with(".rs.html"))
        || (title.ends_with(" Source File") && file.ends_with("_source.html"))
}

/// Whether a page titled `title` is release notes: its title says "what's
/// new", "release notes", "changelog", or "release" and a version number
/// ("E.20. Release 15.1", "Release 2.0.1 (2024-01-02)"), in any case.
fn is_release_notes(title: &str) -> bool {
    let title = title.to_lowercase().replace('\u{2019}', "'");
    const SAYINGS: &[&str] = &[
        "what's new",
        "whats new",
        "release notes",
        "changelog",
        "change log",
    ];
    if SAYINGS.iter().any(|saying| title.contains(saying)) {
        return true;
    }
    title.match_indices("release").any(|(at, word)| {
        let before = title[..at].chars().next_back();
        let after = title[at + word.len()..].trim_start_matches([' ', 'v']);
        !before.is_some_and(char::is_alphanumeric)
            && title[at + word.len()..].starts_with(' ')
            && after.starts_with(|c: char| c.is_ascii_digit())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_counted_as_split_whitespace_counts_them() {
        let texts = [
            "",
            " ",
            "one",
            " two  words ",
            "a\tb\nc\x0bd\x0ce\rf",
            "non\u{a0}ascii été words",
        ];
        for text in texts {
            for limit in [0, 1, 2, 100] {
                assert_eq!(
                    words_up_to(text, limit),
                    text.split_whitespace().take(limit).count(),
                    "{text:?} up to {limit}"
                );
            }
        }
    }

    #[test]
    fn source_views_by_their_paths_or_titles() {
        for (path, title) in [
            ("http://d.test/src/alloc/vec/mod.rs.html", "mod.rs - source"),
            (
                "http://d.test/user/a20042_source.html",
                "libstdc++: shared_ptr.h Source File",
            ),
        ] {
            assert!(is_source_view(path, title), "{path}");
        }
        for (path, title) in [
            ("http://d.test/std/vec/struct.Vec.html", "Vec in std::vec - Rust"),
            (
                "http://d.test/user/a00230.html",
                "libstdc++: unordered_map File Reference",
            ),
            ("http://d.test/book/src/intro.html", "Reading the source file"),
            (
                "http://d.test/manual/ch04s02.html",
                "4.2. Compiling a Source File",
            ),
        ] {
            assert!(!is_source_view(path, title), "{path}");
        }
    }

    #[test]
    fn release_notes_by_their_titles() {
        for title in [
            "What\u{2019}s New In Python 3.9 \u{2014} Python 3.11.2 documentation",
            "E.20. Release 15.1",
            "Rust Release Notes",
            "Changelog",
            "Release v2.0.1 (2024-01-02)",
        ] {
            assert!(is_release_notes(title), "{title}");
        }
        for title in [
            "Releasing memory",
            "pg_release_backup 3",
            "Release a lock",
            "Semaphore.release",
            "Publishing a release of a crate",
            "Vec in std::vec",
        ] {
            assert!(!is_release_notes(title), "{title}");
        }
    }
}
