//! The indexing consumer: takes page events from a queue, applies them to a
//! store, commits in batches, and acknowledges each event only after the
//! commit that made it durable. A crash between the write and the commit
//! loses nothing: unacknowledged events come again, and applying an event
//! twice gives the same store.
//!
//! One loop serves every pairing of the two seams it sits between:
//! - where events come from ([`DeliverySource`], in `common::queue`): the
//!   in-process channel of `trawl crawl` and `trawl run`
//!   ([`common::queue::ChannelSource`]), or a RabbitMQ queue for `trawl
//!   index` and `trawl docs` (`amqp::AmqpConsumer`);
//! - what makes them durable ([`EventStore`]): the index and docstore of one
//!   process together ([`Stores`]), an index shard alone
//!   ([`IndexWriterHandle`]), or the document service's docstore alone
//!   ([`DocstoreWriter`]).
//!
//! It records what it consumes and commits, and how long commits take, as
//! Prometheus metrics ([`common::metrics`]).

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use common::PageEvent;
use common::metrics as names;
use common::queue::{Acknowledge, ChannelSource, DeliverySource};
use tokio::time::Instant;
use tracing::{debug, info, warn};

use crate::docstore::{Docstore, DocstoreWriter};
use crate::index::IndexWriterHandle;
use crate::{IndexerError, Result};

/// When to commit: after this many events, this much page text or this
/// long after the first uncommitted one, whichever comes first.
#[derive(Debug, Clone)]
pub struct CommitPolicy {
    pub max_batch_docs: usize,
    /// Commit once the page text applied since the last commit reaches this
    /// many bytes. tantivy holds an uncommitted batch's postings in memory
    /// and builds the segment's files from them at the commit, so a batch's
    /// memory follows its text, not its page count: the first second of a
    /// crawl of std's large pages (550-700 of them) was the peak of the
    /// crawl's memory (BENCHMARKS.md §36).
    pub max_batch_text_bytes: usize,
    pub max_batch_delay: Duration,
    /// Commit as soon as no event arrived for this long: at the end of a
    /// burst, pages become durable (and their links done) without waiting
    /// out `max_batch_delay`...
    pub idle_commit: Duration,
    /// ...once the batch is at least this old, so that a slow crawl (a page
    /// every second or so) does not commit, fsync and make a segment for
    /// every page.
    pub min_batch_age: Duration,
}

/// See [`CommitPolicy::max_batch_text_bytes`]: 200 to 800 pages of the
/// Rust standard library's documentation.
const DEFAULT_MAX_BATCH_TEXT_BYTES: usize = 4 * 1024 * 1024;

impl CommitPolicy {
    /// Every `max_batch_docs` events, 4 MB of page text or
    /// `max_batch_delay`, and at no other time: for consumers of a broker
    /// queue. Their publisher does not wait for the commit (the broker's
    /// confirm frees it), so committing early when the queue goes quiet
    /// would buy only smaller segments.
    pub fn every(max_batch_docs: usize, max_batch_delay: Duration) -> CommitPolicy {
        CommitPolicy {
            max_batch_docs: max_batch_docs.max(1),
            max_batch_text_bytes: DEFAULT_MAX_BATCH_TEXT_BYTES,
            max_batch_delay,
            idle_commit: max_batch_delay,
            min_batch_age: max_batch_delay,
        }
    }

    /// When the batch that started at `started` must be committed even if
    /// nothing more arrives.
    fn due(&self, started: Instant) -> Instant {
        let quiet = (Instant::now() + self.idle_commit).max(started + self.min_batch_age);
        (started + self.max_batch_delay).min(quiet)
    }
}

impl Default for CommitPolicy {
    fn default() -> Self {
        // A second keeps new pages searchable within a few seconds while a
        // crawl runs; 2,000 pages bound the work a crash can make us redo,
        // and 4 MB of text the memory a batch holds.
        // A steady crawl delivers a page every few milliseconds, so 50 ms of
        // quiet means the burst is over.
        CommitPolicy {
            max_batch_docs: 2000,
            max_batch_text_bytes: DEFAULT_MAX_BATCH_TEXT_BYTES,
            max_batch_delay: Duration::from_secs(1),
            idle_commit: Duration::from_millis(50),
            min_batch_age: Duration::from_millis(250),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexingStats {
    pub upserted: u64,
    pub removed: u64,
    pub commits: u64,
}

/// What makes events durable.
pub trait EventStore: Send {
    /// Applies one event; it needs to be durable only after [`EventStore::commit`].
    fn apply(&mut self, event: &PageEvent) -> Result<()>;

    /// Makes every event applied so far durable (and visible to readers).
    fn commit(&mut self) -> Result<()>;
}

/// The index and the docstore of one process, written together.
pub struct Stores {
    pub index: IndexWriterHandle,
    pub docstore: Arc<Docstore>,
}

impl EventStore for Stores {
    fn apply(&mut self, event: &PageEvent) -> Result<()> {
        match event {
            PageEvent::Upsert(page) => self.docstore.put_page(page)?,
            PageEvent::Remove { doc_id, .. } => self.docstore.delete(*doc_id)?,
        }
        self.index.apply(event)
    }

    fn commit(&mut self) -> Result<()> {
        // The docstore's writes first: once the index's commit is acknowledged,
        // the frontier counts the page as done, so its text must be on disk
        // too, or a power cut would leave results without their documents.
        self.docstore.sync()?;
        self.index.commit()
    }
}

impl EventStore for IndexWriterHandle {
    fn apply(&mut self, event: &PageEvent) -> Result<()> {
        match event {
            PageEvent::Upsert(page) => self.upsert(page),
            PageEvent::Remove { doc_id, .. } => {
                self.remove(*doc_id);
                Ok(())
            }
        }
    }

    fn commit(&mut self) -> Result<()> {
        IndexWriterHandle::commit(self)
    }
}

impl EventStore for DocstoreWriter {
    fn apply(&mut self, event: &PageEvent) -> Result<()> {
        match event {
            PageEvent::Upsert(page) => self.put_page(page),
            PageEvent::Remove { doc_id, .. } => self.delete(*doc_id),
        }
        Ok(())
    }

    fn commit(&mut self) -> Result<()> {
        DocstoreWriter::commit(self)
    }
}

/// Consumes `source` into `store` until the source ends or `shutdown`
/// resolves; then commits, acknowledges what that commit made durable,
/// closes the source and returns. Runs on a blocking thread: tantivy and
/// RocksDB calls block.
pub async fn run<S, T>(
    source: S,
    store: T,
    policy: CommitPolicy,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<IndexingStats>
where
    S: DeliverySource + 'static,
    T: EventStore + 'static,
{
    run_logging(source, store, policy, shutdown, CommitLog::Info).await
}

/// [`run`] over the in-process channel, until every publisher is gone.
pub async fn run_embedded(
    source: ChannelSource,
    stores: Stores,
    policy: CommitPolicy,
) -> Result<IndexingStats> {
    // A commit a second beside a crawl's own progress reports: each is
    // worth a debug line only.
    run_logging(source, stores, policy, std::future::pending(), CommitLog::Debug).await
}

/// How loudly each commit is logged: a daemon logs every commit; a crawl
/// that indexes in process reports its progress otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CommitLog {
    Info,
    Debug,
}

async fn run_logging<S, T>(
    source: S,
    store: T,
    policy: CommitPolicy,
    shutdown: impl Future<Output = ()> + Send + 'static,
    commit_log: CommitLog,
) -> Result<IndexingStats>
where
    S: DeliverySource + 'static,
    T: EventStore + 'static,
{
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        runtime.block_on(consume(source, store, policy, shutdown, commit_log))
    })
    .await
    .map_err(|e| IndexerError::Task(e.to_string()))?
}

async fn consume<S: DeliverySource, T: EventStore>(
    mut source: S,
    mut store: T,
    policy: CommitPolicy,
    shutdown: impl Future<Output = ()>,
    commit_log: CommitLog,
) -> Result<IndexingStats> {
    let mut shutdown = pin!(shutdown);
    let mut stats = IndexingStats::default();
    // At zero from the start, so that a scrape shows them before the first event.
    metrics::counter!(names::INDEXER_MESSAGES_CONSUMED).increment(0);
    metrics::counter!(names::INDEXER_MESSAGES_COMMITTED).increment(0);
    let mut uncommitted: Vec<S::Delivery> = Vec::new();
    let mut uncommitted_text_bytes = 0;
    let mut batch_started = Instant::now();
    loop {
        let commit_due = async {
            match uncommitted.is_empty() {
                true => std::future::pending().await,
                false => tokio::time::sleep_until(policy.due(batch_started)).await,
            }
        };
        let next = tokio::select! {
            // Draining comes first: a busy queue must not hold it off.
            biased;
            () = &mut shutdown => {
                info!(uncommitted = uncommitted.len(), "stopping: committing what was received");
                break;
            }
            () = commit_due => {
                commit(&mut store, &mut uncommitted, &mut stats, commit_log).await?;
                continue;
            }
            next = source.recv() => next,
        };
        let Some(mut delivery) = next else { break };
        store.apply(delivery.event())?;
        common::failpoint::hit("index.applied");
        metrics::counter!(names::INDEXER_MESSAGES_CONSUMED).increment(1);
        if uncommitted.is_empty() {
            batch_started = Instant::now();
            uncommitted_text_bytes = 0;
        }
        match delivery.event() {
            PageEvent::Upsert(page) => {
                stats.upserted += 1;
                uncommitted_text_bytes += page.text.len();
            }
            PageEvent::Remove { .. } => stats.removed += 1,
        }
        delivery.applied();
        uncommitted.push(delivery);
        if uncommitted.len() >= policy.max_batch_docs || uncommitted_text_bytes >= policy.max_batch_text_bytes
        {
            commit(&mut store, &mut uncommitted, &mut stats, commit_log).await?;
        }
    }
    commit(&mut store, &mut uncommitted, &mut stats, commit_log).await?;
    source.close().await;
    info!(
        upserted = stats.upserted,
        removed = stats.removed,
        commits = stats.commits,
        "indexer drained"
    );
    Ok(stats)
}

async fn commit<T: EventStore, D: Acknowledge>(
    store: &mut T,
    uncommitted: &mut Vec<D>,
    stats: &mut IndexingStats,
    commit_log: CommitLog,
) -> Result<()> {
    if uncommitted.is_empty() {
        return Ok(());
    }
    let started = Instant::now();
    store.commit()?;
    common::failpoint::hit("index.committed");
    let took = started.elapsed();
    metrics::histogram!(names::INDEXER_COMMIT_DURATION).record(took.as_secs_f64());
    stats.commits += 1;
    let docs = uncommitted.len();
    let took_ms = took.as_millis() as u64;
    match commit_log {
        CommitLog::Info => info!(docs, took_ms, commits = stats.commits, "committed"),
        CommitLog::Debug => debug!(docs, took_ms, commits = stats.commits, "committed"),
    }
    // Acknowledge only now: the events are durable in the store.
    let batch = std::mem::take(uncommitted);
    let acked = D::ack_all(batch).await;
    common::failpoint::hit("index.acknowledged");
    match acked {
        Ok(()) => metrics::counter!(names::INDEXER_MESSAGES_COMMITTED).increment(docs as u64),
        // The connection dropped: the broker delivers these again, and
        // applying them again changes nothing.
        Err(error) => warn!(%error, docs, "acknowledgements lost; the events will come again"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::Mutex;

    use common::queue::QueueError;
    use common::{DocId, NormalizedUrl};
    use tokio::sync::oneshot;

    use super::*;

    type Log = Arc<Mutex<Vec<String>>>;

    fn removal(i: u64) -> PageEvent {
        PageEvent::Remove {
            doc_id: DocId(i),
            url: NormalizedUrl::parse(&format!("http://a.example/{i}")).unwrap(),
        }
    }

    fn upsert(i: u64, text: &str) -> PageEvent {
        let url = NormalizedUrl::parse(&format!("http://a.example/{i}")).unwrap();
        PageEvent::Upsert(Box::new(common::PageMessage {
            url: url.clone(),
            canonical_url: url,
            fetched_at_ms: 0,
            status: 200,
            title: format!("Page {i}"),
            description: String::new(),
            headings: vec![],
            text: text.into(),
            outlinks: vec![],
            language: None,
            simhash: 0,
            content_hash: 0,
            sections: vec![],
        }))
    }

    /// Hands out `events`, then ends or (with `then_wait`) waits forever.
    struct Script {
        events: VecDeque<PageEvent>,
        log: Log,
        then_wait: bool,
        /// Given to the delivery of the last event: fired on its ack.
        on_last_ack: Option<oneshot::Sender<()>>,
    }

    struct Scripted {
        event: PageEvent,
        log: Log,
        on_ack: Option<oneshot::Sender<()>>,
    }

    impl DeliverySource for Script {
        type Delivery = Scripted;

        async fn recv(&mut self) -> Option<Scripted> {
            match self.events.pop_front() {
                Some(event) => Some(Scripted {
                    event,
                    log: self.log.clone(),
                    on_ack: self.events.is_empty().then(|| self.on_last_ack.take()).flatten(),
                }),
                None if self.then_wait => std::future::pending().await,
                None => None,
            }
        }

        async fn close(self) {
            self.log.lock().unwrap().push("close".into());
        }
    }

    impl Acknowledge for Scripted {
        fn event(&self) -> &PageEvent {
            &self.event
        }

        fn applied(&mut self) {
            let id = self.event.doc_id().0;
            self.log.lock().unwrap().push(format!("applied {id}"));
        }

        async fn ack(self) -> Result<(), QueueError> {
            let id = self.event.doc_id().0;
            self.log.lock().unwrap().push(format!("ack {id}"));
            if let Some(on_ack) = self.on_ack {
                let _ = on_ack.send(());
            }
            Ok(())
        }
    }

    struct Recorder(Log);

    impl EventStore for Recorder {
        fn apply(&mut self, event: &PageEvent) -> Result<()> {
            self.0.lock().unwrap().push(format!("apply {}", event.doc_id().0));
            Ok(())
        }

        fn commit(&mut self) -> Result<()> {
            self.0.lock().unwrap().push("commit".into());
            Ok(())
        }
    }

    fn script(count: u64, log: &Log) -> Script {
        script_of((1..=count).map(removal).collect(), log)
    }

    fn script_of(events: Vec<PageEvent>, log: &Log) -> Script {
        Script {
            events: events.into(),
            log: log.clone(),
            then_wait: false,
            on_last_ack: None,
        }
    }

    /// Consumes `source` to its end into a [`Recorder`] of `log`.
    async fn consume_all(source: Script, log: &Log, policy: CommitPolicy) -> IndexingStats {
        consume(
            source,
            Recorder(log.clone()),
            policy,
            std::future::pending(),
            CommitLog::Debug,
        )
        .await
        .unwrap()
    }

    fn log_of(log: &Log) -> String {
        log.lock().unwrap().join(", ")
    }

    #[tokio::test]
    async fn each_event_is_acknowledged_after_the_commit_that_holds_it() {
        let log = Log::default();
        let policy = CommitPolicy::every(3, Duration::from_secs(3600));
        let stats = consume_all(script(7, &log), &log, policy).await;
        assert_eq!(
            log_of(&log),
            "apply 1, applied 1, apply 2, applied 2, apply 3, applied 3, commit, ack 1, ack 2, ack 3, \
             apply 4, applied 4, apply 5, applied 5, apply 6, applied 6, commit, ack 4, ack 5, ack 6, \
             apply 7, applied 7, commit, ack 7, close"
        );
        assert_eq!((stats.removed, stats.commits), (7, 3));
    }

    // Large pages fill a batch's memory long before its page count or its
    // time: the batch is committed once its text reaches the bound, and the
    // next batch counts from nothing. A removal carries no text.
    #[tokio::test]
    async fn a_batch_is_committed_when_its_text_reaches_the_bound() {
        let log = Log::default();
        let mut policy = CommitPolicy::every(100, Duration::from_secs(3600));
        policy.max_batch_text_bytes = 25;
        let mut events: Vec<PageEvent> = [10, 10, 5, 1, 1]
            .iter()
            .enumerate()
            .map(|(i, &bytes)| upsert(i as u64, &"x".repeat(bytes)))
            .collect();
        events.push(removal(9));
        let [a, b, c, d, e] = [0, 1, 2, 3, 4].map(|i| events[i].doc_id().0);
        let stats = consume_all(script_of(events, &log), &log, policy).await;
        assert_eq!(
            log_of(&log),
            format!(
                "apply {a}, applied {a}, apply {b}, applied {b}, apply {c}, applied {c}, commit, \
                 ack {a}, ack {b}, ack {c}, apply {d}, applied {d}, apply {e}, applied {e}, \
                 apply 9, applied 9, commit, ack {d}, ack {e}, ack 9, close"
            )
        );
        assert_eq!((stats.upserted, stats.removed, stats.commits), (5, 1, 2));
    }

    // SIGTERM in `trawl index`: stop taking events, commit what was
    // applied, acknowledge it, let go of the queue.
    #[tokio::test]
    async fn shutdown_commits_and_acknowledges_what_was_received() {
        let log = Log::default();
        let mut source = script(2, &log);
        source.then_wait = true;
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let policy = CommitPolicy::every(100, Duration::from_secs(3600));
        let consuming = consume(
            source,
            Recorder(log.clone()),
            policy,
            async {
                let _ = stop_rx.await;
            },
            CommitLog::Debug,
        );
        let stopping = async {
            while log.lock().unwrap().len() < 4 {
                tokio::task::yield_now().await;
            }
            stop_tx.send(()).unwrap();
        };
        let (stats, ()) = tokio::join!(consuming, stopping);
        assert_eq!(stats.unwrap().commits, 1);
        assert_eq!(
            log_of(&log),
            "apply 1, applied 1, apply 2, applied 2, commit, ack 1, ack 2, close"
        );
    }

    // A batch that never fills is committed when its time is up, with no
    // further event to wake the loop.
    #[tokio::test]
    async fn a_batch_is_committed_when_its_time_is_up() {
        let log = Log::default();
        let (acked_tx, acked_rx) = oneshot::channel();
        let mut source = script(1, &log);
        source.then_wait = true;
        source.on_last_ack = Some(acked_tx);
        let policy = CommitPolicy::every(100, Duration::from_millis(20));
        let shutdown = async {
            let _ = acked_rx.await;
        };
        consume(source, Recorder(log.clone()), policy, shutdown, CommitLog::Debug)
            .await
            .unwrap();
        assert_eq!(log_of(&log), "apply 1, applied 1, commit, ack 1, close");
    }

    #[test]
    fn a_commit_of_both_stores_syncs_the_docstores_log() {
        let dir = tempfile::tempdir().unwrap();
        let docstore = Arc::new(Docstore::open(&dir.path().join("docstore")).unwrap());
        let mut stores = Stores {
            index: IndexWriterHandle::open(&dir.path().join("index"), 1).unwrap(),
            docstore: docstore.clone(),
        };
        stores.apply(&upsert(1, "what the page says")).unwrap();
        let before = docstore.wal_syncs();
        stores.commit().unwrap();
        assert!(
            docstore.wal_syncs() > before,
            "the commit did not sync the docstore's log"
        );
    }
}
