//! `crawled_links`: what the crawler remembers of every page it fetched
//! (its signatures, its validators for conditional GET, how often it changed,
//! when to visit it next), and the near-duplicate index over its signatures.
//!
//! One RocksDB under the worker's data directory. Every key starts with the
//! partition of the page's host (3/7; the embedded crawl has one), so a page
//! is compared with the pages of its own partition, the same ones whichever
//! worker holds the partition.
//!
//! Near-duplicates (Manku, Jain and Das Sarma, WWW 2007): two 64-bit
//! simhashes within Hamming distance 3 are near-duplicates. The 64 bits are
//! cut into `blocks` blocks; 3 differing bits fall in at most 3 of them, so
//! two near-duplicates agree exactly on at least `blocks - 3`. Each table
//! stores every signature with one choice of `blocks - 3` blocks moved to the
//! front (a permutation of its bits), sorted; a lookup seeks every table to
//! the query's own front bits and checks only the signatures found there.
//! Hamming distance does not change under a permutation, so the permuted
//! values are compared as they are.
//!
//! Durability order: what a visit records here (validators, signatures,
//! the verdict) counts only once its page, or its removal, is durable
//! downstream. [`CrawledLinks::record_page`] keeps the record it replaces in
//! `pending`; [`CrawledLinks::settle`], called when the link is completed,
//! drops that. A process killed in between leaves the entry, and the next
//! [`CrawledLinks::open`] puts the old record back: a resumed crawl sees
//! neither validators that would earn a 304 for a page the index never got,
//! nor signatures that would make a copy of it look like a duplicate.
//!
//! Column families:
//! - `links`:   partition, URL hash -> [`CrawledLink`]
//! - `simhash`: partition, table, permuted simhash, URL hash -> ()
//! - `content`: partition, content hash, URL hash -> ()
//! - `due`:     next visit (ms), partition, URL hash -> ()
//! - `pending`: partition, URL hash -> the record before an unsettled visit
//!   (`Option<CrawledLink>`)

use std::collections::HashSet;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use common::NormalizedUrl;
use rocksdb::{BlockBasedOptions, ColumnFamilyDescriptor, DB, Direction, IteratorMode, Options, WriteBatch};
use serde::{Deserialize, Serialize};

/// Signatures at most this many bits apart are near-duplicates...
pub const MAX_DISTANCE: u32 = 3;

/// ... when their leads (`common::signature::lead_simhash`) are at most
/// this many bits apart too. Without this check, a crawl of std's docs
/// dropped 293 of 2,332 pages: iterator adapters (`Chunks`, `ArrayWindows`)
/// whose pages are mostly the same `Iterator` methods. Measured on the
/// labelled pairs (BENCHMARKS.md §3): copies' leads are a median 6 bits
/// apart, distinct pages' 16.
pub const MAX_LEAD_DISTANCE: u32 = 12;

// And a copy keeps its name or its title (see `same_identity`): after the
// lead check, a crawl of std still dropped 162 pages such as `RChunks` ~
// `Chunks`, whose docs are one text with one word changed; their URLs and
// titles name two items.

/// Blocks the signature is cut into. With 5 there are C(5, 2) = 10 tables
/// whose front is 2 blocks (25 or 26 bits): a lookup is 10 seeks and reads
/// almost no other signature, however many there are. With 4 blocks, 4
/// tables of 16 bits: 4 seeks, but about 600 candidates at 10 million and
/// more as the store grows. Measured (BENCHMARKS.md §3): 4 blocks are
/// faster at 1 million (p50 36 against 70 µs), 5 hold their tail at 10
/// million (p99 0.3 against 2.7 ms), for 2.5 times the disk.
pub const DEFAULT_BLOCKS: usize = 5;

/// Changes remembered per page, newest in bit 0.
const HISTORY_BITS: u32 = 16;

/// A near-duplicate's revisit priority is its priority times this.
const DUPLICATE_PRIORITY_FACTOR: f64 = 0.25;

#[derive(Debug, thiserror::Error)]
pub enum CrawledError {
    #[error("crawled_links storage: {0}")]
    Storage(#[from] rocksdb::Error),
    #[error("corrupt crawled_links record: {0}")]
    Corrupt(String),
    #[error("crawled_links in another format: {0}")]
    Format(String),
}

pub type Result<T, E = CrawledError> = std::result::Result<T, E>;

/// When pages are visited again.
#[derive(Debug, Clone, Copy)]
pub struct FreshnessConfig {
    /// The first revisit of a page.
    pub first_interval: Duration,
    /// Pages seen changing are revisited sooner, down to this.
    pub min_interval: Duration,
    /// Pages seen unchanged (and duplicates) are revisited later, up to this.
    pub max_interval: Duration,
}

impl Default for FreshnessConfig {
    fn default() -> Self {
        const DAY: Duration = Duration::from_secs(24 * 3600);
        FreshnessConfig {
            first_interval: 7 * DAY,
            min_interval: DAY / 24,
            max_interval: 60 * DAY,
        }
    }
}

/// What is remembered of one fetched page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrawledLink {
    pub url: String,
    /// The document id its page was indexed under (of its canonical URL).
    pub doc_id: u64,
    pub depth: u32,
    pub priority: f64,
    pub simhash: u64,
    /// Simhash of the first words of the text (see [`MAX_LEAD_DISTANCE`]).
    #[serde(default)]
    pub lead_simhash: u64,
    /// Hash of the page's title, case-folded (see `same_identity`).
    #[serde(default)]
    pub title_hash: u64,
    pub content_hash: u64,
    pub fetched_at_ms: u64,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// Visits so far.
    pub visits: u32,
    /// One bit per revisit, newest in bit 0: set when the content changed.
    pub changes: u32,
    pub interval_ms: u64,
    pub next_visit_ms: u64,
    /// The page it duplicates, when it is a duplicate (then it is not indexed).
    pub duplicate_of: Option<String>,
}

impl CrawledLink {
    /// Whether a revisit asks for it conditionally (it has an ETag or a
    /// Last-Modified date).
    pub fn has_validators(&self) -> bool {
        self.etag.is_some() || self.last_modified.is_some()
    }

    /// Drops its validators, so that its next visit fetches it whole;
    /// whether it had any (and so changed).
    fn drop_validators(&mut self) -> bool {
        let had = self.has_validators();
        self.etag = None;
        self.last_modified = None;
        had
    }

    /// Whether its page is in the index (and so must be removed when it goes).
    pub fn indexed(&self) -> bool {
        self.duplicate_of.is_none()
    }

    /// The priority its revisit is queued with.
    pub fn revisit_priority(&self) -> f64 {
        if self.indexed() {
            self.priority
        } else {
            self.priority * DUPLICATE_PRIORITY_FACTOR
        }
    }
}

/// A page just fetched, as [`CrawledLinks::record_page`] takes it.
#[derive(Debug, Clone)]
pub struct FetchedVisit<'a> {
    pub url: &'a NormalizedUrl,
    pub doc_id: u64,
    pub depth: u32,
    pub priority: f64,
    pub simhash: u64,
    pub lead_simhash: u64,
    /// [`title_hash`] of the page's title.
    pub title_hash: u64,
    pub content_hash: u64,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub now_ms: u64,
}

/// Whether a page repeats one crawled before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sameness {
    Original,
    /// The same text as `of`.
    Exact {
        of: String,
    },
    /// A text within [`MAX_DISTANCE`] bits of `of`'s.
    Near {
        of: String,
        distance: u32,
    },
}

/// What [`CrawledLinks::record_page`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct PageVerdict {
    pub sameness: Sameness,
    /// The record of the previous visit, if the page was fetched before.
    pub previous: Option<CrawledLink>,
    /// The page was fetched before and its text is not what it was.
    pub changed: bool,
}

pub struct CrawledLinks {
    db: DB,
    tables: Vec<Permutation>,
    freshness: FreshnessConfig,
    /// Held across a lookup and the write that follows, so that two
    /// near-duplicate pages recorded at once cannot both find nothing.
    /// It also holds the keys (partition, URL hash) with a `pending` entry
    /// written by this process, so that settling a link that has none
    /// costs no write.
    write: Mutex<HashSet<[u8; 12]>>,
}

const FORMAT_KEY: &[u8] = b"format";
const LINKS: &str = "links";
const SIMHASH: &str = "simhash";
const CONTENT: &str = "content";
const DUE: &str = "due";
const PENDING: &str = "pending";

impl CrawledLinks {
    pub fn open(dir: &Path, freshness: FreshnessConfig) -> Result<CrawledLinks> {
        CrawledLinks::open_with_blocks(dir, freshness, DEFAULT_BLOCKS)
    }

    /// Opens with the signature cut into `blocks` blocks (4 to 8); a store
    /// must always be opened with the same number.
    pub fn open_with_blocks(dir: &Path, freshness: FreshnessConfig, blocks: usize) -> Result<CrawledLinks> {
        let mut options = Options::default();
        options.create_if_missing(true);
        options.create_missing_column_families(true);
        options.set_compression_type(rocksdb::DBCompressionType::Lz4);
        let mut point_lookups = Options::default();
        let mut table = BlockBasedOptions::default();
        table.set_bloom_filter(10.0, false);
        point_lookups.set_block_based_table_factory(&table);
        point_lookups.set_compression_type(rocksdb::DBCompressionType::Lz4);
        let mut scans = Options::default();
        scans.set_compression_type(rocksdb::DBCompressionType::Lz4);
        let families = vec![
            ColumnFamilyDescriptor::new(LINKS, point_lookups),
            ColumnFamilyDescriptor::new(SIMHASH, scans.clone()),
            ColumnFamilyDescriptor::new(CONTENT, scans.clone()),
            ColumnFamilyDescriptor::new(DUE, scans.clone()),
            ColumnFamilyDescriptor::new(PENDING, scans),
        ];
        let db = DB::open_cf_descriptors(&options, dir, families)?;
        // The tables are laid out by the block count: a store must be read
        // with the count it was written with.
        let format = format!("crawled_links v1, {blocks} blocks");
        match db.get(FORMAT_KEY)? {
            None => db.put(FORMAT_KEY, &format)?,
            Some(stored) if stored == format.as_bytes() => {}
            Some(stored) => {
                return Err(CrawledError::Format(format!(
                    "{} holds \"{}\", this trawl writes \"{format}\": move it away to start afresh",
                    dir.display(),
                    String::from_utf8_lossy(&stored)
                )));
            }
        }
        let links = CrawledLinks {
            db,
            tables: Permutation::tables(blocks),
            freshness,
            write: Mutex::new(HashSet::new()),
        };
        let rolled_back = links.roll_back_unsettled()?;
        if rolled_back > 0 {
            tracing::info!(
                pages = rolled_back,
                "crawled_links: visits whose pages never became durable were undone"
            );
        }
        Ok(links)
    }

    /// Puts back the record every unsettled visit replaced (see the
    /// module's durability order). Returns how many were undone.
    fn roll_back_unsettled(&self) -> Result<usize> {
        let mut undone = 0;
        for entry in self.db.iterator_cf(self.cf(PENDING), IteratorMode::Start) {
            let (key, value) = entry?;
            let (partition, id) = parse_link_key(&key)?;
            let previous: Option<CrawledLink> =
                rmp_serde::from_slice(&value).map_err(|e| CrawledError::Corrupt(e.to_string()))?;
            let mut batch = WriteBatch::default();
            if let Some(current) = self.get_by_id(partition, id)? {
                self.unindex(&mut batch, partition, id, &current);
                batch.delete_cf(self.cf(LINKS), link_key(partition, id));
            }
            if let Some(previous) = &previous {
                self.index_record(&mut batch, partition, id, previous);
                self.put_record(&mut batch, partition, id, previous)?;
            }
            batch.delete_cf(self.cf(PENDING), &key);
            self.db.write(batch)?;
            undone += 1;
        }
        Ok(undone)
    }

    /// The link of `url` is completed: what its visit recorded stands.
    pub fn settle(&self, partition: u32, url: &NormalizedUrl) -> Result<()> {
        let key = link_key(partition, url_id(url.as_str()));
        let mut pending = self.write.lock().unwrap_or_else(|p| p.into_inner());
        if pending.remove(&key) {
            self.db.delete_cf(self.cf(PENDING), key)?;
        }
        Ok(())
    }

    /// Visits recorded and not settled yet, in this process.
    pub fn unsettled(&self) -> usize {
        self.write.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn get(&self, partition: u32, url: &NormalizedUrl) -> Result<Option<CrawledLink>> {
        self.get_by_id(partition, url_id(url.as_str()))
            .map(|found| found.filter(|link| link.url == url.as_str()))
    }

    /// Records a fetched page and says whether it repeats another page of
    /// its partition: one with the same text, else one within
    /// [`MAX_DISTANCE`] bits. An original's signatures join the index; a
    /// duplicate's do not (so a chain of small edits is measured against
    /// the page first seen). Either way the page gets its next visit.
    ///
    /// The visit counts at once for the pages recorded after it in this
    /// process, and for good once [`CrawledLinks::settle`]d.
    pub fn record_page(&self, partition: u32, visit: FetchedVisit<'_>) -> Result<PageVerdict> {
        let mut pending = self.write.lock().unwrap_or_else(|p| p.into_inner());
        let id = url_id(visit.url.as_str());
        let previous = self.get(partition, visit.url)?;
        let sameness = match self.same_content(partition, visit.content_hash, id)? {
            Some(of) => Sameness::Exact { of },
            None => match self.nearest(partition, &visit, id)? {
                Some((of, distance)) => Sameness::Near { of, distance },
                None => Sameness::Original,
            },
        };

        let changed = previous
            .as_ref()
            .map(|previous| previous.content_hash != visit.content_hash);
        let duplicate_of = match &sameness {
            Sameness::Original => None,
            Sameness::Exact { of } | Sameness::Near { of, .. } => Some(of.clone()),
        };
        let interval = match (&duplicate_of, changed, &previous) {
            (Some(_), _, _) => self.freshness.max_interval,
            (None, None, _) | (None, _, None) => self.freshness.first_interval,
            (None, Some(true), Some(previous)) => Duration::from_millis(previous.interval_ms / 2),
            (None, Some(false), Some(previous)) => Duration::from_millis(previous.interval_ms * 3 / 2),
        };
        let interval = self.clamp(interval);
        let record = CrawledLink {
            url: visit.url.as_str().to_string(),
            doc_id: visit.doc_id,
            depth: visit.depth,
            priority: visit.priority,
            simhash: visit.simhash,
            lead_simhash: visit.lead_simhash,
            title_hash: visit.title_hash,
            content_hash: visit.content_hash,
            fetched_at_ms: visit.now_ms,
            etag: visit.etag,
            last_modified: visit.last_modified,
            visits: previous.as_ref().map_or(0, |p| p.visits) + 1,
            changes: match (&previous, changed) {
                (Some(previous), Some(changed)) => {
                    (previous.changes << 1 | u32::from(changed)) & HISTORY_MASK
                }
                _ => 0,
            },
            interval_ms: interval.as_millis() as u64,
            next_visit_ms: visit.now_ms + interval.as_millis() as u64,
            duplicate_of,
        };

        let mut batch = WriteBatch::default();
        if let Some(previous) = &previous {
            self.unindex(&mut batch, partition, id, previous);
        }
        self.index_record(&mut batch, partition, id, &record);
        self.put_record(&mut batch, partition, id, &record)?;
        // Keep what this visit replaces until it is settled; a visit not
        // settled yet (recorded twice in one process) keeps the first.
        let key = link_key(partition, id);
        if pending.insert(key) {
            let before =
                rmp_serde::to_vec_named(&previous).map_err(|e| CrawledError::Corrupt(e.to_string()))?;
            batch.put_cf(self.cf(PENDING), key, before);
        }
        self.db.write(batch)?;
        Ok(PageVerdict {
            sameness,
            previous,
            changed: changed == Some(true),
        })
    }

    /// A revisit answered 304 Not Modified: the page stays, and is visited
    /// later next time.
    pub fn record_not_modified(&self, partition: u32, url: &NormalizedUrl, now_ms: u64) -> Result<()> {
        let _write = self.write.lock().unwrap_or_else(|p| p.into_inner());
        let id = url_id(url.as_str());
        let Some(mut record) = self.get(partition, url)? else {
            return Ok(());
        };
        let mut batch = WriteBatch::default();
        batch.delete_cf(self.cf(DUE), due_key(record.next_visit_ms, partition, id));
        let interval = self.clamp(Duration::from_millis(record.interval_ms * 3 / 2));
        record.visits += 1;
        record.changes = (record.changes << 1) & HISTORY_MASK;
        record.fetched_at_ms = now_ms;
        record.interval_ms = interval.as_millis() as u64;
        record.next_visit_ms = now_ms + record.interval_ms;
        self.put_record(&mut batch, partition, id, &record)?;
        self.db.write(batch)?;
        Ok(())
    }

    /// The page is gone (404 or 410): forgets it. Returns its record.
    pub fn remove(&self, partition: u32, url: &NormalizedUrl) -> Result<Option<CrawledLink>> {
        let _write = self.write.lock().unwrap_or_else(|p| p.into_inner());
        let id = url_id(url.as_str());
        let Some(record) = self.get(partition, url)? else {
            return Ok(None);
        };
        let mut batch = WriteBatch::default();
        self.unindex(&mut batch, partition, id, &record);
        batch.delete_cf(self.cf(LINKS), link_key(partition, id));
        self.db.write(batch)?;
        Ok(Some(record))
    }

    /// Forgets the validators of one page, so that its next visit fetches
    /// it whole. Returns its record, None when it was never crawled.
    pub fn forget_validators_of(&self, partition: u32, url: &NormalizedUrl) -> Result<Option<CrawledLink>> {
        let _write = self.write.lock().unwrap_or_else(|p| p.into_inner());
        let Some(mut record) = self.get(partition, url)? else {
            return Ok(None);
        };
        if record.drop_validators() {
            let mut batch = WriteBatch::default();
            self.put_record(&mut batch, partition, url_id(url.as_str()), &record)?;
            self.db.write(batch)?;
        }
        Ok(Some(record))
    }

    /// Forgets the validators of every page, so that each is fetched whole
    /// on its next visit, and returns every page (for `trawl rebuild`: a
    /// lost frontier's links are found again only in the pages' bodies).
    pub fn forget_validators(&self) -> Result<Vec<CrawledLink>> {
        let _write = self.write.lock().unwrap_or_else(|p| p.into_inner());
        let mut pages = Vec::new();
        let mut batch = WriteBatch::default();
        for entry in self.db.iterator_cf(self.cf(LINKS), IteratorMode::Start) {
            let (key, value) = entry?;
            let (partition, id) = parse_link_key(&key)?;
            let mut record: CrawledLink =
                rmp_serde::from_slice(&value).map_err(|e| CrawledError::Corrupt(e.to_string()))?;
            if record.drop_validators() {
                self.put_record(&mut batch, partition, id, &record)?;
            }
            pages.push(record);
            if batch.len() >= 1000 {
                self.db.write(std::mem::take(&mut batch))?;
            }
        }
        self.db.write(batch)?;
        Ok(pages)
    }

    /// When the next page comes due for a visit; none when no page was
    /// crawled.
    pub fn next_due_ms(&self) -> Result<Option<u64>> {
        let first = self.db.iterator_cf(self.cf(DUE), IteratorMode::Start).next();
        match first {
            Some(entry) => {
                let (key, _) = entry?;
                Ok(Some(parse_due_key(&key)?.0))
            }
            None => Ok(None),
        }
    }

    /// Up to `limit` pages whose next visit is at or before `now_ms`, the
    /// most overdue first.
    pub fn due(&self, now_ms: u64, limit: usize) -> Result<Vec<(u32, CrawledLink)>> {
        let mut due = Vec::new();
        for entry in self.db.iterator_cf(self.cf(DUE), IteratorMode::Start) {
            let (key, _) = entry?;
            let (at, partition, id) = parse_due_key(&key)?;
            if at > now_ms || due.len() >= limit {
                break;
            }
            if let Some(link) = self.get_by_id(partition, id)?
                && link.next_visit_ms == at
            {
                due.push((partition, link));
            }
        }
        Ok(due)
    }

    /// The pages were handed to the frontier: their next visit is pushed
    /// back to `fallback_ms` in case this one never happens (the fetch
    /// fails for good); a visit that happens sets it anew.
    pub fn scheduled(&self, pages: &[(u32, CrawledLink)], fallback_ms: u64) -> Result<()> {
        let _write = self.write.lock().unwrap_or_else(|p| p.into_inner());
        let mut batch = WriteBatch::default();
        for (partition, page) in pages {
            let id = url_id(&page.url);
            let Some(mut record) = self.get_by_id(*partition, id)? else {
                continue;
            };
            if record.url != page.url || record.next_visit_ms != page.next_visit_ms {
                continue; // visited meanwhile
            }
            batch.delete_cf(self.cf(DUE), due_key(record.next_visit_ms, *partition, id));
            record.next_visit_ms = fallback_ms;
            self.put_record(&mut batch, *partition, id, &record)?;
        }
        self.db.write(batch)?;
        Ok(())
    }

    /// The closest page of the partition whose signature is within
    /// [`MAX_DISTANCE`] bits of `simhash` and whose lead is within
    /// [`MAX_LEAD_DISTANCE`] bits of `lead`, other than the page `exclude`'s
    /// own: its URL and distance.
    pub fn nearest(
        &self,
        partition: u32,
        visit: &FetchedVisit<'_>,
        exclude: u64,
    ) -> Result<Option<(String, u32)>> {
        for (id, distance) in self.near_ids(partition, visit.simhash, exclude)? {
            if let Some(original) = self.get_by_id(partition, id)?
                && (original.lead_simhash ^ visit.lead_simhash).count_ones() <= MAX_LEAD_DISTANCE
                && same_identity(&original, visit)
            {
                return Ok(Some((original.url, distance)));
            }
        }
        Ok(None)
    }

    /// The closest signature within [`MAX_DISTANCE`] bits, by URL hash.
    pub fn nearest_id(&self, partition: u32, simhash: u64, exclude: u64) -> Result<Option<(u64, u32)>> {
        Ok(self.near_ids(partition, simhash, exclude)?.into_iter().next())
    }

    /// Every signature within [`MAX_DISTANCE`] bits (URL hash, distance),
    /// the closest first: the permuted-table lookup.
    fn near_ids(&self, partition: u32, simhash: u64, exclude: u64) -> Result<Vec<(u64, u32)>> {
        let mut found: Vec<(u64, u32)> = Vec::new();
        // One iterator seeks to every table in turn: making an iterator costs
        // more than the few keys a table holds under one prefix.
        let mut iter = self.db.raw_iterator_cf(self.cf(SIMHASH));
        for (table, permutation) in self.tables.iter().enumerate() {
            let permuted = permutation.apply(simhash);
            let front_mask = permutation.front_mask();
            let start = simhash_key(partition, table as u8, permuted & front_mask, 0);
            iter.seek(start);
            while let Some(key) = iter.key() {
                if key.len() != 21 || key[..5] != start[..5] {
                    break;
                }
                let candidate = u64::from_be_bytes(key[5..13].try_into().expect("8 bytes"));
                if candidate & front_mask != permuted & front_mask {
                    break;
                }
                let id = u64::from_be_bytes(key[13..21].try_into().expect("8 bytes"));
                let distance = (candidate ^ permuted).count_ones();
                if id != exclude && distance <= MAX_DISTANCE {
                    found.push((id, distance));
                }
                iter.next();
            }
            iter.status()?;
        }
        // A signature close enough is found in several tables.
        found.sort_unstable_by_key(|&(id, distance)| (distance, id));
        found.dedup();
        Ok(found)
    }

    /// Adds signatures to the near-duplicate index directly, for benchmarks
    /// that fill it with millions of them: `(URL hash, simhash)` pairs.
    pub fn index_signatures(&self, partition: u32, signatures: &[(u64, u64)]) -> Result<()> {
        let mut batch = WriteBatch::default();
        for &(id, simhash) in signatures {
            for (table, permutation) in self.tables.iter().enumerate() {
                batch.put_cf(
                    self.cf(SIMHASH),
                    simhash_key(partition, table as u8, permutation.apply(simhash), id),
                    [],
                );
            }
        }
        self.db.write(batch)?;
        Ok(())
    }

    /// Compacts the near-duplicate index, as RocksDB does by itself over
    /// time (benchmarks call it after a bulk fill to measure the steady state).
    pub fn compact(&self) {
        self.db
            .compact_range_cf(self.cf(SIMHASH), None::<&[u8]>, None::<&[u8]>);
    }

    /// Another page of the partition with exactly this text.
    fn same_content(&self, partition: u32, content_hash: u64, exclude: u64) -> Result<Option<String>> {
        let start = content_key(partition, content_hash, 0);
        let iter = self
            .db
            .iterator_cf(self.cf(CONTENT), IteratorMode::From(&start, Direction::Forward));
        for entry in iter {
            let (key, _) = entry?;
            if key.len() != 20 || key[..12] != start[..12] {
                break;
            }
            let id = u64::from_be_bytes(key[12..20].try_into().expect("8 bytes"));
            if id != exclude
                && let Some(original) = self.get_by_id(partition, id)?
            {
                return Ok(Some(original.url));
            }
        }
        Ok(None)
    }

    /// Deletes what the index and the schedule hold for a record.
    /// Adds an original's signatures to the near-duplicate tables.
    fn index_record(&self, batch: &mut WriteBatch, partition: u32, id: u64, record: &CrawledLink) {
        if !record.indexed() {
            return;
        }
        for (table, permutation) in self.tables.iter().enumerate() {
            batch.put_cf(
                self.cf(SIMHASH),
                simhash_key(partition, table as u8, permutation.apply(record.simhash), id),
                [],
            );
        }
        batch.put_cf(
            self.cf(CONTENT),
            content_key(partition, record.content_hash, id),
            [],
        );
    }

    fn unindex(&self, batch: &mut WriteBatch, partition: u32, id: u64, record: &CrawledLink) {
        if record.indexed() {
            for (table, permutation) in self.tables.iter().enumerate() {
                batch.delete_cf(
                    self.cf(SIMHASH),
                    simhash_key(partition, table as u8, permutation.apply(record.simhash), id),
                );
            }
            batch.delete_cf(self.cf(CONTENT), content_key(partition, record.content_hash, id));
        }
        batch.delete_cf(self.cf(DUE), due_key(record.next_visit_ms, partition, id));
    }

    fn put_record(
        &self,
        batch: &mut WriteBatch,
        partition: u32,
        id: u64,
        record: &CrawledLink,
    ) -> Result<()> {
        let value = rmp_serde::to_vec_named(record).map_err(|e| CrawledError::Corrupt(e.to_string()))?;
        batch.put_cf(self.cf(LINKS), link_key(partition, id), value);
        batch.put_cf(self.cf(DUE), due_key(record.next_visit_ms, partition, id), []);
        Ok(())
    }

    fn get_by_id(&self, partition: u32, id: u64) -> Result<Option<CrawledLink>> {
        match self.db.get_cf(self.cf(LINKS), link_key(partition, id))? {
            None => Ok(None),
            Some(value) => rmp_serde::from_slice(&value)
                .map(Some)
                .map_err(|e| CrawledError::Corrupt(e.to_string())),
        }
    }

    fn clamp(&self, interval: Duration) -> Duration {
        interval.clamp(self.freshness.min_interval, self.freshness.max_interval)
    }

    fn cf(&self, name: &str) -> &rocksdb::ColumnFamily {
        self.db
            .cf_handle(name)
            .expect("column families are created at open")
    }
}

const HISTORY_MASK: u32 = (1 << HISTORY_BITS) - 1;

/// The hash of a title that [`same_identity`] compares.
pub fn title_hash(title: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(title.trim().to_lowercase().as_bytes())
}

/// Whether a page that reads like `original` can be a copy of it rather than
/// another page of the site: a copy keeps its name, the last two segments
/// of its URL's path (a print view, a session id in the query, a mirror, a
/// re-export under another root: `std/result/struct.Iter.html` and
/// `core/result/struct.Iter.html`), or its title (a copy under another
/// name). Two items documented with one text keep neither: `RChunks` and
/// `Chunks`, or `option/struct.Iter.html` and `result/struct.Iter.html`.
fn same_identity(original: &CrawledLink, visit: &FetchedVisit<'_>) -> bool {
    fn name(url: &str) -> (&str, &str) {
        let end = url.find(['?', '#']).unwrap_or(url.len());
        let mut segments = url[..end].rsplit('/');
        let last = segments.next().unwrap_or_default();
        (segments.next().unwrap_or_default(), last)
    }
    original.title_hash == visit.title_hash || name(&original.url) == name(visit.url.as_str())
}

/// The 64-bit hash a URL is keyed by.
fn url_id(url: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(url.as_bytes())
}

fn link_key(partition: u32, id: u64) -> [u8; 12] {
    let mut key = [0; 12];
    key[..4].copy_from_slice(&partition.to_be_bytes());
    key[4..].copy_from_slice(&id.to_be_bytes());
    key
}

fn parse_link_key(key: &[u8]) -> Result<(u32, u64)> {
    if key.len() != 12 {
        return Err(CrawledError::Corrupt(format!("link key of {} bytes", key.len())));
    }
    Ok((
        u32::from_be_bytes(key[..4].try_into().expect("4 bytes")),
        u64::from_be_bytes(key[4..].try_into().expect("8 bytes")),
    ))
}

fn simhash_key(partition: u32, table: u8, permuted: u64, id: u64) -> [u8; 21] {
    let mut key = [0; 21];
    key[..4].copy_from_slice(&partition.to_be_bytes());
    key[4] = table;
    key[5..13].copy_from_slice(&permuted.to_be_bytes());
    key[13..].copy_from_slice(&id.to_be_bytes());
    key
}

fn content_key(partition: u32, content_hash: u64, id: u64) -> [u8; 20] {
    let mut key = [0; 20];
    key[..4].copy_from_slice(&partition.to_be_bytes());
    key[4..12].copy_from_slice(&content_hash.to_be_bytes());
    key[12..].copy_from_slice(&id.to_be_bytes());
    key
}

fn due_key(at_ms: u64, partition: u32, id: u64) -> [u8; 20] {
    let mut key = [0; 20];
    key[..8].copy_from_slice(&at_ms.to_be_bytes());
    key[8..12].copy_from_slice(&partition.to_be_bytes());
    key[12..].copy_from_slice(&id.to_be_bytes());
    key
}

fn parse_due_key(key: &[u8]) -> Result<(u64, u32, u64)> {
    if key.len() != 20 {
        return Err(CrawledError::Corrupt(format!("due key of {} bytes", key.len())));
    }
    Ok((
        u64::from_be_bytes(key[..8].try_into().expect("8 bytes")),
        u32::from_be_bytes(key[8..12].try_into().expect("4 bytes")),
        u64::from_be_bytes(key[12..].try_into().expect("8 bytes")),
    ))
}

/// A reordering of a signature's blocks: the blocks of one table's front
/// first, then the others, each keeping its bits in order.
#[derive(Debug, Clone)]
struct Permutation {
    /// (first bit, width) of each block, in their new order.
    blocks: Vec<(u32, u32)>,
    /// Bits in the front blocks.
    front_bits: u32,
}

impl Permutation {
    /// One permutation per choice of `blocks - MAX_DISTANCE` front blocks.
    fn tables(blocks: usize) -> Vec<Permutation> {
        assert!(
            (MAX_DISTANCE as usize + 1..=8).contains(&blocks),
            "between {} and 8 blocks",
            MAX_DISTANCE + 1
        );
        // Widths as even as they go: 5 blocks are 13, 13, 13, 13, 12 bits.
        let mut bounds = Vec::new();
        let mut start = 0u32;
        for block in 0..blocks as u32 {
            let width = 64 / blocks as u32 + u32::from(block < 64 % blocks as u32);
            bounds.push((start, width));
            start += width;
        }
        let front = blocks - MAX_DISTANCE as usize;
        combinations(blocks, front)
            .into_iter()
            .map(|chosen| {
                let mut order: Vec<(u32, u32)> = chosen.iter().map(|&b| bounds[b]).collect();
                let front_bits = order.iter().map(|(_, width)| width).sum();
                order.extend((0..blocks).filter(|b| !chosen.contains(b)).map(|b| bounds[b]));
                Permutation {
                    blocks: order,
                    front_bits,
                }
            })
            .collect()
    }

    fn apply(&self, simhash: u64) -> u64 {
        self.blocks.iter().fold(0u64, |out, &(start, width)| {
            let bits = (simhash >> start) & ((1u64 << width) - 1);
            out << width | bits
        })
    }

    /// The bits of a permuted value that hold the front blocks.
    fn front_mask(&self) -> u64 {
        !0u64 << (64 - self.front_bits)
    }
}

/// Every choice of `k` of `0..n`, in lexicographic order.
fn combinations(n: usize, k: usize) -> Vec<Vec<usize>> {
    fn extend(start: usize, n: usize, k: usize, current: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
        if current.len() == k {
            out.push(current.clone());
            return;
        }
        for next in start..n {
            current.push(next);
            extend(next + 1, n, k, current, out);
            current.pop();
        }
    }
    let mut out = Vec::new();
    extend(0, n, k, &mut Vec::new(), &mut out);
    out
}

/// Milliseconds since the Unix epoch: how `crawled_links` keeps times.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> NormalizedUrl {
        NormalizedUrl::parse(s).unwrap()
    }

    fn visit(url: &NormalizedUrl, simhash: u64, content_hash: u64, now_ms: u64) -> FetchedVisit<'_> {
        FetchedVisit {
            url,
            doc_id: url_id(url.as_str()),
            depth: 1,
            priority: 0.8,
            simhash,
            lead_simhash: simhash,
            title_hash: 0,
            content_hash,
            etag: Some("\"v1\"".into()),
            last_modified: None,
            now_ms,
        }
    }

    fn open(dir: &Path) -> CrawledLinks {
        CrawledLinks::open(dir, FreshnessConfig::default()).unwrap()
    }

    #[test]
    fn permutations_move_whole_blocks_and_keep_distance() {
        for blocks in 4..=6 {
            let tables = Permutation::tables(blocks);
            let expected = combinations(blocks, blocks - 3).len();
            assert_eq!(tables.len(), expected);
            let (a, b) = (0x0123_4567_89ab_cdefu64, 0x0123_4567_89ab_cdefu64 ^ 0b1011 << 20);
            for table in &tables {
                assert_eq!(table.apply(a).count_ones(), a.count_ones());
                assert_eq!((table.apply(a) ^ table.apply(b)).count_ones(), 3);
            }
        }
        assert_eq!(combinations(5, 2).len(), 10);
    }

    #[test]
    fn finds_every_signature_within_three_bits_and_none_beyond() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let stored: Vec<(u64, u64)> = (0..5000).map(|id| (id, next())).collect();
        store.index_signatures(0, &stored).unwrap();
        for round in 0..2000 {
            // Near a stored signature (0 to 6 bits flipped), or anywhere.
            let query = if round % 4 == 3 {
                next()
            } else {
                let mut query = stored[round % stored.len()].1;
                for _ in 0..next() % 7 {
                    query ^= 1 << (next() % 64);
                }
                query
            };
            // What a scan of every signature finds.
            let scan = stored
                .iter()
                .map(|&(id, simhash)| (id, (simhash ^ query).count_ones()))
                .filter(|&(_, distance)| distance <= MAX_DISTANCE)
                .min_by_key(|&(id, distance)| (distance, id));
            let found = store.nearest_id(0, query, u64::MAX).unwrap();
            assert_eq!(found.map(|(_, d)| d), scan.map(|(_, d)| d), "query {query:016x}");
            if let Some((id, distance)) = found {
                assert_eq!((stored[id as usize].1 ^ query).count_ones(), distance);
            }
        }
    }

    #[test]
    fn near_and_exact_duplicates_are_found_and_not_indexed() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        let (a, b, c, d) = (
            url("http://h.test/a"),
            url("http://h.test/b"),
            url("http://h.test/c"),
            url("http://h.test/d"),
        );
        let base = 0xdead_beef_0bad_f00du64;
        let verdict = store.record_page(0, visit(&a, base, 1, 10)).unwrap();
        assert_eq!(verdict.sameness, Sameness::Original);
        assert_eq!(verdict.previous, None);

        let near = store
            .record_page(0, visit(&b, base ^ 0b111 << 40, 2, 10))
            .unwrap();
        assert_eq!(
            near.sameness,
            Sameness::Near {
                of: a.as_str().into(),
                distance: 3
            }
        );
        let exact = store.record_page(0, visit(&c, !base, 1, 10)).unwrap();
        assert_eq!(
            exact.sameness,
            Sameness::Exact {
                of: a.as_str().into()
            }
        );
        let far = store
            .record_page(0, visit(&d, base ^ 0b1111 << 40, 4, 10))
            .unwrap();
        assert_eq!(far.sameness, Sameness::Original);
        // Another partition is another world.
        assert_eq!(
            store.record_page(1, visit(&b, base, 1, 10)).unwrap().sameness,
            Sameness::Original
        );

        // A revisit of the original is not a duplicate of itself.
        let again = store.record_page(0, visit(&a, base, 1, 20)).unwrap();
        assert_eq!(again.sameness, Sameness::Original);
        assert!(!again.changed);
        let record = store.get(0, &a).unwrap().unwrap();
        assert_eq!(record.visits, 2);
        assert!(record.indexed());
        assert!(!store.get(0, &b).unwrap().unwrap().indexed());

        // Gone: its signatures leave the index with it.
        assert!(store.remove(0, &a).unwrap().is_some());
        assert_eq!(store.get(0, &a).unwrap(), None);
        // b is now measured against what is left: d, one bit away.
        let b_again = store
            .record_page(0, visit(&b, base ^ 0b111 << 40, 2, 30))
            .unwrap();
        assert_eq!(
            b_again.sameness,
            Sameness::Near {
                of: d.as_str().into(),
                distance: 1
            }
        );
    }

    #[test]
    fn revisits_come_sooner_for_changing_pages_and_later_for_stable_ones() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        let day = 24 * 3600 * 1000;
        let (a, b) = (url("http://h.test/a"), url("http://h.test/b"));
        store.record_page(0, visit(&a, 1, 1, 0)).unwrap();
        store.record_page(0, visit(&b, u64::MAX, 2, 0)).unwrap();
        let first = store.get(0, &a).unwrap().unwrap();
        assert_eq!(first.next_visit_ms, 7 * day);

        assert!(store.due(7 * day - 1, 10).unwrap().is_empty());
        let due = store.due(7 * day, 10).unwrap();
        assert_eq!(due.len(), 2);

        // a changes, b answers 304.
        let changed = store.record_page(0, visit(&a, 1, 99, 7 * day)).unwrap();
        assert!(changed.changed);
        store.record_not_modified(0, &b, 7 * day).unwrap();
        let (a_now, b_now) = (
            store.get(0, &a).unwrap().unwrap(),
            store.get(0, &b).unwrap().unwrap(),
        );
        assert_eq!(a_now.interval_ms, 7 * day / 2);
        assert_eq!(a_now.changes & 1, 1);
        assert_eq!(b_now.interval_ms, 7 * day * 3 / 2);
        assert_eq!(b_now.changes & 1, 0);
        assert_eq!(b_now.etag.as_deref(), Some("\"v1\""));

        // Handed to the frontier: not due again until the fallback.
        let due = store.due(u64::MAX, 10).unwrap();
        assert_eq!(due.len(), 2);
        store.scheduled(&due, u64::MAX - 1).unwrap();
        assert!(store.due(u64::MAX - 2, 10).unwrap().is_empty());

        // Bounded: a page that changes at every visit is not visited more
        // often than the minimum interval.
        for visit_no in 0..20 {
            store
                .record_page(0, visit(&a, 1, 100 + visit_no, 8 * day))
                .unwrap();
        }
        assert_eq!(
            store.get(0, &a).unwrap().unwrap().interval_ms,
            FreshnessConfig::default().min_interval.as_millis() as u64
        );
    }

    #[test]
    fn one_text_under_two_names_and_two_titles_is_two_pages() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        let page = |path: &str, title: &str| (url(&format!("http://docs.test/{path}")), title_hash(title));
        let record = |(url, title): &(NormalizedUrl, u64)| {
            let mut visit = visit(
                url,
                0x5555,
                xxhash_rust::xxh3::xxh3_64(url.as_str().as_bytes()),
                0,
            );
            visit.title_hash = *title;
            store.record_page(0, visit).unwrap().sameness
        };
        assert_eq!(
            record(&page("std/slice/struct.Chunks.html", "Chunks in std::slice")),
            Sameness::Original
        );
        // Another item with the same text: another name, another title.
        assert_eq!(
            record(&page("std/slice/struct.RChunks.html", "RChunks in std::slice")),
            Sameness::Original
        );
        assert_eq!(
            record(&page("std/option/struct.Iter.html", "Iter in std::option")),
            Sameness::Original
        );
        assert_eq!(
            record(&page("std/result/struct.Iter.html", "Iter in std::result")),
            Sameness::Original
        );
        // The same item re-exported under another root, or the same title.
        let reexport = record(&page("core/slice/struct.Chunks.html", "Chunks in core::slice"));
        assert!(
            matches!(reexport, Sameness::Near { ref of, .. } if of.ends_with("std/slice/struct.Chunks.html"))
        );
        let retitled = record(&page("copies/chunks-copy.html", "Iter in std::result"));
        assert!(
            matches!(retitled, Sameness::Near { ref of, .. } if of.ends_with("std/result/struct.Iter.html"))
        );
    }

    #[test]
    fn a_store_written_with_other_tables_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        drop(CrawledLinks::open_with_blocks(dir.path(), FreshnessConfig::default(), 5).unwrap());
        let error = CrawledLinks::open_with_blocks(dir.path(), FreshnessConfig::default(), 4)
            .err()
            .unwrap();
        assert!(error.to_string().contains("5 blocks"), "{error}");
    }

    #[test]
    fn survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let a = url("http://h.test/a");
        {
            let store = open(dir.path());
            store.record_page(3, visit(&a, 42, 7, 0)).unwrap();
            store.settle(3, &a).unwrap();
        }
        let store = open(dir.path());
        assert_eq!(store.get(3, &a).unwrap().unwrap().content_hash, 7);
        let other = url("http://h.test/other");
        assert_eq!(
            store.record_page(3, visit(&other, 43, 8, 0)).unwrap().sameness,
            Sameness::Near {
                of: a.as_str().into(),
                distance: 1
            }
        );
    }

    // Durability order: a process killed after recording a visit and
    // before its page was durable must not keep the visit's validators
    // (a resumed fetch would get 304 and complete the link without its
    // page) nor its signatures (a copy would be dropped as a duplicate of
    // a page the index never got).
    #[test]
    fn an_unsettled_visit_is_undone_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, copy) = (
            url("http://h.test/a"),
            url("http://h.test/b"),
            url("http://h.test/copy/a"),
        );
        let base = 0x1234_5678_9abc_def0u64;
        {
            let store = open(dir.path());
            // a: visited once and settled (its page is durable), then
            // visited again with a new text and new validators: not settled.
            store.record_page(0, visit(&a, base, 1, 10)).unwrap();
            store.settle(0, &a).unwrap();
            let mut second = visit(&a, !base, 2, 20);
            second.etag = Some("\"v2\"".into());
            store.record_page(0, second).unwrap();
            // b: a first visit, not settled.
            store
                .record_page(0, visit(&b, base ^ 0xffff_0000, 3, 20))
                .unwrap();
            assert_eq!(store.unsettled(), 2);
            // killed here: no settle
        }
        let store = open(dir.path());
        assert_eq!(store.unsettled(), 0);
        let a_record = store.get(0, &a).unwrap().unwrap();
        assert_eq!(a_record.content_hash, 1, "a's first visit stands");
        assert_eq!(
            a_record.etag.as_deref(),
            Some("\"v1\""),
            "validators of the durable page"
        );
        assert_eq!(a_record.visits, 1);
        assert_eq!(
            store.get(0, &b).unwrap(),
            None,
            "b's unsettled first visit is gone"
        );
        // The signatures are those of the durable pages: a copy of a's
        // first text is its duplicate, a copy of a's second or of b's is not.
        let near_first = store.record_page(0, visit(&copy, base ^ 1, 9, 30)).unwrap();
        assert_eq!(
            near_first.sameness,
            Sameness::Near {
                of: a.as_str().into(),
                distance: 1
            }
        );
        let other = url("http://h.test/copy/b");
        let of_b = store
            .record_page(0, visit(&other, base ^ 0xffff_0001, 3, 30))
            .unwrap();
        assert_eq!(
            of_b.sameness,
            Sameness::Original,
            "b's content hash was rolled back too"
        );
        // Settled visits survive a reopen.
        store.settle(0, &copy).unwrap();
        drop(store);
        let store = open(dir.path());
        assert!(store.get(0, &copy).unwrap().is_some());
        assert_eq!(store.get(0, &other).unwrap(), None);
    }
}
