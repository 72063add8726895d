//! URL hygiene through a whole crawl: canonical links, robots meta tags and
//! headers, nofollow, meta refresh, URL variants.

use axum::Router;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use common::SkipReason;
use crawler::frontier::FrontierConfig;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_directives_and_url_variants_are_obeyed() {
    let recorder = Recorder::default();
    let listener = bind("127.0.0.1").await;
    let base = format!("http://{}", listener.local_addr().unwrap());
    let elsewhere = "http://elsewhere.test/claimed".to_string();
    let router = Router::new()
        .route(
            "/",
            get(|| async {
                Html(
                    "<a href=\"/canonical-self?utm_source=x#top\">variant</a> <a href=\"/CANONICAL-SELF\">case</a>\
                     <a href=\"/dup\">dup</a> <a href=\"/cross\">cross</a> <a href=\"/noindex\">ni</a>\
                     <a href=\"/nofollow-meta\">nf</a> <a href=\"/header-noindex\">hn</a>\
                     <a href=\"/refresh\">refresh</a> <a href=\"/skipped\" rel=\"nofollow\">rel</a>",
                )
            }),
        )
        .route("/canonical-self", get(|| async { Html("<title>canonical</title>the original") }))
        .route("/CANONICAL-SELF", get(|| async { Html("<title>case variant</title>paths are case-sensitive") }))
        .route("/dup", get(|| async { Html("<link rel=canonical href=\"/canonical-self\"><title>dup</title>a copy") }))
        .route(
            "/cross",
            get(move || async move { Html(format!("<link rel=canonical href=\"{elsewhere}\"><title>cross</title>mine")) }),
        )
        .route(
            "/noindex",
            get(|| async { Html("<meta name=robots content=noindex><title>hidden</title><a href=\"/from-noindex\">x</a>") }),
        )
        .route("/from-noindex", get(|| async { Html("<title>followed</title>links of noindex pages are followed") }))
        .route(
            "/nofollow-meta",
            get(|| async { Html("<meta name=robots content=nofollow><title>nf</title><a href=\"/not-followed\">x</a>") }),
        )
        .route(
            "/header-noindex",
            get(|| async { ([("x-robots-tag", "googlebot: index"), ("x-robots-tag", "trawl: noindex")], Html("<title>h</title>")).into_response() }),
        )
        .route(
            "/refresh",
            get(|| async {
                Html("<meta http-equiv=refresh content=\"0; url=/refreshed\"><link rel=canonical href=\"/refreshed\">Redirecting...")
            }),
        )
        .route("/refreshed", get(|| async { Html("<title>refreshed</title>arrived") }))
        .route("/not-followed", get(|| async { Html("must not be fetched") }))
        .route("/skipped", get(|| async { Html("must not be fetched") }));
    let addr = serve_on(listener, router, &recorder);
    let result = crawl(
        test_config(&[format!("http://{addr}/")]),
        FrontierConfig::default(),
    )
    .await;
    let page = |path: &str| result.page(&format!("{base}{path}"));

    // A tracking parameter and a fragment are the same URL; case in the path is not.
    assert_eq!(recorder.hits("/canonical-self"), 1);
    assert_eq!(recorder.hits("/CANONICAL-SELF"), 1);
    // A same-host canonical names the document; another host's is ignored.
    assert_eq!(
        page("/dup").unwrap().canonical_url.as_str(),
        format!("{base}/canonical-self")
    );
    assert_eq!(
        page("/cross").unwrap().canonical_url.as_str(),
        format!("{base}/cross")
    );
    // noindex: not published, but its links are followed; nofollow: the reverse.
    assert!(page("/noindex").is_none());
    assert!(page("/from-noindex").is_some());
    assert!(page("/nofollow-meta").is_some());
    assert_eq!(recorder.hits("/not-followed"), 0);
    // X-Robots-Tag scoped to trawl applies; scoped to another crawler it does not.
    assert!(page("/header-noindex").is_none());
    assert_eq!(
        result.summary.skipped(SkipReason::Robots),
        2,
        "the two noindex pages"
    );
    // Meta refresh leads on; rel=nofollow does not. A page that refreshes
    // at once is a redirect: not published, so that its text never stands
    // for its target's (it names the target as its canonical URL too).
    assert!(page("/refreshed").unwrap().text.contains("arrived"));
    assert!(page("/refresh").is_none());
    assert!(
        result
            .pages
            .iter()
            .all(|published| !published.text.contains("Redirecting")),
        "a redirect's text was published"
    );
    assert_eq!(recorder.hits("/skipped"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_beyond_the_maximum_depth_are_not_followed() {
    // A chain: /d/0 -> /d/1 -> ... Only depths 0 to 2 are fetched; the link
    // to depth 3 is counted as a trap, once.
    let recorder = Recorder::default();
    let router = Router::new().route(
        "/d/{n}",
        get(|axum::extract::Path(n): axum::extract::Path<u32>| async move {
            Html(format!(
                "<title>depth {n}</title>depth {n} <a href=\"/d/{}\">deeper</a>",
                n + 1
            ))
        }),
    );
    let addr = serve("127.0.0.1", router, &recorder).await;
    let mut config = test_config(&[format!("http://{addr}/d/0")]);
    config.max_depth = 2;
    let result = crawl(config, FrontierConfig::default()).await;
    assert_eq!(result.pages.len(), 3);
    assert_eq!(recorder.hits("/d/3"), 0);
    assert_eq!(result.summary.skipped(SkipReason::Trap), 1);
}
