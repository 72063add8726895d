//! Page messages: what the crawler tells the indexing services.
//!
//! The wire format is one version byte followed by the event as a
//! MessagePack map with named fields (`rmp-serde`). Why this encoding:
//! - compact: binary, no quoting of the page text, which dominates a message
//!   (tens of KB); field names cost about 150 bytes a message;
//! - evolvable: named fields let a newer writer add optional fields that an
//!   older reader ignores, and the version byte marks a break;
//! - strict where it matters: URLs are re-validated while decoding, so a
//!   malformed message is rejected with a reason instead of indexed.

use serde::{Deserialize, Serialize};

use crate::model::DocId;
use crate::normalize::NormalizedUrl;

/// The version byte that starts every encoded [`PageEvent`].
pub const FORMAT_VERSION: u8 = 1;

/// Upper bound of [`PageMessage::text`] in bytes: enough for the longest
/// documentation pages, small enough that one page never floods a queue.
pub const MAX_TEXT_BYTES: usize = 256 * 1024;

/// Upper bound of [`PageMessage::outlinks`].
pub const MAX_OUTLINKS: usize = 1000;

/// A crawled page, as extracted by the crawler.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageMessage {
    /// The URL that was fetched (after redirects).
    pub url: NormalizedUrl,
    /// `<link rel=canonical>` when the page names one on the same site,
    /// otherwise `url`. The document id derives from it.
    pub canonical_url: NormalizedUrl,
    pub fetched_at_ms: u64,
    pub status: u16,
    pub title: String,
    pub description: String,
    pub headings: Vec<String>,
    /// Visible main text, bounded by [`MAX_TEXT_BYTES`].
    pub text: String,
    pub outlinks: Vec<Outlink>,
    /// `<html lang>`, when the page declares one.
    #[serde(default)]
    pub language: Option<String>,
    /// 64-bit simhash of the main text.
    pub simhash: u64,
    /// xxh3 of the main text: equal for exact duplicates.
    pub content_hash: u64,
    /// The parts of `text` that start at an anchor, in order (none for a
    /// page without anchors).
    #[serde(default)]
    pub sections: Vec<Section>,
}

/// A part of a page's text that a URL fragment can land on: it starts at a
/// heading or a definition with an id (`url#anchor`) and runs to the next
/// section's start (or the end of the text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    /// The id the fragment names.
    pub anchor: String,
    /// The headings it sits under, outermost first, its own last.
    pub heading_path: Vec<String>,
    /// Where its text starts in the page's `text`, in bytes.
    pub start: u32,
}

impl Section {
    /// Its text within `text` (the page's), given the section that
    /// follows it, if any.
    pub fn text<'a>(&self, text: &'a str, next: Option<&Section>) -> &'a str {
        &text[self.range(text, next)]
    }

    /// Where [`Section::text`] lies in `text`: its offsets clamped to the
    /// text, empty when they do not fall on characters.
    pub fn range(&self, text: &str, next: Option<&Section>) -> std::ops::Range<usize> {
        section_range(text, self.start, next.map(|next| next.start))
    }
}

/// Where a section that starts at byte `start` of `text` lies, given where
/// the next one starts (see [`Section::range`]): for the other forms a
/// section is read in (the docstore's borrowed one).
pub fn section_range(text: &str, start: u32, next_start: Option<u32>) -> std::ops::Range<usize> {
    let start = (start as usize).min(text.len());
    let end = next_start.map_or(text.len(), |next| (next as usize).clamp(start, text.len()));
    if text.is_char_boundary(start) && text.is_char_boundary(end) {
        start..end
    } else {
        0..0
    }
}

impl PageMessage {
    pub fn doc_id(&self) -> DocId {
        DocId::of(&self.canonical_url)
    }

    /// Frees the page's content (title, description, headings, text,
    /// outlinks, sections). What stays are the small fields: the URLs (so
    /// the id), the fetch time, status, language and signatures.
    pub fn drop_content(&mut self) {
        self.title = String::new();
        self.description = String::new();
        self.headings = Vec::new();
        self.text = String::new();
        self.outlinks = Vec::new();
        self.sections = Vec::new();
    }
}

/// A link found on a page, with the text of its anchor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outlink {
    pub url: NormalizedUrl,
    pub anchor: String,
}

/// What travels on the page queue. Applying an event twice gives the same
/// index as applying it once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PageEvent {
    /// Insert the page, replacing any earlier version with the same id.
    Upsert(Box<PageMessage>),
    /// The page went away (404/410 on a revisit): remove it.
    Remove { doc_id: DocId, url: NormalizedUrl },
}

impl PageEvent {
    /// A page's [`PageMessage::drop_content`]; a removal is small already.
    pub fn drop_content(&mut self) {
        if let PageEvent::Upsert(page) = self {
            page.drop_content();
        }
    }

    pub fn doc_id(&self) -> DocId {
        match self {
            PageEvent::Upsert(page) => page.doc_id(),
            PageEvent::Remove { doc_id, .. } => *doc_id,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut bytes = vec![FORMAT_VERSION];
        // Serializing plain data structs to a Vec cannot fail.
        rmp_serde::encode::write_named(&mut bytes, self).expect("page event serializes");
        bytes
    }

    pub fn decode(bytes: &[u8]) -> Result<PageEvent, MessageError> {
        match bytes.split_first() {
            None => Err(MessageError::Empty),
            Some((&FORMAT_VERSION, body)) => {
                rmp_serde::from_slice(body).map_err(|e| MessageError::Malformed(e.to_string()))
            }
            Some((&version, _)) => Err(MessageError::UnknownVersion(version)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error("empty message")]
    Empty,
    #[error("unknown message format version {0}")]
    UnknownVersion(u8),
    #[error("malformed message: {0}")]
    Malformed(String),
}

impl MessageError {
    /// The error's name without its details: a metric label.
    pub fn kind(&self) -> &'static str {
        match self {
            MessageError::Empty => "empty",
            MessageError::UnknownVersion(_) => "unknown_version",
            MessageError::Malformed(_) => "malformed",
        }
    }
}

/// Whether an ASCII byte is whitespace as `char::is_whitespace` and so
/// `str::split_whitespace` see it: unlike `u8::is_ascii_whitespace`, the
/// vertical tab is. For reading the words of ASCII text by its bytes.
#[inline]
pub fn is_whitespace_byte(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// Cuts `text` to at most `max_bytes`, at a char boundary.
pub fn truncate_at_char_boundary(text: &mut String, max_bytes: usize) {
    if text.len() > max_bytes {
        let mut end = max_bytes;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_bytes_are_the_ascii_whitespace_chars() {
        for byte in 0..0x80u8 {
            assert_eq!(
                is_whitespace_byte(byte),
                char::from(byte).is_whitespace(),
                "{byte:#x}"
            );
        }
    }

    fn sample() -> PageMessage {
        let url = NormalizedUrl::parse("http://example.com/a").unwrap();
        PageMessage {
            url: url.clone(),
            canonical_url: url.clone(),
            fetched_at_ms: 1,
            status: 200,
            title: "A".into(),
            description: "d".into(),
            headings: vec!["h".into()],
            text: "body text".into(),
            outlinks: vec![Outlink {
                url,
                anchor: "self".into(),
            }],
            language: Some("en".into()),
            simhash: 42,
            content_hash: 7,
            sections: Vec::new(),
        }
    }

    #[test]
    fn round_trip() {
        let event = PageEvent::Upsert(Box::new(sample()));
        assert_eq!(PageEvent::decode(&event.encode()).unwrap(), event);
        let removal = PageEvent::Remove {
            doc_id: DocId(3),
            url: NormalizedUrl::parse("http://example.com/gone").unwrap(),
        };
        assert_eq!(PageEvent::decode(&removal.encode()).unwrap(), removal);
    }

    #[test]
    fn bad_messages_are_errors_not_panics() {
        assert_eq!(PageEvent::decode(&[]), Err(MessageError::Empty));
        assert_eq!(
            PageEvent::decode(&[9, 1, 2]),
            Err(MessageError::UnknownVersion(9))
        );
        assert!(matches!(
            PageEvent::decode(&[FORMAT_VERSION, 0xc1]),
            Err(MessageError::Malformed(_))
        ));
        // A URL that fails validation inside an otherwise well-formed message.
        let mut bytes = PageEvent::Upsert(Box::new(sample())).encode();
        let at = bytes.windows(4).position(|w| w == b"http").unwrap();
        bytes[at..at + 4].copy_from_slice(b"ftp:");
        assert!(matches!(
            PageEvent::decode(&bytes),
            Err(MessageError::Malformed(_))
        ));
    }

    #[test]
    fn truncation_respects_char_boundaries() {
        let mut text = "aé".repeat(10);
        truncate_at_char_boundary(&mut text, 4);
        assert_eq!(text, "aéa");
    }
}
