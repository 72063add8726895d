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

pub use embedded::EmbeddedFrontier;

/// A link to add to the frontier.
#[derive(Debug, Clone, PartialEq)]
pub struct NewLink {
    pub url: NormalizedUrl,
    pub depth: u32,
    /// Higher is fetched first.
    pub priority: f64,
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
}

#[derive(Debug, Clone, Copy)]
pub struct FrontierConfig {
    pub max_in_flight_per_host: usize,
    /// How long a claim holds a link before it returns to the frontier.
    pub lease_duration: Duration,
    pub max_retries: u32,
}

impl Default for FrontierConfig {
    fn default() -> Self {
        FrontierConfig {
            max_in_flight_per_host: 1,
            // Covers a slow fetch plus the wait for the page to be committed
            // downstream; a dead worker's links come back after it.
            lease_duration: Duration::from_secs(120),
            max_retries: 3,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FrontierError {
    #[error("frontier storage: {0}")]
    Storage(String),
    #[error("corrupt frontier record for {url}: {reason}")]
    Corrupt { url: String, reason: String },
}

pub type Result<T, E = FrontierError> = std::result::Result<T, E>;

#[async_trait::async_trait]
pub trait Frontier: Send + Sync {
    /// Queues the links whose URLs were never seen; returns how many.
    async fn add(&self, links: Vec<NewLink>) -> Result<usize>;

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

    async fn counts(&self) -> Result<FrontierCounts>;
}
