//! robots.txt (RFC 9309): fetched once per origin, cached, and asked
//! before every fetch.
//!
//! What a fetch of `/robots.txt` means (RFC 9309 2.3.1):
//! - 2xx: its rules apply;
//! - 3xx: followed for up to five hops, to other hosts too; past that the
//!   file counts as unavailable;
//! - 4xx: unavailable, everything is allowed, except 429 (Too Many
//!   Requests), which is read as unreachable: a server asking us to slow
//!   down has not said "crawl everything" (Google reads it the same way);
//! - 5xx or a network error: unreachable, nothing is allowed until a later
//!   fetch succeeds (after `unreachable_retry`).
//!
//! A cached answer is used for at most `max_age` (24 hours, RFC 9309 2.4).
//! The first time an origin's robots.txt is read, its `Sitemap:` lines and
//! `/sitemap.xml` are handed back for the frontier.

pub mod rules;

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::NormalizedUrl;
use lru::LruCache;
use serde::Serialize;
use tokio::time::Instant;
use tracing::debug;

pub use rules::{MAX_ROBOTS_BYTES, RobotsTxt, Rules};

use crate::fetch::{Fetcher, is_retryable, redirect_location};
use crate::sites::SiteRules;

#[derive(Debug, Clone)]
pub struct RobotsConfig {
    /// A parsed or unavailable robots.txt is fetched again after this.
    pub max_age: Duration,
    /// An unreachable robots.txt is tried again after this.
    pub unreachable_retry: Duration,
    /// A fetch of robots.txt, redirects included, gives up after this.
    pub fetch_timeout: Duration,
    /// Redirects followed when fetching robots.txt (RFC 9309 asks for at least five).
    pub max_redirects: u8,
    /// Origins cached at most; past it, the least recently used go.
    pub max_origins: usize,
    /// Queue the sitemaps robots.txt names, and `/sitemap.xml`.
    pub discover_sitemaps: bool,
}

impl Default for RobotsConfig {
    fn default() -> Self {
        RobotsConfig {
            max_age: Duration::from_secs(24 * 3600),
            // As often as a failing host is tried again (HostFailurePolicy):
            // a host whose robots.txt fails is given up on after a few
            // tries, and each try must fetch the file anew.
            unreachable_retry: Duration::from_secs(10),
            fetch_timeout: Duration::from_secs(60),
            max_redirects: 5,
            max_origins: 100_000,
            discover_sitemaps: true,
        }
    }
}

/// How an origin's robots.txt fetch ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RobotsOutcome {
    /// 2xx: rules parsed.
    Parsed,
    /// 4xx, or too many redirects: everything allowed.
    Unavailable,
    /// 5xx or a network error: nothing allowed for now.
    Unreachable,
}

impl RobotsOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            RobotsOutcome::Parsed => "parsed",
            RobotsOutcome::Unavailable => "unavailable",
            RobotsOutcome::Unreachable => "unreachable",
        }
    }
}

/// May this URL be fetched?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    Disallowed,
    /// The robots.txt could not be read: try the URL again later.
    Unreachable,
}

#[derive(Debug, Clone)]
pub struct RobotsAnswer {
    pub verdict: Verdict,
    /// This check fetched robots.txt (a request went to the host).
    pub fetched_now: bool,
    /// The robots.txt fetch got no answer at all (no name, no connection,
    /// a timeout): the host is down, rather than its file unavailable.
    pub no_answer: bool,
    pub crawl_delay: Option<Duration>,
    /// Sitemaps to queue: not empty only once per origin.
    pub new_sitemaps: Vec<NormalizedUrl>,
}

/// Counts of robots.txt fetch outcomes.
#[derive(Debug, Default)]
pub struct RobotsStats {
    pub parsed: AtomicU64,
    pub unavailable: AtomicU64,
    pub unreachable: AtomicU64,
}

impl RobotsStats {
    fn record(&self, outcome: RobotsOutcome) {
        match outcome {
            RobotsOutcome::Parsed => &self.parsed,
            RobotsOutcome::Unavailable => &self.unavailable,
            RobotsOutcome::Unreachable => &self.unreachable,
        }
        .fetch_add(1, Relaxed);
        metrics::counter!(common::metrics::CRAWLER_ROBOTS_FETCHES, "outcome" => outcome.as_str())
            .increment(1);
    }
}

struct Entry {
    rules: Rules,
    outcome: RobotsOutcome,
    /// The fetch got no HTTP answer (see [`RobotsAnswer::no_answer`]).
    no_answer: bool,
    expires_at: Instant,
}

/// One origin's cached robots.txt. Checks read the cached answer without
/// waiting on anything; the async mutex makes concurrent fetches of one
/// origin's file wait for a single request, and remembers whether its
/// sitemaps were handed out.
#[derive(Default)]
struct OriginSlot {
    entry: std::sync::RwLock<Option<Arc<Entry>>>,
    fetching: tokio::sync::Mutex<SitemapsQueued>,
}

#[derive(Default)]
struct SitemapsQueued(bool);

impl OriginSlot {
    fn fresh_entry(&self) -> Option<Arc<Entry>> {
        let entry = self.entry.read().unwrap_or_else(|p| p.into_inner());
        entry
            .as_ref()
            .filter(|entry| entry.expires_at > Instant::now())
            .cloned()
    }
}

pub struct RobotsCache {
    config: RobotsConfig,
    product_token: String,
    /// Site rules: a site's own user agent names its own product token.
    sites: Arc<SiteRules>,
    origins: Mutex<LruCache<String, Arc<OriginSlot>>>,
    pub stats: RobotsStats,
}

impl RobotsCache {
    /// `user_agent` is the crawler's User-Agent; its product token (the
    /// part before the first `/` or space) is what robots.txt groups name.
    pub fn new(config: RobotsConfig, user_agent: &str) -> RobotsCache {
        let product_token = product_token(user_agent);
        let capacity = NonZeroUsize::new(config.max_origins.max(1)).expect("at least 1");
        RobotsCache {
            config,
            product_token,
            sites: Arc::default(),
            origins: Mutex::new(LruCache::new(capacity)),
            stats: RobotsStats::default(),
        }
    }

    /// Reads the robots.txt of a site whose rule names a user agent for
    /// that agent's product token.
    pub fn with_sites(mut self, sites: Arc<SiteRules>) -> RobotsCache {
        self.sites = sites;
        self
    }

    /// The name robots.txt groups and `X-Robots-Tag` scopes use for us.
    pub fn product_token(&self) -> &str {
        &self.product_token
    }

    /// The product token for `url`'s host: its site rule's user agent's,
    /// or the crawl's.
    pub fn product_token_for(&self, url: &NormalizedUrl) -> String {
        match self.sites.user_agent_for(url) {
            Some(agent) => product_token(agent),
            None => self.product_token.clone(),
        }
    }

    /// Whether `url` may be fetched, reading its origin's robots.txt first
    /// when it is not cached or its cached copy expired.
    pub async fn check(&self, fetcher: &Fetcher, url: &NormalizedUrl) -> RobotsAnswer {
        let path = path_and_query(url);
        let origin = url.as_url().origin().ascii_serialization();
        let slot = self.slot(&origin);
        if let Some(entry) = slot.fresh_entry() {
            return answer(&entry, &path);
        }
        let mut sitemaps_queued = slot.fetching.lock().await;
        // Another check may have fetched it while this one waited.
        if let Some(entry) = slot.fresh_entry() {
            return answer(&entry, &path);
        }
        let (entry, listed_sitemaps) = self.fetch(fetcher, &origin).await;
        let mut new_sitemaps = Vec::new();
        if entry.outcome != RobotsOutcome::Unreachable && !sitemaps_queued.0 && self.config.discover_sitemaps
        {
            sitemaps_queued.0 = true;
            new_sitemaps = sitemap_urls(&origin, &listed_sitemaps);
        }
        let entry = Arc::new(entry);
        *slot.entry.write().unwrap_or_else(|p| p.into_inner()) = Some(entry.clone());
        RobotsAnswer {
            fetched_now: true,
            new_sitemaps,
            ..answer(&entry, &path)
        }
    }

    fn slot(&self, origin: &str) -> Arc<OriginSlot> {
        let mut origins = self.origins.lock().unwrap_or_else(|p| p.into_inner());
        // A slot evicted while a check holds it lives on in that check's Arc.
        origins
            .get_or_insert(origin.to_string(), Default::default)
            .clone()
    }

    /// Fetches `origin`'s robots.txt; returns the cache entry and the
    /// sitemaps it lists.
    async fn fetch(&self, fetcher: &Fetcher, origin: &str) -> (Entry, Vec<String>) {
        let fetched =
            tokio::time::timeout(self.config.fetch_timeout, self.fetch_rules(fetcher, origin)).await;
        let (outcome, rules, sitemaps, no_answer) = fetched.unwrap_or_else(|_| {
            debug!(origin, "robots.txt fetch timed out");
            (
                RobotsOutcome::Unreachable,
                Rules::disallow_all(),
                Vec::new(),
                true,
            )
        });
        self.stats.record(outcome);
        debug!(origin, ?outcome, "robots.txt fetched");
        let ttl = match outcome {
            RobotsOutcome::Unreachable => self.config.unreachable_retry,
            _ => self.config.max_age,
        };
        (
            Entry {
                rules,
                outcome,
                no_answer,
                expires_at: Instant::now() + ttl,
            },
            sitemaps,
        )
    }

    /// Fetches and reads an origin's robots.txt: its outcome, rules and
    /// sitemaps, and whether the host gave no answer at all.
    async fn fetch_rules(
        &self,
        fetcher: &Fetcher,
        origin: &str,
    ) -> (RobotsOutcome, Rules, Vec<String>, bool) {
        let unavailable = || (RobotsOutcome::Unavailable, Rules::allow_all(), Vec::new(), false);
        let unreachable = || {
            (
                RobotsOutcome::Unreachable,
                Rules::disallow_all(),
                Vec::new(),
                false,
            )
        };
        let Ok(mut url) = NormalizedUrl::parse(&format!("{origin}/robots.txt")) else {
            return unavailable();
        };
        for _hop in 0..=self.config.max_redirects {
            // One byte past the parse limit tells the parser the file went on,
            // so a line cut by the limit is dropped rather than misread.
            let response = match fetcher
                .get_raw(&url, "text/plain, */*;q=0.5", MAX_ROBOTS_BYTES + 1)
                .await
            {
                Ok(response) => response,
                Err(error) => {
                    debug!(origin, %error, "robots.txt unreachable");
                    return (
                        RobotsOutcome::Unreachable,
                        Rules::disallow_all(),
                        Vec::new(),
                        true,
                    );
                }
            };
            match response.status {
                200..=299 => {
                    let robots = RobotsTxt::parse(&response.body);
                    let rules = robots.rules_for(&self.product_token_for(&url));
                    return (RobotsOutcome::Parsed, rules, robots.sitemaps().to_vec(), false);
                }
                300..=399 => match redirect_location(&url, &response.headers) {
                    Some(Ok(next)) => url = next,
                    _ => return unavailable(),
                },
                status if is_retryable(status) => return unreachable(),
                // 4xx; and 1xx or other oddities: no usable file.
                _ => return unavailable(),
            }
        }
        // RFC 9309 2.3.1.2: past five redirects the file may be assumed unavailable.
        unavailable()
    }
}

/// The product token of a User-Agent: the part before the first `/` or
/// space, which robots.txt groups name.
fn product_token(user_agent: &str) -> String {
    user_agent
        .split(['/', ' '])
        .next()
        .unwrap_or(user_agent)
        .to_string()
}

fn answer(entry: &Entry, path: &str) -> RobotsAnswer {
    let verdict = match entry.outcome {
        RobotsOutcome::Unreachable => Verdict::Unreachable,
        _ if entry.rules.is_allowed(path) => Verdict::Allowed,
        _ => Verdict::Disallowed,
    };
    RobotsAnswer {
        verdict,
        fetched_now: false,
        no_answer: entry.no_answer,
        crawl_delay: entry.rules.crawl_delay(),
        new_sitemaps: Vec::new(),
    }
}

/// The path and query of a URL, as robots.txt rules match them.
fn path_and_query(url: &NormalizedUrl) -> String {
    match url.as_url().query() {
        Some(query) => format!("{}?{query}", url.as_url().path()),
        None => url.as_url().path().to_string(),
    }
}

/// The sitemaps robots.txt lists (resolved against the origin), then
/// `/sitemap.xml` unless listed.
fn sitemap_urls(origin: &str, listed: &[String]) -> Vec<NormalizedUrl> {
    let Ok(base) = url::Url::parse(origin) else {
        return Vec::new();
    };
    let mut urls: Vec<NormalizedUrl> = listed
        .iter()
        .filter_map(|s| NormalizedUrl::join(&base, s).ok())
        .collect();
    if let Ok(default) = NormalizedUrl::join(&base, "/sitemap.xml")
        && !urls.contains(&default)
    {
        urls.push(default);
    }
    urls
}
