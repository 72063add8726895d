//! The layout of a data directory. Each store has its own subdirectory,
//! owned by one crate: the crawler's frontier, the indexer's index and
//! docstore.

use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    pub fn new(root: impl Into<PathBuf>) -> DataDir {
        DataDir { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// RocksDB: every URL ever seen and its state.
    pub fn frontier(&self) -> PathBuf {
        self.root.join("frontier")
    }

    /// RocksDB: every page this worker fetched: signatures, validators,
    /// next visit (the crawler's `crawled_links`).
    pub fn crawled_links(&self) -> PathBuf {
        self.root.join("crawled-links")
    }

    /// tantivy.
    pub fn index(&self) -> PathBuf {
        self.root.join("index")
    }

    /// RocksDB: document id -> URL, title, snippet, text.
    pub fn docstore(&self) -> PathBuf {
        self.root.join("docstore")
    }

    /// Which queue (and shard count) an index shard or document service
    /// consuming into this directory reads.
    pub fn consumer(&self) -> PathBuf {
        self.root.join("consumer.json")
    }

    /// The epoch of the crawl on Redis this worker belongs to (a worker's
    /// `crawled_links` only makes sense with the frontier it came from).
    pub fn frontier_epoch(&self) -> PathBuf {
        self.root.join("frontier-epoch")
    }

    /// The epoch recorded by [`DataDir::frontier_epoch`], if any.
    pub fn read_frontier_epoch(&self) -> std::io::Result<Option<String>> {
        match std::fs::read_to_string(self.frontier_epoch()) {
            Ok(text) => Ok(Some(text.trim().to_string()).filter(|e| !e.is_empty())),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// The summary of the last crawl, as JSON.
    pub fn last_crawl(&self) -> PathBuf {
        self.root.join("last-crawl.json")
    }
}
