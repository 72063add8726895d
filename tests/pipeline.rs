//! The RabbitMQ pipeline end to end, with the real `trawl` binary and the
//! real broker (`TRAWL_TEST_AMQP`, or the local one that `scripts/setup`
//! starts): `trawl crawl --amqp` publishes the fixture web, `trawl index`
//! shards and `trawl docs` consume it. Every test names its exchanges and
//! queues with a prefix of its own and deletes them when it ends, panics
//! included. One test stops the broker itself (with `rabbitmqctl`, so the
//! broker must be the local one), so every test here takes [`BROKER`] for
//! its whole run: they run one at a time. Cargo runs test binaries one
//! after another, so other suites on the broker do not overlap them.
//!
//! `TRAWL_TEST_LOG=1` shows the processes' logs.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use amqp::lapin::message::BasicGetMessage;
use amqp::lapin::options::{BasicGetOptions, BasicPublishOptions, ConfirmSelectOptions, QueueDeclareOptions};
use amqp::lapin::types::{AMQPValue, FieldTable};
use amqp::lapin::{BasicProperties, Channel, Connection};
use amqp::{AmqpConfig, QUEUE_HEADER, REASON_HEADER, Topology};
use common::message::FORMAT_VERSION;
use common::{DocId, NormalizedUrl};
use indexer::{Docstore, IndexReaderHandle};
use test_support::broker::{TearDown, unique_broker};
use test_support::daemons::{free_port, within};
use test_support::fixture::{Fixture, unique_word};
use test_support::redis_server::{RedisTearDown, leases, shared_redis_url};
use tokio::process::{Child, Command};

const SHARDS: u32 = 2;

/// The name of the document-service replica some tests run beside the
/// docs queue's consumer.
const REPLICA: &str = "b";

/// Held by every test for its whole run (see the module's documentation):
/// a test that stops the broker must not pull it from under another.
static BROKER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn raw_channel(config: &AmqpConfig) -> (Connection, Channel) {
    let connection = amqp::connect(config, "test")
        .await
        .expect("broker at TRAWL_TEST_AMQP");
    let channel = connection.create_channel().await.unwrap();
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    (connection, channel)
}

fn trawl(subcommand: &str, config: &AmqpConfig) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_trawl"));
    command
        .args([subcommand, "--amqp", &config.url, "--amqp-prefix", &config.prefix])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .kill_on_drop(true);
    if std::env::var_os("TRAWL_TEST_LOG").is_some() {
        command.env("RUST_LOG", "info").stderr(Stdio::inherit());
    } else {
        command.stderr(Stdio::null());
    }
    command
}

/// A `trawl index` or `trawl docs` process, its data directory, and where
/// it serves HTTP.
struct Service {
    child: Child,
    dir: tempfile::TempDir,
    base: String,
}

impl Service {
    fn index(config: &AmqpConfig, shard: u32, extra: &[&str]) -> Service {
        Service::index_in(tempfile::tempdir().unwrap(), config, shard, extra)
    }

    fn index_in(dir: tempfile::TempDir, config: &AmqpConfig, shard: u32, extra: &[&str]) -> Service {
        Service::start(dir, |data_dir, listen| {
            let mut command = trawl("index", config);
            command
                .args(["--shard", &shard.to_string(), "--shards", &SHARDS.to_string()])
                .args(["--listen", listen])
                .args(extra)
                .arg("--data-dir")
                .arg(data_dir);
            command
        })
    }

    fn docs(config: &AmqpConfig, replica: Option<&str>) -> Service {
        Service::start(tempfile::tempdir().unwrap(), |data_dir, listen| {
            let mut command = trawl("docs", config);
            command
                .args(["--shards", &SHARDS.to_string(), "--listen", listen])
                .arg("--data-dir")
                .arg(data_dir);
            if let Some(replica) = replica {
                command.args(["--replica", replica]);
            }
            command
        })
    }

    fn start(dir: tempfile::TempDir, command: impl Fn(&Path, &str) -> Command) -> Service {
        let listen = format!("127.0.0.1:{}", free_port());
        let child = command(dir.path(), &listen).spawn().unwrap();
        Service {
            child,
            dir,
            base: format!("http://{listen}"),
        }
    }

    /// SIGKILL: gone at once, whatever it held.
    async fn kill(mut self) -> tempfile::TempDir {
        signal("-KILL", &self.pid());
        let _ = self.child.wait().await;
        self.dir
    }

    /// Whether the process is still running (it did not give up or crash).
    fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    fn pid(&self) -> String {
        self.child.id().expect("still running").to_string()
    }

    /// SIGTERM: it must commit, acknowledge and exit cleanly.
    async fn stop(mut self) -> tempfile::TempDir {
        signal("-TERM", &self.pid());
        let status = within("a service stopping on SIGTERM", self.child.wait())
            .await
            .unwrap();
        assert!(status.success(), "a service failed or did not drain: {status}");
        self.dir
    }
}

fn signal(which: &str, pid: &str) {
    let status = std::process::Command::new("kill")
        .args([which, pid])
        .status()
        .unwrap();
    assert!(status.success(), "kill {which} {pid}");
}

fn crawl(config: &AmqpConfig, fixture: &Fixture, data_dir: &Path) -> Command {
    let mut command = trawl("crawl", config);
    command
        .args(["--shards", &SHARDS.to_string()])
        .args(["--seed", &fixture.url("/site/index.html")])
        .args(["--include", &fixture.base()])
        .args(["--allow-private", "--delay-ms", "0", "--data-dir"])
        .arg(data_dir);
    command
}

async fn crawl_to_end(config: &AmqpConfig, fixture: &Fixture, data_dir: &Path) {
    let mut child = crawl(config, fixture, data_dir).spawn().unwrap();
    let status = within("the crawl", child.wait()).await.unwrap();
    assert!(status.success(), "the crawl failed: {status}");
}

/// The document ids committed to the index in `dir` (none before its
/// service created it).
fn indexed(dir: &Path) -> Vec<DocId> {
    let index = dir.join("index");
    if !index.join("meta.json").exists() {
        return Vec::new();
    }
    IndexReaderHandle::open(&index).unwrap().all_doc_ids().unwrap()
}

/// The document ids written to the docstore in `dir`, read beside its
/// writer (a RocksDB secondary).
fn stored(dir: &Path) -> Vec<DocId> {
    let docstore = dir.join("docstore");
    if !docstore.join("CURRENT").exists() {
        return Vec::new();
    }
    let store = Docstore::open_secondary(&docstore).unwrap();
    store.catch_up().unwrap();
    store.all_doc_ids().unwrap()
}

/// Every shard's ids together, sorted: a page indexed twice shows twice.
fn all_indexed(shards: &[&Path]) -> Vec<DocId> {
    let mut ids: Vec<DocId> = shards.iter().flat_map(|dir| indexed(dir)).collect();
    ids.sort();
    ids
}

/// Waits until the shards and docstores hold `expected` (and, if they
/// ever hold more, fails at the final check).
async fn until_consumed(shards: &[&Path], docstores: &[&Path], expected: &[DocId]) {
    within("every page indexed and stored", async {
        loop {
            let mut ids = all_indexed(shards);
            ids.dedup();
            let done = ids == expected && docstores.iter().all(|dir| stored(dir) == expected);
            if done {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await
}

/// Once the services stopped: every page in exactly one shard (its own),
/// once, and in every docstore.
fn assert_exactly_once(config: &AmqpConfig, shards: &[&Path], docstores: &[&Path], expected: &[DocId]) {
    let topology = config.topology();
    for (shard, dir) in shards.iter().enumerate() {
        let ids = indexed(dir);
        assert!(
            !ids.is_empty(),
            "shard {shard} got no page: the test proves little"
        );
        for id in ids {
            assert_eq!(topology.shard_of(id), shard as u32, "{id} in the wrong shard");
        }
    }
    assert_eq!(
        all_indexed(shards),
        expected,
        "every page indexed once, in one shard"
    );
    for dir in docstores {
        assert_eq!(stored(dir), expected, "every page in the docstore");
    }
}

async fn get_json(url: &str) -> (u16, serde_json::Value) {
    let response = reqwest::get(url).await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}

async fn healthy(base: &str) {
    within("a service's /healthz", async {
        loop {
            if let Ok(response) = reqwest::get(format!("{base}/healthz")).await
                && response.status().is_success()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
}

/// Waits until `queue` exists (a replica declares its own when it first
/// connects; pages published before that do not reach it).
async fn until_declared(config: &AmqpConfig, queue: &str) {
    within(queue, async {
        loop {
            // A failed passive declaration closes its channel (and leaves
            // the connection hard to close cleanly): a connection each time.
            let (connection, channel) = raw_channel(config).await;
            let options = QueueDeclareOptions {
                passive: true,
                ..QueueDeclareOptions::default()
            };
            let declared = channel
                .queue_declare(queue.into(), options, FieldTable::default())
                .await
                .is_ok();
            let _ = connection.close(200, "done".into()).await;
            if declared {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crawl_over_rabbitmq_reaches_one_shard_and_every_docstore_once() {
    let _broker = BROKER.lock().await;
    let fixture = Fixture::start(Duration::ZERO).await;
    let config = unique_broker("once", SHARDS);
    let _tear_down = TearDown::new(&config).with_replica(REPLICA);
    let shards = [Service::index(&config, 0, &[]), Service::index(&config, 1, &[])];
    let docs = Service::docs(&config, None);
    let replica = Service::docs(&config, Some(REPLICA));
    until_declared(&config, &config.topology().docs_replica_queue(REPLICA)).await;

    let crawl_dir = tempfile::tempdir().unwrap();
    crawl_to_end(&config, &fixture, crawl_dir.path()).await;
    // The crawler keeps its frontier and crawled_links, and no index.
    assert!(crawl_dir.path().join("frontier").exists());
    assert!(!crawl_dir.path().join("index").exists());
    assert!(!crawl_dir.path().join("docstore").exists());
    for (path, hits) in fixture.hits() {
        assert_eq!(hits, 1, "{path} was fetched {hits} times");
    }

    let expected = fixture.indexable_doc_ids();
    let shard_dirs = [shards[0].dir.path(), shards[1].dir.path()];
    let docstores = [docs.dir.path(), replica.dir.path()];
    until_consumed(&shard_dirs, &docstores, &expected).await;

    // Each shard answers for its own pages; the document service has them all.
    let page = NormalizedUrl::parse(&fixture.url("/site/p/17.html")).unwrap();
    let id = DocId::of(&page);
    let owner = config.topology().shard_of(id) as usize;
    for (shard, service) in shards.iter().enumerate() {
        healthy(&service.base).await;
        let url = format!("{}/shard/search?query={}&limit=5", service.base, unique_word(17));
        // The reader follows commits on a timer: the page may show a moment
        // after its commit.
        let answer = within("a shard's search", async {
            loop {
                let (status, answer) = get_json(&url).await;
                assert_eq!(status, 200, "{answer}");
                if shard != owner || answer["total"] == 1 {
                    return answer;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
        .await;
        if shard == owner {
            assert_eq!(answer["hits"][0]["doc_id"], id.to_string(), "{answer}");
            assert!(answer["hits"][0]["score"].as_f64().unwrap() > 0.0);
        } else {
            assert_eq!(answer["total"], 0, "{answer}");
        }
    }
    let (status, _) = get_json(&format!("{}/shard/search?query=x&limit=0", shards[0].base)).await;
    assert_eq!(status, 400);
    healthy(&docs.base).await;
    let (status, doc) = get_json(&format!("{}/docs/{id}", docs.base)).await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["doc_id"], id.to_string());
    assert_eq!(doc["url"], page.as_str());
    assert_eq!(doc["title"], "Page 17");
    assert!(doc["text"].as_str().unwrap().contains(&unique_word(17)));
    let (status, _) = get_json(&format!("{}/docs/0000000000000000", docs.base)).await;
    assert_eq!(status, 404);
    let (status, error) = get_json(&format!("{}/docs/not-an-id", docs.base)).await;
    assert_eq!(status, 400);
    assert!(error["error"].as_str().unwrap().contains("16 hex digits"));

    let [shard_0, shard_1] = shards;
    let shard_dirs = [shard_0.stop().await, shard_1.stop().await];
    let docstores = [docs.stop().await, replica.stop().await];
    assert_exactly_once(
        &config,
        &[shard_dirs[0].path(), shard_dirs[1].path()],
        &[docstores[0].path(), docstores[1].path()],
        &expected,
    );
}

/// Messages held unacknowledged in `queue` (by its consumer), as the
/// broker counts them.
fn unacknowledged(queue: &str) -> u64 {
    queue_counts(queue)
        .expect("rabbitmqctl list_queues")
        .unacknowledged
}

/// What the broker counts in a queue.
#[derive(Debug, Clone, Copy, Default)]
struct QueueCounts {
    /// Waiting for a consumer.
    ready: u64,
    /// Delivered to a consumer, not acknowledged yet.
    unacknowledged: u64,
}

/// `queue`'s counts (zero if the broker does not list it), or why the
/// broker could not say (as while it starts). The broker refreshes them
/// every `collect_statistics_interval` (5 s by default): they lag.
fn queue_counts(queue: &str) -> Result<QueueCounts, String> {
    let output = std::process::Command::new("rabbitmqctl")
        .args([
            "-q",
            "list_queues",
            "--no-table-headers",
            "name",
            "messages_ready",
            "messages_unacknowledged",
        ])
        .output()
        .map_err(|error| format!("rabbitmqctl (installed with rabbitmq-server): {error}"))?;
    if !output.status.success() {
        return Err(format!("rabbitmqctl list_queues: {}", output.status));
    }
    let counts = String::from_utf8_lossy(&output.stdout).lines().find_map(|line| {
        let mut fields = line.split_whitespace();
        (fields.next() == Some(queue)).then(|| {
            Some(QueueCounts {
                ready: fields.next()?.parse().ok()?,
                unacknowledged: fields.next()?.parse().ok()?,
            })
        })?
    });
    Ok(counts.unwrap_or_default())
}

/// `queue_counts` off the runtime's threads, until `done` holds.
async fn until_counts(what: &str, queue: &str, done: impl Fn(QueueCounts) -> bool) -> QueueCounts {
    within(what, async {
        loop {
            let queue = queue.to_string();
            let counts = tokio::task::spawn_blocking(move || queue_counts(&queue))
                .await
                .unwrap();
            if let Ok(counts) = counts
                && done(counts)
            {
                return counts;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
}

// A shard killed with pages applied but not committed must lose none of
// them (they were never acknowledged, so the broker delivers them again)
// and index none twice (upsert by document id).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_index_shard_killed_mid_batch_loses_no_page_and_indexes_none_twice() {
    let _broker = BROKER.lock().await;
    // Slow pages, so that the crawl is still going when the shard dies.
    let fixture = Fixture::start(Duration::from_millis(80)).await;
    let config = unique_broker("kill", SHARDS);
    let _tear_down = TearDown::new(&config).with_replica(REPLICA);
    // Shard 0 would commit only after 100,000 pages, 4 MB of their text
    // (the fixture's pages are a few hundred bytes) or an hour: everything
    // it holds when killed is an uncommitted batch.
    let never = ["--commit-docs", "100000", "--commit-ms", "3600000"];
    let shard_0 = Service::index(&config, 0, &never);
    let shard_1 = Service::index(&config, 1, &[]);
    let docs = Service::docs(&config, None);

    let crawl_dir = tempfile::tempdir().unwrap();
    let mut crawler = crawl(&config, &fixture, crawl_dir.path()).spawn().unwrap();
    let queue = config.topology().index_queue(0);
    let held = within("shard 0 holding a batch", async {
        loop {
            let queue = queue.clone();
            let held = tokio::task::spawn_blocking(move || unacknowledged(&queue))
                .await
                .unwrap();
            if held >= 10 {
                return held;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    let shard_0_dir = shard_0.kill().await;
    assert!(
        indexed(shard_0_dir.path()).is_empty(),
        "shard 0 committed before it was killed: the test proves little"
    );
    eprintln!("killed shard 0 holding {held} uncommitted pages");
    // The same shard again, on the same data directory, committing as usual.
    let shard_0 = Service::index_in(shard_0_dir, &config, 0, &[]);

    let status = within("the crawl", crawler.wait()).await.unwrap();
    assert!(status.success(), "the crawl failed: {status}");
    let expected = fixture.indexable_doc_ids();
    until_consumed(
        &[shard_0.dir.path(), shard_1.dir.path()],
        &[docs.dir.path()],
        &expected,
    )
    .await;
    let dirs = [shard_0.stop().await, shard_1.stop().await, docs.stop().await];
    assert_exactly_once(
        &config,
        &[dirs[0].path(), dirs[1].path()],
        &[dirs[2].path()],
        &expected,
    );
}

fn text_header(message: &BasicGetMessage, name: &str) -> String {
    let headers = message.delivery.properties.headers().as_ref().expect("headers");
    match headers.inner().get(name) {
        Some(AMQPValue::LongString(text)) => text.to_string(),
        other => panic!("header {name}: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_messages_are_dead_lettered_with_their_reason_and_the_pipeline_goes_on() {
    let _broker = BROKER.lock().await;
    let fixture = Fixture::start(Duration::ZERO).await;
    let config = unique_broker("poison", SHARDS);
    let _tear_down = TearDown::new(&config).with_replica(REPLICA);
    let topology = config.topology();
    let (connection, channel) = raw_channel(&config).await;
    topology.declare(&channel).await.unwrap();

    // Published raw, as a broken or future publisher would, to shard 0's
    // key: shard 0 and the document service each get both.
    let garbage: &[u8] = &[FORMAT_VERSION, 0xc1, 0xde, 0xad];
    let mut unknown_version = vec![9];
    unknown_version.extend_from_slice(b"from a later trawl");
    let poison = [
        (garbage, "malformed message"),
        (&unknown_version[..], "unknown message format version 9"),
    ];
    for (body, _) in &poison {
        let confirm = channel
            .basic_publish(
                topology.exchange().into(),
                Topology::routing_key(0).into(),
                BasicPublishOptions::default(),
                body,
                BasicProperties::default().with_delivery_mode(2),
            )
            .await
            .unwrap();
        assert!(confirm.await.unwrap().is_ack());
    }

    let shards = [Service::index(&config, 0, &[]), Service::index(&config, 1, &[])];
    let docs = Service::docs(&config, None);
    let crawl_dir = tempfile::tempdir().unwrap();
    crawl_to_end(&config, &fixture, crawl_dir.path()).await;
    let expected = fixture.indexable_doc_ids();
    until_consumed(
        &[shards[0].dir.path(), shards[1].dir.path()],
        &[docs.dir.path()],
        &expected,
    )
    .await;
    let [shard_0, shard_1] = shards;
    let dirs = [shard_0.stop().await, shard_1.stop().await, docs.stop().await];
    assert_exactly_once(
        &config,
        &[dirs[0].path(), dirs[1].path()],
        &[dirs[2].path()],
        &expected,
    );

    // Every poison message is in the dead-letter queue, once per queue it
    // reached, with the reason and the queue it came from.
    let mut dead = Vec::new();
    while let Some(message) = channel
        .basic_get(topology.dead_queue().into(), BasicGetOptions { no_ack: true })
        .await
        .unwrap()
    {
        dead.push((
            text_header(&message, QUEUE_HEADER),
            text_header(&message, REASON_HEADER),
            message.delivery.data.clone(),
        ));
    }
    dead.sort();
    let mut expected_dead = Vec::new();
    for queue in [topology.docs_queue(), topology.index_queue(0)] {
        for (body, reason) in &poison {
            expected_dead.push((queue.clone(), reason.to_string(), body.to_vec()));
        }
    }
    expected_dead.sort();
    assert_eq!(dead.len(), expected_dead.len(), "{dead:?}");
    for ((queue, reason, body), (want_queue, want_reason, want_body)) in dead.iter().zip(&expected_dead) {
        assert_eq!(queue, want_queue);
        assert!(
            reason.contains(want_reason.as_str()),
            "{reason:?} names {want_reason:?}"
        );
        assert_eq!(body, want_body);
    }
    connection.close(200, "done".into()).await.unwrap();
}

/// The broker's pids of the connections named `name` (what the pipeline's
/// processes call theirs: `{prefix}.publisher`, `{prefix}.consumer.index.0`).
fn connection_pids(name: &str) -> Vec<String> {
    let output = std::process::Command::new("rabbitmqctl")
        .args([
            "-q",
            "list_connections",
            "--no-table-headers",
            "pid",
            "client_properties",
        ])
        .output()
        .expect("rabbitmqctl, installed with rabbitmq-server");
    assert!(output.status.success(), "rabbitmqctl list_connections failed");
    let quoted = format!("\"{name}\"");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| line.contains(&quoted))
        .filter_map(|line| line.split_whitespace().next().map(str::to_string))
        .collect()
}

/// Closes the connections named `name`, as a broker restart or a network
/// cut would, without touching anyone else's.
async fn cut(name: String) -> usize {
    tokio::task::spawn_blocking(move || {
        let pids = connection_pids(&name);
        for pid in &pids {
            // It may be gone already (reconnecting): that is fine.
            let _ = std::process::Command::new("rabbitmqctl")
                .args(["-q", "close_connection", pid, "cut by a trawl test"])
                .status();
        }
        pids.len()
    })
    .await
    .unwrap()
}

// The broker dropping every connection of the pipeline mid-crawl (twice)
// must lose no page and index none twice: the publisher publishes again
// what was not confirmed, the consumers get again what they had not
// acknowledged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_cut_mid_crawl_lose_nothing_and_duplicate_nothing() {
    let _broker = BROKER.lock().await;
    let fixture = Fixture::start(Duration::from_millis(30)).await;
    let config = unique_broker("cut", SHARDS);
    let _tear_down = TearDown::new(&config).with_replica(REPLICA);
    let shards = [Service::index(&config, 0, &[]), Service::index(&config, 1, &[])];
    let docs = Service::docs(&config, None);
    let crawl_dir = tempfile::tempdir().unwrap();
    let mut crawler = crawl(&config, &fixture, crawl_dir.path()).spawn().unwrap();

    let names = [
        "publisher",
        "consumer.index.0",
        "consumer.index.1",
        "consumer.docs",
    ];
    let mut cuts = 0;
    for fetched in [20, 45] {
        within("the crawl going on", async {
            while fixture.total_hits() < fetched {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        for name in names {
            cuts += cut(format!("{}.{name}", config.prefix)).await;
        }
    }
    let status = within("the crawl", crawler.wait()).await.unwrap();
    assert!(status.success(), "the crawl failed: {status}");
    assert!(cuts >= names.len(), "only {cuts} connections were cut");

    let expected = fixture.indexable_doc_ids();
    until_consumed(
        &[shards[0].dir.path(), shards[1].dir.path()],
        &[docs.dir.path()],
        &expected,
    )
    .await;
    let [shard_0, shard_1] = shards;
    let dirs = [shard_0.stop().await, shard_1.stop().await, docs.stop().await];
    assert_exactly_once(
        &config,
        &[dirs[0].path(), dirs[1].path()],
        &[dirs[2].path()],
        &expected,
    );
}

/// Runs `rabbitmqctl` on the local broker's node.
fn rabbitmqctl(args: &[&str]) -> Result<(), String> {
    let status = std::process::Command::new("rabbitmqctl")
        .arg("-q")
        .args(args)
        .stdout(Stdio::null())
        .status()
        .map_err(|error| format!("rabbitmqctl (installed with rabbitmq-server): {error}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("rabbitmqctl {}: {status}", args.join(" ")))
    }
}

/// Starts the broker's application and waits until it serves.
fn start_broker() -> Result<(), String> {
    rabbitmqctl(&["start_app"])?;
    rabbitmqctl(&["await_startup"])
}

/// The broker's application stopped (`rabbitmqctl stop_app`: every
/// connection drops, every port closes; the Erlang node stays up) until
/// [`Outage::end`], or until dropped, panics included: the broker never
/// stays down for the tests and suites that follow.
struct Outage {
    over: bool,
}

impl Outage {
    async fn begin() -> Outage {
        // Armed before stopping: a stop that fails half way is undone too.
        let outage = Outage { over: false };
        tokio::task::spawn_blocking(|| rabbitmqctl(&["stop_app"]))
            .await
            .unwrap()
            .unwrap();
        outage
    }

    async fn end(mut self) {
        self.over = true;
        tokio::task::spawn_blocking(start_broker).await.unwrap().unwrap();
    }
}

impl Drop for Outage {
    fn drop(&mut self) {
        if !self.over
            && let Err(error) = start_broker()
        {
            // Maybe unwinding already: say it rather than abort.
            eprintln!("could not start the broker again, start it by hand: {error}");
        }
    }
}

// RabbitMQ stopped and started again mid-crawl: the crawl waits for its
// pages' confirmations (back-pressure) instead of failing, the consumers
// keep reconnecting, and in the end every page crawled is indexed once, in
// its shard, and stored. The queues are durable quorum queues and the
// messages persistent: what the broker confirmed survives its restart,
// including what a consumer had received and not acknowledged; what it had
// not confirmed, the publisher publishes again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rabbitmq_stopped_and_started_mid_crawl_loses_nothing_and_duplicates_nothing() {
    let _broker = BROKER.lock().await;
    // Slow pages, so that the crawl is still going when the broker stops.
    let fixture = Fixture::start(Duration::from_millis(80)).await;
    let config = unique_broker("outage", SHARDS);
    let _tear_down = TearDown::new(&config).with_replica(REPLICA);
    // Shard 0 commits (and so acknowledges) only when stopped: every page
    // it gets before the outage is in its queue, unacknowledged, when the
    // broker stops, and must be there again when it starts.
    let never = ["--commit-docs", "100000", "--commit-ms", "3600000"];
    let mut shards = [
        Service::index(&config, 0, &never),
        Service::index(&config, 1, &[]),
    ];
    let mut docs = Service::docs(&config, None);
    let crawl_dir = tempfile::tempdir().unwrap();
    let mut crawler = crawl(&config, &fixture, crawl_dir.path()).spawn().unwrap();

    // The broker stops mid-crawl, once pages of shard 0 have been confirmed
    // to the crawler (the document service has them): shard 0 has not
    // acknowledged them, so they are in its queue when the broker stops.
    let topology = config.topology();
    let held = within("the crawl going on, pages of shard 0 confirmed", async {
        loop {
            let stored = stored(docs.dir.path());
            let held = stored.iter().filter(|id| topology.shard_of(**id) == 0).count() as u64;
            if fixture.total_hits() >= 20 && held >= 5 {
                return held;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    // Declared after the tear-down, so dropped (the broker started) before it.
    let outage = Outage::begin().await;
    let fetched = fixture.total_hits();
    // A while down: long enough for every process to find the broker gone
    // and retry a few times.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let fetched_while_down = fixture.total_hits() - fetched;
    assert!(
        crawler.try_wait().unwrap().is_none(),
        "the crawl ended while the broker was down"
    );
    for service in shards.iter_mut().chain([&mut docs]) {
        assert!(service.running(), "a consumer gave up while the broker was down");
    }
    outage.end().await;
    // What shard 0 held is still in its queue (delivered again, or waiting).
    let queue_0 = topology.index_queue(0);
    let after = until_counts("shard 0's pages kept over the restart", &queue_0, |counts| {
        counts.ready + counts.unacknowledged >= held
    })
    .await;
    // Shard 0 commits what it holds and acknowledges it, then commits as
    // usual, on the same data directory.
    let [shard_0, shard_1] = shards;
    let shard_0 = Service::index_in(shard_0.stop().await, &config, 0, &[]);
    // Serving, so its SIGTERM handler is in place when it is stopped (it
    // may have nothing left to do).
    healthy(&shard_0.base).await;
    eprintln!(
        "broker stopped after {fetched} fetches, {held} or more pages in shard 0's queue; \
         {fetched_while_down} fetches while it was down; {after:?} in shard 0's queue after it started"
    );

    let status = within("the crawl", crawler.wait()).await.unwrap();
    assert!(status.success(), "the crawl failed: {status}");
    // Every indexable page was crawled (the crawl did not stop short)...
    let hits = fixture.hits();
    for url in fixture.indexable_urls() {
        let path = url.strip_prefix(&fixture.url("")).unwrap();
        assert!(hits.contains_key(path), "{path} was never fetched");
    }
    // ...and ends up indexed and stored, once.
    let expected = fixture.indexable_doc_ids();
    until_consumed(
        &[shard_0.dir.path(), shard_1.dir.path()],
        &[docs.dir.path()],
        &expected,
    )
    .await;
    let dirs = [shard_0.stop().await, shard_1.stop().await, docs.stop().await];
    assert_exactly_once(
        &config,
        &[dirs[0].path(), dirs[1].path()],
        &[dirs[2].path()],
        &expected,
    );
}

// Operations: graceful shutdown on SIGTERM, and the metrics every daemon
// serves. These tests also need Redis (`TRAWL_TEST_REDIS`, or the local
// one): the crawler shares its frontier there, so that the leases it holds
// can be seen from outside.

/// A crawler worker on the shared frontier `{redis_prefix}` in Redis,
/// publishing to the broker, serving its metrics on `listen`. `extra`
/// follows the common arguments (`--until-empty`, `--per-host`...).
fn worker(
    config: &AmqpConfig,
    redis_prefix: &str,
    fixture: &Fixture,
    data_dir: &Path,
    listen: &str,
    extra: &[&str],
) -> Child {
    let mut command = crawl(config, fixture, data_dir);
    command
        .args(["--redis", &shared_redis_url(), "--redis-prefix", redis_prefix])
        .args(["--listen", listen])
        .args(extra);
    command.spawn().unwrap()
}

/// `/metrics` of the daemon at `base`, as text (empty while it starts).
async fn scrape(base: &str) -> String {
    match reqwest::get(format!("{base}/metrics")).await {
        Ok(response) if response.status().is_success() => response.text().await.unwrap(),
        _ => String::new(),
    }
}

/// The sum of every sample of the metric `name` (all its label sets; for a
/// histogram, name its `_count` or `_sum`), or `None` if it has none.
fn metric(text: &str, name: &str) -> Option<f64> {
    let samples: Vec<f64> = text
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let metric_name = series.split('{').next()?;
            (metric_name == name).then(|| value.parse::<f64>().ok())?
        })
        .collect();
    (!samples.is_empty()).then(|| samples.iter().sum())
}

/// The sample of `name` with the label `label="value"`.
fn labelled(text: &str, name: &str, label: &str, value: &str) -> Option<f64> {
    let series = format!("{name}{{{label}=\"{value}\"}} ");
    text.lines()
        .find_map(|line| line.strip_prefix(&series))
        .and_then(|value| value.parse().ok())
}

/// Scrapes `base` until `done` holds for its metrics; returns them.
async fn until_metrics(what: &str, base: &str, done: impl Fn(&str) -> bool) -> String {
    within(what, async {
        loop {
            let text = scrape(base).await;
            if done(&text) {
                return text;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
}

/// Sends SIGTERM; the process must drain and exit 0 (within the generous
/// bound of [`within`], far above the daemons' own shutdown deadline).
async fn terminate(child: &mut Child) {
    signal("-TERM", &child.id().expect("still running").to_string());
    let status = within("a process stopping on SIGTERM", child.wait())
        .await
        .unwrap();
    assert!(status.success(), "SIGTERM must drain and exit 0: {status}");
}

// SIGTERM mid-crawl to a crawler worker (Redis frontier, RabbitMQ pages)
// and mid-consume to an index shard, then both restarted: nothing is lost,
// nothing is indexed or fetched twice, and the worker gave its leases back
// as it exited, rather than leaving them to expire (they last ten minutes
// here: a lease left behind would stall the restarted crawl).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_to_a_crawler_and_an_index_shard_mid_work_loses_nothing() {
    let _broker = BROKER.lock().await;
    // Slow pages, so that both signals land in the middle of the crawl.
    let fixture = Fixture::start(Duration::from_millis(250)).await;
    let config = unique_broker("sigterm", SHARDS);
    let _tear_down = TearDown::new(&config).with_replica(REPLICA);
    let redis_prefix = config.prefix.clone();
    let _redis_tear_down = RedisTearDown(redis_prefix.clone());
    let shards = [Service::index(&config, 0, &[]), Service::index(&config, 1, &[])];
    let docs = Service::docs(&config, None);
    for service in shards.iter().chain([&docs]) {
        healthy(&service.base).await;
    }

    let crawl_dir = tempfile::tempdir().unwrap();
    let crawler_listen = format!("127.0.0.1:{}", free_port());
    let worker_args = ["--until-empty", "--per-host", "3", "--lease-ms", "600000"];
    let mut crawler = worker(
        &config,
        &redis_prefix,
        &fixture,
        crawl_dir.path(),
        &crawler_listen,
        &worker_args,
    );
    let pages = fixture.indexable_urls().len();

    // Shard 0 is stopped once it has consumed pages, while the crawl goes on.
    let [shard_0, shard_1] = shards;
    until_metrics("shard 0 consuming", &shard_0.base, |text| {
        metric(text, "trawl_indexer_messages_consumed_total").is_some_and(|n| n >= 3.0)
    })
    .await;
    assert!(
        fixture.total_hits() < pages,
        "the crawl was over when shard 0 stopped: the test proves little"
    );
    let shard_0_dir = shard_0.stop().await;
    let shard_0 = Service::index_in(shard_0_dir, &config, 0, &[]);

    // The worker is stopped holding leases: frozen until it holds some, so
    // that its leases can be read, then signalled, then let go.
    within("the crawl half done", async {
        while fixture.total_hits() < pages / 2 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let pid = crawler.id().unwrap().to_string();
    let held = within("the worker holding leases", async {
        loop {
            signal("-STOP", &pid);
            let held = leases(&shared_redis_url(), &redis_prefix).await;
            if !held.is_empty() {
                return held;
            }
            signal("-CONT", &pid);
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(
        held.iter()
            .all(|(_, worker)| worker.contains(&format!("-{pid}-"))),
        "leases of another worker: {held:?}"
    );
    signal("-TERM", &pid);
    signal("-CONT", &pid);
    let status = within("the worker stopping on SIGTERM", crawler.wait())
        .await
        .unwrap();
    assert!(status.success(), "SIGTERM must drain and exit 0: {status}");
    let left = leases(&shared_redis_url(), &redis_prefix).await;
    assert!(
        left.is_empty(),
        "the worker exited holding {left:?} (it held {held:?} when signalled)"
    );
    let stopped_at = fixture.total_hits();
    assert!(
        stopped_at < pages,
        "the crawl was over when the worker stopped: the test proves little"
    );
    eprintln!(
        "worker stopped after {stopped_at} requests holding {} leases",
        held.len()
    );

    // The same worker again, on the same data directory, to the end.
    let mut crawler = worker(
        &config,
        &redis_prefix,
        &fixture,
        crawl_dir.path(),
        &crawler_listen,
        &worker_args,
    );
    let status = within("the resumed crawl", crawler.wait()).await.unwrap();
    assert!(status.success(), "the resumed crawl failed: {status}");
    // The drain finished what was in flight: no page was fetched twice.
    // (robots.txt is cached per process: each run reads it once.)
    for (path, hits) in fixture.hits() {
        let most = if path == "/robots.txt" { 2 } else { 1 };
        assert!(hits <= most, "{path} was fetched {hits} times");
    }

    let expected = fixture.indexable_doc_ids();
    until_consumed(
        &[shard_0.dir.path(), shard_1.dir.path()],
        &[docs.dir.path()],
        &expected,
    )
    .await;
    let dirs = [shard_0.stop().await, shard_1.stop().await, docs.stop().await];
    assert_exactly_once(
        &config,
        &[dirs[0].path(), dirs[1].path()],
        &[dirs[2].path()],
        &expected,
    );
}

// `/metrics` of a crawler daemon and of index shards: every metric of the
// table in ARCHITECTURE.md is there, with the values the fixture implies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crawler_and_index_shards_serve_their_metrics() {
    let _broker = BROKER.lock().await;
    let fixture = Fixture::start(Duration::ZERO).await;
    let config = unique_broker("metrics", SHARDS);
    let _tear_down = TearDown::new(&config).with_replica(REPLICA);
    let redis_prefix = config.prefix.clone();
    let _redis_tear_down = RedisTearDown(redis_prefix.clone());
    // One message that no consumer can decode, for shard 0 to dead-letter.
    let (connection, channel) = raw_channel(&config).await;
    let topology = config.topology();
    topology.declare(&channel).await.unwrap();
    let garbage: &[u8] = &[FORMAT_VERSION, 0xc1, 0xde, 0xad];
    let confirm = channel
        .basic_publish(
            topology.exchange().into(),
            Topology::routing_key(0).into(),
            BasicPublishOptions::default(),
            garbage,
            BasicProperties::default().with_delivery_mode(2),
        )
        .await
        .unwrap();
    assert!(confirm.await.unwrap().is_ack());
    connection.close(200, "done".into()).await.unwrap();

    let shards = [Service::index(&config, 0, &[]), Service::index(&config, 1, &[])];
    // A daemon (no --until-empty): it stays up, to be scraped, once the
    // crawl is over.
    let crawl_dir = tempfile::tempdir().unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let crawler_base = format!("http://{listen}");
    let mut crawler = worker(&config, &redis_prefix, &fixture, crawl_dir.path(), &listen, &[]);
    healthy(&crawler_base).await;
    within("the crawler ready", async {
        while reqwest::get(format!("{crawler_base}/readyz"))
            .await
            .map_or(true, |response| response.status() != 200)
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;

    // fetched = pages + 404 + PDF + 2 redirects (as in the embedded crawl)
    let pages = fixture.indexable_urls().len() as f64;
    // The frontier's gauges are samples (every 5 s): waited for, not asserted.
    let text = until_metrics("the crawl done and sampled", &crawler_base, |text| {
        metric(text, "trawl_crawler_pages_indexed_total") == Some(pages)
            && metric(text, "trawl_crawler_frontier_queued_links") == Some(0.0)
            && metric(text, "trawl_crawler_frontier_leased_links") == Some(0.0)
            && metric(text, "trawl_crawler_leases_held") == Some(0.0)
    })
    .await;
    let value = |name: &str| metric(&text, name).unwrap_or_else(|| panic!("no {name} in\n{text}"));
    let fetched = |status: &str| labelled(&text, "trawl_crawler_pages_fetched_total", "status", status);
    let skipped = |reason: &str| labelled(&text, "trawl_crawler_urls_skipped_total", "reason", reason);
    assert_eq!(value("trawl_crawler_pages_fetched_total"), pages + 4.0, "{text}");
    assert_eq!(fetched("200"), Some(pages + 1.0), "the pages and the PDF");
    assert_eq!(fetched("404"), Some(1.0));
    assert_eq!(skipped("http_status"), Some(1.0));
    assert_eq!(skipped("wrong_type"), Some(1.0));
    assert_eq!(skipped("out_of_scope"), Some(1.0));
    let robots = labelled(
        &text,
        "trawl_crawler_robots_fetches_total",
        "outcome",
        "unavailable",
    );
    assert_eq!(robots, Some(1.0), "the fixture has no robots.txt");
    assert!(value("trawl_crawler_downloaded_bytes_total") > 100.0 * pages);
    assert_eq!(value("trawl_crawler_fetch_duration_seconds_count"), pages + 4.0);
    assert_eq!(value("trawl_crawler_fetches_in_flight"), 0.0);
    // The fixture is an IP address: nothing to look up, but the counters
    // are there from the start.
    assert_eq!(value("trawl_crawler_dns_cache_hits_total"), 0.0);
    assert_eq!(value("trawl_crawler_dns_cache_misses_total"), 0.0);
    assert!(text.contains("# TYPE trawl_crawler_fetch_duration_seconds histogram"));
    assert!(text.contains("# HELP trawl_crawler_urls_skipped_total"));

    // Each page reached one shard, was consumed once and committed; the
    // poison message was dead-lettered by shard 0.
    let mut consumed = 0.0;
    for (shard, service) in shards.iter().enumerate() {
        let text = until_metrics("a shard's commits and queue depth", &service.base, |text| {
            let consumed = metric(text, "trawl_indexer_messages_consumed_total");
            consumed.is_some()
                && metric(text, "trawl_indexer_messages_committed_total") == consumed
                && metric(text, "trawl_indexer_queue_ready_messages") == Some(0.0)
        })
        .await;
        let value = |name: &str| metric(&text, name).unwrap_or_else(|| panic!("no {name} in\n{text}"));
        consumed += value("trawl_indexer_messages_consumed_total");
        assert!(value("trawl_indexer_commit_duration_seconds_count") >= 1.0);
        let dead = labelled(
            &text,
            "trawl_indexer_messages_dead_lettered_total",
            "reason",
            "malformed",
        );
        assert_eq!(dead, if shard == 0 { Some(1.0) } else { None }, "{text}");
        let (status, ready) = get_json(&format!("{}/readyz", service.base)).await;
        assert_eq!(status, 200, "{ready}");
        assert_eq!(ready["broker_connected"], true);
    }
    assert_eq!(consumed, pages, "every page consumed once, by one shard");

    terminate(&mut crawler).await;
    let [shard_0, shard_1] = shards;
    shard_0.stop().await;
    shard_1.stop().await;
}
