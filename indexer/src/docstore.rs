//! The document store: RocksDB, document id -> what a search result shows
//! and what query-time snippets are cut from.

use std::path::Path;
use std::sync::Arc;

use common::message::Section;
use common::{DocId, PageMessage};
use rocksdb::{DB, IteratorMode, Options, WriteBatch, WriteOptions};
use serde::{Deserialize, Serialize};

use crate::{IndexerError, Result};

/// Length of the static snippet cut from the text when a page has no meta
/// description.
const STATIC_SNIPPET_BYTES: usize = 240;

/// A document as the query API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredDoc {
    pub url: String,
    pub title: String,
    /// The meta description, or else the start of the text.
    pub static_snippet: String,
    pub headings: Vec<String>,
    pub text: String,
    pub fetched_at_ms: u64,
    /// The parts of `text` a URL fragment lands on (see
    /// [`common::message::Section`]); none for a page without anchors, or
    /// one stored before sections were.
    #[serde(default)]
    pub sections: Vec<Section>,
}

impl StoredDoc {
    pub fn from_page(page: &PageMessage) -> StoredDoc {
        let stored = StoredPage::of(page);
        StoredDoc {
            url: stored.url.to_string(),
            title: stored.title.to_string(),
            static_snippet: stored.static_snippet.to_string(),
            headings: stored.headings.to_vec(),
            text: stored.text.to_string(),
            fetched_at_ms: stored.fetched_at_ms,
            sections: stored.sections.to_vec(),
        }
    }
}

/// A stored document as a search result reads it: its strings borrowed
/// from the record (the store's bytes) rather than copied, and what a
/// result does not show (the headings list, the URL, the fetch time)
/// skipped. A long reference page has thousands of sections; copying each
/// anchor and heading into a `String` of its own was a tenth of a query's
/// instructions (BENCHMARKS.md §24).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DocView<'a> {
    pub title: &'a str,
    pub static_snippet: &'a str,
    pub text: &'a str,
    #[serde(default, borrow)]
    pub sections: Vec<SectionView<'a>>,
}

/// A [`Section`] read in place.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SectionView<'a> {
    pub anchor: &'a str,
    #[serde(borrow)]
    pub heading_path: Vec<&'a str>,
    pub start: u32,
}

impl<'a> DocView<'a> {
    /// The view of an encoded record (a [`DocRecord::Encoded`]'s bytes).
    pub fn decode(record: &'a [u8]) -> Result<DocView<'a>> {
        rmp_serde::from_slice(record).map_err(|e| IndexerError::CorruptRecord(e.to_string()))
    }

    /// The view of a document already decoded (one the document service
    /// sent).
    pub fn of(doc: &'a StoredDoc) -> DocView<'a> {
        DocView {
            title: &doc.title,
            static_snippet: &doc.static_snippet,
            text: &doc.text,
            sections: doc.sections.iter().map(SectionView::of).collect(),
        }
    }
}

impl<'a> SectionView<'a> {
    pub fn of(section: &'a Section) -> SectionView<'a> {
        SectionView {
            anchor: &section.anchor,
            heading_path: section.heading_path.iter().map(String::as_str).collect(),
            start: section.start,
        }
    }

    /// See [`Section::range`].
    pub fn range(&self, text: &str, next: Option<&SectionView>) -> std::ops::Range<usize> {
        common::message::section_range(text, self.start, next.map(|next| next.start))
    }
}

/// A document as a search reads it: the store's bytes, decoded when read
/// ([`DocView::decode`]), or a document the document service sent.
#[derive(Debug, Clone)]
pub enum DocRecord {
    Encoded(Vec<u8>),
    Decoded(StoredDoc),
}

impl DocRecord {
    pub fn view(&self) -> Result<DocView<'_>> {
        match self {
            DocRecord::Encoded(bytes) => DocView::decode(bytes),
            DocRecord::Decoded(doc) => Ok(DocView::of(doc)),
        }
    }
}

/// What the store keeps of a page, borrowed from its message: the fields
/// of [`StoredDoc`] in the same order, so it encodes to the same bytes
/// (a test holds it to them). Storing a page encodes this, rather than
/// copying the page's text and sections into a `StoredDoc` first.
#[derive(Serialize)]
struct StoredPage<'a> {
    url: &'a str,
    title: &'a str,
    static_snippet: &'a str,
    headings: &'a [String],
    text: &'a str,
    fetched_at_ms: u64,
    sections: &'a [Section],
}

impl<'a> StoredPage<'a> {
    fn of(page: &'a PageMessage) -> StoredPage<'a> {
        let static_snippet = if page.description.trim().is_empty() {
            &page.text[..page.text.floor_char_boundary(STATIC_SNIPPET_BYTES)]
        } else {
            page.description.as_str()
        };
        StoredPage {
            url: page.canonical_url.as_str(),
            title: &page.title,
            static_snippet,
            headings: &page.headings,
            text: &page.text,
            fetched_at_ms: page.fetched_at_ms,
            sections: &page.sections,
        }
    }

    fn encode(&self) -> Vec<u8> {
        rmp_serde::to_vec_named(self).expect("a stored page serializes")
    }
}

/// The size of a memtable, the writes RocksDB keeps in memory before it
/// flushes them to a file. RocksDB's default, 64 MB, held most of a page
/// text of a crawl in memory: 8 MB took 40 MB off a crawl's peak RSS
/// (BENCHMARKS.md §13), at the cost of smaller files to compact.
const WRITE_BUFFER_BYTES: usize = 8 * 1024 * 1024;

pub struct Docstore {
    db: DB,
    // A secondary instance keeps its own info log here; held so it lives as
    // long as the handle.
    _secondary_dir: Option<tempfile::TempDir>,
    /// The options the store was opened with: their statistics tell the
    /// tests whether the write-ahead log was synced.
    #[cfg(test)]
    options: Options,
}

impl Docstore {
    /// Opens the store for reading and writing; one process at a time.
    pub fn open(dir: &Path) -> Result<Docstore> {
        let mut options = Options::default();
        options.create_if_missing(true);
        // Texts are compressed where they stay. A memtable flushed to level
        // 0 is rewritten into the next level once four such files wait,
        // and compressing it first as well was 1% of a crawl's CPU
        // (BENCHMARKS.md §30); the last three files of a crawl stay
        // uncompressed until more writes come. Deeper levels take the
        // list's last entry.
        options
            .set_compression_per_level(&[rocksdb::DBCompressionType::None, rocksdb::DBCompressionType::Lz4]);
        options.set_write_buffer_size(WRITE_BUFFER_BYTES);
        #[cfg(test)]
        options.enable_statistics();
        Ok(Docstore {
            db: DB::open(&options, dir)?,
            _secondary_dir: None,
            #[cfg(test)]
            options,
        })
    }

    /// Opens the store read-only beside a writer in another process (a
    /// RocksDB secondary instance). Call [`Docstore::catch_up`] to see the
    /// writer's latest writes.
    pub fn open_secondary(dir: &Path) -> Result<Docstore> {
        if !dir.join("CURRENT").exists() {
            // Nothing written yet: create an empty store so that readers can
            // start before the first crawl.
            drop(Docstore::open(dir)?);
        }
        let secondary_dir = tempfile::tempdir()?;
        let mut options = Options::default();
        options.set_max_open_files(-1);
        let db = DB::open_as_secondary(&options, dir, secondary_dir.path())?;
        Ok(Docstore {
            db,
            _secondary_dir: Some(secondary_dir),
            #[cfg(test)]
            options,
        })
    }

    /// For a secondary instance: apply what the primary wrote since.
    pub fn catch_up(&self) -> Result<()> {
        if self._secondary_dir.is_some() {
            self.db.try_catch_up_with_primary()?;
        }
        Ok(())
    }

    /// Stores `doc` as it is (the tests' documents; pages go through
    /// [`Docstore::put_page`]).
    #[cfg(test)]
    pub fn put(&self, doc_id: DocId, doc: &StoredDoc) -> Result<()> {
        self.db.put(doc_id.to_be_bytes(), encode(doc))?;
        Ok(())
    }

    /// Stores what [`StoredDoc::from_page`] makes of `page`, under its id.
    pub fn put_page(&self, page: &PageMessage) -> Result<()> {
        self.db
            .put(page.doc_id().to_be_bytes(), StoredPage::of(page).encode())?;
        Ok(())
    }

    pub fn delete(&self, doc_id: DocId) -> Result<()> {
        self.db.delete(doc_id.to_be_bytes())?;
        Ok(())
    }

    /// Makes every write so far durable by syncing the write-ahead log.
    /// [`Docstore::put_page`] writes reach the log at once, but they sit in
    /// the OS's page cache until this: safe from a killed process, not from
    /// a power cut. For the primary only: a secondary instance cannot sync.
    pub fn sync(&self) -> Result<()> {
        self.db.flush_wal(true)?;
        Ok(())
    }

    /// How many times the write-ahead log was synced since the store opened.
    #[cfg(test)]
    pub(crate) fn wal_syncs(&self) -> u64 {
        self.options
            .get_ticker_count(rocksdb::statistics::Ticker::WalFileSynced)
    }

    pub fn get(&self, doc_id: DocId) -> Result<Option<StoredDoc>> {
        match self.db.get_pinned(doc_id.to_be_bytes())? {
            Some(bytes) => decode(&bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Looks up several documents, in order. Each is decoded from RocksDB's
    /// own buffer (a pinned slice): a page of results is megabytes of text,
    /// not to be copied once more (as `multi_get` would), and ten point
    /// lookups cost microseconds.
    pub fn get_many(&self, doc_ids: &[DocId]) -> Result<Vec<Option<StoredDoc>>> {
        doc_ids.iter().map(|&doc_id| self.get(doc_id)).collect()
    }

    /// The records of several documents, in order, as stored: for a
    /// search, which reads each in place ([`DocRecord::view`]). A record
    /// is copied once out of RocksDB's buffer (decoding copied its text
    /// too), and a corrupt one fails only its own result (the document
    /// service's `/docs` decodes whole documents: there one fails the batch).
    pub fn get_records(&self, doc_ids: &[DocId]) -> Result<Vec<Option<DocRecord>>> {
        doc_ids
            .iter()
            .map(|&doc_id| {
                let record = self.db.get_pinned(doc_id.to_be_bytes())?;
                Ok(record.map(|bytes| DocRecord::Encoded(bytes.to_vec())))
            })
            .collect()
    }

    /// Every document id in the store, in order: for tests and consistency
    /// checks (it reads every key).
    pub fn all_doc_ids(&self) -> Result<Vec<DocId>> {
        let mut ids = Vec::new();
        for entry in self.db.iterator(IteratorMode::Start) {
            let (key, _) = entry?;
            let key: [u8; 8] = key
                .as_ref()
                .try_into()
                .map_err(|_| IndexerError::CorruptRecord(format!("a key of {} bytes", key.len())))?;
            ids.push(DocId(u64::from_be_bytes(key)));
        }
        Ok(ids)
    }
}

/// Writes to a [`Docstore`] in batches: puts and deletes gather in memory
/// and reach the store together, with the write-ahead log synced, at
/// [`DocstoreWriter::commit`]. One fsync per batch instead of per page, and
/// a batch is all there or not at all.
pub struct DocstoreWriter {
    docstore: Arc<Docstore>,
    batch: WriteBatch,
}

impl DocstoreWriter {
    pub fn new(docstore: Arc<Docstore>) -> DocstoreWriter {
        DocstoreWriter {
            docstore,
            batch: WriteBatch::default(),
        }
    }

    /// Puts `doc` as it is (the tests' documents; pages go through
    /// [`DocstoreWriter::put_page`]).
    #[cfg(test)]
    pub fn put(&mut self, doc_id: DocId, doc: &StoredDoc) {
        self.batch.put(doc_id.to_be_bytes(), encode(doc));
    }

    /// Puts what [`StoredDoc::from_page`] makes of `page`, under its id.
    pub fn put_page(&mut self, page: &PageMessage) {
        self.batch
            .put(page.doc_id().to_be_bytes(), StoredPage::of(page).encode());
    }

    pub fn delete(&mut self, doc_id: DocId) {
        self.batch.delete(doc_id.to_be_bytes());
    }

    /// Writes what was put and deleted since the last commit, durably.
    pub fn commit(&mut self) -> Result<()> {
        let mut options = WriteOptions::default();
        options.set_sync(true);
        let batch = std::mem::take(&mut self.batch);
        self.docstore.db.write_opt(batch, &options)?;
        Ok(())
    }
}

#[cfg(test)]
fn encode(doc: &StoredDoc) -> Vec<u8> {
    rmp_serde::to_vec_named(doc).expect("stored doc serializes")
}

fn decode(bytes: &[u8]) -> Result<StoredDoc> {
    rmp_serde::from_slice(bytes).map_err(|e| IndexerError::CorruptRecord(e.to_string()))
}

#[cfg(test)]
mod tests {
    use common::{NormalizedUrl, PageMessage};

    use super::*;

    fn doc(title: &str) -> StoredDoc {
        StoredDoc {
            url: "http://a.example/".into(),
            title: title.into(),
            static_snippet: String::new(),
            headings: vec![],
            text: "text".into(),
            fetched_at_ms: 0,
            sections: vec![],
        }
    }

    #[test]
    fn a_page_is_stored_as_its_stored_doc_would_be() {
        let page = |title: &str, text: String| {
            let url = NormalizedUrl::parse(&format!("http://a.example/{title}.html")).unwrap();
            PageMessage {
                url: url.clone(),
                canonical_url: url,
                fetched_at_ms: 17,
                status: 200,
                title: title.into(),
                description: String::new(),
                headings: vec![],
                text,
                outlinks: vec![],
                language: None,
                simhash: 0,
                content_hash: 0,
                sections: vec![],
            }
        };
        let mut described = page("Title", "a text ".repeat(100));
        described.description = "What the page says it is.".into();
        described.headings = vec!["One".into(), "Two".into()];
        described.sections = vec![Section {
            anchor: "method.push".into(),
            heading_path: vec!["One".into(), "Two".into()],
            start: 3,
        }];
        // Without a description, the snippet is the text's start, cut
        // before the character that crosses its limit.
        let undescribed = page("", format!("{}é and on", "x".repeat(STATIC_SNIPPET_BYTES - 1)));
        let short = page("Short", "short".into());
        let dir = tempfile::tempdir().unwrap();
        let docstore = Arc::new(Docstore::open(dir.path()).unwrap());
        let mut writer = DocstoreWriter::new(docstore.clone());
        for page in [&described, &undescribed, &short] {
            let doc = StoredDoc::from_page(page);
            assert_eq!(StoredPage::of(page).encode(), encode(&doc));
            docstore.put_page(page).unwrap();
            assert_eq!(docstore.get(page.doc_id()).unwrap(), Some(doc.clone()));
            writer.put_page(page);
            writer.commit().unwrap();
            assert_eq!(docstore.get(page.doc_id()).unwrap(), Some(doc));
        }
        assert_eq!(
            StoredDoc::from_page(&undescribed).static_snippet.len(),
            STATIC_SNIPPET_BYTES - 1
        );
    }

    #[test]
    fn a_writer_batch_reaches_the_store_at_its_commit() {
        let dir = tempfile::tempdir().unwrap();
        let docstore = Arc::new(Docstore::open(dir.path()).unwrap());
        let id = |path: &str| DocId::of(&NormalizedUrl::parse(&format!("http://a.example/{path}")).unwrap());
        docstore.put(id("old"), &doc("old")).unwrap();
        let mut writer = DocstoreWriter::new(docstore.clone());
        writer.put(id("new"), &doc("new"));
        writer.delete(id("old"));
        assert_eq!(
            docstore.all_doc_ids().unwrap(),
            vec![id("old")],
            "nothing before the commit"
        );
        writer.commit().unwrap();
        assert_eq!(docstore.all_doc_ids().unwrap(), vec![id("new")]);
        assert_eq!(docstore.get(id("new")).unwrap(), Some(doc("new")));
        writer.commit().unwrap(); // an empty batch is harmless
    }

    #[test]
    fn a_record_read_in_place_shows_what_the_decoded_document_holds() {
        let dir = tempfile::tempdir().unwrap();
        let store = Docstore::open(dir.path()).unwrap();
        let stored = StoredDoc {
            sections: vec![
                Section {
                    anchor: "method.push".into(),
                    heading_path: vec!["Vec".into(), "Methods".into(), "push".into()],
                    start: 0,
                },
                Section {
                    anchor: "é".into(),
                    heading_path: vec![],
                    start: 3,
                },
            ],
            static_snippet: "the snippet".into(),
            headings: vec!["Vec".into(), "push".into()],
            ..doc("Vec in std::vec - Rust")
        };
        store.put(DocId(7), &stored).unwrap();
        // One stored before sections were: read as having none.
        #[derive(Serialize)]
        struct Older<'a> {
            url: &'a str,
            title: &'a str,
            static_snippet: &'a str,
            headings: Vec<String>,
            text: &'a str,
            fetched_at_ms: u64,
        }
        let older = rmp_serde::to_vec_named(&Older {
            url: "http://b.example/",
            title: "old",
            static_snippet: "",
            headings: vec!["Old".into()],
            text: "old text",
            fetched_at_ms: 1,
        })
        .unwrap();
        store.db.put(DocId(8).to_be_bytes(), &older).unwrap();
        store
            .db
            .put(DocId(9).to_be_bytes(), b"\xc1 not a record")
            .unwrap();

        let records = store
            .get_records(&[DocId(7), DocId(1), DocId(8), DocId(9)])
            .unwrap();
        let view = records[0].as_ref().unwrap().view().unwrap();
        assert_eq!(view, DocView::of(&stored));
        assert_eq!(view.sections[0].heading_path, ["Vec", "Methods", "push"]);
        assert_eq!(view.sections[1].range(view.text, None), 3..4);
        assert!(records[1].is_none());
        let older = records[2].as_ref().unwrap().view().unwrap();
        assert_eq!(
            (older.title, older.text, older.sections.len()),
            ("old", "old text", 0)
        );
        assert!(matches!(
            records[3].as_ref().unwrap().view(),
            Err(IndexerError::CorruptRecord(_))
        ));
    }

    #[test]
    fn many_documents_come_back_in_the_order_asked_missing_ones_as_none() {
        let dir = tempfile::tempdir().unwrap();
        let docstore = Docstore::open(dir.path()).unwrap();
        let id = |path: &str| DocId::of(&NormalizedUrl::parse(&format!("http://a.example/{path}")).unwrap());
        let long = StoredDoc {
            text: "many words ".repeat(20_000),
            ..doc("long")
        };
        docstore.put(id("a"), &doc("a")).unwrap();
        docstore.put(id("long"), &long).unwrap();
        let asked = [id("long"), id("missing"), id("a"), id("long")];
        let expected = vec![Some(long.clone()), None, Some(doc("a")), Some(long.clone())];
        assert_eq!(docstore.get_many(&asked).unwrap(), expected);
        // A reader beside the writer (the query API's) sees the same.
        let secondary = Docstore::open_secondary(dir.path()).unwrap();
        assert_eq!(secondary.get_many(&asked).unwrap(), expected);
        assert_eq!(docstore.get_many(&[]).unwrap(), Vec::<Option<StoredDoc>>::new());
    }
}
