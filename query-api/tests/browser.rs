//! The HTML search page in a real browser: headless Chromium (Debian's
//! `chromium`, installed by scripts/setup). The page has no script at all,
//! so what Chromium shows is what a browser without JavaScript shows.
//! (Chromium's switch that turns scripts off also stops `--dump-dom`.)

use std::process::Command;
use std::sync::Arc;

use query_api::SearchService;
use support::{build, page};

mod support;

/// The page at `url` as Chromium renders it (its DOM after loading).
fn rendered(url: &str) -> String {
    let profile = tempfile::tempdir().unwrap();
    let output = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            &format!("--user-data-dir={}", profile.path().display()),
            "--dump-dom",
            url,
        ])
        .output()
        .expect("chromium must be installed (scripts/setup installs Debian's chromium)");
    assert!(output.status.success(), "chromium failed: {output:?}");
    String::from_utf8(output.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_search_page_shows_results_and_suggestions_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let mut pages = vec![page(
        "http://docs.test/ownership.html",
        "What is Ownership?",
        "Ownership is a set of rules that govern how a Rust program manages memory.",
    )];
    for i in 0..14 {
        pages.push(page(
            &format!("http://docs.test/memory/{i}.html"),
            &format!("Memory chapter {i}"),
            "How a program manages memory on the stack and the heap.",
        ));
    }
    let (index, docstore) = build(dir.path(), &pages);
    let service = Arc::new(SearchService::new(index, docstore));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(query_api::serve(
        listener,
        service,
        Default::default(),
        std::future::pending(),
    ));

    let dom = tokio::task::spawn_blocking({
        let base = base.clone();
        move || rendered(&format!("{base}/?query=ownership"))
    })
    .await
    .unwrap();
    assert!(dom.contains("What is Ownership?"), "{dom}");
    assert!(dom.contains("http://docs.test/ownership.html"), "{dom}");
    assert!(!dom.contains("<script"), "the page works without JavaScript");
    assert!(
        dom.contains("<b>Ownership</b>"),
        "the snippet is highlighted: {dom}"
    );

    // A misspelling: the corrected query's results, and a link to it.
    let dom = tokio::task::spawn_blocking({
        let base = base.clone();
        move || rendered(&format!("{base}/?query=ownrship"))
    })
    .await
    .unwrap();
    assert!(dom.contains("Showing results for"), "{dom}");
    assert!(dom.contains("<b>ownership</b>"), "{dom}");
    assert!(dom.contains("What is Ownership?"), "{dom}");

    // Paging: 15 results, 10 on the first page and a link to the next.
    let dom = tokio::task::spawn_blocking(move || rendered(&format!("{base}/?query=memory")))
        .await
        .unwrap();
    assert!(dom.contains("15 results"), "{dom}");
    assert!(dom.contains("page=2"), "{dom}");
}
