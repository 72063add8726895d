//! The whole system on a local fixture web: crawl, index, search, resume.
//! No test here touches the internet; the fixture site runs on 127.0.0.1:0.

use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use common::{DocId, NormalizedUrl, SkipReason};
use crawler::CrawlConfig;
use crawler::frontier::FrontierConfig;
use indexer::{Docstore, IndexReaderHandle};
use query_api::SearchService;
use test_support::daemons::free_port;
use test_support::fixture::{Fixture, unique_word};
use test_support::searchable::{Searcher, assert_searchable};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use trawl::commands::FrontierChoice;
use trawl::{DataDir, commands};

fn config_for(fixture: &Fixture) -> CrawlConfig {
    let mut config = CrawlConfig::new(vec![
        NormalizedUrl::parse(&fixture.url("/site/index.html")).unwrap(),
    ]);
    config.include = vec![NormalizedUrl::parse(&fixture.base()).unwrap()];
    config.address_policy.allow_private = true;
    config.politeness.min_delay = Duration::ZERO;
    config
}

fn indexed_doc_ids(data: &DataDir) -> Vec<DocId> {
    IndexReaderHandle::open(&data.index())
        .unwrap()
        .all_doc_ids()
        .unwrap()
}

fn search_service(data: &DataDir) -> SearchService {
    let index = IndexReaderHandle::open(&data.index()).unwrap();
    SearchService::new(
        index,
        Arc::new(Docstore::open_secondary(&data.docstore()).unwrap()),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crawl_indexes_every_reachable_page_once_and_resumes_with_nothing_to_do() {
    let fixture = Fixture::start(Duration::ZERO).await;
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::new(dir.path());

    let summary = commands::crawl(
        config_for(&fixture),
        FrontierChoice::Embedded(FrontierConfig::default()),
        &data,
        None,
        std::future::pending(),
    )
    .await
    .unwrap();

    // Every reachable page is indexed, each exactly once, and nothing else.
    let expected = fixture.indexable_doc_ids();
    assert_eq!(indexed_doc_ids(&data), expected);
    assert_eq!(summary.indexed, expected.len() as u64);
    // Every URL was requested once: cycles, `../` and `./x#frag` variants
    // and the redirect to an already linked page fetched nothing twice.
    for (path, hits) in fixture.hits() {
        assert_eq!(hits, 1, "{path} was fetched {hits} times");
    }
    assert_eq!(
        summary.by_status.get(&404),
        Some(&1),
        "the broken link is counted"
    );
    assert_eq!(summary.skipped(SkipReason::HttpStatus), 1);
    assert_eq!(summary.skipped(SkipReason::WrongType), 1, "the PDF");
    assert_eq!(
        summary.skipped(SkipReason::OutOfScope),
        1,
        "the link outside --include"
    );
    assert_eq!(summary.redirects, 2);
    // fetched = pages + 404 + PDF + 2 redirects
    assert_eq!(summary.fetched, expected.len() as u64 + 4);

    // A word unique to page X finds X first.
    let search = search_service(&data);
    for i in [0, 17, 59] {
        let response = search.search(&unique_word(i), 1, 10).await.unwrap();
        assert_eq!(
            response.results[0].link,
            fixture.url(&format!("/site/p/{i}.html")),
            "page {i}"
        );
        assert_eq!(response.results[0].title, format!("Page {i}"));
    }
    let target = search.search(&unique_word(2000), 1, 10).await.unwrap();
    assert_eq!(target.results[0].link, fixture.url("/site/target.html"));
    drop(search);

    // A second run on the same directory fetches nothing.
    let hits_before = fixture.total_hits();
    let again = commands::crawl(
        config_for(&fixture),
        FrontierChoice::Embedded(FrontierConfig::default()),
        &data,
        None,
        std::future::pending(),
    )
    .await
    .unwrap();
    assert_eq!(again.fetched, 0);
    assert_eq!(fixture.total_hits(), hits_before);
    assert_eq!(indexed_doc_ids(&data), expected);
}

// A revisit that finds a page gone (410) removes it from the index and the
// docstore; the pages that are still there stay, each once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_gone_on_revisit_leaves_the_index_and_the_docstore() {
    let fixture = Fixture::start(Duration::ZERO).await;
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::new(dir.path());
    let mut config = config_for(&fixture);
    config.freshness.first_interval = Duration::ZERO;
    config.freshness.min_interval = Duration::ZERO;
    let crawl = |config: CrawlConfig| {
        let data = data.clone();
        async move {
            commands::crawl(
                config,
                FrontierChoice::Embedded(FrontierConfig::default()),
                &data,
                None,
                std::future::pending(),
            )
            .await
            .unwrap()
        }
    };
    crawl(config.clone()).await;
    let gone_url = fixture.url("/site/p/3.html");
    let gone_id = DocId::of(&NormalizedUrl::parse(&gone_url).unwrap());
    assert!(indexed_doc_ids(&data).contains(&gone_id));

    fixture.remove("/site/p/3.html");
    let second = crawl(config).await;
    assert_eq!(second.removed, 1, "{second}");
    let mut expected = fixture.indexable_doc_ids();
    expected.retain(|id| *id != gone_id);
    assert_eq!(indexed_doc_ids(&data), expected);
    let docstore = Docstore::open_secondary(&data.docstore()).unwrap();
    assert!(docstore.get(gone_id).unwrap().is_none());
    let search = search_service(&data);
    // The gone page's word finds nothing as typed (a spelling correction may
    // find a neighbouring page's word, and says so).
    let answer = search.search(&unique_word(3), 1, 10).await.unwrap();
    assert!(answer.results.iter().all(|r| r.link != gone_url), "{answer:?}");
    assert!(
        answer.total == 0 || answer.corrected_query.is_some(),
        "{answer:?}"
    );
    assert_eq!(
        search.search(&unique_word(4), 1, 10).await.unwrap().results[0].link,
        fixture.url("/site/p/4.html")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_addresses_are_refused_unless_allowed() {
    let fixture = Fixture::start(Duration::ZERO).await;
    let port = fixture.addr.unwrap().port();

    // A loopback IP literal, and a host name that resolves to loopback.
    let by_name = format!("http://fixture.test:{port}/site/index.html");
    for seed in [fixture.url("/site/index.html"), by_name.clone()] {
        let dir = tempfile::tempdir().unwrap();
        let mut config = config_for(&fixture);
        config.seeds = vec![NormalizedUrl::parse(&seed).unwrap()];
        config.address_policy.allow_private = false;
        config
            .dns
            .overrides
            .insert("fixture.test".into(), vec!["127.0.0.1".parse().unwrap()]);
        let summary = commands::crawl(
            config,
            FrontierChoice::Embedded(FrontierConfig::default()),
            &DataDir::new(dir.path()),
            None,
            std::future::pending(),
        )
        .await
        .unwrap();
        assert_eq!(summary.fetched, 0, "{seed}");
        assert_eq!(summary.skipped(SkipReason::PrivateAddress), 1, "{seed}");
    }
    assert_eq!(fixture.total_hits(), 0);

    // With --allow-private the name is crawled (its links point at the IP,
    // outside the fixture.test scope).
    let dir = tempfile::tempdir().unwrap();
    let mut config = config_for(&fixture);
    config.seeds = vec![NormalizedUrl::parse(&by_name).unwrap()];
    config.include = vec![NormalizedUrl::parse(&format!("http://fixture.test:{port}/site/")).unwrap()];
    config
        .dns
        .overrides
        .insert("fixture.test".into(), vec!["127.0.0.1".parse().unwrap()]);
    let summary = commands::crawl(
        config,
        FrontierChoice::Embedded(FrontierConfig::default()),
        &DataDir::new(dir.path()),
        None,
        std::future::pending(),
    )
    .await
    .unwrap();
    assert!(summary.fetched >= 1);
    assert_eq!(summary.skipped(SkipReason::PrivateAddress), 0);
    assert_eq!(fixture.hits().get("/site/index.html"), Some(&1));
}

fn trawl_crawl(fixture: &Fixture, data: &DataDir) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_trawl"));
    command
        .args([
            "crawl",
            "--seed",
            &fixture.url("/site/index.html"),
            "--include",
            &fixture.base(),
        ])
        .args(["--allow-private", "--delay-ms", "0", "--data-dir"])
        .arg(data.root())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    command
}

/// Waits until the fixture has served `count` more requests than `since`.
async fn wait_for_hits(fixture: &Fixture, since: usize, count: usize) {
    while fixture.total_hits() < since + count {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn run_to_end(mut command: Command) -> String {
    let output = command.output().await.unwrap();
    assert!(output.status.success(), "trawl failed: {output:?}");
    String::from_utf8(output.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crawl_killed_midway_and_resumed_ends_with_the_same_index() {
    // Slow pages, so that the kill lands in the middle of the crawl.
    let fixture = Fixture::start(Duration::from_millis(15)).await;
    let reference = tempfile::tempdir().unwrap();
    let reference = DataDir::new(reference.path());
    run_to_end(trawl_crawl(&fixture, &reference)).await;
    let expected = fixture.indexable_doc_ids();
    assert_eq!(indexed_doc_ids(&reference), expected);
    let full_crawl_hits = fixture.total_hits();

    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::new(dir.path());
    let before = fixture.total_hits();
    let mut child: Child = trawl_crawl(&fixture, &data).spawn().unwrap();
    wait_for_hits(&fixture, before, full_crawl_hits / 2).await;
    child.kill().await.unwrap(); // SIGKILL: no drain, no final commit
    let killed_at = fixture.total_hits() - before;
    assert!(killed_at < full_crawl_hits, "the kill came after the crawl ended");

    let summary = run_to_end(trawl_crawl(&fixture, &data)).await;
    assert!(summary.contains("crawl finished"), "{summary}");
    assert_eq!(indexed_doc_ids(&data), expected);
    // Only what was fetched but not yet committed when killed is fetched again.
    let resumed_hits = fixture.total_hits() - before - killed_at;
    assert!(
        resumed_hits < full_crawl_hits,
        "the resumed run started over: {resumed_hits} hits"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_and_a_resumed_run_fetches_each_page_once() {
    let fixture = Fixture::start(Duration::from_millis(15)).await;
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::new(dir.path());
    let child = trawl_crawl(&fixture, &data).spawn().unwrap();
    wait_for_hits(&fixture, 0, 20).await;
    let pid = child.id().unwrap().to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().await.unwrap();
    assert!(output.status.success(), "SIGTERM must exit cleanly: {output:?}");
    let stopped_at = fixture.total_hits();
    assert!(
        stopped_at < fixture.indexable_urls().len(),
        "SIGTERM came after the crawl ended"
    );

    run_to_end(trawl_crawl(&fixture, &data)).await;
    assert_eq!(indexed_doc_ids(&data), fixture.indexable_doc_ids());
    // The drain finished every in-flight link, so no link was fetched
    // twice. (robots.txt is cached per process: each run reads it once.)
    for (path, hits) in fixture.hits() {
        let expected = if path == "/robots.txt" { 2 } else { 1 };
        assert_eq!(hits, expected, "{path} was fetched {hits} times");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_serves_new_pages_during_the_crawl_and_after_it() {
    // Slow enough that the crawl is still going when the first commit lands.
    let fixture = Fixture::start(Duration::from_millis(60)).await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_trawl"))
        .args([
            "run",
            "--seed",
            &fixture.url("/site/index.html"),
            "--include",
            &fixture.base(),
        ])
        .args([
            "--allow-private",
            "--delay-ms",
            "0",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(dir.path())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let api = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let search = |query: String| {
        let client = client.clone();
        let url = format!("{api}/api/v1/search");
        async move {
            let response = client.get(url).query(&[("query", query)]).send().await.ok()?;
            serde_json::from_str::<serde_json::Value>(&response.text().await.ok()?).ok()
        }
    };

    // The home page is fetched first; it becomes searchable mid-crawl.
    loop {
        if let Some(answer) = search("fixture home".into()).await
            && answer["total"].as_u64().unwrap_or(0) >= 1
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        fixture.total_hits() < fixture.indexable_urls().len(),
        "the crawl had already ended"
    );

    // Wait for the end of the crawl (the summary on stdout), then search on.
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    while let Some(line) = lines.next_line().await.unwrap() {
        if line.contains("crawl finished") {
            break;
        }
    }
    let answer = search(unique_word(59))
        .await
        .expect("still serving after the crawl");
    assert_eq!(answer["results"][0]["link"], fixture.url("/site/p/59.html"));
    let page = client
        .get(format!("{api}/?query=page+number"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("results") && page.contains("<b>page</b>"), "{page}");
    let health = client.get(format!("{api}/healthz")).send().await.unwrap();
    assert!(health.status().is_success());

    let pid = child.id().unwrap().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(child.wait().await.unwrap().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seeds_file_may_rank_its_seeds_and_bad_lines_are_named() {
    let fixture = Fixture::start(Duration::ZERO).await;
    let dir = tempfile::tempdir().unwrap();
    let seeds = dir.path().join("seeds.txt");
    let crawl = |seeds: &std::path::Path| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_trawl"));
        command
            .args(["crawl", "--seeds-file"])
            .arg(seeds)
            .args([
                "--include",
                &fixture.base(),
                "--allow-private",
                "--delay-ms",
                "0",
                "--max-pages",
                "3",
            ])
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    };
    std::fs::write(
        &seeds,
        format!(
            "# seeds\n{} 0.2\n{}   # no rank: 1\n",
            fixture.url("/site/p/1.html"),
            fixture.url("/site/p/2.html")
        ),
    )
    .unwrap();
    let output = crawl(&seeds).output().await.unwrap();
    assert!(output.status.success(), "{output:?}");

    std::fs::write(&seeds, format!("{} 7\n", fixture.url("/site/p/3.html"))).unwrap();
    let output = crawl(&seeds).output().await.unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("seeds.txt:1") && stderr.contains("from 0 to 1"),
        "{stderr}"
    );
}

// `trawl serve` on a directory without an index is most likely a typo: it
// refuses to start, rather than serve an empty index that says it is
// ready. `--create` serves an empty one on purpose.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_refuses_a_directory_without_an_index_unless_told_to_create_one() {
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("typo");
    let output = Command::new(env!("CARGO_BIN_EXE_trawl"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&typo)
        .output()
        .await
        .unwrap();
    assert!(!output.status.success(), "served a directory without an index");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("holds no index"), "{stderr}");
    assert!(!typo.join("index").exists(), "it created an index anyway");

    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_trawl"))
        .args([
            "serve",
            "--create",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(&typo)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let readyz = format!("http://127.0.0.1:{port}/readyz");
    let body: serde_json::Value = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            if let Ok(response) = reqwest::get(&readyz).await {
                return serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("serve --create did not start");
    assert_eq!(body["documents"], 0);
    child.kill().await.unwrap();
}

// A batch whose every seed is unreachable (here: nothing listens on the
// seed's port) fails, rather than exit 0 with nothing crawled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crawl_whose_every_seed_is_unreachable_exits_with_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let output = tokio::time::timeout(
        Duration::from_secs(120),
        Command::new(env!("CARGO_BIN_EXE_trawl"))
            .args([
                "crawl",
                "--allow-private",
                "--seed",
                &format!("http://127.0.0.1:{port}/"),
            ])
            .arg("--data-dir")
            .arg(dir.path())
            .output(),
    )
    .await
    .expect("the crawl of a dead seed did not end")
    .unwrap();
    assert!(!output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stdout.contains("seed failed"), "{stdout}");
    assert!(stderr.contains("no seed could be reached"), "{stderr}");
    // An operator hears of it at once, not only at the end.
    assert!(
        stderr.contains("WARN") && stderr.contains("seed host failed"),
        "{stderr}"
    );
    assert!(stdout.contains("host_unreachable"), "{stdout}");
}

// `trawl compact` merges a finished crawl's index into one segment: what
// is searchable stays the same, page by page and word by word. While a
// writer holds the index it is refused, and the index is left as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compact_leaves_one_segment_and_the_same_answers() {
    let fixture = Fixture::start(Duration::from_millis(5)).await;
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::new(dir.path());
    run_to_end(trawl_crawl(&fixture, &data)).await;
    let segments = || {
        let index = IndexReaderHandle::open(&data.index()).unwrap();
        index.reader.searcher().segment_readers().len()
    };
    let before = segments();

    let compact = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_trawl"));
        command.args(["compact", "--data-dir"]).arg(data.root());
        command
    };
    let writer = indexer::IndexWriterHandle::open(&data.index(), 1).unwrap();
    let refused = compact().output().await.unwrap();
    assert!(!refused.status.success(), "compacted beside a writer");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("is a crawl writing it?"), "{stderr}");
    drop(writer);
    assert_eq!(segments(), before, "the refused compaction changed the index");

    let printed = run_to_end(compact()).await;
    let pages = fixture.indexable_doc_ids().len();
    assert!(printed.contains(&format!("{pages} documents")), "{printed}");
    assert_eq!(segments(), 1, "{printed}");
    assert_eq!(indexed_doc_ids(&data), fixture.indexable_doc_ids());
    let search = search_service(&data);
    assert_searchable(
        &Searcher::Service(&search),
        &fixture.expected(),
        None,
        &format!("compacted from {before} segments"),
    )
    .await;
}
