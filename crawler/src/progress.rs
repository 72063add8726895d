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
use crate::stats::{CrawlStats, in_words};

/// How often a quiet crawl samples the frontier for its gauges.
const SAMPLE_EVERY: Duration = Duration::from_secs(5);

pub struct Reporter {
    task: Option<JoinHandle<()>>,
    bar: Option<ProgressBar>,
}

impl Reporter {
    /// Reports until [`Reporter::finish`]; `max_pages`, when the run has
    /// one, gives the line an ETA.
    pub fn start(
        mode: Progress,
        stats: Arc<CrawlStats>,
        frontier: Arc<dyn Frontier>,
        max_pages: Option<u64>,
    ) -> Reporter {
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
            // None before the first line: a crawl that just started is not
            // stalled.
            let mut last_fetched = None;
            loop {
                ticker.tick().await;
                let counts = frontier.counts().await.unwrap_or_default();
                metrics::gauge!(names::CRAWLER_FRONTIER_QUEUED).set(counts.queued as f64);
                metrics::gauge!(names::CRAWLER_FRONTIER_LEASED).set(counts.leased as f64);
                if mode == Progress::Quiet {
                    continue;
                }
                let fetched = stats.fetched();
                let line = ProgressLine {
                    fetched,
                    indexed: stats.indexed(),
                    queued: counts.queued,
                    errors: stats.errors(),
                    skipped: stats.skipped_total(),
                    elapsed: started.elapsed(),
                    max_pages,
                    // Stalled: nothing fetched since the last line while
                    // links wait; say for what.
                    waiting: (last_fetched == Some(fetched) && counts.queued > 0)
                        .then(|| (counts.resting_hosts, stats.waiting_for())),
                };
                last_fetched = Some(fetched);
                match &task_bar {
                    Some(bar) => bar.set_message(line.to_string()),
                    None => info!(
                        fetched,
                        indexed = line.indexed,
                        queued = line.queued,
                        errors = line.errors,
                        skipped = line.skipped,
                        pages_per_sec = format!("{:.1}", line.rate()),
                        eta = line.eta().map(|eta| in_words(eta.as_millis() as u64)),
                        waiting = line.waiting_text(),
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

/// One progress report: `fetched 1200 (40.1/s) · indexed 1150 · queued 830
/// · errors 3 · skipped 41 · ETA 2 min`, and when nothing was fetched since
/// the last one while links wait, what for: `waiting: 3 hosts resting, next
/// in 42 s`.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgressLine {
    pub fetched: u64,
    pub indexed: u64,
    pub queued: u64,
    pub errors: u64,
    pub skipped: u64,
    pub elapsed: Duration,
    pub max_pages: Option<u64>,
    /// Resting hosts, and how long until the frontier's next link may be
    /// fetched (when it said).
    pub waiting: Option<(u64, Option<Duration>)>,
}

impl ProgressLine {
    pub fn rate(&self) -> f64 {
        self.fetched as f64 / self.elapsed.as_secs_f64().max(0.001)
    }

    /// At this run's rate, how long until `max_pages`.
    pub fn eta(&self) -> Option<Duration> {
        let left = self.max_pages?.saturating_sub(self.fetched);
        let rate = self.rate();
        (rate > 0.0).then(|| Duration::from_secs_f64(left as f64 / rate))
    }

    fn waiting_text(&self) -> Option<String> {
        let (resting, next) = self.waiting?;
        let hosts = if resting == 1 { "host" } else { "hosts" };
        Some(match next {
            Some(next) => format!(
                "{resting} {hosts} resting, next in {}",
                in_words(next.as_millis() as u64)
            ),
            None => format!("{resting} {hosts} resting"),
        })
    }
}

impl std::fmt::Display for ProgressLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "fetched {} ({:.1}/s) · indexed {} · queued {} · errors {} · skipped {}",
            self.fetched,
            self.rate(),
            self.indexed,
            self.queued,
            self.errors,
            self.skipped
        )?;
        if let Some(eta) = self.eta() {
            write!(f, " · ETA {}", in_words(eta.as_millis() as u64))?;
        }
        if let Some(waiting) = self.waiting_text() {
            write!(f, " · waiting: {waiting}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_has_rate_eta_errors_and_what_a_stall_waits_for() {
        let line = ProgressLine {
            fetched: 100,
            indexed: 90,
            queued: 30,
            errors: 2,
            skipped: 7,
            elapsed: Duration::from_secs(10),
            max_pages: Some(400),
            waiting: None,
        };
        assert_eq!(
            line.to_string(),
            "fetched 100 (10.0/s) · indexed 90 · queued 30 · errors 2 · skipped 7 · ETA 30 s"
        );
        let stalled = ProgressLine {
            max_pages: None,
            waiting: Some((3, Some(Duration::from_secs(42)))),
            ..line
        };
        assert_eq!(
            stalled.to_string(),
            "fetched 100 (10.0/s) · indexed 90 · queued 30 · errors 2 · skipped 7 · waiting: 3 hosts resting, next in 42 s"
        );
    }
}
