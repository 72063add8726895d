//! Near-duplicates and freshness, through whole crawls of a fixture site,
//! on the embedded frontier and on Redis: copies of a page that differ by a
//! timestamp, an ad block or a session id in their links are not indexed
//! (and their links are not followed); pages that share only a template are;
//! a second run revisits the pages that came due with conditional GETs and
//! handles what changed, what did not (304) and what went away (404, 410).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use common::SkipReason;
use crawler::crawled::{CrawledLinks, FreshnessConfig};
use crawler::frontier::{EmbeddedFrontier, Frontier, FrontierConfig, RedisFrontier, RedisFrontierConfig};

use crate::support::{CrawlResult, Recorder, crawl_with, serve, test_config};

/// Pseudo-random words (a few thousand distinct), the same for a seed.
fn prose(seed: u64, words: usize) -> String {
    const SYLLABLES: [&str; 16] = [
        "ka", "lo", "mi", "ne", "ru", "ta", "vi", "so", "pe", "da", "fu", "ge", "ho", "ji", "be", "zo",
    ];
    let mut state = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as usize
    };
    (0..words)
        .map(|_| {
            let syllables = 2 + next() % 2;
            (0..syllables).map(|_| SYLLABLES[next() % 16]).collect::<String>()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every page of the site wears this template: header, navigation, footer.
fn template(title: &str, main: &str) -> Html<String> {
    Html(format!(
        "<html><head><title>{title}</title></head><body>\
         <header>Widgets Incorporated, the widget people</header>\
         <nav><a href=\"/\">Home</a> <a href=\"/guide/one\">Guide one</a> <a href=\"/guide/two\">Guide two</a></nav>\
         <main><h1>{title}</h1>{main}</main>\
         <footer>Copyright Widgets Incorporated. All rights reserved. Privacy policy.</footer>\
         </body></html>"
    ))
}

#[derive(Clone, Default)]
struct Site {
    /// After the first crawl: /changing changed, /gone and /missing went away.
    second_visit: Arc<AtomicBool>,
}

impl Site {
    fn second(&self) -> bool {
        self.second_visit.load(Ordering::SeqCst)
    }
}

fn article() -> String {
    format!("<p>{}</p><p>{}</p>", prose(1, 700), prose(2, 500))
}

async fn home() -> Html<String> {
    template(
        "Home",
        "<p>Welcome to the widget site.</p><ul>\
         <li><a href=\"/article\">Article</a></li>\
         <li><a href=\"/article?print=1\">Printable article</a></li>\
         <li><a href=\"/article-with-ad\">Article, sponsored</a></li>\
         <li><a href=\"/catalog?sid=a1b2c3\">Catalog</a></li>\
         <li><a href=\"/changing\">News</a></li>\
         <li><a href=\"/stable\">About</a></li>\
         <li><a href=\"/gone\">Old offer</a></li>\
         <li><a href=\"/missing\">Old page</a></li>\
         <li><a href=\"/moved\">Moving page</a></li>\
         <li><a href=\"/hidden-later\">Page to be hidden</a></li></ul>",
    )
}

async fn article_page(Query(query): Query<Vec<(String, String)>>) -> Html<String> {
    let printed = query.iter().any(|(k, _)| k == "print");
    // The print view adds the time it was printed: the same page.
    let stamp = if printed {
        "<p>Printed on 2026-11-23 at 10:41:07 UTC.</p>"
    } else {
        ""
    };
    template(
        "Widget care",
        &format!("{}{stamp}<p><a href=\"/article/more\">More</a></p>", article()),
    )
}

async fn article_with_ad() -> Html<String> {
    template(
        "Widget care",
        &format!(
            "{}<div class=\"ad\">Buy cheap widgets today at widgets dot example, the sale ends soon!</div>\
             <p><a href=\"/from-the-ad-copy\">More</a></p>",
            article()
        ),
    )
}

async fn more() -> Html<String> {
    template("More on widgets", &format!("<p>{}</p>", prose(30, 400)))
}

/// A catalog whose links carry a session id, new on every page view: an
/// endless chain of URLs for one page, unless the copy is recognized.
async fn catalog(Query(query): Query<Vec<(String, String)>>) -> Html<String> {
    let sid = query
        .iter()
        .find(|(k, _)| k == "sid")
        .map_or("x", |(_, v)| v.as_str());
    let next_sid = format!("{:x}", xxhash_rust::xxh3::xxh3_64(sid.as_bytes()));
    template(
        "Catalog",
        &format!(
            "<p>{}</p><p><a href=\"/catalog?sid={next_sid}\">Catalog</a> \
             <a href=\"/item?sid={next_sid}\">Blue widget</a></p>",
            prose(3, 600)
        ),
    )
}

async fn item() -> Html<String> {
    template("Blue widget", &format!("<p>{}</p>", prose(4, 400)))
}

/// Two pages that share the template and a paragraph, nothing else.
async fn guide(axum::extract::Path(name): axum::extract::Path<String>) -> Html<String> {
    let seed = if name == "one" { 10 } else { 11 };
    template(
        &format!("Guide {name}"),
        &format!(
            "<p>This guide is part of the widget documentation. Read the other guides too.</p><p>{}</p>",
            prose(seed, 300)
        ),
    )
}

async fn changing(State(site): State<Site>) -> Html<String> {
    let seed = if site.second() { 21 } else { 20 };
    template("News", &format!("<p>{}</p>", prose(seed, 400)))
}

/// Answers 304 to a GET that names its ETag or a date not before its own.
async fn stable(headers: HeaderMap) -> Response {
    const ETAG: &str = "\"stable-v1\"";
    const LAST_MODIFIED: &str = "Mon, 02 Nov 2026 10:00:00 GMT";
    let validated = headers.get(header::IF_NONE_MATCH).is_some_and(|v| v == ETAG);
    if validated {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    let mut response = template("About", &format!("<p>{}</p>", prose(40, 400))).into_response();
    let response_headers = response.headers_mut();
    response_headers.insert(header::ETAG, ETAG.parse().unwrap());
    response_headers.insert(header::LAST_MODIFIED, LAST_MODIFIED.parse().unwrap());
    response
}

async fn gone(State(site): State<Site>) -> Response {
    if site.second() {
        return StatusCode::GONE.into_response();
    }
    template("Old offer", &format!("<p>{}</p>", prose(50, 300))).into_response()
}

async fn missing(State(site): State<Site>) -> Response {
    if site.second() {
        return StatusCode::NOT_FOUND.into_response();
    }
    template("Old page", &format!("<p>{}</p>", prose(51, 300))).into_response()
}

/// Moves to /guide/one on the second visit.
async fn moved(State(site): State<Site>) -> Response {
    if site.second() {
        return axum::response::Redirect::permanent("/guide/one").into_response();
    }
    template("Moving", &format!("<p>{}</p>", prose(52, 300))).into_response()
}

/// Asks not to be indexed on the second visit.
async fn hidden_later(State(site): State<Site>) -> Html<String> {
    let robots = if site.second() {
        "<meta name=\"robots\" content=\"noindex\">"
    } else {
        ""
    };
    Html(format!(
        "<html><head>{robots}<title>Hidden</title></head><body><main><p>{}</p></main></body></html>",
        prose(53, 300)
    ))
}

fn router(site: Site) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/article", get(article_page))
        .route("/article-with-ad", get(article_with_ad))
        .route("/article/more", get(more))
        .route("/from-the-ad-copy", get(more))
        .route("/catalog", get(catalog))
        .route("/item", get(item))
        .route("/guide/{name}", get(guide))
        .route("/changing", get(changing))
        .route("/stable", get(stable))
        .route("/gone", get(gone))
        .route("/missing", get(missing))
        .route("/moved", get(moved))
        .route("/hidden-later", get(hidden_later))
        .with_state(site)
}

fn indexed_paths(result: &CrawlResult, origin: &str) -> Vec<String> {
    let mut paths: Vec<String> = result
        .pages
        .iter()
        .map(|page| page.url.as_str().trim_start_matches(origin).to_string())
        .collect();
    paths.sort();
    paths
}

/// A crawl of the site at `origin` for a first and a second visit: one
/// page at a time, so the first of two copies is always the same; every
/// page due again at once, duplicates only after an hour.
fn two_visits_config(origin: &str) -> crawler::config::CrawlConfig {
    let mut config = test_config(&[format!("{origin}/")]);
    config.concurrency = 1;
    config.freshness = FreshnessConfig {
        first_interval: Duration::from_millis(1),
        min_interval: Duration::from_millis(1),
        max_interval: Duration::from_secs(3600),
    };
    config
}

/// Runs the scenario on frontiers from `open_frontier` (one per run, over
/// the same stored state) and one `crawled_links` in `dir`.
async fn two_visits<F, Fut>(open_frontier: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Arc<dyn Frontier>>,
{
    let site = Site::default();
    let recorder = Recorder::default();
    let addr = serve("127.0.0.1", router(site.clone()), &recorder).await;
    let origin = format!("http://{addr}");
    let dir = tempfile::tempdir().unwrap();
    let config = two_visits_config(&origin);
    let open_crawled = || Arc::new(CrawledLinks::open(dir.path(), config.freshness).unwrap());

    // First visit. Of each group of copies exactly one page is indexed:
    // whichever came first (the frontiers order equal links differently).
    let first = crawl_with(config.clone(), open_frontier().await, open_crawled()).await;
    let indexed = indexed_paths(&first, &origin);
    let copies_of_article = ["/article", "/article?print=1", "/article-with-ad"];
    let original = copies_of_article
        .iter()
        .copied()
        .filter(|path| indexed.iter().any(|p| p == path))
        .collect::<Vec<_>>();
    assert_eq!(original.len(), 1, "{indexed:?}\n{}", first.summary);
    let original = original[0];
    let mut expected = [
        "/",
        original,
        "/catalog?sid=a1b2c3",
        "/changing",
        "/gone",
        "/guide/one",
        "/guide/two",
        "/hidden-later",
        &format!("/item?sid={}", item_sid()),
        "/missing",
        "/moved",
        "/stable",
    ]
    .map(str::to_string)
    .to_vec();
    // The original's own link is followed; its copies' are not.
    let followed = if original == "/article-with-ad" {
        "/from-the-ad-copy"
    } else {
        "/article/more"
    };
    expected.push(followed.to_string());
    expected.sort();
    assert_eq!(indexed, expected, "{}", first.summary);
    let not_followed = if followed == "/article/more" {
        "/from-the-ad-copy"
    } else {
        "/article/more"
    };
    assert_eq!(recorder.hits(not_followed), 0);
    // The two copies of the article (a timestamp, an ad block that is left
    // out of the text) and the catalog seen with another session id.
    let duplicates = first.summary.skipped(SkipReason::NearDuplicate)
        + first.summary.skipped(SkipReason::DuplicateContent);
    assert_eq!(duplicates, 3, "{}", first.summary);
    let pairs = &first.summary.duplicates;
    assert_eq!(pairs.len(), 3, "{pairs:?}");
    for copy in copies_of_article.iter().filter(|path| **path != original) {
        let pair = (format!("{origin}{copy}"), format!("{origin}{original}"));
        assert!(pairs.contains(&pair), "{pair:?} not in {pairs:?}");
    }
    // The session-id chain stopped at its first copy.
    let catalog_hits = recorder
        .arrivals()
        .iter()
        .filter(|a| a.path_and_query.starts_with("/catalog"))
        .count();
    assert_eq!(catalog_hits, 2);

    // Second visit: the site changed meanwhile.
    site.second_visit.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let before = recorder.arrivals().len();
    let second = crawl_with(config.clone(), open_frontier().await, open_crawled()).await;
    // Every indexed page came due; the copies did not (they wait an hour).
    assert_eq!(second.summary.revisits, 13, "{}", second.summary);
    let revisited: Vec<String> = recorder.arrivals()[before..]
        .iter()
        .map(|a| a.path_and_query.clone())
        .filter(|path| path != "/robots.txt")
        .collect();
    let copies: Vec<&str> = copies_of_article
        .iter()
        .copied()
        .filter(|path| *path != original)
        .collect();
    assert!(
        !revisited.iter().any(
            |p| copies.contains(&p.as_str()) || (p.starts_with("/catalog") && p != "/catalog?sid=a1b2c3")
        ),
        "{revisited:?}"
    );
    assert_eq!(revisited.len(), 13, "{revisited:?}");
    // The unchanged page answered 304 and was kept; the changed one was
    // indexed again; the gone ones, the moved one and the one that asks
    // not to be indexed any more were removed.
    assert_eq!(second.summary.not_modified, 1, "{}", second.summary);
    assert_eq!(second.summary.changed, 1, "{}", second.summary);
    assert_eq!(second.summary.removed, 4, "{}", second.summary);
    let mut removed = second.removed.clone();
    removed.sort();
    let expected_removed =
        ["/gone", "/hidden-later", "/missing", "/moved"].map(|path| format!("{origin}{path}"));
    assert_eq!(removed, expected_removed);
    let reindexed = indexed_paths(&second, &origin);
    assert!(reindexed.contains(&"/changing".to_string()), "{reindexed:?}");
    assert!(!reindexed.contains(&"/stable".to_string()), "{reindexed:?}");
    let news = second
        .page(&format!("{origin}/changing"))
        .expect("the changed page is published again");
    assert!(news.text.contains(&prose(21, 400)[..40]));

    // Gone pages are forgotten: not due again, not in crawled_links.
    let crawled = open_crawled();
    let gone = common::NormalizedUrl::parse(&format!("{origin}/gone")).unwrap();
    assert_eq!(crawled.get(0, &gone).unwrap(), None);
}

// A daemon looks for due pages while it runs: a page that changes is
// fetched again and again, no sooner than its interval allows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daemon_revisits_pages_as_they_come_due() {
    let visits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = visits.clone();
    let router = Router::new().route(
        "/",
        get(move || {
            let visit = counter.fetch_add(1, Ordering::SeqCst);
            async move { template("News", &format!("<p>{}</p>", prose(100 + visit as u64, 200))) }
        }),
    );
    let recorder = Recorder::default();
    let addr = serve("127.0.0.1", router, &recorder).await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(&[format!("http://{addr}/")]);
    config.stop_when_empty = false;
    config.revisit_scan_every = Duration::from_millis(20);
    config.freshness = FreshnessConfig {
        first_interval: Duration::from_millis(100),
        min_interval: Duration::from_millis(100),
        max_interval: Duration::from_secs(3600),
    };
    let frontier =
        Arc::new(EmbeddedFrontier::open(&dir.path().join("frontier"), FrontierConfig::default()).unwrap());
    let crawled = Arc::new(CrawledLinks::open(&dir.path().join("crawled"), config.freshness).unwrap());
    let watched = visits.clone();
    let three_visits = async move {
        while watched.load(Ordering::SeqCst) < 3 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    let result = tokio::time::timeout(
        Duration::from_secs(30),
        crate::support::crawl_until(config, frontier, crawled, three_visits),
    )
    .await
    .expect("the daemon revisits the page");
    assert!(result.summary.revisits >= 2, "{}", result.summary);
    assert!(result.summary.changed >= 2, "{}", result.summary);
    let arrivals: Vec<_> = recorder
        .page_arrivals(&addr.to_string())
        .into_iter()
        .filter(|a| a.path_and_query == "/")
        .collect();
    for gap in crate::support::gaps(&arrivals) {
        assert!(gap >= Duration::from_millis(100), "{arrivals:?}");
    }
}

/// The session id the catalog gives its item link.
fn item_sid() -> String {
    format!("{:x}", xxhash_rust::xxh3::xxh3_64(b"a1b2c3"))
}

#[tokio::test]
async fn copies_are_dropped_and_due_pages_revisited_embedded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    two_visits(|| {
        let path = path.clone();
        async move {
            Arc::new(EmbeddedFrontier::open(&path, FrontierConfig::default()).unwrap()) as Arc<dyn Frontier>
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copies_are_dropped_and_due_pages_revisited_on_redis() {
    let url = std::env::var("TRAWL_TEST_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_string());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let mut redis = RedisFrontierConfig::new(&url);
    redis.prefix = format!("trawl-test-freshness-{}-{nanos}", std::process::id());
    redis.allow_volatile = true;
    // One partition: crawled_links is looked up under the frontier's
    // partition of the host, and the test reads it back under 0.
    redis.partitions = 1;
    let made: Arc<std::sync::Mutex<Vec<Arc<RedisFrontier>>>> = Default::default();
    two_visits(|| {
        let (redis, made) = (redis.clone(), made.clone());
        async move {
            let mut redis = redis;
            redis.worker_id = format!("{}-{}", redis.worker_id, made.lock().unwrap().len());
            // The previous run's worker leaves, so this one takes the partition at once.
            let previous = made.lock().unwrap().last().cloned();
            if let Some(previous) = previous {
                previous.close().await.unwrap();
            }
            let frontier = Arc::new(RedisFrontier::worker(redis).await.expect("Redis"));
            made.lock().unwrap().push(frontier.clone());
            frontier as Arc<dyn Frontier>
        }
    })
    .await;
    let last = made.lock().unwrap().last().cloned().unwrap();
    last.delete_all().await.unwrap();
}

/// Answers 304 to a GET that names its ETag, like `stable`.
async fn validated_guide(headers: HeaderMap) -> Response {
    const ETAG: &str = "\"guide-v1\"";
    if headers.get(header::IF_NONE_MATCH).is_some_and(|v| v == ETAG) {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    let mut response = template("Guide", &format!("<p>{}</p>", prose(70, 300))).into_response();
    response.headers_mut().insert(header::ETAG, ETAG.parse().unwrap());
    response
}

/// A copy naming /guide as its canonical URL; on the second visit, a
/// redirect stub to it (as rustdoc leaves where a page moved).
async fn old_name(State(site): State<Site>) -> Html<String> {
    if site.second() {
        return Html(
            "<html><head><meta http-equiv=\"refresh\" content=\"0; url=/guide\">\
             <link rel=\"canonical\" href=\"/guide\"><title>Redirecting...</title></head>\
             <body><p>Redirecting to <a href=\"/guide\">/guide</a>.</p></body></html>"
                .to_string(),
        );
    }
    Html(format!(
        "<html><head><link rel=\"canonical\" href=\"/guide\"><title>Guide, old name</title></head>\
         <body><main><p>{}</p></main></body></html>",
        prose(71, 300)
    ))
}

// A page indexed under its canonical URL's document that becomes a redirect
// stub to that URL must not remove the document (it is the target's), and
// the target, whose text the copy may have replaced, is fetched again whole
// (its ETag forgotten) and published with its own text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_that_becomes_a_redirect_leaves_its_targets_document() {
    let site = Site::default();
    let recorder = Recorder::default();
    let router = Router::new()
        .route(
            "/",
            get(|| async {
                template(
                    "Home",
                    "<a href=\"/old-name\">Old</a> <a href=\"/guide\">Guide</a>",
                )
            }),
        )
        .route("/old-name", get(old_name))
        .route("/guide", get(validated_guide))
        .with_state(site.clone());
    let addr = serve("127.0.0.1", router, &recorder).await;
    let origin = format!("http://{addr}");
    let dir = tempfile::tempdir().unwrap();
    let config = two_visits_config(&origin);
    let open_crawled =
        || Arc::new(CrawledLinks::open(&dir.path().join("crawled"), config.freshness).unwrap());
    let open_frontier = || async {
        Arc::new(EmbeddedFrontier::open(&dir.path().join("frontier"), FrontierConfig::default()).unwrap())
            as Arc<dyn Frontier>
    };

    let first = crawl_with(config.clone(), open_frontier().await, open_crawled()).await;
    let copy = first
        .page(&format!("{origin}/old-name"))
        .expect("the copy is indexed");
    assert_eq!(copy.canonical_url.as_str(), format!("{origin}/guide"));

    site.second_visit.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let second = crawl_with(config.clone(), open_frontier().await, open_crawled()).await;
    assert!(second.removed.is_empty(), "{:?}", second.removed);
    assert!(second.page(&format!("{origin}/old-name")).is_none());
    let guide = second.page(&format!("{origin}/guide")).unwrap_or_else(|| {
        panic!(
            "the target is fetched whole and published again: {:?}\n{}",
            recorder
                .arrivals()
                .iter()
                .map(|a| a.path_and_query.clone())
                .collect::<Vec<_>>(),
            second.summary
        )
    });
    assert!(guide.text.contains(&prose(70, 300)[..40]), "{}", guide.text);
    assert!(second.pages.iter().all(|page| !page.text.contains("Redirecting")));
    let crawled = open_crawled();
    let stub = common::NormalizedUrl::parse(&format!("{origin}/old-name")).unwrap();
    assert_eq!(crawled.get(0, &stub).unwrap(), None);
}
