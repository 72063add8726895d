//! The behaviour every `Frontier` must have, run against each
//! implementation. Delays use real (short) time so that implementations
//! whose clock lives elsewhere (Redis) run the same cases.

use std::sync::Arc;
use std::time::Duration;

use common::NormalizedUrl;

use super::*;

/// Builds a fresh, empty frontier for one case.
#[async_trait::async_trait]
pub trait FrontierFactory: Sync {
    async fn create(&self, config: FrontierConfig) -> Arc<dyn Frontier>;
}

fn link(url: &str, priority: f64) -> NewLink {
    NewLink::page(NormalizedUrl::parse(url).unwrap(), 1, priority)
}

async fn lease(frontier: &dyn Frontier) -> Lease {
    match frontier.claim().await.unwrap() {
        Claim::Leased(lease) => lease,
        other => panic!("expected a lease, got {other:?}"),
    }
}

async fn assert_not_claimable(frontier: &dyn Frontier) {
    let claim = frontier.claim().await.unwrap();
    assert!(
        matches!(claim, Claim::Wait(_) | Claim::Empty),
        "expected nothing claimable, got {claim:?}"
    );
}

/// Runs every case against the frontiers `factory` makes.
pub async fn run_all(factory: &dyn FrontierFactory) {
    add_drops_seen_urls(factory).await;
    claims_best_priority_first(factory).await;
    claims_best_priority_first_across_hosts(factory).await;
    one_in_flight_per_host(factory).await;
    politeness_delay_holds_the_host(factory).await;
    completed_links_never_return(factory).await;
    given_back_links_return(factory).await;
    retries_wait_then_give_up(factory).await;
    expired_leases_return(factory).await;
    mark_seen_blocks_later_adds(factory).await;
    kind_and_redirects_survive_a_claim(factory).await;
    a_stale_lease_cannot_end_the_current_one(factory).await;
    links_found_on_many_pages_rise(factory).await;
    host_budget_and_query_cap_refuse_links(factory).await;
    due_pages_are_revisited_once(factory).await;
    a_long_host_queue_comes_out_whole_and_best_first(factory).await;
}

/// Priorities 0.01..0.99 in a scrambled order, 300 links on one host.
fn long_queue() -> Vec<NewLink> {
    (0..300u64)
        .map(|i| {
            let priority = ((i * 7919) % 99 + 1) as f64 / 100.0;
            link(&format!("http://long.test/page-{i}"), priority)
        })
        .collect()
}

/// Claims every link of `frontier` (releasing each host at once) and
/// returns their priorities in the order they came.
async fn drain(frontier: &dyn Frontier) -> Vec<f64> {
    let mut priorities = Vec::new();
    loop {
        match frontier.claim().await.unwrap() {
            Claim::Leased(lease) => {
                frontier.release_host(&lease, Duration::ZERO).await.unwrap();
                frontier.complete(&lease).await.unwrap();
                priorities.push(lease.priority);
            }
            Claim::Wait(wait) => tokio::time::sleep(wait.min(Duration::from_millis(10))).await,
            Claim::Empty => return priorities,
        }
    }
}

/// More links than a host keeps in memory (the embedded frontier spills
/// the rest to RocksDB), added in three batches: all come out, the best
/// first, whatever the batches' order.
async fn a_long_host_queue_comes_out_whole_and_best_first(factory: &dyn FrontierFactory) {
    let frontier = factory.create(FrontierConfig::default()).await;
    let links = long_queue();
    for batch in links.chunks(100) {
        frontier.add(batch.to_vec()).await.unwrap();
    }
    let priorities = drain(&*frontier).await;
    assert_eq!(priorities.len(), 300);
    assert!(
        priorities.windows(2).all(|pair| pair[0] >= pair[1]),
        "not best first: {priorities:?}"
    );
}

async fn due_pages_are_revisited_once(factory: &dyn FrontierFactory) {
    let frontier = factory.create(FrontierConfig::default()).await;
    frontier.add(vec![link("http://a.test/1", 1.0)]).await.unwrap();
    let first = lease(&*frontier).await;
    // Leased: a revisit changes nothing.
    assert_eq!(
        frontier
            .revisit(vec![link("http://a.test/1", 0.5)])
            .await
            .unwrap(),
        0
    );
    frontier.release_host(&first, Duration::ZERO).await.unwrap();
    frontier.complete(&first).await.unwrap();
    assert_eq!(frontier.claim().await.unwrap(), Claim::Empty);

    // Done: a revisit queues it again, once however often it is asked,
    // and a page never seen is queued too.
    let due = vec![link("http://a.test/1", 0.5), link("http://b.test/new", 0.25)];
    assert_eq!(frontier.revisit(due.clone()).await.unwrap(), 2);
    assert_eq!(frontier.revisit(due).await.unwrap(), 0);
    let again = lease(&*frontier).await;
    assert_eq!((again.url.as_str(), again.priority), ("http://a.test/1", 0.5));
    let other = lease(&*frontier).await;
    assert_eq!(other.url.as_str(), "http://b.test/new");
    for leased in [&again, &other] {
        frontier.release_host(leased, Duration::ZERO).await.unwrap();
        frontier.complete(leased).await.unwrap();
    }
    assert_eq!(frontier.claim().await.unwrap(), Claim::Empty);
    // Still seen: finding the page again does not queue it.
    assert_eq!(
        frontier
            .add(vec![link("http://b.test/new", 1.0)])
            .await
            .unwrap()
            .added,
        0
    );
    let counts = frontier.counts().await.unwrap();
    assert_eq!((counts.queued, counts.leased, counts.seen), (0, 0, 2));
}

async fn add_drops_seen_urls(factory: &dyn FrontierFactory) {
    let frontier = factory.create(FrontierConfig::default()).await;
    let added = frontier
        .add(vec![
            link("http://a.test/1", 1.0),
            link("http://a.test/1", 1.0),
            link("http://a.test/2", 1.0),
        ])
        .await
        .unwrap();
    assert_eq!(added.added, 2, "duplicates within one add count once");
    assert_eq!(
        frontier
            .add(vec![link("http://a.test/2", 5.0)])
            .await
            .unwrap()
            .added,
        0
    );
    let counts = frontier.counts().await.unwrap();
    assert_eq!((counts.queued, counts.seen), (2, 2));
}

async fn claims_best_priority_first(factory: &dyn FrontierFactory) {
    let frontier = factory.create(FrontierConfig::default()).await;
    frontier
        .add(vec![
            link("http://a.test/low", 0.1),
            link("http://b.test/high", 0.9),
            link("http://c.test/mid", 0.5),
        ])
        .await
        .unwrap();
    let order: Vec<String> = [
        lease(&*frontier).await,
        lease(&*frontier).await,
        lease(&*frontier).await,
    ]
    .iter()
    .map(|l| l.url.to_string())
    .collect();
    assert_eq!(
        order,
        ["http://b.test/high", "http://c.test/mid", "http://a.test/low"]
    );
}

/// Many hosts, spread over partitions (the Redis frontier claims from
/// several at once): every claim still takes the best link left.
async fn claims_best_priority_first_across_hosts(factory: &dyn FrontierFactory) {
    let frontier = factory.create(FrontierConfig::default()).await;
    // Priorities in a shuffled order (37 is prime to 60).
    let priorities: Vec<f64> = (0..60).map(|i| ((i * 37) % 60) as f64 / 60.0).collect();
    let url = |i: usize| format!("http://h{i}.test/page");
    let links = priorities
        .iter()
        .enumerate()
        .map(|(i, &p)| link(&url(i), p))
        .collect();
    frontier.add(links).await.unwrap();
    let mut claimed = Vec::new();
    for _ in 0..priorities.len() {
        claimed.push(lease(&*frontier).await.url.to_string());
    }
    let mut best_first: Vec<usize> = (0..priorities.len()).collect();
    best_first.sort_by(|&a, &b| priorities[b].total_cmp(&priorities[a]));
    assert_eq!(claimed, best_first.into_iter().map(url).collect::<Vec<_>>());
}

fn two_in_flight() -> FrontierConfig {
    FrontierConfig {
        max_in_flight_per_host: 2,
        ..FrontierConfig::default()
    }
}

async fn one_in_flight_per_host(factory: &dyn FrontierFactory) {
    let frontier = factory.create(FrontierConfig::default()).await;
    frontier
        .add(vec![link("http://a.test/1", 1.0), link("http://a.test/2", 0.5)])
        .await
        .unwrap();
    let first = lease(&*frontier).await;
    assert_eq!(first.url.as_str(), "http://a.test/1");
    assert_not_claimable(&*frontier).await;
    frontier.release_host(&first, Duration::ZERO).await.unwrap();
    assert_eq!(lease(&*frontier).await.url.as_str(), "http://a.test/2");

    // With two allowed in flight, both links of a host are claimable.
    let frontier = factory.create(two_in_flight()).await;
    frontier
        .add(vec![
            link("http://a.test/1", 1.0),
            link("http://a.test/2", 0.5),
            link("http://a.test/3", 0.2),
        ])
        .await
        .unwrap();
    lease(&*frontier).await;
    lease(&*frontier).await;
    assert_not_claimable(&*frontier).await;

    // A host's own limit (a site rule's per_host), above or below the
    // frontier's, holds for its host only.
    let frontier = factory.create(FrontierConfig::default()).await;
    let limited = |url: &str, limit: usize| NewLink {
        host_in_flight: Some(limit),
        ..link(url, 1.0)
    };
    frontier
        .add(vec![
            limited("http://wide.test/1", 3),
            limited("http://wide.test/2", 3),
            limited("http://wide.test/3", 3),
            limited("http://wide.test/4", 3),
            link("http://plain.test/1", 0.5),
            link("http://plain.test/2", 0.5),
        ])
        .await
        .unwrap();
    let mut hosts = Vec::new();
    for _ in 0..4 {
        hosts.push(lease(&*frontier).await.host.as_str().to_string());
    }
    hosts.sort();
    assert_eq!(hosts, ["plain.test", "wide.test", "wide.test", "wide.test"]);
    assert_not_claimable(&*frontier).await;
    let frontier = factory.create(two_in_flight()).await;
    frontier
        .add(vec![
            limited("http://narrow.test/1", 1),
            limited("http://narrow.test/2", 1),
        ])
        .await
        .unwrap();
    lease(&*frontier).await;
    assert_not_claimable(&*frontier).await;
}

async fn politeness_delay_holds_the_host(factory: &dyn FrontierFactory) {
    let frontier = factory.create(FrontierConfig::default()).await;
    frontier
        .add(vec![
            link("http://a.test/1", 1.0),
            link("http://a.test/2", 0.5),
            link("http://b.test/1", 0.1),
        ])
        .await
        .unwrap();
    let first = lease(&*frontier).await;
    frontier
        .release_host(&first, Duration::from_millis(1500))
        .await
        .unwrap();
    // The sleeping host's better link waits; another host's link does not.
    assert_eq!(lease(&*frontier).await.url.as_str(), "http://b.test/1");
    match frontier.claim().await.unwrap() {
        Claim::Wait(wait) => assert!(wait <= Duration::from_millis(1500), "wait {wait:?}"),
        other => panic!("expected a wait, got {other:?}"),
    }
    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert_eq!(lease(&*frontier).await.url.as_str(), "http://a.test/2");
}

async fn completed_links_never_return(factory: &dyn FrontierFactory) {
    let frontier = factory.create(FrontierConfig::default()).await;
    frontier.add(vec![link("http://a.test/1", 1.0)]).await.unwrap();
    let leased = lease(&*frontier).await;
    frontier.release_host(&leased, Duration::ZERO).await.unwrap();
    frontier.complete(&leased).await.unwrap();
    assert_eq!(frontier.claim().await.unwrap(), Claim::Empty);
    assert_eq!(
        frontier
            .add(vec![link("http://a.test/1", 1.0)])
            .await
            .unwrap()
            .added,
        0
    );
    let counts = frontier.counts().await.unwrap();
    assert_eq!((counts.queued, counts.leased, counts.seen), (0, 0, 1));
}

async fn given_back_links_return(factory: &dyn FrontierFactory) {
    let frontier = factory.create(FrontierConfig::default()).await;
    frontier.add(vec![link("http://a.test/1", 1.0)]).await.unwrap();
    let leased = lease(&*frontier).await;
    assert_eq!(frontier.counts().await.unwrap().leased, 1);
    // Giving back releases the host too, with no delay.
    frontier.give_back(&leased).await.unwrap();
    let again = lease(&*frontier).await;
    assert_eq!(again.url, leased.url);
    assert_eq!(again.retries, 0);
}

async fn retries_wait_then_give_up(factory: &dyn FrontierFactory) {
    let frontier = factory
        .create(FrontierConfig {
            max_retries: 1,
            ..FrontierConfig::default()
        })
        .await;
    frontier.add(vec![link("http://a.test/1", 1.0)]).await.unwrap();
    let first = lease(&*frontier).await;
    frontier.release_host(&first, Duration::ZERO).await.unwrap();
    assert_eq!(
        frontier.retry(&first, Duration::from_millis(800)).await.unwrap(),
        RetryDecision::Requeued
    );
    assert_not_claimable(&*frontier).await;
    tokio::time::sleep(Duration::from_millis(900)).await;
    let second = lease(&*frontier).await;
    assert_eq!(second.url, first.url);
    assert_eq!(second.retries, 1);
    assert!(second.priority < first.priority, "a retried link ranks lower");
    assert_eq!(
        frontier.retry(&second, Duration::ZERO).await.unwrap(),
        RetryDecision::GaveUp
    );
    frontier.complete(&second).await.unwrap();
    assert_eq!(frontier.claim().await.unwrap(), Claim::Empty);
}

async fn expired_leases_return(factory: &dyn FrontierFactory) {
    let config = FrontierConfig {
        lease_duration: Duration::from_millis(800),
        ..FrontierConfig::default()
    };
    let frontier = factory.create(config).await;
    frontier.add(vec![link("http://a.test/1", 1.0)]).await.unwrap();
    let leased = lease(&*frontier).await;
    // The claimer "dies": no release, no completion.
    assert_not_claimable(&*frontier).await;
    tokio::time::sleep(Duration::from_millis(900)).await;
    let again = lease(&*frontier).await;
    assert_eq!(again.url, leased.url);
}

async fn mark_seen_blocks_later_adds(factory: &dyn FrontierFactory) {
    let frontier = factory.create(FrontierConfig::default()).await;
    let url = NormalizedUrl::parse("http://out.test/x").unwrap();
    assert_eq!(
        frontier.mark_seen(vec![url.clone(), url.clone()]).await.unwrap(),
        1
    );
    assert_eq!(frontier.mark_seen(vec![url]).await.unwrap(), 0);
    assert_eq!(
        frontier
            .add(vec![link("http://out.test/x", 1.0)])
            .await
            .unwrap()
            .added,
        0
    );
    assert_eq!(frontier.claim().await.unwrap(), Claim::Empty);
}

async fn kind_and_redirects_survive_a_claim(factory: &dyn FrontierFactory) {
    let frontier = factory.create(FrontierConfig::default()).await;
    let url = NormalizedUrl::parse("http://a.test/sitemap.xml").unwrap();
    let sitemap = NewLink {
        url,
        depth: 2,
        priority: 0.7,
        kind: LinkKind::Sitemap,
        redirects: 3,
        host_budget: None,
        host_in_flight: None,
    };
    frontier.add(vec![sitemap.clone()]).await.unwrap();
    let leased = lease(&*frontier).await;
    assert_eq!(
        (leased.kind, leased.redirects, leased.depth),
        (LinkKind::Sitemap, 3, 2)
    );
    frontier.give_back(&leased).await.unwrap();
    let again = lease(&*frontier).await;
    assert_eq!((again.kind, again.redirects), (LinkKind::Sitemap, 3));
}

async fn a_stale_lease_cannot_end_the_current_one(factory: &dyn FrontierFactory) {
    let config = FrontierConfig {
        lease_duration: Duration::from_millis(600),
        ..FrontierConfig::default()
    };
    let frontier = factory.create(config).await;
    frontier.add(vec![link("http://a.test/1", 1.0)]).await.unwrap();
    let stale = lease(&*frontier).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    let current = lease(&*frontier).await;
    assert_ne!(stale.token, current.token);
    // The first holder wakes up late: none of its calls may touch the lease
    // the second holder has now.
    frontier
        .release_host(&stale, Duration::from_secs(60))
        .await
        .unwrap();
    frontier.complete(&stale).await.unwrap();
    frontier.give_back(&stale).await.unwrap();
    assert_eq!(frontier.counts().await.unwrap().leased, 1);
    frontier.release_host(&current, Duration::ZERO).await.unwrap();
    frontier.complete(&current).await.unwrap();
    assert_eq!(frontier.claim().await.unwrap(), Claim::Empty);
}

async fn links_found_on_many_pages_rise(factory: &dyn FrontierFactory) {
    let frontier = factory.create(FrontierConfig::default()).await;
    frontier
        .add(vec![
            link("http://a.test/popular", 0.5),
            link("http://b.test/plain", 0.55),
        ])
        .await
        .unwrap();
    // Found again on two more pages (twice on one of them: that counts once).
    frontier
        .add(vec![
            link("http://a.test/popular", 0.5),
            link("http://a.test/popular", 0.5),
        ])
        .await
        .unwrap();
    frontier
        .add(vec![link("http://a.test/popular", 0.5)])
        .await
        .unwrap();
    let first = lease(&*frontier).await;
    assert_eq!(first.url.as_str(), "http://a.test/popular");
    assert!(
        (first.priority - 0.6).abs() < 1e-9,
        "0.5 + 2 x 0.05, got {}",
        first.priority
    );
    // The raise survives the link going back to the frontier.
    frontier.give_back(&first).await.unwrap();
    let mut next = [lease(&*frontier).await, lease(&*frontier).await];
    next.sort_by(|a, b| a.url.cmp(&b.url));
    assert_eq!(next[0].url.as_str(), "http://a.test/popular");
    assert!(
        (next[0].priority - 0.6).abs() < 1e-9,
        "after a give-back: {}",
        next[0].priority
    );
    assert_eq!(next[1].url.as_str(), "http://b.test/plain");
}

async fn host_budget_and_query_cap_refuse_links(factory: &dyn FrontierFactory) {
    let config = FrontierConfig {
        max_urls_per_host: 3,
        max_queries_per_path: 2,
        ..FrontierConfig::default()
    };
    let frontier = factory.create(config).await;
    // Two query strings per path are fine, the third is a calendar.
    let report = frontier
        .add(vec![
            link("http://cal.test/day?d=1", 1.0),
            link("http://cal.test/day?d=2", 1.0),
            link("http://cal.test/day?d=3", 1.0),
            link("http://cal.test/other?d=3", 1.0),
        ])
        .await
        .unwrap();
    assert_eq!(
        report,
        AddReport {
            added: 3,
            over_host_budget: 0,
            too_many_queries: 1
        }
    );
    // The host's fourth URL is over its budget; another host is not.
    let report = frontier
        .add(vec![link("http://cal.test/x", 1.0), link("http://b.test/x", 1.0)])
        .await
        .unwrap();
    assert_eq!(
        report,
        AddReport {
            added: 1,
            over_host_budget: 1,
            too_many_queries: 0
        }
    );
    // Refused URLs count as seen: offering them again changes nothing.
    let report = frontier
        .add(vec![
            link("http://cal.test/day?d=3", 1.0),
            link("http://cal.test/x", 1.0),
        ])
        .await
        .unwrap();
    assert_eq!(report, AddReport::default());
    assert_eq!(frontier.counts().await.unwrap().queued, 4);

    // A link's own budget (a site rule's max_pages) holds below the
    // frontier's; its host's URLs count whatever budget they came with.
    let budgeted = |url: &str| NewLink {
        host_budget: Some(2),
        ..link(url, 1.0)
    };
    let report = frontier
        .add(vec![
            budgeted("http://site.test/1"),
            budgeted("http://site.test/2"),
            budgeted("http://site.test/3"),
        ])
        .await
        .unwrap();
    assert_eq!((report.added, report.over_host_budget), (2, 1));
    let report = frontier.add(vec![link("http://site.test/4", 1.0)]).await.unwrap();
    assert_eq!(
        report.added, 1,
        "without its own budget, the frontier's holds (3)"
    );
    let report = frontier.add(vec![budgeted("http://site.test/5")]).await.unwrap();
    assert_eq!((report.added, report.over_host_budget), (0, 1));
}

mod embedded_suite {
    use super::*;
    use crate::frontier::EmbeddedFrontier;

    struct Embedded {
        dir: tempfile::TempDir,
    }

    #[async_trait::async_trait]
    impl FrontierFactory for Embedded {
        async fn create(&self, config: FrontierConfig) -> Arc<dyn Frontier> {
            let dir = tempfile::tempdir_in(self.dir.path()).unwrap().keep();
            Arc::new(EmbeddedFrontier::open(&dir, config).unwrap())
        }
    }

    #[tokio::test]
    async fn embedded_frontier_conforms() {
        run_all(&Embedded {
            dir: tempfile::tempdir().unwrap(),
        })
        .await;
    }

    // A host's own limit of requests in flight (a site rule's) is kept
    // across a reopen: its links come back under it, not the crawl's.
    #[tokio::test]
    async fn embedded_frontier_reopens_with_hosts_own_limits() {
        let dir = tempfile::tempdir().unwrap();
        {
            let frontier = EmbeddedFrontier::open(dir.path(), FrontierConfig::default()).unwrap();
            let links = (0..3)
                .map(|i| NewLink {
                    host_in_flight: Some(2),
                    ..link(&format!("http://wide.test/{i}"), 1.0)
                })
                .collect();
            frontier.add(links).await.unwrap();
        }
        let frontier = EmbeddedFrontier::open(dir.path(), FrontierConfig::default()).unwrap();
        lease(&frontier).await;
        lease(&frontier).await;
        assert_not_claimable(&frontier).await;
    }

    // A host's spilled links survive a reopen, and come out whole and in
    // order after it.
    #[tokio::test]
    async fn embedded_frontier_reopens_with_spilled_links() {
        let dir = tempfile::tempdir().unwrap();
        let mut first = Vec::new();
        {
            let frontier = EmbeddedFrontier::open(dir.path(), FrontierConfig::default()).unwrap();
            frontier.add(long_queue()).await.unwrap();
            for _ in 0..100 {
                let lease = lease(&frontier).await;
                frontier.release_host(&lease, Duration::ZERO).await.unwrap();
                frontier.complete(&lease).await.unwrap();
                first.push(lease.priority);
            }
        }
        let frontier = EmbeddedFrontier::open(dir.path(), FrontierConfig::default()).unwrap();
        assert_eq!(frontier.counts().await.unwrap().queued, 200);
        let rest = drain(&frontier).await;
        assert_eq!(rest.len(), 200);
        let all: Vec<f64> = first.into_iter().chain(rest).collect();
        assert!(all.windows(2).all(|pair| pair[0] >= pair[1]), "{all:?}");
    }

    // A data directory from an older trawl is refused with a clear message,
    // never misread.
    #[tokio::test]
    async fn embedded_frontier_refuses_an_unknown_format() {
        let dir = tempfile::tempdir().unwrap();
        {
            let db = rocksdb::DB::open_default(dir.path()).unwrap();
            db.put(
                "http://a.test/",
                b"\x94\xc3\x01\xcb\x3f\xf0\x00\x00\x00\x00\x00\x00\x00",
            )
            .unwrap();
        }
        let error = EmbeddedFrontier::open(dir.path(), FrontierConfig::default())
            .err()
            .expect("refused");
        assert!(error.to_string().contains("another version of trawl"), "{error}");
    }

    // A resumed crawl must not lose queued links nor refetch finished ones;
    // links leased when the process died are queued again.
    #[tokio::test]
    async fn embedded_frontier_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let frontier = EmbeddedFrontier::open(dir.path(), FrontierConfig::default()).unwrap();
            frontier
                .add(vec![
                    link("http://a.test/done", 1.0),
                    link("http://b.test/leased", 0.8),
                    link("http://c.test/queued", 0.5),
                ])
                .await
                .unwrap();
            let done = lease(&frontier).await;
            frontier.complete(&done).await.unwrap();
            let _leased_when_killed = lease(&frontier).await;
        }
        let frontier = EmbeddedFrontier::open(dir.path(), FrontierConfig::default()).unwrap();
        let counts = frontier.counts().await.unwrap();
        assert_eq!((counts.queued, counts.leased, counts.seen), (2, 0, 3));
        let mut urls = vec![
            lease(&frontier).await.url.to_string(),
            lease(&frontier).await.url.to_string(),
        ];
        urls.sort();
        assert_eq!(urls, ["http://b.test/leased", "http://c.test/queued"]);
        assert_eq!(
            frontier
                .add(vec![link("http://a.test/done", 1.0)])
                .await
                .unwrap()
                .added,
            0
        );
        drop(frontier);

        // A link that used up its retries is done for good, across a reopen
        // (this was once lost, and the link fetched again on every resume).
        let strict = FrontierConfig {
            max_retries: 0,
            ..FrontierConfig::default()
        };
        let frontier = EmbeddedFrontier::open(dir.path(), strict).unwrap();
        frontier
            .add(vec![link("http://e.test/failing", 1.0)])
            .await
            .unwrap();
        let failing = lease(&frontier).await; // the best priority of those queued
        assert_eq!(failing.url.as_str(), "http://e.test/failing");
        assert_eq!(
            frontier.retry(&failing, Duration::ZERO).await.unwrap(),
            RetryDecision::GaveUp
        );
        frontier.complete(&failing).await.unwrap();
        drop(frontier);
        let frontier = EmbeddedFrontier::open(dir.path(), FrontierConfig::default()).unwrap();
        assert_eq!(
            frontier
                .add(vec![link("http://e.test/failing", 1.0)])
                .await
                .unwrap()
                .added,
            0
        );
        let mut urls = Vec::new();
        while let Claim::Leased(leased) = frontier.claim().await.unwrap() {
            urls.push(leased.url.to_string());
        }
        assert!(!urls.contains(&"http://e.test/failing".to_string()), "{urls:?}");
        drop(frontier);

        // The per-host counts are rebuilt on reopen: a.test already used
        // its one URL of budget.
        let limited = FrontierConfig {
            max_urls_per_host: 1,
            ..FrontierConfig::default()
        };
        let frontier = EmbeddedFrontier::open(dir.path(), limited).unwrap();
        let report = frontier
            .add(vec![
                link("http://a.test/new", 1.0),
                link("http://d.test/new", 1.0),
            ])
            .await
            .unwrap();
        assert_eq!(
            report,
            AddReport {
                added: 1,
                over_host_budget: 1,
                too_many_queries: 0
            }
        );
    }
}

/// The Redis for tests: `TRAWL_TEST_REDIS` or the local server.
pub fn test_redis_url() -> String {
    std::env::var("TRAWL_TEST_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_string())
}

/// A key prefix no other test run uses.
pub fn unique_prefix(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("trawl-test-{name}-{}-{nanos}", std::process::id())
}

mod redis_suite {
    use std::sync::Mutex;

    use super::*;
    use crate::frontier::{RedisFrontier, RedisFrontierConfig};

    /// Makes workers on the real Redis, each case under a prefix of its own,
    /// and deletes their keys afterwards.
    #[derive(Default)]
    struct OnRedis {
        made: Mutex<Vec<Arc<RedisFrontier>>>,
        /// Partitions and links a claim script leases at most, when not the
        /// defaults.
        small_claims: Option<(u32, usize)>,
    }

    #[async_trait::async_trait]
    impl FrontierFactory for OnRedis {
        async fn create(&self, config: FrontierConfig) -> Arc<dyn Frontier> {
            let mut redis = RedisFrontierConfig::new(&test_redis_url());
            redis.prefix = unique_prefix("conformance");
            // The test Redis may keep nothing on disk; restarts are tested apart.
            redis.allow_volatile = true;
            redis.frontier = config;
            if let Some((partitions, claim_batch)) = self.small_claims {
                redis.partitions = partitions;
                redis.claim_batch = claim_batch;
            }
            let frontier = Arc::new(
                RedisFrontier::worker(redis)
                    .await
                    .expect("Redis at TRAWL_TEST_REDIS"),
            );
            self.made.lock().unwrap().push(frontier.clone());
            frontier
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn redis_frontier_conforms() {
        let factory = OnRedis::default();
        run_all(&factory).await;
        factory.delete_all().await;
    }

    /// A claim script that leases all it may (2 links) leaves better links
    /// in its partition than other partitions' leases: those must not be
    /// handed out first. 4 partitions, 15 hosts each.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn claims_stay_in_priority_order_when_a_claim_is_full() {
        let factory = OnRedis {
            small_claims: Some((4, 2)),
            ..OnRedis::default()
        };
        claims_best_priority_first_across_hosts(&factory).await;
        factory.delete_all().await;
    }

    impl OnRedis {
        async fn delete_all(&self) {
            let made: Vec<_> = self.made.lock().unwrap().drain(..).collect();
            for frontier in made {
                frontier.delete_all().await.unwrap();
            }
        }
    }
}
