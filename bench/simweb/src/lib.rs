//! A synthetic web on loopback for measuring a crawl: thousands of hosts
//! (`h0.sim`, `h1.sim`, ...) served by one process, named by its own DNS
//! server, deterministic from a seed, with pages generated when asked for.
//! Hosts differ as real ones do (Zipf-distributed sizes, log-normal
//! latency, and shares that are dead, slow, throttling, ask for a
//! Crawl-delay, keep robots.txt unreachable, disallow paths, redirect
//! across hosts or serve one content under two URLs), and every request is
//! logged so that [`check::report`] can count politeness violations and
//! lost links afterwards.
//!
//! - [`model`]: the web as functions of its seed.
//! - [`dns`]: the authoritative DNS server for `*.sim`.
//! - [`http`]: the pages, on many 127.1.x.y addresses, and the request log.
//! - [`check`]: the report.

pub mod check;
pub mod dns;
pub mod http;
pub mod model;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

pub use check::Report;
pub use model::{Web, WebConfig};

/// A running web.
pub struct SimWeb {
    pub web: Arc<Web>,
    /// The HTTP port every host answers on.
    pub port: u16,
    /// The DNS server to give the crawler (`--dns-server`).
    pub dns: SocketAddr,
    pub dns_queries: Arc<AtomicU64>,
    log: Arc<http::Log>,
}

impl SimWeb {
    /// Starts the web's DNS (on `dns`) and HTTP servers (on `port`; 0 for any).
    pub async fn start(config: WebConfig, port: u16, dns: SocketAddr) -> anyhow::Result<SimWeb> {
        let web = Arc::new(Web::new(config));
        let log = Arc::new(http::Log {
            started: Instant::now(),
            requests: Default::default(),
            unknown: AtomicU64::new(0),
            unknown_examples: Default::default(),
        });
        let (dns, dns_queries) = dns::serve(web.clone(), dns).await?;
        let port = http::serve(web.clone(), port, log.clone()).await?;
        Ok(SimWeb {
            web,
            port,
            dns,
            dns_queries,
            log,
        })
    }

    /// The crawl's seeds.
    pub fn seeds(&self) -> Vec<String> {
        self.web.seeds(self.port)
    }

    /// Requests served so far.
    pub fn requests(&self) -> usize {
        self.log.requests.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// The report on what was requested so far.
    pub fn report(&self) -> Report {
        let log = self
            .log
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let mut report = check::report(
            &self.web,
            &log,
            self.log.unknown.load(Ordering::Relaxed),
            self.port,
        );
        report.unknown_examples = self
            .log
            .unknown_examples
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        report
    }
}
