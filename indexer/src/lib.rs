//! The indexing side of trawl: it turns page events into a searchable
//! tantivy index and a RocksDB document store, and gives the query API
//! read access to both.
//!
//! It owns the index schema and the docstore format. It must not fetch
//! pages or know about the frontier; pages reach it only as
//! [`common::PageEvent`]s, and it acknowledges an event only after the page
//! is durable in the stores it writes (both in one process; with RabbitMQ,
//! an index shard and the document service each their own).
//!
//! - [`schema`]: the index fields.
//! - [`analyzer`]: the analyzers of the full-text fields (English, stemmed;
//!   unstemmed for spelling suggestions).
//! - [`identifiers`]: names that documentation defines (`str.split`), as terms.
//! - [`error_messages`]: the error messages a page quotes (`error: ...`).
//! - [`sections`]: where a page's sections start in its body, in token positions.
//! - [`page_kind`]: what kind of page a document is (print, listing, source,
//!   release notes, the implementation's own).
//! - [`index`]: tantivy writer (upsert by document id, remove, commit) and reader.
//! - [`docstore`]: RocksDB store of document id -> URL, title, snippet, text,
//!   sections; read whole (`StoredDoc`) or in place for a search (`DocView`).
//! - [`service`]: the consumer loop that batches events, commits, then acks,
//!   over the in-process channel or a RabbitMQ queue, into both stores or
//!   one.

pub mod analyzer;
pub mod docstore;
pub mod error_messages;
pub mod identifiers;
pub mod index;
pub mod page_kind;
pub mod schema;
pub mod sections;
pub mod service;

pub use docstore::{DocRecord, DocView, Docstore, DocstoreWriter, SectionView, StoredDoc};
pub use index::{IndexReaderHandle, IndexWriterHandle};
pub use schema::IndexSchema;

#[derive(Debug, thiserror::Error)]
pub enum IndexerError {
    #[error("index error: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("docstore error: {0}")]
    Docstore(#[from] rocksdb::Error),
    #[error("corrupt docstore record: {0}")]
    CorruptRecord(String),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error(
        "the index in {0} was made by another version of trawl (its fields differ from this one's); \
         it was left as it is: crawl into a new --data-dir, or move this one away"
    )]
    OtherSchema(std::path::PathBuf),
    #[error("indexing task failed: {0}")]
    Task(String),
}

pub type Result<T, E = IndexerError> = std::result::Result<T, E>;
