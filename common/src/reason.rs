//! Why a URL was not fetched or a fetched page was not indexed. Every such
//! URL is counted under exactly one reason.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// robots.txt disallows it, or the page asked not to be indexed.
    Robots,
    /// The URL was already seen (including redirects to seen URLs).
    DuplicateUrl,
    /// The page's text is within Hamming distance 3 of a crawled page's.
    NearDuplicate,
    /// The page's text is exactly a crawled page's (a URL variant, a copy).
    DuplicateContent,
    /// A URL the crawler refuses to get lost in: too long, too deep,
    /// repeating path segments, endless query variations, redirect loops.
    Trap,
    /// A per-host or per-run page budget is spent.
    Budget,
    /// The body exceeded the size cap (the page is truncated, or dropped
    /// when nothing usable was left).
    TooLarge,
    /// Not HTML or XHTML.
    WrongType,
    /// The host resolves to a loopback, private or link-local address.
    PrivateAddress,
    /// The link is outside the crawl's scope (`--include`, `--scope`).
    OutOfScope,
    /// The link matches an `--exclude` pattern, or a site rule's patterns
    /// leave it out.
    Excluded,
    /// The server answered with a status that has no page (4xx, 5xx after retries).
    HttpStatus,
    /// The host did not answer (its name does not resolve, it refuses
    /// connections, or they time out) a bounded number of times in a row,
    /// with back-off between them.
    HostUnreachable,
    /// The server was too slow: a response that timed out twice, or a body
    /// that trickled in below the minimum rate and was cut.
    TooSlow,
    /// Network errors, undecodable bodies, after retries.
    Error,
}

impl SkipReason {
    pub const ALL: [SkipReason; 15] = [
        SkipReason::Robots,
        SkipReason::DuplicateUrl,
        SkipReason::NearDuplicate,
        SkipReason::DuplicateContent,
        SkipReason::Trap,
        SkipReason::Budget,
        SkipReason::TooLarge,
        SkipReason::WrongType,
        SkipReason::PrivateAddress,
        SkipReason::OutOfScope,
        SkipReason::Excluded,
        SkipReason::HttpStatus,
        SkipReason::HostUnreachable,
        SkipReason::TooSlow,
        SkipReason::Error,
    ];

    /// Whether the URL was given up on for an error (of the network, the
    /// server or the host) rather than by a rule of the crawl.
    pub fn is_error(self) -> bool {
        matches!(
            self,
            SkipReason::Error | SkipReason::HttpStatus | SkipReason::HostUnreachable | SkipReason::TooSlow
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::Robots => "robots",
            SkipReason::DuplicateUrl => "duplicate_url",
            SkipReason::NearDuplicate => "near_duplicate",
            SkipReason::DuplicateContent => "duplicate_content",
            SkipReason::Trap => "trap",
            SkipReason::Budget => "budget",
            SkipReason::TooLarge => "too_large",
            SkipReason::WrongType => "wrong_type",
            SkipReason::PrivateAddress => "private_address",
            SkipReason::OutOfScope => "out_of_scope",
            SkipReason::Excluded => "excluded",
            SkipReason::HttpStatus => "http_status",
            SkipReason::HostUnreachable => "host_unreachable",
            SkipReason::TooSlow => "too_slow",
            SkipReason::Error => "error",
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
