//! The crawl on a simulated web of many hosts (`bench/simweb`): about 200
//! hosts and 20,000 pages on 32 loopback addresses, named by the web's own
//! DNS server, with dead, slow, throttling, Crawl-delay, robots.txt-less,
//! disallowing, redirecting and duplicating hosts among them. The web logs
//! every request; its report must show no politeness violation (gap per
//! host, Crawl-delay, Retry-After, robots.txt rules) and no lost link
//! (every URL reachable from the seeds over live hosts and allowed paths
//! fetched), on the embedded frontier and on Redis with two workers.
//! Times are scaled down (10 ms gap, latencies around 2 ms) so that it is
//! quick; the rules are the same.

use std::time::Duration;

use simweb::{Report, SimWeb, WebConfig};
use test_support::daemons::{finish, trawl, within};
use test_support::redis_server::{RedisTearDown, shared_redis_url, unique_prefix};

const BIN: &str = env!("CARGO_BIN_EXE_trawl");

async fn small_web() -> SimWeb {
    let seed = std::env::var("TRAWL_SIMWEB_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let web = SimWeb::start(WebConfig::small(seed), 0, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("simweb starts");
    assert!(web.web.config.min_gap >= Duration::from_millis(10));
    web
}

/// `trawl crawl` over the web, politeness as the web expects it.
fn crawl_args(web: &SimWeb, data_dir: &std::path::Path, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["crawl", "--scope", "any", "--allow-net", "127.0.0.0/8"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for seed in web.seeds() {
        args.extend(["--seed".to_string(), seed]);
    }
    args.extend([
        "--dns-server".to_string(),
        web.dns.to_string(),
        "--delay-ms".to_string(),
        web.web.config.min_gap.as_millis().to_string(),
        "--data-dir".to_string(),
        data_dir.display().to_string(),
    ]);
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn assert_polite_and_complete(report: &Report, what: &str) {
    let summary = serde_json::to_string_pretty(report).unwrap();
    assert!(
        report.reachable > 10_000,
        "{what}: the web is too small to say much\n{summary}"
    );
    assert_eq!(report.violations, 0, "{what}: politeness violations\n{summary}");
    assert_eq!(report.lost, 0, "{what}: reachable links never fetched\n{summary}");
    assert_eq!(
        report.unknown, 0,
        "{what}: requests for what the web does not have\n{summary}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_crawl_of_a_small_web_is_polite_and_loses_nothing() {
    let web = small_web().await;
    let dir = tempfile::tempdir().unwrap();
    let (status, stderr) = finish(trawl(BIN, &crawl_args(&web, dir.path(), &[]), None)).await;
    assert!(status.success(), "{status}\n{stderr}");
    assert_polite_and_complete(&web.report(), "embedded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_on_redis_crawl_a_small_web_politely_and_lose_nothing() {
    let web = small_web().await;
    let redis = shared_redis_url();
    let prefix = unique_prefix("simweb");
    let _teardown = RedisTearDown(prefix.clone());
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let redis_args = ["--redis", &redis, "--redis-prefix", &prefix, "--until-empty"];
    let workers = dirs
        .iter()
        .map(|dir| finish(trawl(BIN, &crawl_args(&web, dir.path(), &redis_args), None)));
    for (status, stderr) in within("workers", futures::future::join_all(workers)).await {
        assert!(status.success(), "{status}\n{stderr}");
    }
    assert_polite_and_complete(&web.report(), "two workers on Redis");
}
