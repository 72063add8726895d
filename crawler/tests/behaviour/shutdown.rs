//! Stopping a crawl: what its links become when they cannot all finish.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use common::PageEvent;
use common::queue::{Confirmation, PageSink, QueueError};
use crawler::crawled::CrawledLinks;
use crawler::frontier::{Claim, EmbeddedFrontier, Frontier, FrontierConfig};
use tokio::sync::{Notify, oneshot};

use crate::support::*;

/// A sink whose pages are never confirmed (a broker that stopped
/// answering): their links can never complete.
#[derive(Default)]
struct NeverConfirms {
    published: AtomicUsize,
    published_one: Notify,
}

#[async_trait::async_trait]
impl PageSink for NeverConfirms {
    async fn publish(&self, _event: PageEvent) -> Result<Confirmation, QueueError> {
        self.published.fetch_add(1, Ordering::SeqCst);
        self.published_one.notify_one();
        Ok(Box::pin(std::future::pending()))
    }
}

// A drain that runs out of time gives the unfinished links back to the
// frontier at once: none is left leased until its lease expires (five
// minutes here), none is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_unfinished_when_the_drain_times_out_are_given_back() {
    let recorder = Recorder::default();
    let router = Router::new()
        .route(
            "/",
            get(|| async { Html("<a href=\"/a\">a</a> <a href=\"/b\">b</a>") }),
        )
        .route("/a", get(|| async { Html("<title>a</title>page a") }))
        .route("/b", get(|| async { Html("<title>b</title>page b") }));
    let addr = serve("127.0.0.1", router, &recorder).await;
    let dir = tempfile::tempdir().unwrap();
    let frontier =
        Arc::new(EmbeddedFrontier::open(&dir.path().join("frontier"), FrontierConfig::default()).unwrap());
    let mut config = test_config(&[format!("http://{addr}/")]);
    config.drain_timeout = Duration::from_millis(200);
    let crawled = Arc::new(CrawledLinks::open(&dir.path().join("crawled"), config.freshness).unwrap());
    let sink = Arc::new(NeverConfirms::default());

    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let crawling = crawler::run(config, frontier.clone(), crawled, sink.clone(), async {
        let _ = stop_rx.await;
    });
    let stopping = async {
        // Every page fetched and published, each waiting for a confirmation.
        while sink.published.load(Ordering::SeqCst) < 3 {
            sink.published_one.notified().await;
        }
        stop_tx.send(()).unwrap();
    };
    let (summary, ()) = tokio::join!(crawling, stopping);
    assert_eq!(summary.unwrap().indexed, 0);

    let counts = frontier.counts().await.unwrap();
    assert_eq!(counts.leased, 0, "links left to their leases: {counts:?}");
    assert_eq!(counts.queued, 3, "every unfinished link is queued again");
    assert!(matches!(frontier.claim().await.unwrap(), Claim::Leased(_)));
}
