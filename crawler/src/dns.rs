//! Name resolution for fetches, with a cache of our own, and the address
//! guard.
//!
//! Every connection the crawler opens resolves through [`Resolver`]: first
//! the operator's `--resolve HOST=IP` overrides, then the cache, then
//! hickory-resolver. Answers are cached for their TTL, clamped to
//! `[min_ttl, max_ttl]`; failures for `negative_ttl`. hickory's own cache is
//! off, so that the TTL rules and the hit and miss counts are ours.
//!
//! The guard refuses loopback, private and link-local addresses unless the
//! operator allows them (all, or some networks). It runs on the address
//! actually connected to (the resolver is reqwest's), so a name that
//! re-binds to a private address after a first check is still refused, and
//! so is every redirect hop.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use lru::LruCache;
use tracing::warn;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DnsError {
    #[error("{host} resolves to a non-public address {ip}")]
    PrivateAddress { host: String, ip: IpAddr },
    #[error("cannot resolve {host}: {reason}")]
    Lookup {
        host: String,
        reason: String,
        /// The failure was remembered from an earlier lookup (the negative
        /// cache), not a new one.
        remembered: bool,
    },
}

/// An IP network, `127.0.0.1/32` or `fd00::/8`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    pub addr: IpAddr,
    pub prefix_len: u8,
}

impl IpNet {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (canonical(self.addr), ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => prefix_eq(&net.octets(), &ip.octets(), self.prefix_len),
            (IpAddr::V6(net), IpAddr::V6(ip)) => prefix_eq(&net.octets(), &ip.octets(), self.prefix_len),
            _ => false,
        }
    }
}

impl std::str::FromStr for IpNet {
    type Err = String;
    fn from_str(text: &str) -> Result<IpNet, String> {
        let (addr, len) = text.split_once('/').unwrap_or((text, ""));
        let addr: IpAddr = addr
            .trim()
            .parse()
            .map_err(|_| format!("invalid network {text:?}"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix_len: u8 = if len.is_empty() {
            max
        } else {
            len.trim()
                .parse()
                .map_err(|_| format!("invalid prefix in {text:?}"))?
        };
        if prefix_len > max {
            return Err(format!("prefix too long in {text:?}"));
        }
        // `::ffff:10.0.0.0/104` is the IPv4 network 10.0.0.0/8: store it so,
        // as addresses are compared in their IPv4 form.
        if let IpAddr::V6(v6) = addr
            && let Some(v4) = v6.to_ipv4_mapped()
        {
            if prefix_len < 96 {
                return Err(format!("{text:?} reaches outside the IPv4-mapped range"));
            }
            return Ok(IpNet {
                addr: IpAddr::V4(v4),
                prefix_len: prefix_len - 96,
            });
        }
        Ok(IpNet { addr, prefix_len })
    }
}

/// Whether the first `bits` bits of `a` and `b` agree (`bits` beyond their
/// length count as all of them).
fn prefix_eq(a: &[u8], b: &[u8], bits: u8) -> bool {
    let bits = usize::from(bits).min(a.len() * 8);
    let (full, rest) = (bits / 8, bits % 8);
    a[..full] == b[..full] && (rest == 0 || (a[full] ^ b[full]) >> (8 - rest) == 0)
}

/// IPv4-mapped IPv6 addresses are their IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Which addresses the crawler may connect to.
#[derive(Debug, Clone, Default)]
pub struct AddressPolicy {
    /// Any address at all (`--allow-private`).
    pub allow_private: bool,
    /// Non-public networks allowed anyway (`--allow-net`).
    pub allowed_nets: Vec<IpNet>,
}

impl AddressPolicy {
    pub fn check(&self, host: &str, ip: IpAddr) -> Result<(), DnsError> {
        if self.allow_private || is_public(ip) || self.allowed_nets.iter().any(|net| net.contains(ip)) {
            Ok(())
        } else {
            Err(DnsError::PrivateAddress {
                host: host.to_string(),
                ip,
            })
        }
    }
}

/// Whether `ip` is a globally routable unicast address.
pub fn is_public(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT, RFC 6598
                || (a == 198 && (b == 18 || b == 19)) // benchmarking, RFC 2544
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local, RFC 4193
                || (first & 0xffc0) == 0xfe80 // link-local
                || first == 0x2001 && v6.segments()[1] == 0x0db8) // documentation
        }
    }
}

/// Where names are resolved and how long answers are kept.
#[derive(Debug, Clone)]
pub struct DnsConfig {
    /// `--resolve HOST=IP`: answers that never ask a server.
    pub overrides: HashMap<String, Vec<IpAddr>>,
    /// A name server to ask instead of the system's (`/etc/resolv.conf`).
    pub name_server: Option<SocketAddr>,
    /// Answers are kept at least this long, whatever their TTL...
    pub min_ttl: Duration,
    /// ...and at most this long.
    pub max_ttl: Duration,
    /// Failed lookups are remembered this long.
    pub negative_ttl: Duration,
    /// Names cached at most; past it, the least recently used go.
    pub max_entries: usize,
}

impl Default for DnsConfig {
    fn default() -> Self {
        DnsConfig {
            overrides: HashMap::new(),
            name_server: None,
            // Under a minute, a busy crawl would ask again and again for
            // names with tiny TTLs; over an hour, moved hosts are missed.
            min_ttl: Duration::from_secs(60),
            max_ttl: Duration::from_secs(3600),
            // Short: a failing host is also rested by the crawl (see
            // HostFailurePolicy), which tries it again only after this.
            negative_ttl: Duration::from_secs(10),
            max_entries: 100_000,
        }
    }
}

/// Cache counters, for the summary and metrics.
#[derive(Debug, Default)]
pub struct DnsStats {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
}

struct CacheEntry {
    answer: Result<Vec<IpAddr>, String>,
    expires_at: Instant,
}

/// The crawler's resolver: overrides, then the cache, then hickory; then
/// the address guard.
pub struct Resolver {
    overrides: HashMap<String, Vec<IpAddr>>,
    hickory: TokioResolver,
    policy: AddressPolicy,
    config: DnsConfig,
    /// Least recently used names go first when it is full.
    cache: Mutex<LruCache<String, CacheEntry>>,
    pub stats: DnsStats,
}

impl Resolver {
    pub fn new(config: &DnsConfig, policy: AddressPolicy) -> Resolver {
        let built = match config.name_server {
            Some(server) => {
                let mut udp = ConnectionConfig::udp();
                udp.port = server.port();
                let mut tcp = ConnectionConfig::tcp();
                tcp.port = server.port();
                let name_server = NameServerConfig::new(server.ip(), true, vec![udp, tcp]);
                Ok(TokioResolver::builder_with_config(
                    ResolverConfig::from_name_servers(vec![name_server]),
                    TokioRuntimeProvider::default(),
                ))
            }
            None => TokioResolver::builder_tokio(),
        };
        let mut builder = built.unwrap_or_else(|error| {
            // No usable system configuration: only overrides and IP
            // literals resolve; every other name fails with a clear error.
            warn!(%error, "no DNS configuration; only --resolve overrides will resolve");
            TokioResolver::builder_with_config(
                ResolverConfig::from_name_servers(Vec::new()),
                TokioRuntimeProvider::default(),
            )
        });
        // The cache is ours; the system's other options (timeouts, ndots)
        // stay as configured.
        builder.options_mut().cache_size = 0;
        let hickory = builder
            .build()
            .expect("a resolver from a valid configuration builds");
        let overrides = config
            .overrides
            .iter()
            .map(|(host, ips)| (host.to_ascii_lowercase(), ips.clone()))
            .collect();
        Resolver {
            overrides,
            hickory,
            policy,
            config: config.clone(),
            cache: Mutex::new(LruCache::new(
                NonZeroUsize::new(config.max_entries.max(1)).expect("at least 1"),
            )),
            stats: DnsStats::default(),
        }
    }

    /// Applies the guard to `host` if it is an IP literal; names pass (they
    /// are checked when resolved).
    pub fn check_literal(&self, host: &str) -> Result<(), DnsError> {
        match host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        {
            Ok(ip) => self.policy.check(host, ip),
            Err(_) => Ok(()),
        }
    }

    /// The addresses of `host`, all of which pass the guard. An IP literal
    /// resolves to itself.
    pub async fn resolve(&self, host: &str) -> Result<Vec<IpAddr>, DnsError> {
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        let ips = if let Ok(ip) = host.parse::<IpAddr>() {
            vec![ip]
        } else if let Some(ips) = self.overrides.get(&host) {
            ips.clone()
        } else {
            self.lookup_cached(&host)
                .await
                .map_err(|(reason, remembered)| DnsError::Lookup {
                    host: host.clone(),
                    reason,
                    remembered,
                })?
        };
        // Refuse the host if any address is refused: a name that mixes public
        // and private addresses could be steered to the private one.
        for ip in &ips {
            self.policy.check(&host, *ip)?;
        }
        Ok(ips)
    }

    /// The addresses of `host`, or why not and whether that failure was
    /// remembered rather than new.
    async fn lookup_cached(&self, host: &str) -> Result<Vec<IpAddr>, (String, bool)> {
        let now = Instant::now();
        if let Some(entry) = self.lock_cache().get(host)
            && entry.expires_at > now
        {
            self.stats.hits.fetch_add(1, Relaxed);
            metrics::counter!(common::metrics::CRAWLER_DNS_CACHE_HITS).increment(1);
            return entry.answer.clone().map_err(|reason| (reason, true));
        }
        self.stats.misses.fetch_add(1, Relaxed);
        metrics::counter!(common::metrics::CRAWLER_DNS_CACHE_MISSES).increment(1);
        let (answer, ttl) = match self.hickory.lookup_ip(host).await {
            Ok(lookup) => {
                let ips: Vec<IpAddr> = lookup.iter().collect();
                let ttl = lookup.valid_until().saturating_duration_since(Instant::now());
                if ips.is_empty() {
                    (Err("no addresses".to_string()), self.config.negative_ttl)
                } else {
                    (
                        Ok(ips),
                        ttl.clamp(self.config.min_ttl, self.config.max_ttl.max(self.config.min_ttl)),
                    )
                }
            }
            Err(error) => (Err(error.to_string()), self.config.negative_ttl),
        };
        let expires_at = Instant::now() + ttl;
        self.lock_cache().put(
            host.to_string(),
            CacheEntry {
                answer: answer.clone(),
                expires_at,
            },
        );
        answer.map_err(|reason| (reason, false))
    }

    fn lock_cache(&self) -> std::sync::MutexGuard<'_, LruCache<String, CacheEntry>> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Plugs [`Resolver`] into reqwest so that every connection, redirects
/// included, goes through the guard.
pub struct ReqwestResolver(pub Arc<Resolver>);

impl reqwest::dns::Resolve for ReqwestResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let resolver = self.0.clone();
        Box::pin(async move {
            let ips = resolver.resolve(name.as_str()).await?;
            // reqwest replaces port 0 with the URL's port.
            let addrs: Vec<SocketAddr> = ips.into_iter().map(|ip| SocketAddr::new(ip, 0)).collect();
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_ranges_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "224.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "8.8.8.8", "2606:4700::1111"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn networks_contain_their_addresses() {
        let net: IpNet = "127.0.0.1".parse().unwrap();
        assert!(net.contains("127.0.0.1".parse().unwrap()));
        assert!(!net.contains("127.0.0.2".parse().unwrap()));
        assert!(net.contains("::ffff:127.0.0.1".parse().unwrap()));
        let net: IpNet = "10.0.0.0/9".parse().unwrap();
        assert!(net.contains("10.127.1.1".parse().unwrap()));
        assert!(!net.contains("10.128.0.0".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<IpNet>().is_err());
        // An IPv4-mapped network is its IPv4 network (this used to panic).
        let mapped: IpNet = "::ffff:10.0.0.0/104".parse().unwrap();
        assert!(mapped.contains("10.9.9.9".parse().unwrap()));
        assert!(!mapped.contains("11.0.0.1".parse().unwrap()));
        assert!("::ffff:10.0.0.0/90".parse::<IpNet>().is_err());
        let odd = IpNet {
            addr: "10.0.0.0".parse().unwrap(),
            prefix_len: 120,
        };
        assert!(
            odd.contains("10.0.0.0".parse().unwrap()),
            "an out-of-range prefix never panics"
        );
        assert!("nonsense".parse::<IpNet>().is_err());
    }

    #[tokio::test]
    async fn overrides_and_literals_pass_through_the_guard() {
        let config = DnsConfig {
            overrides: HashMap::from([("Fixture.test".to_string(), vec!["127.0.0.1".parse().unwrap()])]),
            ..DnsConfig::default()
        };
        let strict = Resolver::new(&config, AddressPolicy::default());
        assert!(matches!(
            strict.resolve("fixture.test").await,
            Err(DnsError::PrivateAddress { .. })
        ));
        assert!(matches!(
            strict.resolve("127.0.0.1").await,
            Err(DnsError::PrivateAddress { .. })
        ));
        let one_net = AddressPolicy {
            allow_private: false,
            allowed_nets: vec!["127.0.0.1/32".parse().unwrap()],
        };
        let partial = Resolver::new(&config, one_net);
        assert!(partial.resolve("127.0.0.1").await.is_ok());
        assert!(matches!(
            partial.resolve("127.0.0.2").await,
            Err(DnsError::PrivateAddress { .. })
        ));
        let open = Resolver::new(
            &config,
            AddressPolicy {
                allow_private: true,
                allowed_nets: vec![],
            },
        );
        assert_eq!(
            open.resolve("FIXTURE.test").await.unwrap(),
            vec!["127.0.0.1".parse::<IpAddr>().unwrap()]
        );
        assert_eq!(
            open.resolve("[::1]").await.unwrap(),
            vec!["::1".parse::<IpAddr>().unwrap()]
        );
    }
}
