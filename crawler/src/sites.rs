//! Per-site rules, and the URL patterns a crawl never follows.
//!
//! An operator crawling many sites needs some of them handled differently:
//! a fragile server asked more slowly, a big site given a page budget, a
//! partner's site crawled under an agreed user agent, a site's search pages
//! or archives left out. A [`SiteRule`] says so for the hosts its pattern
//! matches (`docs.example.com`, or `*.example.com` for the domain and every
//! host under it): `include` and `exclude` patterns, `delay_ms`,
//! `max_pages`, `per_host` and `user_agent`. The page budget and `per_host`
//! travel with each link into the frontier ([`crate::frontier::NewLink`]),
//! which keeps them per host across workers and restarts. When several rules match a host the most
//! specific wins (an exact host over a domain, a longer domain over a
//! shorter one); a host no rule matches has the crawl's settings.
//!
//! `--exclude` patterns apply to every host. Patterns are regular
//! expressions searched anywhere in the normalized URL (as Scrapy's
//! `deny` and Nutch's regex URL filter): `/search\?`, `\.pdf$`,
//! `^https://example\.com/archive/`. A link that matches is not fetched
//! and counted under `excluded`; a rule's `include` patterns, when it has
//! some, keep only the links of its hosts that match one. Seeds are
//! fetched whatever the patterns say: the operator named them.
//!
//! Rules come from the config file's `[[crawl.site]]` tables (or `[[run.site]]`),
//! or from `--site`, as JSON or as `HOST key=value ...`.

use std::time::Duration;

use common::NormalizedUrl;
use regex::Regex;
use serde::Deserialize;

/// Settings for the hosts one pattern matches.
#[derive(Debug, Clone)]
pub struct SiteRule {
    pub host: HostPattern,
    /// When not empty, only URLs of these hosts that match one are followed.
    pub include: Vec<Regex>,
    pub exclude: Vec<Regex>,
    /// The least time between two requests to one of these hosts, instead
    /// of the crawl's `--delay-ms` (robots.txt's Crawl-delay still counts
    /// when longer).
    pub delay: Option<Duration>,
    /// URLs queued per host at most, instead of `--max-pages-per-host`
    /// (never above it).
    pub max_pages: Option<u64>,
    /// Requests in flight to one of these hosts at once, instead of
    /// `--per-host` (`--per-ip` still holds across a server's hosts).
    pub per_host: Option<usize>,
    /// The User-Agent sent to these hosts, and the product token their
    /// robots.txt is read for.
    pub user_agent: Option<String>,
}

/// `docs.example.com` (that host), `*.example.com` (example.com and every
/// host under it), or `*` (every host).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostPattern {
    Exact(String),
    Domain(String),
    Any,
}

impl HostPattern {
    pub fn parse(text: &str) -> Result<HostPattern, String> {
        if text.trim() == "*" {
            return Ok(HostPattern::Any);
        }
        // A name may end with the root's dot.
        let text = text.trim().to_ascii_lowercase();
        let text = text
            .strip_suffix('.')
            .filter(|t| !t.ends_with('*'))
            .unwrap_or(&text)
            .to_string();
        let (domain, name) = match text.strip_prefix("*.") {
            Some(rest) => (true, rest.to_string()),
            None => (false, text.clone()),
        };
        let valid = !name.is_empty()
            && name.split('.').all(|label| {
                !label.is_empty()
                    && label
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            });
        if !valid {
            return Err(format!(
                "host pattern {text:?}: give a host (docs.example.com), *.domain (*.example.com) or *"
            ));
        }
        Ok(if domain {
            HostPattern::Domain(name)
        } else {
            HostPattern::Exact(name)
        })
    }

    fn matches(&self, host: &str) -> bool {
        match self {
            HostPattern::Exact(name) => host == name,
            HostPattern::Domain(domain) => {
                host == domain
                    || host
                        .strip_suffix(domain.as_str())
                        .is_some_and(|rest| rest.ends_with('.'))
            }
            HostPattern::Any => true,
        }
    }

    /// Higher for a pattern that names fewer hosts.
    fn specificity(&self) -> usize {
        match self {
            HostPattern::Exact(name) => 2 * name.len() + 1,
            HostPattern::Domain(domain) => 2 * domain.len(),
            HostPattern::Any => 0,
        }
    }
}

/// A rule as written in the config file or `--site`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleText {
    host: String,
    #[serde(default)]
    include: Vec<String>,
    #[serde(default)]
    exclude: Vec<String>,
    delay_ms: Option<u64>,
    max_pages: Option<u64>,
    per_host: Option<usize>,
    user_agent: Option<String>,
}

impl SiteRule {
    /// Reads a rule: JSON (`{"host": "*.example.com", "delay_ms": 5000}`,
    /// what a `[[crawl.site]]` table becomes), or `HOST key=value ...`
    /// (`*.example.com delay_ms=5000 exclude=/search`; `include` and
    /// `exclude` may repeat).
    pub fn parse(text: &str) -> Result<SiteRule, String> {
        let rule: RuleText = if text.trim_start().starts_with('{') {
            serde_json::from_str(text).map_err(|e| format!("site rule {text:?}: {e}"))?
        } else {
            let mut words = text.split_whitespace();
            let host = words
                .next()
                .ok_or("a site rule needs a host pattern first, e.g. \"*.example.com delay_ms=5000\"")?;
            let mut rule = RuleText {
                host: host.to_string(),
                include: vec![],
                exclude: vec![],
                delay_ms: None,
                max_pages: None,
                per_host: None,
                user_agent: None,
            };
            for word in words {
                let (key, value) = word
                    .split_once('=')
                    .ok_or_else(|| format!("site rule {text:?}: expected key=value, got {word:?}"))?;
                let number = || {
                    value.parse::<u64>().map_err(|_| {
                        format!("site rule {text:?}: {key} must be a whole number, got {value:?}")
                    })
                };
                match key {
                    "include" => rule.include.push(value.to_string()),
                    "exclude" => rule.exclude.push(value.to_string()),
                    "delay_ms" => rule.delay_ms = Some(number()?),
                    "max_pages" => rule.max_pages = Some(number()?),
                    "per_host" => rule.per_host = Some(number()? as usize),
                    "user_agent" => rule.user_agent = Some(value.to_string()),
                    other => {
                        return Err(format!(
                            "site rule {text:?}: unknown key {other:?} (include, exclude, delay_ms, max_pages, per_host, user_agent)"
                        ));
                    }
                }
            }
            rule
        };
        if rule.user_agent.as_deref().is_some_and(|ua| ua.trim().is_empty()) {
            return Err(format!("site rule {text:?}: user_agent is empty"));
        }
        if rule.max_pages == Some(0) || rule.per_host == Some(0) {
            return Err(format!(
                "site rule {text:?}: max_pages and per_host must be at least 1"
            ));
        }
        Ok(SiteRule {
            host: HostPattern::parse(&rule.host)?,
            include: compile(&rule.include)?,
            exclude: compile(&rule.exclude)?,
            delay: rule.delay_ms.map(Duration::from_millis),
            max_pages: rule.max_pages,
            per_host: rule.per_host,
            user_agent: rule.user_agent,
        })
    }
}

/// Compiles URL patterns, naming the one that is not a regular expression.
pub fn compile(patterns: &[String]) -> Result<Vec<Regex>, String> {
    patterns
        .iter()
        .map(|pattern| {
            Regex::new(pattern).map_err(|e| format!("pattern {pattern:?} is not a regular expression: {e}"))
        })
        .collect()
}

/// Every rule of a crawl, and its `--exclude` patterns.
#[derive(Debug, Clone, Default)]
pub struct SiteRules {
    rules: Vec<SiteRule>,
    exclude: Vec<Regex>,
}

impl SiteRules {
    pub fn new(rules: Vec<SiteRule>, exclude: Vec<Regex>) -> SiteRules {
        SiteRules { rules, exclude }
    }

    /// The rule for `host`: the most specific that matches; the first of
    /// equals.
    pub fn for_host(&self, host: &str) -> Option<&SiteRule> {
        self.rules.iter().filter(|rule| rule.host.matches(host)).fold(
            None,
            |best: Option<&SiteRule>, rule| match best {
                Some(best) if best.host.specificity() >= rule.host.specificity() => Some(best),
                _ => Some(rule),
            },
        )
    }

    /// The rule for `url`'s host.
    pub fn for_url(&self, url: &NormalizedUrl) -> Option<&SiteRule> {
        self.for_host(url.as_url().host_str().unwrap_or_default())
    }

    /// The user agent `url`'s rule names, if it names one.
    pub fn user_agent_for(&self, url: &NormalizedUrl) -> Option<&str> {
        self.for_url(url).and_then(|rule| rule.user_agent.as_deref())
    }

    /// Whether the patterns keep `url` out of the crawl.
    pub fn excludes(&self, url: &NormalizedUrl) -> bool {
        let text = url.as_str();
        if self.exclude.iter().any(|pattern| pattern.is_match(text)) {
            return true;
        }
        match self.for_url(url) {
            Some(rule) => {
                rule.exclude.iter().any(|pattern| pattern.is_match(text))
                    || (!rule.include.is_empty()
                        && !rule.include.iter().any(|pattern| pattern.is_match(text)))
            }
            None => false,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty() && self.exclude.is_empty()
    }

    /// Every user agent a rule names, for the robots.txt product tokens.
    pub fn user_agents(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().filter_map(|rule| rule.user_agent.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> NormalizedUrl {
        NormalizedUrl::parse(text).unwrap()
    }

    #[test]
    fn the_most_specific_pattern_wins() {
        let rules = SiteRules::new(
            vec![
                SiteRule::parse("* delay_ms=100").unwrap(),
                SiteRule::parse("*.example.com delay_ms=2000").unwrap(),
                SiteRule::parse("docs.example.com delay_ms=5000").unwrap(),
            ],
            vec![],
        );
        let delay = |host: &str| rules.for_host(host).and_then(|r| r.delay).map(|d| d.as_millis());
        assert_eq!(delay("docs.example.com"), Some(5000));
        assert_eq!(delay("www.example.com"), Some(2000));
        assert_eq!(delay("example.com"), Some(2000));
        assert_eq!(
            delay("badexample.com"),
            Some(100),
            "a domain matches at a dot only"
        );
        assert_eq!(delay("other.test"), Some(100));
    }

    #[test]
    fn excludes_apply_everywhere_includes_to_their_hosts() {
        let rules = SiteRules::new(
            vec![
                SiteRule::parse(
                    r#"{"host": "docs.example.com", "include": ["/v2/"], "exclude": ["\\.pdf$"]}"#,
                )
                .unwrap(),
            ],
            compile(&["/search\\?".to_string()]).unwrap(),
        );
        assert!(rules.excludes(&url("http://other.test/search?q=x")));
        assert!(!rules.excludes(&url("http://other.test/page")));
        assert!(!rules.excludes(&url("http://docs.example.com/v2/intro")));
        assert!(
            rules.excludes(&url("http://docs.example.com/v1/intro")),
            "not included"
        );
        assert!(rules.excludes(&url("http://docs.example.com/v2/manual.pdf")));
        assert!(
            !rules.excludes(&url("http://www.example.com/v1/intro")),
            "another host"
        );
    }

    #[test]
    fn bad_rules_say_what_is_wrong() {
        for (text, says) in [
            ("", "host pattern first"),
            ("docs.example.com delay=5", "unknown key"),
            ("docs.example.com delay_ms=soon", "whole number"),
            ("docs.example.com exclude=(", "not a regular expression"),
            ("http://docs.example.com/", "host pattern"),
            ("*.", "host pattern"),
            (r#"{"host": "a.test", "speed": 3}"#, "unknown field"),
            ("a.test max_pages=0", "at least 1"),
        ] {
            let error = SiteRule::parse(text).unwrap_err();
            assert!(error.contains(says), "{text:?}: {error}");
        }
        let rule =
            SiteRule::parse(r#"{"host": "A.Test", "user_agent": "partner-bot/2.0 (+https://a.test/bot)"}"#)
                .unwrap();
        assert_eq!(rule.host, HostPattern::Exact("a.test".into()));
        assert_eq!(
            rule.user_agent.as_deref(),
            Some("partner-bot/2.0 (+https://a.test/bot)")
        );
    }
}
