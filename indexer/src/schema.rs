//! The tantivy schema: one place that names every field and its analyzer.

use crate::analyzer::{RAW_ANALYZER, TEXT_ANALYZER};
pub use crate::page_kind::{PAGE_KIND_FIELD, PageKind};
use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};

/// How much of a page's body the `spell` field takes. The whole body would
/// add 65% to the CPU time of indexing a page of the std docs; 8 KB adds
/// 30% and still finds 78% of the words that are in two pages or more
/// (BENCHMARKS.md, section 5).
pub const SPELL_BODY_BYTES: usize = 8 * 1024;

/// The fast field that holds a page's simhash.
pub const SIMHASH_FIELD: &str = "simhash";

/// The fast field that holds where a page's sections start in its body
/// ([`crate::sections`]): several u64 values per document, in order. Not
/// a bytes field: tantivy keeps those in a zstd-compressed dictionary,
/// and reading 50 documents' values cost a query more (a decompression
/// context made for each) than scoring their sections.
pub const SECTION_BOUNDS_FIELD: &str = "section_bounds";

/// The fields of a document in the index.
#[derive(Clone, Debug)]
pub struct IndexSchema {
    pub schema: Schema,
    /// [`common::DocId`]: the key of upserts and removals.
    pub doc_id: Field,
    /// The canonical URL, shown as the result's link.
    pub url: Field,
    /// The host key (`example.com`, `127.0.0.1:8080`), for `site:` and for
    /// limiting results per host.
    pub site: Field,
    pub title: Field,
    pub headings: Field,
    pub body: Field,
    /// The words of the canonical URL's host and path, CamelCase words also
    /// split (`struct.HashMap.html`: struct, hashmap, hash, map, html):
    /// people search for the names that URLs are made of.
    pub url_words: Field,
    /// The error messages the page quotes ([`crate::error_messages`]), one
    /// value each, analyzed as the text is: a message pasted into the
    /// search box is matched as a phrase where a page quotes it. (tantivy
    /// leaves one position between values, so a phrase with slop may span
    /// two neighbouring messages.)
    pub error_messages: Field,
    /// Title, headings and the body's first [`SPELL_BODY_BYTES`] again,
    /// unstemmed and without positions: only its term dictionary is read,
    /// for spelling suggestions.
    pub spell: Field,
    /// The identifiers the page defines, one untokenized term each: its
    /// sections' anchors as [`crate::identifiers::anchor_keys`], headings
    /// that are names, and the name the page is about
    /// ([`crate::identifiers::page_name`]), also as
    /// [`crate::identifiers::page_name_key`] and qualified by its URL's
    /// directories ([`crate::identifiers::qualified_page_names`]); and its
    /// title and first heading as typed ([`crate::identifiers::title_keys`]).
    pub identifiers: Field,
    /// The words of the text written as code
    /// ([`crate::identifiers::code_terms`]), one untokenized term each.
    pub code_terms: Field,
    /// [`PageKind`], a fast field for ranking.
    pub page_kind: Field,
    /// The simhash of the page's text ([`common::signature`]), a fast
    /// field: results that are the same page at two URLs collapse into one.
    pub simhash: Field,
    /// The token positions at which the page's sections start in `body`,
    /// and where the last ends ([`crate::sections::section_bounds`]), a
    /// multi-valued fast field: a page is scored by its best section too.
    pub section_bounds: Field,
}

impl IndexSchema {
    pub fn new() -> IndexSchema {
        let mut builder = Schema::builder();
        let doc_id = builder.add_u64_field(
            "doc_id",
            NumericOptions::default().set_indexed().set_stored().set_fast(),
        );
        let url = builder.add_text_field("url", STRING | STORED);
        let site = builder.add_text_field("site", STRING | STORED);
        let text = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(TEXT_ANALYZER)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        let title = builder.add_text_field("title", text.clone().set_stored());
        let headings = builder.add_text_field("headings", text.clone());
        // The body is not stored: snippets are cut from the docstore's text,
        // which keeps the index small and lets the docstore live elsewhere.
        let body = builder.add_text_field("body", text.clone());
        let url_words = builder.add_text_field("url_words", text.clone());
        let error_messages = builder.add_text_field("error_messages", text);
        let spell = builder.add_text_field(
            "spell",
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(RAW_ANALYZER)
                    .set_index_option(IndexRecordOption::Basic)
                    .set_fieldnorms(false), // nothing scores on it
            ),
        );
        // Whole names, one term per value. BM25 scores them, so they keep
        // field norms (without, tantivy refuses to score the field).
        let names = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer("raw")
                .set_index_option(IndexRecordOption::WithFreqs),
        );
        let identifiers = builder.add_text_field("identifiers", names.clone());
        let code_terms = builder.add_text_field("code_terms", names);
        let page_kind = builder.add_u64_field(PAGE_KIND_FIELD, NumericOptions::default().set_fast());
        let simhash = builder.add_u64_field(SIMHASH_FIELD, NumericOptions::default().set_fast());
        let section_bounds =
            builder.add_u64_field(SECTION_BOUNDS_FIELD, NumericOptions::default().set_fast());
        IndexSchema {
            schema: builder.build(),
            doc_id,
            url,
            site,
            title,
            headings,
            body,
            url_words,
            error_messages,
            spell,
            identifiers,
            code_terms,
            page_kind,
            simhash,
            section_bounds,
        }
    }
}

impl Default for IndexSchema {
    fn default() -> Self {
        IndexSchema::new()
    }
}
