//! What the log of requests says about the crawler: politeness violations,
//! links it lost (reachable from the seeds but never fetched), and its pace.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

use serde::Serialize;

use crate::http::RequestRecord;
use crate::model::{HostKind, Link, PagePath, Web};

/// A request the crawler should not have made, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Violation {
    pub rule: &'static str,
    pub url: String,
    /// Seconds since the web started.
    pub at: f64,
    /// How much too early, in milliseconds (0 when timing is not the rule).
    pub early_ms: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub requests: u64,
    /// Requests answered 200 (pages and robots.txt files).
    pub ok: u64,
    /// Requests for hosts or paths the web does not have.
    pub unknown: u64,
    pub unknown_examples: Vec<String>,
    pub hosts_requested: u64,
    /// Page requests (robots.txt excluded), first to last, in seconds.
    pub crawl_seconds: f64,
    pub pages_per_second: f64,
    /// Page requests (robots.txt excluded).
    pub page_requests: u64,
    /// The most page requests politeness allows in `crawl_seconds`: each
    /// reachable host at most once per its gap plus its latency (its
    /// `Crawl-delay` where it asks for one), and never more than its
    /// reachable pages. An upper bound: it assumes every host known from
    /// the first second.
    pub politeness_bound_pages: u64,
    /// The same bound taken window by window ([`WINDOW`]) over the pages
    /// the crawler could know of: a page counts from the moment a page
    /// linking to it was answered (the seeds from the start) until it was
    /// fetched, and a host gives at most its politeness rate of those in a
    /// window. Discovery-aware: the crawl's own pace decides what it could
    /// know, so this is what politeness allowed given what was found, per
    /// window (the caller takes the least of this and the CPU's and the
    /// concurrency's rate in each).
    pub politeness_by_window_pages: Vec<u64>,
    /// Mean time from a page request's arrival to its answer.
    pub mean_latency_ms: f64,
    pub violations: u64,
    pub violations_by_rule: HashMap<&'static str, u64>,
    /// The first violations, for reading.
    pub violation_examples: Vec<Violation>,
    /// URLs reachable from the seeds (live hosts, allowed by robots.txt).
    pub reachable: u64,
    /// Reachable URLs fetched (answered 200 or a redirect at least once).
    pub fetched: u64,
    pub lost: u64,
    pub lost_examples: Vec<String>,
    /// URLs requested more than once with a 200 answer.
    pub fetched_twice: u64,
}

/// The windows of [`Report::politeness_by_window_pages`].
pub const WINDOW: Duration = Duration::from_secs(5);

/// See [`Report::politeness_by_window_pages`].
fn windowed_bound(
    web: &Web,
    log: &[RequestRecord],
    reachable: &HashSet<Link>,
    crawl_seconds: f64,
) -> Vec<u64> {
    let pages: Vec<&RequestRecord> = log.iter().filter(|r| r.path != PagePath::RobotsTxt).collect();
    let Some(start) = pages.iter().map(|r| r.arrived).min() else {
        return Vec::new();
    };
    // When each reachable page became known, and when it was first fetched.
    let mut known: HashMap<Link, Duration> = HashMap::new();
    for seed in 0..web.config.seeds.min(web.config.hosts) {
        known.insert(
            Link {
                host: seed,
                path: PagePath::Page(0),
            },
            start,
        );
    }
    let mut fetched: HashMap<Link, Duration> = HashMap::new();
    let mut answered: Vec<&RequestRecord> = pages.clone();
    answered.sort_by_key(|r| r.answered);
    for record in answered {
        let link = Link {
            host: record.host,
            path: record.path,
        };
        fetched.entry(link).or_insert(record.arrived);
        let Some(host) = web.host(record.host) else {
            continue;
        };
        let found = match (record.status, record.path) {
            (200, PagePath::Page(n) | PagePath::Copy(n)) => web.links(host, n),
            (301, PagePath::Go(n)) => vec![web.redirect_target(host, n)],
            _ => Vec::new(),
        };
        for link in found {
            known.entry(link).or_insert(record.answered);
        }
    }
    let windows = (crawl_seconds / WINDOW.as_secs_f64()).ceil().max(1.0) as usize;
    // Per host and window: pages known by the window's end and not fetched
    // before its start.
    let mut available: HashMap<u32, Vec<u64>> = HashMap::new();
    for (link, at) in &known {
        if !reachable.contains(link) {
            continue;
        }
        let from = at.saturating_sub(start).as_secs_f64() / WINDOW.as_secs_f64();
        let until = fetched.get(link).map_or(f64::MAX, |t| {
            t.saturating_sub(start).as_secs_f64() / WINDOW.as_secs_f64()
        });
        let counts = available.entry(link.host).or_insert_with(|| vec![0; windows]);
        let first = from.floor() as usize;
        let last = (until.floor() as usize).min(windows - 1);
        for count in counts.iter_mut().take(last + 1).skip(first) {
            *count += 1;
        }
    }
    let mut bound = vec![0u64; windows];
    for (host_id, counts) in &available {
        let host = web.host(*host_id).expect("known hosts exist");
        let gap = if host.kind == HostKind::CrawlDelay {
            web.crawl_delay_secs()
        } else {
            web.config.min_gap.as_secs_f64()
        };
        let per_visit = gap + host.latency.as_secs_f64() * web.config.time_scale;
        let most = (WINDOW.as_secs_f64() / per_visit) as u64 + 1;
        for (window, count) in counts.iter().enumerate() {
            bound[window] += (*count).min(most);
        }
    }
    bound
}

/// How many lost URLs and violations the report lists by name.
const EXAMPLES: usize = 20;

/// Checks `log` against the web's rules. Lost links are the reachable ones
/// not fetched yet: a crawl cut short has lost nothing, it is not done.
pub fn report(web: &Web, log: &[RequestRecord], unknown: u64, port: u16) -> Report {
    let url = |host: u32, path: PagePath| format!("http://{}:{port}{}", Web::host_name(host), path.render());
    let mut by_host: HashMap<u32, Vec<&RequestRecord>> = HashMap::new();
    for record in log {
        by_host.entry(record.host).or_default().push(record);
    }
    let mut violations = Vec::new();
    let tolerance = Duration::from_millis(1);
    let retry_after = Duration::from_secs(u64::from(web.config.retry_after_secs));
    for (host_id, records) in &mut by_host {
        records.sort_by_key(|r| r.arrived);
        let host = web.host(*host_id).expect("logged hosts exist");
        let gap = if host.kind == HostKind::CrawlDelay {
            Duration::from_secs_f64(web.crawl_delay_secs())
        } else {
            web.config.min_gap
        };
        let mut previous: Option<&RequestRecord> = None;
        let mut resting_until: Option<Duration> = None;
        for record in records.iter() {
            let at = record.arrived.as_secs_f64();
            let mut violate = |rule: &'static str, early: Duration| {
                violations.push(Violation {
                    rule,
                    url: url(record.host, record.path),
                    at,
                    early_ms: early.as_secs_f64() * 1000.0,
                })
            };
            if let Some(previous) = previous {
                let due = previous.answered + gap;
                if record.arrived + tolerance < due {
                    let rule = if host.kind == HostKind::CrawlDelay {
                        "Crawl-delay"
                    } else {
                        "gap between requests to a host"
                    };
                    violate(rule, due - record.arrived);
                }
            }
            if let Some(until) = resting_until
                && record.arrived + tolerance < until
            {
                violate("Retry-After", until - record.arrived);
            }
            if record.path != PagePath::RobotsTxt {
                if host.kind == HostKind::RobotsError {
                    violate("fetched while robots.txt was unreachable", Duration::ZERO);
                }
                if !web.allowed(host, record.path) {
                    violate("disallowed by robots.txt", Duration::ZERO);
                }
            }
            if matches!(record.status, 429 | 503) && record.path != PagePath::RobotsTxt {
                resting_until = Some(record.answered + retry_after);
            }
            previous = Some(record);
        }
    }
    let mut violations_by_rule = HashMap::new();
    for violation in &violations {
        *violations_by_rule.entry(violation.rule).or_insert(0) += 1;
    }
    violations.sort_by(|a, b| a.at.total_cmp(&b.at));

    // Reachability: every link from the seeds onwards, over live hosts and
    // allowed paths; a redirect leads on to its target.
    let mut served: HashMap<Link, u64> = HashMap::new();
    for record in log {
        if matches!(record.status, 200 | 301) && record.path != PagePath::RobotsTxt {
            *served
                .entry(Link {
                    host: record.host,
                    path: record.path,
                })
                .or_insert(0) += 1;
        }
    }
    let mut reachable: HashSet<Link> = HashSet::new();
    let mut queue: VecDeque<Link> = VecDeque::new();
    for seed in 0..web.config.seeds.min(web.config.hosts) {
        queue.push_back(Link {
            host: seed,
            path: PagePath::Page(0),
        });
    }
    while let Some(link) = queue.pop_front() {
        let host = web.host(link.host).expect("links lead to hosts of the web");
        if !web.reachable(host) || !web.allowed(host, link.path) || !reachable.insert(link) {
            continue;
        }
        match link.path {
            PagePath::Page(n) | PagePath::Copy(n) => queue.extend(web.links(host, n)),
            PagePath::Go(n) => queue.push_back(web.redirect_target(host, n)),
            PagePath::Private(_) | PagePath::RobotsTxt | PagePath::SitemapXml => {}
        }
    }
    let fetched = reachable.iter().filter(|link| served.contains_key(link)).count() as u64;
    let mut lost: Vec<String> = reachable
        .iter()
        .filter(|link| !served.contains_key(link))
        .map(|link| url(link.host, link.path))
        .collect();
    lost.sort();
    let page_times: Vec<Duration> = log
        .iter()
        .filter(|r| r.path != PagePath::RobotsTxt)
        .map(|r| r.arrived)
        .collect();
    let crawl_seconds = match (page_times.iter().min(), page_times.iter().max()) {
        (Some(first), Some(last)) => (*last - *first).as_secs_f64(),
        _ => 0.0,
    };
    let mut reachable_per_host: HashMap<u32, u64> = HashMap::new();
    for link in &reachable {
        *reachable_per_host.entry(link.host).or_insert(0) += 1;
    }
    let politeness_bound_pages = reachable_per_host
        .iter()
        .map(|(&id, &pages)| {
            let host = web.host(id).expect("reachable hosts exist");
            let gap = if host.kind == HostKind::CrawlDelay {
                web.crawl_delay_secs()
            } else {
                web.config.min_gap.as_secs_f64()
            };
            let per_visit = gap + host.latency.as_secs_f64() * web.config.time_scale;
            pages.min((crawl_seconds / per_visit) as u64 + 1)
        })
        .sum();
    let politeness_by_window_pages = windowed_bound(web, log, &reachable, crawl_seconds);
    let page_latencies: Vec<f64> = log
        .iter()
        .filter(|r| r.path != PagePath::RobotsTxt)
        .map(|r| (r.answered - r.arrived).as_secs_f64() * 1000.0)
        .collect();
    Report {
        page_requests: page_times.len() as u64,
        politeness_bound_pages,
        politeness_by_window_pages,
        mean_latency_ms: page_latencies.iter().sum::<f64>() / page_latencies.len().max(1) as f64,
        requests: log.len() as u64,
        ok: log.iter().filter(|r| r.status == 200).count() as u64,
        unknown,
        unknown_examples: Vec::new(),
        hosts_requested: by_host.len() as u64,
        crawl_seconds,
        pages_per_second: if crawl_seconds > 0.0 {
            page_times.len() as f64 / crawl_seconds
        } else {
            0.0
        },
        violations: violations.len() as u64,
        violations_by_rule,
        violation_examples: violations.into_iter().take(EXAMPLES).collect(),
        reachable: reachable.len() as u64,
        fetched,
        lost: lost.len() as u64,
        lost_examples: lost.into_iter().take(EXAMPLES).collect(),
        fetched_twice: served.values().filter(|&&n| n > 1).count() as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Host, WebConfig};

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn record(host: u32, path: PagePath, arrived: u64, status: u16) -> RequestRecord {
        RequestRecord {
            host,
            path,
            arrived: ms(arrived),
            answered: ms(arrived + 5),
            status,
        }
    }

    fn host_of(web: &Web, kind: HostKind) -> Host {
        *web.hosts()
            .iter()
            .find(|h| h.kind == kind)
            .expect("the small web has every kind")
    }

    /// Every rule is counted when broken, and not when kept.
    #[test]
    fn each_rule_counts_its_violations() {
        let web = Web::new(WebConfig::small(1));
        let gap = web.config.min_gap.as_millis() as u64; // 10 ms
        let ordinary = host_of(&web, HostKind::Ordinary).id;
        let log = vec![
            record(ordinary, PagePath::RobotsTxt, 0, 404),
            record(ordinary, PagePath::Page(0), 6, 200), // right after robots.txt: too soon
            record(ordinary, PagePath::Page(1), 11 + gap + 1, 200), // kept the gap
            record(ordinary, PagePath::Page(2), 17 + gap + 2, 200), // 4 ms early
        ];
        let report = report(&web, &log, 0, 80);
        assert_eq!(report.violations, 2, "{report:?}");
        assert_eq!(report.violations_by_rule["gap between requests to a host"], 2);

        let throttling = host_of(&web, HostKind::Throttling).id;
        let log = vec![
            record(throttling, PagePath::Page(0), 0, 429),
            record(throttling, PagePath::Page(0), 100, 200), // before Retry-After (1 s)
        ];
        assert_eq!(report_rules(&web, &log), ["Retry-After"]);

        let disallowing = host_of(&web, HostKind::Disallowing).id;
        let log = vec![record(disallowing, PagePath::Private(0), 0, 200)];
        assert_eq!(report_rules(&web, &log), ["disallowed by robots.txt"]);

        let robots_error = host_of(&web, HostKind::RobotsError).id;
        let log = vec![
            record(robots_error, PagePath::RobotsTxt, 0, 503),
            record(robots_error, PagePath::Page(0), 1000, 200),
        ];
        assert_eq!(
            report_rules(&web, &log),
            ["fetched while robots.txt was unreachable"]
        );

        let crawl_delay = host_of(&web, HostKind::CrawlDelay).id;
        let log = vec![
            record(crawl_delay, PagePath::Page(0), 0, 200),
            record(crawl_delay, PagePath::Page(1), 5 + gap + 1, 200), // the gap, not the Crawl-delay
        ];
        assert_eq!(report_rules(&web, &log), ["Crawl-delay"]);
    }

    fn report_rules(web: &Web, log: &[RequestRecord]) -> Vec<&'static str> {
        report(web, log, 0, 80).violations_by_rule.into_keys().collect()
    }

    /// The windowed bound counts a page from when a page linking to it was
    /// answered until it is fetched.
    #[test]
    fn a_page_counts_toward_the_windowed_bound_from_found_to_fetched() {
        let web = Web::new(WebConfig::small(1));
        let seeds: Vec<Link> = (0..web.config.seeds)
            .map(|host| Link {
                host,
                path: PagePath::Page(0),
            })
            .collect();
        let mut found: Vec<Link> = web
            .links(web.host(0).unwrap(), 0)
            .into_iter()
            .filter(|link| {
                let host = web.host(link.host).unwrap();
                web.reachable(host) && web.allowed(host, link.path) && !seeds.contains(link)
            })
            .collect();
        found.sort_by_key(|link| (link.host, format!("{:?}", link.path)));
        found.dedup();
        assert!(!found.is_empty());
        let bound = |log: &[RequestRecord]| report(&web, log, 0, 80).politeness_by_window_pages;
        // A 404 reveals no links; the last request makes three windows.
        let end = || record(3, PagePath::Page(0), 12_000, 404);
        let seed_silent = bound(&[record(0, PagePath::Page(0), 0, 404), end()]);
        let seed_read = bound(&[record(0, PagePath::Page(0), 0, 200), end()]);
        // The seed's links count from its answer on, in every window.
        let more: Vec<u64> = seed_read.iter().zip(&seed_silent).map(|(a, b)| a - b).collect();
        assert_eq!(more, vec![found.len() as u64; 3]);
        // One of them fetched in the second window counts no more in the third.
        let fetched = bound(&[
            record(0, PagePath::Page(0), 0, 200),
            record(found[0].host, found[0].path, 7_000, 404),
            end(),
        ]);
        assert_eq!(fetched, [seed_read[0], seed_read[1], seed_read[2] - 1]);
    }

    /// A reachable page never fetched is lost, and named.
    #[test]
    fn a_page_never_fetched_is_lost() {
        let web = Web::new(WebConfig::small(1));
        let report = report(&web, &[record(0, PagePath::Page(0), 0, 200)], 0, 80);
        assert!(report.reachable > 10_000);
        assert_eq!(report.fetched, 1);
        assert_eq!(report.lost, report.reachable - 1);
        assert!(report.lost_examples[0].starts_with("http://h"), "{report:?}");
    }
}
