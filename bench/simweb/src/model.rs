//! The web itself: which hosts exist, what each is like, how many pages it
//! has and what every page says and links to. Everything is a function of
//! the seed, so a page is generated when asked for and the checker can walk
//! the same link graph the crawler saw.

use std::net::Ipv4Addr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64_with_seed;

/// The shape of a simulated web.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WebConfig {
    /// Draws every choice: the same seed makes the same web.
    pub seed: u64,
    /// Hosts, named `h0.sim` .. `h{hosts-1}.sim`; `h0` is the largest.
    pub hosts: u32,
    /// About this many pages in all, spread over the hosts by Zipf's law.
    pub pages: u64,
    /// The Zipf exponent: host `h` has about `C / (h+1)^s` pages.
    pub zipf_exponent: f64,
    /// No host has more pages than this.
    pub max_pages_per_host: u64,
    /// Addresses the hosts are spread over: 127.1.0.1, 127.1.0.2, ... (at most 65,535)
    pub addresses: u32,
    /// Median response time of an ordinary host (log-normal, sigma 0.8).
    pub median_latency: Duration,
    /// Multiplies every time the web makes a client wait (latency,
    /// Crawl-delay); a small web for tests runs with a small scale.
    pub time_scale: f64,
    /// `Retry-After` sent with 429 and 503, in whole seconds.
    pub retry_after_secs: u32,
    /// The politeness the crawler promised: the least time between the end
    /// of one answer and the next request to the same host.
    pub min_gap: Duration,
    /// How many hosts the crawl starts from (`h0` .. `h{seeds-1}`).
    pub seeds: u32,
}

impl WebConfig {
    /// The web of the CI check: about 200 hosts and 20,000 pages, quick.
    pub fn small(seed: u64) -> WebConfig {
        WebConfig {
            seed,
            hosts: 200,
            pages: 20_000,
            zipf_exponent: 0.5,
            max_pages_per_host: 100_000,
            addresses: 32,
            median_latency: Duration::from_millis(80),
            time_scale: 0.02,
            retry_after_secs: 1,
            min_gap: Duration::from_millis(10),
            seeds: 5,
        }
    }

    /// The measured web: 10,000 hosts, about 900,000 pages, the largest with 100,000.
    pub fn large(seed: u64) -> WebConfig {
        WebConfig {
            seed,
            hosts: 10_000,
            pages: 1_000_000,
            zipf_exponent: 1.2,
            max_pages_per_host: 100_000,
            addresses: 256,
            median_latency: Duration::from_millis(80),
            time_scale: 1.0,
            retry_after_secs: 5,
            min_gap: Duration::from_secs(1),
            seeds: 20,
        }
    }
}

/// What a host is like. Most are ordinary; the rest are the ways real hosts
/// make a crawler's life hard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum HostKind {
    Ordinary,
    /// Its name does not resolve (NXDOMAIN).
    NoSuchName,
    /// Its address takes no connection.
    Refused,
    /// Answers after seconds, not milliseconds.
    Slow,
    /// Now and then answers 429 or 503 with `Retry-After`.
    Throttling,
    /// robots.txt asks for a `Crawl-delay` longer than the default gap.
    CrawlDelay,
    /// robots.txt answers 503: nothing on the host may be fetched (RFC 9309 2.3.1.4).
    RobotsError,
    /// robots.txt disallows `/private/`, and pages link there.
    Disallowing,
    /// Some links go through `/go/N`, a redirect to another host's page.
    Redirecting,
    /// Every page also answers at `?copy=1`, with the same content.
    Duplicating,
}

/// A host of the web.
#[derive(Debug, Clone, Copy)]
pub struct Host {
    pub id: u32,
    pub kind: HostKind,
    pub pages: u64,
    /// The median of its response times, before `time_scale`.
    pub latency: Duration,
    pub address: Ipv4Addr,
}

/// One page's path, parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PagePath {
    /// `/` is page 0; `/p/N` is page N.
    Page(u64),
    /// `/p/N?copy=1`: page N again (on a duplicating host).
    Copy(u64),
    /// `/private/N`: disallowed by robots.txt on a disallowing host.
    Private(u64),
    /// `/go/N`: a redirect to another host (on a redirecting host).
    Go(u64),
    RobotsTxt,
    /// `/sitemap.xml`, which crawlers ask for unasked: the web has none (404).
    SitemapXml,
}

impl PagePath {
    pub fn parse(path: &str, query: Option<&str>) -> Option<PagePath> {
        if path == "/robots.txt" {
            return Some(PagePath::RobotsTxt);
        }
        if path == "/sitemap.xml" {
            return Some(PagePath::SitemapXml);
        }
        if path == "/" {
            return Some(PagePath::Page(0));
        }
        let number = |prefix: &str| path.strip_prefix(prefix)?.parse::<u64>().ok();
        if let Some(n) = number("/p/") {
            return Some(match query {
                None => PagePath::Page(n),
                Some("copy=1") => PagePath::Copy(n),
                Some(_) => return None,
            });
        }
        if query.is_some() {
            return None;
        }
        number("/private/")
            .map(PagePath::Private)
            .or_else(|| number("/go/").map(PagePath::Go))
    }

    pub fn render(self) -> String {
        match self {
            PagePath::Page(0) => "/".to_string(),
            PagePath::Page(n) => format!("/p/{n}"),
            PagePath::Copy(n) => format!("/p/{n}?copy=1"),
            PagePath::Private(n) => format!("/private/{n}"),
            PagePath::Go(n) => format!("/go/{n}"),
            PagePath::RobotsTxt => "/robots.txt".to_string(),
            PagePath::SitemapXml => "/sitemap.xml".to_string(),
        }
    }
}

/// A link from a page: a host and a path on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Link {
    pub host: u32,
    pub path: PagePath,
}

/// The whole web, as functions of its seed.
#[derive(Debug, Clone)]
pub struct Web {
    pub config: WebConfig,
    hosts: Vec<Host>,
}

/// Shares of each kind among hosts past the seeds, in percent.
const KIND_SHARES: [(HostKind, u64); 9] = [
    (HostKind::NoSuchName, 2),
    (HostKind::Refused, 2),
    (HostKind::Slow, 3),
    (HostKind::Throttling, 5),
    (HostKind::CrawlDelay, 5),
    (HostKind::RobotsError, 2),
    (HostKind::Disallowing, 8),
    (HostKind::Redirecting, 5),
    (HostKind::Duplicating, 5),
];

/// Links from a page to other pages of its host, besides its two children.
const LINKS_WITHIN: u64 = 2;
/// Links from a page to other hosts.
const LINKS_ACROSS: u64 = 2;
/// Words of text on a page.
const WORDS_PER_PAGE: u64 = 120;

impl Web {
    pub fn new(config: WebConfig) -> Web {
        let weights: Vec<f64> = (0..config.hosts)
            .map(|h| 1.0 / f64::from(h + 1).powf(config.zipf_exponent))
            .collect();
        let scale = config.pages as f64 / weights.iter().sum::<f64>();
        let mut hosts = Vec::with_capacity(config.hosts as usize);
        for (id, weight) in (0..config.hosts).zip(weights) {
            let pages = ((weight * scale).round() as u64).clamp(1, config.max_pages_per_host);
            let draw = |what: u64| {
                xxh3_64_with_seed(
                    &[id.to_le_bytes(), (what as u32).to_le_bytes()].concat(),
                    config.seed,
                )
            };
            let kind = if id < config.seeds {
                HostKind::Ordinary
            } else {
                let mut roll = draw(1) % 100;
                let mut kind = HostKind::Ordinary;
                for (k, share) in KIND_SHARES {
                    if roll < share {
                        kind = k;
                        break;
                    }
                    roll -= share;
                }
                kind
            };
            // Log-normal latency, sigma 0.8, from two uniform draws (Box-Muller).
            let u1 = (draw(2) % 1_000_000 + 1) as f64 / 1_000_001.0;
            let u2 = (draw(3) % 1_000_000) as f64 / 1_000_000.0;
            let normal = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
            let mut latency = config.median_latency.mul_f64((0.8 * normal).exp().min(20.0));
            if kind == HostKind::Slow {
                latency = Duration::from_millis(1500 + draw(4) % 2000);
            }
            let slot = id % config.addresses;
            let address = if kind == HostKind::Refused {
                // Nothing listens on 127.2.0.0/16.
                let [_, _, high, low] = Web::address_of_slot(slot).octets();
                Ipv4Addr::new(127, 2, high, low)
            } else {
                Web::address_of_slot(slot)
            };
            hosts.push(Host {
                id,
                kind,
                pages,
                latency,
                address,
            });
        }
        Web { config, hosts }
    }

    /// The address the server listens on for slot `slot` (< `addresses`).
    pub fn address_of_slot(slot: u32) -> Ipv4Addr {
        let n = slot + 1;
        Ipv4Addr::new(127, 1, (n >> 8) as u8, (n & 0xff) as u8)
    }

    pub fn hosts(&self) -> &[Host] {
        &self.hosts
    }

    pub fn host(&self, id: u32) -> Option<&Host> {
        self.hosts.get(id as usize)
    }

    /// `h17.sim` -> 17.
    pub fn host_by_name(&self, name: &str) -> Option<&Host> {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        let id: u32 = name.strip_prefix('h')?.strip_suffix(".sim")?.parse().ok()?;
        if name != format!("h{id}.sim") {
            return None;
        }
        self.host(id)
    }

    pub fn host_name(id: u32) -> String {
        format!("h{id}.sim")
    }

    fn draw(&self, host: u32, page: u64, what: u64) -> u64 {
        let mut key = [0u8; 20];
        key[..4].copy_from_slice(&host.to_le_bytes());
        key[4..12].copy_from_slice(&page.to_le_bytes());
        key[12..].copy_from_slice(&what.to_le_bytes());
        xxh3_64_with_seed(&key, self.config.seed ^ 0x5eed)
    }

    /// Whether `path` exists on `host` (an answer of 200 or a redirect).
    pub fn exists(&self, host: &Host, path: PagePath) -> bool {
        match path {
            PagePath::Page(n) => n < host.pages,
            PagePath::Copy(n) => host.kind == HostKind::Duplicating && n < host.pages,
            PagePath::Private(n) => host.kind == HostKind::Disallowing && n < host.pages,
            PagePath::Go(n) => host.kind == HostKind::Redirecting && n < host.pages,
            PagePath::RobotsTxt => true,
            PagePath::SitemapXml => false,
        }
    }

    /// The links on a page (for `Copy`, the same as its original's; a
    /// private page links like the public one of its number).
    pub fn links(&self, host: &Host, page: u64) -> Vec<Link> {
        let mut links = Vec::new();
        let within = |path| Link { host: host.id, path };
        for child in [2 * page + 1, 2 * page + 2] {
            if child < host.pages {
                links.push(within(PagePath::Page(child)));
            }
        }
        for i in 0..LINKS_WITHIN {
            let target = self.draw(host.id, page, 10 + i) % host.pages;
            links.push(within(PagePath::Page(target)));
        }
        match host.kind {
            HostKind::Duplicating => links.push(within(PagePath::Copy(page))),
            HostKind::Disallowing if page.is_multiple_of(4) => links.push(within(PagePath::Private(page))),
            HostKind::Redirecting if page.is_multiple_of(2) => links.push(within(PagePath::Go(page))),
            _ => {}
        }
        for i in 0..LINKS_ACROSS {
            links.push(self.link_across(host.id, page, 20 + i));
        }
        links
    }

    /// A link to another host: its front page or a page of it, drawn.
    fn link_across(&self, host: u32, page: u64, what: u64) -> Link {
        let target = &self.hosts[(self.draw(host, page, what) % u64::from(self.config.hosts)) as usize];
        let n = if self.draw(host, page, what + 100).is_multiple_of(2) {
            0
        } else {
            self.draw(host, page, what + 200) % target.pages
        };
        Link {
            host: target.id,
            path: PagePath::Page(n),
        }
    }

    /// Where `/go/N` on a redirecting host leads.
    pub fn redirect_target(&self, host: &Host, n: u64) -> Link {
        self.link_across(host.id, n, 30)
    }

    /// The page's words: drawn from a vocabulary of made-up words, so that
    /// no two pages are near-duplicates of each other.
    pub fn text(&self, host: &Host, page: u64) -> String {
        const SYLLABLES: [&str; 32] = [
            "ka", "lo", "mi", "nu", "pe", "ra", "si", "to", "va", "ze", "bo", "du", "fa", "gi", "ho", "ju",
            "ke", "la", "mo", "ni", "po", "ru", "sa", "te", "vi", "zo", "be", "di", "fo", "gu", "ha", "je",
        ];
        let mut text = String::with_capacity(WORDS_PER_PAGE as usize * 8);
        for i in 0..WORDS_PER_PAGE {
            let mut word_draw = self.draw(host.id, page, 1000 + i) % 40_000;
            let syllables = 2 + word_draw % 3;
            word_draw /= 3;
            for _ in 0..syllables {
                text.push_str(SYLLABLES[(word_draw % 32) as usize]);
                word_draw = word_draw / 32 + 7;
            }
            text.push(' ');
        }
        text
    }

    /// robots.txt of a host (None: 404; an error kind answers 503 instead).
    pub fn robots_txt(&self, host: &Host) -> Option<String> {
        match host.kind {
            HostKind::CrawlDelay => Some(format!(
                "User-agent: *\nCrawl-delay: {}\n",
                self.crawl_delay_secs()
            )),
            HostKind::Disallowing => Some("User-agent: *\nDisallow: /private/\n".to_string()),
            _ => None,
        }
    }

    /// The `Crawl-delay` a crawl-delay host asks for, in seconds: twice the
    /// default gap, so honouring it shows.
    pub fn crawl_delay_secs(&self) -> f64 {
        (self.config.min_gap.as_secs_f64() * 2.0).max(0.001)
    }

    /// The seeds: the front pages of the first hosts.
    pub fn seeds(&self, port: u16) -> Vec<String> {
        (0..self.config.seeds.min(self.config.hosts))
            .map(|h| format!("http://{}:{port}/", Web::host_name(h)))
            .collect()
    }

    /// Whether a 200 or redirect from this host may be fetched at all (the
    /// name resolves, the address answers, robots.txt is readable).
    pub fn reachable(&self, host: &Host) -> bool {
        !matches!(
            host.kind,
            HostKind::NoSuchName | HostKind::Refused | HostKind::RobotsError
        )
    }

    /// Whether robots.txt of `host` allows `path`.
    pub fn allowed(&self, host: &Host, path: PagePath) -> bool {
        !(host.kind == HostKind::Disallowing && matches!(path, PagePath::Private(_)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_follow_zipf_and_kinds_are_mixed() {
        let web = Web::new(WebConfig::large(7));
        let total: u64 = web.hosts().iter().map(|h| h.pages).sum();
        assert!((800_000..1_000_000).contains(&total), "{total}");
        assert_eq!(web.hosts()[0].pages, 100_000);
        let handful = web.hosts().iter().filter(|h| h.pages <= 10).count();
        assert!(handful > 5_000, "{handful}");
        let dead = web
            .hosts()
            .iter()
            .filter(|h| h.kind == HostKind::NoSuchName)
            .count();
        assert!((100..300).contains(&dead), "{dead}");
    }

    #[test]
    fn paths_round_trip() {
        for path in [
            PagePath::Page(0),
            PagePath::Page(9),
            PagePath::Copy(3),
            PagePath::Private(4),
            PagePath::Go(2),
            PagePath::RobotsTxt,
            PagePath::SitemapXml,
        ] {
            let rendered = path.render();
            let (p, q) = match rendered.split_once('?') {
                Some((p, q)) => (p, Some(q)),
                None => (rendered.as_str(), None),
            };
            assert_eq!(PagePath::parse(p, q), Some(path), "{rendered}");
        }
        assert_eq!(PagePath::parse("/p/x", None), None);
    }

    #[test]
    fn the_same_seed_makes_the_same_web() {
        let a = Web::new(WebConfig::small(3));
        let b = Web::new(WebConfig::small(3));
        let host = a.hosts()[4];
        assert_eq!(a.links(&host, 1), b.links(&b.hosts()[4], 1));
        assert_eq!(a.text(&host, 1), b.text(&b.hosts()[4], 1));
        assert_ne!(a.text(&host, 1), a.text(&host, 2));
    }
}
