//! Fetching one URL: the address guard, one pooled reqwest client (gzip and
//! brotli), timeouts for connect, first byte and total, a body cap enforced
//! while streaming, a content-type allowlist, and charset decoding.
//!
//! Redirects are not followed here: a redirect is an answer, and its target
//! goes back to the frontier like any link, so that every hop meets the
//! seen-filter, the politeness clock, robots.txt and the address guard.

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{NormalizedUrl, UrlError};
use encoding_rs::Encoding;
use reqwest::header::{self, HeaderMap};

use crate::dns::{DnsError, ReqwestResolver, Resolver};
use crate::sites::SiteRules;
use crate::warc::{Exchange, WarcWriter};

#[derive(Debug, Clone)]
pub struct FetchConfig {
    pub user_agent: String,
    pub connect_timeout: Duration,
    /// From sending the request to the response headers.
    pub first_byte_timeout: Duration,
    /// From sending the request to the last body byte.
    pub total_timeout: Duration,
    /// Bytes of (decompressed) body kept; the rest is not downloaded.
    pub max_body_bytes: usize,
    /// A body that has come in slower than this on average, once
    /// `slow_body_grace` has passed since the request, is cut: a server
    /// trickling a byte a second must not hold its host (and a fetch slot)
    /// for the whole `total_timeout`.
    pub min_body_bytes_per_sec: u64,
    pub slow_body_grace: Duration,
}

impl Default for FetchConfig {
    fn default() -> Self {
        FetchConfig {
            user_agent: DEFAULT_USER_AGENT.to_string(),
            connect_timeout: Duration::from_secs(10),
            first_byte_timeout: Duration::from_secs(20),
            total_timeout: Duration::from_secs(60),
            max_body_bytes: 8 * 1024 * 1024,
            // 1 KiB/s: a page of 100 KB still has 100 s, longer than the
            // total timeout; a tarpit is cut after the grace.
            min_body_bytes_per_sec: 1024,
            slow_body_grace: Duration::from_secs(5),
        }
    }
}

pub const DEFAULT_USER_AGENT: &str = concat!(
    "trawl/",
    env!("CARGO_PKG_VERSION"),
    " (+https://github.com/trawl-search/trawl)"
);

/// What the server answered.
#[derive(Debug)]
pub enum FetchResponse {
    /// A 2xx HTML page.
    Page(FetchedPage),
    /// A 3xx with a `Location`.
    Redirect {
        status: u16,
        location: Result<NormalizedUrl, UrlError>,
    },
    /// A 2xx whose content type is not HTML; its body was not downloaded.
    WrongType { status: u16, content_type: String },
    /// 304: the page is what it was at the last visit (a conditional GET).
    NotModified,
    /// Any other status.
    Status {
        status: u16,
        retry_after: Option<Duration>,
    },
}

#[derive(Debug)]
pub struct FetchedPage {
    pub status: u16,
    pub body: String,
    /// The body hit the size cap and was cut.
    pub truncated: bool,
    /// Every `X-Robots-Tag` header, joined by commas.
    pub x_robots_tag: Option<String>,
    pub body_bytes: usize,
    /// Validators for the next visit's conditional GET.
    pub validators: Validators,
}

/// What a server said identifies a version of a page (`ETag`,
/// `Last-Modified`), sent back on a revisit (`If-None-Match`,
/// `If-Modified-Since`) so an unchanged page answers 304 without a body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error(transparent)]
    Dns(#[from] DnsError),
    /// No connection to the host: refused, unreachable, or timed out.
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("timed out waiting for {0}")]
    Timeout(&'static str),
    /// The body came in below `min_body_bytes_per_sec` and was cut.
    #[error("body too slow: {bytes} bytes in {elapsed_ms} ms")]
    TooSlow { bytes: usize, elapsed_ms: u64 },
    #[error("network error: {0}")]
    Network(String),
}

impl FetchError {
    /// Whether the failure is the host's rather than the URL's: its name
    /// does not resolve, it takes no connection, or it does not answer a
    /// request at all. Such failures count against the host (bounded
    /// retries with back-off, then its links are skipped), not against
    /// each of its links.
    pub fn is_host_failure(&self) -> bool {
        match self {
            FetchError::Dns(DnsError::PrivateAddress { .. }) => false,
            FetchError::Dns(_) | FetchError::Connect(_) => true,
            FetchError::Timeout(what) => *what == HEADERS,
            FetchError::TooSlow { .. } | FetchError::Network(_) => false,
        }
    }

    /// Whether the server was too slow for this URL: it is retried at most
    /// once.
    pub fn is_slow(&self) -> bool {
        matches!(self, FetchError::Timeout(_) | FetchError::TooSlow { .. })
    }
}

/// What a timeout before the response headers waited for.
const HEADERS: &str = "response headers";

pub struct Fetcher {
    client: reqwest::Client,
    resolver: Arc<Resolver>,
    config: FetchConfig,
    /// Where every exchange is archived (`--warc`), if anywhere.
    warc: Option<Arc<WarcWriter>>,
    /// Site rules: a site's own user agent.
    sites: Arc<SiteRules>,
}

/// A response read whole (up to a cap), whatever its type: robots.txt and
/// sitemaps.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub headers: HeaderMap,
    /// At most the `max_body_bytes` asked for: callers whose parsers must
    /// know whether the file went on ask for one byte more than they read.
    pub body: Vec<u8>,
}

impl Fetcher {
    pub fn new(config: FetchConfig, resolver: Arc<Resolver>) -> Result<Fetcher, FetchError> {
        let client = reqwest::Client::builder()
            .user_agent(config.user_agent.clone())
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.connect_timeout)
            .timeout(config.total_timeout)
            // An idle connection is worth keeping only for a host asked
            // again soon. Across a web of many hosts, a long idle timeout
            // keeps one socket per host of the last half minute: on a
            // simulated web of 100,000 hosts, 30 s ran the process out of
            // file descriptors (and tantivy's writer with it) within 80 s.
            .pool_idle_timeout(Duration::from_secs(5))
            .pool_max_idle_per_host(32)
            .tcp_nodelay(true)
            .dns_resolver(Arc::new(ReqwestResolver(resolver.clone())))
            .build()
            .map_err(|e| FetchError::Network(e.to_string()))?;
        Ok(Fetcher {
            client,
            resolver,
            config,
            warc: None,
            sites: Arc::default(),
        })
    }

    /// Sends the user agent of a host's site rule, where it has one.
    pub fn with_sites(mut self, sites: Arc<SiteRules>) -> Fetcher {
        self.sites = sites;
        self
    }

    /// The User-Agent sent to `url`'s host.
    fn user_agent_for(&self, url: &NormalizedUrl) -> &str {
        self.sites.user_agent_for(url).unwrap_or(&self.config.user_agent)
    }

    /// Archives every exchange from now on in `warc`.
    pub fn with_warc(mut self, warc: Arc<WarcWriter>) -> Fetcher {
        self.warc = Some(warc);
        self
    }

    pub fn resolver(&self) -> &Resolver {
        &self.resolver
    }

    /// Fetches a page: HTML only, redirects and error statuses as answers.
    /// With validators from an earlier visit, the GET is conditional.
    pub async fn fetch(
        &self,
        url: &NormalizedUrl,
        validators: &Validators,
    ) -> Result<FetchResponse, FetchError> {
        let started = Instant::now();
        let response = self.send(url, PAGE_ACCEPT, validators).await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let sent = Sent {
            url,
            accept: PAGE_ACCEPT,
            validators,
            ip: response.remote_addr().map(|address| address.ip()),
            status,
            headers: &headers,
        };
        // Answers without a body the crawler reads are archived with their
        // headers alone (a 304 has none to read).
        let unread = status != 304;
        if status == 304 {
            self.archive(&sent, Vec::new(), false).await;
            return Ok(FetchResponse::NotModified);
        }
        if response.status().is_redirection()
            && let Some(location) = redirect_location(url, &headers)
        {
            self.archive(&sent, Vec::new(), unread).await;
            return Ok(FetchResponse::Redirect { status, location });
        }
        if !response.status().is_success() {
            self.archive(&sent, Vec::new(), unread).await;
            return Ok(FetchResponse::Status {
                status,
                retry_after: retry_after(&headers),
            });
        }
        let content_type = header_str(&headers, header::CONTENT_TYPE);
        if let Some(content_type) = &content_type
            && !is_html(content_type)
        {
            self.archive(&sent, Vec::new(), unread).await;
            return Ok(FetchResponse::WrongType {
                status,
                content_type: content_type.clone(),
            });
        }
        let (body, truncated) = self
            .read_body(response, started, self.config.max_body_bytes)
            .await?;
        let body = self.archive(&sent, body, truncated).await;
        // Servers mislabel: a PDF or an image sent as text/html is not a page.
        if let Some(actual) = sniff_non_html(&body) {
            return Ok(FetchResponse::WrongType {
                status,
                content_type: actual.to_string(),
            });
        }
        let body_bytes = body.len();
        Ok(FetchResponse::Page(FetchedPage {
            status,
            body: decode_html_owned(body, content_type.as_deref()),
            truncated,
            x_robots_tag: header_values(&headers, "x-robots-tag"),
            body_bytes,
            validators: Validators {
                etag: header_str(&headers, header::ETAG),
                last_modified: header_str(&headers, header::LAST_MODIFIED),
            },
        }))
    }

    /// GETs `url` and reads at most `max_body_bytes` of its body, whatever
    /// its status and type (for robots.txt and sitemaps).
    pub async fn get_raw(
        &self,
        url: &NormalizedUrl,
        accept: &str,
        max_body_bytes: usize,
    ) -> Result<RawResponse, FetchError> {
        let started = Instant::now();
        let no_validators = Validators::default();
        let response = self.send(url, accept, &no_validators).await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let ip = response.remote_addr().map(|address| address.ip());
        let (body, more) = self.read_body(response, started, max_body_bytes).await?;
        let sent = Sent {
            url,
            accept,
            validators: &no_validators,
            ip,
            status,
            headers: &headers,
        };
        let body = self.archive(&sent, body, more).await;
        Ok(RawResponse {
            status,
            headers,
            body,
        })
    }

    /// Sends the request once the address guard has passed the host, and
    /// waits for the response headers.
    async fn send(
        &self,
        url: &NormalizedUrl,
        accept: &str,
        validators: &Validators,
    ) -> Result<reqwest::Response, FetchError> {
        // Names are checked by the resolver reqwest connects through; an IP
        // literal never reaches a resolver, so it is checked here.
        self.resolver
            .check_literal(url.as_url().host_str().unwrap_or_default())?;
        let mut request = self.client.get(url.as_str()).header(header::ACCEPT, accept);
        if !self.sites.is_empty() {
            request = request.header(header::USER_AGENT, self.user_agent_for(url));
        }
        if let Some(etag) = &validators.etag {
            request = request.header(header::IF_NONE_MATCH, etag);
        }
        if let Some(last_modified) = &validators.last_modified {
            request = request.header(header::IF_MODIFIED_SINCE, last_modified);
        }
        let request = request.send();
        tokio::time::timeout(self.config.first_byte_timeout, request)
            .await
            .map_err(|_| FetchError::Timeout(HEADERS))?
            .map_err(classify)
    }

    /// Streams the body: at most `max_bytes` (of decompressed data, so a
    /// decompression bomb stops there too), before the total deadline.
    /// Returns the body and whether the server had more.
    async fn read_body(
        &self,
        mut response: reqwest::Response,
        started: Instant,
        max_bytes: usize,
    ) -> Result<(Vec<u8>, bool), FetchError> {
        let deadline = started + self.config.total_timeout;
        // Sized once when the server says how much is coming (and not
        // beyond the cap, whatever it says).
        let announced = response.content_length().unwrap_or(0) as usize;
        let mut body = Vec::with_capacity(announced.min(max_bytes));
        // Wakes at least this often to check the body's rate, also while
        // no byte arrives.
        const RATE_CHECK: Duration = Duration::from_millis(500);
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(FetchError::Timeout("response body"));
            }
            let chunk = match tokio::time::timeout(remaining.min(RATE_CHECK), response.chunk()).await {
                Ok(chunk) => chunk.map_err(classify)?,
                Err(_) => {
                    self.check_body_rate(started, body.len())?;
                    continue;
                }
            };
            self.check_body_rate(started, body.len())?;
            let Some(chunk) = chunk else {
                return Ok((body, false));
            };
            let room = max_bytes - body.len();
            if chunk.len() > room {
                body.extend_from_slice(&chunk[..room]);
                // Dropping the response closes the connection: the rest of
                // the body is never read.
                return Ok((body, true));
            }
            body.extend_from_slice(&chunk);
        }
    }
}

/// An exchange as the fetcher made it, for the archive.
struct Sent<'a> {
    url: &'a NormalizedUrl,
    accept: &'a str,
    validators: &'a Validators,
    ip: Option<std::net::IpAddr>,
    status: u16,
    headers: &'a HeaderMap,
}

impl Fetcher {
    /// Writes the exchange to the WARC archive, if there is one, and gives
    /// the body back. A failure to archive is logged and counted; it does
    /// not fail the fetch (the page is still crawled and indexed).
    async fn archive(&self, sent: &Sent<'_>, body: Vec<u8>, truncated: bool) -> Vec<u8> {
        let Some(warc) = &self.warc else {
            return body;
        };
        let exchange = Exchange {
            url: sent.url.as_str().to_string(),
            ip: sent.ip,
            request_head: self.request_head(sent),
            status: sent.status,
            response_headers: sent.headers.clone(),
            body,
            truncated,
            fetched_at: std::time::SystemTime::now(),
        };
        let warc = warc.clone();
        let (exchange, written) = tokio::task::spawn_blocking(move || {
            let written = warc.write(&exchange);
            (exchange, written)
        })
        .await
        .expect("the WARC writer does not panic");
        if let Err(error) = written {
            metrics::counter!(common::metrics::CRAWLER_WARC_ERRORS).increment(1);
            tracing::error!(url = %sent.url, %error, "writing the WARC record failed");
        }
        exchange.body
    }

    /// The request as sent: the headers this fetcher sets (reqwest adds
    /// only the connection's own).
    fn request_head(&self, sent: &Sent<'_>) -> String {
        let url = sent.url.as_url();
        let mut target = url.path().to_string();
        if let Some(query) = url.query() {
            target.push('?');
            target.push_str(query);
        }
        // The host and a port that is not the scheme's: the Host header.
        let host = sent.url.host_key();
        let mut head = format!(
            "GET {target} HTTP/1.1\r\nhost: {host}\r\nuser-agent: {}\r\naccept: {}\r\naccept-encoding: gzip, br\r\n",
            self.user_agent_for(sent.url),
            sent.accept
        );
        if let Some(etag) = &sent.validators.etag {
            head.push_str(&format!("if-none-match: {etag}\r\n"));
        }
        if let Some(last_modified) = &sent.validators.last_modified {
            head.push_str(&format!("if-modified-since: {last_modified}\r\n"));
        }
        head.push_str("\r\n");
        head
    }
}

impl Fetcher {
    /// Fails once the body has come in slower than the minimum rate,
    /// after the grace period.
    fn check_body_rate(&self, started: Instant, bytes: usize) -> Result<(), FetchError> {
        let elapsed = started.elapsed();
        if elapsed < self.config.slow_body_grace {
            return Ok(());
        }
        let rate = bytes as f64 / elapsed.as_secs_f64();
        if rate < self.config.min_body_bytes_per_sec as f64 {
            return Err(FetchError::TooSlow {
                bytes,
                elapsed_ms: elapsed.as_millis() as u64,
            });
        }
        Ok(())
    }
}

const PAGE_ACCEPT: &str = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1";

/// What a body that claims to be HTML really is, when its first bytes say
/// it is something else.
fn sniff_non_html(body: &[u8]) -> Option<&'static str> {
    const MAGIC: &[(&[u8], &str)] = &[
        (b"%PDF-", "application/pdf"),
        (b"\x89PNG", "image/png"),
        (b"GIF8", "image/gif"),
        (b"\xFF\xD8\xFF", "image/jpeg"),
        (b"PK\x03\x04", "application/zip"),
        (b"\x1F\x8B", "application/gzip"),
    ];
    if let Some((_, mime)) = MAGIC.iter().find(|(magic, _)| body.starts_with(magic)) {
        return Some(mime);
    }
    // Text never holds NUL bytes; UTF-16 is rare enough on the web to treat
    // as binary too.
    let head = &body[..body.len().min(1024)];
    head.contains(&0).then_some("application/octet-stream")
}

fn classify(error: reqwest::Error) -> FetchError {
    // Our resolver's refusal travels inside reqwest's error chain.
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    while let Some(err) = source {
        if let Some(dns) = err.downcast_ref::<DnsError>() {
            return FetchError::Dns(dns.clone());
        }
        source = err.source();
    }
    if error.is_connect() {
        FetchError::Connect(error.to_string())
    } else if error.is_timeout() {
        FetchError::Timeout("the server")
    } else {
        FetchError::Network(error.to_string())
    }
}

fn header_str(headers: &HeaderMap, name: impl header::AsHeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// All values of a header that may repeat, joined with `, `.
fn header_values(headers: &HeaderMap, name: &str) -> Option<String> {
    let values: Vec<&str> = headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    (!values.is_empty()).then(|| values.join(", "))
}

fn is_html(content_type: &str) -> bool {
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    mime == "text/html" || mime == "application/xhtml+xml"
}

/// `Retry-After`, in seconds or as an HTTP date.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(std::time::SystemTime::now())
            .unwrap_or_default(),
    )
}

/// The target of a redirect: `Location` resolved against the URL asked.
pub fn redirect_location(
    url: &NormalizedUrl,
    headers: &HeaderMap,
) -> Option<Result<NormalizedUrl, UrlError>> {
    let location = headers.get(header::LOCATION)?.to_str().ok()?;
    Some(NormalizedUrl::join(url.as_url(), location))
}

/// 429 and 5xx: the server may answer later.
pub fn is_retryable(status: u16) -> bool {
    status == 429 || (500..=599).contains(&status)
}

/// Decodes an HTML body: the charset comes from a byte-order mark, else the
/// `Content-Type` header, else a `<meta charset>` in the first 1024 bytes,
/// else UTF-8. Invalid sequences become U+FFFD.
pub fn decode_html(bytes: &[u8], content_type: Option<&str>) -> String {
    let (encoding, bom_len) = Encoding::for_bom(bytes)
        .or_else(|| charset_from_content_type(content_type?).map(|e| (e, 0)))
        .or_else(|| charset_from_meta(bytes).map(|e| (e, 0)))
        .unwrap_or((encoding_rs::UTF_8, 0));
    let (text, _had_errors) = encoding.decode_without_bom_handling(&bytes[bom_len..]);
    text.into_owned()
}

/// [`decode_html`], without copying a body that is valid UTF-8 already
/// (the common case).
pub fn decode_html_owned(bytes: Vec<u8>, content_type: Option<&str>) -> String {
    let declared = Encoding::for_bom(&bytes)
        .map(|(encoding, _)| encoding)
        .or_else(|| charset_from_content_type(content_type?))
        .or_else(|| charset_from_meta(&bytes));
    if declared.is_none_or(|encoding| encoding == encoding_rs::UTF_8) && !bytes.starts_with(b"\xEF\xBB\xBF") {
        return match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(error) => decode_html(error.as_bytes(), content_type),
        };
    }
    decode_html(&bytes, content_type)
}

fn charset_from_content_type(content_type: &str) -> Option<&'static Encoding> {
    content_type.split(';').skip(1).find_map(|param| {
        let (key, value) = param.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| Encoding::for_label(value.trim().trim_matches('"').as_bytes()))?
    })
}

/// A simplified HTML prescan: the first `charset=` in the first 1024 bytes,
/// which covers both `<meta charset=x>` and `<meta http-equiv content="...; charset=x">`.
fn charset_from_meta(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(1024)];
    let lower: Vec<u8> = head.iter().map(u8::to_ascii_lowercase).collect();
    let at = lower.windows(8).position(|w| w == b"charset=")? + 8;
    let label: Vec<u8> = head[at..]
        .iter()
        .copied()
        .skip_while(|b| *b == b'"' || *b == b'\'')
        .take_while(|b| !matches!(b, b'"' | b'\'' | b' ' | b';' | b'>' | b'/'))
        .collect();
    let encoding = Encoding::for_label(&label)?;
    // A page cannot declare itself UTF-16 in ASCII; the HTML standard reads
    // that as UTF-8.
    if encoding == encoding_rs::UTF_16LE || encoding == encoding_rs::UTF_16BE {
        Some(encoding_rs::UTF_8)
    } else {
        Some(encoding)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charset_sources_in_order() {
        let sjis = encoding_rs::SHIFT_JIS.encode("日本語").0.into_owned();
        assert_eq!(decode_html(&sjis, Some("text/html; charset=Shift_JIS")), "日本語");
        let mut with_meta = b"<meta charset=\"shift_jis\">".to_vec();
        with_meta.extend_from_slice(&sjis);
        assert!(decode_html(&with_meta, Some("text/html")).ends_with("日本語"));
        let bom = [0xEF, 0xBB, 0xBF, b'h', b'i'];
        assert_eq!(decode_html(&bom, Some("text/html; charset=latin1")), "hi");
        assert_eq!(decode_html(b"caf\xe9", None), "caf\u{fffd}");
        assert_eq!(
            decode_html(b"caf\xe9", Some("text/html; charset=iso-8859-1")),
            "café"
        );
    }

    #[test]
    fn owned_decoding_agrees_with_borrowed() {
        let sjis = encoding_rs::SHIFT_JIS.encode("日本語").0.into_owned();
        for (bytes, content_type) in [
            ("café".as_bytes().to_vec(), None),
            (b"caf\xe9".to_vec(), None),
            (b"caf\xe9".to_vec(), Some("text/html; charset=iso-8859-1")),
            (vec![0xEF, 0xBB, 0xBF, b'h', b'i'], Some("text/html")),
            (sjis, Some("text/html; charset=Shift_JIS")),
        ] {
            assert_eq!(
                decode_html_owned(bytes.clone(), content_type),
                decode_html(&bytes, content_type)
            );
        }
    }

    #[test]
    fn mislabelled_binaries_are_sniffed() {
        assert_eq!(sniff_non_html(b"%PDF-1.7 ..."), Some("application/pdf"));
        assert_eq!(
            sniff_non_html(b"<html>\0</html>"),
            Some("application/octet-stream")
        );
        assert_eq!(sniff_non_html("<!doctype html><p>caf\u{e9}</p>".as_bytes()), None);
        assert_eq!(sniff_non_html(b""), None);
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let mut headers = HeaderMap::new();
        headers.insert(header::RETRY_AFTER, "120".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(120)));
        let in_a_minute = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(61));
        headers.insert(header::RETRY_AFTER, in_a_minute.parse().unwrap());
        let wait = retry_after(&headers).unwrap();
        assert!(
            wait > Duration::from_secs(50) && wait <= Duration::from_secs(61),
            "{wait:?}"
        );
        headers.insert(
            header::RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(
            retry_after(&headers),
            Some(Duration::ZERO),
            "a past date means now"
        );
        headers.insert(header::RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn html_types_only() {
        assert!(is_html("text/html; charset=utf-8"));
        assert!(is_html("Application/XHTML+XML"));
        assert!(!is_html("application/pdf"));
        assert!(!is_html("text/plain"));
    }
}
