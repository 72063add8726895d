//! robots.txt parsing and URL matching as specified by RFC 9309 (Robots Exclusion Protocol).
//!
//! [`RobotsTxt::parse`] reads a robots.txt body into groups (sections 2.1 and 2.2: records, groups,
//! comments), [`RobotsTxt::rules_for`] picks and merges the groups that apply to one crawler
//! (2.2.1), and [`Rules::is_allowed`] decides whether a path may be fetched using the
//! longest-match rule with percent-encoding normalization and the `*` / `$` special characters
//! (2.2.2, 2.2.3). `Sitemap` and `Crawl-delay` records are read as well (2.2.4), bodies are parsed
//! up to [`MAX_ROBOTS_BYTES`] (2.5), and [`Rules::disallow_all`] / [`Rules::allow_all`] stand in
//! for the outcomes of unreachable and missing files (2.3.1). Fetching and caching the file is the
//! caller's job.

use std::time::Duration;

/// robots.txt bodies are parsed up to this many bytes (RFC 9309 2.5 asks for at least 500 KiB); the
/// rest is ignored.
pub const MAX_ROBOTS_BYTES: usize = 512 * 1024;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

// Every rule within the parse limit is kept, however long and however many:
// RFC 9309 sets no other limit, and dropping a long Disallow would fetch what
// the site forbade. What matching one URL costs against a hostile file stays
// bounded by the parse limit: each rule is a prefix comparison and, after a
// `*`, linear-time substring searches (see `Pattern::matches`), so a URL
// costs at most about (rules x path length + file size) byte comparisons.

/// A parsed robots.txt file: its groups in file order and its sitemap URLs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RobotsTxt {
    groups: Vec<Group>,
    sitemaps: Vec<String>,
}

/// One or more consecutive `user-agent` lines and the records that follow them.
#[derive(Debug, Clone, PartialEq)]
struct Group {
    user_agents: Vec<UserAgent>,
    rules: Vec<Rule>,
    crawl_delay: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq)]
enum UserAgent {
    /// `User-agent: *`, the group for crawlers that no other group names.
    Any,
    /// A product token as written. It may be empty when the line held no readable token; an empty
    /// token matches no crawler but the line still shapes the groups around it.
    Named(String),
}

/// The record keys this parser knows (RFC 9309 2.1 and 2.2.4).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Key {
    UserAgent,
    Allow,
    Disallow,
    CrawlDelay,
    Sitemap,
    Unknown,
}

impl RobotsTxt {
    /// Parses a robots.txt body. Never fails and never panics: lines it cannot read are skipped, bytes
    /// past MAX_ROBOTS_BYTES are ignored, invalid UTF-8 is tolerated (decode lossily), a leading UTF-8
    /// BOM is skipped, CR, LF and CRLF all end lines.
    pub fn parse(body: &[u8]) -> RobotsTxt {
        let body = within_parse_limit(body);
        let body = body.strip_prefix(UTF8_BOM).unwrap_or(body);

        let mut robots = RobotsTxt::default();
        // True while the records read since the last rule are user-agent lines: another user-agent
        // line then joins the current group instead of starting a new one.
        let mut reading_user_agents = false;

        // Splitting on CR and on LF separately turns CRLF into a line and an empty line; empty
        // lines carry no record, so all three line endings behave the same.
        for line in body.split(|&octet| is_line_end(octet)) {
            let Some((key, value)) = parse_record(line) else {
                continue;
            };
            match key {
                Key::UserAgent => {
                    let user_agent = UserAgent::parse(value);
                    match robots.groups.last_mut() {
                        Some(group) if reading_user_agents => group.user_agents.push(user_agent),
                        _ => robots.groups.push(Group {
                            user_agents: vec![user_agent],
                            rules: Vec::new(),
                            crawl_delay: None,
                        }),
                    }
                    reading_user_agents = true;
                }
                Key::Allow | Key::Disallow => {
                    // Even an empty rule (`Disallow:`) closes the list of user agents, so that a
                    // user-agent line after it starts a new group as the RFC grammar requires.
                    reading_user_agents = false;
                    // Before the first user-agent line there is no group, and the rule is ignored.
                    if let Some(group) = robots.groups.last_mut()
                        && let Some(pattern) = Pattern::parse(value)
                    {
                        group.rules.push(Rule {
                            allow: key == Key::Allow,
                            pattern,
                        });
                    }
                }
                Key::CrawlDelay => {
                    // Crawl-delay is not part of the RFC grammar, so it does not end the list of
                    // user agents: it applies to every agent of the group it appears in.
                    if let Some(group) = robots.groups.last_mut()
                        && let Some(delay) = parse_crawl_delay(value)
                    {
                        group.crawl_delay = group.crawl_delay.max(Some(delay));
                    }
                }
                Key::Sitemap => {
                    if !value.is_empty() {
                        robots.sitemaps.push(String::from_utf8_lossy(value).into_owned());
                    }
                }
                Key::Unknown => {}
            }
        }
        robots
    }

    /// The rules for a crawler whose product token is `product_token` (e.g. "trawl"): the merged rules
    /// of every group whose user-agent matches it, else the merged `*` groups, else no rules (allow
    /// all).
    pub fn rules_for(&self, product_token: &str) -> Rules {
        let wanted = leading_product_token(product_token.as_bytes());
        let named: Vec<&Group> = self.groups.iter().filter(|group| group.names(wanted)).collect();
        let chosen = if named.is_empty() {
            self.groups
                .iter()
                .filter(|group| group.user_agents.contains(&UserAgent::Any))
                .collect()
        } else {
            named
        };

        let mut rules = Rules::allow_all();
        for group in chosen {
            rules.rules.extend(group.rules.iter().cloned());
            rules.crawl_delay = rules.crawl_delay.max(group.crawl_delay);
        }
        rules
    }

    /// The `Sitemap:` URLs, in file order, as written (absolute URLs are expected; the caller resolves
    /// and validates them). Sitemap lines are global: they count wherever they appear, inside or
    /// outside groups.
    pub fn sitemaps(&self) -> &[String] {
        &self.sitemaps
    }
}

impl Group {
    /// Whether one of this group's user-agent lines names the crawler's product token.
    fn names(&self, product_token: &[u8]) -> bool {
        !product_token.is_empty()
            && self.user_agents.iter().any(|user_agent| match user_agent {
                UserAgent::Named(name) => name.as_bytes().eq_ignore_ascii_case(product_token),
                UserAgent::Any => false,
            })
    }
}

impl UserAgent {
    fn parse(value: &[u8]) -> UserAgent {
        let token = leading_product_token(value);
        // Anything that starts with `*` (`*`, `* # all`, `*/1.0`) is read as the catch-all group.
        if token.is_empty() && value.first() == Some(&b'*') {
            UserAgent::Any
        } else {
            UserAgent::Named(String::from_utf8_lossy(token).into_owned())
        }
    }
}

/// The leading run of product-token characters (RFC 9309 2.2.1: letters, `_` and `-`), so that
/// `ExampleBot/1.0` reads as `ExampleBot`.
fn leading_product_token(value: &[u8]) -> &[u8] {
    let length = value
        .iter()
        .take_while(|&&octet| octet.is_ascii_alphabetic() || octet == b'_' || octet == b'-')
        .count();
    &value[..length]
}

/// The allow/disallow rules (and crawl delay) that apply to one crawler on one host.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rules {
    rules: Vec<Rule>,
    crawl_delay: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq)]
struct Rule {
    allow: bool,
    pattern: Pattern,
}

impl Rules {
    /// No rules: everything allowed (robots.txt 4xx, or no matching group).
    pub fn allow_all() -> Rules {
        Rules::default()
    }

    /// Everything disallowed (robots.txt 5xx or unreachable, RFC 9309 2.3.1.4).
    pub fn disallow_all() -> Rules {
        let everything = Pattern {
            prefix: b"/".to_vec(),
            runs_after_wildcards: Vec::new(),
            anchored_at_end: false,
            specificity: 1,
        };
        Rules {
            rules: vec![Rule {
                allow: false,
                pattern: everything,
            }],
            crawl_delay: None,
        }
    }

    /// Whether a URL with this path (and query, `"/a/b?x=1"`, always starting with `/`) may be fetched.
    /// The path comes from an already normalized URL: unreserved characters are decoded and other
    /// percent-escapes are upper-case (`%2F`), non-ASCII is percent-encoded as UTF-8.
    pub fn is_allowed(&self, path_and_query: &str) -> bool {
        let path = canonical_path(path_and_query.as_bytes());
        // The crawler must always be able to re-read robots.txt itself, even under `disallow_all`.
        if path_without_query(&path) == b"/robots.txt" {
            return true;
        }

        let mut longest_allow: Option<usize> = None;
        let mut longest_disallow: Option<usize> = None;
        for rule in self.rules.iter().filter(|rule| rule.pattern.matches(&path)) {
            let longest = if rule.allow {
                &mut longest_allow
            } else {
                &mut longest_disallow
            };
            *longest = (*longest).max(Some(rule.pattern.specificity));
        }
        match longest_disallow {
            None => true,
            // `>=`: an allow rule as specific as the disallow rule wins the tie.
            Some(disallow) => longest_allow.is_some_and(|allow| allow >= disallow),
        }
    }

    /// `Crawl-delay` of the matching groups (the largest if several), if any valid non-negative number
    /// (integer or decimal seconds) was given.
    pub fn crawl_delay(&self) -> Option<std::time::Duration> {
        self.crawl_delay
    }
}

/// An allow/disallow path pattern, normalized like the paths it is matched against.
#[derive(Debug, Clone, PartialEq)]
struct Pattern {
    /// The literal octets before the first `*`; the path must start with them.
    prefix: Vec<u8>,
    /// The literal octets after each `*`, in order (empty for `**` or a trailing `*`).
    runs_after_wildcards: Vec<Vec<u8>>,
    /// The pattern ended in `$`: the path must end where the pattern ends.
    anchored_at_end: bool,
    /// Octets in the normalized pattern, counting `*` and `$`: RFC 9309 2.2.2 ranks matches by it.
    specificity: usize,
}

impl Pattern {
    /// Reads a rule's value; `None` for an empty value, which is not a rule.
    fn parse(value: &[u8]) -> Option<Pattern> {
        if value.is_empty() {
            return None;
        }
        // Leniency: `Disallow: private/` is read as `/private/`, since every path starts with `/`.
        let mut written = Vec::with_capacity(value.len() + 1);
        if !value.starts_with(b"/") && !value.starts_with(b"*") {
            written.push(b'/');
        }
        written.extend_from_slice(value);

        // Only a `$` at the very end anchors; elsewhere it is an ordinary character.
        let (body, anchored_at_end) = match written.strip_suffix(b"$") {
            Some(body) => (body, true),
            None => (&written[..], false),
        };

        let mut runs = Vec::new();
        let mut current = Vec::new();
        let mut rest = body;
        while let Some((&octet, after)) = rest.split_first() {
            if octet == b'*' {
                runs.push(std::mem::take(&mut current));
                rest = after;
            } else {
                rest = push_canonical(rest, &mut current);
            }
        }
        runs.push(current);

        let wildcards = runs.len() - 1;
        let specificity = runs.iter().map(Vec::len).sum::<usize>() + wildcards + usize::from(anchored_at_end);
        let mut runs = runs.into_iter();
        let prefix = runs.next().unwrap_or_default();
        Some(Pattern {
            prefix,
            runs_after_wildcards: runs.collect(),
            anchored_at_end,
            specificity,
        })
    }

    /// Whether the pattern matches `path`, a path already in canonical form.
    ///
    /// Each run after a `*` is placed at its leftmost occurrence: a later occurrence could only
    /// leave less of the path for the runs after it, so no backtracking is needed. The cost is at
    /// most the path length times the pattern length.
    fn matches(&self, path: &[u8]) -> bool {
        if !path.starts_with(&self.prefix) {
            return false;
        }
        let Some((last, middle)) = self.runs_after_wildcards.split_last() else {
            return !self.anchored_at_end || path.len() == self.prefix.len();
        };
        let mut position = self.prefix.len();
        for run in middle {
            match find(&path[position..], run) {
                Some(offset) => position += offset + run.len(),
                None => return false,
            }
        }
        let remainder = &path[position..];
        if self.anchored_at_end {
            remainder.ends_with(last)
        } else {
            find(remainder, last).is_some()
        }
    }
}

/// The offset of the first occurrence of `needle` in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    // Two-way search: linear in both lengths, whatever a hostile pattern holds.
    memchr::memmem::find(haystack, needle)
}

/// The canonical form of a request path, under which equal paths compare equal octet for octet.
///
/// Both URL paths and rule patterns go through the same normalization (RFC 9309 2.2.2), so a
/// caller's URL normalizer and the robots.txt author's spelling need not agree:
/// - escapes of unreserved characters are decoded (`%7E` -> `~`);
/// - escapes of `*` and `$` are decoded too, so a literal `*` or `$` in a path is always a bare
///   octet: patterns spell them `%2A` / `%24` (2.2.3), and those must match `*` and `$` in the path
///   however the URL wrote them;
/// - other escapes stay escaped with upper-case hex (`%2f` -> `%2F`): an escaped reserved
///   character such as `%2F` is not the same path as `/`;
/// - non-ASCII octets and octets never allowed bare in a URL (controls, space, `"`, `<`, ...) are
///   escaped, and so is a `%` that does not start a valid escape.
fn canonical_path(path: &[u8]) -> Vec<u8> {
    let mut canonical = Vec::with_capacity(path.len() + 1);
    if !path.starts_with(b"/") {
        canonical.push(b'/');
    }
    let mut rest = path;
    while !rest.is_empty() {
        rest = push_canonical(rest, &mut canonical);
    }
    canonical
}

/// Appends the canonical form of the first octet or percent-escape of `input` to `out` and returns
/// the input that follows it.
fn push_canonical<'a>(input: &'a [u8], out: &mut Vec<u8>) -> &'a [u8] {
    if let [b'%', high, low, after @ ..] = input
        && let (Some(high), Some(low)) = (hex_digit_value(*high), hex_digit_value(*low))
    {
        let octet = high * 16 + low;
        if is_unreserved(octet) || octet == b'*' || octet == b'$' {
            out.push(octet);
        } else {
            push_escaped(octet, out);
        }
        return after;
    }
    let Some((&octet, after)) = input.split_first() else {
        return input;
    };
    if must_be_escaped(octet) {
        push_escaped(octet, out);
    } else {
        out.push(octet);
    }
    after
}

fn push_escaped(octet: u8, out: &mut Vec<u8>) {
    const HEX_DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    out.push(b'%');
    out.push(HEX_DIGITS[usize::from(octet >> 4)]);
    out.push(HEX_DIGITS[usize::from(octet & 0x0F)]);
}

fn hex_digit_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

/// RFC 3986 unreserved characters: escaping them never changes a URI's meaning.
fn is_unreserved(octet: u8) -> bool {
    octet.is_ascii_alphanumeric() || matches!(octet, b'-' | b'.' | b'_' | b'~')
}

/// Octets that cannot appear bare in an RFC 3986 URI (a lone `%` included).
fn must_be_escaped(octet: u8) -> bool {
    !octet.is_ascii_graphic()
        || matches!(
            octet,
            b'"' | b'#' | b'%' | b'<' | b'>' | b'\\' | b'^' | b'`' | b'{' | b'|' | b'}'
        )
}

fn path_without_query(path: &[u8]) -> &[u8] {
    match path.iter().position(|&octet| octet == b'?') {
        Some(query_start) => &path[..query_start],
        None => path,
    }
}

fn is_line_end(octet: u8) -> bool {
    octet == b'\n' || octet == b'\r'
}

/// The part of `body` to parse: at most [`MAX_ROBOTS_BYTES`], without a last line the limit cuts.
///
/// Half a line would be a different rule (a cut `Disallow: /private/data` becomes a shorter,
/// broader pattern), so a line that does not end within the limit is dropped.
fn within_parse_limit(body: &[u8]) -> &[u8] {
    if body.len() <= MAX_ROBOTS_BYTES {
        return body;
    }
    let (kept, cut_off) = body.split_at(MAX_ROBOTS_BYTES);
    if cut_off.first().is_some_and(|&octet| is_line_end(octet)) {
        return kept;
    }
    match kept.iter().rposition(|&octet| is_line_end(octet)) {
        Some(last_line_end) => &kept[..last_line_end],
        None => &[],
    }
}

/// Splits a line into a known key and its value, without comment and surrounding whitespace.
/// `None` for lines that are not `key: value` records (blank lines, comments, garbage).
fn parse_record(line: &[u8]) -> Option<(Key, &[u8])> {
    let without_comment = match line.iter().position(|&octet| octet == b'#') {
        Some(comment_start) => &line[..comment_start],
        None => line,
    };
    let colon = without_comment.iter().position(|&octet| octet == b':')?;
    let key = without_comment[..colon].trim_ascii();
    let value = without_comment[colon + 1..].trim_ascii();
    Some((Key::parse(key), value))
}

impl Key {
    fn parse(key: &[u8]) -> Key {
        let is_any_of = |spellings: &[&[u8]]| {
            spellings
                .iter()
                .any(|spelling| key.eq_ignore_ascii_case(spelling))
        };
        // Besides the RFC spellings, accept the typos that real files contain and that major
        // crawlers honour: `useragent`, `user agent`, `dissallow`, `disalow`.
        if is_any_of(&[b"user-agent", b"useragent", b"user agent"]) {
            Key::UserAgent
        } else if is_any_of(&[b"allow"]) {
            Key::Allow
        } else if is_any_of(&[b"disallow", b"dissallow", b"disalow"]) {
            Key::Disallow
        } else if is_any_of(&[b"crawl-delay"]) {
            Key::CrawlDelay
        } else if is_any_of(&[b"sitemap"]) {
            Key::Sitemap
        } else {
            Key::Unknown
        }
    }
}

/// Reads a crawl delay in seconds: digits with at most one decimal point (`10`, `0.5`, `2.`).
/// Signs, exponents, units and values too large for a `Duration` are rejected.
fn parse_crawl_delay(value: &[u8]) -> Option<Duration> {
    let digits = value.iter().filter(|octet| octet.is_ascii_digit()).count();
    let points = value.iter().filter(|&&octet| octet == b'.').count();
    if digits == 0 || points > 1 || digits + points != value.len() {
        return None;
    }
    let seconds: f64 = std::str::from_utf8(value).ok()?.parse().ok()?;
    Duration::try_from_secs_f64(seconds).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(robots_txt: &str, product_token: &str, path: &str) -> bool {
        RobotsTxt::parse(robots_txt.as_bytes())
            .rules_for(product_token)
            .is_allowed(path)
    }

    // 2.1: "key: value" records, keys case-insensitive, "#" starts a comment, CR/LF/CRLF end lines.
    #[test]
    fn rfc9309_2_1_comments_keys_and_line_endings() {
        for line_end in ["\n", "\r", "\r\n"] {
            let robots_txt = [
                "# full-line comment",
                "USER-AGENT: trawl # trailing comment",
                "  dIsAlLoW  :   /private   # spaces around key, colon and value",
                "Allow:/private/ok#comment right after the value",
                "Disallow: /#hash-starts-a-comment-even-in-a-path",
            ]
            .join(line_end);
            let rules = RobotsTxt::parse(robots_txt.as_bytes()).rules_for("trawl");
            assert!(!rules.is_allowed("/private"), "line end {line_end:?}");
            assert!(!rules.is_allowed("/private/x"), "line end {line_end:?}");
            assert!(rules.is_allowed("/private/ok"), "line end {line_end:?}");
            // `Disallow: /#...` is `Disallow: /`, so everything else is blocked.
            assert!(!rules.is_allowed("/public"), "line end {line_end:?}");
        }
    }

    // 2.1: "One or more user-agent lines that are followed by one or more rules" form a group.
    #[test]
    fn rfc9309_2_1_consecutive_user_agents_share_a_group() {
        let robots_txt = "User-agent: a\nUser-agent: trawl\n\nUser-agent: b\nDisallow: /shared\n";
        for agent in ["a", "trawl", "b"] {
            assert!(!allowed(robots_txt, agent, "/shared"), "{agent}");
        }
    }

    // 2.1: group = startgroupline *(startgroupline) *(rule), so a user-agent after a rule opens a group.
    #[test]
    fn rfc9309_2_1_user_agent_after_rule_starts_new_group() {
        let robots_txt = "User-agent: a\nDisallow: /a\nUser-agent: b\nDisallow: /b\n";
        assert!(!allowed(robots_txt, "a", "/a"));
        assert!(allowed(robots_txt, "a", "/b"));
        assert!(!allowed(robots_txt, "b", "/b"));
        assert!(allowed(robots_txt, "b", "/a"));

        // An empty rule is still a rule line: it ends the list of user agents.
        let robots_txt = "User-agent: a\nDisallow:\nUser-agent: b\nDisallow: /\n";
        assert!(allowed(robots_txt, "a", "/x"));
        assert!(!allowed(robots_txt, "b", "/x"));
    }

    // 2.1: rules must follow a user-agent line; rules before any group belong to nobody.
    #[test]
    fn rfc9309_2_1_rules_before_any_user_agent_are_ignored() {
        let robots_txt = "Disallow: /\nAllow: /x\nUser-agent: other\nDisallow: /other\n";
        assert!(allowed(robots_txt, "trawl", "/"));
        assert!(allowed(robots_txt, "trawl", "/other"));
        assert_eq!(
            RobotsTxt::parse(b"Disallow: /\n").rules_for("trawl"),
            Rules::allow_all()
        );
    }

    // 2.1: "Crawlers MUST try to parse each line"; unreadable lines and unknown keys are skipped.
    #[test]
    fn rfc9309_2_1_unknown_records_do_not_end_group() {
        let robots_txt = "User-agent: trawl\nNoindex: /x\nthis line is garbage\nHost: example.com\n\
                          User-agent: other\nDisallow: /blocked\n";
        // `other` still belongs to trawl's group: nothing between them was a rule.
        assert!(!allowed(robots_txt, "trawl", "/blocked"));
        assert!(!allowed(robots_txt, "other", "/blocked"));
    }

    // 2.1: the file is UTF-8; a byte order mark and invalid sequences must not stop parsing.
    #[test]
    fn rfc9309_2_1_bom_and_invalid_utf8_are_tolerated() {
        let mut body = UTF8_BOM.to_vec();
        body.extend_from_slice(
            b"User-agent: trawl\nDisallow: /caf\xE9\nDisallow: /\xFF\xFE/x\nSitemap: http://e.com/\xC3\n",
        );
        let robots = RobotsTxt::parse(&body);
        let rules = robots.rules_for("trawl");
        // Invalid octets are percent-encoded as they are, like any non-ASCII octet.
        assert!(!rules.is_allowed("/caf%E9"));
        assert!(!rules.is_allowed("/%FF%FE/x"));
        assert!(rules.is_allowed("/cafe"));
        assert_eq!(robots.sitemaps(), ["http://e.com/\u{FFFD}"]);
    }

    // 2.2.4 records are not in the 2.1 grammar, so a Crawl-delay between user-agent lines leaves one group.
    #[test]
    fn rfc9309_2_1_crawl_delay_does_not_end_user_agent_list() {
        let robots_txt = "User-agent: a\nCrawl-delay: 5\nUser-agent: b\nDisallow: /x\n";
        for agent in ["a", "b"] {
            let rules = RobotsTxt::parse(robots_txt.as_bytes()).rules_for(agent);
            assert!(!rules.is_allowed("/x"), "{agent}");
            assert_eq!(rules.crawl_delay(), Some(Duration::from_secs(5)), "{agent}");
        }
    }

    // Leniency beyond 2.1: common misspellings of keys are read as the keys they mean.
    #[test]
    fn rfc9309_2_1_lenient_key_spellings() {
        let robots_txt = "useragent: a\nuser agent: b\nUser-Agent : c\nDissallow: /one\ndisalow: /two\n";
        for agent in ["a", "b", "c"] {
            assert!(!allowed(robots_txt, agent, "/one"), "{agent}");
            assert!(!allowed(robots_txt, agent, "/two"), "{agent}");
            assert!(allowed(robots_txt, agent, "/three"), "{agent}");
        }
    }

    // 2.2.1: "Crawlers MUST use case-insensitive matching to find the group that matches".
    #[test]
    fn rfc9309_2_2_1_user_agent_match_is_case_insensitive() {
        let robots_txt = "User-agent: TrAwL\nDisallow: /\n";
        assert!(!allowed(robots_txt, "trawl", "/x"));
        assert!(!allowed(robots_txt, "TRAWL", "/x"));
        assert!(allowed(robots_txt, "trawler", "/x"));
    }

    // 2.2.1: the product token contains only letters, "_" and "-"; `ExampleBot/1.0` names ExampleBot.
    #[test]
    fn rfc9309_2_2_1_product_token_is_leading_identifier() {
        let robots_txt = "User-agent: Trawl/2.1 (+https://example.com/bot)\nDisallow: /\n";
        assert!(!allowed(robots_txt, "trawl", "/x"));
        // The crawler's own token is read the same way.
        assert!(!allowed(robots_txt, "trawl/0.3", "/x"));
        // Not a substring match: the group does not name `traw` or `rawl`.
        assert!(allowed(robots_txt, "traw", "/x"));
        assert!(allowed(robots_txt, "rawl", "/x"));
        // A user-agent value without a readable token names no crawler.
        let robots_txt = "User-agent: 123bot\nDisallow: /\n";
        assert!(allowed(robots_txt, "bot", "/x"));
    }

    // 2.2.1: "the matching groups' rules MUST be combined into one group".
    #[test]
    fn rfc9309_2_2_1_matching_groups_are_merged() {
        let robots_txt = "User-agent: trawl\nDisallow: /a\n\nUser-agent: other\nDisallow: /b\n\n\
                          User-agent: Trawl\nDisallow: /c\nAllow: /a/open\n";
        let rules = RobotsTxt::parse(robots_txt.as_bytes()).rules_for("trawl");
        assert!(!rules.is_allowed("/a"));
        assert!(rules.is_allowed("/b"));
        assert!(!rules.is_allowed("/c"));
        // Rules from the two groups compete by length as if written in one group.
        assert!(rules.is_allowed("/a/open"));
    }

    // 2.2.1: "If no matching group exists, crawlers MUST obey the group with ... the "*" value".
    #[test]
    fn rfc9309_2_2_1_star_group_when_none_match() {
        let robots_txt = "User-agent: other\nDisallow: /other\n\nUser-agent: *\nDisallow: /star\n";
        assert!(!allowed(robots_txt, "trawl", "/star"));
        assert!(allowed(robots_txt, "trawl", "/other"));
    }

    // 2.2.1: all `*` groups are combined like any other matching groups.
    #[test]
    fn rfc9309_2_2_1_star_groups_are_merged() {
        let robots_txt = "User-agent: *\nDisallow: /one\n\nUser-agent: other\nDisallow: /x\n\n\
                          User-agent: * # again\nDisallow: /two\nCrawl-delay: 3\n";
        let rules = RobotsTxt::parse(robots_txt.as_bytes()).rules_for("trawl");
        assert!(!rules.is_allowed("/one"));
        assert!(!rules.is_allowed("/two"));
        assert!(rules.is_allowed("/x"));
        assert_eq!(rules.crawl_delay(), Some(Duration::from_secs(3)));
    }

    // 2.2.1/2.2.2: the named group is obeyed over "*"; "no rules in the group" means allowed.
    #[test]
    fn rfc9309_2_2_1_named_group_beats_star_even_without_rules() {
        let robots_txt = "User-agent: *\nDisallow: /\n\nUser-agent: trawl\n";
        assert!(allowed(robots_txt, "trawl", "/anything"));
        assert!(!allowed(robots_txt, "other", "/anything"));
        let robots_txt = "User-agent: trawl\nDisallow:\n\nUser-agent: *\nDisallow: /\n";
        assert!(allowed(robots_txt, "trawl", "/anything"));
    }

    // 2.2.1: no matching group and no "*" group, "or there are no groups at all, no rules apply."
    #[test]
    fn rfc9309_2_2_1_no_group_allows_all() {
        let robots_txt = "User-agent: other\nDisallow: /\n";
        assert!(allowed(robots_txt, "trawl", "/"));
        assert_eq!(
            RobotsTxt::parse(robots_txt.as_bytes()).rules_for("trawl"),
            Rules::allow_all()
        );
        assert!(allowed("", "trawl", "/x"));
        assert!(allowed("# nothing but a comment\n", "trawl", "/x"));
    }

    // 2.2.2: "The most specific match is the match that has the most octets."
    #[test]
    fn rfc9309_2_2_2_longest_match_wins() {
        let robots_txt =
            "User-agent: trawl\nAllow: /folder/\nDisallow: /folder/page\nAllow: /folder/page/open\n";
        assert!(allowed(robots_txt, "trawl", "/folder/"));
        assert!(!allowed(robots_txt, "trawl", "/folder/page.html"));
        assert!(allowed(robots_txt, "trawl", "/folder/page/open/x"));
        // File order does not matter.
        let reversed = "User-agent: trawl\nDisallow: /folder/page\nAllow: /folder/\n";
        assert!(!allowed(reversed, "trawl", "/folder/page.html"));
        // Wildcards and anchors count as octets of the pattern.
        let robots_txt = "User-agent: trawl\nAllow: /a\nDisallow: /*b\n";
        assert!(!allowed(robots_txt, "trawl", "/ab"));
    }

    // 2.2.2: "If an "allow" rule and a "disallow" rule are equivalent, then the "allow" rule SHOULD be used."
    #[test]
    fn rfc9309_2_2_2_allow_wins_tie() {
        let robots_txt = "User-agent: trawl\nDisallow: /page\nAllow: /page\n";
        assert!(allowed(robots_txt, "trawl", "/page"));
        // Equal length, different patterns: still a tie between matching rules.
        let robots_txt = "User-agent: trawl\nDisallow: /pag*\nAllow: /page\n";
        assert!(allowed(robots_txt, "trawl", "/page.html"));
        assert!(!allowed(robots_txt, "trawl", "/pagoda"));
    }

    // 2.2.2: "If no match is found amongst the rules in a group ..., the URI is allowed."
    #[test]
    fn rfc9309_2_2_2_no_matching_rule_allows() {
        let robots_txt = "User-agent: trawl\nDisallow: /private\n";
        assert!(allowed(robots_txt, "trawl", "/public"));
        assert!(allowed(robots_txt, "trawl", "/"));
    }

    // 2.2.2: a rule needs a path; `Disallow:` with an empty value disallows nothing.
    #[test]
    fn rfc9309_2_2_2_empty_value_is_not_a_rule() {
        let robots_txt = "User-agent: trawl\nDisallow:\nDisallow:    # nothing\nAllow:\n";
        let rules = RobotsTxt::parse(robots_txt.as_bytes()).rules_for("trawl");
        assert_eq!(rules, Rules::allow_all());
        assert!(rules.is_allowed("/anything"));
    }

    // 2.2.2: "The /robots.txt URI is implicitly allowed."
    #[test]
    fn rfc9309_2_2_2_robots_txt_always_allowed() {
        let robots_txt = "User-agent: *\nDisallow: /\nDisallow: /robots.txt\n";
        assert!(allowed(robots_txt, "trawl", "/robots.txt"));
        assert!(allowed(robots_txt, "trawl", "/robots.txt?refresh=1"));
        assert!(!allowed(robots_txt, "trawl", "/robots.txt.bak"));
        assert!(Rules::disallow_all().is_allowed("/robots.txt"));
    }

    // 2.2.2: "The matching SHOULD be case sensitive. The matching MUST start with the first octet".
    #[test]
    fn rfc9309_2_2_2_matching_is_case_sensitive_from_first_octet() {
        let robots_txt = "User-agent: trawl\nDisallow: /Private\n";
        assert!(!allowed(robots_txt, "trawl", "/Private/x"));
        assert!(allowed(robots_txt, "trawl", "/private/x"));
        assert!(allowed(robots_txt, "trawl", "/a/Private"));
    }

    // 2.2.2: non-ASCII is percent-encoded; escaped unreserved ASCII "MUST be unencoded prior to comparison".
    #[test]
    fn rfc9309_2_2_2_percent_encoding_normalized() {
        // The RFC's own table: `/foo/bar/ツ` and `/foo/bar/%E3%83%84` are the same path.
        let robots_txt = "User-agent: trawl\nDisallow: /foo/bar/ツ\n";
        assert!(!allowed(robots_txt, "trawl", "/foo/bar/%E3%83%84"));
        let robots_txt = "User-agent: trawl\nDisallow: /foo/bar/%e3%83%84\n";
        assert!(!allowed(robots_txt, "trawl", "/foo/bar/%E3%83%84"));
        // `/foo/bar/%62%61%7A` is matched as `/foo/bar/baz`.
        let robots_txt = "User-agent: trawl\nDisallow: /foo/bar/%62%61%7A\n";
        assert!(!allowed(robots_txt, "trawl", "/foo/bar/baz"));
        assert!(!allowed(robots_txt, "trawl", "/foo/bar/%62az"));
        // Escapes in the path are tolerated even though the caller normally decodes them.
        let robots_txt = "User-agent: trawl\nDisallow: /~user\n";
        assert!(!allowed(robots_txt, "trawl", "/%7Euser/page"));
        // The query is compared as written.
        let robots_txt = "User-agent: trawl\nDisallow: /foo/bar?baz=quz\n";
        assert!(!allowed(robots_txt, "trawl", "/foo/bar?baz=quz&x=1"));
        assert!(allowed(robots_txt, "trawl", "/foo/bar?baz=other"));
    }

    // 2.2.2: escapes of reserved characters are not decoded, so `%2F` and `/` stay different.
    #[test]
    fn rfc9309_2_2_2_reserved_escapes_stay_distinct() {
        let robots_txt = "User-agent: trawl\nDisallow: /a%2fb\n";
        assert!(!allowed(robots_txt, "trawl", "/a%2Fb"));
        assert!(allowed(robots_txt, "trawl", "/a/b"));
        let robots_txt = "User-agent: trawl\nDisallow: /wiki/Special:\n";
        assert!(allowed(robots_txt, "trawl", "/wiki/Special%3ARandom"));
        assert!(!allowed(robots_txt, "trawl", "/wiki/Special:Random"));
    }

    // Leniency beyond 2.2.2: paths start with "/", so a pattern written without it gets one.
    #[test]
    fn rfc9309_2_2_2_pattern_without_leading_slash() {
        let robots_txt = "User-agent: trawl\nDisallow: private/\n";
        assert!(!allowed(robots_txt, "trawl", "/private/x"));
        assert!(allowed(robots_txt, "trawl", "/public/private/x"));
    }

    // 2.2.3: "*" "Designates 0 or more instances of any character."
    #[test]
    fn rfc9309_2_2_3_wildcard() {
        let robots_txt = "User-agent: trawl\nAllow: /this/*/exactly\nDisallow: /this/\nDisallow: *.gif\n";
        assert!(allowed(robots_txt, "trawl", "/this/foo/exactly"));
        assert!(allowed(robots_txt, "trawl", "/this/foo/bar/exactly/more"));
        assert!(!allowed(robots_txt, "trawl", "/this/foo/other"));
        // `*` matches the empty string and also `/`.
        let robots_txt = "User-agent: trawl\nDisallow: /a*b\n";
        assert!(!allowed(robots_txt, "trawl", "/ab"));
        assert!(!allowed(robots_txt, "trawl", "/a/x/b"));
        assert!(allowed(robots_txt, "trawl", "/ba"));
        let robots_txt = "User-agent: trawl\nDisallow: *.gif\n";
        assert!(!allowed(robots_txt, "trawl", "/img/x.gif"));
        assert!(!allowed(robots_txt, "trawl", "/img/x.gif?size=2"));
        assert!(allowed(robots_txt, "trawl", "/img/x.png"));
        let robots_txt = "User-agent: trawl\nDisallow: /*\n";
        assert!(!allowed(robots_txt, "trawl", "/"));
    }

    // 2.2.3: "$" "Designates the end of the match pattern."
    #[test]
    fn rfc9309_2_2_3_end_anchor() {
        let robots_txt = "User-agent: trawl\nDisallow: /this/path/exactly$\nDisallow: /*.gif$\n";
        assert!(!allowed(robots_txt, "trawl", "/this/path/exactly"));
        assert!(allowed(robots_txt, "trawl", "/this/path/exactly/"));
        assert!(allowed(robots_txt, "trawl", "/this/path/exactly?x"));
        assert!(!allowed(robots_txt, "trawl", "/a/b.gif"));
        assert!(!allowed(robots_txt, "trawl", "/a.gif.gif"));
        assert!(allowed(robots_txt, "trawl", "/a.gif?x"));
        // The anchored tail must fit after the rest of the pattern, not merely end the path.
        let robots_txt = "User-agent: trawl\nDisallow: /ab*b$\n";
        assert!(allowed(robots_txt, "trawl", "/ab"));
        assert!(!allowed(robots_txt, "trawl", "/abb"));
        let robots_txt = "User-agent: trawl\nDisallow: /$\n";
        assert!(!allowed(robots_txt, "trawl", "/"));
        assert!(allowed(robots_txt, "trawl", "/index.html"));
    }

    // 2.2.3: "$" only has its meaning at the end of a pattern; elsewhere it is an ordinary octet.
    #[test]
    fn rfc9309_2_2_3_dollar_not_at_end_is_literal() {
        let robots_txt = "User-agent: trawl\nDisallow: /price$list\nDisallow: /end$$\n";
        assert!(!allowed(robots_txt, "trawl", "/price$list/x"));
        assert!(allowed(robots_txt, "trawl", "/pricelist"));
        assert!(!allowed(robots_txt, "trawl", "/end$"));
        assert!(allowed(robots_txt, "trawl", "/end$x"));
    }

    // 2.2.3: to match special characters verbatim "crawlers SHOULD use "%" encoding" (%2A is "*").
    #[test]
    fn rfc9309_2_2_3_literal_star_and_dollar_via_percent() {
        let robots_txt = "User-agent: trawl\nDisallow: /path/file-with-a-%2A.html\nDisallow: /path/foo-%24\n";
        assert!(!allowed(robots_txt, "trawl", "/path/file-with-a-*.html"));
        assert!(!allowed(robots_txt, "trawl", "/path/file-with-a-%2A.html"));
        // `%2A` is a literal star, not a wildcard.
        assert!(allowed(robots_txt, "trawl", "/path/file-with-a-x.html"));
        // `%24` is a literal dollar sign, not an end anchor.
        assert!(!allowed(robots_txt, "trawl", "/path/foo-$"));
        assert!(!allowed(robots_txt, "trawl", "/path/foo-%24/more"));
        assert!(allowed(robots_txt, "trawl", "/path/foo-"));
        // A wildcard also matches a literal star in the path.
        let robots_txt = "User-agent: trawl\nDisallow: /a*b$\n";
        assert!(!allowed(robots_txt, "trawl", "/a*b"));
    }

    // 2.2.3 with 2.5's concern for crawler resources: many wildcards must not blow up matching.
    #[test]
    fn rfc9309_2_2_3_many_wildcards_match_in_polynomial_time() {
        let pattern = format!("/{}b", "a*".repeat(250));
        let robots_txt = format!("User-agent: trawl\nDisallow: {pattern}\n");
        let rules = RobotsTxt::parse(robots_txt.as_bytes()).rules_for("trawl");
        let path = format!("/{}", "a".repeat(5000));
        // A backtracking matcher would need an astronomical number of steps here.
        assert!(rules.is_allowed(&path));
        assert!(!rules.is_allowed(&format!("{path}b")));
    }

    // 2.2.4: "Crawlers MAY interpret other records that are not part of the robots.txt protocol".
    #[test]
    fn rfc9309_2_2_4_sitemaps_and_crawl_delay() {
        let robots_txt = "Sitemap: https://example.com/before-groups.xml\n\
                          User-agent: trawl\nCrawl-delay: 2.5\nSitemap: https://example.com/in-group.xml\n\
                          Disallow: /x\nsitemap:https://example.com/last.xml # comment\nSitemap:\n\
                          User-agent: *\nCrawl-delay: 10\n";
        let robots = RobotsTxt::parse(robots_txt.as_bytes());
        assert_eq!(
            robots.sitemaps(),
            [
                "https://example.com/before-groups.xml",
                "https://example.com/in-group.xml",
                "https://example.com/last.xml"
            ]
        );
        let rules = robots.rules_for("trawl");
        assert_eq!(rules.crawl_delay(), Some(Duration::from_millis(2500)));
        // A Sitemap line does not end the group: the rule after it is trawl's.
        assert!(!rules.is_allowed("/x"));
        assert_eq!(
            robots.rules_for("other").crawl_delay(),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            RobotsTxt::parse(b"User-agent: *\nDisallow: /\n")
                .rules_for("a")
                .crawl_delay(),
            None
        );
    }

    // 2.2.4: Crawl-delay counts only as a plain non-negative number; merged groups keep the largest.
    #[test]
    fn rfc9309_2_2_4_crawl_delay_largest_and_invalid_ignored() {
        let robots_txt =
            "User-agent: trawl\nCrawl-delay: 1\n\nUser-agent: trawl\nCrawl-delay: 4\nCrawl-delay: 0.5\n";
        let rules = RobotsTxt::parse(robots_txt.as_bytes()).rules_for("trawl");
        assert_eq!(rules.crawl_delay(), Some(Duration::from_secs(4)));

        for (value, expected) in [
            ("0", Some(Duration::ZERO)),
            ("7", Some(Duration::from_secs(7))),
            ("0.25", Some(Duration::from_millis(250))),
            (".5", Some(Duration::from_millis(500))),
            ("3.", Some(Duration::from_secs(3))),
            ("-1", None),
            ("1e3", None),
            ("inf", None),
            ("NaN", None),
            ("5s", None),
            ("1.2.3", None),
            (".", None),
            ("", None),
            ("99999999999999999999999999", None),
        ] {
            let robots_txt = format!("User-agent: trawl\nCrawl-delay: {value}\n");
            let rules = RobotsTxt::parse(robots_txt.as_bytes()).rules_for("trawl");
            assert_eq!(rules.crawl_delay(), expected, "Crawl-delay: {value}");
        }
    }

    // 2.3.1.3/2.3.1.4: 4xx means no rules; unreachable means "assume complete disallow".
    #[test]
    fn rfc9309_2_3_1_allow_all_and_disallow_all() {
        for path in ["/", "/a", "/a/b?c=d", ""] {
            assert!(Rules::allow_all().is_allowed(path), "{path:?}");
            assert!(!Rules::disallow_all().is_allowed(path), "{path:?}");
        }
        assert_eq!(Rules::disallow_all().crawl_delay(), None);
    }

    // RFC 9309 sets no limit on a rule's length or the number of rules,
    // only the parse limit (2.5): a Disallow is never dropped. (A first
    // version dropped rules over 512 bytes: a long Allow was lost and a long
    // Disallow not obeyed.)
    #[test]
    fn rules_of_any_length_and_number_count() {
        let long = "x".repeat(20 * 1024);
        let file =
            format!("User-agent: *\nDisallow: /private/\nAllow: /private/{long}\nDisallow: /open/{long}\n");
        let rules = RobotsTxt::parse(file.as_bytes()).rules_for("trawl");
        assert!(
            rules.is_allowed(&format!("/private/{long}/page")),
            "the 20 KB Allow wins"
        );
        assert!(!rules.is_allowed("/private/other"));
        assert!(
            !rules.is_allowed(&format!("/open/{long}")),
            "the 20 KB Disallow is obeyed"
        );
        assert!(rules.is_allowed("/open/short"));

        // Many rules: every one counts, the last as much as the first.
        let mut file = String::from("User-agent: *\n");
        for i in 0..20_000 {
            file.push_str(&format!("Disallow: /r{i}/\n"));
        }
        let rules = RobotsTxt::parse(file.as_bytes()).rules_for("trawl");
        assert!(!rules.is_allowed("/r0/"));
        assert!(!rules.is_allowed("/r19999/"));
        assert!(rules.is_allowed("/r20000/"));
    }

    // A file of long wildcard patterns matched against long paths: each
    // rule is searched in linear time, so this answers at once.
    #[test]
    fn long_wildcard_patterns_match_in_linear_time() {
        let pattern = format!("/{}b", "a*".repeat(10_000));
        let file = format!(
            "User-agent: *\nDisallow: {pattern}\nDisallow: /*{}*z$\n",
            "q".repeat(20_000)
        );
        let rules = RobotsTxt::parse(file.as_bytes()).rules_for("trawl");
        let path = format!("/{}", "a".repeat(2000));
        assert!(rules.is_allowed(&path));
        assert!(!rules.is_allowed(&format!("/{}b", "a".repeat(10_000))));
    }

    #[test]
    fn rfc9309_2_5_parses_at_least_500_kib() {
        let rule = "Disallow: /deep\n";
        let filler = "# filler filler filler filler filler filler filler\n";
        let mut body = String::from("User-agent: *\n");
        while body.len() + filler.len() + rule.len() <= 500 * 1024 {
            body.push_str(filler);
        }
        body.push_str(rule);
        assert!((500 * 1024 - filler.len()..=500 * 1024).contains(&body.len()));
        assert!(!allowed(&body, "trawl", "/deep"));

        let mut body = String::from("User-agent: *\n");
        while body.len() <= MAX_ROBOTS_BYTES {
            body.push_str(filler);
        }
        body.push_str(rule);
        assert!(allowed(&body, "trawl", "/deep"));
    }

    // 2.5: content after the limit is ignored; a line cut in two by the limit is dropped whole.
    #[test]
    fn rfc9309_2_5_line_cut_by_limit_is_dropped() {
        let mut body = String::from("User-agent: *\n");
        let filler = "#".repeat(MAX_ROBOTS_BYTES - body.len() - "Disallow: /a".len() - 1);
        body.push_str(&filler);
        body.push('\n');
        // The limit falls right after `/a`: reading the cut line would disallow all of `/a...`.
        body.push_str("Disallow: /abc\n");
        assert_eq!(body.find("/abc").map(|start| start + 2), Some(MAX_ROBOTS_BYTES));
        assert!(allowed(&body, "trawl", "/abc"));
        assert!(allowed(&body, "trawl", "/a"));

        // A line that ends exactly at the limit is complete and kept.
        let mut body = String::from("User-agent: *\n");
        let filler = "#".repeat(MAX_ROBOTS_BYTES - body.len() - "Disallow: /abc".len() - 1);
        body.push_str(&filler);
        body.push_str("\nDisallow: /abc\nDisallow: /later\n");
        assert!(!allowed(&body, "trawl", "/abc"));
        assert!(allowed(&body, "trawl", "/later"));
    }

    // 5.1: the RFC's simple example, with its stated outcomes.
    #[test]
    fn rfc9309_5_1_simple_example() {
        let robots_txt = "User-Agent: *\nDisallow: *.gif$\nDisallow: /example/\nAllow: /publications/\n\n\
                          User-Agent: foobot\nDisallow:/\nAllow:/example/page.html\n\
                          Allow:/example/allowed.gif\n\n\
                          User-Agent: barbot\nUser-Agent: bazbot\nDisallow: /example/page.html\n\n\
                          User-Agent: quxbot\n\nEOF\n";
        assert!(allowed(robots_txt, "foobot", "/example/page.html"));
        assert!(allowed(robots_txt, "foobot", "/example/allowed.gif"));
        assert!(!allowed(robots_txt, "foobot", "/example/other.html"));
        assert!(!allowed(robots_txt, "foobot", "/"));
        for agent in ["barbot", "bazbot"] {
            assert!(!allowed(robots_txt, agent, "/example/page.html"), "{agent}");
            assert!(allowed(robots_txt, agent, "/example/other.html"), "{agent}");
            assert!(allowed(robots_txt, agent, "/image.gif"), "{agent}");
        }
        assert!(allowed(robots_txt, "quxbot", "/example/page.html"));
        assert!(allowed(robots_txt, "quxbot", "/image.gif"));
        assert!(!allowed(robots_txt, "trawl", "/image.gif"));
        assert!(!allowed(robots_txt, "trawl", "/example/page.html"));
        assert!(allowed(robots_txt, "trawl", "/publications/"));
        assert!(allowed(robots_txt, "trawl", "/image.gif?size=2"));
    }

    // 5.2: the RFC's longest-match example.
    #[test]
    fn rfc9309_5_2_longest_match_example() {
        let robots_txt =
            "User-Agent: foobot\nAllow: /example/page/\nDisallow: /example/page/disallowed.gif\n";
        assert!(allowed(robots_txt, "foobot", "/example/page/"));
        assert!(allowed(robots_txt, "foobot", "/example/page/allowed.gif"));
        assert!(!allowed(robots_txt, "foobot", "/example/page/disallowed.gif"));
    }

    const WIKIPEDIA_LIKE: &str = "\
# robots.txt for a large wiki
#
# Please read the bot policy before crawling, and throttle your requests.

# Advertising-related bots:
User-agent: Mediapartners-Google*
Disallow: /

# Wikipedia work bots:
User-agent: IsraBot
Disallow:

User-agent: Orthogaffe
Disallow:

# Crawlers that are kind enough to obey, but which we'd rather not have
# unless they're feeding search engines.
User-agent: UbiCrawler
Disallow: /

User-agent: DOC
Disallow: /

User-agent: Zao
Disallow: /

# Some bots are known to be trouble, particularly those designed to copy
# entire sites. Please obey robots.txt.
User-agent: sitecheck.internetseer.com
Disallow: /

User-agent: Zealbot
Disallow: /

User-agent: MSIECrawler
Disallow: /

User-agent: SiteSnagger
Disallow: /

User-agent: WebStripper
Disallow: /

User-agent: WebCopier
Disallow: /

User-agent: Fetch
Disallow: /

User-agent: Offline Explorer
Disallow: /

User-agent: Teleport
Disallow: /

User-agent: TeleportPro
Disallow: /

User-agent: WebZIP
Disallow: /

User-agent: linko
Disallow: /

User-agent: HTTrack
Disallow: /

User-agent: Microsoft.URL.Control
Disallow: /

User-agent: Xenu
Disallow: /

User-agent: larbin
Disallow: /

User-agent: libwww
Disallow: /

User-agent: ZyBORG
Disallow: /

User-agent: Download Ninja
Disallow: /

# Misbehaving: requests much too fast:
User-agent: fast
Disallow: /

# Sorry, wget in its recursive mode is a frequent problem.
User-agent: wget
Disallow: /

User-agent: grub-client
Disallow: /

User-agent: k2spider
Disallow: /

User-agent: NPBot
Disallow: /

User-agent: WebReaper
Disallow: /

# Hits many times per second, not acceptable
User-agent: MJ12bot
Disallow: /

#
# Friendly, low-speed bots are welcome viewing article pages, but not
# dynamically-generated pages please.
#
User-agent: *
Allow: /w/api.php?action=mobileview&
Allow: /w/load.php?
Allow: /api/rest_v1/?doc
Disallow: /w/
Disallow: /api/
Disallow: /trap/
Disallow: /wiki/Special:
Disallow: /wiki/Spezial:
Disallow: /wiki/Special%3A
Disallow: /wiki/Spezial%3A
Disallow: /wiki/Special%3ASearch
#
# Localized namespaces
Disallow: /wiki/Especial:
Disallow: /wiki/Especial%3A
Disallow: /wiki/Sp%C3%A9cial:
Disallow: /wiki/Sp%C3%A9cial%3A
Disallow: /wiki/Wikipedia:Articles_for_deletion/
Disallow: /wiki/Wikipedia%3AArticles_for_deletion/
Disallow: /wiki/Wikipedia_talk:Articles_for_deletion/
#
Crawl-delay: 1
Sitemap: https://wiki.example.org/sitemap.xml
";

    // A realistic file: many single-agent groups, a long `*` group, localized and escaped paths.
    #[test]
    fn realistic_wikipedia_like_file() {
        let robots = RobotsTxt::parse(WIKIPEDIA_LIKE.as_bytes());
        assert_eq!(robots.sitemaps(), ["https://wiki.example.org/sitemap.xml"]);

        let trawl = robots.rules_for("trawl");
        assert_eq!(trawl.crawl_delay(), Some(Duration::from_secs(1)));
        assert!(trawl.is_allowed("/wiki/Main_Page"));
        assert!(trawl.is_allowed("/wiki/Rust_(programming_language)"));
        assert!(!trawl.is_allowed("/w/index.php?title=Main_Page&action=edit"));
        assert!(trawl.is_allowed("/w/load.php?modules=site"));
        assert!(trawl.is_allowed("/w/api.php?action=mobileview&page=X"));
        assert!(!trawl.is_allowed("/w/api.php?action=query"));
        assert!(!trawl.is_allowed("/api/rest_v1/page/html/X"));
        assert!(trawl.is_allowed("/api/rest_v1/?doc"));
        assert!(!trawl.is_allowed("/wiki/Special:Random"));
        assert!(!trawl.is_allowed("/wiki/Special%3ARandom"));
        // `é` arrives percent-encoded from the URL normalizer, as the file spells it.
        assert!(!trawl.is_allowed("/wiki/Sp%C3%A9cial:Pages"));
        assert!(!trawl.is_allowed("/wiki/Wikipedia:Articles_for_deletion/Foo"));
        assert!(trawl.is_allowed("/wiki/Wikipedia:About"));
        assert!(trawl.is_allowed("/robots.txt"));

        for blocked in [
            "wget",
            "MJ12bot",
            "mj12BOT",
            "HTTrack",
            "Mediapartners-Google",
            "sitecheck",
            "Offline",
        ] {
            assert!(
                !robots.rules_for(blocked).is_allowed("/wiki/Main_Page"),
                "{blocked}"
            );
            assert_eq!(robots.rules_for(blocked).crawl_delay(), None, "{blocked}");
        }
        for welcome in ["IsraBot", "orthogaffe"] {
            assert!(robots.rules_for(welcome).is_allowed("/w/index.php"), "{welcome}");
        }
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        /// The textbook dynamic-programming glob matcher, as an independent check of `Pattern`.
        fn reference_match(pattern: &[u8], path: &[u8]) -> bool {
            let (pattern, anchored) = match pattern.strip_suffix(b"$") {
                Some(body) => (body, true),
                None => (pattern, false),
            };
            // reachable[end]: the pattern read so far can match exactly path[..end].
            let mut reachable = vec![false; path.len() + 1];
            reachable[0] = true;
            for &symbol in pattern {
                if symbol == b'*' {
                    for end in 1..=path.len() {
                        reachable[end] = reachable[end] || reachable[end - 1];
                    }
                } else {
                    for end in (1..=path.len()).rev() {
                        reachable[end] = reachable[end - 1] && path[end - 1] == symbol;
                    }
                    reachable[0] = false;
                }
            }
            if anchored {
                reachable[path.len()]
            } else {
                reachable.contains(&true)
            }
        }

        /// Lines that are anything but allow/disallow rules with a value.
        fn non_rule_line() -> impl Strategy<Value = String> {
            prop_oneof![
                "[Uu]ser-?[Aa]gent *: *[ -~]{0,12}",
                "[Ss]itemap: [ -~]{0,30}",
                "[Cc]rawl-delay: [ -~]{0,6}",
                "#[ -~]{0,30}",
                "[ \t]{0,3}",
                "(Dis)?[Aa]llow:[ \t]*(#[ -~]{0,10})?",
                "[a-z]{1,10}: [ -~]{0,20}".prop_filter("an allow or disallow rule", |line| {
                    let key = line.split(':').next().unwrap_or_default();
                    !["allow", "disallow", "dissallow", "disalow"].contains(&key)
                }),
                "[^:\r\n]{0,40}",
            ]
        }

        /// Fragments that, strung together, often form rules with special characters.
        fn robots_fragment() -> impl Strategy<Value = &'static str> {
            prop::sample::select(vec![
                "User-agent: ",
                "Disallow: ",
                "Allow: ",
                "Crawl-delay: ",
                "Sitemap: ",
                "trawl",
                "*",
                "$",
                "/",
                "a",
                "%",
                "%2",
                "%2A",
                "%24",
                "%zz",
                "é",
                "#",
                "\n",
                "\r",
                "\r\n",
                " ",
                ":",
                "?",
            ])
        }

        proptest! {
            // 2.1: "Crawlers MUST NOT assume that the robots.txt file will follow the format".
            #[test]
            fn parse_and_match_never_panic(
                body in prop::collection::vec(any::<u8>(), 0..2048),
                path in any::<String>(),
            ) {
                let robots = RobotsTxt::parse(&body);
                let rules = robots.rules_for("trawl");
                let _ = rules.is_allowed(&path);
                let _ = rules.is_allowed(&format!("/{path}"));
                let _ = robots.sitemaps();
            }

            // Same as above, with inputs shaped like robots.txt so that rules and escapes get exercised.
            #[test]
            fn structured_files_never_panic(
                fragments in prop::collection::vec(robots_fragment(), 0..200),
                path in "/[ -~]{0,40}",
                agent in "[a-zA-Z*_-]{0,8}",
            ) {
                let robots = RobotsTxt::parse(fragments.concat().as_bytes());
                let _ = robots.rules_for(&agent).is_allowed(&path);
                let _ = robots.rules_for("trawl").crawl_delay();
            }

            // 2.2.2: "there are no rules in the group, the URI is allowed", whatever else the file holds.
            #[test]
            fn file_without_rules_allows_every_path(
                lines in prop::collection::vec(non_rule_line(), 0..30),
                line_end in prop::sample::select(vec!["\n", "\r", "\r\n"]),
                agent in "[a-zA-Z_-]{1,10}|trawl",
                path in "/\\PC{0,40}",
            ) {
                let robots = RobotsTxt::parse(lines.join(line_end).as_bytes());
                prop_assert!(robots.rules_for(&agent).is_allowed(&path));
            }
        }

        proptest! {
            // Short patterns over a tiny alphabet hit the corner cases often, so run many of them.
            #![proptest_config(ProptestConfig::with_cases(4096))]

            // 2.2.3: "*" and "$" mean what the classic glob matcher says they mean.
            #[test]
            fn wildcard_matching_agrees_with_reference(
                pattern in "/[ab*$]{0,12}",
                path in "/[ab$*]{0,16}",
            ) {
                let compiled = Pattern::parse(pattern.as_bytes());
                prop_assert!(compiled.is_some());
                if let Some(compiled) = compiled {
                    prop_assert_eq!(
                        compiled.matches(path.as_bytes()),
                        reference_match(pattern.as_bytes(), path.as_bytes()),
                        "pattern {} path {}", pattern, path
                    );
                }
            }
        }
    }
}
