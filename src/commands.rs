//! The subcommands, wired: where the frontier lives (the data directory, or
//! Redis shared with other workers), and where the crawl's pages go: over an
//! in-process channel into the index and docstore under the data directory,
//! or to RabbitMQ, where index shards (`trawl index`) and the document
//! service (`trawl docs`) consume them with the same loop.
//!
//! Every daemon stops the same way on its shutdown signal: it stops taking
//! work (claiming links, consuming messages), finishes or gives back what
//! it holds, commits, acknowledges, and returns; `/readyz` turns false as
//! soon as it begins ([`crate::signal`] bounds how long all this may take).

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use amqp::{AmqpConfig, AmqpConsumer, AmqpSink};
use anyhow::{Context, bail};
use common::queue::{PageSink, page_channel};
use crawler::crawled::CrawledLinks;
use crawler::frontier::{
    EmbeddedFrontier, Frontier, FrontierConfig, NewLink, RedisFrontier, RedisFrontierConfig,
};
use crawler::{CrawlConfig, CrawlSummary};
use indexer::service::{CommitPolicy, IndexingStats, Stores};
use indexer::{Docstore, DocstoreWriter, IndexReaderHandle, IndexWriterHandle};
use query_api::backends::{DocumentSource, IndexShard, LocalDocs, LocalShard, RemoteDocs, RemoteShard};
use query_api::shard_search::ShardSearcher;
use query_api::{AccessConfig, SearchConfig, SearchService};
use serde_json::json;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::info;

use crate::DataDir;
use crate::operations::{self, Readiness};

/// Pages parsed but not yet indexed; beyond this the crawl waits
/// (back-pressure). The queue fills while the indexer commits, whatever
/// its size, so it bounds the texts held then: 32 are a few hundredths of
/// a second of a loopback crawl, and held a few MB less at a crawl's peak
/// than 128 (BENCHMARKS.md §36; 1,024 crawled no faster than 128, §21).
const PAGE_QUEUE_CAPACITY: usize = 32;

/// Threads tantivy uses to build segments; the crawler parses on the others.
const INDEXING_THREADS: usize = 1;

/// Threads an index shard's tantivy writer uses. One keeps a shard to one
/// core for building segments (its consumer loop, decoding and analysis
/// setup run beside it), so that shards, the document service and
/// crawlers can share a machine; run more shards to use more cores.
const SHARD_INDEXING_THREADS: usize = 1;

/// Where the frontier lives.
#[derive(Debug, Clone)]
pub enum FrontierChoice {
    /// In the data directory, for this process alone.
    Embedded(FrontierConfig),
    /// In Redis, shared by every worker of the crawl.
    Redis(RedisFrontierConfig),
}

impl FrontierChoice {
    async fn open(self, data_dir: &DataDir) -> anyhow::Result<Arc<dyn Frontier>> {
        Ok(match self {
            FrontierChoice::Embedded(config) => Arc::new(
                EmbeddedFrontier::open(&data_dir.frontier(), config).context("opening the frontier")?,
            ),
            FrontierChoice::Redis(mut config) => {
                let url = config.url.clone();
                std::fs::create_dir_all(data_dir.root())?;
                config.epoch = data_dir
                    .read_frontier_epoch()
                    .context("reading the data directory's frontier epoch")?;
                let frontier = RedisFrontier::worker(config)
                    .await
                    .with_context(|| format!("joining the crawl at {url}"))?;
                if let Some(epoch) = frontier.epoch() {
                    write_atomically(&data_dir.frontier_epoch(), epoch.as_bytes())?;
                }
                Arc::new(frontier)
            }
        })
    }
}

/// `trawl crawl`: a crawl into `data_dir`, until the frontier is exhausted
/// (unless it is a daemon), the page budget is spent or `shutdown` resolves.
/// With a `listener`, serves `/metrics`, `/healthz` and `/readyz` on it
/// while it crawls.
pub async fn crawl(
    config: CrawlConfig,
    frontier: FrontierChoice,
    data_dir: &DataDir,
    listener: Option<TcpListener>,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<CrawlSummary> {
    let docstore = Arc::new(open_docstore(data_dir)?);
    crawl_into(
        config,
        frontier,
        data_dir,
        Pages::Embedded(docstore),
        listener,
        shutdown,
    )
    .await
}

/// `trawl crawl --amqp`: a crawl that publishes its pages to RabbitMQ for
/// the index shards and the document service, instead of indexing them. A
/// link is done once the broker has confirmed its page. Only the frontier
/// and `crawled_links` live in `data_dir`. The `listener` as for [`crawl`];
/// ready while the publisher is connected.
pub async fn crawl_to_broker(
    config: CrawlConfig,
    frontier: FrontierChoice,
    data_dir: &DataDir,
    amqp: AmqpConfig,
    listener: Option<TcpListener>,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<CrawlSummary> {
    crawl_into(
        config,
        frontier,
        data_dir,
        Pages::Broker(amqp),
        listener,
        shutdown,
    )
    .await
}

/// Where a crawl's pages go.
enum Pages {
    /// Into the index and this docstore, in this process.
    Embedded(Arc<Docstore>),
    /// To RabbitMQ.
    Broker(AmqpConfig),
}

/// Where `trawl serve` finds an index shard or the documents: a server
/// (`trawl index --listen`, `trawl docs --listen`) or a directory in this
/// machine (a data directory of `trawl crawl`, `trawl index` or `trawl docs`).
#[derive(Debug, Clone, PartialEq)]
pub enum Backend {
    Url(String),
    Dir(PathBuf),
}

impl Backend {
    /// `http://...` and `https://...` are servers; anything else a directory.
    pub fn parse(text: &str) -> Backend {
        if text.starts_with("http://") || text.starts_with("https://") {
            Backend::Url(text.to_string())
        } else {
            Backend::Dir(PathBuf::from(text))
        }
    }
}

/// What `trawl serve` searches, and how.
#[derive(Debug, Clone, Default)]
pub struct ServeConfig {
    /// The index and docstore of a single-process crawl: the default shard
    /// and documents.
    pub data_dir: Option<PathBuf>,
    /// Index shards; none means the data directory's index.
    pub shards: Vec<Backend>,
    /// The document service; none means the data directory's docstore.
    pub docs: Option<Backend>,
    /// Create an empty index (and docstore) in a directory that has none;
    /// otherwise such a directory is an error.
    pub create_missing: bool,
    pub search: SearchConfig,
    /// API keys, rate limit, CORS.
    pub access: AccessConfig,
}

impl ServeConfig {
    /// Opens (or connects to) the shards and documents.
    pub fn service(&self) -> anyhow::Result<SearchService> {
        let mut shards: Vec<Arc<dyn IndexShard>> = Vec::new();
        let shard_backends = if self.shards.is_empty() {
            let Some(dir) = &self.data_dir else {
                bail!("nothing to search: give --data-dir DIR, or --shard URL|DIR (repeatable)");
            };
            vec![Backend::Dir(dir.clone())]
        } else {
            self.shards.clone()
        };
        for (number, backend) in shard_backends.iter().enumerate() {
            shards.push(match backend {
                Backend::Url(url) => Arc::new(RemoteShard::new(url)),
                Backend::Dir(dir) => {
                    let data_dir = DataDir::new(dir);
                    if !self.create_missing && !IndexReaderHandle::exists(&data_dir.index()) {
                        bail!(
                            "{} holds no index: give the data directory of a crawl or an index \
                             shard (or --create to serve an empty one)",
                            dir.display()
                        );
                    }
                    let index = IndexReaderHandle::open(&data_dir.index())
                        .with_context(|| format!("opening the index in {}", dir.display()))?;
                    let name = dir.display().to_string();
                    Arc::new(LocalShard::new(name, ShardSearcher::new(index, number as u32)))
                }
            });
        }
        let docs_backend = match (&self.docs, &self.data_dir) {
            (Some(backend), _) => backend.clone(),
            (None, Some(dir)) => Backend::Dir(dir.clone()),
            (None, None) => bail!("no documents to show: give --docs URL|DIR or --data-dir DIR"),
        };
        let docs: Arc<dyn DocumentSource> = match &docs_backend {
            Backend::Url(url) => Arc::new(RemoteDocs::new(url)),
            Backend::Dir(dir) => {
                if self.create_missing {
                    // A secondary instance needs a primary's files to open.
                    drop(
                        Docstore::open(&DataDir::new(dir).docstore())
                            .with_context(|| format!("creating the docstore in {}", dir.display()))?,
                    );
                }
                let docstore = Docstore::open_secondary(&DataDir::new(dir).docstore())
                    .with_context(|| format!("opening the docstore in {}", dir.display()))?;
                Arc::new(LocalDocs::new(dir.display().to_string(), Arc::new(docstore)))
            }
        };
        info!(
            shards = shard_backends.len(),
            docs = ?docs_backend,
            shard_timeout_ms = self.search.shard_timeout.as_millis() as u64,
            cache_entries = self.search.cache_entries,
            "search service configured"
        );
        Ok(SearchService::with_backends(shards, docs, self.search.clone()))
    }
}

/// `trawl serve`: answers searches over index shards and a document
/// service, or over a data directory that another process may be crawling
/// into at the same time.
pub async fn serve(
    config: ServeConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let service = Arc::new(config.service()?);
    serve_on(listener, service, config.access, shutdown).await
}

/// `trawl run`: crawl and serve in one process. New pages become searchable
/// at each commit while the crawl goes on; serving continues after the
/// crawl ends, until `shutdown` is cancelled.
pub async fn run(
    config: CrawlConfig,
    frontier: FrontierChoice,
    data_dir: &DataDir,
    listener: TcpListener,
    access: AccessConfig,
    shutdown: CancellationToken,
) -> anyhow::Result<CrawlSummary> {
    let docstore = Arc::new(open_docstore(data_dir)?);
    let index = IndexReaderHandle::open(&data_dir.index()).context("opening the index")?;
    let service = Arc::new(SearchService::new(index.clone(), docstore.clone()));
    let server = tokio::spawn(serve_on(
        listener,
        service,
        access,
        shutdown.clone().cancelled_owned(),
    ));
    let summary = crawl_into(
        config,
        frontier,
        data_dir,
        Pages::Embedded(docstore),
        None,
        shutdown.clone().cancelled_owned(),
    )
    .await?;
    // The reader follows commits on a timer; make the final commit
    // searchable before saying the crawl is done.
    index.reload().context("reloading the index")?;
    println!("{summary}");
    if shutdown.is_cancelled() {
        info!("crawl stopped; the search server stops too");
    } else {
        info!("crawl done; still serving (Ctrl-C to stop)");
    }
    server.await.context("server task")??;
    Ok(summary)
}

fn open_docstore(data_dir: &DataDir) -> anyhow::Result<Docstore> {
    Docstore::open(&data_dir.docstore()).with_context(|| {
        format!(
            "opening the docstore in {} (is another trawl crawling into it?)",
            data_dir.root().display()
        )
    })
}

async fn crawl_into(
    config: CrawlConfig,
    frontier: FrontierChoice,
    data_dir: &DataDir,
    pages: Pages,
    listener: Option<TcpListener>,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<CrawlSummary> {
    std::fs::create_dir_all(data_dir.root())
        .with_context(|| format!("creating the data directory {}", data_dir.root().display()))?;
    // Up before the frontier opens (joining a shared one may take a while):
    // alive, not ready yet.
    let readiness = Readiness::default();
    let stop_server = CancellationToken::new();
    let server = match listener {
        Some(listener) => {
            let router = operations::router_with_health(readiness.clone());
            Some(spawn_server(
                listener,
                router,
                "crawler metrics",
                stop_server.clone(),
            )?)
        }
        None => None,
    };
    let crawled = crawl_serving(config, frontier, data_dir, pages, &readiness, shutdown).await;
    stop_server.cancel();
    if let Some(server) = server {
        server.await.context("server task")??;
    }
    crawled
}

async fn crawl_serving(
    config: CrawlConfig,
    frontier: FrontierChoice,
    data_dir: &DataDir,
    pages: Pages,
    readiness: &Readiness,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<CrawlSummary> {
    let frontier = frontier.open(data_dir).await?;
    let crawled_links = Arc::new(
        CrawledLinks::open(&data_dir.crawled_links(), config.freshness).context("opening crawled_links")?,
    );

    let (sink, indexing): (Arc<dyn PageSink>, _) = match pages {
        Pages::Embedded(docstore) => {
            let index = IndexWriterHandle::open(&data_dir.index(), INDEXING_THREADS)
                .context("opening the index for writing")?;
            let (sink, source) = page_channel(PAGE_QUEUE_CAPACITY);
            let indexing = tokio::spawn(indexer::service::run_embedded(
                source,
                Stores { index, docstore },
                CommitPolicy::default(),
            ));
            (Arc::new(sink), Some(indexing))
        }
        Pages::Broker(amqp) => {
            info!(prefix = %amqp.prefix, shards = amqp.shards, "publishing pages to RabbitMQ");
            let sink = AmqpSink::start(amqp).context("starting the RabbitMQ publisher")?;
            readiness.depends_on(sink.status());
            (Arc::new(sink), None)
        }
    };
    readiness.opened();
    let shutdown = async {
        shutdown.await;
        readiness.stopping();
    };
    // The crawl owns the only sink: when it returns, an in-process indexer
    // sees the queue close, commits what is left and stops; the RabbitMQ
    // publisher closes its connection once nothing awaits the broker.
    let crawled = crawler::run(config, frontier.clone(), crawled_links, sink, shutdown).await;
    let indexed = match indexing {
        Some(indexing) => Some(indexing.await.context("indexer task")?),
        None => None,
    };
    // Every confirmed page is completed by now: hand the rest over.
    frontier.close().await.context("leaving the frontier")?;
    // An indexer failure explains a crawl failure ("queue closed"): report it first.
    if let Some(indexed) = indexed {
        let indexing_stats = indexed.context("indexing failed")?;
        info!(
            upserted = indexing_stats.upserted,
            commits = indexing_stats.commits,
            "index committed"
        );
    }
    let summary = crawled.context("crawl failed")?;
    std::fs::write(data_dir.last_crawl(), serde_json::to_vec_pretty(&summary)?)?;
    info!(
        fetched = summary.fetched,
        indexed = summary.indexed,
        skipped = summary.skipped.values().sum::<u64>(),
        elapsed_secs = summary.elapsed_secs,
        "crawler stopped"
    );
    Ok(summary)
}

/// What an index shard or the document service needs beyond the data
/// directory: the broker, and when to commit.
#[derive(Debug, Clone)]
pub struct ConsumerConfig {
    pub amqp: AmqpConfig,
    pub commit: CommitPolicy,
}

/// `trawl index`: consumes shard `shard`'s queue into the tantivy index in
/// `data_dir`, committing in batches and acknowledging after each commit,
/// and answers searches over the shard on `listener` (`/shard/search`,
/// `/healthz`). Runs until `shutdown`, then commits, acknowledges and
/// returns.
pub async fn index_shard(
    config: ConsumerConfig,
    shard: u32,
    data_dir: &DataDir,
    listener: Option<TcpListener>,
    shutdown: CancellationToken,
) -> anyhow::Result<IndexingStats> {
    let shards = config.amqp.shards;
    if shard >= shards {
        bail!("--shard {shard} is not below --shards {shards}");
    }
    let queue = config.amqp.topology().index_queue(shard);
    claim_data_dir(data_dir, &queue, Some(shards))?;
    let writer = IndexWriterHandle::open(&data_dir.index(), SHARD_INDEXING_THREADS).with_context(|| {
        format!(
            "opening the index in {} (is another trawl index using it?)",
            data_dir.root().display()
        )
    })?;
    let consumer =
        AmqpConsumer::new(config.amqp.clone(), queue.clone()).context("configuring the consumer")?;
    let readiness = Readiness::default();
    readiness.depends_on(consumer.status());
    let server = match listener {
        Some(listener) => {
            let reader = IndexReaderHandle::open(&data_dir.index()).context("opening the index")?;
            let router = query_api::shard_search::router(Arc::new(ShardSearcher::new(reader, shard)))
                .merge(operations::router(readiness.clone()));
            Some(spawn_server(listener, router, "shard search", shutdown.clone())?)
        }
        None => None,
    };
    info!(
        %queue,
        shard,
        shards,
        prefetch = config.amqp.prefetch,
        commit_docs = config.commit.max_batch_docs,
        commit_ms = config.commit.max_batch_delay.as_millis() as u64,
        commit_text_bytes = config.commit.max_batch_text_bytes,
        data_dir = %data_dir.root().display(),
        "index shard consuming"
    );
    let service = ConsumerDaemon {
        consumer,
        amqp: config.amqp,
        readiness,
        server,
    };
    service.consume_then_stop(writer, config.commit, shutdown).await
}

/// `trawl docs`: the document service. Consumes the docs queue (or, as
/// replica `replica`, a queue of its own: [`amqp::Topology::docs_replica_queue`])
/// into the docstore in `data_dir`, in batches acknowledged after each
/// synced write, and serves `/docs/{doc_id}` and `/healthz` on `listener`.
/// Runs until `shutdown`, then writes, acknowledges and returns.
pub async fn docs(
    config: ConsumerConfig,
    replica: Option<&str>,
    data_dir: &DataDir,
    listener: Option<TcpListener>,
    shutdown: CancellationToken,
) -> anyhow::Result<IndexingStats> {
    let consumer = match replica {
        Some(replica) => AmqpConsumer::docs_replica(config.amqp.clone(), replica),
        None => {
            let queue = config.amqp.topology().docs_queue();
            AmqpConsumer::new(config.amqp.clone(), queue)
        }
    }
    .context("configuring the consumer")?;
    claim_data_dir(data_dir, consumer.queue(), None)?;
    let docstore = Arc::new(open_docstore(data_dir)?);
    let readiness = Readiness::default();
    readiness.depends_on(consumer.status());
    let server = match listener {
        Some(listener) => {
            let router =
                query_api::docs::router(docstore.clone()).merge(operations::router(readiness.clone()));
            Some(spawn_server(listener, router, "documents", shutdown.clone())?)
        }
        None => None,
    };
    info!(
        queue = %consumer.queue(),
        replica,
        prefetch = config.amqp.prefetch,
        commit_docs = config.commit.max_batch_docs,
        commit_ms = config.commit.max_batch_delay.as_millis() as u64,
        commit_text_bytes = config.commit.max_batch_text_bytes,
        data_dir = %data_dir.root().display(),
        "document service consuming"
    );
    let writer = DocstoreWriter::new(docstore);
    let service = ConsumerDaemon {
        consumer,
        amqp: config.amqp,
        readiness,
        server,
    };
    service.consume_then_stop(writer, config.commit, shutdown).await
}

/// An index shard or the document service, set up: its consumer, and its
/// HTTP server if it has one.
struct ConsumerDaemon {
    consumer: AmqpConsumer,
    amqp: AmqpConfig,
    readiness: Readiness,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl ConsumerDaemon {
    /// The consumer loop of `trawl index` and `trawl docs`, until
    /// `shutdown`; then the service's HTTP server stops too, whatever ended
    /// the loop. With a server, the queue's depth is sampled for its
    /// metrics meanwhile.
    async fn consume_then_stop(
        self,
        store: impl indexer::service::EventStore + 'static,
        commit: CommitPolicy,
        shutdown: CancellationToken,
    ) -> anyhow::Result<IndexingStats> {
        let ConsumerDaemon {
            consumer,
            amqp,
            readiness,
            server,
        } = self;
        // The store is open by now: ready once the consumer is connected.
        readiness.opened();
        let sampler = server.is_some().then(|| {
            let queue = consumer.queue().to_string();
            tokio::spawn(amqp::sample_queue_depth(
                amqp,
                queue,
                consumer.status(),
                shutdown.clone().cancelled_owned(),
            ))
        });
        let stopping = {
            let shutdown = shutdown.clone();
            async move {
                shutdown.cancelled().await;
                readiness.stopping();
            }
        };
        let stats = indexer::service::run(consumer, store, commit, stopping).await;
        shutdown.cancel();
        if let Some(sampler) = sampler {
            sampler.await.context("queue depth sampler")?;
        }
        if let Some(server) = server {
            server.await.context("server task")??;
        }
        Ok(stats?)
    }
}

/// Ties a consumer's data directory to its queue (and shard count), in
/// `DIR/consumer.json`: an index shard started on another shard's
/// directory, or after the shard count changed, would serve documents
/// routed elsewhere. Refuses a directory that belongs to another queue.
fn claim_data_dir(data_dir: &DataDir, queue: &str, shards: Option<u32>) -> anyhow::Result<()> {
    let root = data_dir.root();
    std::fs::create_dir_all(root)
        .with_context(|| format!("creating the data directory {}", root.display()))?;
    let path = data_dir.consumer();
    let claim = json!({ "queue": queue, "shards": shards });
    match std::fs::read(&path) {
        Ok(bytes) => {
            let found: serde_json::Value =
                serde_json::from_slice(&bytes).with_context(|| format!("reading {}", path.display()))?;
            if found != claim {
                bail!(
                    "{} belongs to {found} and this is {claim}: give each consumer a data directory of its own",
                    root.display()
                );
            }
            Ok(())
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            write_atomically(&path, &serde_json::to_vec_pretty(&claim)?)
        }
        Err(error) => Err(error).with_context(|| format!("reading {}", path.display())),
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let temporary = path.with_extension("tmp");
    std::fs::write(&temporary, bytes).with_context(|| format!("writing {}", temporary.display()))?;
    std::fs::rename(&temporary, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Serves `router` on `listener` until `shutdown` is cancelled.
fn spawn_server(
    listener: TcpListener,
    router: axum::Router,
    what: &'static str,
    shutdown: CancellationToken,
) -> anyhow::Result<tokio::task::JoinHandle<anyhow::Result<()>>> {
    let address = listener.local_addr()?;
    info!(%address, "serving {what}");
    eprintln!("{what} at http://{address}/");
    Ok(tokio::spawn(async move {
        query_api::wire::serve(listener, router, shutdown.cancelled_owned())
            .await
            .context("serving")
    }))
}

/// Serves the search API, and `/metrics`, on `listener` until `shutdown`.
async fn serve_on(
    listener: TcpListener,
    service: Arc<SearchService>,
    access: AccessConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    info!(address = %listener.local_addr()?, "serving search");
    eprintln!("search at http://{}/", listener.local_addr()?);
    // The API's router serves /metrics itself (with its cache's counts).
    query_api::serve(listener, service, access, shutdown).await?;
    Ok(())
}

/// What `trawl rebuild` did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RebuildReport {
    /// The epoch the data directory now belongs to.
    pub epoch: String,
    /// Pages of the data directory's `crawled_links` queued again.
    pub pages_queued: usize,
    /// Seeds that were new to the frontier.
    pub seeds_added: usize,
}

/// `trawl rebuild`: refills a shared frontier that Redis lost from one
/// worker's data directory and the seeds. Run it once per worker data
/// directory (the first run starts a new epoch, the others join it), then
/// start the workers again.
///
/// Every page the worker fetched is queued again and its validators are
/// forgotten, so that it is fetched whole: a 304 would not give back the
/// links of a page, and the links of the lost frontier are found again
/// only by reading the pages. Upserts are idempotent: the index ends as it
/// was.
pub async fn rebuild(
    config: RedisFrontierConfig,
    data_dir: &DataDir,
    seeds: Vec<common::NormalizedUrl>,
    force: bool,
) -> anyhow::Result<RebuildReport> {
    let old_epoch = data_dir
        .read_frontier_epoch()
        .context("reading the data directory's frontier epoch")?;
    let url = config.url.clone();
    let mut frontier = RedisFrontier::client(config)
        .await
        .with_context(|| format!("connecting to {url}"))?;
    let epoch = frontier.rebuild_epoch(old_epoch.as_deref(), force).await?;
    let crawled = CrawledLinks::open(
        &data_dir.crawled_links(),
        crawler::crawled::FreshnessConfig::default(),
    )
    .context("opening crawled_links")?;
    let mut pages_queued = 0;
    let mut batch = Vec::new();
    for page in crawled.forget_validators()? {
        if let Ok(url) = common::NormalizedUrl::parse(&page.url) {
            batch.push(NewLink::page(url, page.depth, page.revisit_priority()));
        }
        if batch.len() >= 1000 {
            pages_queued += frontier.revisit(std::mem::take(&mut batch)).await?;
        }
    }
    pages_queued += frontier.revisit(batch).await?;
    let links = seeds
        .into_iter()
        .map(|seed| NewLink::page(seed, 0, 1.0))
        .collect();
    let seeds_added = frontier.add(links).await?.added;
    write_atomically(&data_dir.frontier_epoch(), epoch.as_bytes())?;
    info!(%epoch, pages_queued, seeds_added, "frontier rebuilt from the data directory");
    Ok(RebuildReport {
        epoch,
        pages_queued,
        seeds_added,
    })
}

/// Merges the index of `data_dir` into one segment (see
/// [`IndexWriterHandle::merge_all`]): for an index a batch crawl finished.
/// Refused while another process writes the index. Answers how many
/// segments there were and the documents the index holds.
pub async fn compact(data_dir: &DataDir) -> anyhow::Result<(usize, u64)> {
    let dir = data_dir.index();
    if !IndexReaderHandle::exists(&dir) {
        bail!("no index in {}: nothing to compact", data_dir.root().display());
    }
    tokio::task::spawn_blocking(move || {
        let mut writer = IndexWriterHandle::open(&dir, 1)
            .with_context(|| format!("opening {} to compact it (is a crawl writing it?)", dir.display()))?;
        let segments = writer.merge_all()?;
        drop(writer);
        let reader = IndexReaderHandle::open(&dir)?;
        reader.reload()?;
        Ok((segments, reader.num_docs()))
    })
    .await?
}

/// `trawl seed`: adds seeds to a crawl running on Redis; returns how many
/// were new.
pub async fn seed(redis: RedisFrontierConfig, seeds: Vec<common::NormalizedUrl>) -> anyhow::Result<usize> {
    let url = redis.url.clone();
    let frontier = RedisFrontier::client(redis)
        .await
        .with_context(|| format!("connecting to {url}"))?;
    let links = seeds
        .into_iter()
        .map(|seed| NewLink::page(seed, 0, 1.0))
        .collect();
    Ok(frontier.add(links).await?.added)
}

/// What `trawl status` reports about a crawl.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatusReport {
    /// Where the frontier is: a data directory or a Redis prefix.
    pub frontier_at: String,
    /// The frontier's counts; none when it could not be read (why is in
    /// `frontier_note`).
    pub counts: Option<crawler::frontier::FrontierCounts>,
    pub frontier_note: Option<String>,
    /// The last crawl's summary (`DIR/last-crawl.json`), with when it ended.
    pub last_crawl: Option<(serde_json::Value, std::time::SystemTime)>,
}

/// `trawl status`: a crawl's frontier (queued, leased, resting hosts) and
/// its last run's summary, read without joining or changing the crawl.
/// With `redis`, the shared frontier under its prefix; otherwise the data
/// directory's own, unless a crawl running there holds it.
pub async fn status(
    data_dir: Option<&DataDir>,
    redis: Option<RedisFrontierConfig>,
) -> anyhow::Result<StatusReport> {
    let mut report = StatusReport::default();
    match (redis, data_dir) {
        (Some(redis), _) => {
            report.frontier_at = format!("Redis {} prefix {}", redis.url, redis.prefix);
            let url = redis.url.clone();
            let frontier = RedisFrontier::client(redis)
                .await
                .with_context(|| format!("connecting to {url}"))?;
            report.counts = Some(frontier.counts().await?);
        }
        (None, Some(data_dir)) => {
            report.frontier_at = data_dir.frontier().display().to_string();
            if !data_dir.frontier().exists() {
                report.frontier_note = Some("no crawl has run in this directory".into());
            } else {
                match EmbeddedFrontier::open(&data_dir.frontier(), FrontierConfig::default()) {
                    Ok(frontier) => report.counts = Some(frontier.counts().await?),
                    // RocksDB's lock: the crawl that holds it reports its
                    // own progress.
                    Err(error) if error.to_string().contains("lock") => {
                        report.frontier_note = Some(
                            "a crawl running in this directory holds the frontier (see its progress line)"
                                .into(),
                        )
                    }
                    Err(error) => return Err(error).context("opening the frontier"),
                }
            }
        }
        (None, None) => bail!("trawl status needs --data-dir DIR, or --redis URL (with --redis-prefix)"),
    }
    if let Some(data_dir) = data_dir
        && let Ok(text) = std::fs::read(data_dir.last_crawl())
    {
        let summary = serde_json::from_slice(&text).context("reading last-crawl.json")?;
        let ended = std::fs::metadata(data_dir.last_crawl())?.modified()?;
        report.last_crawl = Some((summary, ended));
    }
    Ok(report)
}

impl std::fmt::Display for StatusReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "frontier      {}", self.frontier_at)?;
        if let Some(note) = &self.frontier_note {
            writeln!(f, "              {note}")?;
        }
        if let Some(counts) = &self.counts {
            writeln!(
                f,
                "  queued      {:>9}  (links waiting to be fetched)",
                counts.queued
            )?;
            writeln!(
                f,
                "  leased      {:>9}  (claimed by a worker, not yet done)",
                counts.leased
            )?;
            writeln!(f, "  known URLs  {:>9}", counts.seen)?;
            writeln!(
                f,
                "  resting     {:>9}  hosts waiting for their politeness delay, Crawl-delay, Retry-After or a back-off",
                counts.resting_hosts
            )?;
            writeln!(
                f,
                "  retrying    {:>9}  links waiting to be tried again after an error",
                counts.retrying
            )?;
            if counts.queued == 0 && counts.leased == 0 {
                writeln!(
                    f,
                    "  nothing is left to fetch: a crawl here would only visit pages that came due"
                )?;
            }
        }
        match &self.last_crawl {
            None => writeln!(f, "last crawl    none recorded")?,
            Some((summary, ended)) => {
                let number = |key: &str| summary[key].as_u64().unwrap_or(0);
                let ago = ended.elapsed().map_or(0, |d| d.as_millis() as u64);
                writeln!(
                    f,
                    "last crawl    ended {} ago after {:.1} s: fetched {}, indexed {}, new links {}",
                    crawler::stats::in_words(ago),
                    summary["elapsed_secs"].as_f64().unwrap_or(0.0),
                    number("fetched"),
                    number("indexed"),
                    number("links_queued"),
                )?;
                let reasons = summary["skipped"].as_object().cloned().unwrap_or_default();
                let list = |errors_only: bool| -> String {
                    let parts: Vec<String> = common::SkipReason::ALL
                        .into_iter()
                        .filter(|reason| reason.is_error() == errors_only)
                        .filter_map(|reason| Some(format!("{reason} {}", reasons.get(reason.as_str())?)))
                        .collect();
                    if parts.is_empty() {
                        "none".into()
                    } else {
                        parts.join(", ")
                    }
                };
                writeln!(f, "  errors      {}", list(true))?;
                writeln!(f, "  skipped     {}", list(false))?;
                if let Some(at) = summary["next_revisit_ms"].as_u64() {
                    writeln!(
                        f,
                        "  next visit  a page comes due in {}",
                        crawler::stats::in_words(at.saturating_sub(crawler::crawled::now_ms()))
                    )?;
                }
            }
        }
        Ok(())
    }
}
