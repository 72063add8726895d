//! Which discovered links a crawl follows.
//!
//! `--scope` says how far from the seeds a crawl may go: the seeds' hosts
//! (the default), their registrable domains (`docs.example.co.uk` and
//! `www.example.co.uk` share `example.co.uk`, by the Public Suffix List),
//! the seeds' directories, or anywhere. `--include` prefixes, when given,
//! narrow it further: a link must be under one of them too.

use std::collections::HashSet;

use common::NormalizedUrl;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    /// The hosts of the seeds.
    #[default]
    Host,
    /// The registrable domains of the seeds.
    Domain,
    /// Under a seed's directory (its URL up to the last `/`).
    Prefix,
    /// Anywhere.
    Any,
}

impl std::str::FromStr for Scope {
    type Err = String;
    fn from_str(text: &str) -> Result<Scope, String> {
        match text {
            "host" => Ok(Scope::Host),
            "domain" => Ok(Scope::Domain),
            "prefix" => Ok(Scope::Prefix),
            "any" => Ok(Scope::Any),
            other => Err(format!(
                "unknown scope {other:?}: expected host, domain, prefix or any"
            )),
        }
    }
}

/// The scope of one crawl, derived once from its seeds.
#[derive(Debug, Clone)]
pub struct ScopeRules {
    scope: Scope,
    include: Vec<NormalizedUrl>,
    hosts: HashSet<String>,
    domains: HashSet<String>,
    prefixes: Vec<String>,
}

impl ScopeRules {
    pub fn new(scope: Scope, seeds: &[NormalizedUrl], include: &[NormalizedUrl]) -> ScopeRules {
        let hosts = seeds.iter().map(|s| s.host_key().as_str().to_string()).collect();
        let domains = seeds.iter().map(registrable_domain).collect();
        let prefixes = seeds
            .iter()
            .map(|s| {
                let text = s.as_str().split(['?', '#']).next().unwrap_or_default();
                text[..text.rfind('/').map_or(text.len(), |i| i + 1)].to_string()
            })
            .collect();
        ScopeRules {
            scope,
            include: include.to_vec(),
            hosts,
            domains,
            prefixes,
        }
    }

    pub fn allows(&self, url: &NormalizedUrl) -> bool {
        let in_scope = match self.scope {
            Scope::Host => self.hosts.contains(url.host_key().as_str()),
            Scope::Domain => self.domains.contains(&registrable_domain(url)),
            Scope::Prefix => self.prefixes.iter().any(|p| url.as_str().starts_with(p.as_str())),
            Scope::Any => true,
        };
        in_scope && (self.include.is_empty() || self.include.iter().any(|prefix| url.starts_with(prefix)))
    }
}

/// `example.co.uk` for `docs.example.co.uk`; the host itself for IP
/// addresses and names without a public suffix (`localhost`).
fn registrable_domain(url: &NormalizedUrl) -> String {
    let host = url.as_url().host_str().unwrap_or_default();
    psl::domain_str(host).unwrap_or(host).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> NormalizedUrl {
        NormalizedUrl::parse(text).unwrap()
    }

    #[test]
    fn each_scope_follows_its_rule() {
        let seeds = [url("https://docs.example.co.uk/guide/intro.html")];
        let candidates = [
            (
                "https://docs.example.co.uk/guide/next.html",
                [true, true, true, true],
            ),
            ("https://docs.example.co.uk/api/x.html", [true, true, false, true]),
            ("https://www.example.co.uk/", [false, true, false, true]),
            ("https://other.co.uk/", [false, false, false, true]),
        ];
        for (i, scope) in [Scope::Host, Scope::Domain, Scope::Prefix, Scope::Any]
            .into_iter()
            .enumerate()
        {
            let rules = ScopeRules::new(scope, &seeds, &[]);
            for (candidate, expected) in &candidates {
                assert_eq!(
                    rules.allows(&url(candidate)),
                    expected[i],
                    "{scope:?} {candidate}"
                );
            }
        }
    }

    #[test]
    fn include_narrows_the_scope() {
        let seeds = [url("http://127.0.0.1:8088/book/index.html")];
        let include = [url("http://127.0.0.1:8088/book/")];
        let rules = ScopeRules::new(Scope::Any, &seeds, &include);
        assert!(rules.allows(&url("http://127.0.0.1:8088/book/ch01.html")));
        assert!(!rules.allows(&url("http://127.0.0.1:8088/std/index.html")));
        let ports = ScopeRules::new(Scope::Host, &seeds, &[]);
        assert!(
            !ports.allows(&url("http://127.0.0.1:9999/book/ch01.html")),
            "the port is part of the host"
        );
    }
}
