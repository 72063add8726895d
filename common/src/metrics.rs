//! Prometheus metrics of every trawl process: the one global recorder, the
//! name of every metric and its description, and the text a `/metrics`
//! endpoint serves.
//!
//! Code records through the `metrics` facade (`counter!(names::X)`), which
//! does nothing until [`handle`] installs the recorder: a library used
//! without a metrics endpoint (tests, benchmarks) pays almost nothing. The
//! names live here, in one list, so that the daemons, the description each
//! metric gets and the table in ARCHITECTURE.md cannot drift apart. A name
//! is `trawl_<component>_<what>_<unit>`, counters end in `_total`.

use std::sync::OnceLock;
use std::time::Duration;

use metrics::{Gauge, Unit, describe_counter, describe_gauge, describe_histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// HTTP responses to page requests, by `status` (robots.txt and sitemaps are not pages).
pub const CRAWLER_PAGES_FETCHED: &str = "trawl_crawler_pages_fetched_total";
/// Pages published and confirmed durable downstream.
pub const CRAWLER_PAGES_INDEXED: &str = "trawl_crawler_pages_indexed_total";
/// URLs not fetched or pages not indexed, by `reason` (a `SkipReason`).
pub const CRAWLER_URLS_SKIPPED: &str = "trawl_crawler_urls_skipped_total";
/// Body bytes of pages downloaded.
pub const CRAWLER_DOWNLOADED_BYTES: &str = "trawl_crawler_downloaded_bytes_total";
/// Exchanges that could not be written to the WARC archive.
pub const CRAWLER_WARC_ERRORS: &str = "trawl_crawler_warc_errors_total";
/// Time from a page request to its whole body, in seconds.
pub const CRAWLER_FETCH_DURATION: &str = "trawl_crawler_fetch_duration_seconds";
/// Requests (pages and sitemaps) in flight.
pub const CRAWLER_FETCHES_IN_FLIGHT: &str = "trawl_crawler_fetches_in_flight";
/// Links this worker holds leases on (claimed, not yet done or given back).
pub const CRAWLER_LEASES_HELD: &str = "trawl_crawler_leases_held";
/// Links waiting in the frontier (the whole shared frontier on Redis).
pub const CRAWLER_FRONTIER_QUEUED: &str = "trawl_crawler_frontier_queued_links";
/// Links leased in the frontier, by every worker of a shared one.
pub const CRAWLER_FRONTIER_LEASED: &str = "trawl_crawler_frontier_leased_links";
/// Host names answered from the DNS cache.
pub const CRAWLER_DNS_CACHE_HITS: &str = "trawl_crawler_dns_cache_hits_total";
/// Host names looked up because the cache had no fresh answer.
pub const CRAWLER_DNS_CACHE_MISSES: &str = "trawl_crawler_dns_cache_misses_total";
/// robots.txt fetches, by `outcome`: parsed, unavailable, unreachable.
pub const CRAWLER_ROBOTS_FETCHES: &str = "trawl_crawler_robots_fetches_total";

/// Page events taken from the queue and applied to the store.
pub const INDEXER_MESSAGES_CONSUMED: &str = "trawl_indexer_messages_consumed_total";
/// Page events made durable by a commit and acknowledged.
pub const INDEXER_MESSAGES_COMMITTED: &str = "trawl_indexer_messages_committed_total";
/// Messages moved to the dead-letter queue, by `reason`.
pub const INDEXER_MESSAGES_DEAD_LETTERED: &str = "trawl_indexer_messages_dead_lettered_total";
/// How long a commit took (tantivy commit or RocksDB synced write), in seconds.
pub const INDEXER_COMMIT_DURATION: &str = "trawl_indexer_commit_duration_seconds";
/// Messages ready in the consumer's RabbitMQ queue, waiting for a consumer.
pub const INDEXER_QUEUE_READY: &str = "trawl_indexer_queue_ready_messages";

/// Upper bounds of the latency histograms, in seconds: from a loopback
/// fetch or a small commit (a millisecond) to a fetch near its timeout.
const LATENCY_BUCKETS_SECS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// How often histogram samples are folded into their buckets when nobody
/// scrapes: without it they pile up in memory (a sample per fetch).
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The process's recorder, installed on the first call (later calls, from
/// any thread or test, get the same one).
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".to_string()), &LATENCY_BUCKETS_SECS)
            .expect("the bucket list is not empty");
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if let Err(error) = metrics::set_global_recorder(recorder) {
            // Another recorder came first (an embedding program's): its
            // metrics are its own, and ours render empty.
            tracing::warn!(%error, "a metrics recorder is already installed; /metrics will be empty");
        }
        describe();
        let upkeep = handle.clone();
        let spawned = std::thread::Builder::new()
            .name("metrics-upkeep".to_string())
            .spawn(move || {
                loop {
                    std::thread::sleep(UPKEEP_EVERY);
                    upkeep.run_upkeep();
                }
            });
        if let Err(error) = spawned {
            tracing::warn!(%error, "no metrics upkeep thread; histograms are folded at each scrape only");
        }
        handle
    })
}

/// Every metric recorded so far, in the Prometheus text format.
pub fn render() -> String {
    handle().render()
}

/// Adds one to `gauge` until dropped: a count of things in progress that
/// stays right whichever way the work ends (an error, a cancelled task).
pub struct GaugeGuard(Gauge);

impl GaugeGuard {
    pub fn new(gauge: Gauge) -> GaugeGuard {
        gauge.increment(1.0);
        GaugeGuard(gauge)
    }
}

impl Drop for GaugeGuard {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}

fn describe() {
    describe_counter!(
        CRAWLER_PAGES_FETCHED,
        Unit::Count,
        "HTTP responses to page requests, by status"
    );
    describe_counter!(
        CRAWLER_PAGES_INDEXED,
        Unit::Count,
        "Pages published and confirmed durable downstream"
    );
    describe_counter!(
        CRAWLER_URLS_SKIPPED,
        Unit::Count,
        "URLs not fetched or pages not indexed, by reason"
    );
    describe_counter!(
        CRAWLER_DOWNLOADED_BYTES,
        Unit::Bytes,
        "Body bytes of pages downloaded"
    );
    describe_counter!(
        CRAWLER_WARC_ERRORS,
        Unit::Count,
        "Exchanges that could not be written to the WARC archive"
    );
    describe_histogram!(
        CRAWLER_FETCH_DURATION,
        Unit::Seconds,
        "Time from a page request to its whole body"
    );
    describe_gauge!(CRAWLER_FETCHES_IN_FLIGHT, Unit::Count, "Requests in flight");
    describe_gauge!(
        CRAWLER_LEASES_HELD,
        Unit::Count,
        "Links this worker holds leases on"
    );
    describe_gauge!(
        CRAWLER_FRONTIER_QUEUED,
        Unit::Count,
        "Links waiting in the frontier (all workers' on Redis)"
    );
    describe_gauge!(
        CRAWLER_FRONTIER_LEASED,
        Unit::Count,
        "Links leased in the frontier (by all workers on Redis)"
    );
    describe_counter!(
        CRAWLER_DNS_CACHE_HITS,
        Unit::Count,
        "Host names answered from the DNS cache"
    );
    describe_counter!(
        CRAWLER_DNS_CACHE_MISSES,
        Unit::Count,
        "Host names looked up because the DNS cache had no fresh answer"
    );
    describe_counter!(
        CRAWLER_ROBOTS_FETCHES,
        Unit::Count,
        "robots.txt fetches, by outcome"
    );
    describe_counter!(
        INDEXER_MESSAGES_CONSUMED,
        Unit::Count,
        "Page events taken from the queue and applied"
    );
    describe_counter!(
        INDEXER_MESSAGES_COMMITTED,
        Unit::Count,
        "Page events made durable by a commit and acknowledged"
    );
    describe_counter!(
        INDEXER_MESSAGES_DEAD_LETTERED,
        Unit::Count,
        "Messages moved to the dead-letter queue, by reason"
    );
    describe_histogram!(INDEXER_COMMIT_DURATION, Unit::Seconds, "How long a commit took");
    describe_gauge!(
        INDEXER_QUEUE_READY,
        Unit::Count,
        "Messages ready in the consumer's queue"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    // Tests of one process share the recorder: installing twice must not
    // fail, and what one records, the other renders.
    #[test]
    fn the_recorder_installs_once_and_renders_what_was_recorded() {
        let first = handle() as *const PrometheusHandle;
        let second = handle() as *const PrometheusHandle;
        assert_eq!(first, second);
        metrics::counter!(CRAWLER_PAGES_FETCHED, "status" => "299").increment(3);
        metrics::histogram!(INDEXER_COMMIT_DURATION).record(0.003);
        let text = render();
        assert!(
            text.contains("trawl_crawler_pages_fetched_total{status=\"299\"} 3"),
            "{text}"
        );
        assert!(
            text.contains("# HELP trawl_crawler_pages_fetched_total"),
            "{text}"
        );
        // Latencies are histograms with buckets, not summaries.
        assert!(
            text.contains("trawl_indexer_commit_duration_seconds_bucket{le=\"0.005\"} 1"),
            "{text}"
        );
    }

    #[test]
    fn a_gauge_guard_counts_while_it_lives() {
        handle();
        let gauge = || metrics::gauge!("trawl_test_guarded");
        let value = || {
            render()
                .lines()
                .find_map(|line| line.strip_prefix("trawl_test_guarded ").map(str::to_string))
                .unwrap_or_default()
        };
        let guard = GaugeGuard::new(gauge());
        assert_eq!(value(), "1");
        drop(guard);
        assert_eq!(value(), "0");
    }
}
