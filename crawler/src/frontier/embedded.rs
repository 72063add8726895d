//! The frontier of a one-process crawl: queues in memory, every link's
//! state in RocksDB under the data directory, so that a crawl resumes where
//! it stopped and never fetches a URL it already finished.
//!
//! Memory holds at most [`HEAD`] links per host, its best; the rest of a
//! host's queue waits in RocksDB (the spill index, keyed by host and rank)
//! and comes back as the host's queue in memory runs low. So memory grows
//! with the hosts, not with the links queued: a host with 100,000 links
//! waiting costs what one with 64 does.
//!
//! RocksDB holds one record per URL ever seen (queued or done); that table
//! is also the seen-filter. At open, the queued records are loaded back into
//! memory; a link that was leased when the process died is queued again.
//! Writes go to RocksDB's write-ahead log before the call returns, so a
//! kill -9 of the process loses nothing (an OS crash may lose the last
//! writes, which only means fetching those links again).

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use common::{HostKey, NormalizedUrl};
use rocksdb::{BlockBasedOptions, DB, Options, WriteBatch};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use super::{
    AddReport, Claim, Frontier, FrontierConfig, FrontierCounts, FrontierError, Lease, LinkKind, NewLink,
    Result, RetryDecision,
};

pub struct EmbeddedFrontier {
    db: DB,
    config: FrontierConfig,
    // A std mutex: no await happens while it is held, and every operation is
    // short (in-memory queues plus a RocksDB read or write of a few keys).
    state: Mutex<State>,
}

/// What RocksDB keeps per URL.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct LinkRecord {
    state: LinkState,
    depth: u32,
    priority: f64,
    retries: u32,
    kind: LinkKind,
    redirects: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum LinkState {
    /// Waiting to be claimed (or claimed and not finished).
    Queued,
    /// Finished: fetched, skipped after fetching, or given up.
    Done,
    /// Refused before queuing (out of scope, too deep, over a limit): known
    /// only so that it is counted once.
    Seen,
}

impl LinkRecord {
    fn queued(link: &NewLink) -> LinkRecord {
        LinkRecord {
            state: LinkState::Queued,
            depth: link.depth,
            priority: link.priority,
            retries: 0,
            kind: link.kind,
            redirects: link.redirects,
        }
    }

    fn seen() -> LinkRecord {
        LinkRecord {
            state: LinkState::Seen,
            depth: 0,
            priority: 0.0,
            retries: 0,
            kind: LinkKind::Page,
            redirects: 0,
        }
    }

    fn of_lease(lease: &Lease, state: LinkState) -> LinkRecord {
        LinkRecord {
            state,
            depth: lease.depth,
            priority: lease.priority,
            retries: lease.retries,
            kind: lease.kind,
            redirects: lease.redirects,
        }
    }
}

impl EmbeddedFrontier {
    pub fn open(dir: &Path, config: FrontierConfig) -> Result<EmbeddedFrontier> {
        let mut options = Options::default();
        options.create_if_missing(true);
        options.set_compression_type(rocksdb::DBCompressionType::Lz4);
        // The seen-check of every discovered link is a point lookup, most of
        // them for URLs already seen; a bloom filter answers misses in memory.
        let mut table = BlockBasedOptions::default();
        table.set_bloom_filter(10.0, false);
        options.set_block_based_table_factory(&table);
        let db = DB::open(&options, dir).map_err(storage)?;
        check_format(&db, dir)?;
        // The spill index is made again from the URL records.
        let mut clear = WriteBatch::default();
        clear.delete_range(SPILL_PREFIX, SPILL_END);
        db.write(clear).map_err(storage)?;
        let frontier = EmbeddedFrontier {
            db,
            config,
            state: Mutex::new(State::default()),
        };
        {
            let mut state = frontier.lock();
            let now = Instant::now();
            for entry in frontier.db.iterator(rocksdb::IteratorMode::Start) {
                let (key, value) = entry.map_err(storage)?;
                // Bookkeeping sorts first: the hosts' limits are known
                // before their links are queued.
                if let Some(host) = key.strip_prefix(LIMIT_PREFIX) {
                    let limit = value.as_ref().try_into().map(u64::from_be_bytes).unwrap_or(0);
                    if let (Ok(host), true) = (std::str::from_utf8(host), limit > 0) {
                        state
                            .in_flight_limits
                            .insert(HostKey::from_stored(host), limit as usize);
                    }
                    continue;
                }
                if key.starts_with(b"\0") {
                    continue; // bookkeeping, not a URL
                }
                state.seen += 1;
                let record = decode(&key, &value)?;
                if record.state == LinkState::Seen {
                    continue;
                }
                let url = url_from_key(&key)?;
                state.limits.count(&url);
                if record.state == LinkState::Queued {
                    state.enqueue(url, &record, &config, now);
                    if state.to_spill.len() >= 10_000 {
                        frontier.settle(&mut state)?;
                    }
                }
            }
            frontier.settle(&mut state)?;
        }
        Ok(frontier)
    }

    /// Writes the records whose URLs were never seen, after `decide` had
    /// its say on each (in order), in one batch, and returns them as written.
    /// The caller holds the state lock across the lookup and the write, so
    /// two adds of one URL cannot both find it new.
    fn insert_new(
        &self,
        state: &mut State,
        records: impl Iterator<Item = (NormalizedUrl, LinkRecord)>,
        mut decide: impl FnMut(&mut State, &NormalizedUrl, &mut LinkRecord),
    ) -> Result<Vec<(NormalizedUrl, LinkRecord)>> {
        let mut unique = HashSet::new();
        let records: Vec<_> = records.filter(|(url, _)| unique.insert(url.clone())).collect();
        if records.is_empty() {
            return Ok(records);
        }
        let existing = self.db.multi_get(records.iter().map(|(url, _)| url.as_str()));
        let mut batch = WriteBatch::default();
        let mut fresh = Vec::new();
        for ((url, mut record), existing) in records.into_iter().zip(existing) {
            if existing.map_err(storage)?.is_none() {
                decide(state, &url, &mut record);
                batch.put(url.as_str(), encode(&record));
                fresh.push((url, record));
            }
        }
        self.db.write(batch).map_err(storage)?;
        state.seen += fresh.len() as u64;
        Ok(fresh)
    }

    /// Writes the links `state` spilled, then brings back the best spilled
    /// links of the hosts that ran low in memory. Every operation that
    /// queues or claims ends with it, under the same lock.
    fn settle(&self, state: &mut State) -> Result<()> {
        if !state.to_spill.is_empty() {
            let mut batch = WriteBatch::default();
            for (host, link) in state.to_spill.drain(..) {
                let spilled = SpilledLink {
                    url: link.url.as_str().to_string(),
                    priority: link.rank.0,
                    seq: link.seq,
                    depth: link.depth,
                    retries: link.retries,
                    kind: link.kind,
                    redirects: link.redirects,
                };
                batch.put(
                    spill_key(&host, &link),
                    rmp_serde::to_vec(&spilled).expect("spilled link serializes"),
                );
            }
            self.db.write(batch).map_err(storage)?;
        }
        let now = Instant::now();
        for host in std::mem::take(&mut state.to_refill) {
            let Some(queue) = state.hosts.get(&host) else {
                continue;
            };
            let room = HEAD.saturating_sub(queue.links.len());
            if queue.spilled == 0 || room == 0 {
                continue;
            }
            let prefix = spill_host_prefix(&host);
            let mut batch = WriteBatch::default();
            let mut back = Vec::new();
            let entries = self
                .db
                .iterator(rocksdb::IteratorMode::From(&prefix, rocksdb::Direction::Forward));
            for entry in entries.take(room) {
                let (key, value) = entry.map_err(storage)?;
                if !key.starts_with(&prefix) {
                    break;
                }
                batch.delete(&key);
                let spilled: SpilledLink =
                    rmp_serde::from_slice(&value).map_err(|e| FrontierError::Corrupt {
                        url: String::from_utf8_lossy(&key).into_owned(),
                        reason: e.to_string(),
                    })?;
                let url = NormalizedUrl::parse(&spilled.url).map_err(|e| FrontierError::Corrupt {
                    url: spilled.url.clone(),
                    reason: e.to_string(),
                })?;
                back.push(QueuedLink {
                    rank: Rank(spilled.priority),
                    seq: spilled.seq,
                    url,
                    depth: spilled.depth,
                    retries: spilled.retries,
                    kind: spilled.kind,
                    redirects: spilled.redirects,
                });
            }
            self.db.write(batch).map_err(storage)?;
            let queue = state.hosts.get_mut(&host).expect("looked up above");
            // The spill index is the truth about what is spilled: a count
            // that disagrees (it cannot, short of a bug) is set right.
            queue.spilled = if back.len() < room {
                0
            } else {
                queue.spilled.saturating_sub(back.len() as u64)
            };
            for link in back {
                state.waiting.insert(link.url.clone(), link.clone());
                queue.links.insert(link);
            }
            state.reschedule(&host, &self.config, now);
        }
        Ok(())
    }

    fn put(&self, url: &NormalizedUrl, record: &LinkRecord) -> Result<()> {
        self.db.put(url.as_str(), encode(record)).map_err(storage)
    }

    /// Records the limit of requests in flight each link's host came with
    /// (none: the frontier's), and reschedules the hosts whose limit moved.
    fn update_limits(&self, state: &mut State, links: &[NewLink]) -> Result<()> {
        // Without site rules, nothing to look up for each link of each add.
        if state.in_flight_limits.is_empty() && links.iter().all(|link| link.host_in_flight.is_none()) {
            return Ok(());
        }
        let mut batch = WriteBatch::default();
        let mut moved = Vec::new();
        for link in links {
            let host = link.url.host_key();
            if state.in_flight_limits.get(&host).copied() == link.host_in_flight {
                continue;
            }
            let mut key = LIMIT_PREFIX.to_vec();
            key.extend_from_slice(host.as_str().as_bytes());
            match link.host_in_flight {
                Some(limit) => {
                    batch.put(&key, (limit as u64).to_be_bytes());
                    state.in_flight_limits.insert(host.clone(), limit);
                }
                None => {
                    batch.delete(&key);
                    state.in_flight_limits.remove(&host);
                }
            }
            moved.push(host);
        }
        if !moved.is_empty() {
            self.db.write(batch).map_err(storage)?;
            let now = Instant::now();
            for host in &moved {
                state.reschedule(host, &self.config, now);
            }
        }
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock leaves the queues consistent enough
        // to go on: every mutation is a few inserts and removes.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait::async_trait]
impl Frontier for EmbeddedFrontier {
    async fn add(&self, links: Vec<NewLink>) -> Result<AddReport> {
        let mut state = self.lock();
        let mut report = AddReport::default();
        let candidates = links
            .iter()
            .map(|link| (link.url.clone(), LinkRecord::queued(link)));
        let budgets: HashMap<&NormalizedUrl, u64> = links
            .iter()
            .filter_map(|link| Some((&link.url, link.host_budget?)))
            .collect();
        self.update_limits(&mut state, &links)?;
        // Each new link meets the limits in order, so that the first links
        // of a page win a host's last places; refused ones are written as
        // seen in the same batch.
        // A URL listed twice on one page was still found on one page.
        let mut once = HashSet::new();
        let known: Vec<&NewLink> = links
            .iter()
            .filter(|link| state.waiting.contains_key(&link.url) && once.insert(&link.url))
            .collect();
        let now = Instant::now();
        let moved: HashSet<HostKey> = known
            .iter()
            .filter_map(|link| state.raise(&link.url, link.priority))
            .collect();
        for host in &moved {
            state.reschedule(host, &self.config, now);
        }
        let fresh = self.insert_new(&mut state, candidates, |state, url, record| {
            match state.limits.admit(url, &self.config, budgets.get(url).copied()) {
                Ok(()) => report.added += 1,
                Err(limit) => {
                    match limit {
                        Limit::HostBudget => report.over_host_budget += 1,
                        Limit::PathQueries => report.too_many_queries += 1,
                    }
                    *record = LinkRecord::seen();
                }
            }
        })?;
        for (url, record) in fresh {
            if record.state == LinkState::Queued {
                state.enqueue(url, &record, &self.config, now);
            }
        }
        self.settle(&mut state)?;
        Ok(report)
    }

    async fn mark_seen(&self, urls: Vec<NormalizedUrl>) -> Result<usize> {
        let mut state = self.lock();
        let records = urls.into_iter().map(|url| (url, LinkRecord::seen()));
        Ok(self.insert_new(&mut state, records, |_, _, _| {})?.len())
    }

    async fn claim(&self) -> Result<Claim> {
        let mut state = self.lock();
        let now = Instant::now();
        state.expire_leases(now, &self.config);
        state.wake(now, &self.config);
        let lease = state.claim_best(now, &self.config);
        self.settle(&mut state)?;
        if let Some(lease) = lease {
            return Ok(Claim::Leased(lease));
        }
        if state.queued == 0 && state.leases.is_empty() {
            return Ok(Claim::Empty);
        }
        let next = [
            state.sleeping.first().map(|(at, _)| *at),
            state.delayed.first_key_value().map(|((at, _), _)| *at),
            state.deadlines.first().map(|(at, _)| *at),
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(now);
        Ok(Claim::Wait(next.saturating_duration_since(now)))
    }

    async fn release_host(&self, lease: &Lease, delay: Duration) -> Result<()> {
        let mut state = self.lock();
        let now = Instant::now();
        state.release_host_of(lease, now + delay, &self.config, now);
        Ok(())
    }

    async fn complete(&self, lease: &Lease) -> Result<()> {
        let mut state = self.lock();
        // A lease that expired belongs to whoever claimed the link since.
        if state.drop_lease(lease, &self.config, Instant::now()).is_some() {
            self.put(&lease.url, &LinkRecord::of_lease(lease, LinkState::Done))?;
        }
        Ok(())
    }

    async fn retry(&self, lease: &Lease, delay: Duration) -> Result<RetryDecision> {
        // Out of retries: the lease stays for the caller's `complete`, which
        // records the link as done.
        if lease.retries >= self.config.max_retries {
            return Ok(RetryDecision::GaveUp);
        }
        let mut state = self.lock();
        let now = Instant::now();
        if state.drop_lease(lease, &self.config, now).is_none() {
            return Ok(RetryDecision::Requeued); // expired: it was queued again then
        }
        let mut record = LinkRecord::of_lease(lease, LinkState::Queued);
        record.priority /= 2.0;
        record.retries += 1;
        self.put(&lease.url, &record)?;
        let link = state.new_link(lease.url.clone(), &record);
        state
            .delayed
            .insert((now + delay, link.seq), (lease.host.clone(), link));
        state.queued += 1;
        Ok(RetryDecision::Requeued)
    }

    async fn give_back(&self, lease: &Lease) -> Result<()> {
        let mut state = self.lock();
        let now = Instant::now();
        if state.drop_lease(lease, &self.config, now).is_none() {
            return Ok(()); // expired: it was queued again then
        }
        state.enqueue(
            lease.url.clone(),
            &LinkRecord::of_lease(lease, LinkState::Queued),
            &self.config,
            now,
        );
        self.settle(&mut state)
    }

    async fn revisit(&self, links: Vec<NewLink>) -> Result<usize> {
        let mut state = self.lock();
        let mut unique = HashSet::new();
        let links: Vec<&NewLink> = links.iter().filter(|link| unique.insert(&link.url)).collect();
        let existing = self.db.multi_get(links.iter().map(|link| link.url.as_str()));
        let now = Instant::now();
        let mut batch = WriteBatch::default();
        let mut queued = Vec::new();
        for (link, existing) in links.into_iter().zip(existing) {
            let existing = existing.map_err(storage)?;
            if let Some(value) = &existing
                && decode(link.url.as_str().as_bytes(), value)?.state == LinkState::Queued
            {
                continue; // queued, delayed or leased: it will be fetched anyway
            }
            if existing.is_none() {
                state.seen += 1;
            }
            let record = LinkRecord::queued(link);
            batch.put(link.url.as_str(), encode(&record));
            queued.push((link.url.clone(), record));
        }
        self.db.write(batch).map_err(storage)?;
        let count = queued.len();
        for (url, record) in queued {
            state.enqueue(url, &record, &self.config, now);
        }
        self.settle(&mut state)?;
        Ok(count)
    }

    async fn counts(&self) -> Result<FrontierCounts> {
        let state = self.lock();
        Ok(FrontierCounts {
            queued: state.queued,
            leased: state.leases.len() as u64,
            seen: state.seen,
            resting_hosts: state.sleeping.len() as u64,
            retrying: state.delayed.len() as u64,
        })
    }
}

/// Which limit refused a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Limit {
    HostBudget,
    PathQueries,
}

/// Counts behind the per-host and per-path limits: URLs ever queued per
/// host, and distinct query strings ever queued per path.
#[derive(Default)]
struct LimitCounters {
    urls_per_host: HashMap<HostKey, u64>,
    queries_per_path: HashMap<(HostKey, String), u64>,
}

impl LimitCounters {
    fn admit(
        &mut self,
        url: &NormalizedUrl,
        config: &FrontierConfig,
        budget: Option<u64>,
    ) -> Result<(), Limit> {
        let host = url.host_key();
        let budget = budget.map_or(config.max_urls_per_host, |b| b.min(config.max_urls_per_host));
        if self.urls_per_host.get(&host).copied().unwrap_or(0) >= budget {
            return Err(Limit::HostBudget);
        }
        if url.as_url().query().is_some() {
            let key = (host, url.as_url().path().to_string());
            if self.queries_per_path.get(&key).copied().unwrap_or(0) >= config.max_queries_per_path {
                return Err(Limit::PathQueries);
            }
        }
        self.count(url);
        Ok(())
    }

    fn count(&mut self, url: &NormalizedUrl) {
        let host = url.host_key();
        if url.as_url().query().is_some() {
            *self
                .queries_per_path
                .entry((host.clone(), url.as_url().path().to_string()))
                .or_default() += 1;
        }
        *self.urls_per_host.entry(host).or_default() += 1;
    }
}

/// A link found on one more page gains a tenth of the priority it was
/// found with, up to a seed's 1.0: pages many pages link to come sooner.
pub(super) fn inlink_boost(priority: f64, found_with: f64) -> f64 {
    (priority + found_with / 10.0).min(1.0).max(priority)
}

/// Orders priorities best first (a higher priority is a smaller `Rank`).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Rank(f64);

impl Eq for Rank {}

impl PartialOrd for Rank {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Rank {
    fn cmp(&self, other: &Self) -> Ordering {
        other.0.total_cmp(&self.0)
    }
}

/// A queued link; among equal priorities the older one (smaller `seq`)
/// comes first, which makes the crawl breadth-first.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct QueuedLink {
    rank: Rank,
    seq: u64,
    url: NormalizedUrl,
    depth: u32,
    retries: u32,
    kind: LinkKind,
    redirects: u8,
}

/// Where a host currently is: in no schedule, ready to be claimed (with the
/// key of its best link), or asleep until its politeness clock allows.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Slot {
    Idle,
    Ready(Rank, u64),
    Sleeping(Instant),
}

#[derive(Debug)]
struct HostQueue {
    /// The host's best links (at most [`HEAD`]); when `spilled` is not 0,
    /// each of them ranks before every spilled one.
    links: BTreeSet<QueuedLink>,
    /// Links of this host in the spill index, in RocksDB.
    spilled: u64,
    in_flight: usize,
    /// Not fetched again before this.
    ready_at: Instant,
    slot: Slot,
}

struct LeaseState {
    lease: Lease,
    deadline: Instant,
    host_released: bool,
}

#[derive(Default)]
struct State {
    hosts: HashMap<HostKey, HostQueue>,
    ready: BTreeSet<(Rank, u64, HostKey)>,
    sleeping: BTreeSet<(Instant, HostKey)>,
    /// Retries waiting for their delay, keyed by due time.
    delayed: BTreeMap<(Instant, u64), (HostKey, QueuedLink)>,
    leases: HashMap<NormalizedUrl, LeaseState>,
    deadlines: BTreeSet<(Instant, NormalizedUrl)>,
    queued: u64,
    seen: u64,
    next_seq: u64,
    limits: LimitCounters,
    /// The links waiting in host queues in memory, by URL, so a link found
    /// again can be found in its queue and raised (a spilled link keeps
    /// its rank).
    waiting: HashMap<NormalizedUrl, QueuedLink>,
    /// Links to write to the spill index, by the next [`EmbeddedFrontier::settle`].
    to_spill: Vec<(HostKey, QueuedLink)>,
    /// Hosts whose links in memory ran low while others are spilled.
    to_refill: HashSet<HostKey>,
    /// Hosts with a limit of requests in flight of their own (a site
    /// rule's), kept in RocksDB under [`LIMIT_PREFIX`].
    in_flight_limits: HashMap<HostKey, usize>,
}

impl State {
    fn new_link(&mut self, url: NormalizedUrl, record: &LinkRecord) -> QueuedLink {
        self.next_seq += 1;
        QueuedLink {
            rank: Rank(record.priority),
            seq: self.next_seq,
            url,
            depth: record.depth,
            retries: record.retries,
            kind: record.kind,
            redirects: record.redirects,
        }
    }

    fn enqueue(&mut self, url: NormalizedUrl, record: &LinkRecord, config: &FrontierConfig, now: Instant) {
        let host = url.host_key();
        let link = self.new_link(url, record);
        self.push_link(host, link, config, now);
    }

    fn push_link(&mut self, host: HostKey, link: QueuedLink, config: &FrontierConfig, now: Instant) {
        self.queued += 1;
        let queue = self.hosts.entry(host.clone()).or_insert_with(|| HostQueue {
            links: BTreeSet::new(),
            spilled: 0,
            in_flight: 0,
            ready_at: now,
            slot: Slot::Idle,
        });
        // Memory keeps the best HEAD; a link that ranks after all of them
        // while others are spilled is spilled too, so that the ones in
        // memory always rank before the spilled ones.
        let ranks_last = queue.links.last().is_some_and(|worst| link > *worst);
        let spill = if queue.links.len() >= HEAD {
            if ranks_last {
                Some(link)
            } else {
                let worst = queue.links.pop_last().expect("the queue is full");
                self.waiting.remove(&worst.url);
                self.waiting.insert(link.url.clone(), link.clone());
                queue.links.insert(link);
                Some(worst)
            }
        } else if queue.spilled > 0 && (ranks_last || queue.links.is_empty()) {
            Some(link)
        } else {
            self.waiting.insert(link.url.clone(), link.clone());
            queue.links.insert(link);
            None
        };
        if let Some(spill) = spill {
            queue.spilled += 1;
            if queue.links.len() < HEAD / 2 {
                self.to_refill.insert(host.clone());
            }
            self.to_spill.push((host.clone(), spill));
        }
        self.reschedule(&host, config, now);
    }

    /// Raises a waiting link found on one more page (see `inlink_boost`);
    /// returns its host if the link moved, for the caller to reschedule
    /// once however many of its links moved.
    fn raise(&mut self, url: &NormalizedUrl, found_with: f64) -> Option<HostKey> {
        let link = self.waiting.get_mut(url)?;
        let raised = inlink_boost(link.rank.0, found_with);
        if raised == link.rank.0 {
            return None;
        }
        let host = url.host_key();
        let queue = self.hosts.get_mut(&host)?;
        queue.links.remove(&*link);
        link.rank = Rank(raised);
        queue.links.insert(link.clone());
        Some(host)
    }

    /// Puts `host` in the schedule its state calls for.
    fn reschedule(&mut self, host: &HostKey, config: &FrontierConfig, now: Instant) {
        let max_in_flight = self
            .in_flight_limits
            .get(host)
            .copied()
            .unwrap_or(config.max_in_flight_per_host);
        let Some(queue) = self.hosts.get_mut(host) else {
            return;
        };
        match queue.slot {
            Slot::Idle => {}
            Slot::Ready(rank, seq) => {
                self.ready.remove(&(rank, seq, host.clone()));
            }
            Slot::Sleeping(at) => {
                self.sleeping.remove(&(at, host.clone()));
            }
        }
        queue.slot = if queue.links.is_empty() || queue.in_flight >= max_in_flight {
            Slot::Idle
        } else if queue.ready_at > now {
            self.sleeping.insert((queue.ready_at, host.clone()));
            Slot::Sleeping(queue.ready_at)
        } else {
            let best = queue.links.first().expect("links is not empty");
            self.ready.insert((best.rank, best.seq, host.clone()));
            Slot::Ready(best.rank, best.seq)
        };
        // Forget hosts with nothing queued, nothing in flight and no
        // politeness wait left, so memory follows the live hosts only.
        if queue.slot == Slot::Idle
            && queue.links.is_empty()
            && queue.spilled == 0
            && queue.in_flight == 0
            && queue.ready_at <= now
        {
            self.hosts.remove(host);
        }
    }

    /// Moves due retries back to their hosts and wakes hosts whose
    /// politeness delay is over.
    fn wake(&mut self, now: Instant, config: &FrontierConfig) {
        while let Some(entry) = self.delayed.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let (host, link) = entry.remove();
            self.queued -= 1; // push_link counts it again
            self.push_link(host, link, config, now);
        }
        while let Some((at, _)) = self.sleeping.first() {
            if *at > now {
                break;
            }
            let (_, host) = self.sleeping.pop_first().expect("first exists");
            if let Some(queue) = self.hosts.get_mut(&host) {
                queue.slot = Slot::Idle;
            }
            self.reschedule(&host, config, now);
        }
    }

    fn claim_best(&mut self, now: Instant, config: &FrontierConfig) -> Option<Lease> {
        let (_, _, host) = self.ready.pop_first()?;
        let queue = self.hosts.get_mut(&host).expect("ready hosts have queues");
        queue.slot = Slot::Idle;
        let link = queue.links.pop_first().expect("ready hosts have links");
        self.waiting.remove(&link.url);
        if queue.spilled > 0 && queue.links.len() < HEAD / 2 {
            self.to_refill.insert(host.clone());
        }
        queue.in_flight += 1;
        self.queued -= 1;
        self.reschedule(&host, config, now);
        let lease = Lease {
            url: link.url.clone(),
            host,
            depth: link.depth,
            priority: link.rank.0,
            retries: link.retries,
            kind: link.kind,
            redirects: link.redirects,
            token: self.next_seq,
        };
        self.next_seq += 1;
        let deadline = now + config.lease_duration;
        self.deadlines.insert((deadline, link.url.clone()));
        self.leases.insert(
            link.url,
            LeaseState {
                lease: lease.clone(),
                deadline,
                host_released: false,
            },
        );
        Some(lease)
    }

    /// Frees the host slot of `lease` (once) and rests the host until
    /// `ready_at`; nothing if the lease is no longer current.
    fn release_host_of(&mut self, lease: &Lease, ready_at: Instant, config: &FrontierConfig, now: Instant) {
        let Some(lease) = self
            .leases
            .get_mut(&lease.url)
            .filter(|l| l.lease.token == lease.token)
        else {
            return;
        };
        if lease.host_released {
            return;
        }
        lease.host_released = true;
        let host = lease.lease.host.clone();
        if let Some(queue) = self.hosts.get_mut(&host) {
            queue.in_flight = queue.in_flight.saturating_sub(1);
            queue.ready_at = queue.ready_at.max(ready_at);
        }
        self.reschedule(&host, config, now);
    }

    /// Ends `lease`, releasing its host if the holder did not; `None` if
    /// the lease is no longer current (it expired and the link moved on).
    fn drop_lease(&mut self, lease: &Lease, config: &FrontierConfig, now: Instant) -> Option<Lease> {
        self.release_host_of(lease, now, config, now);
        let current = self
            .leases
            .get(&lease.url)
            .is_some_and(|l| l.lease.token == lease.token);
        if !current {
            return None;
        }
        let state = self.leases.remove(&lease.url)?;
        self.deadlines.remove(&(state.deadline, lease.url.clone()));
        Some(state.lease)
    }

    /// Returns the links of expired leases to their hosts.
    fn expire_leases(&mut self, now: Instant, config: &FrontierConfig) {
        while let Some((deadline, _)) = self.deadlines.first() {
            if *deadline > now {
                break;
            }
            let (_, url) = self.deadlines.pop_first().expect("first exists");
            let Some(lease) = self.leases.get(&url).map(|l| l.lease.clone()) else {
                continue;
            };
            if let Some(lease) = self.drop_lease(&lease, config, now) {
                let record = LinkRecord::of_lease(&lease, LinkState::Queued);
                self.enqueue(lease.url, &record, config, now);
            }
        }
    }
}

/// Links per host kept in memory; the rest are spilled to RocksDB.
const HEAD: usize = 64;

/// The key of the format marker; URLs never start with a NUL byte.
const FORMAT_KEY: &[u8] = b"\0format";
/// Keys of the spill index start with this, then the host, a NUL, and the
/// link's rank and sequence number (big-endian, so a host's keys sort best
/// first); its value is the link. Rebuilt from the URL records at open.
/// `\0limit\0{host}`: a host's own limit of requests in flight (u64, big-endian).
const LIMIT_PREFIX: &[u8] = b"\0limit\0";
const SPILL_PREFIX: &[u8] = b"\0spill\0";
/// The first key past the spill index.
const SPILL_END: &[u8] = b"\0spill\x01";

fn spill_host_prefix(host: &HostKey) -> Vec<u8> {
    let mut key = SPILL_PREFIX.to_vec();
    key.extend_from_slice(host.as_str().as_bytes());
    key.push(0);
    key
}

fn spill_key(host: &HostKey, link: &QueuedLink) -> Vec<u8> {
    let mut key = spill_host_prefix(host);
    // f64 bits made to sort as numbers, then inverted: higher priority first.
    let bits = link.rank.0.to_bits();
    let ordered = if bits >> 63 == 1 { !bits } else { bits | 1 << 63 };
    key.extend_from_slice(&(!ordered).to_be_bytes());
    key.extend_from_slice(&link.seq.to_be_bytes());
    key
}

/// A spilled link, as the spill index keeps it.
#[derive(Serialize, Deserialize)]
struct SpilledLink {
    url: String,
    priority: f64,
    seq: u64,
    depth: u32,
    retries: u32,
    kind: LinkKind,
    redirects: u8,
}
/// Bumped whenever `LinkRecord`'s encoding changes.
const FORMAT_VERSION: &[u8] = b"2";

/// Marks a new frontier with its format, and refuses one written by a
/// trawl whose records this one cannot read.
fn check_format(db: &DB, dir: &Path) -> Result<()> {
    match db.get(FORMAT_KEY).map_err(storage)? {
        Some(version) if version == FORMAT_VERSION => Ok(()),
        None if db.iterator(rocksdb::IteratorMode::Start).next().is_none() => {
            db.put(FORMAT_KEY, FORMAT_VERSION).map_err(storage)
        }
        found => Err(FrontierError::Storage(format!(
            "{} holds a frontier written by another version of trawl (format {}, this one reads {}): \
             crawl into a new --data-dir",
            dir.display(),
            found.map_or("1".to_string(), |v| String::from_utf8_lossy(&v).into_owned()),
            String::from_utf8_lossy(FORMAT_VERSION),
        ))),
    }
}

fn encode(record: &LinkRecord) -> Vec<u8> {
    rmp_serde::to_vec(record).expect("link record serializes")
}

fn decode(key: &[u8], value: &[u8]) -> Result<LinkRecord> {
    rmp_serde::from_slice(value).map_err(|e| FrontierError::Corrupt {
        url: String::from_utf8_lossy(key).into_owned(),
        reason: e.to_string(),
    })
}

fn url_from_key(key: &[u8]) -> Result<NormalizedUrl> {
    let corrupt = |reason: String| FrontierError::Corrupt {
        url: String::from_utf8_lossy(key).into_owned(),
        reason,
    };
    let text = std::str::from_utf8(key).map_err(|e| corrupt(e.to_string()))?;
    NormalizedUrl::parse(text).map_err(|e| corrupt(e.to_string()))
}

fn storage(error: rocksdb::Error) -> FrontierError {
    FrontierError::Storage(error.to_string())
}
