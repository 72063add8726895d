//! The URLs this worker has already recorded as refused (out of scope,
//! excluded, a trap, over a budget), so that it records each once.
//!
//! A refused URL is written to the frontier as seen, which counts it once
//! however many pages link to it. Pages repeat their refused links: every
//! page of `std` links to the same pages of `core` and `alloc`, out of the
//! crawl's scope, and each repeat was a frontier call (a RocksDB read, or a
//! Redis round trip) that found the URL seen already: 2.5% of a crawl's
//! CPU time under perf, though only 0.3% of its instructions
//! (BENCHMARKS.md §38).
//!
//! Kept by a 64-bit hash of the URL, and emptied when full. A collision
//! can only make the worker skip recording a refused URL: its skip count
//! may then be one low, and a URL refused for its depth or a budget may
//! later be queued from a page that reaches it otherwise. The links a
//! crawl follows never pass here: a collision there would lose a page.

use std::collections::HashSet;
use std::hash::BuildHasher;
use std::sync::Mutex;

use common::NormalizedUrl;

/// How many URLs the memo holds before it starts over: about 1.2 MB.
const MAX_REMEMBERED: usize = 100_000;

pub struct RefusedUrls {
    hashes: Mutex<HashSet<u64, foldhash::fast::FixedState>>,
    hasher: foldhash::fast::FixedState,
    capacity: usize,
}

impl Default for RefusedUrls {
    fn default() -> Self {
        RefusedUrls::with_capacity(MAX_REMEMBERED)
    }
}

impl RefusedUrls {
    fn with_capacity(capacity: usize) -> RefusedUrls {
        RefusedUrls {
            hashes: Mutex::default(),
            hasher: foldhash::fast::FixedState::with_seed(0x7472_6177_6c5f_7266),
            capacity: capacity.max(1),
        }
    }

    fn hash(&self, url: &NormalizedUrl) -> u64 {
        self.hasher.hash_one(url.as_str())
    }

    /// `urls` without those recorded already, each with its hash for
    /// [`RefusedUrls::recorded`].
    pub fn not_recorded(&self, urls: Vec<NormalizedUrl>) -> (Vec<NormalizedUrl>, Vec<u64>) {
        let hashes = self.hashes.lock().unwrap_or_else(|p| p.into_inner());
        urls.into_iter()
            .map(|url| {
                let hash = self.hash(&url);
                (url, hash)
            })
            .filter(|(_, hash)| !hashes.contains(hash))
            .unzip()
    }

    /// Remembers URLs the frontier has recorded as seen.
    pub fn recorded(&self, url_hashes: &[u64]) {
        let mut hashes = self.hashes.lock().unwrap_or_else(|p| p.into_inner());
        for &hash in url_hashes {
            if hashes.len() >= self.capacity {
                hashes.clear();
            }
            hashes.insert(hash);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(list: &[&str]) -> Vec<NormalizedUrl> {
        list.iter()
            .map(|url| NormalizedUrl::parse(url).unwrap())
            .collect()
    }

    fn strings(urls: &[NormalizedUrl]) -> Vec<&str> {
        urls.iter().map(NormalizedUrl::as_str).collect()
    }

    #[test]
    fn a_url_recorded_is_left_out_next_time() {
        let refused = RefusedUrls::default();
        let (new, hashes) = refused.not_recorded(urls(&["http://a.test/x", "http://a.test/y"]));
        assert_eq!(strings(&new), ["http://a.test/x", "http://a.test/y"]);
        // Not recorded until the frontier has it: a failed call is retried
        // with the next page that links to it.
        let (again, _) = refused.not_recorded(urls(&["http://a.test/x"]));
        assert_eq!(again.len(), 1);
        refused.recorded(&hashes);
        let (new, hashes) =
            refused.not_recorded(urls(&["http://a.test/y", "http://a.test/z", "http://a.test/x"]));
        assert_eq!(strings(&new), ["http://a.test/z"]);
        assert_eq!(hashes.len(), 1);
    }

    #[test]
    fn a_full_memo_starts_over() {
        let refused = RefusedUrls::with_capacity(2);
        let (_, hashes) =
            refused.not_recorded(urls(&["http://a.test/1", "http://a.test/2", "http://a.test/3"]));
        refused.recorded(&hashes);
        // 1 and 2 filled it; 3 emptied it first.
        let (new, _) = refused.not_recorded(urls(&["http://a.test/1", "http://a.test/2", "http://a.test/3"]));
        assert_eq!(strings(&new), ["http://a.test/1", "http://a.test/2"]);
    }
}
