//! What the `url_words` and `spell` fields cost at indexing time, per page,
//! over the local std docs (the pages of BENCHMARKS.md), and how many words
//! the spelling dictionary keeps when it takes only the body's first
//! [`SPELL_BODY_BYTES`]. A measurement, not a test: it asserts nothing and
//! is ignored by default.
//!
//! ```sh
//! cargo test --workspace --test field_cost -- --ignored --nocapture
//! ```
//!
//! The dev profile leaves trawl's own crates unoptimized, the analyzer's
//! stem cache among them; to measure what a release build pays, add
//! `--config 'profile.dev.package.indexer.opt-level=2'`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use indexer::schema::{IndexSchema, SPELL_BODY_BYTES};
use tantivy::{Index, IndexWriter, TantivyDocument};

/// How many pages each round indexes, and how many rounds per variant.
const PAGES: usize = 500;
const ROUNDS: usize = 7;

struct Page {
    path: String,
    title: String,
    text: String,
}

fn std_docs() -> PathBuf {
    let sysroot = std::process::Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .expect("rustc --print sysroot");
    PathBuf::from(String::from_utf8(sysroot.stdout).unwrap().trim()).join("share/doc/rust/html/std")
}

fn html_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            html_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "html") {
            out.push(path);
        }
    }
}

/// Text without tags, scripts and styles: crude, but words are words.
fn strip(html: &str) -> String {
    let mut text = String::with_capacity(html.len() / 2);
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        text.push_str(&rest[..open]);
        text.push(' ');
        let after = &rest[open..];
        let skip_to = ["<script", "<style"]
            .iter()
            .find(|tag| after.starts_with(**tag))
            .map(|tag| format!("</{}>", &tag[1..]));
        let close = match skip_to {
            Some(end_tag) => after.find(&end_tag).map(|i| i + end_tag.len()),
            None => after.find('>').map(|i| i + 1),
        };
        match close {
            Some(close) => rest = &after[close..],
            None => {
                rest = "";
            }
        }
    }
    text.push_str(rest);
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn pages() -> Vec<Page> {
    let root = std_docs();
    let mut files = Vec::new();
    html_files(&root, &mut files);
    files
        .iter()
        .filter_map(|path| {
            let html = std::fs::read_to_string(path).ok()?;
            let title = html
                .split_once("<title>")
                .and_then(|(_, rest)| rest.split_once("</title>"))
                .map(|(title, _)| title.to_string())
                .unwrap_or_default();
            let path = format!("/std/{}", path.strip_prefix(&root).unwrap().display());
            Some(Page {
                path,
                title,
                text: strip(&html),
            })
        })
        .filter(|page| page.text.len() > 2_000)
        .take(PAGES)
        .collect()
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Variant {
    /// Title and body only: the index before these fields.
    Before,
    UrlWords,
    /// And `spell` with the whole body.
    UrlWordsSpellWholeBody,
    /// And `spell` as upsert fills it.
    UrlWordsSpell,
}

/// The body's first `max_bytes`, cut after a whole word, as upsert cuts it.
fn leading_words(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..text[..end].rfind(' ').unwrap_or(0)]
}

/// How many words of the spelling dictionary are in at least 2 documents.
fn common_spell_words(index: &Index, fields: &IndexSchema) -> u64 {
    let searcher = index.reader().unwrap().searcher();
    let mut words = 0;
    for segment in searcher.segment_readers() {
        let inverted_index = segment.inverted_index(fields.spell).unwrap();
        let mut terms = inverted_index.terms().stream().unwrap();
        while let Some((_, info)) = terms.next() {
            words += u64::from(info.doc_freq >= 2);
        }
    }
    words
}

/// CPU time of this process, all threads (tantivy indexes in its own):
/// wall time would count the other processes of a shared machine.
fn process_cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    // The fields after the command's closing parenthesis; utime and stime
    // are the 12th and 13th of them, in clock ticks (100 a second on Linux).
    let fields: Vec<&str> = stat.rsplit_once(')').unwrap().1.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10)
}

/// The CPU time of indexing `pages` and committing, and the words of the
/// spelling dictionary in at least 2 documents.
fn index_once(pages: &[Page], variant: Variant) -> (Duration, u64) {
    let fields = IndexSchema::new();
    let dir = tempfile::tempdir().unwrap();
    let index = Index::create_in_dir(dir.path(), fields.schema.clone()).unwrap();
    indexer::analyzer::register(&index);
    let mut writer: IndexWriter = index.writer_with_num_threads(1, 128_000_000).unwrap();
    let started = process_cpu_time();
    for page in pages {
        let mut doc = TantivyDocument::default();
        doc.add_text(fields.title, &page.title);
        doc.add_text(fields.body, &page.text);
        if variant != Variant::Before {
            // What upsert adds: host and path, then the CamelCase parts.
            doc.add_text(fields.url_words, format!("127.0.0.1 {}", page.path));
            doc.add_text(fields.url_words, "Hash Map");
        }
        match variant {
            Variant::UrlWordsSpellWholeBody => {
                doc.add_text(fields.spell, &page.title);
                doc.add_text(fields.spell, &page.text);
            }
            Variant::UrlWordsSpell => {
                doc.add_text(fields.spell, &page.title);
                doc.add_text(fields.spell, leading_words(&page.text, SPELL_BODY_BYTES));
            }
            Variant::Before | Variant::UrlWords => {}
        }
        writer.add_document(doc).unwrap();
    }
    writer.commit().unwrap();
    let spent = process_cpu_time() - started;
    (spent, common_spell_words(&index, &fields))
}

#[test]
#[ignore = "a measurement: run with --ignored --nocapture"]
fn field_cost() {
    let pages = pages();
    let bytes: usize = pages.iter().map(|p| p.text.len()).sum();
    println!(
        "{} pages, {} KB of text each on average",
        pages.len(),
        bytes / pages.len() / 1024
    );
    index_once(&pages, Variant::Before); // warm the stem cache and the page cache
    let variants = [
        Variant::Before,
        Variant::UrlWords,
        Variant::UrlWordsSpellWholeBody,
        Variant::UrlWordsSpell,
    ];
    // Rounds take turns, so that another process's load falls on all alike.
    let mut per_page_us = vec![Vec::new(); variants.len()];
    let mut spell_words = vec![0; variants.len()];
    for _ in 0..ROUNDS {
        for (i, variant) in variants.iter().enumerate() {
            let (spent, words) = index_once(&pages, *variant);
            per_page_us[i].push(spent.as_secs_f64() * 1e6 / pages.len() as f64);
            spell_words[i] = words;
        }
    }
    for ((variant, mut times), words) in variants.iter().zip(per_page_us).zip(spell_words) {
        times.sort_by(f64::total_cmp);
        println!(
            "{variant:?}: median {:.0} us of CPU per page (range {:.0}-{:.0}); \
             spell words in 2 pages or more: {words}",
            times[ROUNDS / 2],
            times[0],
            times[ROUNDS - 1]
        );
    }
}
