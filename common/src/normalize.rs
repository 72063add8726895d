//! URL normalization: every URL that enters trawl (a seed, a link on a page,
//! a redirect target, a sitemap entry) becomes a [`NormalizedUrl`] here, so
//! that two spellings of one resource are one URL everywhere downstream:
//! in the seen-filter, the frontier, the document id.
//!
//! Rules, in the order they apply (RFC 3986 section 6 plus the WHATWG URL
//! parser that the `url` crate implements):
//! - only `http` and `https`; a host is required;
//! - scheme and host lower-cased, IDNA host names to ASCII (punycode), a
//!   trailing dot on the host removed, default ports dropped, dot segments
//!   resolved (all by the `url` crate's parser);
//! - credentials and the fragment dropped;
//! - percent-encoding normalized: escapes of unreserved characters decoded,
//!   the others upper-cased (`%7e` -> `~`, `%2f` -> `%2F`);
//! - tracking parameters (`utm_*`, `fbclid`, `gclid`, ...) removed, empty
//!   query parameters and an empty query dropped. The order of the remaining
//!   parameters is kept: sites may give it meaning.

use std::fmt;

use serde::{Deserialize, Serialize};
use url::Url;

/// Query parameters that only track the visitor and never change the page.
const TRACKING_PARAMS: &[&str] = &[
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "mc_cid", "mc_eid", "igshid",
    "_hsenc", "_hsmi", "_ga", "_gl", "mkt_tok",
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("invalid URL: {0}")]
    Invalid(#[from] url::ParseError),
    #[error("unsupported scheme {0:?}: only http and https are crawled")]
    UnsupportedScheme(String),
    #[error("URL has no host")]
    NoHost,
}

/// A URL in trawl's canonical form. The only way to build one is through
/// the normalization rules of this module.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NormalizedUrl(Url);

impl NormalizedUrl {
    /// Parses and normalizes an absolute URL.
    pub fn parse(input: &str) -> Result<NormalizedUrl, UrlError> {
        normalize(Url::parse(input.trim())?)
    }

    /// Resolves `href` (as found in a page, possibly relative) against
    /// `base` and normalizes the result.
    pub fn join(base: &Url, href: &str) -> Result<NormalizedUrl, UrlError> {
        normalize(base.join(href.trim())?)
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub fn as_url(&self) -> &Url {
        &self.0
    }

    /// Whether this URL starts with `prefix` (both normalized), the test of
    /// `--include`.
    pub fn starts_with(&self, prefix: &NormalizedUrl) -> bool {
        self.as_str().starts_with(prefix.as_str())
    }
}

impl fmt::Display for NormalizedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

impl TryFrom<String> for NormalizedUrl {
    type Error = UrlError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        NormalizedUrl::parse(&value)
    }
}

impl From<NormalizedUrl> for String {
    fn from(value: NormalizedUrl) -> String {
        value.0.into()
    }
}

fn normalize(mut url: Url) -> Result<NormalizedUrl, UrlError> {
    match url.scheme() {
        "http" | "https" => {}
        other => return Err(UrlError::UnsupportedScheme(other.to_string())),
    }
    let host = url.host_str().ok_or(UrlError::NoHost)?;
    if host.is_empty() {
        return Err(UrlError::NoHost);
    }
    if host.len() > 1 && host.ends_with('.') {
        let trimmed = host.trim_end_matches('.').to_string();
        url.set_host(Some(&trimmed))?;
    }
    url.set_fragment(None);
    // Setting credentials fails only for URLs that cannot have them, which
    // http(s) URLs with a host always can.
    let _ = url.set_username("");
    let _ = url.set_password(None);

    let path = normalize_percent_encoding(url.path());
    if path != url.path() {
        url.set_path(&path);
    }
    let query = url.query().map(clean_query);
    match query {
        Some(query) if !query.is_empty() => url.set_query(Some(&query)),
        _ => url.set_query(None),
    }
    Ok(NormalizedUrl(url))
}

/// Removes tracking and empty parameters and normalizes percent-escapes.
fn clean_query(query: &str) -> String {
    let mut kept = Vec::new();
    for param in query.split('&') {
        if param.is_empty() {
            continue;
        }
        let key = param.split('=').next().unwrap_or_default().to_ascii_lowercase();
        if key.starts_with("utm_") || TRACKING_PARAMS.contains(&key.as_str()) {
            continue;
        }
        kept.push(normalize_percent_encoding(param));
    }
    kept.join("&")
}

/// Decodes escapes of unreserved characters and upper-cases the rest
/// (RFC 3986 6.2.2.1 and 6.2.2.2). A `%` that starts no valid escape is
/// left alone.
fn normalize_percent_encoding(input: &str) -> String {
    if !input.contains('%') {
        return input.to_string();
    }
    let bytes = input.as_bytes();
    let mut out = String::with_capacity(input.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let (hi, lo) = (bytes[i + 1], bytes[i + 2]);
            if let (Some(h), Some(l)) = (hex_value(hi), hex_value(lo)) {
                let decoded = h * 16 + l;
                if is_unreserved(decoded) {
                    out.push(decoded as char);
                } else {
                    out.push('%');
                    out.push(hi.to_ascii_uppercase() as char);
                    out.push(lo.to_ascii_uppercase() as char);
                }
                i += 3;
                continue;
            }
        }
        // Multi-byte UTF-8 sequences are copied whole: `input` is a `str`
        // and we only ever split it at ASCII bytes.
        let ch = input[i..].chars().next().expect("index is on a char boundary");
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

fn hex_value(byte: u8) -> Option<u8> {
    (byte as char).to_digit(16).map(|d| d as u8)
}

fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(input: &str) -> String {
        NormalizedUrl::parse(input).unwrap().to_string()
    }

    #[test]
    fn case_ports_and_dot_segments() {
        assert_eq!(norm("HTTP://Example.COM:80/a/./b/../c"), "http://example.com/a/c");
        assert_eq!(norm("https://example.com:443"), "https://example.com/");
        assert_eq!(norm("http://example.com:8080/"), "http://example.com:8080/");
        assert_eq!(norm("http://example.com./x"), "http://example.com/x");
    }

    #[test]
    fn idna_host_becomes_punycode() {
        assert_eq!(norm("http://Bücher.example/"), "http://xn--bcher-kva.example/");
    }

    #[test]
    fn fragment_credentials_and_empty_query_dropped() {
        assert_eq!(norm("http://u:p@example.com/a?#top"), "http://example.com/a");
        assert_eq!(norm("http://example.com/a?&&"), "http://example.com/a");
    }

    #[test]
    fn percent_encoding_normalized() {
        assert_eq!(
            norm("http://example.com/%7euser/%2fx"),
            "http://example.com/~user/%2Fx"
        );
        assert_eq!(
            norm("http://example.com/a?q=%41%3d"),
            "http://example.com/a?q=A%3D"
        );
        assert_eq!(norm("http://example.com/100%"), "http://example.com/100%");
    }

    #[test]
    fn tracking_parameters_removed_order_kept() {
        assert_eq!(
            norm("http://example.com/p?b=2&utm_source=x&a=1&fbclid=y&UTM_Medium=z"),
            "http://example.com/p?b=2&a=1"
        );
        assert_eq!(norm("http://example.com/p?gclid=1"), "http://example.com/p");
    }

    #[test]
    fn relative_links_resolve_against_base() {
        let base = Url::parse("http://example.com/docs/guide/page.html").unwrap();
        let join = |href| NormalizedUrl::join(&base, href).unwrap().to_string();
        assert_eq!(join("../api/x.html"), "http://example.com/docs/api/x.html");
        assert_eq!(join("/root"), "http://example.com/root");
        assert_eq!(join("other.html#sec"), "http://example.com/docs/guide/other.html");
        assert_eq!(join("//cdn.example.com/a"), "http://cdn.example.com/a");
    }

    #[test]
    fn non_http_schemes_and_garbage_rejected() {
        assert!(matches!(
            NormalizedUrl::parse("mailto:a@example.com"),
            Err(UrlError::UnsupportedScheme(_))
        ));
        assert!(NormalizedUrl::parse("javascript:void(0)").is_err());
        assert!(NormalizedUrl::parse("http://").is_err());
        assert!(NormalizedUrl::parse("not a url").is_err());
    }

    #[test]
    fn normalization_is_idempotent() {
        for input in [
            "HTTP://Example.COM:80/a/./b/../c?utm_x=1&b=%7e",
            "http://example.com/%2e%2e/x",
            "https://Bücher.example/ä?x=%e4",
        ] {
            let once = norm(input);
            assert_eq!(norm(&once), once, "{input}");
        }
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        /// Strings that look like URLs more often than random text does.
        fn url_like() -> impl Strategy<Value = String> {
            fn one_of(options: &'static [&'static str]) -> impl Strategy<Value = String> {
                proptest::sample::select(options).prop_map(str::to_string)
            }
            let scheme = one_of(&["http://", "https://", "HTTP://", "ftp://", ""]);
            let host = one_of(&[
                "example.com",
                "EXAMPLE.com.",
                "Bücher.example",
                "127.0.0.1",
                "[::1]",
                "a..b",
                "",
            ]);
            let port = one_of(&["", ":80", ":443", ":8080", ":99999", ":"]);
            let path = "(/[a-zA-Z0-9%._~!$&'()*+,;=:@ äé-]{0,8}){0,5}";
            let query = one_of(&[
                "",
                "?",
                "?a=1&utm_source=x",
                "?%7e=%2f&&b",
                "?fbclid=1",
                "?q=%zz%41",
            ]);
            let fragment = one_of(&["", "#", "#frag"]);
            (scheme, host, port, path, query, fragment)
                .prop_map(|(s, h, p, path, q, f)| format!("{s}{h}{p}{path}{q}{f}"))
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2000))]

            #[test]
            fn parse_never_panics(input in any::<String>()) {
                let _ = NormalizedUrl::parse(&input);
            }

            #[test]
            fn join_never_panics(href in any::<String>()) {
                let base = Url::parse("http://example.com/a/b/c.html?x=1").unwrap();
                let _ = NormalizedUrl::join(&base, &href);
            }

            #[test]
            fn normalization_is_idempotent_on_url_like_input(input in url_like()) {
                if let Ok(once) = NormalizedUrl::parse(&input) {
                    let twice = NormalizedUrl::parse(once.as_str()).expect("a normalized URL parses");
                    prop_assert_eq!(twice, once);
                }
            }

            #[test]
            fn normalized_urls_are_http_without_fragments(input in url_like()) {
                if let Ok(url) = NormalizedUrl::parse(&input) {
                    prop_assert!(matches!(url.as_url().scheme(), "http" | "https"));
                    prop_assert!(url.as_url().fragment().is_none());
                    prop_assert!(!url.as_str().contains("utm_"));
                }
            }
        }
    }
}
