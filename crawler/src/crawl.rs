//! The crawl loop: where a claimed link becomes a fetched, parsed and
//! published page.
//!
//! One dispatcher claims links from the frontier while link slots are free
//! (twice `--concurrency`) and spawns one task per link. A link's task
//! passes the gates (the address guard, the per-IP limit, a fetch slot,
//! robots.txt), fetches, frees the IP's and the fetch slot, releases the
//! host's politeness clock, then reads the response: a page is parsed (on
//! the blocking pool, `parse_threads` at a time), its links are queued, it
//! is published, the link slot is freed, and the link is completed once the
//! page is durable downstream. `--concurrency` counts requests in flight
//! only: a link waiting for its IP or a page being parsed holds no fetch
//! slot, and the wait for durability holds no slot at all, so a commit
//! interval never throttles fetching. A sitemap's URLs are queued.
//!
//! Every page fetched is recorded in [`crawled_links`](crate::crawled): a
//! page whose text repeats another page of its partition (exactly, or
//! within 3 bits of simhash) is not indexed and its links are not
//! followed. Each recorded page gets a next visit; pages that come due are
//! queued again (at the start of a run, and periodically in a daemon) and
//! fetched with a conditional GET: 304 keeps the page, 404 or 410 removes it
//! from the index, a changed text indexes it again.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use common::message::{MAX_OUTLINKS, Outlink};
use common::metrics::{self as names, GaugeGuard};
use common::queue::{PageSink, QueueError};
use common::signature::{content_hash, lead_simhash, text_simhash};
use common::{DocId, NormalizedUrl, PageEvent, PageMessage, SkipReason};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tracing::{debug, info, warn};

use crate::CrawlError;
use crate::config::{CrawlConfig, DEPTH_DECAY, HostFailurePolicy, MAX_SITEMAP_DEPTH, SITEMAP_PRIORITY};
use crate::crawled::{CrawledLink, CrawledLinks, FetchedVisit, Sameness, now_ms, title_hash};
use crate::dns::{DnsError, Resolver};
use crate::fetch::{
    FetchError, FetchResponse, FetchedPage, Fetcher, Validators, is_retryable, redirect_location, retry_after,
};
use crate::frontier::{AddReport, Claim, Frontier, Lease, LinkKind, NewLink, RetryDecision};
use crate::parse::{ParsedPage, header_robots_directives, parse_page};
use crate::politeness::{IpLimiter, PolitenessConfig};
use crate::progress::Reporter;
use crate::refused::RefusedUrls;
use crate::robots::{RobotsCache, Verdict};
use crate::scope::ScopeRules;
use crate::sitemap::{MAX_SITEMAP_BYTES, parse_sitemap};
use crate::stats::{CrawlStats, CrawlSummary};
use crate::trap::check_url;
use crate::warc::WarcWriter;

/// How long the dispatcher sleeps at most when nothing is claimable; other
/// workers (distributed mode) or expiring leases may change that any time.
const MAX_IDLE_POLL: Duration = Duration::from_millis(200);

const RETRY_MAX_DELAY: Duration = Duration::from_secs(600);

/// How long a link waits for a slot at its IP address before it goes back
/// to the frontier (many hosts on one address must not hold its lease for
/// ever), and how long its host rests then.
const IP_SLOT_WAIT: Duration = Duration::from_secs(30);
const IP_BUSY_REST: Duration = Duration::from_secs(1);

/// Links a worker holds at once, per fetch slot (`--concurrency`): besides
/// the fetches in flight, links waiting for their IP's slot and pages being
/// parsed and handed on. A link that waits for its IP, or a page that
/// waits for a parse thread, must not keep a fetch from starting.
const LINKS_PER_FETCH_SLOT: usize = 2;

/// Sitemaps taken from one robots.txt or sitemap index at most.
const MAX_SITEMAPS_PER_SOURCE: usize = 50;

const SITEMAP_ACCEPT: &str = "application/xml, text/xml;q=0.9, */*;q=0.5";

/// Due pages handed to the frontier per call.
const REVISIT_BATCH: usize = 1000;

/// Runs a crawl until the frontier is exhausted, `max_pages` links were
/// claimed, or `shutdown` resolves; then drains in-flight links and returns
/// what it did. `crawled` is this worker's `crawled_links`.
pub async fn run(
    config: CrawlConfig,
    frontier: Arc<dyn Frontier>,
    crawled: Arc<CrawledLinks>,
    sink: Arc<dyn PageSink>,
    shutdown: impl Future<Output = ()>,
) -> Result<CrawlSummary, CrawlError> {
    config.validate().map_err(CrawlError::Config)?;
    let started = Instant::now();
    let resolver = Arc::new(Resolver::new(&config.dns, config.address_policy.clone()));
    let mut fetcher = Fetcher::new(config.fetch.clone(), resolver)?.with_sites(config.sites.clone());
    if let Some(warc) = &config.warc {
        let writer = WarcWriter::open(warc.clone()).map_err(|e| {
            CrawlError::Config(format!("opening the WARC directory {}: {e}", warc.dir.display()))
        })?;
        fetcher = fetcher.with_warc(Arc::new(writer));
    }
    let stats = Arc::new(CrawlStats::default());
    register_metrics();
    info!(
        seeds = config.seeds.len(),
        scope = ?config.scope,
        include = config.include.len(),
        max_pages = ?config.max_pages,
        max_depth = config.max_depth,
        stop_when_empty = config.stop_when_empty,
        concurrency = config.concurrency,
        parse_threads = config.parse_threads,
        min_delay_ms = config.politeness.min_delay.as_millis() as u64,
        user_agent = %config.fetch.user_agent,
        "crawl starting"
    );
    let health = HostHealth::new(config.host_failures.clone());
    let crawler = Arc::new(Crawler {
        parse_slots: Arc::new(Semaphore::new(config.parse_threads)),
        fetch_slots: Arc::new(Semaphore::new(config.concurrency)),
        ip_limiter: IpLimiter::new(config.politeness.max_in_flight_per_ip),
        robots: RobotsCache::new(config.robots.clone(), &config.fetch.user_agent)
            .with_sites(config.sites.clone()),
        scope: config.scope_rules(),
        config,
        frontier: frontier.clone(),
        crawled,
        sink,
        fetcher,
        stats: stats.clone(),
        health,
        wakeup: Notify::new(),
        held: HeldLeases::default(),
        refused: RefusedUrls::default(),
        stopping: watch::Sender::new(false),
    });
    let seeds = crawler
        .config
        .seeds
        .iter()
        .map(|url| {
            NewLink::page(
                url.clone(),
                0,
                crawler.config.seed_priorities.get(url).copied().unwrap_or(1.0),
            )
        })
        .collect();
    crawler.add_links(seeds).await?;

    let reporter = Reporter::start(
        crawler.config.progress,
        stats.clone(),
        frontier,
        crawler.config.max_pages,
    );
    let result = crawler.dispatch(shutdown).await;
    reporter.finish().await;
    result?;
    let mut summary = stats.summary(
        started.elapsed(),
        &crawler.fetcher.resolver().stats,
        &crawler.robots.stats,
    );
    summary.next_revisit_ms = crawler.crawled.next_due_ms()?;
    Ok(summary)
}

/// What every link task shares.
struct Crawler {
    config: CrawlConfig,
    scope: ScopeRules,
    frontier: Arc<dyn Frontier>,
    crawled: Arc<CrawledLinks>,
    sink: Arc<dyn PageSink>,
    fetcher: Fetcher,
    robots: RobotsCache,
    ip_limiter: IpLimiter,
    stats: Arc<CrawlStats>,
    parse_slots: Arc<Semaphore>,
    /// `--concurrency`: requests in flight, robots.txt and sitemaps included.
    fetch_slots: Arc<Semaphore>,
    health: HostHealth,
    /// Signalled when a task may have made a link claimable (a host was
    /// released, links were added), so the dispatcher need not poll.
    wakeup: Notify,
    held: HeldLeases,
    /// The refused URLs this worker has recorded, not to record them again
    /// for every page that links to them.
    refused: RefusedUrls,
    /// True once the crawl stops claiming: a link still waiting for a slot
    /// at its IP goes back at once instead of holding up the drain.
    stopping: watch::Sender<bool>,
}

/// The links this worker holds: claimed, and not yet completed, retried or
/// given back by their task. What a drain that runs out of time gives back,
/// so that they are fetched again at once (by this worker when it resumes,
/// or by another) rather than after their leases expire.
#[derive(Default)]
struct HeldLeases {
    /// By URL and lease token: a lease that expired and was claimed again is
    /// another lease.
    leases: std::sync::Mutex<HashMap<(NormalizedUrl, u64), Lease>>,
}

impl HeldLeases {
    fn hold(&self, lease: &Lease) {
        let mut leases = self.leases.lock().unwrap_or_else(|p| p.into_inner());
        leases.insert((lease.url.clone(), lease.token), lease.clone());
        metrics::gauge!(names::CRAWLER_LEASES_HELD).set(leases.len() as f64);
    }

    fn let_go(&self, lease: &Lease) {
        let mut leases = self.leases.lock().unwrap_or_else(|p| p.into_inner());
        leases.remove(&(lease.url.clone(), lease.token));
        metrics::gauge!(names::CRAWLER_LEASES_HELD).set(leases.len() as f64);
    }

    fn take_all(&self) -> Vec<Lease> {
        let mut leases = self.leases.lock().unwrap_or_else(|p| p.into_inner());
        metrics::gauge!(names::CRAWLER_LEASES_HELD).set(0.0);
        leases.drain().map(|(_, lease)| lease).collect()
    }
}

/// Hosts that keep failing: their name does not resolve, they take no
/// connection, they do not answer, or their robots.txt is unreachable.
/// Each failure in a row rests the host longer ([`HostFailurePolicy`]);
/// after `max_failures` the host counts as unreachable and its links are
/// skipped (a batch run, which so always ends) or put off until the host is
/// tried again (a daemon). Any answer from the host ends its run of
/// failures. Kept in memory: a worker that restarts gives every host a
/// fresh start.
struct HostHealth {
    policy: HostFailurePolicy,
    failing: std::sync::Mutex<HashMap<common::HostKey, HostFailures>>,
}

struct HostFailures {
    in_a_row: u32,
    last: Instant,
}

/// What one more failure of a host means.
enum HostVerdict {
    /// Try again after this rest.
    Rest(Duration),
    /// The host failed `max_failures` times in a row.
    Unreachable,
}

impl HostHealth {
    fn new(policy: HostFailurePolicy) -> HostHealth {
        HostHealth {
            policy,
            failing: Default::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<common::HostKey, HostFailures>> {
        self.failing.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts one more failure in a row; returns it with what it means.
    fn failed(&self, host: &common::HostKey) -> (u32, HostVerdict) {
        let mut failing = self.lock();
        let entry = failing.entry(host.clone()).or_insert(HostFailures {
            in_a_row: 0,
            last: Instant::now(),
        });
        entry.in_a_row += 1;
        entry.last = Instant::now();
        let verdict = if entry.in_a_row >= self.policy.max_failures {
            HostVerdict::Unreachable
        } else {
            HostVerdict::Rest(self.policy.backoff(entry.in_a_row))
        };
        (entry.in_a_row, verdict)
    }

    /// How much longer the host counts as unreachable, if it does.
    fn unreachable_for(&self, host: &common::HostKey) -> Option<Duration> {
        let failing = self.lock();
        let entry = failing.get(host)?;
        if entry.in_a_row < self.policy.max_failures {
            return None;
        }
        self.policy
            .retry_unreachable_after
            .checked_sub(entry.last.elapsed())
            .filter(|left| !left.is_zero())
    }

    /// The host answered.
    fn recovered(&self, host: &common::HostKey) {
        let mut failing = self.lock();
        if !failing.is_empty() {
            failing.remove(host);
        }
    }
}

/// What a request holds while it is in flight: one of its IP address's
/// slots and one of the crawl's fetch slots. Dropped when the answer is in.
struct RequestSlots {
    _ip: OwnedSemaphorePermit,
    _fetch: OwnedSemaphorePermit,
}

/// What the gates before a fetch decided.
enum Gate {
    /// Fetch while holding `slots`, then rest the host at least `crawl_delay`.
    Open {
        slots: RequestSlots,
        crawl_delay: Option<Duration>,
    },
    /// Skip the link. `requested`: a request went to the host (robots.txt),
    /// so it rests as after any request.
    Refused { reason: SkipReason, requested: bool },
    /// The host cannot be visited now (its name does not resolve, its
    /// robots.txt is unreachable): see [`Crawler::host_failed`]. `counts`:
    /// this was a new failure (not a remembered one), and the host rests
    /// at least `rest`.
    HostDown {
        reason: SkipReason,
        rest: Duration,
        counts: bool,
        error: String,
    },
    /// Not now: the link goes back and its host rests `rest`. The IP's
    /// slots stayed taken; or robots.txt was fetched just now and allows
    /// the link, and that was a request to the host, so the page waits
    /// its delay (or Crawl-delay) like any next request.
    Later { rest: Duration },
}

impl Crawler {
    async fn dispatch(self: &Arc<Self>, shutdown: impl Future<Output = ()>) -> Result<(), CrawlError> {
        tokio::pin!(shutdown);
        let link_slots = Arc::new(Semaphore::new(self.config.concurrency * LINKS_PER_FETCH_SLOT));
        let mut tasks: JoinSet<Result<(), CrawlError>> = JoinSet::new();
        let mut claimed = 0u64;
        self.queue_revisits(self.config.recrawl).await?;
        let mut last_revisit_scan = Instant::now();
        loop {
            while let Some(done) = tasks.try_join_next() {
                reap(done)?;
            }
            if !self.config.stop_when_empty && last_revisit_scan.elapsed() >= self.config.revisit_scan_every {
                self.queue_revisits(false).await?;
                last_revisit_scan = Instant::now();
            }
            if self.config.max_pages.is_some_and(|max| claimed >= max) {
                info!(claimed, "page budget of this run reached");
                break;
            }
            let permit = tokio::select! {
                biased;
                _ = &mut shutdown => break,
                permit = link_slots.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            };
            let wait = match self.frontier.claim().await? {
                Claim::Leased(lease) => {
                    claimed += 1;
                    self.stats.record_waiting(None);
                    self.held.hold(&lease);
                    let crawler = self.clone();
                    tasks.spawn(async move { crawler.crawl_link_guarded(lease, permit).await });
                    continue;
                }
                Claim::Wait(wait) => {
                    self.stats.record_waiting(Some(wait));
                    wait.min(MAX_IDLE_POLL)
                }
                Claim::Empty if tasks.is_empty() && self.config.stop_when_empty => break,
                Claim::Empty => MAX_IDLE_POLL,
            };
            drop(permit);
            tokio::select! {
                biased;
                _ = &mut shutdown => break,
                Some(done) = tasks.join_next(), if !tasks.is_empty() => reap(done)?,
                _ = self.wakeup.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }

        // Stop claiming; let every claimed link finish: its fetch, its
        // publication, and the confirmation that completes it.
        self.stopping.send_replace(true);
        let in_flight = tasks.len();
        if in_flight > 0 {
            info!(in_flight, "draining in-flight links");
        }
        let drain = async {
            while let Some(done) = tasks.join_next().await {
                reap(done)?;
            }
            Ok::<_, CrawlError>(())
        };
        match tokio::time::timeout(self.config.drain_timeout, drain).await {
            Ok(result) => {
                if in_flight > 0 {
                    info!(finished = in_flight, "drain done");
                }
                result
            }
            Err(_) => {
                // Stop the stragglers, then hand their links back: nothing
                // of theirs may touch a lease after it is given back.
                tasks.abort_all();
                while tasks.join_next().await.is_some() {}
                let unfinished = self.held.take_all();
                warn!(
                    finished = in_flight.saturating_sub(unfinished.len()),
                    given_back = unfinished.len(),
                    timeout_ms = self.config.drain_timeout.as_millis() as u64,
                    "drain timed out; giving back the unfinished links"
                );
                for lease in &unfinished {
                    self.frontier.give_back(lease).await?;
                }
                Ok(())
            }
        }
    }

    /// Runs [`Crawler::crawl_link`]; if it panics (a bug, whatever the
    /// input), the link is skipped as an error instead of coming back with
    /// its lease to panic again.
    async fn crawl_link_guarded(
        self: Arc<Self>,
        lease: Lease,
        link_slot: OwnedSemaphorePermit,
    ) -> Result<(), CrawlError> {
        use futures::FutureExt;
        let link = std::panic::AssertUnwindSafe(self.crawl_link(lease.clone(), link_slot));
        let result = match link.catch_unwind().await {
            Ok(result) => result,
            Err(_) => {
                warn!(url = %lease.url, "link task panicked; skipping the link");
                match self.release_host(&lease, Duration::ZERO).await {
                    Ok(()) => self.skip(&lease, SkipReason::Error).await,
                    Err(error) => Err(error),
                }
            }
        };
        // Done with, or (on an error, which ends the crawl) left to its lease.
        self.held.let_go(&lease);
        result
    }

    /// The life of one claimed link.
    async fn crawl_link(&self, lease: Lease, link_slot: OwnedSemaphorePermit) -> Result<(), CrawlError> {
        if let Some(left) = self.health.unreachable_for(&lease.host) {
            self.release_host(&lease, Duration::ZERO).await?;
            return self
                .put_off_unreachable(&lease, SkipReason::HostUnreachable, left)
                .await;
        }
        let (slots, crawl_delay) = match self.pass_gates(&lease).await? {
            Gate::Open { slots, crawl_delay } => (slots, crawl_delay),
            Gate::Refused { reason, requested } => {
                let rest = if requested {
                    self.politeness_for(&lease.url).min_delay
                } else {
                    Duration::ZERO
                };
                self.release_host(&lease, rest).await?;
                return self.skip(&lease, reason).await;
            }
            Gate::HostDown {
                reason,
                rest,
                counts,
                error,
            } => {
                return self.host_failed(&lease, reason, rest, counts, &error).await;
            }
            Gate::Later { rest } => {
                self.release_host(&lease, rest).await?;
                self.frontier.give_back(&lease).await?;
                return Ok(());
            }
        };
        match lease.kind {
            LinkKind::Page => self.crawl_page(lease, crawl_delay, slots, link_slot).await,
            LinkKind::Sitemap => self.crawl_sitemap(lease, crawl_delay, slots).await,
        }
    }

    /// The address guard, the IP's slot and a fetch slot (robots.txt is a
    /// request too), then robots.txt.
    async fn pass_gates(&self, lease: &Lease) -> Result<Gate, CrawlError> {
        let host = lease.url.as_url().host_str().unwrap_or_default();
        let ip = match self.fetcher.resolver().resolve(host).await {
            Ok(ips) => ips[0],
            Err(DnsError::PrivateAddress { ip, .. }) => {
                debug!(url = %lease.url, %ip, "refused: non-public address");
                return Ok(Gate::Refused {
                    reason: SkipReason::PrivateAddress,
                    requested: false,
                });
            }
            Err(error) => {
                debug!(url = %lease.url, %error, "DNS lookup failed");
                // A failed lookup is remembered for the negative TTL: the
                // host rests at least that long, or the next try would
                // only meet the remembered failure (which counts as none).
                let remembered = matches!(error, DnsError::Lookup { remembered: true, .. });
                return Ok(Gate::HostDown {
                    reason: SkipReason::HostUnreachable,
                    rest: self.config.dns.negative_ttl,
                    counts: !remembered,
                    error: error.to_string(),
                });
            }
        };
        let mut stopping = self.stopping.subscribe();
        let ip_slot = tokio::select! {
            slot = tokio::time::timeout(IP_SLOT_WAIT, self.ip_limiter.acquire(ip)) => match slot {
                Ok(slot) => slot,
                Err(_) => return Ok(Gate::Later { rest: IP_BUSY_REST }),
            },
            // Not fetched yet: the link goes back rather than hold up the drain.
            _ = stopping.wait_for(|stopping| *stopping) => return Ok(Gate::Later { rest: IP_BUSY_REST }),
        };
        // Taken after the IP's slot: a link waiting for its IP must not
        // hold one of the crawl's requests. Every holder of a fetch slot
        // is in a request that ends, so this wait is short.
        let fetch_slot = tokio::select! {
            slot = self.fetch_slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            _ = stopping.wait_for(|stopping| *stopping) => return Ok(Gate::Later { rest: IP_BUSY_REST }),
        };
        let slots = RequestSlots {
            _ip: ip_slot,
            _fetch: fetch_slot,
        };
        let robots = self.robots.check(&self.fetcher, &lease.url).await;
        if !robots.new_sitemaps.is_empty() {
            self.queue_sitemaps(&lease.url, robots.new_sitemaps, 0).await?;
        }
        if robots.verdict != Verdict::Unreachable {
            self.health.recovered(&lease.host);
            if lease.depth == 0 {
                self.stats.record_seed_answered();
            }
        }
        Ok(match robots.verdict {
            Verdict::Allowed if robots.fetched_now => Gate::Later {
                rest: self
                    .politeness_for(&lease.url)
                    .delay_after(Duration::ZERO, robots.crawl_delay),
            },
            Verdict::Allowed => Gate::Open {
                slots,
                crawl_delay: robots.crawl_delay,
            },
            Verdict::Disallowed => Gate::Refused {
                reason: SkipReason::Robots,
                requested: robots.fetched_now,
            },
            // RFC 9309 2.3.1.4: an unreachable robots.txt disallows
            // everything, until a later fetch of it succeeds.
            // Only a fetch made now counts as a failure; a remembered one
            // rests the host until robots.txt is tried again.
            Verdict::Unreachable => Gate::HostDown {
                reason: if robots.no_answer {
                    SkipReason::HostUnreachable
                } else {
                    SkipReason::Robots
                },
                rest: self.config.robots.unreachable_retry,
                counts: robots.fetched_now,
                error: if robots.no_answer {
                    "no answer to robots.txt".to_string()
                } else {
                    "robots.txt answered a server error".to_string()
                },
            },
        })
    }

    async fn crawl_page(
        &self,
        lease: Lease,
        crawl_delay: Option<Duration>,
        slots: RequestSlots,
        link_slot: OwnedSemaphorePermit,
    ) -> Result<(), CrawlError> {
        let partition = self.frontier.partition_of(&lease.host);
        let known = self.crawled.get(partition, &lease.url)?;
        let validators = known
            .as_ref()
            .map_or_else(Validators::default, |known| Validators {
                etag: known.etag.clone(),
                last_modified: known.last_modified.clone(),
            });
        let sent_validators = known.as_ref().is_some_and(CrawledLink::has_validators);
        let started = Instant::now();
        let response = {
            let _in_flight = GaugeGuard::new(metrics::gauge!(names::CRAWLER_FETCHES_IN_FLIGHT));
            self.fetcher.fetch(&lease.url, &validators).await
        };
        if response.is_ok() {
            metrics::histogram!(names::CRAWLER_FETCH_DURATION).record(started.elapsed().as_secs_f64());
        }
        drop(slots);
        if let Err(error) = &response
            && error.is_host_failure()
        {
            let rest = self.rest_after(&lease.url, None, None, started.elapsed(), crawl_delay);
            return self.fetch_failed(&lease, error, rest).await;
        }
        let (status, retry_after) = match &response {
            Ok(FetchResponse::Status { status, retry_after }) => (Some(*status), *retry_after),
            _ => (None, None),
        };
        if response.is_ok() {
            self.health.recovered(&lease.host);
            if lease.depth == 0 {
                self.stats.record_seed_answered();
            }
        }
        let rest = self.rest_after(&lease.url, status, retry_after, started.elapsed(), crawl_delay);
        if let Err(error) = &response {
            return self.fetch_failed(&lease, error, rest).await;
        }
        self.release_host(&lease, rest).await?;

        match response {
            Err(_) => unreachable!("handled above"),
            Ok(FetchResponse::Redirect { status, location }) => {
                self.stats.record_response(status, 0);
                self.stats.record_redirect();
                // A page that moved is indexed under its new URL, if at all.
                if let Some(known) = known
                    && !self.forget_page(&lease, partition, known).await?
                {
                    return self.skip(&lease, SkipReason::Error).await;
                }
                self.follow_redirect(&lease, location.ok()).await
            }
            Ok(FetchResponse::NotModified) => {
                self.stats.record_response(304, 0);
                if known.is_none() {
                    // A 304 to a GET that asked for none.
                    return self.skip(&lease, SkipReason::HttpStatus).await;
                }
                self.crawled
                    .record_not_modified(partition, &lease.url, now_ms())?;
                self.stats.record_not_modified();
                self.complete(&lease).await?;
                // Its validators were forgotten while this fetch was under
                // way ([`Crawler::refetch_whole`]: a page left its text
                // under this one's document): it is fetched again, whole.
                let forgotten = sent_validators
                    && self
                        .crawled
                        .get(partition, &lease.url)?
                        .is_some_and(|now| !now.has_validators());
                if forgotten {
                    self.refetch_whole(&lease.url).await?;
                }
                Ok(())
            }
            Ok(FetchResponse::Status {
                status: gone @ (404 | 410),
                ..
            }) if known.is_some() => {
                self.stats.record_response(gone, 0);
                let known = known.expect("checked by the guard");
                self.page_gone(&lease, partition, known).await
            }
            Ok(FetchResponse::Status { status, retry_after }) => {
                self.stats.record_response(status, 0);
                if is_retryable(status) {
                    self.retry_or_skip(&lease, SkipReason::HttpStatus, retry_after)
                        .await
                } else {
                    self.skip(&lease, SkipReason::HttpStatus).await
                }
            }
            Ok(FetchResponse::WrongType { status, content_type }) => {
                self.stats.record_response(status, 0);
                debug!(url = %lease.url, %content_type, "not HTML");
                self.skip(&lease, SkipReason::WrongType).await
            }
            Ok(FetchResponse::Page(page)) => {
                self.stats.record_response(page.status, page.body_bytes);
                if page.truncated {
                    self.stats.record_truncated();
                }
                self.index_page(lease, partition, known, page, link_slot).await
            }
        }
    }

    /// How long a host rests after a response: its `Retry-After` (or the
    /// default back-off) after 429 and 503, otherwise the politeness delay.
    fn rest_after(
        &self,
        url: &NormalizedUrl,
        status: Option<u16>,
        retry_after: Option<Duration>,
        response_time: Duration,
        crawl_delay: Option<Duration>,
    ) -> Duration {
        let politeness = self.politeness_for(url);
        match status {
            Some(429 | 503) => politeness.backoff(retry_after),
            _ => politeness.delay_after(response_time, crawl_delay),
        }
    }

    /// The politeness of `url`'s host: the crawl's, with its site rule's
    /// delay when it has one.
    fn politeness_for(&self, url: &NormalizedUrl) -> std::borrow::Cow<'_, PolitenessConfig> {
        match self.config.sites.for_url(url).and_then(|rule| rule.delay) {
            Some(min_delay) => std::borrow::Cow::Owned(PolitenessConfig {
                min_delay,
                ..self.config.politeness.clone()
            }),
            None => std::borrow::Cow::Borrowed(&self.config.politeness),
        }
    }

    /// A sitemap's URLs are queued; its outcome is counted with the
    /// sitemaps, apart from the pages.
    async fn crawl_sitemap(
        &self,
        lease: Lease,
        crawl_delay: Option<Duration>,
        slots: RequestSlots,
    ) -> Result<(), CrawlError> {
        let started = Instant::now();
        // One byte past the limit tells the parser the sitemap went on.
        let response = {
            let _in_flight = GaugeGuard::new(metrics::gauge!(names::CRAWLER_FETCHES_IN_FLIGHT));
            self.fetcher
                .get_raw(&lease.url, SITEMAP_ACCEPT, MAX_SITEMAP_BYTES + 1)
                .await
        };
        drop(slots);
        let (status, retry) = match &response {
            Ok(raw) => (Some(raw.status), retry_after(&raw.headers)),
            Err(_) => (None, None),
        };
        let rest = self.rest_after(&lease.url, status, retry, started.elapsed(), crawl_delay);
        let response = match response {
            Ok(response) => response,
            Err(error) => return self.fetch_failed(&lease, &error, rest).await,
        };
        self.health.recovered(&lease.host);
        self.release_host(&lease, rest).await?;
        match response.status {
            200..=299 => {}
            300..=399 => {
                let target = redirect_location(&lease.url, &response.headers).and_then(Result::ok);
                return self.follow_redirect(&lease, target).await;
            }
            status if is_retryable(status) => {
                return self.retry_or_skip(&lease, SkipReason::HttpStatus, retry).await;
            }
            status => {
                // Most sites have no /sitemap.xml: counted, but not as a failure of a page.
                debug!(url = %lease.url, status, "no sitemap");
                self.stats.record_sitemap_missing();
                self.complete(&lease).await?;
                return Ok(());
            }
        }
        let parsed = tokio::task::spawn_blocking(move || parse_sitemap(&response.body))
            .await
            .map_err(|e| CrawlError::Task(e.to_string()))?;
        let sitemap = match parsed {
            Ok(sitemap) => sitemap,
            Err(error) => {
                debug!(url = %lease.url, %error, "unreadable sitemap");
                self.stats.record_sitemap_missing();
                self.complete(&lease).await?;
                return Ok(());
            }
        };
        let depth = lease.depth + 1;
        let resolve = |entries: Vec<String>| -> Vec<NormalizedUrl> {
            entries
                .iter()
                .filter_map(|entry| NormalizedUrl::join(lease.url.as_url(), entry).ok())
                .collect()
        };
        let mut queued = self.queue_links(&lease, resolve(sitemap.pages), depth).await?;
        if depth <= MAX_SITEMAP_DEPTH {
            queued += self
                .queue_sitemaps(&lease.url, resolve(sitemap.sitemaps), depth)
                .await?;
        }
        self.stats.record_sitemap(queued);
        self.complete(&lease).await?;
        Ok(())
    }

    async fn index_page(
        &self,
        lease: Lease,
        partition: u32,
        known: Option<CrawledLink>,
        page: FetchedPage,
        link_slot: OwnedSemaphorePermit,
    ) -> Result<(), CrawlError> {
        let header_robots = page
            .x_robots_tag
            .as_deref()
            .map(|value| header_robots_directives(value, &self.robots.product_token_for(&lease.url)))
            .unwrap_or_default();
        let truncated = page.truncated;
        let validators = page.validators.clone();
        let (parsed, simhash, lead_simhash, content_hash) = {
            let _parse_slot = self
                .parse_slots
                .acquire()
                .await
                .expect("the semaphore is never closed");
            let url = lease.url.clone();
            tokio::task::spawn_blocking(move || {
                let parsed = parse_page(url.as_url(), &page.body);
                let simhash = text_simhash(&parsed.text);
                let lead = lead_simhash(&parsed.text);
                let content_hash = content_hash(&parsed.text);
                (parsed, simhash, lead, content_hash)
            })
            .await
            .map_err(|e| CrawlError::Task(e.to_string()))?
        };
        let noindex = parsed.meta_robots.noindex || header_robots.noindex;
        let nofollow = parsed.meta_robots.nofollow || header_robots.nofollow;
        // The cap cut the page before any of its text.
        let empty = truncated && parsed.text.is_empty();
        // A page that sends the browser on at once is a redirect: its
        // target is followed as one, and its own text is not indexed (a
        // "Redirecting..." stub whose canonical link is the target would
        // otherwise replace the target's text in the index).
        if let Some(target) = parsed.redirect.clone().filter(|target| *target != lease.url) {
            self.stats.record_redirect();
            let forgotten = match known {
                // Indexed before under the target's id (its canonical link
                // named the target): the document is the target's too, and
                // stays. The target is fetched again whole, so that its own
                // text replaces whatever this page left there.
                Some(known) if known.indexed() && known.doc_id == DocId::of(&target).0 => {
                    self.crawled.remove(partition, &lease.url)?;
                    self.refetch_whole(&target).await?;
                    true
                }
                Some(known) => self.forget_page(&lease, partition, known).await?,
                None => true,
            };
            if !forgotten {
                return self.skip(&lease, SkipReason::Error).await;
            }
            return self.follow_redirect(&lease, Some(target)).await;
        }

        let canonical_url = canonical_url(&lease, &parsed);
        let doc_id = DocId::of(&canonical_url);
        if !noindex && !empty {
            let verdict = self.crawled.record_page(
                partition,
                FetchedVisit {
                    url: &lease.url,
                    doc_id: doc_id.0,
                    depth: lease.depth,
                    priority: lease.priority,
                    simhash,
                    lead_simhash,
                    title_hash: title_hash(&parsed.title),
                    content_hash,
                    etag: validators.etag,
                    last_modified: validators.last_modified,
                    now_ms: now_ms(),
                },
            )?;
            common::failpoint::hit("crawl.recorded");
            // What the index holds for this URL from an earlier visit, and
            // no longer should: the page became a duplicate, or it is now
            // indexed under another canonical URL.
            let stale = verdict
                .previous
                .as_ref()
                .filter(|previous| previous.indexed())
                .map(|previous| DocId(previous.doc_id))
                .filter(|previous| verdict.sameness != Sameness::Original || *previous != doc_id);
            if let Some(stale) = stale
                && !self.remove_from_index(&lease, stale).await?
            {
                return self.skip(&lease, SkipReason::Error).await;
            }
            if verdict.changed {
                self.stats.record_changed();
            }
            let (reason, original) = match verdict.sameness {
                Sameness::Original => (None, String::new()),
                Sameness::Exact { of } => (Some(SkipReason::DuplicateContent), of),
                Sameness::Near { of, .. } => (Some(SkipReason::NearDuplicate), of),
            };
            if let Some(reason) = reason {
                // Not indexed, its links not followed: a copy leads where
                // its original led.
                debug!(url = %lease.url, %original, ?reason, "duplicate page");
                self.stats.record_duplicate(reason, lease.url.as_str(), &original);
                self.complete(&lease).await?;
                return Ok(());
            }
        }

        if !nofollow {
            let links = parsed
                .links
                .iter()
                .filter(|l| !l.nofollow)
                .map(|l| l.url.clone())
                .collect();
            self.queue_links(&lease, links, lease.depth + 1).await?;
        }
        if noindex || empty {
            // Indexed on an earlier visit: it must not stay.
            if let Some(known) = known
                && !self.forget_page(&lease, partition, known).await?
            {
                return self.skip(&lease, SkipReason::Error).await;
            }
            let reason = if noindex {
                SkipReason::Robots
            } else {
                SkipReason::TooLarge
            };
            return self.skip(&lease, reason).await;
        }

        let message = page_message(&lease, canonical_url, page.status, parsed, simhash, content_hash);
        let confirmation = self.sink.publish(PageEvent::Upsert(Box::new(message))).await;
        common::failpoint::hit("crawl.published");
        // The page is handed over: let another link be claimed while this
        // one waits for its page to become durable.
        drop(link_slot);
        match confirmation?.await {
            Ok(()) => {
                common::failpoint::hit("crawl.confirmed");
                self.stats.record_indexed();
                self.complete(&lease).await?;
                Ok(())
            }
            Err(QueueError::Rejected(reason)) => {
                warn!(url = %lease.url, %reason, "page rejected by the indexer");
                self.skip(&lease, SkipReason::Error).await
            }
            // The queue is gone: the crawl cannot go on. The link stays
            // leased, so a later run fetches it again.
            Err(error) => Err(error.into()),
        }
    }

    /// A page fetched before answered 404 or 410: it leaves the index, the
    /// docstore and `crawled_links`.
    async fn page_gone(&self, lease: &Lease, partition: u32, known: CrawledLink) -> Result<(), CrawlError> {
        if !self.forget_page(lease, partition, known).await? {
            return self.skip(lease, SkipReason::Error).await;
        }
        self.complete(lease).await?;
        Ok(())
    }

    /// A page fetched before is no longer one to index (gone, moved,
    /// noindex now): removes it from the index if it is there, then from
    /// `crawled_links`. False if the indexer rejected the removal.
    async fn forget_page(
        &self,
        lease: &Lease,
        partition: u32,
        known: CrawledLink,
    ) -> Result<bool, CrawlError> {
        if known.indexed() {
            if !self.remove_from_index(lease, DocId(known.doc_id)).await? {
                return Ok(false);
            }
            self.stats.record_removed();
        }
        self.crawled.remove(partition, &lease.url)?;
        Ok(true)
    }

    /// Has `url`, if it was crawled before, fetched again without its
    /// validators as soon as its host allows (a fetch already under way
    /// with them may still answer 304: then its next visit is whole).
    async fn refetch_whole(&self, url: &NormalizedUrl) -> Result<(), CrawlError> {
        let partition = self.frontier.partition_of(&url.host_key());
        if let Some(page) = self.crawled.forget_validators_of(partition, url)? {
            let link = NewLink::page(url.clone(), page.depth, page.revisit_priority());
            if self.frontier.revisit(vec![link]).await? > 0 {
                self.wakeup.notify_one();
            }
        }
        Ok(())
    }

    /// Publishes the removal of a document and waits until it is durable;
    /// false if the indexer rejected it.
    async fn remove_from_index(&self, lease: &Lease, doc_id: DocId) -> Result<bool, CrawlError> {
        let removal = PageEvent::Remove {
            doc_id,
            url: lease.url.clone(),
        };
        match self.sink.publish(removal).await?.await {
            Ok(()) => Ok(true),
            Err(QueueError::Rejected(reason)) => {
                warn!(url = %lease.url, %reason, "removal rejected by the indexer");
                Ok(false)
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Queues the pages whose next visit is due, the most overdue first;
    /// with `everything`, every page crawled before (`--recrawl`).
    async fn queue_revisits(&self, everything: bool) -> Result<(), CrawlError> {
        let now = now_ms();
        // Should the revisit never happen (its fetch fails for good), the
        // page comes due again after the longest interval.
        // (At least a second on: each pass must move its pages out of the
        // due range, or this loop would never end.)
        let fallback = now
            + self
                .config
                .freshness
                .max_interval
                .max(Duration::from_secs(1))
                .as_millis() as u64;
        // Every page is due before the fallback (no visit is planned
        // further away than the longest interval), and none is after its
        // pass: the loop ends.
        let due_by = if everything { fallback - 1 } else { now };
        loop {
            let due = self.crawled.due(due_by, REVISIT_BATCH)?;
            if due.is_empty() {
                return Ok(());
            }
            let links = due
                .iter()
                .filter_map(|(_, page)| {
                    let url = NormalizedUrl::parse(&page.url).ok()?;
                    Some(NewLink::page(url, page.depth, page.revisit_priority()))
                })
                .collect();
            let queued = self.frontier.revisit(links).await?;
            self.crawled.scheduled(&due, fallback)?;
            self.stats.record_revisits(queued);
            if queued > 0 {
                info!(queued, "pages due for a visit queued again");
                self.wakeup.notify_one();
            }
            if due.len() < REVISIT_BATCH {
                return Ok(());
            }
        }
    }

    /// Queues the redirect target of `lease` as one more hop of the same
    /// link, unless the chain got too long or went round.
    async fn follow_redirect(&self, lease: &Lease, target: Option<NormalizedUrl>) -> Result<(), CrawlError> {
        let Some(target) = target else {
            debug!(url = %lease.url, "redirect without a usable location");
            return self.skip(lease, SkipReason::Error).await;
        };
        let hops = lease.redirects.saturating_add(1);
        let refused = if hops > self.config.max_redirects || target == lease.url {
            Some(SkipReason::Trap)
        } else if lease.kind == LinkKind::Page && !self.scope.allows(&target) {
            Some(SkipReason::OutOfScope)
        } else if self.config.sites.excludes(&target) {
            Some(SkipReason::Excluded)
        } else if check_url(&target, &self.config.traps).is_err() {
            Some(SkipReason::Trap)
        } else {
            None
        };
        match refused {
            Some(reason) => {
                // The chain ends here: it is counted once, under its reason;
                // the target is only remembered, so it is not offered again.
                self.frontier.mark_seen(vec![target]).await?;
                self.stats.record_skip(reason);
            }
            None => {
                let link = NewLink {
                    url: target,
                    depth: lease.depth,
                    priority: lease.priority,
                    kind: lease.kind,
                    redirects: hops,
                    host_budget: None,
                    host_in_flight: None,
                };
                if self.add_links(vec![link]).await? == AddReport::default() {
                    // The target was seen before. Reached by a redirect itself,
                    // this URL is most likely a hop of a loop (a -> b -> a);
                    // otherwise it is another name of a known page.
                    let reason = if lease.redirects > 0 {
                        SkipReason::Trap
                    } else {
                        SkipReason::DuplicateUrl
                    };
                    self.stats.record_skip(reason);
                }
            }
        }
        self.complete(lease).await?;
        Ok(())
    }

    /// Queues sitemaps named by robots.txt or a sitemap index at `source`:
    /// those on the source's host or in the crawl's scope, at most
    /// `MAX_SITEMAPS_PER_SOURCE`. Others are counted out of scope; a site
    /// cannot send the crawl across the web through its sitemaps.
    async fn queue_sitemaps(
        &self,
        source: &NormalizedUrl,
        urls: Vec<NormalizedUrl>,
        depth: u32,
    ) -> Result<usize, CrawlError> {
        let (keep, refused): (Vec<_>, Vec<_>) = urls
            .into_iter()
            .partition(|url| url.host_key() == source.host_key() || self.scope.allows(url));
        let (mut keep, excluded): (Vec<_>, Vec<_>) =
            keep.into_iter().partition(|url| !self.config.sites.excludes(url));
        let over = keep.split_off(keep.len().min(MAX_SITEMAPS_PER_SOURCE));
        self.refuse(refused, SkipReason::OutOfScope).await?;
        self.refuse(excluded, SkipReason::Excluded).await?;
        self.refuse(over, SkipReason::Budget).await?;
        let links = keep
            .into_iter()
            .map(|url| NewLink {
                url,
                depth,
                priority: SITEMAP_PRIORITY,
                kind: LinkKind::Sitemap,
                redirects: 0,
                host_budget: None,
                host_in_flight: None,
            })
            .collect();
        Ok(self.add_links(links).await?.added)
    }

    /// Queues the pages found at `lease` (on a page or in a sitemap) that
    /// are in scope, not too deep and not shaped like traps; records the
    /// others as seen, so each skipped URL is counted once. Returns how many
    /// were queued.
    async fn queue_links(
        &self,
        lease: &Lease,
        urls: Vec<NormalizedUrl>,
        depth: u32,
    ) -> Result<usize, CrawlError> {
        let mut keep = Vec::new();
        let mut out_of_scope = Vec::new();
        let mut excluded = Vec::new();
        let mut traps = Vec::new();
        for url in urls {
            if !self.scope.allows(&url) {
                out_of_scope.push(url);
            } else if self.config.sites.excludes(&url) {
                excluded.push(url);
            } else if depth > self.config.max_depth || check_url(&url, &self.config.traps).is_err() {
                traps.push(url);
            } else {
                keep.push(url);
            }
        }
        self.refuse(out_of_scope, SkipReason::OutOfScope).await?;
        self.refuse(excluded, SkipReason::Excluded).await?;
        self.refuse(traps, SkipReason::Trap).await?;
        debug!(from = %lease.url, links = keep.len(), "queueing links");
        // A seed's rank carries down, decaying by hop: the children of a
        // seed ranked 0.1 never outrank those of a seed ranked 1.
        let priority = (lease.priority * DEPTH_DECAY).min(1.0);
        let links = keep
            .into_iter()
            .map(|url| NewLink::page(url, depth, priority))
            .collect();
        Ok(self.add_links(links).await?.added)
    }

    /// Records URLs that will not be fetched as seen, and counts under
    /// `reason` those not seen before: each refused URL counts once.
    async fn refuse(&self, urls: Vec<NormalizedUrl>, reason: SkipReason) -> Result<(), CrawlError> {
        // Those this worker recorded before would count 0 new: the frontier
        // is not asked again.
        let (urls, hashes) = self.refused.not_recorded(urls);
        if !urls.is_empty() {
            let new = self.frontier.mark_seen(urls).await?;
            self.refused.recorded(&hashes);
            self.stats.record_skips(reason, new as u64);
        }
        Ok(())
    }

    /// Adds links to the frontier and counts what it refused.
    async fn add_links(&self, mut links: Vec<NewLink>) -> Result<AddReport, CrawlError> {
        if links.is_empty() {
            return Ok(AddReport::default());
        }
        if !self.config.sites.is_empty() {
            for link in &mut links {
                let rule = self.config.sites.for_url(&link.url);
                link.host_budget = rule.and_then(|rule| rule.max_pages);
                link.host_in_flight = rule.and_then(|rule| rule.per_host);
            }
        }
        let report = self.frontier.add(links).await?;
        self.stats.record_links_queued(report.added);
        self.stats
            .record_skips(SkipReason::Budget, report.over_host_budget as u64);
        self.stats
            .record_skips(SkipReason::Trap, report.too_many_queries as u64);
        if report.added > 0 {
            self.wakeup.notify_one();
        }
        Ok(report)
    }

    async fn release_host(&self, lease: &Lease, rest: Duration) -> Result<(), CrawlError> {
        self.frontier.release_host(lease, rest).await?;
        self.wakeup.notify_one();
        Ok(())
    }

    /// A fetch got no answer. The host is released here: a failure of the
    /// host itself (no name, no connection, no response) rests it by the
    /// back-off of [`Crawler::host_failed`]; otherwise it rests `rest`.
    /// A URL the server was too slow for is tried twice at most.
    async fn fetch_failed(
        &self,
        lease: &Lease,
        error: &FetchError,
        rest: Duration,
    ) -> Result<(), CrawlError> {
        if let FetchError::Dns(DnsError::PrivateAddress { ip, .. }) = error {
            debug!(url = %lease.url, %ip, "refused: non-public address");
            self.release_host(lease, Duration::ZERO).await?;
            return self.skip(lease, SkipReason::PrivateAddress).await;
        }
        debug!(url = %lease.url, %error, "fetch failed");
        if error.is_host_failure() && !error.is_slow() {
            return self
                .host_failed(lease, SkipReason::HostUnreachable, rest, true, &error.to_string())
                .await;
        }
        let mut rest = rest;
        if error.is_host_failure() {
            // A request that got no response counts against the host too.
            match self.note_host_failure(lease, SkipReason::HostUnreachable, &error.to_string()) {
                HostVerdict::Rest(backoff) => rest = rest.max(backoff),
                HostVerdict::Unreachable => {
                    self.release_host(lease, Duration::ZERO).await?;
                    let retry_after = self.config.host_failures.retry_unreachable_after;
                    return self
                        .put_off_unreachable(lease, SkipReason::HostUnreachable, retry_after)
                        .await;
                }
            }
        }
        self.release_host(lease, rest).await?;
        if error.is_slow() {
            if lease.retries >= 1 {
                return self.skip(lease, SkipReason::TooSlow).await;
            }
            return self.retry_or_skip(lease, SkipReason::TooSlow, Some(rest)).await;
        }
        self.retry_or_skip(lease, SkipReason::Error, None).await
    }

    /// The host of `lease` failed (see [`HostHealth`]): the link goes back
    /// untouched (it spends none of its own retries) and the host rests by
    /// its back-off, at least `rest`; once the host failed
    /// `max_failures` times in a row, its links are skipped under
    /// `reason`, or put off in a daemon. `counts`: a new failure, rather
    /// than one remembered (a cached DNS failure, a cached unreachable
    /// robots.txt), which only rests the host.
    async fn host_failed(
        &self,
        lease: &Lease,
        reason: SkipReason,
        rest: Duration,
        counts: bool,
        error: &str,
    ) -> Result<(), CrawlError> {
        let verdict = if counts {
            self.note_host_failure(lease, reason, error)
        } else {
            HostVerdict::Rest(rest)
        };
        match verdict {
            HostVerdict::Rest(backoff) => {
                self.release_host(lease, backoff.max(rest)).await?;
                self.stats.record_host_backoff();
                self.frontier.give_back(lease).await?;
                Ok(())
            }
            HostVerdict::Unreachable => {
                // The failure may have been a request (robots.txt): the host
                // rests as after any, for the other workers, whose own
                // count of its failures is not at the limit yet.
                self.release_host(lease, self.politeness_for(&lease.url).min_delay)
                    .await?;
                let retry_after = self.config.host_failures.retry_unreachable_after;
                self.put_off_unreachable(lease, reason, retry_after).await
            }
        }
    }

    /// Counts a failure of the host of `lease` and logs it: a seed's host
    /// failing, and a host given up on, at WARN (an operator must hear of
    /// a crawl that cannot start), others at DEBUG.
    fn note_host_failure(&self, lease: &Lease, reason: SkipReason, error: &str) -> HostVerdict {
        let (in_a_row, verdict) = self.health.failed(&lease.host);
        let max_failures = self.config.host_failures.max_failures;
        match &verdict {
            HostVerdict::Unreachable if in_a_row == max_failures => warn!(
                host = %lease.host,
                %reason,
                failures = in_a_row,
                %error,
                "host unreachable: its links are skipped"
            ),
            HostVerdict::Rest(rest) if lease.depth == 0 && in_a_row == 1 => warn!(
                url = %lease.url,
                %error,
                retry_in_ms = rest.as_millis() as u64,
                "seed host failed; trying again"
            ),
            _ => debug!(host = %lease.host, %error, failures = in_a_row, "host failed"),
        }
        verdict
    }

    /// A link of a host that counts as unreachable: skipped in a batch run,
    /// which so ends; put off in a daemon until the host is tried again
    /// (`left`), which spends one of the link's retries.
    async fn put_off_unreachable(
        &self,
        lease: &Lease,
        reason: SkipReason,
        left: Duration,
    ) -> Result<(), CrawlError> {
        if self.config.stop_when_empty {
            if lease.depth == 0 {
                self.stats.record_seed_failed(lease.url.as_str(), reason);
            }
            return self.skip(lease, reason).await;
        }
        match self.frontier.retry(lease, left).await? {
            RetryDecision::Requeued => {
                self.stats.record_retry();
                Ok(())
            }
            RetryDecision::GaveUp => self.skip(lease, reason).await,
        }
    }

    async fn skip(&self, lease: &Lease, reason: SkipReason) -> Result<(), CrawlError> {
        self.stats.record_skip(reason);
        self.complete(lease).await?;
        Ok(())
    }

    /// The link is done for good: what its visit recorded in
    /// `crawled_links` stands (its page, or its removal, is durable by
    /// now), and the frontier forgets it. In this order: a crash between
    /// the two fetches the link again, and the upsert is idempotent.
    async fn complete(&self, lease: &Lease) -> Result<(), CrawlError> {
        self.crawled
            .settle(self.frontier.partition_of(&lease.host), &lease.url)?;
        self.frontier.complete(lease).await?;
        common::failpoint::hit("crawl.completed");
        Ok(())
    }

    /// Tries the link again later (after `retry_after` if the server named
    /// one), or counts it under `reason` once its retries are used up.
    async fn retry_or_skip(
        &self,
        lease: &Lease,
        reason: SkipReason,
        retry_after: Option<Duration>,
    ) -> Result<(), CrawlError> {
        let backoff = self
            .config
            .retry_base_delay
            .saturating_mul(1 << lease.retries.min(16))
            .min(RETRY_MAX_DELAY);
        let delay = retry_after.unwrap_or(backoff).min(RETRY_MAX_DELAY);
        match self.frontier.retry(lease, delay).await? {
            RetryDecision::Requeued => {
                self.stats.record_retry();
                Ok(())
            }
            RetryDecision::GaveUp => self.skip(lease, reason).await,
        }
    }
}

/// Registers the crawler's metrics that have no labels at zero: a scrape
/// shows them (and a rate over them works) before their first event.
fn register_metrics() {
    for counter in [
        names::CRAWLER_PAGES_INDEXED,
        names::CRAWLER_DOWNLOADED_BYTES,
        names::CRAWLER_DNS_CACHE_HITS,
        names::CRAWLER_DNS_CACHE_MISSES,
    ] {
        metrics::counter!(counter).increment(0);
    }
    for gauge in [
        names::CRAWLER_FETCHES_IN_FLIGHT,
        names::CRAWLER_LEASES_HELD,
        names::CRAWLER_FRONTIER_QUEUED,
        names::CRAWLER_FRONTIER_LEASED,
    ] {
        metrics::gauge!(gauge).increment(0.0);
    }
}

fn reap(done: Result<Result<(), CrawlError>, tokio::task::JoinError>) -> Result<(), CrawlError> {
    match done {
        Ok(result) => result,
        // A panicking link task loses only its own link, which its lease
        // brings back; the crawl goes on.
        Err(error) if error.is_panic() => {
            warn!(%error, "link task panicked");
            Ok(())
        }
        Err(_cancelled) => Ok(()),
    }
}

/// The URL a page is indexed under. A canonical link is honoured within the
/// page's own host only: another host could claim any page as its own.
fn canonical_url(lease: &Lease, parsed: &ParsedPage) -> NormalizedUrl {
    parsed
        .canonical
        .clone()
        .filter(|canonical| canonical.host_key() == lease.host)
        .unwrap_or_else(|| lease.url.clone())
}

fn page_message(
    lease: &Lease,
    canonical_url: NormalizedUrl,
    status: u16,
    parsed: ParsedPage,
    simhash: u64,
    content_hash: u64,
) -> PageMessage {
    let outlinks = parsed
        .links
        .into_iter()
        .take(MAX_OUTLINKS)
        .map(|link| Outlink {
            url: link.url,
            anchor: link.anchor,
        })
        .collect();
    PageMessage {
        url: lease.url.clone(),
        canonical_url,
        fetched_at_ms: now_ms(),
        status,
        title: parsed.title,
        description: parsed.description,
        headings: parsed.headings,
        text: parsed.text,
        outlinks,
        language: parsed.language,
        simhash,
        content_hash,
        sections: parsed.sections,
    }
}
