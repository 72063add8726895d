//! A hostile web: servers that trickle, loop, flood, lie about types and
//! encodings, and never end. The crawl must finish, stay up, and count
//! each case under its reason.

use std::io::Write;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use bytes::Bytes;
use common::SkipReason;
use crawler::frontier::FrontierConfig;

use crate::support::*;

const CAP_BYTES: usize = 256 * 1024;

fn html_response(body: impl Into<Body>) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body.into()).into_response()
}

fn hostile_site() -> Router {
    let links = [
        "/trickle",
        "/loop/a",
        "/huge",
        "/bomb",
        "/pdf",
        "/invalid-utf8",
        "/sjis",
        "/cal?d=2020-01-01",
        "/chain/0",
    ];
    let index: String = links
        .iter()
        .map(|l| format!("<a href=\"{l}\">{l}</a> "))
        .collect();
    let bomb = gzip_bomb();
    Router::new()
        .route(
            "/",
            get(move || async move { Html(format!("<title>hostile</title>{index}")) }),
        )
        // Headers at once, then one byte every 300 ms, forever.
        .route(
            "/trickle",
            get(|| async {
                let drip = futures::stream::unfold((), |()| async {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    Some((Ok::<_, std::io::Error>(Bytes::from_static(b" ")), ()))
                });
                html_response(Body::from_stream(drip))
            }),
        )
        .route("/loop/a", get(|| async { Redirect::temporary("/loop/b") }))
        .route("/loop/b", get(|| async { Redirect::temporary("/loop/a") }))
        .route("/self", get(|| async { Redirect::temporary("/self") }))
        // 100 MB of markup before any text: cut at the cap, nothing to index.
        .route(
            "/huge-head",
            get(|| async {
                let chunk = Bytes::from("<!-- ".to_string() + &"x".repeat(64 * 1024) + " -->");
                let head = futures::stream::once(async {
                    Ok::<_, std::io::Error>(Bytes::from_static(b"<html><head>"))
                });
                let rest =
                    futures::stream::iter((0..1500).map(move |_| Ok::<_, std::io::Error>(chunk.clone())));
                html_response(Body::from_stream(futures::StreamExt::chain(head, rest)))
            }),
        )
        // 100 MB of HTML, streamed.
        .route(
            "/huge",
            get(|| async {
                let chunk = Bytes::from("<p>filler text for a page that never ends</p>\n".repeat(1400));
                let chunks = futures::stream::iter(
                    (0..100_000_000 / chunk.len()).map(move |_| Ok::<_, std::io::Error>(chunk.clone())),
                );
                html_response(Body::from_stream(chunks))
            }),
        )
        // A few hundred KB that inflate to 200 MB.
        .route(
            "/bomb",
            get(move || async move {
                (
                    [
                        (header::CONTENT_TYPE, "text/html"),
                        (header::CONTENT_ENCODING, "gzip"),
                    ],
                    bomb,
                )
                    .into_response()
            }),
        )
        .route(
            "/pdf",
            get(|| async { html_response("%PDF-1.4\n%\u{e2}\u{e3}\n1 0 obj << /Type /Catalog >> endobj") }),
        )
        .route(
            "/invalid-utf8",
            get(|| async {
                html_response(&b"<title>caf\xe9 \xff\xfe broken</title><p>still a page</p>"[..])
            }),
        )
        .route(
            "/sjis",
            get(|| async {
                let (bytes, _, _) =
                    encoding_rs::SHIFT_JIS.encode("<title>日本語のページ</title><p>こんにちは</p>");
                (
                    [(header::CONTENT_TYPE, "text/html; charset=Shift_JIS")],
                    bytes.into_owned(),
                )
                    .into_response()
            }),
        )
        // An endless calendar: every day links to the next.
        .route(
            "/cal",
            get(
                |Query(query): Query<std::collections::HashMap<String, String>>| async move {
                    let day = query
                        .get("d")
                        .and_then(|d| chrono_like_next(d))
                        .unwrap_or_default();
                    Html(format!(
                        "<title>calendar</title>the day before {day} <a href=\"/cal?d={day}\">next day</a>"
                    ))
                },
            ),
        )
        // Twelve redirects in a row.
        .route(
            "/chain/{n}",
            get(|Path(n): Path<u32>| async move {
                if n < 12 {
                    Redirect::temporary(&format!("/chain/{}", n + 1)).into_response()
                } else {
                    Html("end").into_response()
                }
            }),
        )
}

/// The day after `YYYY-MM-DD`, with 28-day months: all a calendar trap needs.
fn chrono_like_next(day: &str) -> Option<String> {
    let mut parts = day.split('-').map(|p| p.parse::<u32>().ok());
    let (y, m, d) = (parts.next()??, parts.next()??, parts.next()??);
    let (y, m, d) = if d < 28 {
        (y, m, d + 1)
    } else if m < 12 {
        (y, m + 1, 1)
    } else {
        (y + 1, 1, 1)
    };
    Some(format!("{y:04}-{m:02}-{d:02}"))
}

fn gzip_bomb() -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let block = "<p>bomb</p>".repeat(100_000);
    for _ in 0..(200_000_000 / block.len()) {
        encoder.write_all(block.as_bytes()).unwrap();
    }
    encoder.finish().unwrap()
}

/// A home page behind `robots`, its own on each host (not a copy of another's).
fn page_site(robots: Router) -> Router {
    robots.route(
        "/",
        get(|headers: axum::http::HeaderMap| async move {
            let host = headers
                .get("host")
                .and_then(|h| h.to_str().ok())
                .unwrap_or_default();
            Html(format!("<title>behind robots</title>the content of {host}"))
        }),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_web_is_crawled_to_the_end_and_every_case_counted() {
    let recorder = Recorder::default();
    let hostile = serve("127.0.0.1", hostile_site(), &recorder).await;
    let robots_500 = serve(
        "127.0.0.1",
        page_site(Router::new().route("/robots.txt", get(|| async { StatusCode::INTERNAL_SERVER_ERROR }))),
        &recorder,
    )
    .await;
    let robots_404 = serve("127.0.0.1", page_site(Router::new()), &recorder).await;
    let mut six_hops = Router::new().route("/robots.txt", get(|| async { Redirect::temporary("/hop/1") }));
    for hop in 1..=6 {
        let next = if hop < 6 {
            format!("/hop/{}", hop + 1)
        } else {
            "/rules.txt".to_string()
        };
        six_hops = six_hops.route(
            &format!("/hop/{hop}"),
            get(move || async move { Redirect::temporary(&next) }),
        );
    }
    let six_hops = six_hops.route("/rules.txt", get(|| async { "User-agent: *\nDisallow: /\n" }));
    let robots_six_redirects = serve("127.0.0.1", page_site(six_hops), &recorder).await;

    let seeds: Vec<String> = [hostile, robots_500, robots_404, robots_six_redirects]
        .iter()
        .map(|addr| format!("http://{addr}/"))
        .collect();
    let mut config = test_config(&seeds);
    config.fetch.max_body_bytes = CAP_BYTES;
    config.fetch.first_byte_timeout = Duration::from_secs(2);
    config.fetch.total_timeout = Duration::from_millis(1500);
    let frontier = FrontierConfig {
        max_retries: 1,
        max_queries_per_path: 20,
        ..FrontierConfig::default()
    };
    let result = tokio::time::timeout(Duration::from_secs(60), crawl(config, frontier))
        .await
        .expect("the crawl ends");
    let summary = &result.summary;
    let at = |path: &str| format!("http://{hostile}{path}");

    // A trickle times out; it is tried once more, then counted as too slow.
    assert_eq!(recorder.hits("/trickle"), 2);
    assert_eq!(summary.skipped(SkipReason::TooSlow), 1, "{summary:?}");
    assert_eq!(summary.skipped(SkipReason::Error), 0, "{summary:?}");
    // The redirect loop, the endless calendar and the twelve-hop chain are traps.
    assert_eq!(recorder.hits("/loop/a"), 1);
    assert_eq!(recorder.hits("/loop/b"), 1);
    assert_eq!(
        recorder
            .arrivals()
            .iter()
            .filter(|a| a.path_and_query.starts_with("/cal?"))
            .count(),
        20
    );
    assert_eq!(recorder.hits("/chain/11"), 0);
    assert_eq!(summary.skipped(SkipReason::Trap), 3, "{summary:?}");
    // The 100 MB body and the gzip bomb stop at the cap and are indexed cut.
    assert_eq!(summary.truncated, 2);
    for path in ["/huge", "/bomb"] {
        let page = result.page(&at(path)).unwrap_or_else(|| panic!("{path} indexed"));
        assert!(page.text.len() <= CAP_BYTES, "{path}");
    }
    // A PDF labelled text/html is the wrong type.
    assert_eq!(summary.skipped(SkipReason::WrongType), 1);
    assert!(result.page(&at("/pdf")).is_none());
    // Broken and foreign encodings decode.
    assert!(
        result
            .page(&at("/invalid-utf8"))
            .unwrap()
            .title
            .contains('\u{fffd}')
    );
    assert_eq!(result.page(&at("/sjis")).unwrap().title, "日本語のページ");
    // robots.txt answering 500 blocks its host; 404 and six redirects allow everything.
    assert_eq!(summary.skipped(SkipReason::Robots), 1);
    assert!(result.page(&format!("http://{robots_500}/")).is_none());
    assert!(result.page(&format!("http://{robots_404}/")).is_some());
    assert!(result.page(&format!("http://{robots_six_redirects}/")).is_some());
    for hop in 1..=5 {
        assert_eq!(
            recorder.hits(&format!("/hop/{hop}")),
            1,
            "redirect {hop} followed"
        );
    }
    assert_eq!(
        recorder.hits("/rules.txt"),
        0,
        "the sixth redirect is not followed"
    );
}
