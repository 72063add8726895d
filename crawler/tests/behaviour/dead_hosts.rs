//! Dead, silent and slow hosts cost a bounded amount, with the shipped
//! defaults: a batch crawl always ends, every link of a dead host is
//! counted under `host_unreachable`, and a tarpit holds its host only up to
//! the caps.
//!
//! A first version waited 10 minutes and more for a host whose name did
//! not resolve (with a test that shortened the give-up time, so the shipped
//! defaults never ran), and a server trickling a byte a second held its
//! host for a minute a try, three tries.

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::response::{Html, Response};
use axum::routing::get;
use common::SkipReason;
use crawler::CrawlConfig;
use crawler::frontier::FrontierConfig;

use crate::dns::{DnsServer, dns_config};
use crate::support::*;

/// Far beyond what the shipped defaults allow; only a hang reaches it.
const DEADLINE: Duration = Duration::from_secs(240);

/// A body that trickles a byte a second, for ever.
fn tarpit() -> Response {
    let stream = futures::stream::unfold(0u64, |n| async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        Some((Ok::<_, std::io::Error>(bytes::Bytes::from_static(b"x")), n + 1))
    });
    Response::builder()
        .header("content-type", "text/html")
        .body(Body::from_stream(stream))
        .unwrap()
}

/// A TCP server on `ip` that takes connections and never answers; counts
/// them.
async fn silent_server(ip: &str, port: u16) -> Arc<AtomicUsize> {
    let listener = tokio::net::TcpListener::bind((ip.parse::<std::net::IpAddr>().unwrap(), port))
        .await
        .unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            held.push(stream);
        }
    });
    accepted
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_silent_and_trickling_hosts_cost_a_bounded_amount_with_the_shipped_defaults() {
    let recorder = Recorder::default();
    let listener = bind("127.0.0.1").await;
    let port = listener.local_addr().unwrap().port();
    let dns = DnsServer::start(&[
        ("live.test", Ipv4Addr::LOCALHOST, 300),
        // Nothing listens there: connections are refused.
        ("refused.test", Ipv4Addr::new(127, 0, 0, 3), 300),
        // Takes connections, never answers.
        ("silent.test", Ipv4Addr::new(127, 0, 0, 4), 300),
    ])
    .await;
    let silent_connections = silent_server("127.0.0.4", port).await;
    let base = format!("http://live.test:{port}");
    let links = format!(
        "<a href=\"http://gone.test:{port}/a\">gone a</a> <a href=\"http://gone.test:{port}/b\">gone b</a>\
         <a href=\"http://refused.test:{port}/a\">refused a</a> <a href=\"http://refused.test:{port}/b\">refused b</a>\
         <a href=\"http://silent.test:{port}/a\">silent a</a> <a href=\"http://silent.test:{port}/b\">silent b</a>\
         <a href=\"/tarpit\">tarpit</a> <a href=\"/p/1\">one</a> <a href=\"/p/2\">two</a> <a href=\"/p/3\">three</a>"
    );
    let robots = format!("User-agent: *\nAllow: /\nSitemap: http://gone.test:{port}/sitemap.xml\n");
    let router = Router::new()
        .route(
            "/",
            get(move || async move { Html(format!("<title>home</title>{links}")) }),
        )
        .route("/robots.txt", get(move || async move { robots }))
        .route("/tarpit", get(|| async { tarpit() }))
        .route(
            "/p/{n}",
            get(|axum::extract::Path(n): axum::extract::Path<u32>| async move {
                Html(format!("<title>page {n}</title><p>page {n} of the live site</p>"))
            }),
        );
    serve_on(listener, router, &recorder);

    // The shipped defaults, but for loopback addresses and the test's DNS.
    let mut config = CrawlConfig::new(vec![url(&format!("{base}/"))]);
    config.address_policy.allow_private = true;
    config.scope = crawler::scope::Scope::Any;
    config.dns = DnsConfig {
        min_ttl: Duration::from_secs(60),
        ..dns_config(&dns)
    };
    let defaults = CrawlConfig::new(Vec::new());
    assert_eq!(
        config.host_failures.max_failures,
        defaults.host_failures.max_failures
    );
    assert_eq!(config.dns.negative_ttl, defaults.dns.negative_ttl);
    assert_eq!(config.fetch.first_byte_timeout, defaults.fetch.first_byte_timeout);

    let result = tokio::time::timeout(DEADLINE, crawl(config, FrontierConfig::default()))
        .await
        .expect("the batch crawl did not end");
    let summary = &result.summary;

    // The live site is crawled whole.
    for n in 1..=3 {
        assert!(
            result.page(&format!("{base}/p/{n}")).is_some(),
            "page {n}: {summary}"
        );
    }
    // Every link of the three dead hosts (and the sitemap robots.txt names
    // on one of them) is counted under host_unreachable: gone a, b and the
    // sitemap; refused a and b; silent a and b, whose robots.txt never
    // answered.
    assert_eq!(summary.skipped(SkipReason::HostUnreachable), 7, "{summary}");
    assert_eq!(summary.skipped(SkipReason::TooSlow), 1, "the tarpit: {summary}");
    assert!(!summary.every_seed_failed);
    // Bounded tries: three lookups of the missing name at most, three
    // connections to the silent host, two requests to the tarpit.
    assert!(
        dns.a_queries("gone.test") <= 3,
        "{} lookups",
        dns.a_queries("gone.test")
    );
    assert!(silent_connections.load(Ordering::SeqCst) <= 3);
    assert_eq!(
        recorder.hits("/tarpit"),
        2,
        "a URL that was too slow is tried twice at most"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_whose_every_seed_is_unreachable_says_so() {
    let dns = DnsServer::start(&[("refused.test", Ipv4Addr::new(127, 0, 0, 3), 300)]).await;
    let mut config = CrawlConfig::new(vec![url("http://nowhere.test/"), url("http://refused.test:9/")]);
    config.address_policy.allow_private = true;
    config.dns = dns_config(&dns);
    let result = tokio::time::timeout(DEADLINE, crawl(config, FrontierConfig::default()))
        .await
        .expect("the batch crawl did not end");
    assert!(result.summary.every_seed_failed, "{}", result.summary);
    assert_eq!(result.summary.failed_seeds.len(), 2);
    assert_eq!(result.summary.skipped(SkipReason::HostUnreachable), 2);
    assert!(
        result
            .summary
            .to_string()
            .contains("seed failed http://nowhere.test/")
    );
}

use crawler::dns::DnsConfig;
