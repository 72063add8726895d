//! What a search does, through the service and over HTTP shards: the query
//! language, spelling, host crowding, the cache's freshness, partial
//! answers from slow shards, and scores that compare across shards.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use common::PageMessage;
use indexer::{Docstore, IndexReaderHandle, IndexWriterHandle};
use query_api::backends::{BackendError, IndexShard, LocalDocs, LocalShard, RemoteDocs, RemoteShard};
use query_api::protocol::{PrepareRequest, Prepared, QueryRequest, ShardHits};
use query_api::rank::Ranking;
use query_api::shard_search::ShardSearcher;
use query_api::{SearchConfig, SearchRequest, SearchResponse, SearchService};
use support::{build, page};

mod support;

fn corpus() -> Vec<PageMessage> {
    vec![
        page(
            "http://book.test/ownership.html",
            "What is Ownership?",
            "Ownership is a set of rules that govern how a Rust program manages memory. \
             Each value has an owner. When the owner goes out of scope, the value is dropped.",
        ),
        page(
            "http://book.test/borrowing.html",
            "References and Borrowing",
            "A reference is like a pointer. Borrowing a value does not take ownership of it. \
             The borrow checker enforces the borrowing rules.",
        ),
        page(
            "http://book.test/hashmap.html",
            "Storing Keys with Associated Values in Hash Maps",
            "The type HashMap stores a mapping of keys to values. Use insert to add a key and entry to \
             update a value only if the key has no value.",
        ),
        page(
            "http://std.test/vec.html",
            "Vec in std::vec",
            "A contiguous growable array type. Vec::with_capacity creates an empty vector with room for \
             elements. Use push to add elements.",
        ),
        page(
            "http://std.test/string.html",
            "String in std::string",
            "A UTF-8 encoded, growable string. The String type owns its contents, unlike a borrowed str.",
        ),
    ]
}

/// A search service with its default settings over `pages`, indexed under
/// `dir`.
fn service_over(dir: &std::path::Path, pages: &[PageMessage]) -> SearchService {
    let (index, docstore) = build(dir, pages);
    SearchService::new(index, docstore)
}

fn links(response: &SearchResponse) -> Vec<&str> {
    response.results.iter().map(|r| r.link.as_str()).collect()
}

/// A service over one index and docstore in this process, with `config`.
fn local_service(index: &IndexReaderHandle, docstore: &Arc<Docstore>, config: SearchConfig) -> SearchService {
    SearchService::with_backends(
        vec![Arc::new(LocalShard::new(
            "local",
            ShardSearcher::new(index.clone(), 0),
        ))],
        Arc::new(LocalDocs::new("local", docstore.clone())),
        config,
    )
}

#[tokio::test]
async fn the_query_language() {
    let dir = tempfile::tempdir().unwrap();
    let (index, docstore) = build(dir.path(), &corpus());
    let service = SearchService::new(index, docstore);
    let search = |q: &'static str| {
        let service = &service;
        async move { service.search(q, 1, 10).await.unwrap() }
    };

    // AND by default; capitalization does not matter.
    let answer = search("OWNERSHIP Memory").await;
    assert_eq!(links(&answer), ["http://book.test/ownership.html"]);
    assert_eq!(answer.query, "ownership memory");
    // OR.
    assert_eq!(search("pointer OR growable").await.total, 3);
    // NOT and -term.
    assert!(!links(&search("ownership -pointer").await).contains(&"http://book.test/borrowing.html"));
    assert_eq!(
        search("value NOT ownership").await.total,
        search("value -ownership").await.total
    );
    // Phrases: the words in order.
    assert_eq!(
        links(&search("\"borrow checker\"").await),
        ["http://book.test/borrowing.html"]
    );
    assert_eq!(search("\"checker borrow\"").await.total, 0);
    // site: and -site:.
    let answer = search("growable site:std.test").await;
    assert_eq!(answer.total, 2);
    assert!(answer.results.iter().all(|r| r.site == "std.test"));
    assert_eq!(search("growable OR value").await.total, 5);
    assert_eq!(search("growable OR value -site:std.test").await.total, 3);
    // intitle:
    assert_eq!(
        links(&search("intitle:ownership").await),
        ["http://book.test/ownership.html"]
    );
    // An API name as typed.
    assert_eq!(
        links(&search("Vec::with_capacity").await)[0],
        "http://std.test/vec.html"
    );
    // A question reads as its content words.
    assert_eq!(
        links(&search("what happens when the owner goes out of scope").await)[0],
        "http://book.test/ownership.html"
    );
}

#[tokio::test]
async fn a_command_line_option_finds_the_page_that_documents_it() {
    let dir = tempfile::tempdir().unwrap();
    let pages = vec![
        page(
            "http://man.test/pg_dump.html",
            "pg_dump",
            "pg_dump extracts a database into a script file or an archive. Options: -a, --data-only: \
             dump only the data, not the schema.",
        ),
        page(
            "http://man.test/pg_restore.html",
            "pg_restore",
            "pg_restore restores a database from an archive made by pg_dump.",
        ),
    ];
    let service = service_over(dir.path(), &pages);
    // Two dashes start an option, not an exclusion: `-data-only` would
    // leave out the one page that documents it.
    let answer = service.search("pg_dump --data-only", 1, 10).await.unwrap();
    assert_eq!(links(&answer), ["http://man.test/pg_dump.html"]);
    assert_eq!(answer.query, "pg_dump --data-only");
    let answer = service.search("--data-only", 1, 10).await.unwrap();
    assert_eq!(links(&answer), ["http://man.test/pg_dump.html"]);
    // One dash still excludes.
    let answer = service.search("pg_dump -schema", 1, 10).await.unwrap();
    assert_eq!(links(&answer), ["http://man.test/pg_restore.html"]);
}

#[tokio::test]
async fn sqls_not_null_finds_the_page_about_it() {
    let dir = tempfile::tempdir().unwrap();
    let pages = vec![
        page(
            "http://sql.test/constraints.html",
            "Constraints",
            "A not-null constraint says that a column must not assume the null value: \
             price numeric NOT NULL. A check constraint tests a boolean expression.",
        ),
        page(
            "http://sql.test/check.html",
            "Check Constraints",
            "A check constraint is the most generic constraint type.",
        ),
    ];
    let service = service_over(dir.path(), &pages);
    // NOT before a word in capitals is SQL, not the operator: `-null`
    // would leave out the one page about NOT NULL.
    let answer = service.search("NOT NULL constraint", 1, 10).await.unwrap();
    assert_eq!(links(&answer)[0], "http://sql.test/constraints.html");
    assert_eq!(answer.query, "not null constraint");
    // NOT before any other word still excludes it.
    let answer = service.search("constraint NOT null", 1, 10).await.unwrap();
    assert_eq!(links(&answer), ["http://sql.test/check.html"]);
}

#[tokio::test]
async fn a_type_written_with_its_parameters_finds_the_type() {
    let dir = tempfile::tempdir().unwrap();
    let pages = vec![
        page(
            "http://cpp.test/vector.html",
            "std::vector",
            "std::vector is a sequence container that encapsulates dynamic size arrays.",
        ),
        page(
            "http://cpp.test/array.html",
            "std::array",
            "std::array is a container that encapsulates fixed size arrays: std::array<int, 3> a; \
             unlike a vector of int it does not grow.",
        ),
    ];
    let service = service_over(dir.path(), &pages);
    // Searched as written (not cut at `<` as an HTML tag), for the type:
    // its parameters are seldom on the page that documents it.
    let answer = service.search("std::vector<int>", 1, 10).await.unwrap();
    assert_eq!(links(&answer)[0], "http://cpp.test/vector.html");
    assert_eq!(answer.query, "std::vector<int>");
}

#[tokio::test]
async fn snippets_highlight_words_and_phrases_with_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let (index, docstore) = build(dir.path(), &corpus());
    let service = SearchService::new(index, docstore);
    let answer = service.search("\"borrow checker\" rules", 1, 10).await.unwrap();
    let result = &answer.results[0];
    assert!(
        result.snippet.contains("<b>borrow checker</b>"),
        "{}",
        result.snippet
    );
    let chars: Vec<char> = result.snippet_text.chars().collect();
    let highlighted: Vec<String> = result
        .highlights
        .iter()
        .map(|h| chars[h.start..h.end].iter().collect())
        .collect();
    assert!(
        highlighted.contains(&"borrow checker".to_string()),
        "{highlighted:?}"
    );
    assert!(highlighted.contains(&"rules".to_string()), "{highlighted:?}");
}

#[tokio::test]
async fn misspellings_are_suggested_and_corrected() {
    let dir = tempfile::tempdir().unwrap();
    let (index, docstore) = build(dir.path(), &corpus());
    let service = SearchService::new(index, docstore);

    // Nothing found as typed: the corrected query is searched, and says so.
    let answer = service.search("ownrship", 1, 10).await.unwrap();
    assert_eq!(answer.query, "ownrship");
    assert_eq!(answer.corrected_query.as_deref(), Some("ownership"));
    assert_eq!(links(&answer)[0], "http://book.test/ownership.html");

    let answer = service.search("borowing rules", 1, 10).await.unwrap();
    assert_eq!(answer.corrected_query.as_deref(), Some("borrowing rules"));
    assert_eq!(links(&answer), ["http://book.test/borrowing.html"]);

    // Spelled right: no suggestion.
    let answer = service.search("borrowing", 1, 10).await.unwrap();
    assert_eq!(answer.suggestion, None);
    assert_eq!(answer.corrected_query, None);
}

/// The corpus with 21 road pages that have "rules", "value" and
/// "borrowing" (so that "borrowing" is common enough to correct a typo
/// of it to), and `more`; a service over them with time for a second
/// search however loaded the machine.
fn road_service(dir: &std::path::Path, more: Vec<PageMessage>) -> SearchService {
    let mut pages = corpus();
    pages.extend((0..21).map(|i| {
        page(
            &format!("http://road{i}.test/rules.html"),
            &format!("Road rules {i}"),
            &format!("The rules of the road {i}: the value of a fine for borrowing a car."),
        )
    }));
    pages.extend(more);
    let (index, docstore) = build(dir, &pages);
    let config = SearchConfig {
        query_budget: Duration::from_secs(60),
        ..SearchConfig::default()
    };
    local_service(&index, &docstore, config)
}

#[tokio::test]
async fn a_misspelled_word_on_no_page_is_corrected_though_the_other_words_find_pages() {
    let dir = tempfile::tempdir().unwrap();
    let service = road_service(dir.path(), Vec::new());
    // Half the words of three are enough: as typed, "rules" and "value"
    // find many pages (as many as the correction finds). "borowing" is on
    // none: the corrected query answers, as it answers itself.
    let answer = service.search("borowing rules value", 1, 10).await.unwrap();
    assert_eq!(answer.corrected_query.as_deref(), Some("borrowing rules value"));
    let corrected = service.search("borrowing rules value", 1, 10).await.unwrap();
    assert_eq!(links(&answer), links(&corrected));
}

// A misspelling with its correction's stem ("maintenence", "maintenance":
// both "mainten") finds, in the stemmed text, the pages of the correction:
// that does not make it a word of any page. The correction answers, as it
// answers itself, with the bonus of the name spelled right. (Without the
// stems compared, the typed query answers and the correction is only
// suggested.)
#[tokio::test]
async fn a_misspelling_found_only_by_its_stem_is_corrected() {
    let dir = tempfile::tempdir().unwrap();
    let setting = page(
        "http://pg.test/runtime-config-resource.html",
        "Resource Consumption",
        "maintenance_work_mem (integer) Specifies the maximum amount of memory to be used by \
         maintenance operations, such as VACUUM and CREATE INDEX.",
    );
    let tips = page(
        "http://pg.test/populate.html",
        "Populating a Database",
        "Increase maintenance_work_mem: temporarily increasing the maintenance_work_mem \
         configuration variable when loading large amounts of data speeds up maintenance.",
    );
    let service = road_service(dir.path(), vec![setting, tips]);
    let answer = service.search("maintenence_work_mem", 1, 10).await.unwrap();
    assert_eq!(answer.corrected_query.as_deref(), Some("maintenance_work_mem"));
    let corrected = service.search("maintenance_work_mem", 1, 10).await.unwrap();
    assert_eq!(links(&answer), links(&corrected));
}

// A word spelled as a page spells it is not replaced by a commoner word of
// the same stem ("cancelled", "canceled": "cancel"), nor is a word that is
// that word but for its ending ("pivot", "pivotal"): they are suggested.
#[tokio::test]
async fn a_rare_spelling_that_a_page_has_is_not_replaced_by_its_stems_common_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut pages: Vec<PageMessage> = (0..21)
        .map(|i| {
            page(
                &format!("http://us{i}.test/orders.html"),
                &format!("Orders {i}"),
                &format!("A pivotal order {i} that was canceled is kept with its canceled date."),
            )
        })
        .collect();
    pages.push(page(
        "http://uk.test/orders.html",
        "Orders",
        "An order that was cancelled is kept with its cancelled date.",
    ));
    let service = service_over(dir.path(), &pages);
    let answer = service.search("cancelled", 1, 10).await.unwrap();
    assert_eq!(answer.corrected_query, None);
    assert_eq!(answer.suggestion.as_deref(), Some("canceled"));
    let answer = service.search("pivot", 1, 10).await.unwrap();
    assert_eq!(answer.corrected_query, None);
    assert_eq!(answer.suggestion.as_deref(), Some("pivotal"));
}

#[tokio::test]
async fn a_rare_word_that_a_page_has_far_down_is_suggested_not_replaced() {
    // guards: the spelling dictionary reads a body's first 8 KB only; a
    // word past them is still on the page. (Trusting the dictionary made
    // PostgreSQL's "upsert a row" into "insert a row", BENCHMARKS §26.)
    let long_text = format!(
        "{} Borowing is a name: the rules of its value.",
        "Some words before it. ".repeat(indexer::schema::SPELL_BODY_BYTES / 10)
    );
    let dir = tempfile::tempdir().unwrap();
    let typo = page("http://typo.test/borowing.html", "A long page", &long_text);
    let service = road_service(dir.path(), vec![typo]);
    let answer = service.search("borowing rules value", 1, 10).await.unwrap();
    assert_eq!(answer.corrected_query, None);
    assert_eq!(answer.suggestion.as_deref(), Some("borrowing rules value"));
    assert!(links(&answer).contains(&"http://typo.test/borowing.html"));
}

#[tokio::test]
async fn a_page_assembled_in_parts_is_the_page_assembled_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut pages = corpus();
    pages.extend((0..12).map(|i| {
        page(
            &format!("http://many{i}.test/value.html"),
            &format!("Values {i}"),
            &format!("A value {i} owned, borrowed and dropped: ownership of value number {i}."),
        )
    }));
    let (index, docstore) = build(dir.path(), &pages);
    let service = |result_parts| {
        let config = SearchConfig {
            result_parts,
            cache_entries: 0,
            ..SearchConfig::default()
        };
        local_service(&index, &docstore, config)
    };
    let (at_once, in_parts, in_more_parts_than_results) = (service(1), service(3), service(40));
    for (query, per_page) in [
        ("value", 10),
        ("ownership", 10),
        ("value", 4),
        ("borrowed value", 7),
    ] {
        let expected = at_once.search(query, 1, per_page).await.unwrap();
        assert!(!expected.results.is_empty(), "{query}");
        assert!(expected.results.iter().all(|r| !r.snippet.is_empty()), "{query}");
        for other in [&in_parts, &in_more_parts_than_results] {
            let answer = other.search(query, 1, per_page).await.unwrap();
            assert_eq!(answer.results, expected.results, "{query}, {per_page} a page");
        }
    }
}

#[tokio::test]
async fn a_spent_budget_skips_the_second_search_says_so_and_is_not_cached() {
    let dir = tempfile::tempdir().unwrap();
    let (index, docstore) = build(dir.path(), &corpus());
    let config = SearchConfig {
        query_budget: Duration::ZERO,
        ..SearchConfig::default()
    };
    let service = local_service(&index, &docstore, config);
    // The correction is known, but searching it would be a second pass.
    let answer = service.search("ownrship", 1, 10).await.unwrap();
    assert!(answer.cut_short);
    assert_eq!(answer.corrected_query, None);
    assert_eq!(answer.suggestion.as_deref(), Some("ownership"));
    assert!(answer.results.is_empty());
    assert!(!service.search("ownrship", 1, 10).await.unwrap().cached);
    // A query its first pass answers is whole, and cached.
    let answer = service.search("ownership", 1, 10).await.unwrap();
    assert!(!answer.cut_short);
    assert!(service.search("ownership", 1, 10).await.unwrap().cached);
}

#[tokio::test]
async fn at_most_two_results_of_a_host_on_a_page_unless_site_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let mut pages: Vec<PageMessage> = (0..6)
        .map(|i| {
            page(
                &format!("http://big.test/{i}.html"),
                &format!("Widget {i}"),
                "widget widget",
            )
        })
        .collect();
    pages.push(page("http://small.test/a.html", "A", "a widget"));
    pages.push(page("http://other.test/b.html", "B", "one widget here"));
    let service = service_over(dir.path(), &pages);

    let answer = service.search("widget", 1, 4).await.unwrap();
    assert_eq!(answer.total, 8);
    let big = answer.results.iter().filter(|r| r.site == "big.test").count();
    assert_eq!(big, 2, "{:?}", links(&answer));
    // Nothing is lost: the pages together hold every match once.
    let mut seen = Vec::new();
    for page in 1..=2 {
        let answer = service.search("widget", page, 4).await.unwrap();
        seen.extend(answer.results.iter().map(|r| r.link.clone()));
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 8);
    // With site: every result may come from the one host.
    let answer = service.search("widget site:big.test", 1, 4).await.unwrap();
    assert_eq!(answer.results.len(), 4);
}

/// Indexes and commits a page with the word "zeppelin", as the crawler
/// would, and reloads the searcher.
fn commit_a_zeppelin(
    dir: &std::path::Path,
    index: &indexer::IndexReaderHandle,
    docstore: &indexer::Docstore,
) {
    let newcomer = page("http://new.test/z.html", "Zeppelin", "A zeppelin is an airship.");
    docstore.put_page(&newcomer).unwrap();
    let mut writer = IndexWriterHandle::open(&dir.join("index"), 1).unwrap();
    writer.upsert(&newcomer).unwrap();
    writer.commit().unwrap();
    index.reload().unwrap();
}

#[tokio::test]
async fn a_commit_between_two_identical_queries_changes_the_answer() {
    let dir = tempfile::tempdir().unwrap();
    let (index, docstore) = build(dir.path(), &corpus());
    let service = SearchService::new(index.clone(), docstore.clone());

    let first = service.search("zeppelin", 1, 10).await.unwrap();
    assert_eq!(first.total, 0);
    let again = service.search("zeppelin", 1, 10).await.unwrap();
    assert!(again.cached, "the same query, nothing committed: from the cache");

    // The crawler commits a page with the word.
    commit_a_zeppelin(dir.path(), &index, &docstore);

    let after = service.search("zeppelin", 1, 10).await.unwrap();
    assert!(!after.cached);
    assert_eq!(links(&after), ["http://new.test/z.html"]);
    let counts = service.cache_counts();
    assert_eq!((counts.hits, counts.misses), (1, 2), "{counts:?}");
}

/// The request of a query string `q=WORDS` (the HTTP route reads real ones).
fn read_query_string(query_string: &str) -> Result<SearchRequest, query_api::SearchError> {
    let words = query_string.strip_prefix("q=").expect("q=WORDS");
    Ok(SearchRequest::new(words, 1, 10))
}

async fn ask(service: &SearchService, query_string: &str) -> SearchResponse {
    service
        .answer_query_string(std::time::Instant::now(), query_string, read_query_string)
        .await
        .unwrap()
        .response()
}

// A request seen before is answered by its query string alone
// (query_api::seen), but only while every shard is at the generation its
// answer was computed at: a commit between two identical requests changes
// the answer on that path too.
#[tokio::test]
async fn a_request_seen_before_is_not_answered_from_before_a_commit() {
    let dir = tempfile::tempdir().unwrap();
    let (index, docstore) = build(dir.path(), &corpus());
    let service = SearchService::new(index.clone(), docstore.clone());

    assert!(!ask(&service, "q=zeppelin").await.cached);
    let again = ask(&service, "q=zeppelin").await;
    assert!(
        again.cached && again.total == 0,
        "seen, nothing committed: the same answer"
    );
    // Another query string of the same query: the cache, by its normal form.
    assert!(ask(&service, "q=Zeppelin").await.cached);

    commit_a_zeppelin(dir.path(), &index, &docstore);

    let after = ask(&service, "q=zeppelin").await;
    assert!(!after.cached);
    assert_eq!(links(&after), ["http://new.test/z.html"]);
    let again = ask(&service, "q=zeppelin").await;
    assert!(again.cached);
    assert_eq!(links(&again), ["http://new.test/z.html"]);
    let counts = service.cache_counts();
    assert_eq!((counts.hits, counts.misses), (3, 2), "{counts:?}");
}

// The memo of requests holds answers weakly: an answer the cache evicted is
// not given again from it. An answer given from the memo is one the cache
// did not see read, and is kept once more when it comes up for eviction.
#[tokio::test]
async fn the_cache_alone_decides_how_long_an_answer_lives() {
    let dir = tempfile::tempdir().unwrap();
    let (index, docstore) = build(dir.path(), &corpus());
    let two_answers = || {
        let config = SearchConfig {
            cache_entries: 2,
            ..SearchConfig::default()
        };
        local_service(&index, &docstore, config)
    };

    // Asked once: ownership is the least recent when a third answer comes.
    let service = two_answers();
    for query_string in ["q=ownership", "q=borrowing", "q=hashmap"] {
        assert!(!ask(&service, query_string).await.cached);
    }
    assert!(
        !ask(&service, "q=ownership").await.cached,
        "evicted, so not in the memo either"
    );

    // Asked twice, the second time from the memo: kept once more.
    let service = two_answers();
    assert!(!ask(&service, "q=ownership").await.cached);
    assert!(ask(&service, "q=ownership").await.cached);
    assert!(!ask(&service, "q=borrowing").await.cached);
    assert!(
        !ask(&service, "q=hashmap").await.cached,
        "borrowing goes, not ownership"
    );
    assert!(ask(&service, "q=ownership").await.cached);
    assert!(!ask(&service, "q=borrowing").await.cached);
}

// A query asked again is answered from the cache without being read again
// (its normalized form is remembered by its text): another spelling of it
// finds the same entry, the other ranking and another page do not, and a
// page too deep is refused however well the query is known.
#[tokio::test]
async fn a_query_asked_again_finds_its_answer_by_its_normal_form() {
    let dir = tempfile::tempdir().unwrap();
    let (index, docstore) = build(dir.path(), &corpus());
    let service = SearchService::new(index, docstore);

    let first = service.search("Ownership", 1, 10).await.unwrap();
    assert!(!first.cached);
    assert!(first.total > 0);
    for spelling in ["Ownership", "ownership", "  OWNERSHIP  "] {
        let again = service.search(spelling, 1, 10).await.unwrap();
        assert!(again.cached, "{spelling:?}");
        assert_eq!(links(&again), links(&first), "{spelling:?}");
        assert_eq!(again.query, "ownership");
    }
    let baseline = SearchRequest {
        ranking: Ranking::Baseline,
        ..SearchRequest::new("Ownership", 1, 10)
    };
    assert!(!service.search_with(baseline.clone()).await.unwrap().cached);
    assert!(service.search_with(baseline).await.unwrap().cached);
    assert!(!service.search("Ownership", 2, 10).await.unwrap().cached);
    let too_deep = service.search("Ownership", 1_000_000, 10).await;
    assert!(too_deep.is_err(), "{too_deep:?}");
    let counts = service.cache_counts();
    assert_eq!((counts.hits, counts.misses), (4, 3), "{counts:?}");
}

/// A shard that answers its generation but then never its searches.
struct StuckShard;

#[async_trait]
impl IndexShard for StuckShard {
    fn name(&self) -> &str {
        "stuck"
    }
    async fn generation(&self) -> Result<u64, BackendError> {
        Ok(7)
    }
    async fn documents(&self) -> Result<u64, BackendError> {
        Ok(0)
    }
    async fn prepare(&self, _: &PrepareRequest) -> Result<Prepared, BackendError> {
        std::future::pending().await
    }
    async fn query(&self, _: &QueryRequest) -> Result<ShardHits, BackendError> {
        std::future::pending().await
    }
}

#[tokio::test]
async fn a_slow_shard_gives_a_partial_answer_that_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (index, docstore) = build(dir.path(), &corpus());
    let service = SearchService::with_backends(
        vec![
            Arc::new(LocalShard::new("fast", ShardSearcher::new(index, 0))),
            Arc::new(StuckShard),
        ],
        Arc::new(LocalDocs::new("local", docstore)),
        SearchConfig {
            shard_timeout: Duration::from_millis(200),
            ..SearchConfig::default()
        },
    );
    let answer = service.search("ownership", 1, 10).await.unwrap();
    assert!(answer.partial);
    assert_eq!(answer.shards.searched, 2);
    assert_eq!(answer.shards.answered, 1);
    assert_eq!(answer.shards.failed[0].shard, "stuck");
    assert!(
        answer.shards.failed[0].error.contains("no answer within"),
        "{:?}",
        answer.shards
    );
    assert_eq!(links(&answer)[0], "http://book.test/ownership.html");
    // A partial answer is never cached.
    assert!(!service.search("ownership", 1, 10).await.unwrap().cached);
}

/// A real shard whose searches wait at a gate until the test opens it:
/// searches that hold their turn for as long as the test wants.
struct GatedShard {
    inner: LocalShard,
    gate: Arc<tokio::sync::Semaphore>,
}

#[async_trait]
impl IndexShard for GatedShard {
    fn name(&self) -> &str {
        "gated"
    }
    async fn generation(&self) -> Result<u64, BackendError> {
        self.inner.generation().await
    }
    async fn documents(&self) -> Result<u64, BackendError> {
        self.inner.documents().await
    }
    async fn prepare(&self, request: &PrepareRequest) -> Result<Prepared, BackendError> {
        self.inner.prepare(request).await
    }
    async fn query(&self, request: &QueryRequest) -> Result<ShardHits, BackendError> {
        let _open = self.gate.acquire().await.expect("the gate stays");
        self.inner.query(request).await
    }
}

// Overload over HTTP: with one search at a time and two waiting, ten at
// once leave seven refused with a 503 while the three admitted are still
// held (so refused at once, not after a wait), and once the shard answers,
// every admitted search is answered whole, and the server goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overloaded_api_refuses_at_once_and_answers_every_search_it_admitted() {
    let dir = tempfile::tempdir().unwrap();
    let (index, docstore) = build(dir.path(), &corpus());
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let shard = GatedShard {
        inner: LocalShard::new("local", ShardSearcher::new(index, 0)),
        gate: gate.clone(),
    };
    let service = SearchService::with_backends(
        vec![Arc::new(shard)],
        Arc::new(LocalDocs::new("local", docstore)),
        SearchConfig {
            searches_at_once: 1,
            searches_waiting: 2,
            // Held at the gate is not late: only the gate decides here.
            shard_timeout: Duration::from_secs(3600),
            ..SearchConfig::default()
        },
    );
    let base = serve(query_api::routes::router(Arc::new(service))).await;
    let client = reqwest::Client::new();
    let ask = |query: &'static str| {
        let (client, url) = (client.clone(), format!("{base}/api/v1/search"));
        async move {
            let response = client.get(url).query(&[("query", query)]).send().await.unwrap();
            let status = response.status().as_u16();
            let body: serde_json::Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
            (query, status, body)
        }
    };
    // Distinct queries: none may be answered from another's computation.
    let queries = [
        "ownership",
        "borrowing",
        "value",
        "hashmap",
        "rules",
        "owner",
        "reference",
        "pointer",
        "key",
        "scope",
    ];
    let mut requests = tokio::task::JoinSet::new();
    for query in queries {
        requests.spawn(ask(query));
    }
    // A hang fails the test instead of holding it: a bound on liveness, not a timing.
    async fn within<F: std::future::Future>(future: F) -> F::Output {
        let bound = Duration::from_secs(120);
        tokio::time::timeout(bound, future)
            .await
            .expect("no answer: the server hangs")
    }

    let mut refused = Vec::new();
    while refused.len() < 7 {
        let (query, status, body) = within(requests.join_next()).await.unwrap().unwrap();
        assert_eq!(status, 503, "{query}: {body}");
        assert_eq!(body["code"], "unavailable", "{query}: {body}");
        assert!(body["error"].as_str().unwrap().contains("retry later"), "{body}");
        refused.push(query);
    }
    // The three admitted are all still held at the gate.
    assert_eq!(requests.len(), 3);
    assert_eq!(gate.available_permits(), 0);
    gate.add_permits(1_000);
    let mut answered = Vec::new();
    while let Some(joined) = within(requests.join_next()).await {
        let (query, status, body) = joined.unwrap();
        assert_eq!(status, 200, "{query}: {body}");
        assert_eq!(body["query"], query);
        answered.push(query);
    }
    answered.extend(refused);
    answered.sort_unstable();
    let mut all = queries.to_vec();
    all.sort_unstable();
    assert_eq!(answered, all, "every request had its answer, one each");
    // After the flood, a search is answered again.
    let (_, status, body) = within(ask("ownership")).await;
    assert_eq!(status, 200);
    assert_eq!(body["results"][0]["page_link"], "http://book.test/ownership.html");
}

async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    base
}

/// A search service over two HTTP shards, one indexing `first` and one
/// `second` (under `dirs`), and an HTTP document service that holds every
/// page, as `trawl docs` does.
async fn two_http_shards(
    dirs: (&std::path::Path, &std::path::Path),
    first: &[PageMessage],
    second: &[PageMessage],
) -> SearchService {
    let (index_a, docs) = build(dirs.0, first);
    let (index_b, _) = build(dirs.1, second);
    for page in second {
        docs.put_page(page).unwrap();
    }
    let shard_a = serve(query_api::shard_search::router(Arc::new(ShardSearcher::new(
        index_a, 0,
    ))))
    .await;
    let shard_b = serve(query_api::shard_search::router(Arc::new(ShardSearcher::new(
        index_b, 1,
    ))))
    .await;
    let docs = serve(query_api::docs::router(docs)).await;
    SearchService::with_backends(
        vec![
            Arc::new(RemoteShard::new(&shard_a)),
            Arc::new(RemoteShard::new(&shard_b)),
        ],
        Arc::new(RemoteDocs::new(&docs)),
        SearchConfig::default(),
    )
}

#[tokio::test]
async fn two_http_shards_score_as_one_index_would() {
    let pages = corpus();
    let (dir_a, dir_b, dir_all) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    // Uneven shards: local statistics would score the same page differently.
    let sharded = two_http_shards((dir_a.path(), dir_b.path()), &pages[..1], &pages[1..]).await;
    let (index_all, docs_all) = build(dir_all.path(), &pages);
    let single = SearchService::new(index_all, docs_all);

    for query in ["ownership", "value", "borrowing rules", "string OR vec"] {
        let split = sharded.search(query, 1, 10).await.unwrap();
        let whole = single.search(query, 1, 10).await.unwrap();
        assert!(!split.partial);
        assert_eq!(split.total, whole.total, "{query}");
        assert_eq!(links(&split), links(&whole), "{query}");
        for (a, b) in split.results.iter().zip(&whole.results) {
            assert!(
                (a.score - b.score).abs() < 1e-4,
                "{query}: {} vs {}",
                a.score,
                b.score
            );
            assert_eq!(a.snippet, b.snippet, "snippets from the document service");
        }
    }
}

// A page with anchored sections: the result links to the section that
// answers (`url#anchor`), names its heading path, and cuts its snippet
// from that section; a page without sections links to itself.
#[tokio::test]
async fn a_result_links_to_the_section_that_answers() {
    use common::message::Section;
    let mut guide = page(
        "http://docs.test/library/stdtypes.html",
        "Built-in Types",
        "Built-in Types. The principal built-in types are numerics and sequences. \
         String Methods. Strings implement the common sequence operations. \
         str.split(sep) Return a list of the words in the string, using sep as the delimiter string.",
    );
    let text = guide.text.clone();
    let at = |needle: &str| text.find(needle).unwrap() as u32;
    guide.sections = vec![
        Section {
            anchor: "built-in-types".into(),
            heading_path: vec!["Built-in Types".into()],
            start: 0,
        },
        Section {
            anchor: "string-methods".into(),
            heading_path: vec!["Built-in Types".into(), "String Methods".into()],
            start: at("String Methods"),
        },
        Section {
            anchor: "str.split".into(),
            heading_path: vec![
                "Built-in Types".into(),
                "String Methods".into(),
                "str.split(sep)".into(),
            ],
            start: at("str.split"),
        },
    ];
    let plain = page(
        "http://docs.test/other.html",
        "Other",
        "Nothing about delimiters here but words.",
    );
    let dir = tempfile::tempdir().unwrap();
    let (index, docstore) = build(dir.path(), &[guide, plain]);
    let service = SearchService::new(index, docstore);

    let answer = service.search("sep delimiter", 1, 10).await.unwrap();
    let top = &answer.results[0];
    assert_eq!(top.link, "http://docs.test/library/stdtypes.html#str.split");
    assert_eq!(top.page_link, "http://docs.test/library/stdtypes.html");
    assert_eq!(
        top.section,
        ["Built-in Types", "String Methods", "str.split(sep)"]
    );
    assert!(top.snippet_text.starts_with("str.split"), "{}", top.snippet_text);
    assert!(!top.snippet_text.contains("principal"), "{}", top.snippet_text);

    // An identifier lands on the section whose anchor names it.
    let answer = service.search("str.split", 1, 10).await.unwrap();
    assert_eq!(
        answer.results[0].link,
        "http://docs.test/library/stdtypes.html#str.split"
    );

    let answer = service.search("principal numerics", 1, 10).await.unwrap();
    assert_eq!(
        answer.results[0].link,
        "http://docs.test/library/stdtypes.html#built-in-types"
    );

    let answer = service.search("nothing delimiters", 1, 10).await.unwrap();
    let other = answer
        .results
        .iter()
        .find(|r| r.page_link.ends_with("other.html"))
        .unwrap();
    assert_eq!(
        other.link, other.page_link,
        "a page without sections links to itself"
    );
    assert!(other.section.is_empty());
}

// A word written as code finds the page that defines it (a section
// anchored by that name) before pages that use its words more often; the
// section is where the result lands.
#[tokio::test]
async fn an_identifier_finds_the_page_that_defines_it() {
    use common::message::Section;
    let mut reference = page(
        "http://docs.test/library/stdtypes.html",
        "Built-in Types",
        "Mapping Types. A dict maps keys to values, and many operations work on mappings of \
         every kind, views and iteration and comparison among them. \
         dict.setdefault(key, default) If key is in the dictionary, return its value.",
    );
    // A whole type's reference is long: the page that defines a name is
    // not held back for its length.
    reference.text = format!(
        "{} {}",
        "filler words about mappings.".repeat(20_000),
        reference.text
    );
    let start = reference.text.find("dict.setdefault").unwrap() as u32;
    reference.sections = vec![Section {
        anchor: "dict.setdefault".into(),
        heading_path: vec!["Built-in Types".into(), "dict.setdefault(key, default)".into()],
        start,
    }];
    // Short, full of the words, and with a section of its own on them.
    let mut tutorial = page(
        "http://docs.test/tutorial/dicts.html",
        "Dict tricks",
        "A dict and setdefault: call dict.setdefault on a dict; setdefault on a dict, dict setdefault.",
    );
    tutorial.sections = vec![Section {
        anchor: "setdefault".into(),
        heading_path: vec!["Dict tricks".into()],
        start: 0,
    }];
    // A name used as code in the text counts, less than a definition.
    let functions = page(
        "http://docs.test/functions-json.html",
        "JSON Functions",
        "jsonb_set(target, path, new_value) returns target with the item at path replaced. \
         The set of jsonb functions.",
    );
    let types = page(
        "http://docs.test/datatype-json.html",
        "JSON Types",
        "The jsonb type stores a set of values; jsonb set jsonb set jsonb set.",
    );
    let dir = tempfile::tempdir().unwrap();
    let (index, docstore) = build(dir.path(), &[reference, tutorial, functions, types]);
    let service = SearchService::new(index, docstore);

    let answer = service.search("dict.setdefault", 1, 10).await.unwrap();
    assert_eq!(
        links(&answer)[0],
        "http://docs.test/library/stdtypes.html#dict.setdefault",
        "{:?}",
        links(&answer)
    );
    let answer = service.search("jsonb_set", 1, 10).await.unwrap();
    assert_eq!(
        links(&answer)[0],
        "http://docs.test/functions-json.html",
        "{:?}",
        links(&answer)
    );
    // A typo inside a name is corrected part by part, its dot kept.
    let answer = service.search("dict.setdefualt", 1, 10).await.unwrap();
    assert_eq!(
        answer.suggestion.as_deref(),
        Some("dict.setdefault"),
        "{answer:?}"
    );
}

/// A section of `text` under one heading, starting where `at` does.
fn section_at(anchor: &str, heading: &str, text: &str, at: &str) -> common::message::Section {
    common::message::Section {
        anchor: anchor.into(),
        heading_path: vec![heading.into()],
        start: text.find(at).unwrap() as u32,
    }
}

// A name finds the page named for it as a whole before another page's
// member of that name, though that page is long: javadoc's `Files` class
// against an enum's constant `FILES`, its nested `Map.Entry` against
// `Map`'s method `entry()`. (With weights::PAGE_NAME and TITLE_AS_TYPED at
// 0, the enum's constant comes first for `Files`; without the page-name
// bonus for a dotted name written as code, `Map` for `Map.Entry getKey`.)
#[tokio::test]
async fn a_name_finds_the_page_named_for_it_before_a_member_of_that_name() {
    // The class: a long reference, about files throughout.
    let text = format!(
        "This class consists of static methods that operate on files and directories. {}",
        "copy move delete walk read write open the path of a directory. ".repeat(1_000)
    );
    let mut files = page(
        "http://docs.test/java/nio/file/Files.html",
        "Files (Java SE 17 & JDK 17)",
        &text,
    );
    files.sections = vec![section_at(
        "class-description",
        "Class Files",
        &text,
        "This class",
    )];
    // A short enum page with a constant named FILES.
    let text = "Enum Option. FILES: the option that lists files. FILES files files.";
    let mut option = page(
        "http://docs.test/java/util/Option.html",
        "Option (Java SE 17 & JDK 17)",
        text,
    );
    option.sections = vec![section_at("FILES", "FILES", text, "FILES:")];
    // `Map` (a method `entry()`) and its nested `Map.Entry` (`getKey()`).
    let text = "An object that maps keys to values. entry(K, V) returns an entry, an Entry with key and value; \
                getKey of an Entry gives the key of the map entry.";
    let mut map = page(
        "http://docs.test/java/util/Map.html",
        "Map (Java SE 17 & JDK 17)",
        text,
    );
    map.sections = vec![section_at("entry(K,V)", "entry", text, "entry(K, V)")];
    let text = "A map entry (key-value pair). getKey() returns the key.";
    let mut entry = page(
        "http://docs.test/java/util/Map.Entry.html",
        "Map.Entry (Java SE 17 & JDK 17)",
        text,
    );
    entry.sections = vec![section_at("getKey()", "getKey", text, "getKey()")];
    let dir = tempfile::tempdir().unwrap();
    let (index, docstore) = build(dir.path(), &[files, option, map, entry]);
    let service = SearchService::new(index, docstore);

    let answer = service.search("Files", 1, 10).await.unwrap();
    assert!(
        links(&answer)[0].starts_with("http://docs.test/java/nio/file/Files.html"),
        "{:?}",
        links(&answer)
    );
    let answer = service.search("Map.Entry getKey", 1, 10).await.unwrap();
    assert_eq!(
        links(&answer)[0],
        "http://docs.test/java/util/Map.Entry.html#getKey()",
        "{:?}",
        links(&answer)
    );
}

// A name written as code finds the page named for it before a short page
// whose section defines the same name: libstdc++'s class page
// `std::unordered_map` (a long title, a long text) against the header's
// page "unordered_map File Reference", whose typedef `std::pmr::unordered_map`
// is a section of that name in a few words. (With weights::CODE_PAGE_NAME
// at PAGE_NAME's 20, the header's page comes first, 154 points to 142, as
// it did on the evaluation's libstdc++ index.)
#[tokio::test]
async fn a_name_written_as_code_finds_its_page_before_another_pages_section_of_that_name() {
    let text = format!(
        "Detailed Description. A standard container composed of unique keys (containing at most one of \
         each key value) that associates values of another type with the keys. {} \
         unordered_map() Default constructor creates no elements. {} {}",
        "Iterators, buckets, hash functions, equality predicates and allocators of the container. "
            .repeat(400),
        "Inserts, erases, finds and counts the elements of the container by their keys. ".repeat(400),
        "unordered_map(size_type n) constructs an empty unordered_map with n buckets. ".repeat(30),
    );
    let mut class = page(
        "http://docs.test/user/a08962.html",
        "libstdc++: std::unordered_map< _Key, _Tp, _Hash, _Pred, _Alloc > Class Template Reference",
        &text,
    );
    class.sections = vec![
        section_at("details", "Detailed Description", &text, "Detailed Description"),
        section_at(
            "a94bb8e6f2",
            "\u{25c6} unordered_map() [1/3]",
            &text,
            "unordered_map() Default",
        ),
    ];
    let text = "Namespaces std std::pmr. Typedefs unordered_map. \u{25c6} unordered_map template using \
                std::pmr::unordered_map = typedef std::unordered_map<_Key, _Tp, _Hash, _Pred, \
                polymorphic_allocator<pair<const _Key, _Tp>>>";
    let mut header = page(
        "http://docs.test/user/a00230.html",
        "libstdc++: unordered_map File Reference",
        text,
    );
    header.sections = vec![section_at(
        "a3e53a4b63",
        "\u{25c6} unordered_map",
        text,
        "\u{25c6} unordered_map template",
    )];
    let dir = tempfile::tempdir().unwrap();
    // Other pages, which make the name a rare word, as it is in a library.
    let mut pages: Vec<PageMessage> = (0..40)
        .map(|at| {
            page(
                &format!("http://docs.test/user/b{at}.html"),
                &format!("libstdc++: std::container{at} Class Reference"),
                "A container of elements, its iterators and its allocator.",
            )
        })
        .collect();
    pages.extend([class, header]);
    let (index, docstore) = build(dir.path(), &pages);
    let service = SearchService::new(index, docstore);

    let answer = service.search("unordered_map", 1, 10).await.unwrap();
    assert!(
        links(&answer)[0].starts_with("http://docs.test/user/a08962.html"),
        "{:?}",
        links(&answer)
    );
}

// A query typed as a page's title finds that page before one whose title
// differs only in a word's ending, which the stemmed fields see as the same
// (rustdoc's "Documentation tests" against Rust by Example's
// "Documentation testing"), though the other page has the words more often.
// (Without the title's key, "Documentation testing" comes first.)
#[tokio::test]
async fn a_query_typed_as_a_title_finds_the_page_of_that_title() {
    let mut rustdoc = page(
        "http://docs.test/rustdoc/documentation-tests.html",
        "Documentation tests - The rustdoc book",
        "rustdoc supports executing your documentation examples as tests. Code blocks in \
         comments are compiled and run; this page is a long one about many other things too.",
    );
    rustdoc.headings = vec!["Documentation tests".into()];
    let mut by_example = page(
        "http://docs.test/rust-by-example/testing/doc_testing.html",
        "Documentation testing - Rust By Example",
        "Documentation testing: documentation comments are tests, tested documentation.",
    );
    by_example.headings = vec!["Documentation testing".into()];
    let dir = tempfile::tempdir().unwrap();
    let (index, docstore) = build(dir.path(), &[rustdoc, by_example]);
    let service = SearchService::new(index, docstore);

    for query in ["Documentation tests", "documentation TESTS"] {
        let answer = service.search(query, 1, 10).await.unwrap();
        assert_eq!(
            links(&answer)[0],
            "http://docs.test/rustdoc/documentation-tests.html",
            "{query}: {:?}",
            links(&answer)
        );
    }
    let answer = service.search("Documentation testing", 1, 10).await.unwrap();
    assert_eq!(
        links(&answer)[0],
        "http://docs.test/rust-by-example/testing/doc_testing.html",
        "{:?}",
        links(&answer)
    );
}

// A long page whose one short section answers a question (a method's
// description on its type's page) comes before a shorter page that has the
// same words scattered over it: a page is scored by its best section too
// (without, the shorter page ranks first: checked by setting
// sections::SECTION_WEIGHT to 0).
#[tokio::test]
async fn a_page_is_scored_by_its_best_section_too() {
    use common::message::Section;
    let mut files = page(
        "http://docs.test/api/Helpers.html",
        "Paths and streams (Java Platform)",
        "This class consists exclusively of static methods that operate on files and directories.",
    );
    let mut sections = Vec::new();
    let mut add_section = |anchor: &str, text: &str| {
        sections.push(Section {
            anchor: anchor.into(),
            heading_path: vec![anchor.into()],
            start: files.text.len() as u32,
        });
        files.text.push_str(&format!(" {anchor} {text}"));
    };
    let method = "Opens or creates a path, checks its attributes, copies or moves it and returns a \
                  stream of its entries as the options say.";
    for i in 0..30 {
        add_section(&format!("method{i}"), method);
    }
    // The question's words together in one section, in the middle of the
    // page. (The page-level proximity bonus sees them too, but not enough
    // to make up for the page's length.)
    add_section(
        "readAllLines",
        "Reads a file's lines, all of them, into a list. Bytes are decoded.",
    );
    for i in 30..60 {
        add_section(&format!("method{i}"), method);
    }
    files.sections = sections;
    // A fifth as long, every word of the question on it twice, none of
    // them together.
    let scattered = page(
        "http://docs.test/guide/io.html",
        "Input and output",
        &format!(
            "A list {filler} a file {filler} a line {filler} read {filler} all. \
             Again: list {filler} file {filler} lines {filler} reading {filler} all, into it.",
            filler = "and then the guide explains streams, buffers and encodings. ".repeat(3)
        ),
    );
    let dir = tempfile::tempdir().unwrap();
    let mut pages = vec![files, scattered];
    // Other pages, so that the question's words are rare ones.
    for other in 0..8 {
        pages.push(page(
            &format!("http://docs.test/other{other}.html"),
            "Other",
            "Threads, sockets and timers: how the runtime schedules its tasks.",
        ));
    }
    let service = service_over(dir.path(), &pages);

    let answer = service
        .search("read all lines of a file into a list", 1, 10)
        .await
        .unwrap();
    assert_eq!(
        links(&answer)[0],
        "http://docs.test/api/Helpers.html#readAllLines",
        "{:?}",
        answer
            .results
            .iter()
            .map(|r| (&r.link, r.score))
            .collect::<Vec<_>>()
    );
}

// Section scores are added to a shard's best pages, always the same
// number of them: paging through a query gives the results of one long
// page, in the same order, without repeats or gaps.
#[tokio::test]
async fn pages_of_results_follow_one_order_with_section_scores() {
    use common::message::Section;
    let mut pages = Vec::new();
    for i in 0..80usize {
        // Longer and longer pages: lower and lower page scores. Past the
        // fiftieth, the words sit in a short section of their own, which
        // would lift such a page if it were rescored.
        let filler = "streams buffers encodings channels. ".repeat(10 + i);
        let mut page = page(
            &format!("http://docs.test/p{i:02}.html"),
            &format!("Page {i}"),
            &format!("{filler} alpha beta {filler}"),
        );
        if i >= 50 {
            let start = page.text.find("alpha").unwrap();
            page.sections = vec![
                Section {
                    anchor: "words".into(),
                    heading_path: vec!["Words".into()],
                    start: start as u32,
                },
                Section {
                    anchor: "rest".into(),
                    heading_path: vec!["Rest".into()],
                    start: (start + "alpha beta".len()) as u32,
                },
            ];
        }
        pages.push(page);
    }
    let dir = tempfile::tempdir().unwrap();
    let service = service_over(dir.path(), &pages);

    // Two pages of 40 and eight of 10: the same 80 results.
    let mut whole = Vec::new();
    for number in 1..=2 {
        let answer = service.search("alpha beta", number, 40).await.unwrap();
        whole.extend(answer.results.iter().map(|r| r.page_link.clone()));
    }
    assert_eq!(whole.len(), 80);
    let mut paged = Vec::new();
    for number in 1..=8 {
        let answer = service.search("alpha beta", number, 10).await.unwrap();
        paged.extend(answer.results.iter().map(|r| r.page_link.clone()));
    }
    assert_eq!(paged, whole);
}

// The same page at two URLs (same title, same text) is one result; the
// other address is listed under it.
#[tokio::test]
async fn the_same_page_at_two_urls_is_one_result() {
    let text = "HashMap: a hash map implemented with quadratic probing and SIMD lookup.";
    let mut first = page("http://std.test/collections/struct.HashMap.html", "HashMap", text);
    let mut second = page(
        "http://std.test/collections/hash_map/struct.HashMap.html",
        "HashMap",
        text,
    );
    let other = page(
        "http://std.test/other.html",
        "Other",
        "A hash map, and quadratic probing.",
    );
    for p in [&mut first, &mut second] {
        p.simhash = common::signature::text_simhash(&p.text);
    }
    let dir = tempfile::tempdir().unwrap();
    let (index, docstore) = build(dir.path(), &[first, second, other]);
    let service = SearchService::new(index, docstore);

    let answer = service.search("hash map quadratic probing", 1, 10).await.unwrap();
    let hashmaps: Vec<_> = answer.results.iter().filter(|r| r.title == "HashMap").collect();
    assert_eq!(hashmaps.len(), 1, "{:?}", links(&answer));
    assert_eq!(hashmaps[0].also_at.len(), 1);
    assert!(hashmaps[0].also_at[0].contains("struct.HashMap.html"));
    assert_ne!(hashmaps[0].also_at[0], hashmaps[0].page_link);
    assert!(
        answer
            .results
            .iter()
            .any(|r| r.title == "Other" && r.also_at.is_empty())
    );
}

// An error message that opens with its exception's name finds the page
// named for it, though the rest of the message is on no such page and
// the query needs half its words ("No such file or directory" is the
// operating system's text, not the class's). (Without `named_by_query`,
// the class's page has one word of five and is no match at all.)
#[tokio::test]
async fn a_message_finds_the_page_named_for_its_exception_without_its_other_words() {
    let exception = page(
        "http://docs.test/api/java.base/java/io/FileNotFoundException.html",
        "FileNotFoundException (Java SE 17 & JDK 17)",
        "Signals that an attempt to open the file denoted by a specified pathname has failed.",
    );
    let errno = page(
        "http://docs.test/api/errno.html",
        "Error numbers",
        "ENOENT: No such file or directory. A file or a directory that the path names does not \
         exist: no such entry.",
    );
    let dir = tempfile::tempdir().unwrap();
    let (index, docstore) = build(dir.path(), &[exception, errno]);
    let service = SearchService::new(index, docstore);

    let answer = service
        .search("java.io.FileNotFoundException (No such file or directory)", 1, 10)
        .await
        .unwrap();
    assert_eq!(
        links(&answer),
        [
            "http://docs.test/api/java.base/java/io/FileNotFoundException.html",
            "http://docs.test/api/errno.html"
        ]
    );
}

// Doxygen titles a class's page "PROJECT: NAME Class Reference": the page is
// named for the class, and its namespace qualifies it, so the name typed
// alone or qualified, or a message that names it, finds the class before the
// header's page, which names it more often. (With `doxygen_compound`
// returning nothing, the header's page comes first for the name, qualified
// or not, and the message finds nothing.)
#[tokio::test]
async fn a_doxygen_class_page_is_found_by_its_name_qualified_or_not() {
    let class = page(
        "http://docs.test/user/a08027.html",
        "libstdc++: std::system_error Class Reference",
        "An exception type that includes an error_code value. Typically used to report \
         errors from the operating system and other low-level APIs.",
    );
    let header = page(
        "http://docs.test/user/a00113.html",
        "libstdc++: system_error File Reference",
        "Classes: class std::error_category, struct std::error_code, class \
         std::system_error. The system_error header declares system_error, error_code \
         and the system_error category.",
    );
    let dir = tempfile::tempdir().unwrap();
    let (index, docstore) = build(dir.path(), &[class, header]);
    let service = SearchService::new(index, docstore);

    for query in [
        "system_error",
        "std::system_error",
        "terminate called after throwing an instance of 'std::system_error'",
    ] {
        let answer = service.search(query, 1, 10).await.unwrap();
        assert_eq!(
            links(&answer).first().copied(),
            Some("http://docs.test/user/a08027.html"),
            "{query}"
        );
    }
}

// A message that opens with its exception's name finds the class's page
// before the pages that list the class beside the message's words (a
// group's page, its header's): the class's page is named by the message
// and scores by the words of it that it has, its name's above all. (When a
// page matched by its name alone scored only by the name's bonuses, the
// two lists came first for "Promise already satisfied"; "Broken promise",
// fewer of the lists' words, is the case that held before too.)
#[tokio::test]
async fn a_message_finds_its_exceptions_class_before_pages_that_list_the_class_and_the_words() {
    let class = page(
        "http://docs.test/user/a02526.html",
        "libstdc++: std::future_error Class Reference",
        "Exception type thrown by futures. std::future_error is derived from logic_error; \
         its code() says which error of the shared state it reports.",
    );
    let listing = |url: &str, title: &str| {
        let text = "Classes: class std::future_error, exception type thrown by futures. \
                    Enumerations: enum class future_errc { future_already_retrieved, \
                    promise_already_satisfied, no_state, broken_promise }. Promise already \
                    satisfied: the value of a promise is set once, and a promise already \
                    satisfied is not set again. Broken promise: the promise was destroyed first, \
                    a broken promise.";
        let mut list = page(url, title, text);
        list.sections = vec![
            section_at("a1", "future_error", text, "class std::future_error"),
            section_at("enum-members", "Enumerations", text, "Enumerations"),
        ];
        list
    };
    let mut pages = vec![
        class,
        listing("http://docs.test/user/a01576.html", "libstdc++: Futures"),
        listing(
            "http://docs.test/user/a00101.html",
            "libstdc++: future File Reference",
        ),
    ];
    // Pages without the message's words, so that its words are rare.
    for i in 0..60 {
        pages.push(page(
            &format!("http://docs.test/user/other{i}.html"),
            &format!("libstdc++: std::other{i} Class Reference"),
            "A class of the library with members of its own, documented in the reference.",
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    let (index, docstore) = build(dir.path(), &pages);
    let service = SearchService::new(index, docstore);

    for query in [
        "std::future_error: Promise already satisfied",
        "std::future_error: Broken promise",
    ] {
        let answer = service.search(query, 1, 10).await.unwrap();
        let scored: Vec<_> = answer
            .results
            .iter()
            .map(|r| (r.link.as_str(), r.score))
            .collect();
        assert_eq!(
            links(&answer).first().copied(),
            Some("http://docs.test/user/a02526.html"),
            "{query}: {scored:?}"
        );
    }
}

// A member named by its heading (Doxygen's "◆ push_back()", under a hashed
// anchor) is qualified by its page's name, so `std::vector::push_back` finds
// the vector's member before the deque's, whose text names the vector and
// `push_back` more often. (Without the qualified keys, the deque's comes
// first.)
#[tokio::test]
async fn a_member_named_by_its_heading_is_found_qualified_by_its_class() {
    let vector = doxygen_member_page(
        "http://docs.test/user/a08898.html",
        "libstdc++: std::vector< _Tp, _Alloc > Class Template Reference",
        "A standard container which offers fixed time access to individual elements in any \
         order. ◆ push_back() Add data to the end.",
        "a3ff0a8a9f2dc4e1c0a4b3c2d1e0f9a8b",
    );
    let deque = doxygen_member_page(
        "http://docs.test/user/a08218.html",
        "libstdc++: std::deque< _Tp, _Alloc > Class Template Reference",
        "A standard container using fixed-size memory allocation. Unlike a std::vector, a \
         deque grows at both ends. ◆ push_back() Add data to the end, as push_back does on \
         a std::vector: vector push_back, vector push_back.",
        "a7c1e2d3f4a5b6c7d8e9f0a1b2c3d4e5f",
    );
    let dir = tempfile::tempdir().unwrap();
    let (index, docstore) = build(dir.path(), &[vector, deque]);
    let service = SearchService::new(index, docstore);

    let answer = service.search("std::vector::push_back", 1, 10).await.unwrap();
    assert_eq!(
        links(&answer).first().copied(),
        Some("http://docs.test/user/a08898.html#a3ff0a8a9f2dc4e1c0a4b3c2d1e0f9a8b")
    );
}

// A member Doxygen lists only in its class's summary table, in bold, without
// documentation of its own (`std::thread::join`), is a section at its row
// (the parser's `a_member_listed_only_in_a_summary_is_found_at_its_table`),
// qualified by its class like any member: its name finds the class's page at
// the table before another class's documented member of that name whose
// text names the first class again and again. (Without the table's member,
// `std::jthread`'s page came first on libstdc++'s docs.)
#[tokio::test]
async fn a_member_listed_only_in_a_summary_table_is_found_by_its_qualified_name() {
    use common::message::Section;
    let text = "Public Member Functions void join () bool joinable () const noexcept \
                Detailed Description Manages a thread of execution.";
    let mut thread = page(
        "http://docs.test/user/a08054.html",
        "libstdc++: std::thread Class Reference",
        text,
    );
    let join = text.find("join ()").unwrap() as u32;
    thread.sections = vec![
        Section {
            anchor: "pub-methods".into(),
            heading_path: vec!["Public Member Functions".into()],
            start: 0,
        },
        Section {
            anchor: "a7e2fe0365a427818d2e5f6ee4c4d85da".into(),
            heading_path: vec!["Public Member Functions".into(), "join()".into()],
            start: join,
        },
    ];
    let jthread = doxygen_member_page(
        "http://docs.test/user/a03602.html",
        "libstdc++: std::jthread Class Reference",
        "A thread that can be requested to stop, a std::thread that joins: each std::thread \
         operation of a std::thread, as std::thread does. ◆ join() Waits for the thread, as \
         std::thread join does.",
        "a7e0867dd541123418989fae7464ca688",
    );
    let dir = tempfile::tempdir().unwrap();
    let (index, docstore) = build(dir.path(), &[thread, jthread]);
    let service = SearchService::new(index, docstore);

    let answer = service.search("std::thread::join", 1, 10).await.unwrap();
    assert_eq!(
        links(&answer).first().copied(),
        Some("http://docs.test/user/a08054.html#a7e2fe0365a427818d2e5f6ee4c4d85da")
    );
}

// Debug mode's `std::__debug::vector` documents the same members as
// `std::vector`; a name typed without that scope, bare or qualified, means
// the public vector's, even where the debug page's text names it more often
// (`emplace_back` was fourth on libstdc++'s docs, after debug mode's pages).
// Typed with its scope, the debug version is found. A name only the
// implementation's scope defines (`__gnu_cxx::rope`, a GNU extension) keeps
// its page first, before a manual's page titled so that does not define
// it. (With the debug page an ordinary page, it comes first for
// `emplace_back`; with every page of a reserved scope lowered, the
// manual's page comes first for `rope`: both seen.)
#[tokio::test]
async fn a_name_in_a_scope_reserved_for_the_implementation_yields_to_the_public_one() {
    let public = doxygen_member_page(
        "http://docs.test/user/a08898.html",
        "libstdc++: std::vector< _Tp, _Alloc > Class Template Reference",
        "A standard container which offers fixed time access to individual elements in any \
         order. ◆ emplace_back() Constructs an element in place at the end.",
        "a3ff0a8a9f2dc4e1c0a4b3c2d1e0f9a8b",
    );
    let debug = doxygen_member_page(
        "http://docs.test/user/a09874.html",
        "libstdc++: std::__debug::vector< _Tp, _Allocator > Class Template Reference",
        "Class std::vector with safety and checking: a vector that checks each vector \
         operation. ◆ emplace_back() Constructs an element in place at the end of the \
         vector, as vector emplace_back does: vector emplace_back, vector emplace_back.",
        "a5c9e2d3f4a5b6c7d8e9f0a1b2c3d4e5f",
    );
    // A class page of many members: long, as long pages lose some score.
    let members = "◆ append() Adds characters at the end of the string. ".repeat(1_000);
    let rope = doxygen_member_page(
        "http://docs.test/user/a12394.html",
        "libstdc++: __gnu_cxx::rope< _CharT, _Alloc > Class Template Reference",
        &format!(
            "A string of characters held as a tree of pieces, for long strings: \
             concatenation and substrings take logarithmic time. {members}"
        ),
        "a2b4c6d8e0f1a3b5c7d9e1f3a5b7c9d1e",
    );
    let rope_chapter = page(
        "http://docs.test/manual/ext_rope.html",
        "rope",
        "The rope: a rope is a string as a tree. A rope of char is a crope. Rope \
         iterators walk a rope; rope concatenation makes a rope of two ropes.",
    );
    let dir = tempfile::tempdir().unwrap();
    let pages = [public, debug, rope, rope_chapter];
    let (index, docstore) = build(&dir.path().join("one"), &pages);
    let service = SearchService::new(index, docstore.clone());
    // The same pages over two shards, the public vector on one and debug
    // mode's on the other: whether a public page defines the name is
    // summed over the shards with their statistics.
    let (a, _) = build(&dir.path().join("a"), &pages[..1]);
    let (b, _) = build(&dir.path().join("b"), &pages[1..]);
    let shards: Vec<Arc<dyn IndexShard>> = vec![
        Arc::new(LocalShard::new("a", ShardSearcher::new(a, 0))),
        Arc::new(LocalShard::new("b", ShardSearcher::new(b, 1))),
    ];
    let two_shards = SearchService::with_backends(
        shards,
        Arc::new(LocalDocs::new("docs", docstore)),
        SearchConfig::default(),
    );

    for (query, first) in [
        ("emplace_back", "http://docs.test/user/a08898.html"),
        ("vector::emplace_back", "http://docs.test/user/a08898.html"),
        ("std::vector::emplace_back", "http://docs.test/user/a08898.html"),
        ("vector", "http://docs.test/user/a08898.html"),
        (
            "std::__debug::vector::emplace_back",
            "http://docs.test/user/a09874.html",
        ),
        ("rope", "http://docs.test/user/a12394.html"),
    ] {
        for (shards, service) in [("one shard", &service), ("two shards", &two_shards)] {
            let answer = service.search(query, 1, 10).await.unwrap();
            assert_eq!(
                links(&answer).first().map(|link| link.split('#').next().unwrap()),
                Some(first),
                "{query} on {shards}"
            );
        }
    }
}

/// A Doxygen page with one member section, headed by the member's name as
/// Doxygen writes it ("◆ push_back()", at the text's `◆`), under a hashed
/// anchor.
fn doxygen_member_page(url: &str, title: &str, text: &str, anchor: &str) -> PageMessage {
    use common::message::Section;
    let mut member_page = page(url, title, text);
    let start = text.find('◆').unwrap();
    let heading = text[start..].split(')').next().unwrap().to_string() + ")";
    member_page.sections = vec![Section {
        anchor: anchor.into(),
        heading_path: vec![heading],
        start: start as u32,
    }];
    member_page
}

// A partial specialization's page (Doxygen's "std::unique_ptr< _Tp[], _Dp >
// Class Template Reference") is named for its template, but its members are
// not qualified by that name: `unique_ptr::reset` is the template's own
// member, even where the array version's page names `unique_ptr` and
// `reset` more often. (With the array version's members qualified, it comes
// first.)
#[tokio::test]
async fn a_partial_specializations_member_does_not_take_the_templates_qualified_name() {
    let primary = doxygen_member_page(
        "http://docs.test/user/a08942.html",
        "libstdc++: std::unique_ptr< _Tp, _Dp > Class Template Reference",
        "A move-only smart pointer that manages unique ownership of a resource. \
         ◆ reset() Replace the stored pointer.",
        "a8e5b2c4d6f8a0b1c3d5e7f9a1b3c5d7e",
    );
    let array = doxygen_member_page(
        "http://docs.test/user/a08946.html",
        "libstdc++: std::unique_ptr< _Tp[], _Dp > Class Template Reference",
        "A move-only smart pointer that manages unique ownership of an array: the \
         unique_ptr for arrays. ◆ reset() Replace the stored pointer, as unique_ptr reset \
         does: unique_ptr reset, unique_ptr reset.",
        "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e",
    );
    let dir = tempfile::tempdir().unwrap();
    let (index, docstore) = build(dir.path(), &[primary, array]);
    let service = SearchService::new(index, docstore);

    let answer = service.search("unique_ptr::reset", 1, 10).await.unwrap();
    assert_eq!(
        links(&answer).first().copied(),
        Some("http://docs.test/user/a08942.html#a8e5b2c4d6f8a0b1c3d5e7f9a1b3c5d7e")
    );
}

// A message pasted whole finds the page that quotes it as a message (after
// `error:` in an example) before a page that has the same words as prose,
// more often and in its title. A message that opens with its name
// ("AttributeError: ...") still finds the page that defines the name first,
// before a page that shows the message in an example. (With
// `weights::QUOTED_MESSAGE` at 0, the chapter comes first; with the name
// read as a severity, `error_messages::query_message` asking for the words
// after it, the example comes first.)
#[tokio::test]
async fn a_message_finds_the_page_that_quotes_it_as_a_message() {
    use common::message::Section;
    let explained = page(
        "http://docs.test/error_codes/E0597.html",
        "E0597 - Error codes index",
        "A value was dropped while it was still borrowed. Erroneous code example: let r; \
         { let y = 0; r = &y; // error: `y` does not live long enough } println!(\"{}\", r);",
    );
    let chapter = page(
        "http://docs.test/book/lifetimes.html",
        "Values that do not live long enough",
        "A reference must not outlive its value: a value that does not live long enough for \
         its reference is a bug. When a value does not live long enough, the reference \
         dangles; make the value live long enough, or the reference shorter.",
    );
    let mut defined = page(
        "http://docs.test/library/exceptions.html",
        "Built-in Exceptions",
        "Concrete exceptions. exception AttributeError Raised when an attribute reference or \
         assignment fails, as the object has no attribute of that name. exception EOFError \
         Raised when input() hits an end of file.",
    );
    defined.sections = vec![Section {
        anchor: "AttributeError".into(),
        heading_path: vec!["Built-in Exceptions".into(), "exception AttributeError".into()],
        start: defined.text.find("exception AttributeError").unwrap() as u32,
    }];
    let example = page(
        "http://docs.test/library/re.html",
        "re - Regular expression operations",
        "A group that is not in the pattern: >>> m.missing Traceback (most recent call last): \
         AttributeError: 're.Match' object has no attribute 'missing'",
    );
    let dir = tempfile::tempdir().unwrap();
    let (index, docstore) = build(dir.path(), &[explained, chapter, defined, example]);
    let service = SearchService::new(index, docstore);

    let answer = service.search("does not live long enough", 1, 10).await.unwrap();
    assert_eq!(
        links(&answer)[0],
        "http://docs.test/error_codes/E0597.html",
        "{:?}",
        links(&answer)
    );
    let answer = service
        .search("AttributeError: object has no attribute", 1, 10)
        .await
        .unwrap();
    assert_eq!(
        links(&answer)[0],
        "http://docs.test/library/exceptions.html#AttributeError",
        "{:?}",
        links(&answer)
    );
}

// A message pasted with the user's own value in it finds the page that
// quotes it with another value: PostgreSQL's "Authentication Problems"
// shows `password authentication failed for user "andym"`, the user pastes
// it with "postgres". The page about passwords, whose title and text have
// the words more often, came first while the whole message had to be
// quoted (without `rank::near_form` it does). A page that quotes the
// message as typed still comes before the one with another value, and a
// word other than the value different is another message.
#[tokio::test]
async fn a_message_pasted_with_its_own_value_finds_the_page_that_quotes_it_with_another() {
    let problems = page(
        "http://pg.test/client-authentication-problems.html",
        "Authentication Problems",
        "Authentication failures generally manifest themselves through error messages like \
         the following: FATAL: no pg_hba.conf entry for host \"123.123.123.123\", user \"andym\" \
         This is what you are most likely to get. FATAL: password authentication failed for \
         user \"andym\" Messages like this indicate that you contacted the server, but not \
         until you pass the authentication method.",
    );
    let password = page(
        "http://pg.test/auth-password.html",
        "Password Authentication",
        "There are several password-based authentication methods. The password of a user is \
         checked at authentication; when the password is wrong the authentication failed and \
         the user is refused. Password authentication for a user who has no password always \
         fails. Authentication with a password is sent in clear text for the password method.",
    );
    let dir = tempfile::tempdir().unwrap();
    let service = service_over(dir.path(), &[problems, password]);
    for query in [
        "password authentication failed for user \"postgres\"",
        "FATAL: password authentication failed for user \"postgres\"",
    ] {
        let answer = service.search(query, 1, 10).await.unwrap();
        assert_eq!(
            links(&answer)[0],
            "http://pg.test/client-authentication-problems.html",
            "{query}: {:?}",
            links(&answer)
        );
    }
    let quoted_as_typed = page(
        "http://pg.test/faq.html",
        "Connection FAQ",
        "When psql says FATAL: password authentication failed for user \"postgres\" check the \
         password.",
    );
    let dir = tempfile::tempdir().unwrap();
    let pages = [
        page(
            "http://pg.test/client-authentication-problems.html",
            "Authentication Problems",
            "Error messages like the following: FATAL: password authentication failed for user \
             \"andym\" Messages like this indicate that you contacted the server.",
        ),
        quoted_as_typed,
    ];
    let service = service_over(dir.path(), &pages);
    let answer = service
        .search("password authentication failed for user \"postgres\"", 1, 10)
        .await
        .unwrap();
    assert_eq!(
        links(&answer),
        [
            "http://pg.test/faq.html",
            "http://pg.test/client-authentication-problems.html"
        ]
    );
    // `role` where the page has `user`: another message, and the page about
    // passwords comes first.
    let dir = tempfile::tempdir().unwrap();
    let service = service_over(
        dir.path(),
        &[
            page(
                "http://pg.test/client-authentication-problems.html",
                "Authentication Problems",
                "Error messages like the following: FATAL: password authentication failed for \
                 user \"andym\" Messages like this indicate that you contacted the server.",
            ),
            page(
                "http://pg.test/auth-password.html",
                "Password Authentication",
                "The password of a user is checked at authentication; when the password is wrong \
                 the authentication failed and the user is refused. Password authentication for \
                 a role without a password always fails.",
            ),
        ],
    );
    let answer = service
        .search("password authentication failed for role \"admin\"", 1, 10)
        .await
        .unwrap();
    assert_eq!(
        links(&answer)[0],
        "http://pg.test/auth-password.html",
        "{:?}",
        links(&answer)
    );
}

// A compiler's message pasted without its code finds the page that explains
// the code, though that page does not say the message: the book quotes it
// with its code (rustc's `error[E0425]: cannot find value ...`), the error
// index's page is titled by the code. The same over two HTTP shards with
// the two pages in different shards. A code that titles no page changes
// nothing. (Without `put_code_page_first`, the error index's page is not
// among the results at all.)
#[tokio::test]
async fn a_message_pasted_without_its_code_finds_the_page_that_explains_the_code() {
    let explained = page(
        "http://errors.test/error_codes/E0425.html",
        "E0425 - Error codes index",
        "An unresolved name was used. Erroneous code example: let x = unknown_variable; \
         Please verify that the name was not misspelled.",
    );
    let chapter = page(
        "http://docs.test/book/scope.html",
        "Variables and Scope",
        "Using y outside its block fails to compile: $ cargo run error[E0425]: cannot find \
         value `y` in this scope --> src/main.rs:5:20 The value of y is not in scope there.",
    );
    let prose = page(
        "http://docs.test/reference/names.html",
        "Names",
        "A name resolves to a value in this scope or in an outer scope. When the compiler \
         cannot find a value in this scope, it looks in the enclosing scope; a value it \
         cannot find in this scope or any other is an error.",
    );
    let uncoded = page(
        "http://docs.test/book/closures.html",
        "Closures",
        "A closure that outlives its borrow: error[E0373]: closure may outlive the current \
         function, but it borrows `x`, which is owned by the current function",
    );
    let pages = [explained, chapter, prose, uncoded];
    let dir = tempfile::tempdir().unwrap();
    let service = service_over(dir.path(), &pages);
    let message = "cannot find value in this scope";
    let answer = service.search(message, 1, 10).await.unwrap();
    assert_eq!(
        links(&answer)[0],
        "http://errors.test/error_codes/E0425.html",
        "{:?}",
        links(&answer)
    );
    assert_eq!(answer.total, 3, "the chapter, the prose, and the code's page");
    // Pasted with the user's own name where the chapter has `y`.
    let own_value = service
        .search("cannot find value `running_total` in this scope", 1, 10)
        .await
        .unwrap();
    assert_eq!(
        links(&own_value)[..2],
        [
            "http://errors.test/error_codes/E0425.html",
            "http://docs.test/book/scope.html"
        ]
    );
    // Page by page, the same order: each page once; also with `site:`,
    // where a page of one result fetches no more than it shows.
    for query in [
        message.to_string(),
        format!("{message} site:docs.test site:errors.test"),
    ] {
        let whole = service.search(&query, 1, 10).await.unwrap();
        let mut paged = Vec::new();
        for number in 1..=3 {
            let one = service.search(&query, number, 1).await.unwrap();
            paged.extend(links(&one).iter().map(|link| link.to_string()));
        }
        assert_eq!(paged, links(&whole), "{query}");
        assert_eq!(links(&whole), links(&answer), "{query}");
    }
    // `site:` holds for the code's page too.
    let answer = service
        .search(&format!("{message} site:docs.test"), 1, 10)
        .await
        .unwrap();
    assert!(
        links(&answer)
            .iter()
            .all(|link| link.starts_with("http://docs.test/")),
        "{:?}",
        links(&answer)
    );

    // No page is titled E0373: the page that quotes the message is first, alone.
    let answer = service
        .search("closure may outlive the current function", 1, 10)
        .await
        .unwrap();
    assert_eq!(links(&answer), ["http://docs.test/book/closures.html"]);

    // Two shards: the quoting page in one, the code's page in the other.
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let sharded = two_http_shards((dir_a.path(), dir_b.path()), &pages[1..], &pages[..1]).await;
    let answer = sharded.search(message, 1, 10).await.unwrap();
    assert!(!answer.partial);
    assert_eq!(
        links(&answer)[0],
        "http://errors.test/error_codes/E0425.html",
        "{:?}",
        links(&answer)
    );
}

// Paged one result at a time with `site:` (no crowding, so a page fetches
// only what it shows), a message's results still look for the quoting page
// among the same first results: the page titled by the message comes
// first as typed, the quoting chapter second, and the code's page goes
// before both on every page. (Fetching only one result on the first page,
// the first page shows the titled page and the second shows it again.)
#[tokio::test]
async fn a_messages_results_paged_one_at_a_time_with_site_keep_one_order() {
    let explained = page(
        "http://errors.test/error_codes/E0425.html",
        "E0425 - Error codes index",
        "An unresolved name was used. Please verify that the name was not misspelled.",
    );
    let chapter = page(
        "http://docs.test/book/scope.html",
        "Variables and Scope",
        "Using y outside its block fails: error[E0425]: cannot find value `y` in this scope \
         --> src/main.rs:5:20",
    );
    let titled = page(
        "http://docs.test/guide/cannot-find-value-in-this-scope.html",
        "Cannot find value in this scope",
        "Cannot find value in this scope: the value is not in this scope. A value that the \
         compiler cannot find in this scope is declared in another scope, or not at all.",
    );
    let dir = tempfile::tempdir().unwrap();
    let service = service_over(dir.path(), &[explained, chapter, titled]);
    let query = "cannot find value in this scope site:docs.test site:errors.test";
    let whole = service.search(query, 1, 10).await.unwrap();
    assert_eq!(
        links(&whole)[0],
        "http://errors.test/error_codes/E0425.html",
        "{:?}",
        links(&whole)
    );
    let mut paged = Vec::new();
    for number in 1..=3 {
        let one = service.search(query, number, 1).await.unwrap();
        paged.extend(links(&one).iter().map(|link| link.to_string()));
    }
    assert_eq!(paged, links(&whole));
}

// A name written as code, bare (`enumerate()`), finds the section anchored
// by it bare (Python's built-in `enumerate`, on a long page) before a
// shorter page's qualified name that ends in it (`threading.enumerate`),
// though that page has the word more often. (With `weights::BARE_NAME` at 0, the threading page
// comes first.)
#[tokio::test]
async fn a_name_typed_bare_finds_the_section_anchored_by_it_bare() {
    use common::message::Section;
    let mut functions = page(
        "http://docs.test/library/functions.html",
        "Built-in Functions",
        "The Python interpreter has a number of functions built into it. enumerate(iterable, \
         start=0) Return an enumerate object; iterable must be a sequence.",
    );
    functions.text = format!(
        "{} {}",
        "Built-in functions of every kind.".repeat(500),
        functions.text
    );
    functions.sections = vec![Section {
        anchor: "enumerate".into(),
        heading_path: vec!["Built-in Functions".into(), "enumerate(iterable, start=0)".into()],
        start: functions.text.find("enumerate(").unwrap() as u32,
    }];
    let mut threading = page(
        "http://docs.test/library/threading.html",
        "threading - Thread-based parallelism",
        "threading.enumerate() Return a list of all Thread objects currently active; enumerate \
         them to enumerate the threads that enumerate returns.",
    );
    threading.sections = vec![Section {
        anchor: "threading.enumerate".into(),
        heading_path: vec!["threading".into(), "threading.enumerate()".into()],
        start: 0,
    }];
    let dir = tempfile::tempdir().unwrap();
    let (index, docstore) = build(dir.path(), &[functions, threading]);
    let service = SearchService::new(index, docstore);

    let answer = service.search("enumerate()", 1, 10).await.unwrap();
    assert_eq!(
        links(&answer)[0],
        "http://docs.test/library/functions.html#enumerate",
        "{:?}",
        links(&answer)
    );
    // Typed qualified, the qualified name comes first.
    let answer = service.search("threading.enumerate", 1, 10).await.unwrap();
    assert_eq!(
        links(&answer)[0],
        "http://docs.test/library/threading.html#threading.enumerate",
        "{:?}",
        links(&answer)
    );
}

// A message quoted word for word on the page that explains it comes before
// a page that has its words more often, in another order. (With
// `weights::QUOTED_IN_BODY` at 0, the list of features comes first.)
#[tokio::test]
async fn a_message_quoted_on_a_page_finds_that_page() {
    let explained = page(
        "http://docs.test/error_codes/E0658.html",
        "E0658 - Error codes index",
        "An unstable feature was used. Erroneous code example: use std::intrinsics; \
         // error: use of unstable library feature `core_intrinsics`. Switch to nightly.",
    );
    let listed = page(
        "http://docs.test/unstable-book/nightly.html",
        "Nightly - The Unstable Book",
        "Each feature of the library is unstable until it is stabilized; a library feature \
         that is unstable needs nightly to use.",
    );
    let dir = tempfile::tempdir().unwrap();
    let (index, docstore) = build(dir.path(), &[explained, listed]);
    let service = SearchService::new(index, docstore);

    let answer = service
        .search("use of unstable library feature", 1, 10)
        .await
        .unwrap();
    assert_eq!(
        links(&answer)[0],
        "http://docs.test/error_codes/E0658.html",
        "{:?}",
        links(&answer)
    );
}

/// The document service of one docstore, counting the documents asked of it.
struct CountingDocs {
    docs: LocalDocs,
    read: std::sync::atomic::AtomicUsize,
}

#[async_trait]
impl query_api::backends::DocumentSource for CountingDocs {
    fn name(&self) -> &str {
        self.docs.name()
    }

    async fn get_many(&self, ids: &[common::DocId]) -> Result<Vec<Option<indexer::DocRecord>>, BackendError> {
        self.read
            .fetch_add(ids.len(), std::sync::atomic::Ordering::SeqCst);
        self.docs.get_many(ids).await
    }

    async fn ping(&self) -> Result<(), BackendError> {
        self.docs.ping().await
    }
}

// A second pass (the query spelled right, or relaxed) that finds no more
// than the query as typed does not answer it: its hits are never made into
// results, so the documents read are those of the results shown, once.
#[tokio::test]
async fn a_second_pass_that_does_not_answer_reads_no_documents() {
    let dir = tempfile::tempdir().unwrap();
    let mut pages: Vec<PageMessage> = (0..45)
        .map(|i| {
            page(
                &format!("http://library{i}.test/loans.html"),
                &format!("Loans {i}"),
                "The rules for borrowing a book from the library.",
            )
        })
        .collect();
    pages.extend([
        page(
            "http://pens.test/a.html",
            "Pens A",
            "The borowing of a pen, misspelled.",
        ),
        page(
            "http://pens.test/b.html",
            "Pens B",
            "A pen for borowing, misspelled again.",
        ),
        page(
            "http://pens.test/c.html",
            "Pens C",
            "Borrowing a pen, spelled right.",
        ),
        page(
            "http://kettle.test/",
            "Kettles",
            "What is it? A kettle that whistles.",
        ),
    ]);
    let (index, docstore) = build(dir.path(), &pages);
    let docs = Arc::new(CountingDocs {
        docs: LocalDocs::new("local", docstore.clone()),
        read: Default::default(),
    });
    let config = SearchConfig {
        query_budget: Duration::from_secs(60),
        cache_entries: 0,
        ..SearchConfig::default()
    };
    let service = SearchService::with_backends(
        vec![Arc::new(LocalShard::new("local", ShardSearcher::new(index, 0)))],
        docs.clone(),
        config,
    );
    let read = || docs.read.swap(0, std::sync::atomic::Ordering::SeqCst);

    // "borowing" is on two pages, "borrowing" on 46: the correction is
    // searched (the typed query found fewer than three pages), finds one
    // page with "pen", and only suggests.
    let answer = service.search("borowing pen", 1, 10).await.unwrap();
    assert_eq!(answer.suggestion.as_deref(), Some("borrowing pen"));
    assert_eq!(answer.corrected_query, None);
    assert_eq!(answer.total, 2);
    assert_eq!(read(), 2);

    // Common words alone are all required, and relaxed, two of the three
    // are: one page has all three and no other page has two of them, so
    // the relaxed search finds the same page and the typed one answers.
    let answer = service.search("what is it", 1, 10).await.unwrap();
    assert!(!answer.relaxed);
    assert_eq!(links(&answer), ["http://kettle.test/"]);
    assert_eq!(read(), 1);
}

// A page that is mostly links (a package's contents: "asyncio —
// Asynchronous I/O" is a list of the package's other pages) ranks low for
// the words it lists, but the query typed as its title names it: it comes
// first, before the pages that only mention the name. (Without the kind's
// demotion lifted, "Developing with kettle" comes first.)
#[tokio::test]
async fn a_page_of_links_typed_by_its_title_comes_first() {
    let dir = tempfile::tempdir().unwrap();
    let mut contents = page(
        "http://docs.test/library/kettle.html",
        "kettle — Boiling water — Docs",
        &format!(
            "kettle — Boiling water. {}",
            (0..40)
                .map(|i| format!("Kettle part {i}."))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    );
    contents.outlinks = (0..40)
        .map(|i| common::message::Outlink {
            url: common::NormalizedUrl::parse(&format!("http://docs.test/library/kettle-{i}.html")).unwrap(),
            anchor: format!("Kettle part {i}"),
        })
        .collect();
    contents.sections = vec![common::message::Section {
        anchor: "kettle".into(),
        heading_path: vec!["kettle — Boiling water".into()],
        start: 0,
    }];
    let mut developing = page(
        "http://docs.test/library/kettle-dev.html",
        "Developing with kettle — Docs",
        "Developing with kettle: the kettle debug mode logs every kettle call, \
         and kettle warns of a kettle never awaited.",
    );
    developing.sections = vec![common::message::Section {
        anchor: "kettle".into(),
        heading_path: vec!["Developing with kettle".into()],
        start: 0,
    }];
    assert_eq!(
        indexer::schema::PageKind::of(&contents),
        indexer::schema::PageKind::Listing
    );
    let service = service_over(dir.path(), &[developing, contents]);
    let answer = service.search("kettle", 1, 10).await.unwrap();
    assert_eq!(
        links(&answer).first().map(|link| link.split('#').next().unwrap()),
        Some("http://docs.test/library/kettle.html")
    );
}
