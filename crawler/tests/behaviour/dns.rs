//! The DNS cache against a real DNS server: the simulated web's
//! authoritative server (`simweb::dns`, hickory-proto over UDP on
//! 127.0.0.1:0) with a fixed zone, counting the A queries it answers.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::Path;
use axum::response::Html;
use axum::routing::get;
use common::SkipReason;
use crawler::dns::{AddressPolicy, DnsConfig, Resolver};
use crawler::frontier::FrontierConfig;
use hickory_proto::rr::RecordType;

use crate::support::*;

/// An authoritative DNS server for a fixed zone of A records.
pub struct DnsServer {
    addr: SocketAddr,
    a_queries: Arc<Mutex<HashMap<String, usize>>>,
}

impl DnsServer {
    pub async fn start(zone: &[(&str, Ipv4Addr, u32)]) -> DnsServer {
        let zone: HashMap<String, (Ipv4Addr, u32)> = zone
            .iter()
            .map(|(name, ip, ttl)| (name.to_string(), (*ip, *ttl)))
            .collect();
        let a_queries = Arc::new(Mutex::new(HashMap::new()));
        let counts = a_queries.clone();
        // A lookup asks A (then AAAA, for a missing name): one count per lookup.
        let addr = simweb::dns::serve_zone("127.0.0.1:0".parse().unwrap(), move |name, record_type| {
            if record_type == RecordType::A {
                *counts.lock().unwrap().entry(name.to_string()).or_insert(0) += 1;
            }
            zone.get(name).copied()
        })
        .await
        .unwrap();
        DnsServer { addr, a_queries }
    }

    pub fn a_queries(&self, name: &str) -> usize {
        self.a_queries.lock().unwrap().get(name).copied().unwrap_or(0)
    }
}

pub fn dns_config(server: &DnsServer) -> DnsConfig {
    DnsConfig {
        name_server: Some(server.addr),
        min_ttl: Duration::ZERO,
        ..DnsConfig::default()
    }
}

fn open_policy() -> AddressPolicy {
    AddressPolicy {
        allow_private: true,
        allowed_nets: Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_are_cached_for_their_ttl_and_asked_again_after() {
    let server = DnsServer::start(&[("ttl.test", Ipv4Addr::LOCALHOST, 1)]).await;
    let resolver = Resolver::new(&dns_config(&server), open_policy());
    for _ in 0..5 {
        assert_eq!(
            resolver.resolve("ttl.test").await.unwrap(),
            vec![Ipv4Addr::LOCALHOST]
        );
    }
    assert_eq!(
        server.a_queries("ttl.test"),
        1,
        "within the TTL the server is asked once"
    );
    assert_eq!(
        (
            resolver.stats.hits.load(Relaxed),
            resolver.stats.misses.load(Relaxed)
        ),
        (4, 1)
    );

    tokio::time::sleep(Duration::from_millis(1200)).await;
    resolver.resolve("ttl.test").await.unwrap();
    assert_eq!(server.a_queries("ttl.test"), 2, "an expired entry is asked again");
    assert_eq!(resolver.stats.misses.load(Relaxed), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ttls_are_clamped_and_failures_cached_briefly() {
    let server = DnsServer::start(&[
        ("short.test", Ipv4Addr::LOCALHOST, 1),
        ("long.test", Ipv4Addr::LOCALHOST, 86_400),
    ])
    .await;
    let config = DnsConfig {
        min_ttl: Duration::from_secs(3),
        max_ttl: Duration::from_millis(800),
        negative_ttl: Duration::from_secs(30),
        ..dns_config(&server)
    };
    // max_ttl < min_ttl is a misconfiguration; min wins, so use two resolvers.
    let keeps_short_answers = Resolver::new(
        &DnsConfig {
            max_ttl: Duration::from_secs(60),
            ..config.clone()
        },
        open_policy(),
    );
    let drops_long_answers = Resolver::new(
        &DnsConfig {
            min_ttl: Duration::ZERO,
            ..config
        },
        open_policy(),
    );

    keeps_short_answers.resolve("short.test").await.unwrap();
    drops_long_answers.resolve("long.test").await.unwrap();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    keeps_short_answers.resolve("short.test").await.unwrap();
    drops_long_answers.resolve("long.test").await.unwrap();
    assert_eq!(
        server.a_queries("short.test"),
        1,
        "a 1 s TTL is kept for min_ttl (3 s)"
    );
    assert_eq!(
        server.a_queries("long.test"),
        2,
        "a day-long TTL is cut to max_ttl (0.8 s)"
    );

    assert!(keeps_short_answers.resolve("missing.test").await.is_err());
    assert!(keeps_short_answers.resolve("missing.test").await.is_err());
    assert_eq!(
        server.a_queries("missing.test"),
        1,
        "NXDOMAIN is cached for negative_ttl"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crawl_asks_the_server_once_per_host_within_the_ttl() {
    let recorder = Recorder::default();
    let router = Router::new().route(
        "/p/{i}",
        get(|Path(i): Path<usize>| async move {
            let next = if i < 9 {
                format!("<a href=\"/p/{}\">next</a>", i + 1)
            } else {
                String::new()
            };
            Html(format!("<title>p{i}</title>page {i} {next}"))
        }),
    );
    let addr = serve("127.0.0.1", router, &recorder).await;
    let server = DnsServer::start(&[("site.test", Ipv4Addr::LOCALHOST, 300)]).await;
    let mut config = test_config(&[format!("http://site.test:{}/p/0", addr.port())]);
    config.dns = dns_config(&server);
    let result = crawl(config, FrontierConfig::default()).await;
    assert_eq!(result.pages.len(), 10);
    assert_eq!(server.a_queries("site.test"), 1);
    assert_eq!(result.summary.dns_misses, 1);
    assert!(result.summary.dns_hits >= 10, "{:?}", result.summary);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_that_does_not_resolve_waits_then_is_skipped() {
    // Its links are put back while the name fails (no retries spent), and
    // skipped once it has failed `max_failures` times in a row, so the
    // crawl ends. (dead_hosts.rs runs the same with the shipped defaults.)
    let server = DnsServer::start(&[]).await;
    let mut config = test_config(&[
        "http://gone.test/".to_string(),
        "http://gone.test/other".to_string(),
    ]);
    config.dns = DnsConfig {
        negative_ttl: Duration::from_millis(200),
        ..dns_config(&server)
    };
    let result = crawl(config, FrontierConfig::default()).await;
    assert!(result.pages.is_empty());
    assert_eq!(result.summary.skipped(SkipReason::HostUnreachable), 2);
    assert_eq!(result.summary.retries, 0);
    assert_eq!(result.summary.host_backoffs, 2, "two failures rested the host");
    assert_eq!(
        server.a_queries("gone.test"),
        3,
        "asked again once each failure expired, three times in all"
    );
    assert!(result.summary.every_seed_failed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_address_guard_checks_resolved_addresses_and_every_redirect_hop() {
    // 127.0.0.1 is allowed (as a public address would be); 127.0.0.2 is not.
    // A name that resolves to 127.0.0.2 is refused, and so is a redirect from
    // an allowed host to it.
    let recorder = Recorder::default();
    let forbidden = serve(
        "127.0.0.2",
        Router::new().route("/secret", get(|| async { "secret" })),
        &recorder,
    )
    .await;
    let secret = format!("http://{forbidden}/secret");
    let allowed = serve(
        "127.0.0.1",
        Router::new()
            .route("/", get(|| async { Html("<a href=\"/jump\">jump</a>") }))
            .route(
                "/jump",
                get(move || async move { axum::response::Redirect::temporary(&secret) }),
            ),
        &recorder,
    )
    .await;
    let server = DnsServer::start(&[("rebound.test", Ipv4Addr::new(127, 0, 0, 2), 300)]).await;
    let mut config = test_config(&[
        format!("http://{allowed}/"),
        format!("http://rebound.test:{}/secret", forbidden.port()),
    ]);
    config.address_policy = AddressPolicy {
        allow_private: false,
        allowed_nets: vec!["127.0.0.1/32".parse().unwrap()],
    };
    config.dns = dns_config(&server);
    let result = crawl(config, FrontierConfig::default()).await;
    assert_eq!(recorder.hits("/secret"), 0, "nothing reached 127.0.0.2");
    assert_eq!(
        result.summary.skipped(SkipReason::PrivateAddress),
        2,
        "the name and the redirect hop"
    );
    assert_eq!(result.summary.redirects, 1);
}
