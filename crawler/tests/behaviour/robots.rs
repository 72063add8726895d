//! robots.txt as fetched from a server: RFC 9309 section 2.3 (fetch
//! outcomes) and 2.4 (caching), and the sitemaps it leads to. The parsing
//! and matching rules have their own table in `crawler::robots::rules`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect};
use axum::routing::get;
use common::SkipReason;
use crawler::frontier::FrontierConfig;

use crate::support::*;

/// A site with a home page linking to /public and /private/page.
fn site() -> Router {
    Router::new()
        .route(
            "/",
            get(|| async { Html("<a href=\"/public\">pub</a> <a href=\"/private/page\">priv</a>") }),
        )
        .route("/public", get(|| async { Html("<title>public</title>public") }))
        .route(
            "/private/page",
            get(|| async { Html("<title>private</title>private") }),
        )
}

async fn crawl_site(router: Router, recorder: &Recorder) -> (std::net::SocketAddr, CrawlResult) {
    let addr = serve("127.0.0.1", router, recorder).await;
    let result = crawl(
        test_config(&[format!("http://{addr}/")]),
        FrontierConfig::default(),
    )
    .await;
    (addr, result)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc9309_2_3_1_1_successful_fetch_rules_apply() {
    // "If the crawler successfully downloads the robots.txt file, the crawler MUST follow the parseable rules."
    let recorder = Recorder::default();
    let router = site().route(
        "/robots.txt",
        get(|| async { "User-agent: *\nDisallow: /private/\n" }),
    );
    let (_, result) = crawl_site(router, &recorder).await;
    assert_eq!(recorder.hits("/private/page"), 0);
    assert_eq!(recorder.hits("/public"), 1);
    assert_eq!(result.summary.skipped(SkipReason::Robots), 1);
    assert_eq!(
        result.summary.robots.values().sum::<u64>(),
        1,
        "fetched once, then cached"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc9309_2_3_1_2_five_redirects_are_followed_across_hosts() {
    // "crawlers SHOULD follow at least five consecutive redirects, even across authorities"
    let recorder = Recorder::default();
    let rules_host = serve(
        "127.0.0.1",
        Router::new().route(
            "/rules.txt",
            get(|| async { "User-agent: trawl\nDisallow: /private/\n" }),
        ),
        &recorder,
    )
    .await;
    let target = format!("http://{rules_host}/rules.txt");
    let router = site()
        .route("/robots.txt", get(|| async { Redirect::temporary("/r1") }))
        .route("/r1", get(|| async { Redirect::temporary("/r2") }))
        .route("/r2", get(|| async { Redirect::temporary("/r3") }))
        .route("/r3", get(|| async { Redirect::temporary("/r4") }))
        .route("/r4", get(move || async move { Redirect::temporary(&target) }));
    let (_, result) = crawl_site(router, &recorder).await;
    assert_eq!(
        recorder.hits("/rules.txt"),
        1,
        "five hops, the last to another host"
    );
    assert_eq!(recorder.hits("/private/page"), 0);
    assert_eq!(result.summary.skipped(SkipReason::Robots), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc9309_2_3_1_2_more_than_five_redirects_mean_unavailable() {
    // "If there are more than five consecutive redirects, crawlers MAY assume that the robots.txt file is unavailable."
    let recorder = Recorder::default();
    let mut router = site().route("/robots.txt", get(|| async { Redirect::temporary("/r1") }));
    for hop in 1..=6 {
        let next = format!("/r{}", hop + 1);
        router = router.route(
            &format!("/r{hop}"),
            get(move || async move { Redirect::temporary(&next) }),
        );
    }
    router = router.route("/r7", get(|| async { "User-agent: *\nDisallow: /\n" }));
    let (_, result) = crawl_site(router, &recorder).await;
    assert_eq!(recorder.hits("/r7"), 0, "the sixth redirect is not followed");
    assert_eq!(
        recorder.hits("/private/page"),
        1,
        "unavailable: everything allowed"
    );
    assert_eq!(
        result
            .summary
            .robots
            .get(&crawler::robots::RobotsOutcome::Unavailable),
        Some(&1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc9309_2_3_1_3_unavailable_4xx_allows_everything() {
    // "If the server status code indicates that the robots.txt file is unavailable to the crawler, then the crawler MAY access any resources on the server."
    for status in [StatusCode::NOT_FOUND, StatusCode::FORBIDDEN, StatusCode::GONE] {
        let recorder = Recorder::default();
        let router = site().route(
            "/robots.txt",
            get(move || async move { (status, "User-agent: *\nDisallow: /\n") }),
        );
        let (_, result) = crawl_site(router, &recorder).await;
        assert_eq!(result.pages.len(), 3, "{status}");
        assert_eq!(result.summary.skipped(SkipReason::Robots), 0, "{status}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc9309_2_3_1_4_unreachable_5xx_disallows_until_a_fetch_succeeds() {
    // "If the robots.txt file is unreachable due to server or network errors, ... the crawler MUST assume complete disallow."
    let recorder = Recorder::default();
    let failures = Arc::new(AtomicUsize::new(2));
    let router = site().route(
        "/robots.txt",
        get(move || {
            let failing = failures
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            async move {
                if failing {
                    (StatusCode::INTERNAL_SERVER_ERROR, "oops").into_response()
                } else {
                    "User-agent: *\nAllow: /\n".into_response()
                }
            }
        }),
    );
    let (_, result) = crawl_site(router, &recorder).await;
    assert_eq!(result.pages.len(), 3, "crawled once robots.txt answered");
    let arrivals = recorder.arrivals();
    let first_page = arrivals
        .iter()
        .position(|a| a.path_and_query != "/robots.txt")
        .unwrap();
    assert_eq!(
        first_page, 3,
        "no page before the third, successful, robots.txt fetch: {arrivals:?}"
    );
    assert!(
        result.summary.host_backoffs >= 2,
        "the links waited, without spending retries"
    );
    assert_eq!(result.summary.retries, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc9309_2_3_1_4_a_robots_txt_that_never_answers_blocks_the_host_and_the_crawl_ends() {
    let recorder = Recorder::default();
    let router = site().route("/robots.txt", get(|| async { StatusCode::SERVICE_UNAVAILABLE }));
    let (_, result) = crawl_site(router, &recorder).await;
    assert!(result.pages.is_empty());
    assert_eq!(recorder.hits("/"), 0);
    assert_eq!(
        result.summary.skipped(SkipReason::Robots),
        1,
        "the seed, after its retries"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc9309_2_5_a_large_robots_txt_is_read_to_512_kib_through_a_fetch() {
    // "crawlers SHOULD impose a parsing limit ... of at least 500 kibibytes"
    let mut body = String::from("User-agent: *\n");
    while body.len() < 490 * 1024 {
        body.push_str("# padding padding padding padding padding padding padding\n");
    }
    body.push_str("Disallow: /private/\n"); // before the limit: honoured
    while body.len() < 512 * 1024 - 10 {
        body.push_str("# more\n");
    }
    // A line cut by the limit must be dropped, not read as "Disallow: /".
    body.push_str("Disallow: /public-but-cut-here\n");
    body.push_str(&"# tail\n".repeat(20_000));
    let recorder = Recorder::default();
    let router = site().route("/robots.txt", get(move || async move { body }));
    let (_, result) = crawl_site(router, &recorder).await;
    assert_eq!(recorder.hits("/private/page"), 0);
    assert_eq!(recorder.hits("/public"), 1);
    assert_eq!(result.summary.skipped(SkipReason::Robots), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc9309_2_4_cached_copy_expires() {
    // "Crawlers SHOULD NOT use the cached version for more than 24 hours": here max_age is shortened.
    let recorder = Recorder::default();
    let router = site().route("/robots.txt", get(|| async { "User-agent: *\nAllow: /\n" }));
    let addr = serve("127.0.0.1", router, &recorder).await;
    let mut config = test_config(&[format!("http://{addr}/")]);
    config.politeness.min_delay = Duration::from_millis(250);
    config.robots.max_age = Duration::from_millis(300);
    crawl(config, FrontierConfig::default()).await;
    assert!(recorder.hits("/robots.txt") >= 2, "fetched again after max_age");

    let recorder = Recorder::default();
    let (_, _) = crawl_site(site().route("/robots.txt", get(|| async { "" })), &recorder).await;
    assert_eq!(recorder.hits("/robots.txt"), 1, "within max_age, once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sitemaps_from_robots_txt_and_sitemap_xml_feed_the_frontier() {
    // robots.txt names a sitemap index, which names a gzipped sitemap;
    // /sitemap.xml names one more page. None of these pages is linked.
    let recorder = Recorder::default();
    let listener = bind("127.0.0.1").await;
    let base = format!("http://{}", listener.local_addr().unwrap());
    let index = format!(
        "<?xml version=\"1.0\"?><sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\
         <sitemap><loc>{base}/maps/pages.xml.gz</loc></sitemap></sitemapindex>"
    );
    let pages = format!(
        "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\
         <url><loc>{base}/hidden/1</loc></url><url><loc>{base}/hidden/2</loc></url>\
         <url><loc>http://elsewhere.test/out-of-scope</loc></url></urlset>"
    );
    let gzipped = {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(pages.as_bytes()).unwrap();
        encoder.finish().unwrap()
    };
    let default_map = format!("<urlset><url><loc>{base}/hidden/3</loc></url></urlset>");
    let router = Router::new()
        .route("/", get(|| async { Html("<title>home</title>nothing linked") }))
        .route(
            "/robots.txt",
            get(|| async {
                "Sitemap: /maps/index.xml\nSitemap: http://elsewhere.test/sitemap.xml\nUser-agent: *\nAllow: /\n"
            }),
        )
        .route(
            "/maps/index.xml",
            get(move || async move { ([(header::CONTENT_TYPE, "application/xml")], index) }),
        )
        .route(
            "/maps/pages.xml.gz",
            get(move || async move { ([(header::CONTENT_TYPE, "application/gzip")], gzipped) }),
        )
        .route(
            "/sitemap.xml",
            get(move || async move { ([(header::CONTENT_TYPE, "text/xml")], default_map) }),
        )
        .route(
            "/hidden/{n}",
            get(|axum::extract::Path(n): axum::extract::Path<u32>| async move {
                Html(format!("<title>hidden</title>page {n}, found through a sitemap"))
            }),
        );
    let addr = serve_on(listener, router, &recorder);
    let mut config = test_config(&[format!("http://{addr}/")]);
    config.scope = crawler::scope::Scope::Host;
    let result = crawl(config, FrontierConfig::default()).await;
    for n in 1..=3 {
        assert!(
            result.page(&format!("{base}/hidden/{n}")).is_some(),
            "hidden/{n}: {:?}",
            result.summary
        );
    }
    assert_eq!(result.summary.sitemaps_fetched, 3);
    // Another host's sitemap (named in robots.txt) and another host's page
    // (in a sitemap) stay out of a host-scoped crawl.
    assert_eq!(
        result.summary.skipped(SkipReason::OutOfScope),
        2,
        "{:?}",
        result.summary
    );
}
