//! What the query API's tests share: pages and a small index built from them.

use std::path::Path;
use std::sync::Arc;

use common::{NormalizedUrl, PageMessage};
use indexer::{Docstore, IndexReaderHandle, IndexWriterHandle};

/// A fetched page at `url` with this title and text.
pub fn page(url: &str, title: &str, text: &str) -> PageMessage {
    let url = NormalizedUrl::parse(url).unwrap();
    PageMessage {
        url: url.clone(),
        canonical_url: url,
        fetched_at_ms: 0,
        status: 200,
        title: title.into(),
        description: String::new(),
        headings: vec![],
        text: text.into(),
        outlinks: vec![],
        language: None,
        simhash: 0,
        content_hash: 0,
        sections: Vec::new(),
    }
}

/// Writes `pages` into an index and docstore under `dir`.
pub fn build(dir: &Path, pages: &[PageMessage]) -> (IndexReaderHandle, Arc<Docstore>) {
    let docstore = Arc::new(Docstore::open(&dir.join("docstore")).unwrap());
    let mut writer = IndexWriterHandle::open(&dir.join("index"), 1).unwrap();
    for page in pages {
        docstore.put_page(page).unwrap();
        writer.upsert(page).unwrap();
    }
    writer.commit().unwrap();
    let index = IndexReaderHandle::open(&dir.join("index")).unwrap();
    index.reload().unwrap();
    (index, docstore)
}
