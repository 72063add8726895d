//! Load on the query API: queries per second and latency percentiles for a
//! Zipf-like mix of queries, cache hits and misses apart (read from each
//! answer's `cached`), and the same load on a server answering one fixed
//! JSON body with the same axum stack: the limit of the cache-hit path.
//!
//! ```text
//! cargo bench --bench search_load -- fixed --listen 127.0.0.1:8092 --body answer.json
//! cargo bench --bench search_load -- load --url 'http://127.0.0.1:8090/api/v1/search' \
//!     --queries queries.txt --seconds 20 --concurrency 32 --zipf 1.0
//! ```
//!
//! `bench/search-load.sh` runs the whole comparison (BENCHMARKS.md).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::header;
use axum::routing::get;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    match args
        .iter()
        .find(|a| *a == "fixed" || *a == "load")
        .map(String::as_str)
    {
        Some("fixed") => runtime.block_on(serve_fixed(
            &arg(&args, "--listen").unwrap_or("127.0.0.1:8092".into()),
            &arg(&args, "--body").expect("--body FILE"),
        )),
        Some("load") => runtime.block_on(load(&args)),
        _ => eprintln!(
            "usage: search_load fixed --listen ADDR --body FILE | load --url URL --queries FILE ..."
        ),
    }
}

/// One fixed JSON body on every GET of /api/v1/search, served as the query
/// API serves its answers (axum on tokio's multi-threaded runtime).
async fn serve_fixed(listen: &str, body_file: &str) {
    let body: &'static str = std::fs::read_to_string(body_file).unwrap().leak();
    let router = Router::new().route(
        "/api/v1/search",
        get(move || async move { ([(header::CONTENT_TYPE, "application/json")], body) }),
    );
    let listener = tokio::net::TcpListener::bind(listen).await.unwrap();
    eprintln!(
        "fixed JSON ({} bytes) at http://{listen}/api/v1/search",
        body.len()
    );
    axum::serve(listener, router).await.unwrap();
}

/// A small, seeded random number generator (xorshift64*): the mix is the
/// same in every run.
struct Rng(u64);

impl Rng {
    fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The cumulative distribution of ranks 1..=n under Zipf with exponent s.
fn zipf_cdf(n: usize, s: f64) -> Vec<f64> {
    let weights: Vec<f64> = (1..=n).map(|rank| 1.0 / (rank as f64).powf(s)).collect();
    let total: f64 = weights.iter().sum();
    let mut sum = 0.0;
    weights
        .iter()
        .map(|w| {
            sum += w / total;
            sum
        })
        .collect()
}

#[derive(Default)]
struct Samples {
    hits: Vec<Duration>,
    misses: Vec<Duration>,
    errors: u64,
}

async fn load(args: &[String]) {
    let url = arg(args, "--url").expect("--url");
    let queries: Vec<String> = std::fs::read_to_string(arg(args, "--queries").expect("--queries FILE"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    let seconds: u64 = arg(args, "--seconds").map_or(20, |s| s.parse().unwrap());
    let concurrency: usize = arg(args, "--concurrency").map_or(32, |s| s.parse().unwrap());
    let zipf: f64 = arg(args, "--zipf").map_or(1.0, |s| s.parse().unwrap());
    let label = arg(args, "--label").unwrap_or_else(|| url.clone());
    let cdf = Arc::new(zipf_cdf(queries.len(), zipf));
    let queries = Arc::new(queries);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .tcp_nodelay(true)
        .build()
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut workers = Vec::new();
    for worker in 0..concurrency {
        let (client, url, queries, cdf, stop) = (
            client.clone(),
            url.clone(),
            queries.clone(),
            cdf.clone(),
            stop.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut rng =
                Rng(0x9E37_79B9_7F4A_7C15 ^ (worker as u64 + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9));
            let mut samples = Samples::default();
            while !stop.load(Ordering::Relaxed) {
                let r = rng.next_f64();
                let rank = cdf.partition_point(|&c| c < r).min(queries.len() - 1);
                let sent = Instant::now();
                let answer = client.get(&url).query(&[("query", &queries[rank])]).send().await;
                let body = match answer {
                    Ok(response) if response.status().is_success() => response.bytes().await.ok(),
                    _ => None,
                };
                let took = sent.elapsed();
                match body {
                    // A cheap look for the flag; parsing every answer would
                    // load the client more than the server.
                    Some(body) if memchr_cached(&body) => samples.hits.push(took),
                    Some(_) => samples.misses.push(took),
                    None => samples.errors += 1,
                }
            }
            samples
        }));
    }
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Samples::default();
    for worker in workers {
        let samples = worker.await.unwrap();
        all.hits.extend(samples.hits);
        all.misses.extend(samples.misses);
        all.errors += samples.errors;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut every: Vec<Duration> = all.hits.iter().chain(&all.misses).copied().collect();
    println!(
        "{label}: {} queries, {} distinct, zipf s={zipf}, {concurrency} connections, {elapsed:.1} s, {} errors",
        every.len(),
        queries.len(),
        all.errors
    );
    report("all", &mut every, elapsed);
    report("cache hits", &mut all.hits, elapsed);
    report("cache misses", &mut all.misses, elapsed);
}

fn memchr_cached(body: &[u8]) -> bool {
    body.windows(13).any(|w| w == b"\"cached\":true")
}

fn report(what: &str, samples: &mut [Duration], elapsed: f64) {
    if samples.is_empty() {
        println!("  {what:<13} none");
        return;
    }
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    println!(
        "  {what:<13} {:>8.0} q/s  p50 {:>7.2} ms  p99 {:>7.2} ms  ({} answers)",
        samples.len() as f64 / elapsed,
        at(0.50).as_secs_f64() * 1000.0,
        at(0.99).as_secs_f64() * 1000.0,
        samples.len()
    );
}
