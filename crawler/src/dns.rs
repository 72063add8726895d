//! Name resolution for fetches, and the address guard.
//!
//! Every connection the crawler opens resolves through [`Resolver`]: first
//! the operator's `--resolve HOST=IP` overrides, then hickory-resolver. The
//! guard refuses loopback, private and link-local addresses unless the
//! operator allows them. It runs on the address actually connected to (the
//! resolver is reqwest's), so a name that re-binds to a private address
//! between our check and the connection is still refused.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use tracing::warn;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DnsError {
    #[error("{host} resolves to a non-public address {ip}")]
    PrivateAddress { host: String, ip: IpAddr },
    #[error("cannot resolve {host}: {reason}")]
    Lookup { host: String, reason: String },
}

/// Which addresses the crawler may connect to.
#[derive(Debug, Clone, Copy)]
pub struct AddressPolicy {
    pub allow_private: bool,
}

impl AddressPolicy {
    pub fn check(&self, host: &str, ip: IpAddr) -> Result<(), DnsError> {
        if self.allow_private || is_public(ip) {
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
    match ip {
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
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
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

/// Where names are resolved.
#[derive(Debug, Clone, Default)]
pub struct DnsConfig {
    /// `--resolve HOST=IP`: answers that never ask a server.
    pub overrides: HashMap<String, Vec<IpAddr>>,
    /// A name server to ask instead of the system's (`/etc/resolv.conf`).
    pub name_server: Option<SocketAddr>,
}

/// The crawler's resolver: overrides, then hickory (which caches answers
/// for their TTL), then the address guard.
pub struct Resolver {
    overrides: HashMap<String, Vec<IpAddr>>,
    hickory: TokioResolver,
    policy: AddressPolicy,
}

impl Resolver {
    pub fn new(config: &DnsConfig, policy: AddressPolicy) -> Resolver {
        let hickory = match config.name_server {
            Some(server) => {
                let mut udp = ConnectionConfig::udp();
                udp.port = server.port();
                let mut tcp = ConnectionConfig::tcp();
                tcp.port = server.port();
                let name_server = NameServerConfig::new(server.ip(), true, vec![udp, tcp]);
                let config = ResolverConfig::from_name_servers(vec![name_server]);
                TokioResolver::builder_with_config(config, TokioRuntimeProvider::default()).build()
            }
            None => TokioResolver::builder_tokio().and_then(|builder| builder.build()),
        };
        let hickory = hickory.unwrap_or_else(|error| {
            // No usable system configuration: only overrides and IP
            // literals resolve; every other name fails with a clear error.
            warn!(%error, "no DNS configuration; only --resolve overrides will resolve");
            let empty = ResolverConfig::from_name_servers(Vec::new());
            TokioResolver::builder_with_config(empty, TokioRuntimeProvider::default())
                .build()
                .expect("a resolver without name servers builds")
        });
        let overrides = config
            .overrides
            .iter()
            .map(|(host, ips)| (host.to_ascii_lowercase(), ips.clone()))
            .collect();
        Resolver {
            overrides,
            hickory,
            policy,
        }
    }

    /// The addresses of `host`, all of which pass the guard. An IP literal
    /// resolves to itself.
    pub async fn resolve(&self, host: &str) -> Result<Vec<IpAddr>, DnsError> {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let ips = if let Ok(ip) = host.parse::<IpAddr>() {
            vec![ip]
        } else if let Some(ips) = self.overrides.get(&host.to_ascii_lowercase()) {
            ips.clone()
        } else {
            let lookup = self
                .hickory
                .lookup_ip(host)
                .await
                .map_err(|e| DnsError::Lookup {
                    host: host.to_string(),
                    reason: e.to_string(),
                })?;
            lookup.iter().collect()
        };
        if ips.is_empty() {
            return Err(DnsError::Lookup {
                host: host.to_string(),
                reason: "no addresses".into(),
            });
        }
        // Refuse the host if any address is refused: a name that mixes public
        // and private addresses could be steered to the private one.
        for ip in &ips {
            self.policy.check(host, *ip)?;
        }
        Ok(ips)
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

    #[tokio::test]
    async fn overrides_and_literals_pass_through_the_guard() {
        let config = DnsConfig {
            overrides: HashMap::from([(
                "Fixture.test".to_string(),
                vec!["127.0.0.1".parse().unwrap()],
            )]),
            name_server: None,
        };
        let strict = Resolver::new(
            &config,
            AddressPolicy {
                allow_private: false,
            },
        );
        assert!(matches!(
            strict.resolve("fixture.test").await,
            Err(DnsError::PrivateAddress { .. })
        ));
        assert!(matches!(
            strict.resolve("127.0.0.1").await,
            Err(DnsError::PrivateAddress { .. })
        ));
        let open = Resolver::new(
            &config,
            AddressPolicy {
                allow_private: true,
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
