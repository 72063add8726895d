//! The tantivy index: a writer that upserts by document id and a reader
//! that follows commits.

use std::path::Path;

use common::{DocId, NormalizedUrl, PageMessage};
use tantivy::directory::MmapDirectory;
use tantivy::indexer::IndexWriterOptions;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

use crate::Result;
use crate::schema::{IndexSchema, SPELL_BODY_BYTES};

/// Memory for tantivy's indexing buffer: it flushes a segment when full.
const WRITER_MEMORY_BUDGET_BYTES: usize = 128 * 1024 * 1024;

/// Opens the index in `dir`, creating it (and `dir`) when absent. An
/// index made with other fields (by an older trawl) is refused, untouched.
fn open_or_create(dir: &Path) -> Result<Index> {
    std::fs::create_dir_all(dir)?;
    let directory = MmapDirectory::open(dir).map_err(tantivy::TantivyError::from)?;
    let schema = IndexSchema::new().schema;
    if Index::exists(&directory).map_err(tantivy::TantivyError::from)? {
        let existing = Index::open(directory.clone())?;
        if existing.schema() != schema {
            return Err(crate::IndexerError::OtherSchema(dir.to_path_buf()));
        }
    }
    let index = Index::open_or_create(directory, schema)?;
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
        let (url_words, camel_case_parts) = url_words(&page.canonical_url);
        doc.add_text(f.url_words, &url_words);
        if !camel_case_parts.is_empty() {
            doc.add_text(f.url_words, &camel_case_parts);
        }
        doc.add_text(f.spell, &page.title);
        for heading in &page.headings {
            doc.add_text(f.spell, heading);
        }
        doc.add_text(f.spell, leading_words(&page.text, SPELL_BODY_BYTES));
        // A page named for one thing defines it (javadoc's `ArrayList`
        // page, rustdoc's `Vec`), whatever its anchors are called.
        let page_name = crate::identifiers::page_name(&page.title);
        // The page's name as its title writes it, bare and qualified by its
        // scopes (`vector`, `std.vector`): what a member's name is
        // qualified by below, unless the page is a partial specialization.
        let mut owners: Vec<String> = Vec::new();
        if let Some(name) = &page_name {
            doc.add_text(f.identifiers, name);
            doc.add_text(f.identifiers, crate::identifiers::page_name_key(name));
            let path = page.canonical_url.as_url().path();
            for qualified in crate::identifiers::qualified_page_names(name, path) {
                doc.add_text(f.identifiers, qualified);
            }
            let qualified = crate::identifiers::qualified_title_names(&page.title);
            for name in &qualified {
                doc.add_text(f.identifiers, name);
            }
            if !crate::identifiers::is_partial_specialization(&page.title) {
                owners.push(name.clone());
                owners.extend(qualified);
            }
        }
        for key in crate::identifiers::title_keys(&page.title, page.headings.first().map(String::as_str)) {
            doc.add_text(f.identifiers, key);
        }
        for section in &page.sections {
            let anchor_keys = crate::identifiers::anchor_keys(&section.anchor, page_name.as_deref());
            for key in &anchor_keys {
                doc.add_text(f.identifiers, key);
            }
            if let Some(key) = crate::identifiers::bare_anchor_key(&section.anchor) {
                doc.add_text(f.identifiers, key);
            }
            // A heading that is a name defines it, whatever the anchor is
            // called (DocBook's generated `id-1.5.8...`, Doxygen's hashes).
            let heading = section
                .heading_path
                .last()
                .map(String::as_str)
                .unwrap_or_default();
            if let Some(key) = crate::identifiers::heading_key(heading) {
                // Qualified by the page's name too, as people write a member
                // with its type (`std::vector::push_back`), and as
                // `anchor_keys` qualifies an anchor: once, where the anchor
                // already gave it.
                for owner in &owners {
                    if let Some(qualified) = crate::identifiers::member_key(owner, &key)
                        && !anchor_keys.contains(&qualified)
                    {
                        doc.add_text(f.identifiers, qualified);
                    }
                }
                doc.add_text(f.identifiers, key);
            }
        }
        for message in crate::error_messages::quoted(&page.text) {
            doc.add_text(f.error_messages, message);
        }
        for term in crate::identifiers::code_terms(&page.text) {
            doc.add_text(f.code_terms, term);
        }
        doc.add_u64(f.page_kind, crate::page_kind::PageKind::of(page) as u64);
        doc.add_u64(f.simhash, page.simhash);
        for bound in crate::sections::section_bounds(&page.text, &page.sections) {
            doc.add_u64(f.section_bounds, u64::from(bound));
        }
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

    /// Commits, then merges every segment into one, without the deleted
    /// documents; answers how many segments there were. For an index done
    /// changing, at the end of a batch crawl (`trawl compact`): a search
    /// then reads one segment's postings instead of one per segment.
    /// Readers see the merged index at their next reload.
    pub fn merge_all(&mut self) -> Result<usize> {
        self.writer.commit()?;
        let segments = self.writer.index().searchable_segment_ids()?;
        if segments.len() > 1 {
            self.writer.merge(&segments).wait()?;
        }
        Ok(segments.len())
    }
}

/// The text of the `url_words` field: the URL's host and percent-decoded
/// path (the analyzer splits them into words), and apart, the parts of its
/// CamelCase words, so that "hash map" finds `struct.HashMap.html` as
/// "hashmap" does. The parts go in a value of their own rather than beside
/// their word so that the path's words stay consecutive for phrases.
fn url_words(url: &NormalizedUrl) -> (String, String) {
    let url = url.as_url();
    let path = percent_encoding::percent_decode_str(url.path()).decode_utf8_lossy();
    let words = format!("{} {}", url.host_str().unwrap_or_default(), path);
    let mut parts = String::new();
    for word in words.split(|c: char| !c.is_alphanumeric()) {
        let word_parts = camel_case_parts(word);
        if word_parts.len() > 1 {
            for part in word_parts {
                if !parts.is_empty() {
                    parts.push(' ');
                }
                parts.push_str(part);
            }
        }
    }
    (words, parts)
}

/// Splits `word` where a lower-case letter meets an upper-case one
/// (`HashMap`: Hash, Map) and where an acronym ends before a capitalized
/// word (`HTTPServer`: HTTP, Server).
fn camel_case_parts(word: &str) -> Vec<&str> {
    let chars: Vec<(usize, char)> = word.char_indices().collect();
    let mut parts = Vec::new();
    let mut start = 0;
    for i in 1..chars.len() {
        let (offset, c) = chars[i];
        let previous = chars[i - 1].1;
        let lower_to_upper = previous.is_lowercase() && c.is_uppercase();
        let acronym_end = previous.is_uppercase()
            && c.is_uppercase()
            && chars.get(i + 1).is_some_and(|&(_, next)| next.is_lowercase());
        if lower_to_upper || acronym_end {
            parts.push(&word[start..offset]);
            start = offset;
        }
    }
    parts.push(&word[start..]);
    parts
}

/// The words of `text` that fit in `max_bytes`: a word cut in two would
/// put a word nobody wrote in the spelling dictionary.
fn leading_words(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    if text[end..].starts_with(char::is_whitespace) {
        return &text[..end];
    }
    let end = text[..end].rfind(char::is_whitespace).unwrap_or(0);
    &text[..end]
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

    /// Whether `dir` holds an index (a first commit was made there).
    pub fn exists(dir: &Path) -> bool {
        MmapDirectory::open(dir)
            .ok()
            .is_some_and(|directory| Index::exists(&directory).unwrap_or(false))
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

#[cfg(test)]
mod tests {
    use tantivy::collector::Count;
    use tantivy::query::TermQuery;
    use tantivy::schema::IndexRecordOption;

    use super::*;

    fn url(text: &str) -> NormalizedUrl {
        NormalizedUrl::parse(text).unwrap()
    }

    #[test]
    fn url_words_are_the_host_and_path_with_camel_case_split() {
        assert_eq!(
            url_words(&url("http://127.0.0.1:8080/std/collections/struct.HashMap.html")),
            (
                "127.0.0.1 /std/collections/struct.HashMap.html".to_string(),
                "Hash Map".to_string()
            )
        );
        assert_eq!(
            url_words(&url(
                "https://docs.rs/tokio/latest/tokio/net/struct.TcpListener.html?x=1"
            ))
            .1,
            "Tcp Listener"
        );
        // Percent-escapes decoded: "café" is searchable, not "c3", "a9".
        assert_eq!(
            url_words(&url("http://a.example/wiki/Caf%C3%A9")).0,
            "a.example /wiki/Café"
        );
        assert_eq!(url_words(&url("http://a.example/")).1, "");
    }

    #[test]
    fn the_spelling_dictionary_gets_whole_words() {
        assert_eq!(leading_words("ownership rules", 100), "ownership rules");
        assert_eq!(leading_words("ownership rules", 15), "ownership rules");
        assert_eq!(leading_words("ownership rules", 14), "ownership");
        assert_eq!(leading_words("ownership rules", 10), "ownership");
        assert_eq!(leading_words("ownership rules", 9), "ownership");
        assert_eq!(leading_words("ownership rules", 8), "");
        // "société" is 8 bytes, é 2 of them: never cut inside a character.
        assert_eq!(leading_words("café société", 11), "café");
        assert_eq!(leading_words("café société", 4), "");
    }

    #[test]
    fn camel_case_words_split_at_case_changes() {
        assert_eq!(camel_case_parts("HashMap"), ["Hash", "Map"]);
        assert_eq!(camel_case_parts("HTTPServer"), ["HTTP", "Server"]);
        assert_eq!(camel_case_parts("parseIntoVec2"), ["parse", "Into", "Vec2"]);
        assert_eq!(camel_case_parts("ÉtéÀ"), ["Été", "À"]);
        assert_eq!(camel_case_parts("lowercase"), ["lowercase"]);
        assert_eq!(camel_case_parts("HTML"), ["HTML"]);
        assert_eq!(camel_case_parts(""), [""]);
    }

    #[test]
    fn merging_leaves_one_segment_with_the_live_pages_only() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = IndexWriterHandle::open(dir.path(), 1).unwrap();
        let page = |i: u64| {
            let page_url = url(&format!("http://127.0.0.1:8080/page{i}.html"));
            PageMessage {
                url: page_url.clone(),
                canonical_url: page_url,
                fetched_at_ms: 0,
                status: 200,
                title: format!("Page {i}"),
                description: String::new(),
                headings: vec![],
                text: format!("page number {i} of the merge test"),
                outlinks: vec![],
                language: None,
                simhash: 0,
                content_hash: 0,
                sections: vec![],
            }
        };
        // Three commits, three segments; then one page deleted and one
        // replaced, uncommitted: merge_all commits them first (a fourth).
        let mut expected = Vec::new();
        for commit in 0..3 {
            for i in commit * 10..commit * 10 + 10 {
                writer.upsert(&page(i)).unwrap();
                expected.push(DocId::of(&page(i).canonical_url));
            }
            writer.commit().unwrap();
        }
        writer.remove(DocId::of(&page(4).canonical_url));
        expected.retain(|&id| id != DocId::of(&page(4).canonical_url));
        writer.upsert(&page(17)).unwrap();
        assert_eq!(writer.merge_all().unwrap(), 4);

        let reader = IndexReaderHandle::open(dir.path()).unwrap();
        reader.reload().unwrap();
        let searcher = reader.reader.searcher();
        assert_eq!(searcher.segment_readers().len(), 1);
        assert_eq!(
            searcher.segment_readers()[0].num_deleted_docs(),
            0,
            "deletes purged"
        );
        let mut found = reader.all_doc_ids().unwrap();
        found.sort();
        expected.sort();
        assert_eq!(found, expected);
        // Merging one segment again changes nothing.
        assert_eq!(writer.merge_all().unwrap(), 1);
    }

    #[test]
    fn an_index_with_other_fields_is_refused_and_left_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let mut older = tantivy::schema::Schema::builder();
        older.add_u64_field("doc_id", tantivy::schema::INDEXED);
        Index::create_in_dir(dir.path(), older.build()).unwrap();
        let meta = std::fs::read(dir.path().join("meta.json")).unwrap();
        for result in [
            IndexWriterHandle::open(dir.path(), 1).err(),
            IndexReaderHandle::open(dir.path()).err(),
        ] {
            let error = result.expect("refused");
            assert!(matches!(error, crate::IndexerError::OtherSchema(_)), "{error}");
            assert!(error.to_string().contains("new --data-dir"), "{error}");
        }
        assert_eq!(
            std::fs::read(dir.path().join("meta.json")).unwrap(),
            meta,
            "untouched"
        );
    }

    #[test]
    fn an_upserted_page_is_found_by_its_url_words_and_spell_words() {
        let dir = tempfile::tempdir().unwrap();
        let page_url = url("http://127.0.0.1:8080/std/collections/struct.HashMap.html");
        let page = PageMessage {
            url: page_url.clone(),
            canonical_url: page_url,
            fetched_at_ms: 0,
            status: 200,
            title: "HashMap in std::collections".into(),
            description: String::new(),
            headings: vec!["Borrowing Keys".into()],
            text: "A hash map implemented with quadratic probing. See HashMap::with_hasher.".into(),
            outlinks: vec![],
            language: None,
            simhash: 0,
            content_hash: 0,
            sections: vec![common::message::Section {
                anchor: "method.with_capacity".into(),
                heading_path: vec!["with_capacity".into()],
                start: 0,
            }],
        };
        let mut writer = IndexWriterHandle::open(dir.path(), 1).unwrap();
        writer.upsert(&page).unwrap();
        writer.commit().unwrap();
        let reader = IndexReaderHandle::open(dir.path()).unwrap();
        reader.reload().unwrap();
        let searcher = reader.reader.searcher();
        let f = &reader.fields;
        let hits = |field, word: &str| {
            let query = TermQuery::new(Term::from_field_text(field, word), IndexRecordOption::Basic);
            searcher.search(&query, &Count).unwrap()
        };
        // url_words is stemmed ("collections": "collect"), like the query's words.
        for word in [
            "127", "std", "collect", "struct", "hashmap", "hash", "map", "html",
        ] {
            assert_eq!(hits(f.url_words, word), 1, "url_words: {word}");
        }
        // spell keeps words as written, lower-cased: title, headings and body.
        for word in [
            "hashmap",
            "collections",
            "borrowing",
            "keys",
            "quadratic",
            "probing",
        ] {
            assert_eq!(hits(f.spell, word), 1, "spell: {word}");
        }
        assert_eq!(hits(f.spell, "borrow"), 0, "spell words are not stemmed");
        // identifiers: the anchors whole and without their qualifier.
        assert_eq!(hits(f.identifiers, "method.with_capacity"), 1);
        assert_eq!(hits(f.identifiers, "with_capacity"), 1);
        assert_eq!(hits(f.identifiers, "capacity"), 0, "not split into words");
        assert_eq!(
            hits(f.identifiers, "hashmap"),
            1,
            "the name the title starts with"
        );
        // ...as the page's own name, and qualified by the directories the
        // file named for it sits in (rustdoc's real `HashMap` page is under
        // `collections/hash_map/`; this one is where its redirect is).
        assert_eq!(
            hits(f.identifiers, &crate::identifiers::page_name_key("hashmap")),
            1
        );
        assert_eq!(hits(f.identifiers, "collections.hashmap"), 1);
        assert_eq!(hits(f.identifiers, "std.collections.hashmap"), 1);
        assert_eq!(hits(f.code_terms, "hashmap.with_hasher"), 1);
        // The title and the first heading as typed, each whole.
        for typed in ["HashMap in std::collections", "borrowing keys"] {
            let key = crate::identifiers::title_key(typed).unwrap();
            assert_eq!(hits(f.identifiers, &key), 1, "{typed}");
        }
        let part = crate::identifiers::title_key("HashMap").unwrap();
        assert_eq!(hits(f.identifiers, &part), 0, "a title's first word is no title");
    }
}
