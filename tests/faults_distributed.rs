//! Fault injection in the distributed pipeline: crawler workers sharing a
//! frontier in Redis, publishing to RabbitMQ; two index shards and the
//! document service consuming it. Each process is killed (SIGKILL) at its
//! crash points, or Redis is killed and restarted, with and without its
//! append-only file; then everything runs to the end and what is
//! searchable over the shards and the docstore is compared with a clean
//! crawl, URL by URL (`test_support::searchable`).
//!
//! Needs Redis (127.0.0.1:6379, or `TRAWL_TEST_REDIS`) and RabbitMQ
//! (`TRAWL_TEST_AMQP`), as `scripts/setup` starts them; every name is the
//! test's own.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use amqp::AmqpConfig;
use indexer::{Docstore, IndexReaderHandle};
use query_api::backends::{IndexShard, LocalDocs, LocalShard};
use query_api::shard_search::ShardSearcher;
use query_api::{SearchConfig, SearchService};
use test_support::broker::{TearDown, unique_broker};
use test_support::daemons::{Daemon, assert_killed_at, finish, trawl, within};
use test_support::fixture::Fixture;
use test_support::redis_server::{Persistence, PrivateRedis, delete_keys, shared_redis_url, unique_prefix};
use test_support::rng::Rng;
use test_support::searchable::{Searcher, assert_searchable};

const BIN: &str = env!("CARGO_BIN_EXE_trawl");
const SHARDS: u32 = 2;

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

/// The pipeline's consumers: two index shards and the document service.
struct Consumers {
    shards: Vec<Daemon>,
    docs: Daemon,
    _dirs: Vec<tempfile::TempDir>,
}

impl Consumers {
    fn start(broker: &AmqpConfig) -> Consumers {
        let dirs: Vec<tempfile::TempDir> = (0..=SHARDS).map(|_| tempfile::tempdir().unwrap()).collect();
        let amqp = ["--amqp", &broker.url, "--amqp-prefix", &broker.prefix];
        let shards = (0..SHARDS)
            .map(|shard| {
                let mut args = strings(&["index"]);
                args.extend(strings(&amqp));
                args.extend(strings(&[
                    "--shard",
                    &shard.to_string(),
                    "--shards",
                    &SHARDS.to_string(),
                ]));
                args.extend(strings(&["--commit-ms", "200"]));
                Daemon::start(BIN, &format!("shard {shard}"), &args, dirs[shard as usize].path())
            })
            .collect();
        let mut args = strings(&["docs"]);
        args.extend(strings(&amqp));
        args.extend(strings(&["--shards", &SHARDS.to_string(), "--commit-ms", "200"]));
        let docs = Daemon::start(BIN, "docs", &args, dirs[SHARDS as usize].path());
        Consumers {
            shards,
            docs,
            _dirs: dirs,
        }
    }

    async fn healthy(&self) {
        for shard in &self.shards {
            shard.healthy().await;
        }
        self.docs.healthy().await;
    }

    fn documents(&self) -> (u64, u64) {
        let indexed = self
            .shards
            .iter()
            .map(|shard| {
                let dir = shard.dir.join("index");
                if IndexReaderHandle::exists(&dir) {
                    let index = IndexReaderHandle::open(&dir).unwrap();
                    index.reload().unwrap();
                    index.num_docs()
                } else {
                    0
                }
            })
            .sum();
        let docstore = self.docs.dir.join("docstore");
        let stored = if docstore.join("CURRENT").exists() {
            let store = Docstore::open_secondary(&docstore).unwrap();
            store.catch_up().unwrap();
            store.all_doc_ids().unwrap().len() as u64
        } else {
            0
        };
        (indexed, stored)
    }

    /// Waits until the shards and the docstore hold `pages` documents (a
    /// lost page fails here, at the deadline; one indexed twice fails the
    /// check that follows).
    async fn until_consumed(&self, pages: u64) {
        within("every page indexed and stored", async {
            loop {
                let (indexed, stored) = self.documents();
                if indexed >= pages && stored >= pages {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
        .await
    }

    /// A search over the shards' and the docstore's directories.
    fn search(&self) -> SearchService {
        let shards: Vec<Arc<dyn IndexShard>> = self
            .shards
            .iter()
            .enumerate()
            .map(|(i, shard)| {
                let index = IndexReaderHandle::open(&shard.dir.join("index")).unwrap();
                index.reload().unwrap();
                let shard: Arc<dyn IndexShard> = Arc::new(LocalShard::new(
                    format!("shard {i}"),
                    ShardSearcher::new(index, i as u32),
                ));
                shard
            })
            .collect();
        let docstore = Docstore::open_secondary(&self.docs.dir.join("docstore")).unwrap();
        docstore.catch_up().unwrap();
        SearchService::with_backends(
            shards,
            Arc::new(LocalDocs::new("docs", Arc::new(docstore))),
            SearchConfig::default(),
        )
    }

    async fn assert_searchable(&self, fixture: &Fixture, case: &str) {
        let expected = fixture.expected();
        self.until_consumed(expected.pages.len() as u64).await;
        let (indexed, stored) = self.documents();
        assert_eq!(
            indexed,
            expected.pages.len() as u64,
            "{case}: a page indexed twice"
        );
        assert_eq!(stored, expected.pages.len() as u64, "{case}: docstore");
        let search = self.search();
        assert_searchable(&Searcher::Service(&search), &expected, Some(indexed), case).await;
    }

    async fn stop(mut self) {
        for shard in &mut self.shards {
            shard.stop().await;
        }
        self.docs.stop().await;
    }
}

/// A crawler worker's arguments: the fixture, the shared frontier, the
/// broker; leases short enough that a killed worker's links come back
/// quickly.
fn worker_args(fixture: &Fixture, redis: &str, prefix: &str, broker: &AmqpConfig, dir: &Path) -> Vec<String> {
    let mut args = fixture.crawl_args();
    args.extend(strings(&[
        "--redis",
        redis,
        "--redis-prefix",
        prefix,
        "--until-empty",
        "--lease-ms",
        "2000",
        "--partition-lease-ms",
        "1500",
        "--amqp",
        &broker.url,
        "--amqp-prefix",
        &broker.prefix,
        "--shards",
        &SHARDS.to_string(),
        "--data-dir",
        &dir.display().to_string(),
    ]));
    args
}

/// Which process dies where.
#[derive(Debug, Clone, Copy)]
enum Victim {
    Crawler,
    Shard(usize),
    Docs,
}

// The fault matrix of the pipeline: the crawler between a publication and
// its broker confirm, after the confirm, after the completion; a shard
// and the document service after applying, between a commit and its
// acknowledgement, and after it. Each process restarts on its data
// directory; the result must be the clean crawl's, each page once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pipeline_killed_at_any_crash_point_ends_with_the_clean_index() {
    let fixture = Fixture::start(Duration::ZERO).await;
    let redis = shared_redis_url();
    let mut rng = Rng::from_env();
    let cases: Vec<(Victim, &str, u64)> = vec![
        (Victim::Crawler, "crawl.published", rng.between(1, 40)),
        (Victim::Crawler, "crawl.confirmed", rng.between(1, 40)),
        (Victim::Crawler, "crawl.completed", rng.between(1, 40)),
        (Victim::Shard(0), "index.applied", rng.between(1, 15)),
        (Victim::Shard(1), "index.committed", 1),
        (Victim::Shard(0), "index.acknowledged", 1),
        (Victim::Docs, "index.committed", 1),
        (Victim::Docs, "index.applied", rng.between(1, 40)),
    ];
    for (victim, point, n) in cases {
        let case = format!("{victim:?} at {point}={n}");
        let broker = unique_broker("faults", SHARDS);
        let _teardown = TearDown::new(&broker);
        let prefix = unique_prefix("faults");
        let crawl_dir = tempfile::tempdir().unwrap();
        let mut args = worker_args(&fixture, &redis, &prefix, &broker, crawl_dir.path());
        // The shared Redis may run without its append-only file; restarts
        // are the other test's.
        args.push("--redis-allow-volatile".to_string());

        let mut consumers = Consumers::start(&broker);
        consumers.healthy().await;
        let armed = format!("{point}={n}");
        match victim {
            Victim::Crawler => {
                let (status, stderr) = finish(trawl(BIN, &args, Some(&armed))).await;
                assert_killed_at(status, &stderr, point, n);
                let (status, stderr) = finish(trawl(BIN, &args, None)).await;
                assert!(status.success(), "{case}: the resumed crawl failed: {stderr}");
            }
            Victim::Shard(_) | Victim::Docs => {
                let daemon = match victim {
                    Victim::Shard(i) => &mut consumers.shards[i],
                    _ => &mut consumers.docs,
                };
                // Armed from its start: stop it and start it again armed.
                daemon.stop().await;
                daemon.restart(Some(&armed));
                let crawl = tokio::spawn(finish(trawl(BIN, &args, None)));
                let daemon = match victim {
                    Victim::Shard(i) => &mut consumers.shards[i],
                    _ => &mut consumers.docs,
                };
                daemon.killed_at(point, n).await;
                daemon.restart(None);
                let (status, stderr) = crawl.await.unwrap();
                assert!(status.success(), "{case}: the crawl failed: {stderr}");
            }
        }
        consumers.assert_searchable(&fixture, &case).await;
        consumers.stop().await;
        delete_keys(&redis, &prefix).await;
    }
}

/// Two workers crawl through a Redis of the test's own, which is killed
/// and restarted once a third of the pages were fetched.
async fn crawl_through_a_redis_restart(persistence: Persistence) {
    // Slow pages: the restart lands in the middle of the crawl.
    let fixture = Fixture::start(Duration::from_millis(20)).await;
    let mut redis = PrivateRedis::start(persistence).await;
    let broker = unique_broker("redis-restart", SHARDS);
    let _teardown = TearDown::new(&broker);
    let prefix = unique_prefix("redis-restart");
    let consumers = Consumers::start(&broker);
    consumers.healthy().await;
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let redis_url = redis.url();
    let args = |dir: &Path| {
        let mut args = worker_args(&fixture, &redis_url, &prefix, &broker, dir);
        if persistence == Persistence::None {
            args.push("--redis-allow-volatile".to_string());
        }
        args
    };

    if persistence == Persistence::None {
        // Without the flag, a Redis that keeps nothing on disk is refused.
        let mut refused = args(dirs[0].path());
        refused.pop();
        let (status, stderr) = finish(trawl(BIN, &refused, None)).await;
        assert!(!status.success(), "a volatile Redis was accepted");
        assert!(stderr.contains("appendonly"), "{stderr}");
    }

    let workers: Vec<_> = dirs
        .iter()
        .map(|dir| tokio::spawn(finish(trawl(BIN, &args(dir.path()), None))))
        .collect();
    let pages = fixture.pages_and_words().len();
    within("a third of the crawl", async {
        while fixture.total_hits() < pages / 3 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    redis.kill_and_restart().await;
    let mut outcomes = Vec::new();
    for worker in workers {
        outcomes.push(worker.await.unwrap());
    }

    match persistence {
        Persistence::AppendOnly => {
            for (status, stderr) in &outcomes {
                assert!(status.success(), "a worker failed across the restart: {stderr}");
            }
        }
        Persistence::None => {
            // The frontier is gone: both workers stop, loudly, and say how
            // to go on.
            for (status, stderr) in &outcomes {
                assert!(
                    !status.success(),
                    "a worker ended as if the crawl were done: {stderr}"
                );
                assert!(stderr.contains("trawl rebuild"), "{stderr}");
            }
            for dir in &dirs {
                let mut rebuild = strings(&["rebuild", "--redis", &redis_url, "--redis-prefix", &prefix]);
                rebuild.extend(strings(&[
                    "--seed",
                    &fixture.url("/site/index.html"),
                    "--data-dir",
                ]));
                rebuild.push(dir.path().display().to_string());
                let (status, stderr) = finish(trawl(BIN, &rebuild, None)).await;
                assert!(status.success(), "trawl rebuild failed: {stderr}");
            }
            let workers: Vec<_> = dirs
                .iter()
                .map(|dir| tokio::spawn(finish(trawl(BIN, &args(dir.path()), None))))
                .collect();
            for worker in workers {
                let (status, stderr) = worker.await.unwrap();
                assert!(status.success(), "a worker failed after the rebuild: {stderr}");
            }
        }
    }
    consumers
        .assert_searchable(&fixture, &format!("Redis restarted, {persistence:?}"))
        .await;
    consumers.stop().await;
}

// With its append-only file (appendfsync everysec, as scripts/setup runs
// it), a Redis killed and restarted mid-crawl loses nothing: the workers
// wait for it and finish the crawl.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_with_its_append_only_file_restarted_mid_crawl_loses_nothing() {
    crawl_through_a_redis_restart(Persistence::AppendOnly).await;
}

// Without persistence, Redis comes back empty: the workers stop with an
// error that says how to rebuild, `trawl rebuild` refills the frontier
// from their data directories and the seeds, and the crawl ends as a clean
// one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restarted_empty_stops_the_workers_and_the_rebuild_restores_the_crawl() {
    crawl_through_a_redis_restart(Persistence::None).await;
}
