//! `simweb`: serves a synthetic web until stopped (Ctrl-C or SIGTERM), then
//! writes its report. See bench/simweb/README.md.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Duration;

use clap::Parser;
use simweb::{SimWeb, WebConfig};

#[derive(Parser)]
#[command(about = "A synthetic web of many hosts on loopback")]
struct Args {
    /// `small` (200 hosts, 20,000 pages, scaled-down times) or `large`
    /// (10,000 hosts, about 900,000 pages, real times).
    #[arg(long, default_value = "large")]
    size: String,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Overrides the size's number of hosts.
    #[arg(long)]
    hosts: Option<u32>,
    /// Overrides the size's number of pages.
    #[arg(long)]
    pages: Option<u64>,
    /// Overrides the politeness gap the crawler promised (its --delay-ms).
    #[arg(long)]
    min_gap_ms: Option<u64>,
    /// HTTP port on every address (0: any).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Where the DNS server listens.
    #[arg(long, default_value = "127.0.0.1:0")]
    dns: SocketAddr,
    /// Writes the seeds here, one URL a line.
    #[arg(long)]
    seeds_file: Option<PathBuf>,
    /// Writes the report here (JSON) when stopped; stdout otherwise.
    #[arg(long)]
    report_file: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut config = match args.size.as_str() {
        "small" => WebConfig::small(args.seed),
        "large" => WebConfig::large(args.seed),
        other => anyhow::bail!("--size {other}: small or large"),
    };
    if let Some(hosts) = args.hosts {
        config.hosts = hosts;
    }
    if let Some(pages) = args.pages {
        config.pages = pages;
    }
    if let Some(gap) = args.min_gap_ms {
        config.min_gap = Duration::from_millis(gap);
    }
    let web = SimWeb::start(config, args.port, args.dns).await?;
    if let Some(path) = &args.seeds_file {
        std::fs::write(path, web.seeds().join("\n") + "\n")?;
    }
    let pages: u64 = web.web.hosts().iter().map(|h| h.pages).sum();
    eprintln!(
        "simweb: {} hosts, {pages} pages on port {} of 127.1.0.1-{}; DNS on {}",
        web.web.config.hosts,
        web.port,
        simweb::Web::address_of_slot(web.web.config.addresses - 1),
        web.dns
    );
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut tick = tokio::time::interval(Duration::from_secs(10));
    let mut last = 0;
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = term.recv() => break,
            _ = tick.tick() => {
                let now = web.requests();
                eprintln!("simweb: {now} requests ({:.1}/s), {} DNS queries", (now - last) as f64 / 10.0, web.dns_queries.load(Ordering::Relaxed));
                last = now;
            }
        }
    }
    let report = serde_json::to_string_pretty(&web.report())?;
    match &args.report_file {
        Some(path) => std::fs::write(path, report)?,
        None => println!("{report}"),
    }
    Ok(())
}
