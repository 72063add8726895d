//! Progress of a running crawl: a live bar on a terminal, log lines
//! otherwise; and, whatever the mode, the frontier's gauges
//! ([`common::metrics`]), sampled on the same tick rather than per page (a
//! shared frontier counts with a round trip to Redis).

use std::sync::Arc;
use std::time::Duration;

use common::metrics as names;
use indicatif::{ProgressBar, ProgressStyle};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::info;

use crate::config::Progress;
use crate::frontier::Frontier;
use crate::stats::CrawlStats;

/// How often a quiet crawl samples the frontier for its gauges.
const SAMPLE_EVERY: Duration = Duration::from_secs(5);

pub struct Reporter {
    task: Option<JoinHandle<()>>,
    bar: Option<ProgressBar>,
}

impl Reporter {
    pub fn start(mode: Progress, stats: Arc<CrawlStats>, frontier: Arc<dyn Frontier>) -> Reporter {
        let (bar, period) = match mode {
            Progress::Quiet => (None, SAMPLE_EVERY),
            Progress::Bar => {
                let bar = ProgressBar::new_spinner();
                bar.set_style(
                    ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
                        .expect("template is valid"),
                );
                (Some(bar), Duration::from_millis(250))
            }
            Progress::Log => (None, Duration::from_secs(5)),
        };
        let started = Instant::now();
        let task_bar = bar.clone();
        let task = tokio::spawn(async move {
            let mut ticker = tokio::time::interval(period);
            loop {
                ticker.tick().await;
                let counts = frontier.counts().await.unwrap_or_default();
                metrics::gauge!(names::CRAWLER_FRONTIER_QUEUED).set(counts.queued as f64);
                metrics::gauge!(names::CRAWLER_FRONTIER_LEASED).set(counts.leased as f64);
                let fetched = stats.fetched();
                let rate = fetched as f64 / started.elapsed().as_secs_f64().max(0.001);
                match (&task_bar, mode) {
                    (Some(bar), _) => bar.set_message(format!(
                        "fetched {fetched} · indexed {} · queued {} · {rate:.0} pages/s",
                        stats.indexed(),
                        counts.queued
                    )),
                    (None, Progress::Quiet) => {}
                    (None, _) => info!(
                        fetched,
                        indexed = stats.indexed(),
                        queued = counts.queued,
                        pages_per_sec = format!("{rate:.1}"),
                        "crawling"
                    ),
                }
            }
        });
        Reporter {
            task: Some(task),
            bar,
        }
    }

    pub async fn finish(self) {
        if let Some(task) = self.task {
            task.abort();
            let _ = task.await;
        }
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}
