//! How many searches are computed at once, and how many may wait for their
//! turn.
//!
//! A search that misses the cache runs on the blocking pool, which starts a
//! thread for each. Left alone, eight searches on two cores share them, and
//! every search, long or short, takes four times its own time: under load
//! the slowest hundredth of answers is set by that sharing (BENCHMARKS.md
//! §19). Admitting only as many searches as there are cores, the others
//! waiting in arrival order, lets each finish at its own pace once started.
//! Cache hits never wait here: they are answered before a search is needed.
//!
//! The queue is bounded: a search that would wait behind `may_wait` others
//! is refused at once ([`SearchError::Unavailable`], a 503), rather than
//! answered after its client has given up.

use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::{Semaphore, SemaphorePermit};

use crate::search_error::SearchError;

pub struct Admission {
    at_once: usize,
    running: Semaphore,
    waiting: AtomicUsize,
    may_wait: usize,
}

/// One search's turn: the next waiting search starts when it is dropped.
pub type Turn<'a> = SemaphorePermit<'a>;

impl Admission {
    /// At most `at_once` searches computed together (at least one), and at
    /// most `may_wait` waiting.
    pub fn new(at_once: usize, may_wait: usize) -> Admission {
        Admission {
            at_once: at_once.max(1),
            running: Semaphore::new(at_once.max(1)),
            waiting: AtomicUsize::new(0),
            may_wait,
        }
    }

    /// Waits for a turn, in arrival order (tokio's semaphore is fair).
    pub async fn turn(&self) -> Result<Turn<'_>, SearchError> {
        if let Ok(turn) = self.running.try_acquire() {
            return Ok(turn);
        }
        let waiting = Waiting::join(&self.waiting);
        if waiting.ahead >= self.may_wait {
            metrics::counter!("trawl_api_search_refused_total").increment(1);
            return Err(SearchError::Unavailable(format!(
                "too many searches waiting ({}); retry later",
                waiting.ahead
            )));
        }
        self.running
            .acquire()
            .await
            .map_err(|_| SearchError::Internal("the search queue is closed".into()))
    }

    /// Searches waiting for a turn now.
    /// Searches that hold a turn now.
    pub fn running(&self) -> usize {
        self.at_once - self.running.available_permits()
    }

    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }
}

/// A place in the queue, left when dropped: also when the client goes away
/// while waiting and its search is dropped.
struct Waiting<'a> {
    count: &'a AtomicUsize,
    ahead: usize,
}

impl<'a> Waiting<'a> {
    fn join(count: &'a AtomicUsize) -> Waiting<'a> {
        let ahead = count.fetch_add(1, Ordering::Relaxed);
        Waiting { count, ahead }
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.count.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn searches_beyond_the_limit_wait_in_arrival_order() {
        let admission = Arc::new(Admission::new(1, 10));
        let first = admission.turn().await.unwrap();
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut waiters = Vec::new();
        for n in 0..3 {
            let (queued, order) = (admission.clone(), order.clone());
            waiters.push(tokio::spawn(async move {
                let _turn = queued.turn().await.unwrap();
                order.lock().unwrap().push(n);
            }));
            // Each waiter is queued before the next one is spawned.
            while admission.waiting() < n + 1 {
                tokio::task::yield_now().await;
            }
        }
        assert_eq!(admission.waiting(), 3);
        assert_eq!(admission.running(), 1);
        assert!(
            order.lock().unwrap().is_empty(),
            "none ran while the turn was held"
        );
        drop(first);
        for waiter in waiters {
            waiter.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), vec![0, 1, 2]);
        assert_eq!(admission.waiting(), 0);
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once_and_a_dropped_waiter_leaves_it() {
        let admission = Admission::new(1, 1);
        let _running = admission.turn().await.unwrap();
        let mut waiter = Box::pin(admission.turn());
        assert!(futures::poll!(&mut waiter).is_pending());
        assert_eq!(admission.waiting(), 1);
        match admission.turn().await {
            Err(SearchError::Unavailable(message)) => assert!(message.contains("retry"), "{message}"),
            other => panic!("expected a refusal, got {:?}", other.map(|_| ())),
        }
        // The client went away while waiting: its place is free again.
        drop(waiter);
        assert_eq!(admission.waiting(), 0);
        let mut next = Box::pin(admission.turn());
        assert!(futures::poll!(&mut next).is_pending());
    }
}
