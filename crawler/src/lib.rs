//! The crawler: it takes links from the frontier, fetches them politely,
//! parses them, queues the links it finds and publishes the pages.
//!
//! It owns the frontier and everything between a claimed link and a
//! published page. It must not index or store pages itself: pages leave it
//! only through a [`common::queue::PageSink`], and a link is completed only
//! once the sink confirms its page is durable.
//!
//! A URL's life begins in [`common::normalize`] and, inside this crate, runs
//! through [`crawl`]: claimed from the [`frontier`], resolved by [`dns`],
//! fetched by [`fetch`], parsed by [`parse`], published, and completed.
//!
//! - [`config`]: seeds, scope, limits, politeness.
//! - [`crawl`]: the dispatcher and the life of one link.
//! - [`frontier`]: the `Frontier` trait, its embedded (RocksDB) and Redis implementations.
//! - [`crawled`]: `crawled_links`: signatures, near-duplicates, validators, next visits.
//! - [`robots`]: robots.txt (RFC 9309): fetching, caching, matching.
//! - [`dns`]: resolution with a TTL cache, `--resolve` overrides, the address guard.
//! - [`politeness`]: per-host delays and the per-IP limit.
//! - [`fetch`]: HTTP with timeouts, size caps, sniffing and charset decoding.
//! - [`parse`]: HTML to title, text, headings and links.
//! - [`sitemap`]: sitemaps and sitemap indexes, plain or gzipped.
//! - [`scope`]: which links a crawl follows (`--scope`, `--include`).
//! - [`sites`]: per-site rules (delay, page budget, user agent, patterns) and `--exclude`.
//! - [`trap`]: URLs shaped like crawler traps.
//! - [`refused`]: the refused URLs a worker has recorded, not to record them again.
//! - [`stats`]: counters and the end-of-run summary.
//! - [`progress`]: the progress bar or log lines of a running crawl.
//! - [`warc`]: WARC/1.1 archives of every exchange, with a CDXJ index.

pub mod config;
pub mod crawl;
pub mod crawled;
pub mod dns;
pub mod fetch;
pub mod frontier;
pub mod parse;
pub mod politeness;
pub mod progress;
pub mod refused;
pub mod robots;
pub mod scope;
pub mod sitemap;
pub mod sites;
pub mod stats;
pub mod trap;
pub mod warc;

pub use config::{CrawlConfig, Progress};
pub use crawl::run;
pub use stats::CrawlSummary;

#[derive(Debug, thiserror::Error)]
pub enum CrawlError {
    #[error(transparent)]
    Frontier(#[from] frontier::FrontierError),
    #[error(transparent)]
    Fetch(#[from] fetch::FetchError),
    #[error("page queue: {0}")]
    Queue(#[from] common::queue::QueueError),
    #[error(transparent)]
    Crawled(#[from] crawled::CrawledError),
    #[error("crawl task failed: {0}")]
    Task(String),
    /// A configuration that cannot run ([`CrawlConfig::validate`]).
    #[error("invalid crawl configuration: {0}")]
    Config(String),
}
