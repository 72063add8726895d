//! Fixture servers that record what a crawler does to them, and a way to
//! run a crawl without an indexer (every page is acknowledged at once).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use common::queue::page_channel;
use common::{NormalizedUrl, PageEvent, PageMessage};
use crawler::crawled::CrawledLinks;
use crawler::frontier::{EmbeddedFrontier, Frontier, FrontierConfig};
use crawler::{CrawlConfig, CrawlSummary};

/// One request as the fixture saw it.
#[derive(Debug, Clone)]
pub struct Arrival {
    pub host: String,
    pub path_and_query: String,
    pub at: Instant,
}

/// Shared by every fixture server of a test: the requests they received
/// and how many were in flight at once, per `Host` header.
#[derive(Clone, Default)]
pub struct Recorder {
    inner: Arc<Mutex<RecorderState>>,
}

#[derive(Default)]
struct RecorderState {
    arrivals: Vec<Arrival>,
    in_flight: HashMap<String, usize>,
    max_in_flight: HashMap<String, usize>,
    in_flight_total: usize,
    max_in_flight_total: usize,
}

impl Recorder {
    pub fn arrivals(&self) -> Vec<Arrival> {
        self.inner.lock().unwrap().arrivals.clone()
    }

    /// Arrivals at paths other than robots.txt, in order, for one host.
    pub fn page_arrivals(&self, host: &str) -> Vec<Arrival> {
        self.arrivals()
            .into_iter()
            .filter(|a| a.host == host && a.path_and_query != "/robots.txt")
            .collect()
    }

    pub fn hits(&self, path_and_query: &str) -> usize {
        self.arrivals()
            .iter()
            .filter(|a| a.path_and_query == path_and_query)
            .count()
    }

    pub fn max_in_flight(&self, host: &str) -> usize {
        self.inner
            .lock()
            .unwrap()
            .max_in_flight
            .get(host)
            .copied()
            .unwrap_or(0)
    }

    pub fn max_in_flight_total(&self) -> usize {
        self.inner.lock().unwrap().max_in_flight_total
    }
}

async fn record(State(recorder): State<Recorder>, request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let path_and_query = request
        .uri()
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    {
        let mut state = recorder.inner.lock().unwrap();
        state.arrivals.push(Arrival {
            host: host.clone(),
            path_and_query,
            at: Instant::now(),
        });
        let now = {
            let n = state.in_flight.entry(host.clone()).or_default();
            *n += 1;
            *n
        };
        let max = state.max_in_flight.entry(host.clone()).or_default();
        *max = (*max).max(now);
        state.in_flight_total += 1;
        state.max_in_flight_total = state.max_in_flight_total.max(state.in_flight_total);
    }
    let response = next.run(request).await;
    let mut state = recorder.inner.lock().unwrap();
    *state.in_flight.get_mut(&host).unwrap() -= 1;
    state.in_flight_total -= 1;
    response
}

/// Binds a listener on `ip`:0, for a site that must know its address
/// before it is built.
pub async fn bind(ip: &str) -> tokio::net::TcpListener {
    let ip: IpAddr = ip.parse().unwrap();
    tokio::net::TcpListener::bind((ip, 0)).await.unwrap()
}

/// Serves `router` on `listener`, recording every request in `recorder`.
pub fn serve_on(listener: tokio::net::TcpListener, router: Router, recorder: &Recorder) -> SocketAddr {
    let addr = listener.local_addr().unwrap();
    let app = router.layer(axum::middleware::from_fn_with_state(recorder.clone(), record));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// Serves `router` on `ip`:0, recording every request in `recorder`.
pub async fn serve(ip: &str, router: Router, recorder: &Recorder) -> SocketAddr {
    serve_on(bind(ip).await, router, recorder)
}

pub fn url(text: &str) -> NormalizedUrl {
    NormalizedUrl::parse(text).unwrap()
}

/// A crawl config for fixtures: loopback allowed, no politeness delays
/// unless a test sets them, quick retries.
pub fn test_config(seeds: &[String]) -> CrawlConfig {
    let mut config = CrawlConfig::new(seeds.iter().map(|s| url(s)).collect());
    config.address_policy.allow_private = true;
    config.scope = crawler::scope::Scope::Any;
    config.politeness.min_delay = Duration::ZERO;
    config.politeness.response_time_factor = 0.0;
    config.retry_base_delay = Duration::from_millis(100);
    config.robots.unreachable_retry = Duration::from_millis(200);
    config.dns.negative_ttl = Duration::from_millis(200);
    config.host_failures.first_backoff = Duration::from_millis(100);
    config
}

pub struct CrawlResult {
    pub summary: CrawlSummary,
    /// Pages published for indexing, in order.
    pub pages: Vec<PageMessage>,
    /// URLs whose removal from the index was published.
    pub removed: Vec<String>,
}

impl CrawlResult {
    pub fn page(&self, url_text: &str) -> Option<&PageMessage> {
        self.pages.iter().find(|p| p.url.as_str() == url_text)
    }
}

/// Crawls with `config` into a fresh embedded frontier; every page is
/// acknowledged as soon as it arrives.
pub async fn crawl(config: CrawlConfig, frontier_config: FrontierConfig) -> CrawlResult {
    let dir = tempfile::tempdir().unwrap();
    let frontier = Arc::new(EmbeddedFrontier::open(&dir.path().join("frontier"), frontier_config).unwrap());
    let crawled = Arc::new(CrawledLinks::open(&dir.path().join("crawled"), config.freshness).unwrap());
    crawl_with(config, frontier, crawled).await
}

/// Crawls with `config` on the given frontier and `crawled_links`; every
/// page and removal is acknowledged as soon as it arrives.
pub async fn crawl_with(
    config: CrawlConfig,
    frontier: Arc<dyn Frontier>,
    crawled: Arc<CrawledLinks>,
) -> CrawlResult {
    crawl_until(config, frontier, crawled, std::future::pending()).await
}

/// [`crawl_with`], stopping when `shutdown` resolves (for daemons).
pub async fn crawl_until(
    config: CrawlConfig,
    frontier: Arc<dyn Frontier>,
    crawled: Arc<CrawledLinks>,
    shutdown: impl std::future::Future<Output = ()>,
) -> CrawlResult {
    let (sink, mut source) = page_channel(64);
    let collector = tokio::spawn(async move {
        let (mut pages, mut removed) = (Vec::new(), Vec::new());
        while let Some(delivery) = source.recv().await {
            match &delivery.event {
                PageEvent::Upsert(page) => pages.push((**page).clone()),
                PageEvent::Remove { url, .. } => removed.push(url.as_str().to_string()),
            }
            delivery.ack();
        }
        (pages, removed)
    });
    let summary = crawler::run(config, frontier, crawled, Arc::new(sink), shutdown)
        .await
        .unwrap();
    let (pages, removed) = collector.await.unwrap();
    CrawlResult {
        summary,
        pages,
        removed,
    }
}

/// Gaps between consecutive arrivals.
pub fn gaps(arrivals: &[Arrival]) -> Vec<Duration> {
    arrivals
        .windows(2)
        .map(|w| w[1].at.duration_since(w[0].at))
        .collect()
}
