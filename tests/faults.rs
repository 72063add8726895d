//! Fault injection: `trawl` killed with SIGKILL at every crash point of a
//! page's life (and at random instants), then run again; what is
//! searchable afterwards is compared with a clean crawl, URL by URL.
//!
//! The crash points (`common::failpoint::POINTS`) sit right after each
//! durable step: a page's record in `crawled_links`, its publication, its
//! confirmation, the link's completion, the index's apply, commit and
//! acknowledgement. `TRAWL_FAILPOINTS=POINT=N` makes the process kill
//! itself the Nth time it passes POINT; each run asserts that the kill
//! happened there (the process died of SIGKILL and said where), so no case
//! can pass without exercising its point.
//!
//! The N of each point is drawn at random (the seed is printed, and
//! `TRAWL_FAULT_SEED` replays it) besides the worst fixed ones: the very
//! first record (nothing committed yet) and the first commit (committed,
//! not yet acknowledged).
//!
//! After every resume the same checks run ([`assert_searchable`]): each
//! page's unique word finds that page and nothing else; each word common
//! to every page finds every page, each once, over all result pages;
//! nothing is partial; the document count is the page count.

use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use indexer::{Docstore, IndexReaderHandle};
use query_api::SearchService;
use test_support::daemons::{self, DEADLINE, assert_killed_at, finish, free_port};
use test_support::fixture::Fixture;
use test_support::rng::Rng;
use test_support::searchable::{Searcher, assert_searchable};
use tokio::io::AsyncReadExt;
use tokio::process::Command;
use trawl::DataDir;

/// `trawl ARGS --data-dir DATA`, armed with `failpoint` if given.
fn trawl(args: &[&str], data: &DataDir, failpoint: Option<&str>) -> Command {
    let mut args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    args.extend(["--data-dir".to_string(), data.root().display().to_string()]);
    daemons::trawl(env!("CARGO_BIN_EXE_trawl"), &args, failpoint)
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

async fn crawl_to_end(fixture: &Fixture, data: &DataDir) {
    let (status, stderr) = finish(trawl(&strs(&fixture.crawl_args()), data, None)).await;
    assert!(status.success(), "the crawl failed: {status}\n{stderr}");
}

/// Runs a crawl armed to die at the `n`th pass of `point`, and asserts it
/// died there, of SIGKILL.
async fn crawl_killed_at(fixture: &Fixture, data: &DataDir, point: &str, n: u64) {
    let armed = format!("{point}={n}");
    let (status, stderr) = finish(trawl(&strs(&fixture.crawl_args()), data, Some(&armed))).await;
    assert_killed_at(status, &stderr, point, n);
}

fn documents(data: &DataDir) -> u64 {
    if !IndexReaderHandle::exists(&data.index()) {
        return 0;
    }
    IndexReaderHandle::open(&data.index()).unwrap().num_docs()
}

fn search_service(data: &DataDir) -> SearchService {
    let index = IndexReaderHandle::open(&data.index()).unwrap();
    SearchService::new(
        index,
        Arc::new(Docstore::open_secondary(&data.docstore()).unwrap()),
    )
}

async fn assert_data_dir_searchable(fixture: &Fixture, data: &DataDir, case: &str) {
    let search = search_service(data);
    assert_searchable(
        &Searcher::Service(&search),
        &fixture.expected(),
        Some(documents(data)),
        case,
    )
    .await;
}

// The fault matrix of the embedded crawl (`trawl crawl`, index and docstore
// in the data directory): each crash point, at the worst instant and at
// random ones, then a resume that must make exactly the clean crawl's
// pages searchable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crawl_killed_at_any_crash_point_resumes_to_the_clean_index() {
    let fixture = Fixture::start(Duration::ZERO).await;
    let clean = tempfile::tempdir().unwrap();
    let clean = DataDir::new(clean.path());
    crawl_to_end(&fixture, &clean).await;
    assert_data_dir_searchable(&fixture, &clean, "clean crawl").await;

    let mut rng = Rng::from_env();
    let mut cases: Vec<(&str, u64)> = vec![
        // The worst instants: a page recorded before anything was ever
        // committed, and the first commit not yet acknowledged.
        ("crawl.recorded", 1),
        ("index.committed", 1),
    ];
    // Every point at a random pass. A crawl of the fixture passes each
    // crawl point at least once per page (60 and more), the index's apply
    // once per page, and commits at least once.
    for point in [
        "crawl.recorded",
        "crawl.published",
        "crawl.confirmed",
        "crawl.completed",
        "index.applied",
    ] {
        cases.push((point, rng.between(2, 50)));
    }
    cases.push(("index.acknowledged", 1));

    for (point, n) in cases {
        let case = format!("{point}={n}");
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::new(dir.path());
        let before = fixture.total_hits();
        crawl_killed_at(&fixture, &data, point, n).await;
        if (point, n) == ("crawl.recorded", 1) {
            // Really before the first commit: pages were fetched, none is
            // in the index.
            assert!(fixture.total_hits() > before, "{case}: nothing was fetched");
            assert_eq!(documents(&data), 0, "{case}: something was committed already");
        }
        if point == "index.committed" {
            assert!(documents(&data) > 0, "{case}: the commit did not happen");
        }
        crawl_to_end(&fixture, &data).await;
        assert_data_dir_searchable(&fixture, &data, &case).await;
    }
}

// Kills at random instants, twice in a row before a resume: whatever was
// in flight (fetched, recorded, published, committed or not), the resumed
// crawl ends with the clean crawl's pages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crawl_killed_at_random_instants_resumes_to_the_clean_index() {
    // Slow pages, so that a random instant falls inside the crawl.
    let fixture = Fixture::start(Duration::from_millis(10)).await;
    let mut rng = Rng::from_env();
    for round in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::new(dir.path());
        for _ in 0..2 {
            let mut child = trawl(&strs(&fixture.crawl_args()), &data, None).spawn().unwrap();
            let started = fixture.total_hits();
            // Somewhere between the first request and most of the crawl.
            let after_hits = rng.between(1, 50) as usize;
            tokio::time::timeout(DEADLINE, async {
                while fixture.total_hits() < started + after_hits {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
            })
            .await
            .expect("the crawl did not start");
            child.kill().await.unwrap();
        }
        crawl_to_end(&fixture, &data).await;
        assert_data_dir_searchable(&fixture, &data, &format!("random kill, round {round}")).await;
    }
}

// A revisit that finds every page changed indexes each again (deleting
// the old copies): common words must still find every page once, and
// BM25 must not trip over the deleted copies' statistics. Killed during
// the revisit, it resumes to the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revisit_that_changes_every_page_keeps_every_word_searchable() {
    let fixture = Fixture::start(Duration::ZERO).await;
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::new(dir.path());
    let revisit_now = ["--revisit-min-secs", "0", "--revisit-after-secs", "0"];
    let mut args = fixture.crawl_args();
    args.extend(revisit_now.iter().map(|s| s.to_string()));
    let (status, stderr) = finish(trawl(&strs(&args), &data, None)).await;
    assert!(status.success(), "{stderr}");
    assert_data_dir_searchable(&fixture, &data, "first visit").await;

    // Unchanged: every page answers 304 and stays.
    let before = fixture.not_modified();
    let (status, stderr) = finish(trawl(&strs(&args), &data, None)).await;
    assert!(status.success(), "{stderr}");
    assert!(
        fixture.not_modified() >= before + fixture.pages_and_words().len() - 2,
        "the revisit sent no conditional requests"
    );
    assert_data_dir_searchable(&fixture, &data, "revisit, nothing changed").await;

    // Changed: every page is indexed again; killed midway, then resumed.
    fixture.change_pages();
    let (status, _) = finish(trawl(&strs(&args), &data, Some("index.applied=20"))).await;
    assert_eq!(status.signal(), Some(9), "the revisit was not killed");
    let (status, stderr) = finish(trawl(&strs(&args), &data, None)).await;
    assert!(status.success(), "{stderr}");
    assert_data_dir_searchable(&fixture, &data, "revisit, every page changed").await;
    let search = search_service(&data);
    let revised = Searcher::Service(&search).all_links("revised").await;
    assert_eq!(
        revised.len(),
        fixture.pages_and_words().len(),
        "the new text is searchable"
    );
}

// `trawl run` (crawl and serve in one process) killed at a random crash
// point, then run again: its API answers as after a clean crawl.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trawl_run_killed_and_run_again_serves_the_clean_index() {
    let fixture = Fixture::start(Duration::ZERO).await;
    let mut rng = Rng::from_env();
    let points = ["crawl.recorded", "crawl.confirmed", "index.committed"];
    let point = points[rng.between(0, points.len() as u64 - 1) as usize];
    let n = if point == "index.committed" {
        1
    } else {
        rng.between(1, 40)
    };
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::new(dir.path());
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut args = fixture.crawl_args();
    args[0] = "run".to_string();
    args.extend(["--listen".to_string(), listen.clone()]);

    let armed = format!("{point}={n}");
    let (status, stderr) = finish(trawl(&strs(&args), &data, Some(&armed))).await;
    assert_eq!(status.signal(), Some(9), "{armed}: not killed there\n{stderr}");

    // Again, unarmed: it crawls what is left, then keeps serving.
    let mut child = trawl(&strs(&args), &data, None)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut printed = String::new();
    tokio::time::timeout(DEADLINE, async {
        let mut buffer = [0u8; 4096];
        while !printed.contains("crawl finished") {
            let n = stdout.read(&mut buffer).await.unwrap();
            assert!(n > 0, "trawl run exited: {printed}");
            printed.push_str(&String::from_utf8_lossy(&buffer[..n]));
        }
    })
    .await
    .expect("trawl run did not finish its crawl");
    let base = format!("http://{listen}");
    assert_searchable(&Searcher::Api(&base), &fixture.expected(), None, &armed).await;
    child.kill().await.unwrap();
}
