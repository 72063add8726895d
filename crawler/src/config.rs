//! What a crawl is told: seeds, scope, limits, politeness.

use std::time::Duration;

use common::NormalizedUrl;

use crate::crawled::FreshnessConfig;
use crate::dns::{AddressPolicy, DnsConfig};
use crate::fetch::FetchConfig;
use crate::politeness::PolitenessConfig;
use crate::robots::RobotsConfig;
use crate::scope::{Scope, ScopeRules};
use crate::trap::TrapLimits;

/// Links per hop from the seeds are worth this much less (priority decays
/// geometrically with depth, so the crawl is breadth-first by default).
pub const DEPTH_DECAY: f64 = 0.9;

/// Sitemaps are fetched before the pages found by following links.
pub const SITEMAP_PRIORITY: f64 = 0.95;

/// Fetches in flight across all hosts.
pub const DEFAULT_CONCURRENCY: usize = 64;

/// Deep enough for books whose chapters link only to the next one (the
/// Rust book is a chain of about 110 pages: mdBook builds its table of
/// contents in JavaScript); traps are bounded by scope and budgets first.
pub const DEFAULT_MAX_DEPTH: u32 = 256;

/// Redirect hops followed from one link; a longer chain is a trap.
pub const DEFAULT_MAX_REDIRECTS: u8 = 10;

/// How long a stopping crawl waits for in-flight links to finish before it
/// gives back those that have not. Below `trawl`'s shutdown deadline
/// (`SHUTDOWN_DEADLINE` in src/signal.rs), so that the links are given back
/// before the process is made to exit.
pub const DEFAULT_DRAIN_TIMEOUT: Duration = Duration::from_secs(20);

/// Sitemap indexes may point at sitemaps, which may not point further
/// (sitemaps.org); one more level tolerates sites that nest anyway.
pub const MAX_SITEMAP_DEPTH: u32 = 2;

#[derive(Debug, Clone)]
pub struct CrawlConfig {
    pub seeds: Vec<NormalizedUrl>,
    /// Seeds ranked by the operator; the others have priority 1.
    pub seed_priorities: std::collections::HashMap<NormalizedUrl, f64>,
    /// How far from the seeds links are followed.
    pub scope: Scope,
    /// When not empty, only links under one of these prefixes are followed.
    pub include: Vec<NormalizedUrl>,
    /// Stop after this many fetches in this run.
    pub max_pages: Option<u64>,
    /// Stop when the frontier has nothing queued or leased (a batch run).
    /// A daemon sharing a frontier with other workers keeps waiting for work.
    pub stop_when_empty: bool,
    /// Links further than this many hops from a seed are not followed.
    pub max_depth: u32,
    pub max_redirects: u8,
    pub concurrency: usize,
    pub politeness: PolitenessConfig,
    pub address_policy: AddressPolicy,
    pub fetch: FetchConfig,
    pub dns: DnsConfig,
    pub robots: RobotsConfig,
    pub traps: TrapLimits,
    /// Threads parsing HTML at once (parsing is the CPU-heavy stage).
    pub parse_threads: usize,
    /// First retry delay after a network error or a 5xx; doubles per retry.
    pub retry_base_delay: Duration,
    /// How hosts that keep failing are tried again, then given up on.
    pub host_failures: HostFailurePolicy,
    /// When fetched pages are visited again.
    pub freshness: FreshnessConfig,
    /// How often a daemon looks for pages whose next visit is due (a batch
    /// run looks once, at its start).
    pub revisit_scan_every: Duration,
    /// When stopping, how long in-flight links may take to finish; the
    /// rest go back to the frontier.
    pub drain_timeout: Duration,
    pub progress: Progress,
    /// Archive every exchange as WARC here (`--warc`), if anywhere.
    pub warc: Option<crate::warc::WarcConfig>,
    /// Per-site rules and `--exclude` patterns.
    pub sites: std::sync::Arc<crate::sites::SiteRules>,
    /// Queue every page crawled before again at the start (`--recrawl`),
    /// not only those whose next visit is due.
    pub recrawl: bool,
}

impl CrawlConfig {
    /// Whether the crawl can run with these settings: the limits that
    /// would stop it for good (no fetch slot, no parse thread) or that
    /// contradict each other. The binary's settings are checked before
    /// they get here (`trawl::cli`), with the flags' names.
    pub fn validate(&self) -> Result<(), String> {
        if self.concurrency == 0 {
            return Err("concurrency must be at least 1".into());
        }
        if self.parse_threads == 0 {
            return Err("parse_threads must be at least 1".into());
        }
        if self.politeness.max_in_flight_per_ip == 0 {
            return Err("politeness.max_in_flight_per_ip must be at least 1".into());
        }
        if self.freshness.min_interval > self.freshness.max_interval {
            return Err("freshness.min_interval is above freshness.max_interval".into());
        }
        Ok(())
    }

    pub fn new(seeds: Vec<NormalizedUrl>) -> CrawlConfig {
        CrawlConfig {
            seeds,
            seed_priorities: Default::default(),
            scope: Scope::default(),
            include: Vec::new(),
            max_pages: None,
            stop_when_empty: true,
            max_depth: DEFAULT_MAX_DEPTH,
            max_redirects: DEFAULT_MAX_REDIRECTS,
            concurrency: DEFAULT_CONCURRENCY,
            politeness: PolitenessConfig::default(),
            address_policy: AddressPolicy::default(),
            fetch: FetchConfig::default(),
            dns: DnsConfig::default(),
            robots: RobotsConfig::default(),
            traps: TrapLimits::default(),
            // One more than the cores: parsing is the main CPU work, and with
            // exactly one parse per core a core idles while the next page is
            // handed over (measured: 12% idle, BENCHMARKS.md).
            parse_threads: std::thread::available_parallelism().map_or(2, |n| n.get()) + 1,
            retry_base_delay: Duration::from_secs(2),
            host_failures: HostFailurePolicy::default(),
            freshness: FreshnessConfig::default(),
            revisit_scan_every: Duration::from_secs(60),
            drain_timeout: DEFAULT_DRAIN_TIMEOUT,
            progress: Progress::Quiet,
            warc: None,
            sites: Default::default(),
            recrawl: false,
        }
    }

    pub fn scope_rules(&self) -> ScopeRules {
        ScopeRules::new(self.scope, &self.seeds, &self.include)
    }
}

/// How a host that fails (its name does not resolve, it takes no
/// connection, it does not answer, its robots.txt is unreachable) is tried
/// again: after each failure in a row it rests `first_backoff`, then four
/// times as long each time; after `max_failures` in a row it counts as
/// unreachable. A batch run then skips its links (`host_unreachable`), so
/// it ends whatever the web does; a daemon puts them off and tries the
/// host again after `retry_unreachable_after`.
#[derive(Debug, Clone)]
pub struct HostFailurePolicy {
    pub max_failures: u32,
    pub first_backoff: Duration,
    pub retry_unreachable_after: Duration,
}

impl Default for HostFailurePolicy {
    fn default() -> Self {
        // Three tries over about 10 s (more when DNS remembers a failure,
        // see DnsConfig::negative_ttl): a host down for longer than that
        // during a batch run loses its links for this run, not the run its
        // end.
        HostFailurePolicy {
            max_failures: 3,
            first_backoff: Duration::from_secs(2),
            retry_unreachable_after: Duration::from_secs(30 * 60),
        }
    }
}

impl HostFailurePolicy {
    /// The rest after the `in_a_row`th failure in a row.
    pub fn backoff(&self, in_a_row: u32) -> Duration {
        self.first_backoff
            .saturating_mul(4u32.saturating_pow(in_a_row.saturating_sub(1)))
    }
}

/// How a running crawl reports progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// A live progress bar (for a terminal).
    Bar,
    /// A log line every few seconds.
    Log,
    Quiet,
}
