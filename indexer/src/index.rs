//! The tantivy index: a writer that upserts by document id and a reader
//! that follows commits.

use std::path::Path;

use common::{DocId, PageMessage};
use tantivy::directory::MmapDirectory;
use tantivy::indexer::IndexWriterOptions;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

use crate::Result;
use crate::schema::IndexSchema;

/// Memory for tantivy's indexing buffer: it flushes a segment when full.
const WRITER_MEMORY_BUDGET_BYTES: usize = 128 * 1024 * 1024;

/// Opens the index in `dir`, creating it (and `dir`) when absent.
fn open_or_create(dir: &Path) -> Result<Index> {
    std::fs::create_dir_all(dir)?;
    let directory = MmapDirectory::open(dir).map_err(tantivy::TantivyError::from)?;
    let index = Index::open_or_create(directory, IndexSchema::new().schema)?;
    crate::analyzer::register(&index);
    Ok(index)
}

/// The single writer of an index directory (tantivy holds a lock file).
pub struct IndexWriterHandle {
    writer: IndexWriter,
    fields: IndexSchema,
}

impl IndexWriterHandle {
    /// `indexing_threads` is how many cores tantivy may use for building
    /// segments; the crawler needs the others for parsing.
    pub fn open(dir: &Path, indexing_threads: usize) -> Result<IndexWriterHandle> {
        let index = open_or_create(dir)?;
        let threads = indexing_threads.max(1);
        let options = IndexWriterOptions::builder()
            .num_worker_threads(threads)
            .memory_budget_per_thread(WRITER_MEMORY_BUDGET_BYTES / threads)
            .build();
        let writer = index.writer_with_options(options)?;
        Ok(IndexWriterHandle {
            writer,
            fields: IndexSchema::new(),
        })
    }

    /// Adds `page`, replacing any document with the same id. Tantivy applies
    /// a delete only to documents added before it, so delete-then-add within
    /// one commit leaves exactly the new version.
    pub fn upsert(&mut self, page: &PageMessage) -> Result<()> {
        let f = &self.fields;
        let doc_id = page.doc_id();
        let mut doc = TantivyDocument::default();
        doc.add_u64(f.doc_id, doc_id.0);
        doc.add_text(f.url, page.canonical_url.as_str());
        doc.add_text(f.site, page.canonical_url.host_key().as_str());
        doc.add_text(f.title, &page.title);
        for heading in &page.headings {
            doc.add_text(f.headings, heading);
        }
        doc.add_text(f.body, &page.text);
        doc.add_u64(f.page_kind, crate::page_kind::PageKind::of(page) as u64);
        self.writer.delete_term(Term::from_field_u64(f.doc_id, doc_id.0));
        self.writer.add_document(doc)?;
        Ok(())
    }

    pub fn remove(&mut self, doc_id: DocId) {
        self.writer
            .delete_term(Term::from_field_u64(self.fields.doc_id, doc_id.0));
    }

    /// Makes every change so far durable and visible to readers.
    pub fn commit(&mut self) -> Result<()> {
        self.writer.commit()?;
        Ok(())
    }
}

/// Read access to an index directory, following the writer's commits
/// whether the writer lives in this process or another.
#[derive(Clone)]
pub struct IndexReaderHandle {
    pub index: Index,
    pub reader: IndexReader,
    pub fields: IndexSchema,
}

impl IndexReaderHandle {
    pub fn open(dir: &Path) -> Result<IndexReaderHandle> {
        let index = open_or_create(dir)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::OnCommitWithDelay)
            .try_into()?;
        let fields = IndexSchema::new();
        Ok(IndexReaderHandle {
            index,
            reader,
            fields,
        })
    }

    /// Picks up the latest commit now instead of when the watcher notices.
    pub fn reload(&self) -> Result<()> {
        Ok(self.reader.reload()?)
    }

    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Every document id in the index, for tests and consistency checks.
    pub fn all_doc_ids(&self) -> Result<Vec<DocId>> {
        use tantivy::collector::DocSetCollector;
        use tantivy::schema::Value;
        let searcher = self.reader.searcher();
        let addresses = searcher.search(&tantivy::query::AllQuery, &DocSetCollector)?;
        let mut ids = Vec::with_capacity(addresses.len());
        for address in addresses {
            let doc: TantivyDocument = searcher.doc(address)?;
            if let Some(id) = doc.get_first(self.fields.doc_id).and_then(|v| v.as_u64()) {
                ids.push(DocId(id));
            }
        }
        ids.sort();
        Ok(ids)
    }
}
