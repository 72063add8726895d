//! A raw record of what the crawl fetched: WARC/1.1 files (ISO 28500), the
//! archive format Heritrix, StormCrawler, Nutch and the Wayback Machine
//! read and write.
//!
//! Every HTTP exchange the fetcher makes (pages, robots.txt, sitemaps,
//! redirects, errors) becomes a `request` record and a `response` record
//! (`WARC-Concurrent-To` ties the two), with `WARC-IP-Address` and SHA-1
//! block and payload digests. A page that did not change becomes a
//! `revisit` record instead of a second copy: a `304 Not Modified`
//! (profile `server-not-modified`), or a body with the same payload digest
//! as the URL's last response (profile `identical-payload-digest`); either
//! names the original by `WARC-Refers-To-Target-URI` and
//! `WARC-Refers-To-Date`.
//!
//! Each record is its own gzip member (so a reader can seek to any record),
//! appended to `{prefix}-{timestamp}-{serial}.warc.gz`; a file is closed
//! and a new one started once it passes `max_file_bytes`. Each file starts
//! with a `warcinfo` record. Beside each file, `….warc.gz.cdxj` indexes its
//! responses and revisits (SURT key, 14-digit timestamp, JSON with url,
//! mime, status, digest, offset and length of the gzip member, filename):
//! lines are appended as records are written, so an index survives a
//! kill, and the file is sorted when its WARC is closed. At open, the
//! indexes already in the directory give the last response of every URL,
//! so revisits refer across runs.
//!
//! What is stored is what the crawler read: the body after the transfer's
//! `Content-Encoding` was decoded (reqwest decodes gzip and brotli as the
//! body streams, which is what caps a decompression bomb), so the stored
//! headers drop `Content-Encoding`, `Transfer-Encoding` and
//! `Content-Length` and give the stored body's length. A body cut at the
//! size cap, or not downloaded (not HTML, a redirect, an error status),
//! says so with `WARC-Truncated: length`.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use flate2::Compression;
use flate2::write::GzEncoder;
use reqwest::header::HeaderMap;

/// Where and how to write the archive.
#[derive(Debug, Clone)]
pub struct WarcConfig {
    pub dir: PathBuf,
    /// A file is closed and the next one started once it is this big.
    pub max_file_bytes: u64,
    /// The start of every file's name: `trawl`, or a worker's name.
    pub prefix: String,
}

impl WarcConfig {
    /// 1 GB, as Heritrix's default.
    pub const DEFAULT_MAX_FILE_BYTES: u64 = 1_000_000_000;

    pub fn new(dir: impl Into<PathBuf>) -> WarcConfig {
        WarcConfig {
            dir: dir.into(),
            max_file_bytes: WarcConfig::DEFAULT_MAX_FILE_BYTES,
            prefix: "trawl".into(),
        }
    }
}

/// One HTTP exchange, as the fetcher made it.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub url: String,
    /// The address the request went to.
    pub ip: Option<IpAddr>,
    /// The request line and headers as sent, ending with the blank line.
    pub request_head: String,
    pub status: u16,
    pub response_headers: HeaderMap,
    /// The body as read (decoded from its Content-Encoding).
    pub body: Vec<u8>,
    /// The body was cut at the size cap, or not read at all.
    pub truncated: bool,
    pub fetched_at: SystemTime,
}

/// What [`WarcWriter::write`] stored for a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    Response,
    /// A revisit record pointing at an earlier response of the URL.
    Revisit,
}

/// The last response recorded for a URL: what a revisit refers to. Kept
/// for every URL of the archive, so kept small (36 bytes, with the URL's
/// hash as its key): the SHA-1 of the payload and the date as digits.
#[derive(Debug, Clone, Copy)]
struct Original {
    sha1: [u8; 20],
    /// `YYYYMMDDhhmmss`, its WARC-Date's digits.
    stamp: u64,
}

impl Original {
    fn new(sha1: [u8; 20], date: &str) -> Option<Original> {
        Some(Original {
            sha1,
            stamp: cdx_timestamp(date).parse().ok()?,
        })
    }

    /// `sha1:BASE32`, as WARC-Payload-Digest is written.
    fn digest(&self) -> String {
        digest_text(&self.sha1)
    }

    /// Its WARC-Date.
    fn date(&self) -> String {
        let d = format!("{:014}", self.stamp);
        format!(
            "{}-{}-{}T{}:{}:{}Z",
            &d[0..4],
            &d[4..6],
            &d[6..8],
            &d[8..10],
            &d[10..12],
            &d[12..14]
        )
    }
}

/// The key of a URL among the originals: its 64-bit xxh3 (two URLs of one
/// archive share one with odds of about n² / 2⁶⁵).
fn url_key(url: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(url.as_bytes())
}

pub struct WarcWriter {
    config: WarcConfig,
    inner: Mutex<Inner>,
}

struct Inner {
    file: Option<OpenFile>,
    serial: u32,
    originals: HashMap<u64, Original>,
}

struct OpenFile {
    name: String,
    path: PathBuf,
    file: File,
    bytes: u64,
    index: File,
    warcinfo_id: String,
}

impl WarcWriter {
    /// Opens the archive directory (creating it), reading the indexes
    /// already there for the URLs' last responses.
    pub fn open(config: WarcConfig) -> io::Result<WarcWriter> {
        std::fs::create_dir_all(&config.dir)?;
        let originals = read_originals(&config.dir)?;
        Ok(WarcWriter {
            config,
            inner: Mutex::new(Inner {
                file: None,
                serial: 0,
                originals,
            }),
        })
    }

    /// Writes the request and response (or revisit) records of `exchange`.
    pub fn write(&self, exchange: &Exchange) -> io::Result<Stored> {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let date = warc_date(exchange.fetched_at);
        let payload_sha1 = sha1_smol::Sha1::from(&exchange.body).digest().bytes();
        let payload_digest = digest_text(&payload_sha1);
        let original = inner.originals.get(&url_key(&exchange.url)).copied();
        let revisit = match (original, exchange.status) {
            (Some(original), 304) => Some((original, NOT_MODIFIED)),
            (Some(original), 200..=299) if original.sha1 == payload_sha1 && !exchange.truncated => {
                Some((original, IDENTICAL_DIGEST))
            }
            _ => None,
        };
        let http_head = response_head(exchange);
        let response_id = record_id();
        let request_id = record_id();
        let file = self.file_for_next(&mut inner)?;
        let mut fields = vec![
            ("WARC-Record-ID", response_id.clone()),
            ("WARC-Date", date.clone()),
            ("WARC-Target-URI", exchange.url.clone()),
            ("WARC-Warcinfo-ID", file.warcinfo_id.clone()),
        ];
        if let Some(ip) = exchange.ip {
            fields.push(("WARC-IP-Address", ip.to_string()));
        }
        let (kind, block, stored, mime) = match &revisit {
            Some((original, profile)) => {
                fields.push(("WARC-Profile", profile.to_string()));
                fields.push(("WARC-Refers-To-Target-URI", exchange.url.clone()));
                fields.push(("WARC-Refers-To-Date", original.date()));
                fields.push(("WARC-Payload-Digest", original.digest()));
                (
                    "revisit",
                    http_head.into_bytes(),
                    Stored::Revisit,
                    "warc/revisit".to_string(),
                )
            }
            None => {
                fields.push(("WARC-Payload-Digest", payload_digest.clone()));
                if exchange.truncated {
                    fields.push(("WARC-Truncated", "length".into()));
                }
                let mut block = http_head.into_bytes();
                block.extend_from_slice(&exchange.body);
                let mime = exchange
                    .response_headers
                    .get(reqwest::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.split(';').next())
                    .map_or("unk".to_string(), |v| v.trim().to_ascii_lowercase());
                ("response", block, Stored::Response, mime)
            }
        };
        fields.push(("Content-Type", "application/http;msgtype=response".into()));
        let offset = file.bytes;
        let length = append_record(file, kind, fields, &block)?;
        let index_line = cdxj_line(
            &exchange.url,
            &date,
            &mime,
            exchange.status,
            &payload_digest,
            offset,
            length,
            &file.name,
        );
        file.index.write_all(index_line.as_bytes())?;
        let request_fields = vec![
            ("WARC-Record-ID", request_id),
            ("WARC-Date", date.clone()),
            ("WARC-Target-URI", exchange.url.clone()),
            ("WARC-Warcinfo-ID", file.warcinfo_id.clone()),
            ("WARC-Concurrent-To", response_id),
            ("Content-Type", "application/http;msgtype=request".into()),
        ];
        let mut request_fields = request_fields;
        if let Some(ip) = exchange.ip {
            request_fields.push(("WARC-IP-Address", ip.to_string()));
        }
        append_record(file, "request", request_fields, exchange.request_head.as_bytes())?;
        if stored == Stored::Response
            && (200..=299).contains(&exchange.status)
            && !exchange.truncated
            && let Some(original) = Original::new(payload_sha1, &date)
        {
            inner.originals.insert(url_key(&exchange.url), original);
        }
        Ok(stored)
    }

    /// Closes the open file: its index is sorted. Called at the end of a
    /// crawl; a killed crawl leaves its last index unsorted but whole.
    pub fn close(&self) -> io::Result<()> {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        match inner.file.take() {
            Some(file) => finish_file(file),
            None => Ok(()),
        }
    }

    /// The open file, after rolling to a new one when it is full.
    fn file_for_next<'a>(&self, inner: &'a mut Inner) -> io::Result<&'a mut OpenFile> {
        if inner
            .file
            .as_ref()
            .is_some_and(|file| file.bytes >= self.config.max_file_bytes)
            && let Some(full) = inner.file.take()
        {
            finish_file(full)?;
        }
        if inner.file.is_none() {
            let file = loop {
                let stamp = cdx_timestamp(&warc_date(SystemTime::now()));
                let name = format!("{}-{stamp}-{:05}.warc.gz", self.config.prefix, inner.serial);
                inner.serial += 1;
                let path = self.config.dir.join(&name);
                match OpenOptions::new().write(true).create_new(true).open(&path) {
                    Ok(file) => break (name, path, file),
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                    Err(e) => return Err(e),
                }
            };
            let (name, path, file) = file;
            let index = OpenOptions::new()
                .append(true)
                .create(true)
                .open(index_path(&path))?;
            let mut open = OpenFile {
                name,
                path,
                file,
                bytes: 0,
                index,
                warcinfo_id: record_id(),
            };
            let info = format!(
                "software: trawl/{}\r\nformat: WARC File Format 1.1\r\nconformsTo: http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/\r\n",
                env!("CARGO_PKG_VERSION")
            );
            let fields = vec![
                ("WARC-Record-ID", open.warcinfo_id.clone()),
                ("WARC-Date", warc_date(SystemTime::now())),
                ("WARC-Filename", open.name.clone()),
                ("Content-Type", "application/warc-fields".into()),
            ];
            append_record(&mut open, "warcinfo", fields, info.as_bytes())?;
            inner.file = Some(open);
        }
        Ok(inner.file.as_mut().expect("opened above"))
    }
}

impl Drop for WarcWriter {
    fn drop(&mut self) {
        if let Err(error) = self.close() {
            tracing::error!(%error, "closing the WARC file");
        }
    }
}

const NOT_MODIFIED: &str = "http://netpreserve.org/warc/1.1/revisit/server-not-modified";
const IDENTICAL_DIGEST: &str = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest";

/// Appends one record, gzipped on its own; returns its compressed length.
fn append_record(
    file: &mut OpenFile,
    kind: &str,
    fields: Vec<(&str, String)>,
    block: &[u8],
) -> io::Result<u64> {
    let mut head = format!("WARC/1.1\r\nWARC-Type: {kind}\r\n");
    for (name, value) in fields {
        // A value never spans lines (a URL with a raw newline cannot reach
        // here, but a header value from a server is not trusted).
        let value = value.replace(['\r', '\n'], " ");
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("WARC-Block-Digest: {}\r\n", sha1_digest(block)));
    head.push_str(&format!("Content-Length: {}\r\n\r\n", block.len()));
    let mut gz = GzEncoder::new(Vec::with_capacity(block.len() / 3 + 512), Compression::default());
    gz.write_all(head.as_bytes())?;
    gz.write_all(block)?;
    gz.write_all(b"\r\n\r\n")?;
    let member = gz.finish()?;
    file.file.write_all(&member)?;
    file.bytes += member.len() as u64;
    Ok(member.len() as u64)
}

/// Sorts the file's index (its lines were appended in fetch order).
fn finish_file(file: OpenFile) -> io::Result<()> {
    file.file.sync_data()?;
    drop(file.index);
    let path = index_path(&file.path);
    let mut lines: Vec<String> = BufReader::new(File::open(&path)?)
        .lines()
        .collect::<io::Result<_>>()?;
    lines.sort();
    let sorted = path.with_extension("cdxj.sorting");
    {
        let mut out = File::create(&sorted)?;
        for line in &lines {
            out.write_all(line.as_bytes())?;
            out.write_all(b"\n")?;
        }
        out.sync_data()?;
    }
    std::fs::rename(sorted, path)
}

fn index_path(warc: &Path) -> PathBuf {
    let mut name = warc.as_os_str().to_owned();
    name.push(".cdxj");
    PathBuf::from(name)
}

/// The last response (not revisit) of each URL in the directory's indexes.
fn read_originals(dir: &Path) -> io::Result<HashMap<u64, Original>> {
    let mut originals: HashMap<u64, Original> = HashMap::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_none_or(|e| e != "cdxj") {
            continue;
        }
        for line in BufReader::new(File::open(&path)?).lines() {
            let line = line?;
            let mut parts = line.splitn(3, ' ');
            let (Some(_key), Some(stamp), Some(json)) = (parts.next(), parts.next(), parts.next()) else {
                continue;
            };
            let Ok(fields) = serde_json::from_str::<serde_json::Value>(json) else {
                continue;
            };
            let (Some(url), Some(digest), Some(mime)) = (
                fields["url"].as_str(),
                fields["digest"].as_str(),
                fields["mime"].as_str(),
            ) else {
                continue;
            };
            let ok = fields["status"].as_str().is_some_and(|s| s.starts_with('2'));
            if mime == "warc/revisit" || !ok {
                continue;
            }
            let sha1 = data_encoding::BASE32
                .decode(digest.as_bytes())
                .ok()
                .and_then(|bytes| <[u8; 20]>::try_from(bytes).ok());
            let Some(original) = sha1.and_then(|sha1| Original::new(sha1, stamp)) else {
                continue;
            };
            let key = url_key(url);
            if originals
                .get(&key)
                .is_none_or(|seen| seen.stamp <= original.stamp)
            {
                originals.insert(key, original);
            }
        }
    }
    Ok(originals)
}

/// The HTTP response head as stored: the status line, the server's headers
/// without those that described the transfer, and the stored body's length.
fn response_head(exchange: &Exchange) -> String {
    let reason = reqwest::StatusCode::from_u16(exchange.status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    let mut head = format!("HTTP/1.1 {} {reason}\r\n", exchange.status);
    for (name, value) in &exchange.response_headers {
        if matches!(
            name.as_str(),
            "content-encoding" | "transfer-encoding" | "content-length"
        ) {
            continue;
        }
        head.push_str(name.as_str());
        head.push_str(": ");
        head.push_str(&String::from_utf8_lossy(value.as_bytes()).replace(['\r', '\n'], " "));
        head.push_str("\r\n");
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", exchange.body.len()));
    head
}

#[allow(clippy::too_many_arguments)]
fn cdxj_line(
    url: &str,
    date: &str,
    mime: &str,
    status: u16,
    digest: &str,
    offset: u64,
    length: u64,
    filename: &str,
) -> String {
    let json = serde_json::json!({
        "url": url,
        "mime": mime,
        "status": status.to_string(),
        "digest": digest.trim_start_matches("sha1:"),
        "length": length.to_string(),
        "offset": offset.to_string(),
        "filename": filename,
    });
    format!("{} {} {json}\n", surt(url), cdx_timestamp(date))
}

/// The SURT form of a URL, the sort key of CDX indexes: the host's labels
/// reversed and comma-separated, without `www.`, then `)` and the path.
pub fn surt(url: &str) -> String {
    let Ok(parsed) = url::Url::parse(url) else {
        return url.to_ascii_lowercase();
    };
    let host = parsed.host_str().unwrap_or_default().to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    let mut key: Vec<&str> = host.split('.').collect();
    key.reverse();
    let mut out = key.join(",");
    if let Some(port) = parsed.port() {
        out.push_str(&format!(":{port}"));
    }
    out.push(')');
    out.push_str(&parsed.path().to_ascii_lowercase());
    if let Some(query) = parsed.query() {
        out.push('?');
        out.push_str(&query.to_ascii_lowercase());
    }
    out
}

/// `sha1:` and the base32 of the SHA-1 of `bytes`, as WARC digests are
/// written.
fn sha1_digest(bytes: &[u8]) -> String {
    digest_text(&sha1_smol::Sha1::from(bytes).digest().bytes())
}

fn digest_text(sha1: &[u8; 20]) -> String {
    format!("sha1:{}", data_encoding::BASE32.encode(sha1))
}

fn record_id() -> String {
    format!("<urn:uuid:{}>", uuid::Uuid::new_v4())
}

/// `2026-12-04T05:06:07Z`: WARC-Date to the second.
pub fn warc_date(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// `20261204050607` from a WARC-Date.
fn cdx_timestamp(date: &str) -> String {
    date.chars().filter(char::is_ascii_digit).take(14).collect()
}

/// The calendar date of a day counted from 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::time::Duration;

    use super::*;

    fn exchange(url: &str, status: u16, body: &[u8]) -> Exchange {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", "text/html; charset=utf-8".parse().unwrap());
        headers.insert("content-encoding", "gzip".parse().unwrap());
        Exchange {
            url: url.into(),
            ip: Some("127.0.0.1".parse().unwrap()),
            request_head: "GET / HTTP/1.1\r\nHost: a.test\r\n\r\n".into(),
            status,
            response_headers: headers,
            body: body.to_vec(),
            truncated: false,
            fetched_at: SystemTime::now(),
        }
    }

    /// Every record of every `.warc.gz` in `dir`, as (type, headers, block).
    fn records(dir: &Path) -> Vec<(String, String, Vec<u8>)> {
        let mut out = Vec::new();
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().ends_with(".warc.gz"))
            .collect();
        files.sort();
        for path in files {
            let mut text = Vec::new();
            flate2::read::MultiGzDecoder::new(File::open(path).unwrap())
                .read_to_end(&mut text)
                .unwrap();
            let mut rest = &text[..];
            while !rest.is_empty() {
                let end = rest.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
                let head = String::from_utf8(rest[..end].to_vec()).unwrap();
                let length: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("Content-Length: "))
                    .unwrap()
                    .parse()
                    .unwrap();
                let block = rest[end + 4..end + 4 + length].to_vec();
                let kind = head
                    .lines()
                    .find_map(|l| l.strip_prefix("WARC-Type: "))
                    .unwrap()
                    .to_string();
                out.push((kind, head, block));
                rest = &rest[end + 4 + length + 4..];
            }
        }
        out
    }

    #[test]
    fn dates_are_utc_to_the_second() {
        let t = UNIX_EPOCH + Duration::from_secs(1_796_360_767);
        assert_eq!(warc_date(t), "2026-12-04T05:06:07Z");
        assert_eq!(warc_date(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(cdx_timestamp("2026-12-04T05:06:07Z"), "20261204050607");
        // A leap day.
        assert_eq!(
            warc_date(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00Z"
        );
    }

    #[test]
    fn surt_keys_sort_by_host_then_path() {
        assert_eq!(surt("http://www.Example.com/A/b?x=1"), "com,example)/a/b?x=1");
        assert_eq!(surt("http://127.0.0.1:8080/"), "1,0,0,127:8080)/");
    }

    #[test]
    fn a_response_and_its_request_with_digests_then_revisits() {
        let dir = tempfile::tempdir().unwrap();
        let writer = WarcWriter::open(WarcConfig::new(dir.path())).unwrap();
        let body = b"<html>hello</html>";
        assert_eq!(
            writer.write(&exchange("http://a.test/", 200, body)).unwrap(),
            Stored::Response
        );
        // The same body again, then a 304: revisits of the first.
        assert_eq!(
            writer.write(&exchange("http://a.test/", 200, body)).unwrap(),
            Stored::Revisit
        );
        assert_eq!(
            writer.write(&exchange("http://a.test/", 304, b"")).unwrap(),
            Stored::Revisit
        );
        // A changed body is a response again.
        assert_eq!(
            writer.write(&exchange("http://a.test/", 200, b"new")).unwrap(),
            Stored::Response
        );
        writer.close().unwrap();

        let records = records(dir.path());
        let kinds: Vec<&str> = records.iter().map(|(k, _, _)| k.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "warcinfo", "response", "request", "revisit", "request", "revisit", "request", "response",
                "request"
            ]
        );
        let (_, head, block) = &records[1];
        assert!(head.contains("WARC-IP-Address: 127.0.0.1"), "{head}");
        let payload = format!(
            "sha1:{}",
            data_encoding::BASE32.encode(&sha1_smol::Sha1::from(body).digest().bytes())
        );
        assert!(
            head.contains(&format!("WARC-Payload-Digest: {payload}")),
            "{head}"
        );
        assert!(
            head.contains(&format!("WARC-Block-Digest: {}", sha1_digest(block))),
            "{head}"
        );
        let http = String::from_utf8_lossy(block);
        assert!(http.starts_with("HTTP/1.1 200 OK\r\n"), "{http}");
        assert!(
            !http.contains("content-encoding"),
            "the stored body is decoded: {http}"
        );
        assert!(
            http.contains(&format!("Content-Length: {}\r\n", body.len())),
            "{http}"
        );
        assert!(http.ends_with("<html>hello</html>"));
        let (_, revisit, _) = &records[3];
        assert!(
            revisit.contains(IDENTICAL_DIGEST)
                && revisit.contains("WARC-Refers-To-Target-URI: http://a.test/")
        );
        assert!(records[5].1.contains(NOT_MODIFIED), "{}", records[5].1);
        assert!(records[2].1.contains("WARC-Concurrent-To: <urn:uuid:"));

        // The index: one line per response or revisit, sorted, offsets that
        // point at gzip members.
        let index_file = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "cdxj"))
            .unwrap();
        let index = std::fs::read_to_string(&index_file).unwrap();
        assert_eq!(index.lines().count(), 4, "{index}");
        assert!(index.lines().all(|l| l.starts_with("test,a)/ ")), "{index}");
    }

    #[test]
    fn revisits_refer_to_responses_of_an_earlier_run() {
        let dir = tempfile::tempdir().unwrap();
        let first = WarcWriter::open(WarcConfig::new(dir.path())).unwrap();
        first.write(&exchange("http://a.test/", 200, b"same")).unwrap();
        drop(first);
        let second = WarcWriter::open(WarcConfig::new(dir.path())).unwrap();
        assert_eq!(
            second.write(&exchange("http://a.test/", 304, b"")).unwrap(),
            Stored::Revisit
        );
        assert_eq!(
            second.write(&exchange("http://a.test/", 200, b"same")).unwrap(),
            Stored::Revisit
        );
        assert_eq!(
            second.write(&exchange("http://b.test/", 304, b"")).unwrap(),
            Stored::Response,
            "no original"
        );
    }

    #[test]
    fn files_roll_at_their_size() {
        let dir = tempfile::tempdir().unwrap();
        let writer = WarcWriter::open(WarcConfig {
            max_file_bytes: 1,
            ..WarcConfig::new(dir.path())
        })
        .unwrap();
        for n in 0..3 {
            writer
                .write(&exchange(&format!("http://a.test/{n}"), 200, b"x"))
                .unwrap();
        }
        writer.close().unwrap();
        let warcs = std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| e.as_ref().unwrap().path().to_string_lossy().ends_with(".warc.gz"))
            .count();
        assert_eq!(warcs, 3);
        let kinds: Vec<String> = records(dir.path()).into_iter().map(|(k, _, _)| k).collect();
        assert_eq!(kinds.iter().filter(|k| *k == "warcinfo").count(), 3);
        assert_eq!(kinds.iter().filter(|k| *k == "response").count(), 3);
    }
}
