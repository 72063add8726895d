//! How the frontier's claims scale with the hosts ready to crawl, on the
//! embedded frontier (RocksDB in a temporary directory) and on Redis
//! (TRAWL_BENCH_REDIS, default redis://127.0.0.1:6379; keys under a prefix
//! of its own, deleted afterwards).
//!
//!   cargo bench -p crawler --bench frontier_claims -- [embedded|redis] [HOSTS...]
//!
//! For each number of hosts (default 1,000, 10,000 and 100,000), three
//! links per host (LINKS_PER_HOST in the environment to change it: with
//! 1,000, the embedded frontier spills all but 64 of each host's) are queued; then 16 tasks (as a crawler's dispatcher and
//! fetches would) loop claim -> release the host at once -> complete, for
//! 10 seconds or until the links run out, so every host stays ready. Prints
//! the adds per second, memory per queued URL and per host (the process's
//! resident memory for embedded, Redis's used_memory for Redis), claims per
//! second and the latency of one claim (p50, p90, p99, max).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::NormalizedUrl;
use crawler::frontier::{
    Claim, EmbeddedFrontier, Frontier, FrontierConfig, NewLink, RedisFrontier, RedisFrontierConfig,
};

mod support;
use support::{connection, delete_prefix, redis_url, used_memory};

async fn redis_used_memory() -> u64 {
    used_memory(&mut connection().await).await as u64
}

fn links_per_host() -> usize {
    std::env::var("LINKS_PER_HOST")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3)
}
const CLAIMERS: usize = 16;
const SECONDS: u64 = 10;

fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn link(host: usize, page: usize) -> NewLink {
    let url = NormalizedUrl::parse(&format!("http://h{host}.example/docs/page-{page}.html")).unwrap();
    NewLink::page(url, 1, 0.5)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

async fn measure(kind: &str, hosts: usize) {
    let config = FrontierConfig {
        max_in_flight_per_host: 1,
        ..FrontierConfig::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let prefix = format!("trawl-bench-claims-{}-{hosts}", std::process::id());
    let memory_before = match kind {
        "redis" => redis_used_memory().await,
        _ => resident_bytes(),
    };
    let frontier: Arc<dyn Frontier> = match kind {
        "redis" => {
            let mut redis_config = RedisFrontierConfig::new(&redis_url());
            redis_config.prefix = prefix.clone();
            redis_config.allow_volatile = true;
            redis_config.frontier = config;
            redis_config.partition_lease = Duration::from_secs(1);
            let worker = RedisFrontier::worker(redis_config).await.unwrap();
            // Its partitions are its own after a few heartbeats.
            tokio::time::sleep(Duration::from_secs(3)).await;
            Arc::new(worker)
        }
        _ => Arc::new(EmbeddedFrontier::open(dir.path(), config).unwrap()),
    };
    let started = Instant::now();
    for page in 0..links_per_host() {
        for chunk in (0..hosts).collect::<Vec<_>>().chunks(2000) {
            frontier
                .add(chunk.iter().map(|&h| link(h, page)).collect())
                .await
                .unwrap();
        }
    }
    let links = hosts * links_per_host();
    let add_rate = links as f64 / started.elapsed().as_secs_f64();
    let memory = match kind {
        "redis" => redis_used_memory().await,
        _ => resident_bytes(),
    }
    .saturating_sub(memory_before);

    let latencies = Arc::new(Mutex::new(Vec::with_capacity(links)));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CLAIMERS {
        let (frontier, latencies) = (frontier.clone(), latencies.clone());
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            while started.elapsed() < Duration::from_secs(SECONDS) {
                let asked = Instant::now();
                match frontier.claim().await.unwrap() {
                    Claim::Leased(lease) => {
                        mine.push(asked.elapsed());
                        frontier.release_host(&lease, Duration::ZERO).await.unwrap();
                        frontier.complete(&lease).await.unwrap();
                    }
                    Claim::Wait(_) => tokio::task::yield_now().await,
                    Claim::Empty => break,
                }
            }
            latencies.lock().unwrap().extend(mine);
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut latencies = latencies.lock().unwrap().clone();
    latencies.sort();
    println!(
        "{kind}\thosts={hosts}\tlinks={links}\tadds_per_s={add_rate:.0}\tbytes_per_queued_url={:.0}\tbytes_per_host={:.0}\tclaims_per_s={:.0}\tclaim_ms p50={:.3} p90={:.3} p99={:.3} max={:.3}",
        memory as f64 / links as f64,
        memory as f64 / hosts as f64,
        latencies.len() as f64 / elapsed,
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.9),
        percentile(&latencies, 0.99),
        percentile(&latencies, 1.0),
    );
    frontier.close().await.unwrap();
    drop(frontier);
    if kind == "redis" {
        delete_prefix(&prefix).await;
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let kinds: Vec<&str> = match args.first().map(String::as_str) {
        Some("embedded") => vec!["embedded"],
        Some("redis") => vec!["redis"],
        _ => vec!["embedded", "redis"],
    };
    let mut sizes: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    if sizes.is_empty() {
        sizes = vec![1_000, 10_000, 100_000];
    }
    for kind in kinds {
        for &hosts in &sizes {
            measure(kind, hosts).await;
        }
    }
}
