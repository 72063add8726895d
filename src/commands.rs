//! The subcommands, wired: where the frontier lives (the data directory, or
//! Redis shared with other workers), and the indexer that takes this
//! process's pages over an in-process channel into the index and docstore
//! under the data directory.

use std::future::Future;
use std::sync::Arc;

use anyhow::Context;
use common::queue::page_channel;
use crawler::crawled::CrawledLinks;
use crawler::frontier::{
    EmbeddedFrontier, Frontier, FrontierConfig, NewLink, RedisFrontier, RedisFrontierConfig,
};
use crawler::{CrawlConfig, CrawlSummary};
use indexer::service::{CommitPolicy, Stores};
use indexer::{Docstore, IndexReaderHandle, IndexWriterHandle};
use query_api::SearchService;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::info;

use crate::DataDir;

/// Pages parsed but not yet indexed; beyond this the crawl waits
/// (back-pressure).
const PAGE_QUEUE_CAPACITY: usize = 1024;

/// Threads tantivy uses to build segments; the crawler parses on the others.
const INDEXING_THREADS: usize = 1;

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
            FrontierChoice::Redis(config) => {
                let url = config.url.clone();
                Arc::new(
                    RedisFrontier::worker(config)
                        .await
                        .with_context(|| format!("joining the crawl at {url}"))?,
                )
            }
        })
    }
}

/// `trawl crawl`: a crawl into `data_dir`, until the frontier is exhausted
/// (unless it is a daemon), the page budget is spent or `shutdown` resolves.
pub async fn crawl(
    config: CrawlConfig,
    frontier: FrontierChoice,
    data_dir: &DataDir,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<CrawlSummary> {
    let docstore = Arc::new(open_docstore(data_dir)?);
    crawl_into(config, frontier, data_dir, docstore, shutdown).await
}

/// `trawl serve`: answers searches over `data_dir`, which another process
/// may be crawling into at the same time.
pub async fn serve(
    data_dir: &DataDir,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let index = IndexReaderHandle::open(&data_dir.index()).context("opening the index")?;
    let docstore = Docstore::open_secondary(&data_dir.docstore()).context("opening the docstore")?;
    let service = Arc::new(SearchService::new(index, Arc::new(docstore)));
    serve_on(listener, service, shutdown).await
}

/// `trawl run`: crawl and serve in one process. New pages become searchable
/// at each commit while the crawl goes on; serving continues after the
/// crawl ends, until `shutdown` is cancelled.
pub async fn run(
    config: CrawlConfig,
    frontier: FrontierChoice,
    data_dir: &DataDir,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<CrawlSummary> {
    let docstore = Arc::new(open_docstore(data_dir)?);
    let index = IndexReaderHandle::open(&data_dir.index()).context("opening the index")?;
    let service = Arc::new(SearchService::new(index.clone(), docstore.clone()));
    let server = tokio::spawn(serve_on(listener, service, shutdown.clone().cancelled_owned()));
    let summary = crawl_into(
        config,
        frontier,
        data_dir,
        docstore,
        shutdown.clone().cancelled_owned(),
    )
    .await?;
    // The reader follows commits on a timer; make the final commit
    // searchable before saying the crawl is done.
    index.reload().context("reloading the index")?;
    println!("{summary}");
    info!("crawl done; still serving (Ctrl-C to stop)");
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
    docstore: Arc<Docstore>,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<CrawlSummary> {
    std::fs::create_dir_all(data_dir.root())
        .with_context(|| format!("creating the data directory {}", data_dir.root().display()))?;
    let frontier = frontier.open(data_dir).await?;
    let crawled_links = Arc::new(
        CrawledLinks::open(&data_dir.crawled_links(), config.freshness).context("opening crawled_links")?,
    );
    let index = IndexWriterHandle::open(&data_dir.index(), INDEXING_THREADS)
        .context("opening the index for writing")?;

    let (sink, source) = page_channel(PAGE_QUEUE_CAPACITY);
    let indexing = tokio::spawn(indexer::service::run_embedded(
        source,
        Stores { index, docstore },
        CommitPolicy::default(),
    ));
    // The crawl owns the only sink: when it returns, the indexer sees the
    // queue close, commits what is left and stops.
    let crawled = crawler::run(config, frontier.clone(), crawled_links, Arc::new(sink), shutdown).await;
    let indexed = indexing.await.context("indexer task")?;
    // Every confirmed page is completed by now: hand the rest over.
    frontier.close().await.context("leaving the frontier")?;
    // An indexer failure explains a crawl failure ("queue closed"): report it first.
    let indexing_stats = indexed.context("indexing failed")?;
    let summary = crawled.context("crawl failed")?;
    info!(
        upserted = indexing_stats.upserted,
        commits = indexing_stats.commits,
        "index committed"
    );
    std::fs::write(data_dir.last_crawl(), serde_json::to_vec_pretty(&summary)?)?;
    Ok(summary)
}

async fn serve_on(
    listener: TcpListener,
    service: Arc<SearchService>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    info!(address = %listener.local_addr()?, "serving search");
    eprintln!("search at http://{}/", listener.local_addr()?);
    query_api::serve(listener, service, shutdown).await?;
    Ok(())
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
