//! The query cache: answers to recent searches, least recently used first
//! out, bounded in entries and in bytes.
//!
//! A key names everything an answer depends on: the normalized query, the
//! ranking, the page and page size, and the generation of every shard
//! searched. A commit changes its shard's generation, so an answer from
//! before it is never served after it; the stale entry just ages out.
//! Identical misses arriving together are computed once: the first caller
//! computes, the others wait for its answer (single flight).
//!
//! An answer may also be given again without the cache seeing it, from the
//! memo of requests seen before ([`crate::seen`]). Such an answer says so
//! ([`Cached::take_read_elsewhere`]), and when it comes up for eviction it
//! is kept once more, as most recent (a second chance, as in CLOCK): an
//! answer read often stays however it is read.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use lru::LruCache;
use tokio::sync::OnceCell;

use crate::rank::Ranking;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey {
    pub query: String,
    pub ranking: Ranking,
    /// Results skipped before the page, and the page's size.
    pub offset: usize,
    pub per_page: usize,
    /// Each shard's generation, in the order shards are configured.
    pub generations: Vec<u64>,
}

/// Counts since start, for /metrics and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct CacheCounts {
    pub hits: u64,
    pub misses: u64,
    /// Callers that waited for an identical miss instead of computing.
    pub coalesced: u64,
    pub evictions: u64,
    pub entries: usize,
    pub bytes: usize,
}

/// What the cache keeps.
pub trait Cached {
    /// Whether it was given out since the last call without the cache
    /// (and forget that it was).
    fn take_read_elsewhere(&self) -> bool;
}

struct Entry<V> {
    value: Arc<V>,
    bytes: usize,
}

struct Inner<V> {
    entries: LruCache<CacheKey, Entry<V>>,
    bytes: usize,
    counts: CacheCounts,
}

type Flight<V, E> = Arc<OnceCell<Result<Arc<V>, E>>>;

pub struct QueryCache<V, E> {
    inner: Mutex<Inner<V>>,
    in_flight: Mutex<HashMap<CacheKey, Flight<V, E>>>,
    max_bytes: usize,
}

impl<V: Cached, E: Clone> QueryCache<V, E> {
    /// A cache of at most `max_entries` answers and `max_bytes` bytes of
    /// them. Zero entries disables caching (single flight still applies).
    pub fn new(max_entries: usize, max_bytes: usize) -> QueryCache<V, E> {
        QueryCache {
            inner: Mutex::new(Inner {
                entries: LruCache::new(NonZeroUsize::new(max_entries.max(1)).expect("at least one")),
                bytes: 0,
                counts: CacheCounts::default(),
            }),
            in_flight: Mutex::new(HashMap::new()),
            max_bytes: if max_entries == 0 { 0 } else { max_bytes },
        }
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner<V>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn counts(&self) -> CacheCounts {
        let inner = self.inner();
        CacheCounts {
            entries: inner.entries.len(),
            bytes: inner.bytes,
            ..inner.counts
        }
    }

    /// The cached answer to `key`.
    pub fn get(&self, key: &CacheKey) -> Option<Arc<V>> {
        let mut inner = self.inner();
        let value = inner.entries.get(key).map(|entry| entry.value.clone());
        match value {
            Some(_) => inner.counts.hits += 1,
            None => inner.counts.misses += 1,
        }
        value
    }

    /// The cached answer to `key`, or `compute`'s, computed once for every
    /// caller waiting on the same key. `size` tells an answer's bytes;
    /// `cacheable` whether it may be kept (a partial answer may not).
    pub async fn get_or_compute<F>(
        &self,
        key: CacheKey,
        compute: F,
        size: impl Fn(&V) -> usize,
        cacheable: impl Fn(&V) -> bool,
    ) -> (Result<Arc<V>, E>, bool)
    where
        F: Future<Output = Result<V, E>>,
    {
        if let Some(value) = self.get(&key) {
            return (Ok(value), true);
        }
        let flight = {
            let mut in_flight = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
            in_flight
                .entry(key.clone())
                .or_insert_with(|| Arc::new(OnceCell::new()))
                .clone()
        };
        // One caller's closure runs; the others wait for its answer. Should
        // that caller go away mid-way, the next waiter's closure runs.
        let mut computed = false;
        let result = flight
            .get_or_init(|| async {
                computed = true;
                let result = compute.await.map(Arc::new);
                if let Ok(value) = &result
                    && cacheable(value)
                {
                    self.insert(key.clone(), value.clone(), size(value));
                }
                result
            })
            .await
            .clone();
        if computed {
            let mut in_flight = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
            if in_flight.get(&key).is_some_and(|f| Arc::ptr_eq(f, &flight)) {
                in_flight.remove(&key);
            }
        } else {
            self.inner().counts.coalesced += 1;
        }
        (result, false)
    }

    fn insert(&self, key: CacheKey, value: Arc<V>, bytes: usize) {
        if bytes > self.max_bytes {
            return;
        }
        let mut inner = self.inner();
        // The same key's answer replaced is not an eviction.
        if let Some(old) = inner.entries.pop(&key) {
            inner.bytes -= old.bytes;
        }
        // Room for one more entry and its bytes: the least recent entries
        // go, but one read elsewhere since the cache last looked is kept
        // once more, as most recent. Each is looked at twice at most.
        let mut second_chances = inner.entries.len();
        while inner.entries.len() >= inner.entries.cap().get() || inner.bytes + bytes > self.max_bytes {
            let Some((old_key, old)) = inner.entries.pop_lru() else {
                break;
            };
            if second_chances > 0 && old.value.take_read_elsewhere() {
                second_chances -= 1;
                inner.entries.push(old_key, old);
                continue;
            }
            inner.bytes -= old.bytes;
            inner.counts.evictions += 1;
        }
        inner.entries.push(key, Entry { value, bytes });
        inner.bytes += bytes;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    impl Cached for String {
        fn take_read_elsewhere(&self) -> bool {
            false
        }
    }

    fn key(query: &str, generation: u64) -> CacheKey {
        CacheKey {
            query: query.into(),
            ranking: Ranking::Tuned,
            offset: 0,
            per_page: 10,
            generations: vec![generation],
        }
    }

    async fn fetch(cache: &QueryCache<String, String>, key: CacheKey, value: &str) -> (String, bool) {
        let value = value.to_string();
        let (result, hit) = cache
            .get_or_compute(key, async move { Ok(value) }, |v| v.len(), |_| true)
            .await;
        (result.unwrap().to_string(), hit)
    }

    #[tokio::test]
    async fn hits_misses_and_generations() {
        let cache = QueryCache::<String, String>::new(10, 1000);
        assert_eq!(fetch(&cache, key("a", 1), "one").await, ("one".into(), false));
        assert_eq!(fetch(&cache, key("a", 1), "two").await, ("one".into(), true));
        // A new generation is a new key: the old answer is not served.
        assert_eq!(fetch(&cache, key("a", 2), "three").await, ("three".into(), false));
        let counts = cache.counts();
        assert_eq!((counts.hits, counts.misses, counts.entries), (1, 2, 2));
    }

    #[tokio::test]
    async fn bounded_in_entries_and_bytes() {
        let cache = QueryCache::<String, String>::new(2, 10);
        fetch(&cache, key("a", 1), "aaaa").await;
        fetch(&cache, key("b", 1), "bbbb").await;
        fetch(&cache, key("c", 1), "cccc").await; // a out: 2 entries at most
        assert_eq!(cache.counts().entries, 2);
        assert!(!fetch(&cache, key("a", 1), "aaaa").await.1, "a was evicted");
        // Too big to fit beside the others: they go, it stays.
        fetch(&cache, key("d", 1), "dddddddd").await;
        let counts = cache.counts();
        assert!(counts.bytes <= 10, "{counts:?}");
        assert_eq!(counts.entries, 1);
        assert_eq!(counts.evictions, 4);
        // Larger than the whole cache: answered, never kept.
        assert!(!fetch(&cache, key("e", 1), &"e".repeat(11)).await.1);
        assert!(!fetch(&cache, key("e", 1), &"e".repeat(11)).await.1);
    }

    #[tokio::test]
    async fn identical_misses_are_computed_once() {
        let cache = Arc::new(QueryCache::<String, String>::new(10, 1000));
        let computed = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (cache, computed) = (cache.clone(), computed.clone());
            tasks.push(tokio::spawn(async move {
                let compute = async {
                    computed.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Ok::<_, String>("answer".to_string())
                };
                let (result, _) = cache
                    .get_or_compute(key("q", 1), compute, |v| v.len(), |_| true)
                    .await;
                result.unwrap()
            }));
        }
        for task in tasks {
            assert_eq!(*task.await.unwrap(), "answer");
        }
        assert_eq!(computed.load(Ordering::SeqCst), 1);
        assert_eq!(cache.counts().coalesced, 7);
    }

    #[tokio::test]
    async fn errors_and_uncacheable_answers_are_not_kept() {
        let cache = QueryCache::<String, String>::new(10, 1000);
        let (result, _) = cache
            .get_or_compute(
                key("x", 1),
                async { Err("down".to_string()) },
                |v| v.len(),
                |_| true,
            )
            .await;
        assert!(result.is_err());
        let (result, _) = cache
            .get_or_compute(
                key("x", 1),
                async { Ok("partial".to_string()) },
                |v| v.len(),
                |_| false,
            )
            .await;
        assert_eq!(*result.unwrap(), "partial");
        assert!(!fetch(&cache, key("x", 1), "full").await.1);
        assert!(fetch(&cache, key("x", 1), "other").await.1);
    }
}
