//! The RabbitMQ pipeline's throughput against the local broker
//! (TRAWL_BENCH_AMQP, default amqp://guest:guest@127.0.0.1:5672/%2f; queues
//! under a prefix of their own, deleted afterwards), over synthetic pages
//! of about 5 KB of text each.
//!
//!   cargo bench --workspace --bench pipeline [-- PAGES [SHARDS [ROUNDS]]]
//!
//! PAGES defaults to 10,000, SHARDS to 2, ROUNDS to 3. Each round runs the
//! phases in turn (this machine's speed drifts between minutes, so phases
//! are compared within rounds), and the end prints each phase's median:
//! 1. `tantivy`: the pages upserted into one index in this process, a commit
//!    every 2,000: the limit of one indexing thread, no queue at all;
//! 2. `channel`: the same through the in-process channel and the consumer
//!    loop (`trawl crawl` without `--amqp`), into the index only;
//! 3. `publish`: the pages published to RabbitMQ through `AmqpSink`, every
//!    confirm awaited (persistent messages in quorum queues: each page goes
//!    to its shard's queue and to the docs queue);
//! 4. `shard I`: one index shard consuming its queue (full, prefetch 2,000)
//!    into its own index, as `trawl index` does;
//! 5. `docs`: the document service consuming the docs queue into RocksDB;
//! 6. `together`: publishing again while every shard and the document
//!    service consume, all in this process, until the last page is stored.

use std::future::Future;
use std::time::{Duration, Instant};

use amqp::{AmqpConfig, AmqpConsumer, AmqpSink};
use common::message::Outlink;
use common::queue::DeliverySource;
use common::queue::{PageSink, page_channel};
use common::{NormalizedUrl, PageEvent, PageMessage};
use indexer::service::{self, CommitPolicy};
use indexer::{Docstore, DocstoreWriter, IndexWriterHandle};

const COMMIT_DOCS: usize = 2000;
const TEXT_BYTES: usize = 5 * 1024;
const VOCABULARY: usize = 30_000;

fn broker_url() -> String {
    std::env::var("TRAWL_BENCH_AMQP").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_string())
}

/// xorshift64*: the same pages on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// A word index, frequent words much more often than rare ones (about
    /// Zipf's law, as in real text).
    fn zipf(&mut self, n: usize) -> usize {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((n as f64).powf(u) as usize).saturating_sub(1).min(n - 1)
    }
}

fn vocabulary(rng: &mut Rng) -> Vec<String> {
    const SYLLABLES: [&str; 24] = [
        "ka", "to", "ri", "mu", "sen", "lo", "va", "pe", "dor", "in", "ex", "al", "ber", "tu", "chi", "gra",
        "mon", "el", "stra", "ve", "qu", "ro", "ni", "sa",
    ];
    (0..VOCABULARY)
        .map(|_| {
            let syllables = 1 + rng.below(4);
            (0..syllables)
                .map(|_| SYLLABLES[rng.below(SYLLABLES.len())])
                .collect()
        })
        .collect()
}

fn words(rng: &mut Rng, vocabulary: &[String], count: usize) -> String {
    let mut text = String::new();
    for _ in 0..count {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(&vocabulary[rng.zipf(vocabulary.len())]);
    }
    text
}

/// `count` pages of about [`TEXT_BYTES`] of text, with a title, a
/// description, headings and links, as the crawler publishes them.
fn pages(count: usize) -> Vec<PageEvent> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let vocabulary = vocabulary(&mut rng);
    (0..count)
        .map(|i| {
            let url = NormalizedUrl::parse(&format!(
                "http://site{}.example/docs/section-{}/page-{i}.html",
                i % 50,
                i % 97
            ))
            .expect("valid URL");
            let mut text = String::with_capacity(TEXT_BYTES + 64);
            while text.len() < TEXT_BYTES {
                text.push_str(&words(&mut rng, &vocabulary, 12));
                text.push_str(". ");
            }
            let outlinks = (0..20)
                .map(|j| Outlink {
                    url: NormalizedUrl::parse(&format!("http://site{}.example/docs/page-{j}.html", i % 50))
                        .expect("valid URL"),
                    anchor: words(&mut rng, &vocabulary, 2),
                })
                .collect();
            PageEvent::Upsert(Box::new(PageMessage {
                url: url.clone(),
                canonical_url: url,
                fetched_at_ms: 1_700_000_000_000 + i as u64,
                status: 200,
                title: words(&mut rng, &vocabulary, 6),
                description: words(&mut rng, &vocabulary, 20),
                headings: (0..3).map(|_| words(&mut rng, &vocabulary, 4)).collect(),
                text,
                outlinks,
                language: Some("en".into()),
                simhash: rng.next(),
                content_hash: rng.next(),
                sections: Vec::new(),
            }))
        })
        .collect()
}

/// The first `left` deliveries of a source, then its end: a consumer loop
/// that stops by itself once it has made a known number of pages durable.
struct Take<S> {
    inner: S,
    left: usize,
}

impl<S: DeliverySource> DeliverySource for Take<S> {
    type Delivery = S::Delivery;

    async fn recv(&mut self) -> Option<S::Delivery> {
        if self.left == 0 {
            return None;
        }
        let delivery = self.inner.recv().await?;
        self.left -= 1;
        Some(delivery)
    }

    fn close(self) -> impl Future<Output = ()> + Send {
        self.inner.close()
    }
}

/// A commit every 2,000 pages, as `tantivy_alone` does, whatever their text:
/// the phases stay comparable with each other and with earlier runs.
fn policy() -> CommitPolicy {
    let mut policy = CommitPolicy::every(COMMIT_DOCS, Duration::from_secs(1));
    policy.max_batch_text_bytes = usize::MAX;
    policy
}

/// Pages per second of every phase, by round.
#[derive(Default)]
struct Results(Vec<(String, f64)>);

impl Results {
    fn report(&mut self, phase: &str, docs: usize, elapsed: Duration) {
        let per_second = docs as f64 / elapsed.as_secs_f64();
        println!(
            "{phase}\tdocs={docs}\tseconds={:.2}\tper_second={per_second:.0}",
            elapsed.as_secs_f64()
        );
        self.0.push((phase.to_string(), per_second));
    }

    fn medians(&self) {
        let mut phases: Vec<&str> = Vec::new();
        for (phase, _) in &self.0 {
            if !phases.contains(&phase.as_str()) {
                phases.push(phase);
            }
        }
        for phase in phases {
            let mut rates: Vec<f64> = self
                .0
                .iter()
                .filter(|(p, _)| p == phase)
                .map(|(_, r)| *r)
                .collect();
            rates.sort_by(f64::total_cmp);
            println!(
                "median\t{phase}\tper_second={:.0}\trange={:.0}-{:.0}",
                rates[rates.len() / 2],
                rates[0],
                rates[rates.len() - 1]
            );
        }
    }
}

fn tantivy_alone(pages: &[PageEvent]) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let mut writer = IndexWriterHandle::open(dir.path(), 1).unwrap();
    for (i, page) in pages.iter().enumerate() {
        let PageEvent::Upsert(page) = page else {
            unreachable!()
        };
        writer.upsert(page).unwrap();
        if (i + 1) % COMMIT_DOCS == 0 {
            writer.commit().unwrap();
        }
    }
    writer.commit().unwrap();
    started.elapsed()
}

async fn channel(pages: &[PageEvent]) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let writer = IndexWriterHandle::open(dir.path(), 1).unwrap();
    let (sink, source) = page_channel(1024);
    let started = Instant::now();
    let consumer = tokio::spawn(service::run(source, writer, policy(), std::future::pending()));
    let mut confirmations = Vec::with_capacity(pages.len());
    for page in pages {
        confirmations.push(sink.publish(page.clone()).await.unwrap());
    }
    drop(sink);
    for confirmation in confirmations {
        confirmation.await.unwrap();
    }
    consumer.await.unwrap().unwrap();
    started.elapsed()
}

async fn publish(config: &AmqpConfig, pages: &[PageEvent]) -> Duration {
    let sink = AmqpSink::start(config.clone()).unwrap();
    let started = Instant::now();
    let mut confirmations = Vec::with_capacity(pages.len());
    for page in pages {
        confirmations.push(sink.publish(page.clone()).await.unwrap());
    }
    for confirmation in confirmations {
        confirmation.await.unwrap();
    }
    started.elapsed()
}

/// Consumes `count` pages of `queue` into a fresh index (or docstore).
async fn consume(config: &AmqpConfig, queue: String, count: usize, into_docstore: bool) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let source = Take {
        inner: AmqpConsumer::new(config.clone(), queue).unwrap(),
        left: count,
    };
    let started = Instant::now();
    let stats = if into_docstore {
        let docstore = std::sync::Arc::new(Docstore::open(dir.path()).unwrap());
        service::run(
            source,
            DocstoreWriter::new(docstore),
            policy(),
            std::future::pending(),
        )
        .await
    } else {
        let writer = IndexWriterHandle::open(dir.path(), 1).unwrap();
        service::run(source, writer, policy(), std::future::pending()).await
    };
    assert_eq!(stats.unwrap().upserted, count as u64);
    started.elapsed()
}

async fn delete(config: &AmqpConfig) {
    let connection = amqp::connect(config, "bench").await.unwrap();
    let channel = connection.create_channel().await.unwrap();
    config.topology().delete(&channel).await.unwrap();
    connection.close(200, "done".into()).await.unwrap();
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let count: usize = args.first().and_then(|n| n.parse().ok()).unwrap_or(10_000);
    let shards: u32 = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(2);
    let rounds: usize = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(3).max(1);
    let pages = pages(count);
    let message_bytes: usize = pages.iter().map(|p| p.encode().len()).sum();
    let text_bytes: usize = pages
        .iter()
        .map(|p| match p {
            PageEvent::Upsert(page) => page.text.len(),
            PageEvent::Remove { .. } => 0,
        })
        .sum();
    println!(
        "pages\tcount={count}\tshards={shards}\ttext_bytes={}\tmessage_bytes={}",
        text_bytes / count,
        message_bytes / count
    );

    let mut config = AmqpConfig::new(
        broker_url(),
        format!("trawl-bench-pipeline-{}", std::process::id()),
    );
    config.shards = shards;
    config.prefetch = COMMIT_DOCS as u16;
    let topology = config.topology();
    let per_shard: Vec<usize> = (0..shards)
        .map(|shard| {
            pages
                .iter()
                .filter(|p| topology.shard_of(p.doc_id()) == shard)
                .count()
        })
        .collect();
    let mut results = Results::default();
    for round in 1..=rounds {
        println!("round {round}");
        results.report("tantivy", count, tantivy_alone(&pages));
        results.report("channel", count, channel(&pages).await);
        results.report("publish", count, publish(&config, &pages).await);
        for shard in 0..shards {
            let n = per_shard[shard as usize];
            let elapsed = consume(&config, topology.index_queue(shard), n, false).await;
            results.report(&format!("shard {shard}"), n, elapsed);
        }
        let elapsed = consume(&config, topology.docs_queue(), count, true).await;
        results.report("docs", count, elapsed);

        let started = Instant::now();
        let mut consumers = Vec::new();
        for shard in 0..shards {
            let (config, queue) = (config.clone(), topology.index_queue(shard));
            let n = per_shard[shard as usize];
            consumers.push(tokio::spawn(
                async move { consume(&config, queue, n, false).await },
            ));
        }
        let (docs_config, docs_queue) = (config.clone(), topology.docs_queue());
        consumers.push(tokio::spawn(async move {
            consume(&docs_config, docs_queue, count, true).await
        }));
        let published = publish(&config, &pages).await;
        for consumer in consumers {
            consumer.await.unwrap();
        }
        results.report("together", count, started.elapsed());
        results.report("together publish", count, published);
    }
    results.medians();

    delete(&config).await;
}
