//! What crawler operators rely on, tried as they would: WARC archives read
//! back by an independent reader (warcio), a rerun that says it has
//! nothing to do, `--recrawl`, and per-site rules from the config file
//! checked by a server that records every request.

use std::collections::{BTreeMap, HashMap};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use common::NormalizedUrl;
use crawler::CrawlConfig;
use crawler::frontier::FrontierConfig;
use crawler::warc::WarcConfig;
use serde_json::Value;
use test_support::fixture::Fixture;
use test_support::warc::warcio_records;
use trawl::commands::FrontierChoice;
use trawl::{DataDir, commands};

fn config_for(fixture: &Fixture, warc: &std::path::Path) -> CrawlConfig {
    let mut config = CrawlConfig::new(vec![
        NormalizedUrl::parse(&fixture.url("/site/index.html")).unwrap(),
    ]);
    config.include = vec![NormalizedUrl::parse(&fixture.base()).unwrap()];
    config.address_policy.allow_private = true;
    config.politeness.min_delay = Duration::ZERO;
    config.politeness.response_time_factor = 0.0;
    config.warc = Some(WarcConfig::new(warc));
    config
}

/// A whole crawl of the fixture into `data`, archived in `warc`.
async fn crawl(
    fixture: &Fixture,
    data: &DataDir,
    warc: &std::path::Path,
    recrawl: bool,
) -> crawler::CrawlSummary {
    let mut config = config_for(fixture, warc);
    config.recrawl = recrawl;
    commands::crawl(
        config,
        FrontierChoice::Embedded(FrontierConfig::default()),
        data,
        None,
        std::future::pending(),
    )
    .await
    .unwrap()
}

fn of_type<'a>(records: &'a [Value], kind: &str) -> Vec<&'a Value> {
    records.iter().filter(|r| r["type"] == kind).collect()
}

// warcio reads every file; there is one request and one response (or
// revisit) per request the server saw, with the server's address and
// digests warcio finds right; a rerun with --recrawl gets 304s, archived
// as revisits that name their original's URI, date and payload digest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warc_holds_every_exchange_and_revisits_point_at_their_originals() {
    let fixture = Fixture::start(Duration::ZERO).await;
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::new(dir.path().join("data"));
    let warc = dir.path().join("warc");

    let first = crawl(&fixture, &data, &warc, false).await;
    assert!(first.indexed > 50, "{first}");
    let requests_seen = fixture.total_hits();
    let records = warcio_records(&warc);
    let requests = of_type(&records, "request");
    let responses = of_type(&records, "response");
    assert_eq!(
        requests.len(),
        requests_seen,
        "one request record per request the server saw"
    );
    assert_eq!(responses.len(), requests_seen, "one response record per request");
    assert!(of_type(&records, "revisit").is_empty());
    assert_eq!(of_type(&records, "warcinfo").len(), 1);
    for record in &records {
        assert_ne!(record["digests_ok"], false, "warcio found a bad digest: {record}");
    }
    for response in &responses {
        assert_eq!(response["digests_ok"], true, "{response}");
        assert_eq!(response["ip"], "127.0.0.1", "{response}");
        assert!(response["payload_digest"].as_str().unwrap().starts_with("sha1:"));
    }
    // Each request names its response.
    let response_ids: std::collections::HashSet<&str> =
        responses.iter().map(|r| r["id"].as_str().unwrap()).collect();
    for request in &requests {
        assert!(
            response_ids.contains(request["concurrent_to"].as_str().unwrap()),
            "{request}"
        );
    }
    // The statuses are the server's: pages, the 404s, the redirects.
    let statuses: BTreeMap<String, usize> = responses.iter().fold(BTreeMap::new(), |mut counts, r| {
        *counts
            .entry(r["status"].as_str().unwrap().to_string())
            .or_default() += 1;
        counts
    });
    assert_eq!(
        statuses.get("301").copied().unwrap_or(0)
            + statuses.get("302").copied().unwrap_or(0)
            + statuses.get("307").copied().unwrap_or(0)
            + statuses.get("308").copied().unwrap_or(0),
        2,
        "{statuses:?}"
    );

    // The CDXJ index beside each file has a line per response.
    let index_lines: usize = std::fs::read_dir(&warc)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "cdxj"))
        .map(|p| std::fs::read_to_string(p).unwrap().lines().count())
        .sum();
    assert_eq!(index_lines, responses.len());

    // `trawl status` reads the same directory: nothing left, the last
    // run's counts and its errors by reason.
    let data_dir = data.root().display().to_string();
    let said =
        test_support::daemons::trawl_says(env!("CARGO_BIN_EXE_trawl"), &["status", "--data-dir", &data_dir]);
    for expected in [
        "  queued              0".to_string(),
        "  leased              0".to_string(),
        format!("fetched {}, indexed {}", first.fetched, first.indexed),
        "errors      http_status 1".to_string(),
        "nothing is left to fetch".to_string(),
        "next visit  a page comes due in".to_string(),
    ] {
        assert!(said.contains(&expected), "{expected:?} not in:\n{said}");
    }

    // A plain rerun has nothing to do, and says so.
    let again = crawl(&fixture, &data, &warc, false).await;
    assert_eq!(again.fetched, 0);
    assert!(again.had_nothing_to_do(), "{again}");
    let said = again.to_string();
    assert!(
        said.contains("nothing to do") && said.contains("--recrawl"),
        "{said}"
    );
    assert!(said.contains("comes due for a visit in"), "{said}");
    assert_eq!(fixture.total_hits(), requests_seen);

    // --recrawl fetches every page again: unchanged, they answer 304 and
    // are archived as revisits of the first crawl's responses.
    let third = crawl(&fixture, &data, &warc, true).await;
    assert!(third.not_modified >= first.indexed, "{third}");
    assert_eq!(fixture.not_modified() as u64, third.not_modified);
    let records = warcio_records(&warc);
    let originals: HashMap<&str, &Value> = of_type(&records, "response")
        .into_iter()
        .filter(|r| r["status"] == "200")
        .map(|r| (r["uri"].as_str().unwrap(), r))
        .collect();
    let revisits = of_type(&records, "revisit");
    assert_eq!(revisits.len() as u64, third.not_modified, "a revisit per 304");
    for revisit in &revisits {
        assert_eq!(
            revisit["profile"],
            "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
        );
        let uri = revisit["uri"].as_str().unwrap();
        let original = originals
            .get(uri)
            .unwrap_or_else(|| panic!("no original response for {uri}"));
        assert_eq!(revisit["refers_to_uri"], uri);
        assert_eq!(revisit["refers_to_date"], original["date"], "{revisit}");
        assert_eq!(revisit["payload_digest"], original["payload_digest"]);
        assert_eq!(revisit["status"], "304");
    }
    assert_eq!(of_type(&records, "request").len(), fixture.total_hits());
    assert_eq!(of_type(&records, "warcinfo").len(), 2, "a file per run");
}

/// One request as the recording server saw it.
#[derive(Debug, Clone)]
struct Seen {
    host: String,
    path: String,
    at: Instant,
    user_agent: String,
}

#[derive(Clone, Default)]
struct Recorder {
    seen: Arc<Mutex<Vec<Seen>>>,
    /// Per host: requests in flight now, and the most there ever were.
    in_flight: Arc<Mutex<HashMap<String, (usize, usize)>>>,
}

/// Three hosts on one server (by the Host header), each with pages that
/// link to 30 pages, a `/private/` page and a search page.
async fn three_sites(State(recorder): State<Recorder>, request: Request) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .split(':')
        .next()
        .unwrap_or_default()
        .to_string();
    let path = request.uri().path().to_string();
    let path_and_query = request
        .uri()
        .path_and_query()
        .map_or(path.clone(), |p| p.to_string());
    recorder.seen.lock().unwrap().push(Seen {
        host: host.clone(),
        path: path_and_query,
        at: Instant::now(),
        user_agent: request
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string(),
    });
    {
        let mut in_flight = recorder.in_flight.lock().unwrap();
        let (now, most) = in_flight.entry(host.clone()).or_default();
        *now += 1;
        *most = (*most).max(*now);
    }
    let response = answer(&host, &path).await;
    recorder.in_flight.lock().unwrap().get_mut(&host).unwrap().0 -= 1;
    response
}

async fn answer(host: &str, path: &str) -> Response {
    // c.test answers slowly, so that requests to it overlap if allowed to.
    if host == "c.test" {
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    if path == "/robots.txt" {
        // a.test lets in only the agent its site rule names.
        return match host {
            "a.test" => {
                "User-agent: partner-bot\nDisallow: /secret/\n\nUser-agent: *\nDisallow: /\n".into_response()
            }
            _ => "User-agent: *\nAllow: /\n".into_response(),
        };
    }
    if path == "/sitemap.xml" {
        return (axum::http::StatusCode::NOT_FOUND, "").into_response();
    }
    let links: String = (0..30)
        .map(|i| format!(r#"<a href="/p/{i}.html">page {i}</a> "#))
        .chain([
            r#"<a href="/private/keys.html">private</a>"#.to_string(),
            r#"<a href="/search?q=words">search</a>"#.to_string(),
            r#"<a href="/secret/x.html">secret</a>"#.to_string(),
        ])
        .collect();
    Html(format!(
        "<html><head><title>{host}{path}</title></head><body><p>Words of {host} {path} for the index.</p>{links}</body></html>"
    ))
    .into_response()
}

// Rules from the config file: a.test is asked at most every 300 ms under
// its own user agent (whose robots.txt group lets it in) and never for
// /private/; b.test gets 5 pages at most; c.test may have two requests in
// flight; --exclude keeps every host's search pages out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn site_rules_from_the_config_file_shape_the_crawl() {
    let recorder = Recorder::default();
    let app = Router::new().fallback(three_sites).with_state(recorder.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("trawl.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[crawl]
seed = ["http://a.test:{port}/", "http://b.test:{port}/", "http://c.test:{port}/"]
resolve = ["a.test=127.0.0.1", "b.test=127.0.0.1", "c.test=127.0.0.1"]
allow_private = true
delay_ms = 0
delay_factor = 0
exclude = ['/search\?']
data_dir = "{data}"

[[crawl.site]]
host = "a.test"
delay_ms = 300
user_agent = "partner-bot/2.0 (+https://a.test/bot)"
exclude = ["/private/"]

[[crawl.site]]
host = "*.b.test"
max_pages = 5

[[crawl.site]]
host = "c.test"
per_host = 2
"#,
            data = dir.path().join("data").display()
        ),
    )
    .unwrap();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_trawl"))
        .arg("--config")
        .arg(&config)
        .arg("crawl")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(120), output)
        .await
        .expect("the crawl ends")
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let seen = recorder.seen.lock().unwrap().clone();
    let most_in_flight = recorder.in_flight.lock().unwrap().clone();
    let of = |host: &str| -> Vec<Seen> { seen.iter().filter(|s| s.host == host).cloned().collect() };
    let (a, b) = (of("a.test"), of("b.test"));
    // a.test: every page but the excluded and the disallowed, under its
    // agent, 300 ms apart at least.
    let a_pages: Vec<&str> = a
        .iter()
        .map(|s| s.path.as_str())
        .filter(|p| p.starts_with("/p/"))
        .collect();
    assert_eq!(
        a_pages.len(),
        30,
        "{:?}",
        a.iter().map(|s| &s.path).collect::<Vec<_>>()
    );
    assert!(
        a.iter()
            .all(|s| s.user_agent == "partner-bot/2.0 (+https://a.test/bot)"),
        "{a:?}"
    );
    assert!(
        !a.iter().any(|s| s.path.starts_with("/private/")),
        "a.test's /private/ is excluded"
    );
    assert!(
        !a.iter().any(|s| s.path.starts_with("/secret/")),
        "robots.txt's partner-bot group holds"
    );
    for pair in a.windows(2) {
        let gap = pair[1].at.duration_since(pair[0].at);
        // The rule's delay, less a little for the two clocks' rounding.
        assert!(
            gap >= Duration::from_millis(290),
            "a.test asked again after {gap:?}: {pair:?}"
        );
    }
    // b.test: the crawl's agent, 5 URLs at most (its /sitemap.xml is one,
    // as with --max-pages-per-host; robots.txt is not a URL of the crawl).
    assert!(b.iter().all(|s| s.user_agent.starts_with("trawl/")), "{b:?}");
    let b_urls: Vec<&str> = b
        .iter()
        .map(|s| s.path.as_str())
        .filter(|p| *p != "/robots.txt")
        .collect();
    assert_eq!(b_urls.len(), 5, "{b_urls:?}");
    // c.test: two requests in flight at most (its rule), a.test one (the
    // crawl's --per-host).
    assert!(most_in_flight["c.test"].1 <= 2, "{most_in_flight:?}");
    assert_eq!(most_in_flight["a.test"].1, 1, "{most_in_flight:?}");
    assert_eq!(
        of("c.test").iter().filter(|s| s.path.starts_with("/p/")).count(),
        30,
        "every page of c.test"
    );
    // No host's search page.
    assert!(
        !seen.iter().any(|s| s.path.starts_with("/search")),
        "--exclude holds"
    );
    assert!(stdout.contains("excluded"), "{stdout}");
    // Not on a terminal, progress is a log line every 5 s (this crawl
    // takes longer: a.test's 32 requests are 300 ms apart).
    let stderr = String::from_utf8_lossy(&output.stderr);
    let progress = stderr
        .lines()
        .find(|line| line.contains("crawling"))
        .unwrap_or_else(|| panic!("no progress line: {stderr}"));
    for field in ["fetched=", "queued=", "errors=", "skipped=", "pages_per_sec="] {
        assert!(progress.contains(field), "{field} not in {progress}");
    }
}
