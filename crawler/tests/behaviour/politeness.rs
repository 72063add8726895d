//! Politeness, measured where it matters: at the server. Every bound below
//! is a lower bound the crawler enforces with its own clock, so a slow
//! machine can only make the gaps larger.

use std::time::Duration;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use crawler::frontier::FrontierConfig;

use crate::support::*;

/// A chain of `n` pages on one host: /p/0 links to /p/1 and so on.
fn chain(n: usize, response_delay: Duration) -> Router {
    Router::new().route(
        "/p/{i}",
        get(move |Path(i): Path<usize>| async move {
            tokio::time::sleep(response_delay).await;
            let next = if i + 1 < n {
                format!("<a href=\"/p/{}\">next</a>", i + 1)
            } else {
                String::new()
            };
            Html(format!("<title>p{i}</title><main>page {i} {next}</main>"))
        }),
    )
}

/// Five pages linked from one page, fetched in any order. Each host name
/// it is served under has pages of its own (not copies of the others').
fn fan_out(response_delay: Duration) -> Router {
    fn host(headers: &axum::http::HeaderMap) -> String {
        let host = headers.get("host").and_then(|h| h.to_str().ok());
        host.unwrap_or_default().to_string()
    }
    Router::new()
        .route(
            "/",
            get(|headers: axum::http::HeaderMap| async move {
                let links: String = (0..5).map(|i| format!("<a href=\"/p/{i}\">{i}</a>")).collect();
                Html(format!("home of {} {links}", host(&headers)))
            }),
        )
        .route(
            "/p/{i}",
            get(
                move |Path(i): Path<usize>, headers: axum::http::HeaderMap| async move {
                    tokio::time::sleep(response_delay).await;
                    Html(format!("<title>p{i}</title>page {i} of {}", host(&headers)))
                },
            ),
        )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minimum_delay_separates_requests_to_a_host() {
    let recorder = Recorder::default();
    let addr = serve("127.0.0.1", chain(5, Duration::ZERO), &recorder).await;
    let mut config = test_config(&[format!("http://{addr}/p/0")]);
    config.politeness.min_delay = Duration::from_millis(300);
    let result = crawl(config, FrontierConfig::default()).await;
    assert_eq!(result.pages.len(), 5);
    let arrivals = recorder.page_arrivals(&addr.to_string());
    assert_eq!(arrivals.len(), 6, "five pages and /sitemap.xml");
    for gap in gaps(&arrivals) {
        assert!(gap >= Duration::from_millis(300), "gap {gap:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crawl_delay_from_robots_txt_is_honoured() {
    let recorder = Recorder::default();
    let router = chain(4, Duration::ZERO).route(
        "/robots.txt",
        get(|| async { "User-agent: *\nCrawl-delay: 0.4\n" }),
    );
    let addr = serve("127.0.0.1", router, &recorder).await;
    let result = crawl(
        test_config(&[format!("http://{addr}/p/0")]),
        FrontierConfig::default(),
    )
    .await;
    assert_eq!(result.pages.len(), 4);
    for gap in gaps(&recorder.page_arrivals(&addr.to_string())) {
        assert!(gap >= Duration::from_millis(400), "gap {gap:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_host_is_asked_less_often() {
    // Responses take 150 ms; with the delay at least the response time,
    // two requests start at least 300 ms apart.
    let recorder = Recorder::default();
    let addr = serve("127.0.0.1", chain(4, Duration::from_millis(150)), &recorder).await;
    let mut config = test_config(&[format!("http://{addr}/p/0")]);
    config.politeness.response_time_factor = 1.0;
    let result = crawl(config, FrontierConfig::default()).await;
    assert_eq!(result.pages.len(), 4);
    let arrivals: Vec<_> = recorder
        .page_arrivals(&addr.to_string())
        .into_iter()
        .filter(|a| a.path_and_query.starts_with("/p/"))
        .collect();
    for gap in gaps(&arrivals) {
        assert!(gap >= Duration::from_millis(300), "gap {gap:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_backs_off_the_whole_host() {
    // /busy answers 503 with Retry-After: 1 the first time; the host gets
    // no request at all for that second, then /busy is fetched again.
    let recorder = Recorder::default();
    let busy_once = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let router = Router::new()
        .route(
            "/",
            get(|| async { Html("<a href=\"/busy\">b</a> <a href=\"/calm\">c</a>") }),
        )
        .route(
            "/busy",
            get(move || {
                let first = busy_once.swap(false, std::sync::atomic::Ordering::SeqCst);
                async move {
                    if first {
                        let mut headers = HeaderMap::new();
                        headers.insert("retry-after", "1".parse().unwrap());
                        (StatusCode::SERVICE_UNAVAILABLE, headers, "busy").into_response()
                    } else {
                        Html("<title>busy</title>fine now").into_response()
                    }
                }
            }),
        )
        .route("/calm", get(|| async { Html("<title>calm</title>calm") }));
    let addr = serve("127.0.0.1", router, &recorder).await;
    let result = crawl(
        test_config(&[format!("http://{addr}/")]),
        FrontierConfig::default(),
    )
    .await;
    assert!(
        result.page(&format!("http://{addr}/busy")).is_some(),
        "retried after the back-off"
    );
    assert_eq!(result.summary.retries, 1);
    let arrivals = recorder.page_arrivals(&addr.to_string());
    let first_busy = arrivals.iter().position(|a| a.path_and_query == "/busy").unwrap();
    let next = &arrivals[first_busy + 1];
    assert!(
        next.at.duration_since(arrivals[first_busy].at) >= Duration::from_secs(1),
        "{next:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_requests_with_a_retry_after_date_backs_off() {
    // 429 with `Retry-After` as an HTTP date two seconds ahead.
    let recorder = Recorder::default();
    let limited_once = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let router = Router::new().route(
        "/",
        get(move || {
            let first = limited_once.swap(false, std::sync::atomic::Ordering::SeqCst);
            async move {
                if first {
                    let at = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(2));
                    let mut headers = HeaderMap::new();
                    headers.insert("retry-after", at.parse().unwrap());
                    (StatusCode::TOO_MANY_REQUESTS, headers, "slow down").into_response()
                } else {
                    Html("<title>ok</title>ok").into_response()
                }
            }
        }),
    );
    let addr = serve("127.0.0.1", router, &recorder).await;
    let result = crawl(
        test_config(&[format!("http://{addr}/")]),
        FrontierConfig::default(),
    )
    .await;
    assert_eq!(result.pages.len(), 1);
    let arrivals: Vec<_> = recorder
        .page_arrivals(&addr.to_string())
        .into_iter()
        .filter(|a| a.path_and_query == "/")
        .collect();
    assert_eq!(arrivals.len(), 2);
    // An HTTP date has one-second resolution: at least one full second passed.
    assert!(gaps(&arrivals)[0] >= Duration::from_secs(1), "{arrivals:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_request_in_flight_per_host_by_default() {
    let recorder = Recorder::default();
    let addr = serve("127.0.0.1", fan_out(Duration::from_millis(50)), &recorder).await;
    let result = crawl(
        test_config(&[format!("http://{addr}/")]),
        FrontierConfig::default(),
    )
    .await;
    assert_eq!(result.pages.len(), 6);
    assert_eq!(recorder.max_in_flight(&addr.to_string()), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hosts_on_one_ip_share_the_per_ip_limit() {
    // Three host names, one address: with one request per IP, the server
    // never sees two at once, although each host may have one in flight.
    let recorder = Recorder::default();
    let addr = serve("127.0.0.1", fan_out(Duration::from_millis(50)), &recorder).await;
    let port = addr.port();
    let hosts = ["one.test", "two.test", "three.test"];
    let seeds: Vec<String> = hosts.iter().map(|h| format!("http://{h}:{port}/")).collect();
    let mut config = test_config(&seeds);
    for host in hosts {
        config.dns.overrides.insert(host.to_string(), vec![addr.ip()]);
    }
    config.politeness.max_in_flight_per_ip = 1;
    let result = crawl(config, FrontierConfig::default()).await;
    assert_eq!(result.pages.len(), 18);
    assert_eq!(recorder.max_in_flight_total(), 1);
}
