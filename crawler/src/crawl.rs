//! The crawl loop: where a claimed link becomes a fetched, parsed and
//! published page.
//!
//! One dispatcher claims links from the frontier while fetch slots are free
//! and spawns one task per link. A link's task: fetch -> release the host's
//! politeness clock -> parse (on the blocking pool, `parse_threads` at a
//! time) -> queue the page's links -> publish the page -> free the fetch
//! slot -> wait for the page to be durable downstream -> complete the link.
//! The wait for durability holds no fetch slot, so a commit interval never
//! throttles fetching.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::message::{MAX_OUTLINKS, Outlink};
use common::queue::{PageSink, QueueError};
use common::signature::{content_hash, text_simhash};
use common::{PageEvent, PageMessage, SkipReason};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tracing::{debug, info, warn};

use crate::CrawlError;
use crate::config::{CrawlConfig, DEPTH_DECAY};
use crate::dns::{AddressPolicy, DnsError, Resolver};
use crate::fetch::{FetchError, FetchResponse, FetchedPage, Fetcher};
use crate::frontier::{Claim, Frontier, Lease, NewLink, RetryDecision};
use crate::parse::{ParsedPage, parse_page, parse_robots_directives};
use crate::progress::Reporter;
use crate::stats::{CrawlStats, CrawlSummary};

/// How long the dispatcher sleeps at most when nothing is claimable; other
/// workers (distributed mode) or expiring leases may change that any time.
const MAX_IDLE_POLL: Duration = Duration::from_millis(200);

/// How long a stopping crawl waits for in-flight links before it leaves
/// them to their leases.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(60);

/// First retry delay after a network error or a 5xx; doubles per retry.
const RETRY_BASE_DELAY: Duration = Duration::from_secs(2);
const RETRY_MAX_DELAY: Duration = Duration::from_secs(600);

/// Runs a crawl until the frontier is exhausted, `max_pages` links were
/// claimed, or `shutdown` resolves; then drains in-flight links and returns
/// what it did.
pub async fn run(
    config: CrawlConfig,
    frontier: Arc<dyn Frontier>,
    sink: Arc<dyn PageSink>,
    shutdown: impl Future<Output = ()>,
) -> Result<CrawlSummary, CrawlError> {
    let started = Instant::now();
    let resolver = Arc::new(Resolver::new(
        &config.dns,
        AddressPolicy {
            allow_private: config.allow_private,
        },
    ));
    let fetcher = Fetcher::new(config.fetch.clone(), resolver)?;
    let stats = Arc::new(CrawlStats::default());

    let seeds = config
        .seeds
        .iter()
        .map(|url| NewLink {
            url: url.clone(),
            depth: 0,
            priority: 1.0,
        })
        .collect();
    stats.record_links_queued(frontier.add(seeds).await?);

    let reporter = Reporter::start(config.progress, stats.clone(), frontier.clone());
    let crawler = Arc::new(Crawler {
        parse_slots: Arc::new(Semaphore::new(config.parse_threads.max(1))),
        config,
        frontier,
        sink,
        fetcher,
        stats: stats.clone(),
        wakeup: Notify::new(),
    });
    let result = crawler.dispatch(shutdown).await;
    reporter.finish().await;
    result?;
    Ok(stats.summary(started.elapsed()))
}

/// What every link task shares.
struct Crawler {
    config: CrawlConfig,
    frontier: Arc<dyn Frontier>,
    sink: Arc<dyn PageSink>,
    fetcher: Fetcher,
    stats: Arc<CrawlStats>,
    parse_slots: Arc<Semaphore>,
    /// Signalled when a task may have made a link claimable (a host was
    /// released, links were added), so the dispatcher need not poll.
    wakeup: Notify,
}

impl Crawler {
    async fn dispatch(
        self: &Arc<Self>,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), CrawlError> {
        tokio::pin!(shutdown);
        let fetch_slots = Arc::new(Semaphore::new(self.config.concurrency.max(1)));
        let mut tasks: JoinSet<Result<(), CrawlError>> = JoinSet::new();
        let mut claimed = 0u64;
        loop {
            while let Some(done) = tasks.try_join_next() {
                reap(done)?;
            }
            if self.config.max_pages.is_some_and(|max| claimed >= max) {
                info!(claimed, "page budget of this run reached");
                break;
            }
            let permit = tokio::select! {
                biased;
                _ = &mut shutdown => break,
                permit = fetch_slots.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            };
            let wait = match self.frontier.claim().await? {
                Claim::Leased(lease) => {
                    claimed += 1;
                    let crawler = self.clone();
                    tasks.spawn(async move { crawler.crawl_link(lease, permit).await });
                    continue;
                }
                Claim::Wait(wait) => wait.min(MAX_IDLE_POLL),
                Claim::Empty if tasks.is_empty() => break,
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
        if !tasks.is_empty() {
            info!(in_flight = tasks.len(), "draining in-flight links");
        }
        let drain = async {
            while let Some(done) = tasks.join_next().await {
                reap(done)?;
            }
            Ok::<_, CrawlError>(())
        };
        match tokio::time::timeout(DRAIN_TIMEOUT, drain).await {
            Ok(result) => result,
            Err(_) => {
                // Their leases stay: the links are fetched again on resume.
                warn!(
                    abandoned = tasks.len(),
                    "drain timed out; unfinished links stay queued"
                );
                tasks.abort_all();
                Ok(())
            }
        }
    }

    /// The life of one claimed link.
    async fn crawl_link(
        self: Arc<Self>,
        lease: Lease,
        fetch_slot: OwnedSemaphorePermit,
    ) -> Result<(), CrawlError> {
        let response = self.fetcher.fetch(&lease.url).await;
        self.frontier
            .release_host(&lease, self.config.delay)
            .await?;
        self.wakeup.notify_one();

        match response {
            Err(FetchError::Dns(DnsError::PrivateAddress { ip, .. })) => {
                debug!(url = %lease.url, %ip, "refused: non-public address");
                self.skip(&lease, SkipReason::PrivateAddress).await
            }
            Err(error) => {
                debug!(url = %lease.url, %error, "fetch failed");
                self.retry_or_skip(&lease, SkipReason::Error, None).await
            }
            Ok(FetchResponse::Redirect { status, location }) => {
                self.stats.record_response(status, 0);
                self.stats.record_redirect();
                match location {
                    Ok(target) => {
                        self.queue_links(&lease, vec![target]).await?;
                        self.frontier.complete(&lease).await?;
                        Ok(())
                    }
                    Err(error) => {
                        debug!(url = %lease.url, %error, "bad redirect location");
                        self.skip(&lease, SkipReason::Error).await
                    }
                }
            }
            Ok(FetchResponse::Status {
                status,
                retry_after,
            }) => {
                self.stats.record_response(status, 0);
                if status == 429 || status >= 500 {
                    self.retry_or_skip(&lease, SkipReason::HttpStatus, retry_after)
                        .await
                } else {
                    self.skip(&lease, SkipReason::HttpStatus).await
                }
            }
            Ok(FetchResponse::WrongType {
                status,
                content_type,
            }) => {
                self.stats.record_response(status, 0);
                debug!(url = %lease.url, %content_type, "not HTML");
                self.skip(&lease, SkipReason::WrongType).await
            }
            Ok(FetchResponse::Page(page)) => {
                self.stats.record_response(page.status, page.body_bytes);
                if page.truncated {
                    self.stats.record_truncated();
                }
                self.index_page(lease, page, fetch_slot).await
            }
        }
    }

    async fn index_page(
        &self,
        lease: Lease,
        page: FetchedPage,
        fetch_slot: OwnedSemaphorePermit,
    ) -> Result<(), CrawlError> {
        let header_robots = page
            .x_robots_tag
            .as_deref()
            .map(parse_robots_directives)
            .unwrap_or_default();
        let (parsed, simhash, content_hash) = {
            let _parse_slot = self
                .parse_slots
                .acquire()
                .await
                .expect("the semaphore is never closed");
            let url = lease.url.clone();
            tokio::task::spawn_blocking(move || {
                let parsed = parse_page(url.as_url(), &page.body);
                let simhash = text_simhash(&parsed.text);
                let content_hash = content_hash(&parsed.text);
                (parsed, simhash, content_hash)
            })
            .await
            .map_err(|e| CrawlError::Task(e.to_string()))?
        };

        if !(parsed.meta_robots.nofollow || header_robots.nofollow) {
            let links = parsed
                .links
                .iter()
                .filter(|l| !l.nofollow)
                .map(|l| l.url.clone())
                .collect();
            self.queue_links(&lease, links).await?;
        }
        if parsed.meta_robots.noindex || header_robots.noindex {
            return self.skip(&lease, SkipReason::Robots).await;
        }

        let message = page_message(&lease, page.status, parsed, simhash, content_hash);
        let confirmation = self.sink.publish(PageEvent::Upsert(Box::new(message))).await;
        // The page is handed over: let another fetch start while this one
        // waits for its page to become durable.
        drop(fetch_slot);
        match confirmation?.await {
            Ok(()) => {
                self.stats.record_indexed();
                self.frontier.complete(&lease).await?;
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

    /// Queues the in-scope links found on `lease`'s page and records the
    /// others as seen, so each skipped URL is counted once.
    async fn queue_links(
        &self,
        lease: &Lease,
        urls: Vec<common::NormalizedUrl>,
    ) -> Result<(), CrawlError> {
        let depth = lease.depth + 1;
        let priority = DEPTH_DECAY.powi(depth as i32);
        let (in_scope, out_of_scope): (Vec<_>, Vec<_>) =
            urls.into_iter().partition(|url| self.config.in_scope(url));
        if depth > self.config.max_depth {
            let too_deep = self.frontier.mark_seen(in_scope).await?;
            self.stats.record_skips(SkipReason::Trap, too_deep as u64);
        } else {
            let links = in_scope
                .into_iter()
                .map(|url| NewLink {
                    url,
                    depth,
                    priority,
                })
                .collect();
            let added = self.frontier.add(links).await?;
            self.stats.record_links_queued(added);
            if added > 0 {
                self.wakeup.notify_one();
            }
        }
        let skipped = self.frontier.mark_seen(out_of_scope).await?;
        self.stats
            .record_skips(SkipReason::OutOfScope, skipped as u64);
        Ok(())
    }

    async fn skip(&self, lease: &Lease, reason: SkipReason) -> Result<(), CrawlError> {
        self.stats.record_skip(reason);
        self.frontier.complete(lease).await?;
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
        let backoff = RETRY_BASE_DELAY
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

fn page_message(
    lease: &Lease,
    status: u16,
    parsed: ParsedPage,
    simhash: u64,
    content_hash: u64,
) -> PageMessage {
    // A canonical link is honoured within the page's own host only: another
    // host could claim any page as its own.
    let canonical_url = parsed
        .canonical
        .filter(|canonical| canonical.host_key() == lease.host)
        .unwrap_or_else(|| lease.url.clone());
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
        fetched_at_ms: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64),
        status,
        title: parsed.title,
        description: parsed.description,
        headings: parsed.headings,
        text: parsed.text,
        outlinks,
        language: parsed.language,
        simhash,
        content_hash,
    }
}
