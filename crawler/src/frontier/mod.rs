//! The frontier: every URL waiting to be fetched, in priority order, with
//! the politeness clock of every host.
//!
//! Claiming a link takes a lease on it: the link stays owned by the
//! claimer until it is completed, retried or given back, and comes back by
//! itself when the lease's deadline passes (the claimer died). A host has
//! at most `max_in_flight_per_host` claimed links whose fetch has not
//! finished, and is not claimed again before its politeness delay runs out.
//!
//! A link's life in the frontier: [`Frontier::add`] (dropped if its URL was
//! ever seen) -> [`Frontier::claim`] -> [`Frontier::release_host`] when the
//! fetch is over -> [`Frontier::complete`] once its page is durable
//! downstream (or skipped), [`Frontier::retry`] or [`Frontier::give_back`].

use std::time::Duration;

use common::{HostKey, NormalizedUrl};

#[cfg(test)]
mod conformance;
pub mod embedded;
pub mod redis;

pub use self::embedded::EmbeddedFrontier;
pub use self::redis::{RedisFrontier, RedisFrontierConfig};

/// What a link points at, which decides how its response is read.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum LinkKind {
    /// An HTML page: parsed, indexed, its links followed.
    #[default]
    Page,
    /// A sitemap or sitemap index: its URLs are queued.
    Sitemap,
}

/// A link to add to the frontier.
#[derive(Debug, Clone, PartialEq)]
pub struct NewLink {
    pub url: NormalizedUrl,
    pub depth: u32,
    /// Higher is fetched first.
    pub priority: f64,
    pub kind: LinkKind,
    /// How many redirects led to this URL (0 for a link found on a page).
    pub redirects: u8,
    /// URLs of its host queued at most, when that is below the frontier's
    /// `max_urls_per_host` (a site rule's `max_pages`).
    pub host_budget: Option<u64>,
    /// Requests in flight to its host at most, instead of the frontier's
    /// `max_in_flight_per_host` (a site rule's `per_host`). The frontier
    /// keeps the last one its host's links came with; a link without one
    /// gives its host the frontier's limit back.
    pub host_in_flight: Option<usize>,
}

impl NewLink {
    pub fn page(url: NormalizedUrl, depth: u32, priority: f64) -> NewLink {
        NewLink {
            url,
            depth,
            priority,
            kind: LinkKind::Page,
            redirects: 0,
            host_budget: None,
            host_in_flight: None,
        }
    }
}

/// A claimed link.
#[derive(Debug, Clone, PartialEq)]
pub struct Lease {
    pub url: NormalizedUrl,
    pub host: HostKey,
    pub depth: u32,
    pub priority: f64,
    /// How many times this link was retried before.
    pub retries: u32,
    pub kind: LinkKind,
    pub redirects: u8,
    /// Tells this lease from a later one on the same URL (taken after this
    /// one expired): only the current lease can end it.
    pub token: u64,
}

/// What [`Frontier::add`] did with the links it was given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AddReport {
    /// Queued: never seen before and within the limits.
    pub added: usize,
    /// Refused: their host already had `max_urls_per_host` URLs.
    pub over_host_budget: usize,
    /// Refused: their path already had `max_queries_per_path` query strings
    /// (a calendar, a session id in every link).
    pub too_many_queries: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    Leased(Lease),
    /// Links are queued, but none may be fetched before this much time.
    Wait(Duration),
    /// Nothing is queued and nothing is leased.
    Empty,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// The link will be claimable again after the delay.
    Requeued,
    /// The link used up its retries; the caller completes it as failed.
    GaveUp,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FrontierCounts {
    /// Links waiting to be claimed (including those waiting to be retried).
    pub queued: u64,
    /// Links claimed and not yet completed, retried or given back.
    pub leased: u64,
    /// Distinct URLs ever added.
    pub seen: u64,
    /// Hosts with links queued that wait for their politeness clock (or a
    /// back-off) before the next may be fetched.
    pub resting_hosts: u64,
    /// Of the queued links, those waiting to be tried again after an error
    /// (a 5xx, a timeout), each until its back-off is over.
    pub retrying: u64,
}

#[derive(Debug, Clone, Copy)]
pub struct FrontierConfig {
    pub max_in_flight_per_host: usize,
    /// How long a claim holds a link before it returns to the frontier.
    pub lease_duration: Duration,
    pub max_retries: u32,
    /// URLs queued per host at most, over the life of the crawl.
    pub max_urls_per_host: u64,
    /// Distinct query strings queued per path at most.
    pub max_queries_per_path: u64,
}

impl Default for FrontierConfig {
    fn default() -> Self {
        FrontierConfig {
            max_in_flight_per_host: 1,
            // Covers the gates (a bounded wait for the IP's slot, a robots.txt
            // fetch), a slow fetch, and the wait for the page to be committed
            // downstream; a dead worker's links come back after it.
            lease_duration: Duration::from_secs(300),
            max_retries: 3,
            // Enough for the largest documentation sites (the Rust docs are
            // about 48,000 pages); a host past it is most likely a trap.
            max_urls_per_host: 200_000,
            // Product listings (`/item?id=N`) legitimately have many; an
            // endless calendar or a session id in every link has more.
            max_queries_per_path: 500,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FrontierError {
    #[error("frontier storage: {0}")]
    Storage(String),
    #[error("corrupt frontier record for {url}: {reason}")]
    Corrupt { url: String, reason: String },
    /// The shared frontier this worker was crawling is gone (see
    /// `frontier::redis`): the crawl must stop, loudly.
    #[error("{0}")]
    Lost(String),
}

pub type Result<T, E = FrontierError> = std::result::Result<T, E>;

#[async_trait::async_trait]
pub trait Frontier: Send + Sync {
    /// Queues the links whose URLs were never seen and that are within the
    /// per-host and per-path limits; records the refused ones as seen so
    /// each is counted once.
    async fn add(&self, links: Vec<NewLink>) -> Result<AddReport>;

    /// Records URLs that will never be fetched (out of scope, too deep) as
    /// seen; returns how many were new, so each is counted once.
    async fn mark_seen(&self, urls: Vec<NormalizedUrl>) -> Result<usize>;

    /// Leases the highest-priority link among hosts that may be fetched now.
    async fn claim(&self) -> Result<Claim>;

    /// The fetch of `lease` is over: its host may be fetched again after
    /// `delay`. Completing, retrying or giving back a lease whose host was
    /// not released releases it with no delay.
    async fn release_host(&self, lease: &Lease, delay: Duration) -> Result<()>;

    /// The link is done for good.
    async fn complete(&self, lease: &Lease) -> Result<()>;

    /// The link failed and may succeed later: queue it again, with a lower
    /// priority, not before `delay`, unless it used up its retries.
    async fn retry(&self, lease: &Lease, delay: Duration) -> Result<RetryDecision>;

    /// Return the link untouched (shutdown before it was fetched).
    async fn give_back(&self, lease: &Lease) -> Result<()>;

    /// Queues again links to pages fetched before, whose next visit is due
    /// (the freshness schedule): seen or not, unless they are queued or
    /// leased already. Returns how many were queued.
    async fn revisit(&self, links: Vec<NewLink>) -> Result<usize>;

    /// The partition of a host: the unit a shared frontier spreads over
    /// workers, and the scope of near-duplicate detection. One for a
    /// frontier that is not shared.
    fn partition_of(&self, _host: &HostKey) -> u32 {
        0
    }

    async fn counts(&self) -> Result<FrontierCounts>;

    /// This worker stops: hand over whatever it holds for others to go on
    /// with (a shared frontier's partitions). Links it still leases come
    /// back when their leases expire.
    async fn close(&self) -> Result<()> {
        Ok(())
    }
}
