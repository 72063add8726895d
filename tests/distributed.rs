//! Several crawler processes sharing one frontier on the real Redis
//! (127.0.0.1:6379, or TRAWL_TEST_REDIS), crawling a fixture web of 500
//! pages over 5 host names mapped to loopback.

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::HeaderMap;
use axum::response::Html;
use axum::routing::get;
use common::{DocId, NormalizedUrl};
use indexer::IndexReaderHandle;
use test_support::redis_server::{delete_keys, leases};
use tokio::process::{Child, Command};

const HOSTS: usize = 5;
const PAGES_PER_HOST: usize = 100;
const DELAY_MS: u64 = 100;

/// Requests per (host, path), with arrival times.
#[derive(Clone, Default)]
struct Web {
    arrivals: Arc<Mutex<Vec<(String, String, Instant)>>>,
}

impl Web {
    async fn start() -> (Web, SocketAddr) {
        let web = Web::default();
        let app = Router::new()
            .route("/p/{i}", get(page))
            .fallback(|| async { (axum::http::StatusCode::NOT_FOUND, "no") })
            .layer(axum::middleware::from_fn_with_state(web.clone(), record))
            .with_state(web.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (web, addr)
    }

    /// Requests per page, robots.txt left out (each worker reads it once).
    fn page_hits(&self) -> BTreeMap<String, usize> {
        let mut hits = BTreeMap::new();
        for (host, path, _) in self.arrivals.lock().unwrap().iter() {
            if path.starts_with("/p/") {
                *hits.entry(format!("{host}{path}")).or_default() += 1;
            }
        }
        hits
    }

    fn total_page_hits(&self) -> usize {
        self.page_hits().values().sum()
    }

    /// Waits until the crawl is about a third of the way through.
    async fn until_a_third_is_fetched(&self) {
        while self.total_page_hits() < HOSTS * PAGES_PER_HOST / 3 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The shortest gap between two requests to one host, over all hosts.
    fn min_gap_per_host(&self) -> Duration {
        let arrivals = self.arrivals.lock().unwrap();
        let mut by_host: BTreeMap<&str, Vec<Instant>> = BTreeMap::new();
        for (host, path, at) in arrivals.iter() {
            if path != "/robots.txt" {
                by_host.entry(host).or_default().push(*at);
            }
        }
        by_host
            .values_mut()
            .flat_map(|times| {
                times.sort();
                times.windows(2).map(|w| w[1] - w[0]).collect::<Vec<_>>()
            })
            .min()
            .unwrap_or(Duration::MAX)
    }
}

async fn record(
    State(web): State<Web>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let host = request
        .headers()
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let path = request.uri().path().to_string();
    web.arrivals.lock().unwrap().push((host, path, Instant::now()));
    next.run(request).await
}

fn host_index(headers: &HeaderMap) -> usize {
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    host.strip_prefix('h')
        .and_then(|rest| rest.split('.').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Page i of host h links to the next page of its host, to page i of the
/// next host, and back to page 0.
async fn page(headers: HeaderMap, UrlPath(i): UrlPath<usize>) -> Html<String> {
    let h = host_index(&headers);
    let port = headers
        .get("host")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(':').nth(1))
        .unwrap_or("80");
    let next = (i + 1) % PAGES_PER_HOST;
    let other = (h + 1) % HOSTS;
    Html(format!(
        "<title>host {h} page {i}</title><main>Page {i} of host {h}. \
         <a href=\"/p/{next}\">next</a> <a href=\"http://h{other}.test:{port}/p/{i}\">across</a> \
         <a href=\"/p/0\">first</a></main>"
    ))
}

fn all_pages(port: u16) -> Vec<String> {
    (0..HOSTS)
        .flat_map(|h| (0..PAGES_PER_HOST).map(move |i| format!("h{h}.test:{port}/p/{i}")))
        .collect()
}

fn unique_prefix(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("trawl-test-{name}-{}-{nanos}", std::process::id())
}

fn redis_url() -> String {
    std::env::var("TRAWL_TEST_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_string())
}

/// A crawler worker process on the shared frontier.
fn worker(redis: &str, prefix: &str, port: u16, data_dir: &Path, extra: &[&str]) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_trawl"));
    command.args([
        "crawl",
        "--redis",
        redis,
        "--redis-prefix",
        prefix,
        "--until-empty",
    ]);
    for h in 0..HOSTS {
        command.args(["--seed", &format!("http://h{h}.test:{port}/p/0")]);
        command.args(["--resolve", &format!("h{h}.test=127.0.0.1")]);
    }
    command
        .args([
            "--allow-private",
            "--delay-ms",
            &DELAY_MS.to_string(),
            "--delay-factor",
            "0",
        ])
        .args(["--partition-lease-ms", "2000", "--lease-ms", "3000"])
        .args(extra)
        .arg("--data-dir")
        .arg(data_dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    command.spawn().unwrap()
}

/// `count` workers, each with a data directory of its own.
fn start_workers(count: usize, redis: &str, prefix: &str, port: u16) -> (Vec<tempfile::TempDir>, Vec<Child>) {
    let dirs: Vec<_> = (0..count).map(|_| tempfile::tempdir().unwrap()).collect();
    let workers = dirs
        .iter()
        .map(|dir| worker(redis, prefix, port, dir.path(), &[]))
        .collect();
    (dirs, workers)
}

async fn wait_all(children: &mut [Child]) {
    for child in children {
        let status = tokio::time::timeout(Duration::from_secs(300), child.wait())
            .await
            .expect("worker ends")
            .unwrap();
        assert!(status.success(), "worker failed: {status}");
    }
}

fn indexed(data_dirs: &[tempfile::TempDir]) -> Vec<DocId> {
    let mut ids = Vec::new();
    for dir in data_dirs {
        ids.extend(
            IndexReaderHandle::open(&dir.path().join("index"))
                .unwrap()
                .all_doc_ids()
                .unwrap(),
        );
    }
    ids.sort();
    ids
}

fn expected_ids(port: u16) -> Vec<DocId> {
    let mut ids: Vec<DocId> = all_pages(port)
        .iter()
        .map(|p| DocId::of(&NormalizedUrl::parse(&format!("http://{p}")).unwrap()))
        .collect();
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workers_fetch_and_index_every_page_once_politely() {
    let (web, addr) = Web::start().await;
    let (redis, prefix) = (redis_url(), unique_prefix("three"));
    // The workers join one after another, so partitions (and the hosts in
    // them) change hands while the crawl runs: politeness must hold across.
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    // One WARC directory for all three, as on a shared volume.
    let warc = tempfile::tempdir().unwrap();
    let warc_dir = warc.path().display().to_string();
    let mut workers = Vec::new();
    for dir in &dirs {
        workers.push(worker(
            &redis,
            &prefix,
            addr.port(),
            dir.path(),
            &["--warc", &warc_dir],
        ));
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
    wait_all(&mut workers).await;
    // `trawl status` of the shared frontier: nothing left.
    let said = test_support::daemons::trawl_says(
        env!("CARGO_BIN_EXE_trawl"),
        &["status", "--redis", &redis, "--redis-prefix", &prefix],
    );
    assert!(
        said.contains("  queued              0") && said.contains("  leased              0"),
        "{said}"
    );
    let known: usize = said
        .lines()
        .find_map(|line| line.strip_prefix("  known URLs"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no count of known URLs: {said}"));
    // Every page, and each host's /sitemap.xml.
    assert_eq!(known, HOSTS * PAGES_PER_HOST + HOSTS, "{said}");
    delete_keys(&redis, &prefix).await;

    // The archive holds every request the web saw, from files of each
    // worker's own name.
    let records = test_support::warc::warcio_records(warc.path());
    let requests = records.iter().filter(|r| r["type"] == "request").count();
    let responses = records.iter().filter(|r| r["type"] == "response").count();
    let seen = web.arrivals.lock().unwrap().len();
    assert_eq!(
        (requests, responses),
        (seen, seen),
        "a request and a response record per request"
    );
    assert!(
        records.iter().all(|r| r["digests_ok"] != false),
        "warcio found a bad digest"
    );
    let writers: HashSet<String> = records
        .iter()
        .filter_map(|r| r["file"].as_str())
        .map(|file| file.rsplitn(3, '-').nth(2).unwrap_or_default().to_string())
        .collect();
    // (A worker that joined after the others took every host may have
    // fetched nothing, and written no file.)
    assert!(
        writers.len() >= 2,
        "each worker writes files of its own: {writers:?}"
    );
    assert!(
        writers.iter().all(|w| !w.ends_with("/trawl")),
        "a worker's files carry its name: {writers:?}"
    );

    let hits = web.page_hits();
    assert_eq!(hits.len(), HOSTS * PAGES_PER_HOST, "every page fetched");
    let twice: Vec<_> = hits.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "fetched more than once: {twice:?}");
    assert_eq!(
        indexed(&dirs),
        expected_ids(addr.port()),
        "every page indexed exactly once, across the workers"
    );
    let gap = web.min_gap_per_host();
    assert!(
        gap >= Duration::from_millis(DELAY_MS),
        "two requests to one host {gap:?} apart, across all workers"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_midway_loses_nothing_and_only_its_held_links_are_fetched_again() {
    let (web, addr) = Web::start().await;
    let (redis, prefix) = (redis_url(), unique_prefix("kill"));
    let (dirs, mut workers) = start_workers(3, &redis, &prefix, addr.port());
    web.until_a_third_is_fetched().await;
    // Freeze every worker and note the links each holds. Five hosts over 64
    // partitions may leave a worker with none of them, so the victim is the
    // worker holding the most; the others go on, and the victim is killed
    // outright.
    let signal = |which: &str, pid: &str| {
        let status = std::process::Command::new("kill")
            .args([which, pid])
            .status()
            .unwrap();
        assert!(status.success(), "kill {which} {pid}");
    };
    let pids: Vec<String> = workers.iter().map(|w| w.id().unwrap().to_string()).collect();
    for pid in &pids {
        signal("-STOP", pid);
    }
    let mut holdings = Vec::new();
    for pid in &pids {
        holdings.push(held_links(&redis, &prefix, pid).await);
    }
    let chosen = (0..pids.len()).max_by_key(|&i| holdings[i].len()).unwrap();
    let held = holdings.swap_remove(chosen);
    signal("-KILL", &pids[chosen]);
    for (i, pid) in pids.iter().enumerate() {
        if i != chosen {
            signal("-CONT", pid);
        }
    }
    let victim = workers.remove(chosen);
    let _ = victim.wait_with_output().await;

    wait_all(&mut workers).await;
    delete_keys(&redis, &prefix).await;
    let hits = web.page_hits();
    assert_eq!(hits.len(), HOSTS * PAGES_PER_HOST, "every page fetched");
    assert!(
        !held.is_empty(),
        "the victim held nothing: the test proves nothing"
    );
    let again = hits.values().filter(|n| **n > 1).count();
    eprintln!(
        "killed worker held {} links; {again} pages were fetched a second time",
        held.len()
    );
    for (page, count) in hits.iter().filter(|(_, n)| **n > 1) {
        assert!(
            held.contains(page),
            "{page} fetched {count} times but was not held by the killed worker"
        );
    }
    let mut ids = indexed(&dirs);
    ids.dedup();
    assert_eq!(
        ids,
        expected_ids(addr.port()),
        "every page indexed by some worker"
    );
}

/// The links the worker with process id `pid` holds. Read while that
/// worker is stopped, so the answer cannot change under us.
async fn held_links(redis: &str, prefix: &str, pid: &str) -> HashSet<String> {
    leases(redis, prefix)
        .await
        .into_iter()
        .filter(|(_, worker)| worker.contains(&format!("-{pid}-")))
        .map(|(url, _)| url.trim_start_matches("http://").to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restarted_midway_loses_nothing() {
    // A Redis of this test's own, with persistence on, so that it can be
    // killed and restarted without touching the shared one.
    let redis_dir = tempfile::tempdir().unwrap();
    let port = test_support::daemons::free_port();
    let start_redis = || {
        std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", ""])
            .args(["--appendonly", "yes", "--appendfsync", "always"])
            .arg("--dir")
            .arg(redis_dir.path())
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server is installed")
    };
    let mut server = start_redis();
    let redis = format!("redis://127.0.0.1:{port}");
    wait_for_redis(&redis).await;

    let (web, addr) = Web::start().await;
    let prefix = unique_prefix("restart");
    let (dirs, mut workers) = start_workers(2, &redis, &prefix, addr.port());
    web.until_a_third_is_fetched().await;
    server.kill().unwrap(); // SIGKILL: only what the AOF holds survives
    server.wait().unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut server = start_redis();
    wait_for_redis(&redis).await;

    wait_all(&mut workers).await;
    server.kill().unwrap();
    let _ = server.wait();
    assert_eq!(
        web.page_hits().len(),
        HOSTS * PAGES_PER_HOST,
        "every page fetched"
    );
    let mut ids = indexed(&dirs);
    ids.dedup();
    assert_eq!(ids, expected_ids(addr.port()), "every page indexed");
}

async fn wait_for_redis(url: &str) {
    let client = redis::Client::open(url).unwrap();
    for _ in 0..100 {
        if let Ok(mut conn) = client.get_multiplexed_async_connection().await
            && redis::cmd("PING").query_async::<String>(&mut conn).await.is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("redis at {url} did not start");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daemon_crawls_seeds_added_while_it_runs_and_stops_on_sigterm() {
    let (web, addr) = Web::start().await;
    let (redis, prefix) = (redis_url(), unique_prefix("daemon"));
    let dir = tempfile::tempdir().unwrap();
    // No seeds and no --until-empty: a daemon waiting for work.
    let mut command = Command::new(env!("CARGO_BIN_EXE_trawl"));
    command.args([
        "crawl",
        "--redis",
        &redis,
        "--redis-prefix",
        &prefix,
        "--scope",
        "any",
    ]);
    for h in 0..HOSTS {
        command.args(["--resolve", &format!("h{h}.test=127.0.0.1")]);
    }
    command
        .args([
            "--allow-private",
            "--delay-ms",
            "0",
            "--delay-factor",
            "0",
            "--data-dir",
        ])
        .arg(dir.path())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    let daemon = command.spawn().unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(web.total_page_hits(), 0, "nothing to do yet");

    let seeded = Command::new(env!("CARGO_BIN_EXE_trawl"))
        .args(["seed", "--redis", &redis, "--redis-prefix", &prefix])
        .arg(format!("http://h0.test:{}/p/0", addr.port()))
        .output()
        .await
        .unwrap();
    assert!(seeded.status.success(), "{seeded:?}");
    assert_eq!(
        String::from_utf8_lossy(&seeded.stdout).trim(),
        "1 of 1 seeds were new"
    );

    // Every page is reachable from that seed.
    let started = Instant::now();
    while web.page_hits().len() < HOSTS * PAGES_PER_HOST {
        assert!(started.elapsed() < Duration::from_secs(120), "the daemon stalled");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let pid = daemon.id().unwrap().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    let status = tokio::time::timeout(Duration::from_secs(60), daemon.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert!(
        status.status.success(),
        "SIGTERM stops the daemon cleanly: {status:?}"
    );
    delete_keys(&redis, &prefix).await;
    assert_eq!(indexed(std::slice::from_ref(&dir)), expected_ids(addr.port()));
}
