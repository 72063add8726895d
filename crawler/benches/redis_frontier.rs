//! The Redis frontier, measured against the local Redis (TRAWL_BENCH_REDIS,
//! default redis://127.0.0.1:6379; keys under a prefix of their own,
//! deleted afterwards).
//!
//!   cargo bench --workspace --bench redis_frontier -- claims [LINKS] [SECONDS]
//!   cargo bench --workspace --bench redis_frontier -- memory [URLS...]
//!
//! `claims`: claim -> release the host -> complete, as fast as one worker
//! and three workers (each its own connection and partition share) can.
//! `memory`: Redis memory per queued URL (links waiting in host queues) and
//! per seen URL, for trawl's bucketed intsets and for the alternatives.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::NormalizedUrl;
use crawler::frontier::{Claim, Frontier, FrontierConfig, NewLink, RedisFrontier, RedisFrontierConfig};

mod support;
use support::{connection, delete_prefix, redis_url, used_memory};

fn prefix(name: &str) -> String {
    format!("trawl-bench-{name}-{}", std::process::id())
}

fn config(prefix: &str) -> RedisFrontierConfig {
    let mut config = RedisFrontierConfig::new(&redis_url());
    config.prefix = prefix.to_string();
    // A benchmark on the machine's Redis, whatever its persistence.
    config.allow_volatile = true;
    config.frontier = FrontierConfig {
        max_in_flight_per_host: 1,
        ..FrontierConfig::default()
    };
    config
}

/// `count` distinct URLs spread over `hosts` hosts, like a real web's.
fn urls(start: usize, count: usize, hosts: usize) -> impl Iterator<Item = NormalizedUrl> {
    (start..start + count).map(move |i| {
        NormalizedUrl::parse(&format!(
            "http://host{}.example/docs/section-{}/page-{i}.html",
            i % hosts,
            i % 97
        ))
        .expect("valid URL")
    })
}

async fn claims(links: usize, seconds: u64) {
    for workers in [1usize, 3] {
        let name = prefix(&format!("claims{workers}"));
        let seeder = RedisFrontier::client(config(&name)).await.unwrap();
        let started = Instant::now();
        let all: Vec<NormalizedUrl> = urls(0, links, links / 10).collect();
        for chunk in all.chunks(1000) {
            let batch = chunk.iter().map(|u| NewLink::page(u.clone(), 1, 0.5)).collect();
            seeder.add(batch).await.unwrap();
        }
        let add_rate = links as f64 / started.elapsed().as_secs_f64();

        let done = Arc::new(AtomicU64::new(0));
        let mut frontiers = Vec::new();
        for w in 0..workers {
            let mut worker_config = config(&name);
            worker_config.worker_id = format!("bench-{w}");
            // Short partition leases: the workers settle their shares in a
            // few heartbeats.
            worker_config.partition_lease = Duration::from_secs(1);
            frontiers.push(Arc::new(RedisFrontier::worker(worker_config).await.unwrap()));
        }
        tokio::time::sleep(Duration::from_secs(3)).await;
        let shares: Vec<usize> = frontiers.iter().map(|f| f.owned_partitions().len()).collect();
        let started = Instant::now();
        let mut tasks = Vec::new();
        for frontier in &frontiers {
            let (frontier, done) = (frontier.clone(), done.clone());
            tasks.push(tokio::spawn(async move {
                while started.elapsed() < Duration::from_secs(seconds) {
                    match frontier.claim().await.unwrap() {
                        Claim::Leased(lease) => {
                            frontier.release_host(&lease, Duration::ZERO).await.unwrap();
                            frontier.complete(&lease).await.unwrap();
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                        Claim::Wait(_) => tokio::task::yield_now().await,
                        Claim::Empty => break,
                    }
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        let elapsed = started.elapsed().as_secs_f64();
        let completed = done.load(Ordering::Relaxed);
        println!(
            "claims\tworkers={workers}\tpartitions={shares:?}\tlinks={links}\tadds_per_s={add_rate:.0}\tclaim_release_complete_per_s={:.0}\tcompleted={completed}",
            completed as f64 / elapsed
        );
        for frontier in &frontiers {
            frontier.leave().await.unwrap();
        }
        delete_prefix(&name).await;
    }
}

async fn memory(sizes: &[usize]) {
    let mut conn = connection().await;
    for &size in sizes {
        // trawl's seen-filter: 64-bit hashes in bucketed intsets.
        let name = prefix(&format!("seen{size}"));
        let frontier = RedisFrontier::client(config(&name)).await.unwrap();
        let before = used_memory(&mut conn).await;
        let mut start = 0;
        while start < size {
            let count = 10_000.min(size - start);
            frontier
                .mark_seen(urls(start, count, 50_000).collect())
                .await
                .unwrap();
            start += count;
        }
        let after = used_memory(&mut conn).await;
        let sample = format!("{{{name}:0}}:seen:0");
        let encoding: String = redis::cmd("OBJECT")
            .arg("ENCODING")
            .arg(&sample)
            .query_async(&mut conn)
            .await
            .unwrap_or_default();
        println!(
            "seen\tstructure=bucketed-intsets\turls={size}\tbytes_per_url={:.1}\tencoding={encoding}",
            (after - before) as f64 / size as f64
        );
        delete_prefix(&name).await;

        // The alternative: one set of the same hashes.
        let key = format!("{{{}}}:one-set", prefix("oneset"));
        let before = used_memory(&mut conn).await;
        let mut start = 0;
        while start < size {
            let count = 10_000.min(size - start);
            let hashes: Vec<i64> = urls(start, count, 50_000)
                .map(|u| xxhash_rust::xxh3::xxh3_64(u.as_str().as_bytes()) as i64)
                .collect();
            let _: i64 = redis::cmd("SADD")
                .arg(&key)
                .arg(hashes)
                .query_async(&mut conn)
                .await
                .unwrap();
            start += count;
        }
        let after = used_memory(&mut conn).await;
        let encoding: String = redis::cmd("OBJECT")
            .arg("ENCODING")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .unwrap();
        println!(
            "seen\tstructure=one-set\turls={size}\tbytes_per_url={:.1}\tencoding={encoding}",
            (after - before) as f64 / size as f64
        );
        let _: () = redis::cmd("DEL").arg(&key).query_async(&mut conn).await.unwrap();
    }

    // Queued links: the host queue entry, its metadata and the counters.
    let size = sizes.first().copied().unwrap_or(1_000_000);
    let name = prefix("queued");
    let frontier = RedisFrontier::client(config(&name)).await.unwrap();
    let before = used_memory(&mut conn).await;
    let mut start = 0;
    while start < size {
        let count = 5_000.min(size - start);
        let links = urls(start, count, size / 100)
            .map(|u| NewLink::page(u, 1, 0.5))
            .collect();
        frontier.add(links).await.unwrap();
        start += count;
    }
    let after = used_memory(&mut conn).await;
    println!(
        "queued\turls={size}\thosts={}\tbytes_per_queued_url={:.1}\t(incl. its seen entry; URLs average {} bytes)",
        size / 100,
        (after - before) as f64 / size as f64,
        urls(0, 1000, 10).map(|u| u.as_str().len()).sum::<usize>() / 1000
    );
    delete_prefix(&name).await;
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    match args.first().map(String::as_str) {
        Some("claims") => {
            let links = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(100_000);
            let seconds = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(10);
            claims(links, seconds).await;
        }
        Some("memory") => {
            let sizes: Vec<usize> = args[1..].iter().filter_map(|n| n.parse().ok()).collect();
            memory(if sizes.is_empty() {
                &[1_000_000, 10_000_000]
            } else {
                &sizes
            })
            .await;
        }
        _ => {
            claims(100_000, 10).await;
            memory(&[1_000_000, 10_000_000]).await;
        }
    }
}
