//! The indexing consumer: takes page events from the queue, writes them to
//! the docstore and the index, commits in batches, and acknowledges each
//! event only after the commit that made it durable. A crash between the
//! write and the commit loses nothing: unacknowledged events come again.

use std::sync::Arc;
use std::time::Duration;

use common::PageEvent;
use common::queue::{ChannelSource, Delivery};
use tokio::time::Instant;
use tracing::{debug, info};

use crate::docstore::{Docstore, StoredDoc};
use crate::index::IndexWriterHandle;
use crate::{IndexerError, Result};

/// When to commit: after this many events or this long after the first
/// uncommitted one, whichever comes first.
#[derive(Debug, Clone)]
pub struct CommitPolicy {
    pub max_batch_docs: usize,
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

impl Default for CommitPolicy {
    fn default() -> Self {
        // A second keeps new pages searchable within a few seconds while a
        // crawl runs; 2,000 pages bound the work a crash can make us redo.
        // A steady crawl delivers a page every few milliseconds, so 50 ms of
        // quiet means the burst is over.
        CommitPolicy {
            max_batch_docs: 2000,
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

/// The stores one consumer writes to.
pub struct Stores {
    pub index: IndexWriterHandle,
    pub docstore: Arc<Docstore>,
}

impl Stores {
    fn apply(&mut self, event: &PageEvent) -> Result<()> {
        match event {
            PageEvent::Upsert(page) => {
                self.docstore.put(page.doc_id(), &StoredDoc::from_page(page))?;
                self.index.upsert(page)
            }
            PageEvent::Remove { doc_id, .. } => {
                self.docstore.delete(*doc_id)?;
                self.index.remove(*doc_id);
                Ok(())
            }
        }
    }
}

/// Consumes `source` until every publisher is gone, then commits and
/// returns. Runs on a blocking thread: tantivy and RocksDB calls block.
pub async fn run_embedded(
    source: ChannelSource,
    stores: Stores,
    policy: CommitPolicy,
) -> Result<IndexingStats> {
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || runtime.block_on(consume(source, stores, policy)))
        .await
        .map_err(|e| IndexerError::Task(e.to_string()))?
}

async fn consume(
    mut source: ChannelSource,
    mut stores: Stores,
    policy: CommitPolicy,
) -> Result<IndexingStats> {
    let mut stats = IndexingStats::default();
    let mut uncommitted: Vec<Delivery> = Vec::new();
    let mut commit_deadline = Instant::now();
    let mut batch_started = Instant::now();
    loop {
        let next = if uncommitted.is_empty() {
            source.recv().await
        } else {
            let quiet = (Instant::now() + policy.idle_commit).max(batch_started + policy.min_batch_age);
            let wake = commit_deadline.min(quiet);
            match tokio::time::timeout_at(wake, source.recv()).await {
                Ok(next) => next,
                Err(_elapsed) => {
                    commit(&mut stores, &mut uncommitted, &mut stats)?;
                    continue;
                }
            }
        };
        let Some(delivery) = next else { break };
        stores.apply(&delivery.event)?;
        match delivery.event {
            PageEvent::Upsert(_) => stats.upserted += 1,
            PageEvent::Remove { .. } => stats.removed += 1,
        }
        if uncommitted.is_empty() {
            batch_started = Instant::now();
            commit_deadline = batch_started + policy.max_batch_delay;
        }
        uncommitted.push(delivery);
        if uncommitted.len() >= policy.max_batch_docs {
            commit(&mut stores, &mut uncommitted, &mut stats)?;
        }
    }
    commit(&mut stores, &mut uncommitted, &mut stats)?;
    info!(
        upserted = stats.upserted,
        removed = stats.removed,
        commits = stats.commits,
        "indexer drained"
    );
    Ok(stats)
}

fn commit(stores: &mut Stores, uncommitted: &mut Vec<Delivery>, stats: &mut IndexingStats) -> Result<()> {
    if uncommitted.is_empty() {
        return Ok(());
    }
    stores.index.commit()?;
    stats.commits += 1;
    debug!(docs = uncommitted.len(), "committed");
    // Acknowledge only now: the pages are durable in the index and docstore.
    for delivery in uncommitted.drain(..) {
        delivery.ack();
    }
    Ok(())
}
