//! What kind of page a document is, from its URL and shape, decided once
//! at indexing time so that ranking can read it from a fast field.
//!
//! Three kinds of pages match far more queries than they answer: a whole
//! book on one page (mdBook's `print.html`), listing pages that are mostly
//! links (rustdoc's `all.html`, site maps, indexes of error codes) and
//! source-code views (rustdoc's `/src/` pages). Ranking lowers them
//! (query-api's `rank` module); they stay searchable.

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
}

impl PageKind {
    pub fn of(page: &PageMessage) -> PageKind {
        let path = page.canonical_url.as_str();
        let path = path.split(['?', '#']).next().unwrap_or_default();
        if path.ends_with("/print.html") {
            return PageKind::Print;
        }
        if path.contains("/src/") && path.ends_with(".rs.html") {
            return PageKind::Source;
        }
        let links = page.outlinks.len();
        let words = page.text.split_whitespace().count();
        if links >= LISTING_MIN_LINKS && words < links * LISTING_MAX_WORDS_PER_LINK {
            return PageKind::Listing;
        }
        PageKind::Page
    }

    pub fn from_u64(value: u64) -> PageKind {
        match value {
            1 => PageKind::Print,
            2 => PageKind::Listing,
            3 => PageKind::Source,
            _ => PageKind::Page,
        }
    }
}
