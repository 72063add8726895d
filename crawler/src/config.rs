//! What a crawl is told: seeds, scope, limits and politeness.

use std::time::Duration;

use common::NormalizedUrl;

use crate::dns::DnsConfig;
use crate::fetch::FetchConfig;

/// Links per hop from the seeds are worth this much less (priority decays
/// geometrically with depth, so the crawl is breadth-first by default).
pub const DEPTH_DECAY: f64 = 0.9;

/// Fetches in flight across all hosts.
pub const DEFAULT_CONCURRENCY: usize = 64;

/// Politeness: the minimum gap between two requests to one host.
pub const DEFAULT_DELAY: Duration = Duration::from_secs(1);

/// Deep enough for books whose chapters link only to the next one (the
/// Rust book is a chain of about 110 pages: mdBook builds its table of
/// contents in JavaScript); traps are bounded by scope and budgets first.
pub const DEFAULT_MAX_DEPTH: u32 = 256;

#[derive(Debug, Clone)]
pub struct CrawlConfig {
    pub seeds: Vec<NormalizedUrl>,
    /// When not empty, only links under one of these prefixes are followed.
    pub include: Vec<NormalizedUrl>,
    /// Stop after this many fetches in this run.
    pub max_pages: Option<u64>,
    /// Links further than this many hops from a seed are not followed.
    pub max_depth: u32,
    pub concurrency: usize,
    pub delay: Duration,
    pub allow_private: bool,
    pub fetch: FetchConfig,
    pub dns: DnsConfig,
    /// Threads parsing HTML at once (parsing is the CPU-heavy stage).
    pub parse_threads: usize,
    pub progress: Progress,
}

impl CrawlConfig {
    pub fn new(seeds: Vec<NormalizedUrl>) -> CrawlConfig {
        CrawlConfig {
            seeds,
            include: Vec::new(),
            max_pages: None,
            max_depth: DEFAULT_MAX_DEPTH,
            concurrency: DEFAULT_CONCURRENCY,
            delay: DEFAULT_DELAY,
            allow_private: false,
            fetch: FetchConfig::default(),
            dns: DnsConfig::default(),
            parse_threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
            progress: Progress::Quiet,
        }
    }

    /// Whether a discovered link is in scope.
    pub fn in_scope(&self, url: &NormalizedUrl) -> bool {
        self.include.is_empty() || self.include.iter().any(|prefix| url.starts_with(prefix))
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
