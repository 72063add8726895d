//! Counters of a crawl, and the summary printed at its end. Each counter
//! also feeds its Prometheus metric ([`common::metrics`]), from the same
//! call: the summary counts one run, the metric the life of the process.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use common::SkipReason;
use common::metrics as names;
use metrics::counter;
use serde::Serialize;

use crate::dns::DnsStats;
use crate::robots::{RobotsOutcome, RobotsStats};

/// Duplicate pairs shown in the summary.
const MAX_DUPLICATE_EXAMPLES: usize = 5;

/// Live counters, shared by every task of a crawl.
#[derive(Default)]
pub struct CrawlStats {
    fetched: AtomicU64,
    indexed: AtomicU64,
    redirects: AtomicU64,
    retries: AtomicU64,
    truncated: AtomicU64,
    bytes: AtomicU64,
    links_queued: AtomicU64,
    sitemaps_fetched: AtomicU64,
    sitemaps_missing: AtomicU64,
    sitemap_urls: AtomicU64,
    host_backoffs: AtomicU64,
    revisits: AtomicU64,
    changed: AtomicU64,
    not_modified: AtomicU64,
    removed: AtomicU64,
    duplicates: Mutex<Vec<(String, String)>>,
    /// A seed's host answered (any response, robots.txt included).
    seed_answered: std::sync::atomic::AtomicBool,
    /// Seeds whose host could not be reached, with why.
    failed_seeds: Mutex<Vec<(String, SkipReason)>>,
    skipped: [AtomicU64; SkipReason::ALL.len()],
    by_status: Mutex<BTreeMap<u16, u64>>,
    /// When the frontier last said no link may be fetched before some
    /// time: that time (none once a link was claimed since).
    waiting_until: Mutex<Option<std::time::Instant>>,
}

impl CrawlStats {
    pub fn record_response(&self, status: u16, body_bytes: usize) {
        self.fetched.fetch_add(1, Relaxed);
        self.bytes.fetch_add(body_bytes as u64, Relaxed);
        counter!(names::CRAWLER_PAGES_FETCHED, "status" => status.to_string()).increment(1);
        counter!(names::CRAWLER_DOWNLOADED_BYTES).increment(body_bytes as u64);
        *self
            .by_status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(status)
            .or_default() += 1;
    }

    pub fn record_skip(&self, reason: SkipReason) {
        self.record_skips(reason, 1);
    }

    pub fn record_skips(&self, reason: SkipReason, count: u64) {
        let index = SkipReason::ALL
            .iter()
            .position(|r| *r == reason)
            .expect("ALL lists every reason");
        self.skipped[index].fetch_add(count, Relaxed);
        if count > 0 {
            counter!(names::CRAWLER_URLS_SKIPPED, "reason" => reason.as_str()).increment(count);
        }
    }

    pub fn record_indexed(&self) {
        self.indexed.fetch_add(1, Relaxed);
        counter!(names::CRAWLER_PAGES_INDEXED).increment(1);
    }

    pub fn record_redirect(&self) {
        self.redirects.fetch_add(1, Relaxed);
    }

    pub fn record_retry(&self) {
        self.retries.fetch_add(1, Relaxed);
    }

    pub fn record_truncated(&self) {
        self.truncated.fetch_add(1, Relaxed);
    }

    pub fn record_links_queued(&self, count: usize) {
        self.links_queued.fetch_add(count as u64, Relaxed);
    }

    pub fn record_sitemap(&self, urls_queued: usize) {
        self.sitemaps_fetched.fetch_add(1, Relaxed);
        self.sitemap_urls.fetch_add(urls_queued as u64, Relaxed);
    }

    /// A sitemap that was not there or could not be read.
    pub fn record_sitemap_missing(&self) {
        self.sitemaps_missing.fetch_add(1, Relaxed);
    }

    /// A link given back because its host could not be visited for now.
    pub fn record_host_backoff(&self) {
        self.host_backoffs.fetch_add(1, Relaxed);
    }

    /// Pages whose next visit came due, queued again.
    pub fn record_revisits(&self, count: usize) {
        self.revisits.fetch_add(count as u64, Relaxed);
    }

    /// A revisited page whose text had changed (it is indexed again).
    pub fn record_changed(&self) {
        self.changed.fetch_add(1, Relaxed);
    }

    /// A revisit answered 304: the page stays as it is.
    pub fn record_not_modified(&self) {
        self.not_modified.fetch_add(1, Relaxed);
    }

    /// A page fetched before was removed from the index (gone, moved, noindex).
    pub fn record_removed(&self) {
        self.removed.fetch_add(1, Relaxed);
    }

    /// A page dropped as a (near-)duplicate of `original`: counted under
    /// its reason, and the first few pairs kept for the summary.
    pub fn record_duplicate(&self, reason: SkipReason, url: &str, original: &str) {
        self.record_skip(reason);
        let mut duplicates = self.duplicates.lock().unwrap_or_else(|p| p.into_inner());
        if duplicates.len() < MAX_DUPLICATE_EXAMPLES {
            duplicates.push((url.to_string(), original.to_string()));
        }
    }

    /// The host of a seed (or of a hop of its redirects) answered.
    pub fn record_seed_answered(&self) {
        self.seed_answered.store(true, Relaxed);
    }

    /// A seed was given up on: its host is unreachable.
    pub fn record_seed_failed(&self, url: &str, reason: SkipReason) {
        let mut failed = self.failed_seeds.lock().unwrap_or_else(|p| p.into_inner());
        if failed.len() < 100 {
            failed.push((url.to_string(), reason));
        }
    }

    /// The frontier said the next link may be fetched in `wait` (none: a
    /// link was just claimed).
    pub fn record_waiting(&self, wait: Option<Duration>) {
        *self.waiting_until.lock().unwrap_or_else(|p| p.into_inner()) =
            wait.map(|wait| std::time::Instant::now() + wait);
    }

    /// How long until the frontier's next link may be fetched, when the
    /// crawl is waiting for one.
    pub fn waiting_for(&self) -> Option<Duration> {
        self.waiting_until
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .map(|until| until.saturating_duration_since(std::time::Instant::now()))
    }

    /// Links given up on for an error: of the network, of the server, or
    /// of the host.
    pub fn errors(&self) -> u64 {
        SkipReason::ALL
            .into_iter()
            .filter(|reason| reason.is_error())
            .map(|reason| self.skipped(reason))
            .sum()
    }

    /// URLs skipped for any reason.
    pub fn skipped_total(&self) -> u64 {
        self.skipped.iter().map(|count| count.load(Relaxed)).sum()
    }

    fn skipped(&self, reason: SkipReason) -> u64 {
        let index = SkipReason::ALL
            .iter()
            .position(|r| *r == reason)
            .expect("ALL lists every reason");
        self.skipped[index].load(Relaxed)
    }

    pub fn fetched(&self) -> u64 {
        self.fetched.load(Relaxed)
    }

    pub fn indexed(&self) -> u64 {
        self.indexed.load(Relaxed)
    }

    /// A snapshot, with the counters kept by the resolver and the robots cache.
    pub fn summary(&self, elapsed: Duration, dns: &DnsStats, robots: &RobotsStats) -> CrawlSummary {
        let skipped = SkipReason::ALL
            .iter()
            .zip(&self.skipped)
            .map(|(reason, count)| (*reason, count.load(Relaxed)))
            .filter(|(_, count)| *count > 0)
            .collect();
        // Copied out first: a guard taken inside the struct literal below
        // would live to its end, and a second lock of the same mutex there
        // would wait forever.
        let failed_seeds = self
            .failed_seeds
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        CrawlSummary {
            fetched: self.fetched(),
            indexed: self.indexed(),
            redirects: self.redirects.load(Relaxed),
            retries: self.retries.load(Relaxed),
            truncated: self.truncated.load(Relaxed),
            bytes: self.bytes.load(Relaxed),
            links_queued: self.links_queued.load(Relaxed),
            sitemaps_fetched: self.sitemaps_fetched.load(Relaxed),
            sitemaps_missing: self.sitemaps_missing.load(Relaxed),
            host_backoffs: self.host_backoffs.load(Relaxed),
            revisits: self.revisits.load(Relaxed),
            changed: self.changed.load(Relaxed),
            not_modified: self.not_modified.load(Relaxed),
            removed: self.removed.load(Relaxed),
            duplicates: self.duplicates.lock().unwrap_or_else(|p| p.into_inner()).clone(),
            sitemap_urls: self.sitemap_urls.load(Relaxed),
            dns_hits: dns.hits.load(Relaxed),
            dns_misses: dns.misses.load(Relaxed),
            robots: [
                (RobotsOutcome::Parsed, robots.parsed.load(Relaxed)),
                (RobotsOutcome::Unavailable, robots.unavailable.load(Relaxed)),
                (RobotsOutcome::Unreachable, robots.unreachable.load(Relaxed)),
            ]
            .into_iter()
            .filter(|(_, count)| *count > 0)
            .collect(),
            skipped,
            by_status: self.by_status.lock().unwrap_or_else(|p| p.into_inner()).clone(),
            every_seed_failed: !self.seed_answered.load(Relaxed) && !failed_seeds.is_empty(),
            failed_seeds,
            elapsed_secs: elapsed.as_secs_f64(),
            next_revisit_ms: None,
        }
    }
}

/// What a crawl did, printed at its end and saved in the data directory.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CrawlSummary {
    /// HTTP responses received.
    pub fetched: u64,
    /// Pages made durable in the index.
    pub indexed: u64,
    pub redirects: u64,
    pub retries: u64,
    /// Pages cut at the body size cap (they are still indexed).
    pub truncated: u64,
    pub bytes: u64,
    pub links_queued: u64,
    /// Sitemaps read (their responses are not in `fetched` or `by_status`,
    /// which count pages).
    pub sitemaps_fetched: u64,
    /// Sitemaps not there (most sites have no /sitemap.xml) or unreadable.
    pub sitemaps_missing: u64,
    /// Links given back because their host's name or robots.txt failed.
    pub host_backoffs: u64,
    /// Pages queued again because their next visit came due.
    pub revisits: u64,
    /// Revisited pages whose text had changed.
    pub changed: u64,
    /// Revisits answered 304 Not Modified.
    pub not_modified: u64,
    /// Pages removed from the index on a revisit: gone (404, 410), moved
    /// (a redirect) or no longer to be indexed (noindex).
    pub removed: u64,
    /// The first duplicates dropped, with the page each repeats.
    pub duplicates: Vec<(String, String)>,
    /// URLs queued from sitemaps.
    pub sitemap_urls: u64,
    pub dns_hits: u64,
    pub dns_misses: u64,
    /// robots.txt fetches by outcome.
    pub robots: BTreeMap<RobotsOutcome, u64>,
    pub skipped: BTreeMap<SkipReason, u64>,
    pub by_status: BTreeMap<u16, u64>,
    /// Seeds whose host could not be reached, with why (at most 100).
    pub failed_seeds: Vec<(String, SkipReason)>,
    /// No seed's host answered, and some was given up on: the crawl could
    /// not start at all (a batch run then exits with an error).
    pub every_seed_failed: bool,
    pub elapsed_secs: f64,
    /// When the first page crawled so far comes due for a visit (ms since
    /// the Unix epoch).
    pub next_revisit_ms: Option<u64>,
}

impl CrawlSummary {
    pub fn skipped(&self, reason: SkipReason) -> u64 {
        self.skipped.get(&reason).copied().unwrap_or(0)
    }

    /// Nothing was fetched or queued: a rerun of a finished crawl (not a
    /// crawl whose seeds all failed, which says so).
    pub fn had_nothing_to_do(&self) -> bool {
        self.fetched == 0 && self.links_queued == 0 && self.revisits == 0 && self.failed_seeds.is_empty()
    }

    pub fn pages_per_sec(&self) -> f64 {
        if self.elapsed_secs > 0.0 {
            self.fetched as f64 / self.elapsed_secs
        } else {
            0.0
        }
    }
}

/// `3 h 20 min`, `42 s`: a duration as a person reads it.
pub fn in_words(ms: u64) -> String {
    let secs = ms.div_ceil(1000);
    match secs {
        0..=89 => format!("{secs} s"),
        90..=5399 => format!("{} min", (secs + 30) / 60),
        5400..=172_799 => format!("{} h {} min", secs / 3600, secs % 3600 / 60),
        _ => format!("{} days", (secs + 43_200) / 86_400),
    }
}

impl fmt::Display for CrawlSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "crawl finished in {:.1} s", self.elapsed_secs)?;
        if self.had_nothing_to_do() {
            let next = match self.next_revisit_ms {
                Some(at) => format!(
                    ", and the next page comes due for a visit in {}",
                    in_words(at.saturating_sub(crate::crawled::now_ms()))
                ),
                None => String::new(),
            };
            writeln!(
                f,
                "  nothing to do: every seed and link was crawled before{next}. \
                 --recrawl fetches every page again; a new --seed adds one."
            )?;
        }
        writeln!(
            f,
            "  fetched     {:>9}  ({:.1} pages/s, {:.1} MB)",
            self.fetched,
            self.pages_per_sec(),
            self.bytes as f64 / 1e6
        )?;
        writeln!(f, "  indexed     {:>9}", self.indexed)?;
        writeln!(f, "  redirects   {:>9}", self.redirects)?;
        writeln!(f, "  retries     {:>9}", self.retries)?;
        writeln!(f, "  new links   {:>9}", self.links_queued)?;
        if self.sitemaps_fetched + self.sitemaps_missing > 0 {
            writeln!(
                f,
                "  sitemaps    {:>9}  ({} URLs queued, {} missing or unreadable)",
                self.sitemaps_fetched, self.sitemap_urls, self.sitemaps_missing
            )?;
        }
        if self.host_backoffs > 0 {
            writeln!(
                f,
                "  host waits  {:>9}  (links put back while their host failed: DNS, connection, robots.txt)",
                self.host_backoffs
            )?;
        }
        if self.revisits + self.not_modified + self.removed > 0 {
            writeln!(
                f,
                "  revisits    {:>9}  ({} changed, {} not modified, {} removed: gone, moved or noindex)",
                self.revisits, self.changed, self.not_modified, self.removed
            )?;
        }
        let robots: Vec<String> = self
            .robots
            .iter()
            .map(|(outcome, n)| format!("{}: {n}", outcome.as_str()))
            .collect();
        writeln!(
            f,
            "  robots.txt  {}",
            if robots.is_empty() {
                "-".into()
            } else {
                robots.join(", ")
            }
        )?;
        writeln!(
            f,
            "  dns cache   {} hits, {} misses",
            self.dns_hits, self.dns_misses
        )?;
        if self.truncated > 0 {
            writeln!(
                f,
                "  truncated   {:>9}  (body over the size cap, indexed cut)",
                self.truncated
            )?;
        }
        let statuses: Vec<String> = self.by_status.iter().map(|(s, n)| format!("{s}: {n}")).collect();
        writeln!(
            f,
            "  by status   {}",
            if statuses.is_empty() {
                "-".into()
            } else {
                statuses.join(", ")
            }
        )?;
        if self.skipped.is_empty() {
            writeln!(f, "  skipped     none")?;
        } else {
            writeln!(f, "  skipped")?;
            for (reason, count) in &self.skipped {
                writeln!(f, "    {:<18}{:>9}", reason.as_str(), count)?;
            }
            for (url, original) in &self.duplicates {
                writeln!(f, "      {url} repeats {original}")?;
            }
        }
        for (url, reason) in &self.failed_seeds {
            writeln!(f, "  seed failed {url} ({reason})")?;
        }
        write!(f, "  errors      {:>9}", self.skipped(SkipReason::Error))
    }
}
