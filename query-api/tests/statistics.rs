//! Scores and totals over an index that has deleted documents: pages
//! indexed again (an upsert deletes the old copy) and pages removed.
//!
//! A first version summed document frequencies that counted deleted copies
//! with a document count that did not: after any page was indexed twice,
//! BM25 panicked ("112 >= 115") on common words, and the API answered an
//! empty 200. Here the scores are compared with BM25 computed by hand over
//! the live documents only, and paging is checked to be the same on one
//! shard or two.

mod support;

use std::collections::BTreeSet;
use std::sync::Arc;

use indexer::IndexWriterHandle;
use query_api::backends::{IndexShard, LocalDocs, LocalShard};
use query_api::rank::Ranking;
use query_api::shard_search::ShardSearcher;
use query_api::{SearchConfig, SearchRequest, SearchService};
use support::{build, page};

fn corpus() -> Vec<common::PageMessage> {
    let texts = [
        (
            "Rust basics",
            "rust is a language. rust has ownership and borrowing",
        ),
        (
            "Ownership",
            "ownership moves values; rust checks borrowing at compile time",
        ),
        ("Cargo", "cargo builds rust crates and fetches dependencies"),
        (
            "Traits",
            "traits describe shared behaviour; generic code uses traits",
        ),
        ("Errors", "rust errors are values: result and option"),
        (
            "Lifetimes",
            "lifetimes name how long references live in rust programs",
        ),
        ("Closures", "closures capture their environment"),
        ("Iterators", "iterators are lazy and rust iterators compose"),
        ("Macros", "macros write rust code that writes code"),
        ("Unsafe", "unsafe rust lifts some checks of the compiler"),
    ];
    texts
        .iter()
        .enumerate()
        .map(|(i, (title, text))| page(&format!("http://docs.test/{i}.html"), title, text))
        .collect()
}

/// Tokens of `text` as the index's analyzer makes them.
fn tokens(text: &str) -> Vec<String> {
    let mut analyzer = indexer::analyzer::text_analyzer();
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while let Some(token) = stream.next() {
        out.push(token.text.clone());
    }
    out
}

/// BM25 (k1 1.2, b 0.75, tantivy's idf) of `term` in one field, over the
/// given live texts of that field; one score per text.
fn bm25(term: &str, field_texts: &[String]) -> Vec<f32> {
    let docs: Vec<Vec<String>> = field_texts.iter().map(|t| tokens(t)).collect();
    let n = docs.len() as f32;
    let df = docs.iter().filter(|d| d.iter().any(|t| t == term)).count() as f32;
    let average = docs.iter().map(Vec::len).sum::<usize>() as f32 / n;
    let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
    docs.iter()
        .map(|d| {
            let tf = d.iter().filter(|t| *t == term).count() as f32;
            if tf == 0.0 {
                return 0.0;
            }
            let norm = 1.2 * (1.0 - 0.75 + 0.75 * d.len() as f32 / average);
            idf * (1.0 + 1.2) * tf / (tf + norm)
        })
        .collect()
}

#[tokio::test]
async fn scores_and_totals_count_live_documents_only() {
    let dir = tempfile::tempdir().unwrap();
    let pages = corpus();
    let (index, docstore) = build(dir.path(), &pages);
    // Index five pages again in a later commit (their first copies are
    // deleted) and remove two: the first segment keeps 3 live documents
    // of 10, so deleted documents outnumber some terms' live ones.
    {
        let mut writer = IndexWriterHandle::open(&dir.path().join("index"), 1).unwrap();
        for page in &pages[..5] {
            writer.upsert(page).unwrap();
        }
        writer.remove(pages[8].doc_id());
        writer.remove(pages[9].doc_id());
        writer.commit().unwrap();
    }
    index.reload().unwrap();
    let live: Vec<&common::PageMessage> = pages[..8].iter().collect();
    assert_eq!(index.num_docs(), live.len() as u64);
    let searcher = index.reader.searcher();
    assert!(
        searcher
            .segment_readers()
            .iter()
            .any(|s| s.num_deleted_docs() > 0),
        "no segment holds deleted documents: the test proves nothing"
    );

    let service = SearchService::new(index.clone(), docstore);
    // Every page with "rust", once each: the total counts live documents.
    let answer = service.search("rust", 1, 50).await.unwrap();
    assert!(!answer.partial);
    let with_rust = live
        .iter()
        .filter(|p| tokens(&p.text).contains(&"rust".to_string()))
        .count();
    assert_eq!(answer.total, with_rust);
    assert_eq!(answer.results.len(), with_rust);

    // Plain BM25 over title and body (the baseline ranking) matches BM25
    // computed by hand over the live documents.
    for term in ["rust", "ownership", "code"] {
        let titles: Vec<String> = live.iter().map(|p| p.title.clone()).collect();
        let bodies: Vec<String> = live.iter().map(|p| p.text.clone()).collect();
        let stem = tokens(term).pop().unwrap();
        let expected: Vec<f32> = bm25(&stem, &titles)
            .iter()
            .zip(bm25(&stem, &bodies))
            .map(|(a, b)| a + b)
            .collect();
        let mut request = SearchRequest::new(term, 1, 50);
        request.ranking = Ranking::Baseline;
        let answer = service.search_with(request).await.unwrap();
        assert_eq!(
            answer.total,
            expected.iter().filter(|s| **s > 0.0).count(),
            "{term}"
        );
        for result in &answer.results {
            let i = live.iter().position(|p| p.url.as_str() == result.link).unwrap();
            let want = expected[i];
            assert!(
                (result.score - want).abs() <= want.abs() * 1e-4,
                "{term} on {}: score {} against BM25 over live documents {want}",
                result.link,
                result.score
            );
        }
    }
}

/// The same pages on one shard and split over two: every query pages
/// through the same results in the same order, ties (same score) broken
/// by document id, none repeated.
#[tokio::test]
async fn paging_is_stable_and_the_same_on_one_shard_or_two() {
    let dir = tempfile::tempdir().unwrap();
    let pages: Vec<common::PageMessage> = (0..37)
        .map(|i| {
            page(
                &format!("http://same.test/{i}.html"),
                "Same",
                "the same text on every page",
            )
        })
        .collect();
    let (one_index, one_docs) = build(&dir.path().join("one"), &pages);
    let one = SearchService::new(one_index, one_docs.clone());
    let (a, _) = build(&dir.path().join("a"), &pages[..20]);
    let (b, _) = build(&dir.path().join("b"), &pages[20..]);
    let shards: Vec<Arc<dyn IndexShard>> = vec![
        Arc::new(LocalShard::new("a", ShardSearcher::new(a, 0))),
        Arc::new(LocalShard::new("b", ShardSearcher::new(b, 1))),
    ];
    let two = SearchService::with_backends(
        shards,
        Arc::new(LocalDocs::new("docs", one_docs)),
        SearchConfig::default(),
    );
    for query in ["site:same.test", "same text", "every"] {
        let mut listed = Vec::new();
        for page in 1..=8 {
            let on_one = one.search(query, page, 5).await.unwrap();
            let on_two = two.search(query, page, 5).await.unwrap();
            let links = |answer: &query_api::SearchResponse| -> Vec<String> {
                answer.results.iter().map(|r| r.link.clone()).collect()
            };
            assert_eq!(links(&on_one), links(&on_two), "{query:?} page {page}");
            listed.extend(links(&on_one));
        }
        let distinct: BTreeSet<&String> = listed.iter().collect();
        assert_eq!(listed.len(), 37, "{query:?}");
        assert_eq!(distinct.len(), 37, "{query:?}: a result shown twice");
    }
}

/// The live statistics of a segment with deletes (its deleted documents
/// looked up in each term's postings) are held to a count over the live
/// documents' own texts, for terms in every page, in some and in none,
/// with 1 page deleted of 64 and with 40.
#[test]
fn live_statistics_are_those_of_the_live_pages_with_few_deletes_or_many() {
    use tantivy::Term;
    for deleted in [1usize, 40] {
        let dir = tempfile::tempdir().unwrap();
        let pages: Vec<common::PageMessage> = (0..64)
            .map(|i| {
                let extra = if i % 3 == 0 { " ownership borrowing" } else { "" };
                page(
                    &format!("http://docs.test/{i}.html"),
                    "Rust",
                    &format!("rust page number{i} rust{extra}"),
                )
            })
            .collect();
        let (index, _) = build(dir.path(), &pages);
        // Deletes in a later commit: the one segment keeps them until a
        // merge, which a single segment does not get.
        {
            let mut writer = IndexWriterHandle::open(&dir.path().join("index"), 1).unwrap();
            for page in pages.iter().step_by(64 / deleted).take(deleted) {
                writer.remove(page.doc_id());
            }
            writer.commit().unwrap();
        }
        index.reload().unwrap();
        let searcher = index.reader.searcher();
        let with_deletes: usize = searcher
            .segment_readers()
            .iter()
            .map(|s| s.num_deleted_docs() as usize)
            .sum();
        assert_eq!(with_deletes, deleted, "the deletes are in the segment");
        let removed: BTreeSet<String> = pages
            .iter()
            .step_by(64 / deleted)
            .take(deleted)
            .map(|p| p.url.to_string())
            .collect();
        let live: Vec<&common::PageMessage> = pages
            .iter()
            .filter(|p| !removed.contains(&p.url.to_string()))
            .collect();
        let body = index.fields.body;
        let stats = query_api::rank::LiveDocs::of(&searcher);
        for word in ["rust", "ownership", "number7", "absent"] {
            let term = tokens(word).pop().unwrap();
            let expected = live.iter().filter(|p| tokens(&p.text).contains(&term)).count() as u64;
            let got = stats.doc_freq(&Term::from_field_text(body, &term)).unwrap();
            assert_eq!(got, expected, "{word} with {deleted} deleted");
        }
        let expected_tokens: u64 = live.iter().map(|p| tokens(&p.text).len() as u64).sum();
        assert_eq!(
            stats.num_tokens(body).unwrap(),
            expected_tokens,
            "{deleted} deleted"
        );
    }
}
