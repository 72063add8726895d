//! Sitemap parsing (sitemaps.org protocol): XML `<urlset>` and `<sitemapindex>`
//! documents, the same gzip-compressed, and plain-text sitemaps (one URL a line).
//!
//! Sitemap bodies come from servers we do not trust, so every cost is bounded by
//! the protocol's own limits rather than by the input: at most
//! [`MAX_SITEMAP_BYTES`] decompressed bytes are looked at (a gzip bomb is cut off
//! there, never inflated further), at most [`MAX_SITEMAP_ENTRIES`] entries are
//! returned, and XML nesting deeper than a sitemap ever needs stops the parse,
//! because the XML reader keeps one stack slot per open element. Entity
//! references are never expanded beyond the five predefined ones and character
//! references, so DTD entity tricks ("billion laughs") cannot grow the output.
//! A sitemap cut short by any of these bounds, or one that breaks off midway,
//! still yields what was read before, with [`Sitemap::truncated`] set, since a
//! partial sitemap is still useful to a crawler.

use std::io::Read;

use flate2::read::MultiGzDecoder;
use quick_xml::Reader;
use quick_xml::events::{BytesRef, Event};

/// Decompressed bytes read from one sitemap at most (the protocol's own limit is 50 MB).
pub const MAX_SITEMAP_BYTES: usize = 50 * 1024 * 1024;
/// Entries read from one sitemap at most (the protocol's limit).
pub const MAX_SITEMAP_ENTRIES: usize = 50_000;

/// Deepest XML nesting read. A sitemap needs 3 levels (`urlset/url/loc`) and its
/// extensions (images, video, news) a few more; anything deeper is not a sitemap,
/// and stopping there keeps the XML reader's stack of open elements small.
const MAX_XML_DEPTH: usize = 64;

/// The first two bytes of every gzip stream (RFC 1952).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Depth of `<loc>` in `<urlset><url><loc>` and `<sitemapindex><sitemap><loc>`.
const LOC_DEPTH: usize = 3;
/// Depth of `<url>` / `<sitemap>`.
const ENTRY_DEPTH: usize = 2;

/// The URLs one sitemap lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sitemap {
    /// `<url><loc>` entries of a urlset, or lines of a text sitemap, trimmed, in document order, as written (the caller resolves, normalizes and filters them).
    pub pages: Vec<String>,
    /// `<sitemap><loc>` entries of a sitemap index.
    pub sitemaps: Vec<String>,
    /// True when a bound (bytes or entries) cut the sitemap short.
    pub truncated: bool,
}

impl Sitemap {
    fn entry_count(&self) -> usize {
        self.pages.len() + self.sitemaps.len()
    }
}

/// Why a body yielded no sitemap at all.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SitemapError {
    #[error("not a sitemap: {0}")]
    NotASitemap(String),
    #[error("corrupt gzip: {0}")]
    Gzip(String),
}

/// Parses a sitemap body as fetched (possibly gzip-compressed: detect the gzip magic bytes 1f 8b, regardless of file name or headers). Decompression is bounded by MAX_SITEMAP_BYTES (a gzip bomb stops there and sets `truncated`, never allocates more). XML that breaks off midway keeps what was read before the error (set `truncated`) rather than failing, if anything was read; XML with no urlset/sitemapindex root is NotASitemap. A body that is not XML (does not start, after whitespace/BOM, with `<`) is read as a text sitemap: one absolute http(s) URL per line, other lines ignored; if no line is a URL it is NotASitemap.
pub fn parse_sitemap(body: &[u8]) -> Result<Sitemap, SitemapError> {
    if body.starts_with(&GZIP_MAGIC) {
        let inflated = gunzip_bounded(body, MAX_SITEMAP_BYTES)?;
        // A stream that breaks off (e.g. a download cut short) still inflates to a
        // usable prefix; only report the gzip error if that prefix is useless.
        match (parse_uncompressed(&inflated.bytes, inflated.cut), inflated.error) {
            (Err(_), Some(gzip_error)) => Err(SitemapError::Gzip(gzip_error)),
            (result, _) => result,
        }
    } else {
        let kept = body.len().min(MAX_SITEMAP_BYTES);
        parse_uncompressed(&body[..kept], body.len() > kept)
    }
}

/// Output of [`gunzip_bounded`].
struct Inflated {
    /// At most the limit's worth of decompressed bytes.
    bytes: Vec<u8>,
    /// The stream had more to give than `bytes` (limit reached, or a decoding error).
    cut: bool,
    /// The decoding error that ended the stream early, if any.
    error: Option<String>,
}

/// Decompresses a gzip body (several concatenated members are one stream, as
/// `gunzip` reads them), stopping after `limit` bytes so that a gzip bomb costs
/// no more memory than a legitimate sitemap.
fn gunzip_bounded(body: &[u8], limit: usize) -> Result<Inflated, SitemapError> {
    // One byte past the limit tells "exactly at the limit" apart from "cut".
    let read_limit = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    let mut decoder = MultiGzDecoder::new(body).take(read_limit);
    let mut bytes = Vec::new();
    // On error `read_to_end` keeps the bytes it already read.
    let error = match decoder.read_to_end(&mut bytes) {
        Ok(_) => None,
        Err(e) if bytes.is_empty() => return Err(SitemapError::Gzip(e.to_string())),
        Err(e) => Some(e.to_string()),
    };
    let over_limit = bytes.len() > limit;
    bytes.truncate(limit);
    Ok(Inflated {
        bytes,
        cut: over_limit || error.is_some(),
        error,
    })
}

/// Parses an uncompressed body; `cut` says whether it is only a prefix of the sitemap.
fn parse_uncompressed(body: &[u8], cut: bool) -> Result<Sitemap, SitemapError> {
    let body = body.strip_prefix(UTF8_BOM).unwrap_or(body);
    match body.iter().find(|byte| !byte.is_ascii_whitespace()) {
        None if cut => Err(SitemapError::NotASitemap(
            "only whitespace before the size limit".into(),
        )),
        None => Err(SitemapError::NotASitemap("empty body".into())),
        Some(b'<') => parse_xml(body, cut),
        Some(_) => parse_text(body, cut),
    }
}

/// Which kind of sitemap the root element says this is.
#[derive(Clone, Copy)]
enum Root {
    UrlSet,
    SitemapIndex,
}

impl Root {
    fn from_element_name(local_name: &str) -> Option<Root> {
        match local_name {
            "urlset" => Some(Root::UrlSet),
            "sitemapindex" => Some(Root::SitemapIndex),
            _ => None,
        }
    }

    /// Local name of the element holding one entry under this root.
    fn entry_name(self) -> &'static str {
        match self {
            Root::UrlSet => "url",
            Root::SitemapIndex => "sitemap",
        }
    }
}

/// How reading the XML ended, when it did not end with the root's end tag.
enum Stop {
    /// The entry bound was reached.
    EntryLimit,
    /// The document broke off or went wrong; the reason says how.
    BrokeOff(String),
}

fn parse_xml(xml: &[u8], cut: bool) -> Result<Sitemap, SitemapError> {
    let mut reader = Reader::from_reader(xml);
    // Real sitemaps often carry raw `&` in query strings; keep such URLs as written.
    reader.config_mut().allow_dangling_amp = true;

    let mut sitemap = Sitemap {
        truncated: cut,
        ..Sitemap::default()
    };
    let mut root: Option<Root> = None;
    // Number of currently open elements.
    let mut depth = 0usize;
    // Whether the open depth-2 element is an entry (`<url>` / `<sitemap>`).
    let mut in_entry = false;
    // Text of the open `<loc>` of an entry, while there is one.
    let mut loc: Option<String> = None;

    let stop = loop {
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(e) => break Some(Stop::BrokeOff(format!("malformed XML: {e}"))),
        };
        match event {
            Event::Start(element) => {
                depth += 1;
                if depth > MAX_XML_DEPTH {
                    break Some(Stop::BrokeOff(format!(
                        "elements nested deeper than {MAX_XML_DEPTH}"
                    )));
                }
                let name = element.local_name();
                match (depth, root) {
                    (1, _) => root = Some(expect_root(name.as_ref())?),
                    (ENTRY_DEPTH, Some(root)) => in_entry = name.as_ref() == root.entry_name(),
                    (LOC_DEPTH, _) if in_entry && name.as_ref() == "loc" => {
                        loc = Some(String::new());
                    }
                    _ => {}
                }
            }
            // Other self-closing elements hold no text: an empty `<loc/>` is skipped.
            Event::Empty(element) if depth == 0 => {
                expect_root(element.local_name().as_ref())?;
                break None;
            }
            Event::Text(text) if depth == LOC_DEPTH => {
                if let Some(loc) = &mut loc {
                    loc.push_str(&text.xml10_content());
                }
            }
            Event::CData(cdata) if depth == LOC_DEPTH => {
                if let Some(loc) = &mut loc {
                    loc.push_str(&cdata.xml10_content());
                }
            }
            Event::GeneralRef(reference) if depth == LOC_DEPTH => {
                if let Some(loc) = &mut loc {
                    push_reference(loc, &reference);
                }
            }
            Event::End(_) => {
                if depth == LOC_DEPTH
                    && let (Some(text), Some(root)) = (loc.take(), root)
                    && !add_entry(&mut sitemap, root, text.trim())
                {
                    break Some(Stop::EntryLimit);
                }
                if depth == ENTRY_DEPTH {
                    in_entry = false;
                }
                // The reader rejects an end tag without a start, so depth is at least 1.
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    // The root is closed: whatever follows is not part of the sitemap.
                    break None;
                }
            }
            Event::Eof if root.is_none() => {
                return Err(SitemapError::NotASitemap("no root element".into()));
            }
            Event::Eof => break Some(Stop::BrokeOff("XML ends inside the root element".into())),
            // Declarations, comments, processing instructions, DOCTYPE (never
            // expanded), and text outside `<loc>` carry nothing we need.
            _ => {}
        }
    };

    match stop {
        None => Ok(sitemap),
        Some(Stop::EntryLimit) => {
            sitemap.truncated = true;
            Ok(sitemap)
        }
        Some(Stop::BrokeOff(_)) if sitemap.entry_count() > 0 => {
            sitemap.truncated = true;
            Ok(sitemap)
        }
        Some(Stop::BrokeOff(reason)) => Err(SitemapError::NotASitemap(reason)),
    }
}

fn expect_root(local_name: &str) -> Result<Root, SitemapError> {
    Root::from_element_name(local_name).ok_or_else(|| {
        SitemapError::NotASitemap(format!(
            "root element is <{}>, not <urlset> or <sitemapindex>",
            local_name.chars().take(64).collect::<String>()
        ))
    })
}

/// Appends the text an entity or character reference stands for. Only the five
/// predefined entities and character references are resolved: anything a DTD
/// defines is kept as written, so it can never expand.
fn push_reference(loc: &mut String, reference: &BytesRef<'_>) {
    let name: &str = reference;
    if let Ok(Some(character)) = reference.resolve_char_ref() {
        loc.push(character);
    } else if let Some(text) = quick_xml::escape::resolve_predefined_entity(name) {
        loc.push_str(text);
    } else {
        loc.push('&');
        loc.push_str(name);
        loc.push(';');
    }
}

/// Adds one `<loc>` to the sitemap. Returns false, adding nothing, when the
/// sitemap already holds the most entries allowed.
fn add_entry(sitemap: &mut Sitemap, root: Root, loc: &str) -> bool {
    if loc.is_empty() {
        return true;
    }
    if sitemap.entry_count() >= MAX_SITEMAP_ENTRIES {
        return false;
    }
    let entries = match root {
        Root::UrlSet => &mut sitemap.pages,
        Root::SitemapIndex => &mut sitemap.sitemaps,
    };
    entries.push(loc.to_owned());
    true
}

fn parse_text(text: &[u8], cut: bool) -> Result<Sitemap, SitemapError> {
    // The last line of a body cut short may be a URL cut short: drop it.
    let complete_lines = if cut {
        let end = text.iter().rposition(|&byte| byte == b'\n').unwrap_or(0);
        &text[..end]
    } else {
        text
    };
    let mut sitemap = Sitemap {
        truncated: cut,
        ..Sitemap::default()
    };
    for line in complete_lines.split(|&byte| byte == b'\n') {
        // The protocol requires UTF-8; a line that is not cannot be a URL we can use.
        let Ok(line) = std::str::from_utf8(line) else {
            continue;
        };
        let line = line.trim();
        if !is_absolute_http_url(line) {
            continue;
        }
        if sitemap.pages.len() >= MAX_SITEMAP_ENTRIES {
            sitemap.truncated = true;
            break;
        }
        sitemap.pages.push(line.to_owned());
    }
    if sitemap.pages.is_empty() {
        return Err(SitemapError::NotASitemap(
            "neither XML nor a list of http(s) URLs".into(),
        ));
    }
    Ok(sitemap)
}

/// A deliberately shallow check, enough to tell URL lines from prose or markup:
/// the caller parses and filters the URL properly.
fn is_absolute_http_url(line: &str) -> bool {
    let after_scheme = ["http://", "https://"].iter().find_map(|scheme| {
        let head = line.get(..scheme.len())?;
        head.eq_ignore_ascii_case(scheme).then(|| &line[scheme.len()..])
    });
    match after_scheme {
        Some(rest) => {
            !rest.is_empty()
                && !rest.starts_with('/')
                && !line.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use proptest::prelude::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(data).expect("write to Vec");
        encoder.finish().expect("finish gzip")
    }

    /// Gzips `head`, then `chunk` repeated until `total_len` bytes, streaming so
    /// that only the compressed output is held in memory.
    fn gzip_repeated(head: &[u8], chunk: &[u8], total_len: usize) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
        encoder.write_all(head).expect("write to Vec");
        let mut written = head.len();
        while written < total_len {
            encoder.write_all(chunk).expect("write to Vec");
            written += chunk.len();
        }
        encoder.finish().expect("finish gzip")
    }

    fn urlset(count: usize) -> String {
        let mut xml = String::from(r#"<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">"#);
        for i in 0..count {
            xml.push_str(&format!("<url><loc>https://example.com/{i}</loc></url>\n"));
        }
        xml.push_str("</urlset>");
        xml
    }

    fn not_a_sitemap(body: &[u8]) -> bool {
        matches!(parse_sitemap(body), Err(SitemapError::NotASitemap(_)))
    }

    #[test]
    fn urlset_with_namespace_prefixes_and_entities() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<!-- generated -->
<sm:urlset xmlns:sm="http://www.sitemaps.org/schemas/sitemap/0.9"
           xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
  <sm:url>
    <sm:loc>
      https://example.com/?a=1&amp;b=2&#x26;c=&#51;
    </sm:loc>
    <sm:lastmod>2024-01-01</sm:lastmod>
    <image:image><image:loc>https://example.com/photo.jpg</image:loc></image:image>
  </sm:url>
  <url><loc><![CDATA[https://example.com/cdata?x=<1>&y]]></loc></url>
  <url><loc>https://example.com/raw?a=1&b=2</loc></url>
  <url><loc>   </loc></url>
  <url><loc/></url>
  <url><changefreq>daily</changefreq></url>
  <url><loc>https://example.com/last</loc></url>
</sm:urlset>"#;
        let sitemap = parse_sitemap(xml.as_bytes()).expect("valid urlset");
        assert_eq!(
            sitemap,
            Sitemap {
                pages: vec![
                    "https://example.com/?a=1&b=2&c=3".to_owned(),
                    "https://example.com/cdata?x=<1>&y".to_owned(),
                    "https://example.com/raw?a=1&b=2".to_owned(),
                    "https://example.com/last".to_owned(),
                ],
                sitemaps: vec![],
                truncated: false,
            }
        );
    }

    #[test]
    fn element_names_are_case_sensitive() {
        assert!(not_a_sitemap(
            b"<URLSET><url><loc>https://a.example/</loc></url></URLSET>"
        ));
        let sitemap = parse_sitemap(b"<urlset><URL><loc>https://a.example/</loc></URL></urlset>").unwrap();
        assert!(sitemap.pages.is_empty());
    }

    #[test]
    fn sitemap_index() {
        let xml = "\u{FEFF}  <?xml version=\"1.0\"?>
<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">
  <sitemap><loc>https://example.com/sitemap1.xml.gz</loc><lastmod>2024-01-01</lastmod></sitemap>
  <sitemap><loc>https://example.com/sitemap2.xml</loc></sitemap>
</sitemapindex>";
        let sitemap = parse_sitemap(xml.as_bytes()).expect("valid index");
        assert_eq!(
            sitemap,
            Sitemap {
                pages: vec![],
                sitemaps: vec![
                    "https://example.com/sitemap1.xml.gz".to_owned(),
                    "https://example.com/sitemap2.xml".to_owned(),
                ],
                truncated: false,
            }
        );
    }

    #[test]
    fn empty_urlset_is_an_empty_sitemap() {
        assert_eq!(parse_sitemap(b"<urlset/>"), Ok(Sitemap::default()));
        assert_eq!(parse_sitemap(b"<urlset></urlset>"), Ok(Sitemap::default()));
    }

    #[test]
    fn gzip_compressed_urlset() {
        let body = gzip(urlset(3).as_bytes());
        let sitemap = parse_sitemap(&body).expect("valid gzip urlset");
        assert_eq!(
            sitemap.pages,
            vec![
                "https://example.com/0",
                "https://example.com/1",
                "https://example.com/2"
            ]
        );
        assert!(!sitemap.truncated);
    }

    #[test]
    fn gzip_bomb_stops_at_byte_bound() {
        // 200 MB of whitespace after one entry compresses to a few hundred KB.
        let head = b"<urlset><url><loc>https://example.com/a</loc></url>";
        let body = gzip_repeated(head, &[b' '; 64 * 1024], 200 * 1024 * 1024);
        assert!(body.len() < 1024 * 1024, "bomb is {} bytes", body.len());
        let sitemap = parse_sitemap(&body).expect("entries before the bound are kept");
        assert_eq!(sitemap.pages, vec!["https://example.com/a"]);
        assert!(sitemap.truncated);
    }

    #[test]
    fn gzip_bomb_of_zeros_is_not_a_sitemap() {
        let body = gzip_repeated(b"", &[0; 64 * 1024], 200 * 1024 * 1024);
        assert!(not_a_sitemap(&body));
    }

    #[test]
    fn gunzip_never_inflates_past_the_limit() {
        let body = gzip_repeated(b"", &[0; 64 * 1024], 10 * 1024 * 1024);
        let inflated = gunzip_bounded(&body, 1000).expect("valid gzip");
        assert_eq!(inflated.bytes.len(), 1000);
        assert!(inflated.cut);
        assert_eq!(inflated.error, None);

        let exact = gunzip_bounded(&gzip(&[7; 1000]), 1000).expect("valid gzip");
        assert_eq!(exact.bytes.len(), 1000);
        assert!(!exact.cut);
    }

    #[test]
    fn gzip_bomb_of_entries_stops_at_entry_bound() {
        let entry = b"<url><loc>https://example.com/same</loc></url>\n";
        let body = gzip_repeated(b"<urlset>", &entry.repeat(1000), 200 * 1024 * 1024);
        let sitemap = parse_sitemap(&body).expect("valid prefix");
        assert_eq!(sitemap.pages.len(), MAX_SITEMAP_ENTRIES);
        assert!(sitemap.truncated);
    }

    #[test]
    fn plain_body_over_byte_bound_is_truncated() {
        let mut body = b"<urlset><url><loc>https://example.com/a</loc></url>".to_vec();
        body.resize(MAX_SITEMAP_BYTES + 10, b' ');
        body.extend_from_slice(b"<url><loc>https://example.com/b</loc></url></urlset>");
        let sitemap = parse_sitemap(&body).expect("entries before the bound are kept");
        assert_eq!(sitemap.pages, vec!["https://example.com/a"]);
        assert!(sitemap.truncated);
    }

    #[test]
    fn more_than_max_entries_is_truncated() {
        let sitemap = parse_sitemap(urlset(MAX_SITEMAP_ENTRIES + 1).as_bytes()).unwrap();
        assert_eq!(sitemap.pages.len(), MAX_SITEMAP_ENTRIES);
        assert_eq!(sitemap.pages.last().unwrap(), "https://example.com/49999");
        assert!(sitemap.truncated);

        let text: String = (0..MAX_SITEMAP_ENTRIES + 1)
            .map(|i| format!("https://example.com/{i}\n"))
            .collect();
        let sitemap = parse_sitemap(text.as_bytes()).unwrap();
        assert_eq!(sitemap.pages.len(), MAX_SITEMAP_ENTRIES);
        assert!(sitemap.truncated);
    }

    #[test]
    fn exactly_max_entries_is_not_truncated() {
        let sitemap = parse_sitemap(urlset(MAX_SITEMAP_ENTRIES).as_bytes()).unwrap();
        assert_eq!(sitemap.pages.len(), MAX_SITEMAP_ENTRIES);
        assert!(!sitemap.truncated);
    }

    #[test]
    fn text_sitemap() {
        let text = b"\xEF\xBB\xBFhttps://example.com/a\r\n\
                    # a comment\n\
                    \n\
                    HTTP://Example.com/b?x=1&y=2  \n\
                    ftp://example.com/c\n\
                    /relative/path\n\
                    http:///no-host\n\
                    see https://example.com/d for details\n\
                    \x80\x81 not utf-8\n\
                    https://example.com/e";
        let sitemap = parse_sitemap(text).expect("has URL lines");
        assert_eq!(
            sitemap,
            Sitemap {
                pages: vec![
                    "https://example.com/a".to_owned(),
                    "HTTP://Example.com/b?x=1&y=2".to_owned(),
                    "https://example.com/e".to_owned(),
                ],
                sitemaps: vec![],
                truncated: false,
            }
        );
    }

    #[test]
    fn text_sitemap_cut_by_byte_bound_drops_partial_last_line() {
        let sitemap = parse_text(b"https://example.com/a\nhttps://example.com/b", true).unwrap();
        assert_eq!(sitemap.pages, vec!["https://example.com/a"]);
        assert!(sitemap.truncated);
    }

    #[test]
    fn truncated_xml_keeps_entries_read() {
        let xml = urlset(3);
        let cut = &xml[..xml.find("/2</loc>").unwrap()];
        let sitemap = parse_sitemap(cut.as_bytes()).expect("two entries were read");
        assert_eq!(
            sitemap.pages,
            vec!["https://example.com/0", "https://example.com/1"]
        );
        assert!(sitemap.truncated);

        // Cut inside a tag rather than inside text.
        let cut = &xml[..xml.find("/2</loc>").unwrap() + 4];
        let sitemap = parse_sitemap(cut.as_bytes()).expect("entries were read");
        assert_eq!(sitemap.pages.len(), 2);
        assert!(sitemap.truncated);

        // Broken, not merely cut: a mismatched end tag.
        let broken = "<urlset><url><loc>https://example.com/0</loc></url><url></urlset>";
        let sitemap = parse_sitemap(broken.as_bytes()).expect("one entry was read");
        assert_eq!(sitemap.pages, vec!["https://example.com/0"]);
        assert!(sitemap.truncated);
    }

    #[test]
    fn broken_xml_with_nothing_read_is_not_a_sitemap() {
        assert!(not_a_sitemap(b"<urlset><url><loc>https://example.com/0"));
        assert!(not_a_sitemap(b"<urlset><url></loc>"));
    }

    #[test]
    fn garbage_empty_and_html_are_not_sitemaps() {
        assert!(not_a_sitemap(b""));
        assert!(not_a_sitemap(b" \r\n\t "));
        assert!(not_a_sitemap(b"\xEF\xBB\xBF"));
        assert!(not_a_sitemap(b"\x00\x01\x02\xff\xfe garbage"));
        assert!(not_a_sitemap(b"just some words\nand more"));
        assert!(not_a_sitemap(b"<"));
        assert!(not_a_sitemap(b"<?xml version=\"1.0\"?><!-- nothing -->"));
        assert!(not_a_sitemap(
            b"<!DOCTYPE html>\n<html><head><title>Not found</title></head>\
              <body><a href=\"https://example.com/\">home</a></body></html>"
        ));
        assert!(not_a_sitemap(
            b"<rss version=\"2.0\"><channel><link>https://example.com/</link></channel></rss>"
        ));
    }

    #[test]
    fn corrupt_gzip_is_gzip_error() {
        assert!(matches!(
            parse_sitemap(b"\x1f\x8bthis is not deflate data"),
            Err(SitemapError::Gzip(_))
        ));
        assert!(matches!(parse_sitemap(b"\x1f\x8b"), Err(SitemapError::Gzip(_))));
        // A stream that breaks off before anything usable came out.
        let body = gzip(urlset(100).as_bytes());
        assert!(matches!(parse_sitemap(&body[..12]), Err(SitemapError::Gzip(_))));
    }

    #[test]
    fn gzip_stream_cut_short_keeps_entries_read() {
        let body = gzip(urlset(5000).as_bytes());
        let sitemap = parse_sitemap(&body[..body.len() / 2]).expect("a prefix was inflated");
        assert!(!sitemap.pages.is_empty());
        assert!(sitemap.pages.len() < 5000);
        assert_eq!(sitemap.pages[0], "https://example.com/0");
        assert!(sitemap.truncated);
    }

    #[test]
    fn deep_nesting_stops_at_depth_bound() {
        let mut xml = String::from("<urlset><url><loc>https://example.com/a</loc></url>");
        xml.push_str(&"<a>".repeat(1_000_000));
        let sitemap = parse_sitemap(xml.as_bytes()).expect("the entry was read");
        assert_eq!(sitemap.pages, vec!["https://example.com/a"]);
        assert!(sitemap.truncated);

        assert!(not_a_sitemap("<urlset>".repeat(100).as_bytes()));
    }

    #[test]
    fn dtd_entities_are_never_expanded() {
        let xml = r#"<?xml version="1.0"?>
<!DOCTYPE urlset [
  <!ENTITY a "https://example.com/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
  <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
  <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
]>
<urlset><url><loc>&c;</loc></url><url><loc>https://example.com/x&a;</loc></url></urlset>"#;
        let sitemap = parse_sitemap(xml.as_bytes()).expect("valid urlset");
        assert_eq!(sitemap.pages, vec!["&c;", "https://example.com/x&a;"]);
    }

    #[test]
    fn text_outside_loc_is_ignored() {
        let xml =
            "<urlset><url>https://example.com/stray<loc>https://example.com/a<b>x</b></loc></url></urlset>";
        let sitemap = parse_sitemap(xml.as_bytes()).unwrap();
        assert_eq!(sitemap.pages, vec!["https://example.com/a"]);
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(body in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = parse_sitemap(&body);
        }

        #[test]
        fn never_panics_on_arbitrary_gzip(body in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = parse_sitemap(&gzip(&body));
            let mut corrupt = GZIP_MAGIC.to_vec();
            corrupt.extend_from_slice(&body);
            let _ = parse_sitemap(&corrupt);
        }

        #[test]
        fn never_panics_on_sitemap_like_text(
            body in r#"(<urlset>|<sitemapindex>|<url>|<sitemap>|<loc>|</loc>|</url>|<!\[CDATA\[|\]\]>|&amp;|&#[0-9x]{0,8};|&[a-z]{0,3};?|<!--|-->|<!DOCTYPE|<\?xml|https?://[a-z./]{0,10}|[\x00-\x7f]|\u{FEFF}|\u{e9}|\r?\n| ){0,64}"#
        ) {
            let _ = parse_sitemap(body.as_bytes());
        }
    }
}
