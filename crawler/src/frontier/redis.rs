//! The distributed frontier: every worker's queues in one Redis, so any
//! number of crawler processes share one crawl.
//!
//! Hosts hash into `partitions` partitions. All keys of a partition carry
//! its hash tag (`{prefix:17}`), so a partition lives in one Redis Cluster
//! slot and each operation is one Lua script, atomic over its partition
//! (see `redis_scripts.lua` for the key layout). The politeness clock of a
//! host and its in-flight count live there too, read with Redis's own clock,
//! so politeness holds across all workers together.
//!
//! Workers lease partitions (a heartbeat renews the lease; a dead worker's
//! partitions pass to the living when it runs out) and claim only from
//! their own, so every page of a host meets the same worker's stores.
//! Claims are leases on links: a link a dead worker held returns when its
//! deadline passes. A lease carries a token, so a worker whose lease ran out
//! cannot end the lease another worker took since.
//!
//! Redis going away loses nothing: every call is retried with back-off until
//! Redis answers again (each script is safe to run twice), and scripts are
//! loaded again if a restarted Redis forgot them.
//!
//! Redis coming back *empty* (restarted without persistence) would end a
//! crawl silently: an empty frontier looks like a finished one. So a worker
//! refuses a Redis that keeps nothing on disk (append-only file off) unless
//! told otherwise, and every crawl has an epoch: a random name the first
//! worker writes to `{prefix:meta}:epoch`, each worker remembers in its data
//! directory, and the heartbeat (and the check that the crawl is over)
//! compares with Redis. A missing or other epoch stops the worker with
//! [`FrontierError::Lost`], which says how to rebuild the frontier
//! ([`RedisFrontier::rebuild_epoch`], `trawl rebuild`).
//!
//! The seen-filter stores the 64-bit xxh3 hash of each URL, as an integer,
//! in sets of a few hundred members; Redis keeps sets of integers that small
//! as compact intsets: 9.6 bytes a URL at 10 million URLs, against 84 for
//! one plain set (BENCHMARKS.md has the measurement). A new URL is taken for
//! a seen one only if its hash collides with one of the n seen: n / 2^64, or
//! 5e-13 at 10 million; over a whole crawl of 10 million, the odds that any
//! URL is lost that way are about 3 in a million.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use common::{HostKey, NormalizedUrl};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Cmd, ErrorKind, Pipeline, RedisError, ServerErrorKind, Value};
use tokio::task::JoinHandle;
use tracing::{info, warn};

use super::{
    AddReport, Claim, Frontier, FrontierConfig, FrontierCounts, FrontierError, Lease, LinkKind, NewLink,
    Result, RetryDecision,
};

const PRELUDE: &str = include_str!("redis_scripts.lua");

const TICK: &str = r#"
tick()
local best = redis.call('ZREVRANGE', key('ready'), 0, 0, 'WITHSCORES')
return { best[2] or '', tostring(next_wake()), redis.call('GET', key('queued')) or '0', tostring(redis.call('ZCARD', key('leases'))) }
"#;

/// ARGV: request id, lease ms, links at most, a priority floor ('' for
/// none), worker. Leases the best ready hosts' best links, best first; a
/// host with free slots stays ready and may give more than one. Stops below
/// the floor once it has leased one: the next link may then be better in
/// another partition. Returns the partition's best ready priority after the
/// claim ('' when no host is ready), then 4 values a lease.
const CLAIM: &str = r#"
local id = ARGV[3]
local replayed = replay(id)
if replayed then return replayed end
tick()
local lease_ms, wanted, floor, worker = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7]
local leased = {}
for _ = 1, wanted do
  local top = redis.call('ZREVRANGE', key('ready'), 0, 0, 'WITHSCORES')
  if #top == 0 or (#leased > 0 and floor and tonumber(top[2]) < floor) then
    break
  end
  local host = top[1]
  redis.call('ZREM', key('ready'), host)
  local inflight = tonumber(redis.call('HGET', key('inflight'), host) or '0')
  local popped = {}
  if inflight < inflight_limit(host) then
    popped = redis.call('ZPOPMAX', links_key(host))
  end
  if #popped > 0 then
    local url, priority = popped[1], popped[2]
    local token = redis.call('INCR', key('lease_seq'))
    redis.call('HINCRBY', key('inflight'), host, 1)
    redis.call('ZADD', key('leases'), now + lease_ms, url)
    redis.call('HSET', key('leased'), url, token .. '\t0\t' .. host .. '\t' .. worker)
    redis.call('DECR', key('queued'))
    for _, value in ipairs({ url, tostring(token), redis.call('HGET', key('meta'), url) or '', priority }) do
      table.insert(leased, value)
    end
  end
  schedule(host)
end
local best = redis.call('ZREVRANGE', key('ready'), 0, 0, 'WITHSCORES')
table.insert(leased, 1, best[2] or '')
return remember(id, leased)
"#;

const RELEASE_HOST: &str = r#"
if not lease_is(ARGV[3], ARGV[4]) then return 0 end
release(ARGV[3], now + tonumber(ARGV[5]))
return 1
"#;

const COMPLETE: &str = r#"
if not lease_is(ARGV[3], ARGV[4]) then return 0 end
release(ARGV[3], now)
end_lease(ARGV[3])
redis.call('HDEL', key('meta'), ARGV[3])
return 1
"#;

const RETRY: &str = r#"
if not lease_is(ARGV[3], ARGV[4]) then return 0 end
release(ARGV[3], now)
end_lease(ARGV[3])
redis.call('HSET', key('meta'), ARGV[3], ARGV[6])
redis.call('ZADD', key('delayed'), now + tonumber(ARGV[5]), ARGV[3])
redis.call('INCR', key('queued'))
return 1
"#;

const GIVE_BACK: &str = r#"
if not lease_is(ARGV[3], ARGV[4]) then return 0 end
release(ARGV[3], now)
end_lease(ARGV[3])
requeue(ARGV[3])
return 1
"#;

/// ARGV: request id, host budget, query cap; then 9 values per link (each
/// URL once per call), the last two the link's own host budget and its
/// host's limit of requests in flight ('' for none: the crawl's).
const ADD: &str = r#"
local id = ARGV[3]
local replayed = replay(id)
if replayed then return replayed end
local max_urls, max_queries = tonumber(ARGV[4]), tonumber(ARGV[5])
local added, over_budget, too_many = 0, 0, 0
local touched = {}
local limited = {}
for i = 6, #ARGV, 9 do
  local url, bucket, value, host, path_key, priority, meta =
    ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5], ARGV[i + 6]
  local budget = math.min(tonumber(ARGV[i + 7]) or max_urls, max_urls)
  if not limited[host] then
    limited[host] = true
    if ARGV[i + 8] == '' then
      if redis.call('HDEL', key('host_limit'), host) == 1 then touched[host] = true end
    elseif redis.call('HGET', key('host_limit'), host) ~= ARGV[i + 8] then
      redis.call('HSET', key('host_limit'), host, ARGV[i + 8])
      touched[host] = true
    end
  end
  if redis.call('SADD', key('seen:' .. bucket), value) == 0 then
    -- Found on one more page: a waiting link gains a tenth of the priority
    -- it was found with, up to 1.0 (the embedded frontier's inlink_boost),
    -- in its queue and in its metadata (which a requeue reads).
    local score = redis.call('ZSCORE', links_key(host), url)
    if score then
      local boosted = math.min(tonumber(score) + tonumber(priority) / 10, 1.0)
      if boosted > tonumber(score) then
        redis.call('ZADD', links_key(host), boosted, url)
        local stored = redis.call('HGET', key('meta'), url)
        local stored_host, rest = string.match(stored or '', '^([^\t]*)\t[^\t]*\t(.*)$')
        if stored_host then
          redis.call('HSET', key('meta'), url, stored_host .. '\t' .. string.format('%.17g', boosted) .. '\t' .. rest)
        end
        touched[host] = true
      end
    end
  else
    redis.call('INCR', key('seen_count'))
    if tonumber(redis.call('HGET', key('host_urls'), host) or '0') >= budget then
      over_budget = over_budget + 1
    elseif path_key ~= '' and tonumber(redis.call('HGET', key('path_queries'), path_key) or '0') >= max_queries then
      too_many = too_many + 1
    else
      redis.call('HINCRBY', key('host_urls'), host, 1)
      if path_key ~= '' then
        redis.call('HINCRBY', key('path_queries'), path_key, 1)
      end
      redis.call('ZADD', links_key(host), priority, url)
      redis.call('HSET', key('meta'), url, meta)
      redis.call('INCR', key('queued'))
      touched[host] = true
      added = added + 1
    end
  end
end
for host, _ in pairs(touched) do
  schedule(host)
end
return remember(id, { added, over_budget, too_many })
"#;

/// ARGV: request id, then pairs of (bucket, hash).
const MARK_SEEN: &str = r#"
local id = ARGV[3]
local replayed = replay(id)
if replayed then return replayed end
local new = 0
for i = 4, #ARGV, 2 do
  if redis.call('SADD', key('seen:' .. ARGV[i]), ARGV[i + 1]) == 1 then
    redis.call('INCR', key('seen_count'))
    new = new + 1
  end
end
return remember(id, { new })
"#;

/// ARGV: request id, then 6 values per link (each URL once per call). A link
/// whose URL has metadata is queued, delayed or leased already.
const REVISIT: &str = r#"
local id = ARGV[3]
local replayed = replay(id)
if replayed then return replayed end
local queued = 0
local touched = {}
for i = 4, #ARGV, 6 do
  local url, bucket, value, host, priority, meta =
    ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5]
  if redis.call('SADD', key('seen:' .. bucket), value) == 1 then
    redis.call('INCR', key('seen_count'))
  end
  if redis.call('HEXISTS', key('meta'), url) == 0 then
    redis.call('ZADD', links_key(host), priority, url)
    redis.call('HSET', key('meta'), url, meta)
    redis.call('INCR', key('queued'))
    touched[host] = true
    queued = queued + 1
  end
end
for host, _ in pairs(touched) do
  schedule(host)
end
return remember(id, { queued })
"#;

/// Registers the worker, renews its partitions, takes free ones up to its
/// fair share and gives up those above it. ARGV: tag, worker, lease ms,
/// partitions. Not built on the prelude: it works on the meta tag. Running
/// it twice changes nothing more.
const PARTITIONS: &str = r#"
local tag, me, lease_ms, partitions = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
if redis.call('GET', tag .. ':epoch') ~= ARGV[5] then
  return redis.error_reply('TRAWL_EPOCH the crawl this worker joined is no longer in Redis')
end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local workers, owners = tag .. ':workers', tag .. ':owners'
redis.call('ZREMRANGEBYSCORE', workers, '-inf', now)
redis.call('ZADD', workers, now + lease_ms, me)
local share = math.ceil(partitions / redis.call('ZCARD', workers))
local mine, free = {}, {}
for p = 0, partitions - 1 do
  local entry = redis.call('HGET', owners, p)
  if not entry then
    table.insert(free, p)
  else
    local owner, deadline = string.match(entry, '^(.*)\t(%d+)$')
    if owner == me then
      table.insert(mine, p)
    elseif tonumber(deadline) <= now then
      table.insert(free, p)
    end
  end
end
while #mine > share do
  redis.call('HDEL', owners, table.remove(mine))
end
for _, p in ipairs(free) do
  if #mine >= share then break end
  table.insert(mine, p)
end
for _, p in ipairs(mine) do
  redis.call('HSET', owners, p, me .. '\t' .. (now + lease_ms))
end
return mine
"#;

/// Gives up every partition of a leaving worker. ARGV: tag, worker, partitions.
const LEAVE: &str = r#"
local tag, me = ARGV[1], ARGV[2]
redis.call('ZREM', tag .. ':workers', me)
for p = 0, tonumber(ARGV[3]) - 1 do
  local entry = redis.call('HGET', tag .. ':owners', p)
  if entry and string.match(entry, '^(.*)\t') == me then
    redis.call('HDEL', tag .. ':owners', p)
  end
end
return 1
"#;

#[derive(Debug, Clone)]
pub struct RedisFrontierConfig {
    /// `redis://host:port/db`.
    pub url: String,
    /// Namespace of every key, so several crawls (or tests) share a Redis.
    pub prefix: String,
    /// Hosts are spread over this many partitions. Fixed for the life of a
    /// crawl: changing it moves hosts between partitions.
    pub partitions: u32,
    /// Seen-filter sets per partition; keep URLs / (partitions * buckets)
    /// under 512 (Redis's intset limit): the default holds 33 million URLs.
    pub seen_buckets: u32,
    /// This worker's name in the partition table.
    pub worker_id: String,
    /// A worker that misses its heartbeats this long loses its partitions.
    pub partition_lease: Duration,
    /// Links leased per claim script at most; the worker hands them out one
    /// by one.
    pub claim_batch: usize,
    pub frontier: FrontierConfig,
    /// The epoch of the crawl this worker's data directory belongs to;
    /// `None` for a worker that never joined one.
    pub epoch: Option<String>,
    /// Join a Redis that keeps nothing on disk (with a warning) rather than
    /// refuse it.
    pub allow_volatile: bool,
}

impl RedisFrontierConfig {
    pub fn new(url: &str) -> RedisFrontierConfig {
        RedisFrontierConfig {
            url: url.to_string(),
            prefix: "trawl".to_string(),
            partitions: 64,
            seen_buckets: 1024,
            worker_id: default_worker_id(),
            partition_lease: Duration::from_secs(30),
            claim_batch: 16,
            frontier: FrontierConfig::default(),
            epoch: None,
            allow_volatile: false,
        }
    }
}

/// A new epoch name: random enough that two crawls never share one.
fn new_epoch() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let seed = format!("{nanos}-{}-{}", std::process::id(), default_worker_id());
    format!("{:016x}", xxhash_rust::xxh3::xxh3_64(seed.as_bytes()))
}

fn default_worker_id() -> String {
    let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{}-{}-{:08x}", host.trim(), std::process::id(), nanos)
}

/// The scripts, with the prelude where they need it, and their SHA1s.
struct Scripts {
    sources: Vec<String>,
    hashes: Vec<String>,
}

#[derive(Clone, Copy)]
enum Op {
    Tick,
    Claim,
    ReleaseHost,
    Complete,
    Retry,
    GiveBack,
    Add,
    MarkSeen,
    Revisit,
    Partitions,
    Leave,
}

impl Scripts {
    fn new() -> Scripts {
        let with_prelude = |body: &str| format!("{PRELUDE}\n{body}");
        let sources = vec![
            with_prelude(TICK),
            with_prelude(CLAIM),
            with_prelude(RELEASE_HOST),
            with_prelude(COMPLETE),
            with_prelude(RETRY),
            with_prelude(GIVE_BACK),
            with_prelude(ADD),
            with_prelude(MARK_SEEN),
            with_prelude(REVISIT),
            PARTITIONS.to_string(),
            LEAVE.to_string(),
        ];
        let hashes = sources
            .iter()
            .map(|s| redis::Script::new(s).get_hash().to_string())
            .collect();
        Scripts { sources, hashes }
    }

    /// `EVALSHA` of `op`, declaring `routing_key` (a key of the slot the
    /// script works in) so that a cluster routes it.
    fn evalsha(&self, op: Op, routing_key: &str) -> Cmd {
        let mut cmd = redis::cmd("EVALSHA");
        cmd.arg(&self.hashes[op as usize]).arg(1).arg(routing_key);
        cmd
    }
}

/// Links leased by a claim script and not handed out yet, with when.
struct Claimed {
    leases: VecDeque<(Lease, Instant)>,
}

/// How long a ranking of the owned partitions is used before every
/// partition is ticked again. Between two, a claim is one round trip: the
/// partitions it claims from report their own new bests, and a host that
/// rested in another partition waits at most this long to be seen.
const RANKING_FOR: Duration = Duration::from_millis(50);

/// Partitions one claim takes links from, in one round trip: the best
/// ready hosts of a worker are spread over its partitions, and the
/// dispatcher waits for each claim that finds no lease left from the last.
const PARTITIONS_PER_CLAIM: usize = 8;

/// The owned partitions with a ready host, best first, from the last tick
/// of them all (kept up to date by each claim's reply), and what that tick
/// said about when the rest wakes.
struct Ranking {
    ticked_at: Instant,
    /// The partitions it ranks: a change of the owned set makes it stale.
    owned: Vec<u32>,
    ready: Vec<(f64, u32)>,
    next_wake: Option<Duration>,
    busy: bool,
}

impl Ranking {
    /// The partitions of the next claim, best first, and its floor: the
    /// best ready priority of the partition after them (None when there is
    /// none).
    fn claim_choice(&self) -> (Vec<u32>, Option<f64>) {
        let partitions = self
            .ready
            .iter()
            .take(PARTITIONS_PER_CLAIM)
            .map(|&(_, p)| p)
            .collect();
        let floor = self
            .ready
            .get(PARTITIONS_PER_CLAIM)
            .map(|&(priority, _)| priority);
        (partitions, floor)
    }

    fn fresh_for(&self, owned: &[u32]) -> bool {
        self.ticked_at.elapsed() < RANKING_FOR && self.owned == owned
    }

    /// `partition` may have a ready host as good as `priority`.
    fn raise(&mut self, partition: u32, priority: f64) {
        let known = self
            .ready
            .iter()
            .find(|&&(_, p)| p == partition)
            .map(|&(best, _)| best);
        self.update(partition, Some(known.map_or(priority, |best| best.max(priority))));
    }

    /// Sets `partition`'s best ready priority (None: nothing ready there).
    fn update(&mut self, partition: u32, best: Option<f64>) {
        self.ready.retain(|&(_, p)| p != partition);
        if let Some(best) = best {
            self.ready.push((best, partition));
            self.ready.sort_by(|a, b| b.0.total_cmp(&a.0));
        }
    }
}

pub struct RedisFrontier {
    conn: ConnectionManager,
    scripts: Arc<Scripts>,
    config: RedisFrontierConfig,
    /// The partitions this worker claims from; kept by the heartbeat.
    owned: Arc<RwLock<Vec<u32>>>,
    claimed: Mutex<Claimed>,
    ranking: Mutex<Option<Ranking>>,
    /// Names each call that must not take effect twice (see `replay` in the scripts).
    requests: AtomicU64,
    /// When a worker without partitions last asked whether the crawl is over.
    last_global_check: Mutex<Instant>,
    heartbeat: Option<JoinHandle<()>>,
    /// Set once the crawl's epoch is gone from Redis (see the module).
    lost: Arc<Mutex<Option<String>>>,
}

impl RedisFrontier {
    /// Connects as a crawling worker: takes its share of partitions now and
    /// keeps them with a heartbeat. Fails if the crawl in Redis was started
    /// with another number of partitions or seen buckets.
    ///
    /// It also refuses a Redis that keeps nothing on disk (unless
    /// `allow_volatile`), and a crawl whose epoch is not the one its data
    /// directory belongs to: [`RedisFrontier::epoch`] is the one to
    /// remember.
    pub async fn worker(config: RedisFrontierConfig) -> Result<RedisFrontier> {
        let mut frontier = RedisFrontier::connect(config, true).await?;
        frontier.check_persistence().await?;
        frontier.join_epoch().await?;
        let owned = frontier.renew_partitions().await?;
        info!(worker = %frontier.config.worker_id, partitions = owned.len(), "joined the crawl");
        *frontier.owned.write().unwrap_or_else(|p| p.into_inner()) = owned;
        let heartbeat = Heartbeat {
            conn: frontier.conn.clone(),
            scripts: frontier.scripts.clone(),
            config: frontier.config.clone(),
            owned: frontier.owned.clone(),
            lost: frontier.lost.clone(),
        };
        frontier.heartbeat = Some(tokio::spawn(heartbeat.run()));
        Ok(frontier)
    }

    /// Connects without joining the crawl: to add seeds or read counts. It
    /// takes the crawl's settings from Redis.
    pub async fn client(config: RedisFrontierConfig) -> Result<RedisFrontier> {
        RedisFrontier::connect(config, false).await
    }

    async fn connect(mut config: RedisFrontierConfig, worker: bool) -> Result<RedisFrontier> {
        let client = redis::Client::open(config.url.as_str()).map_err(storage)?;
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(5)))
            .set_response_timeout(Some(Duration::from_secs(10)))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_secs(2));
        let conn = ConnectionManager::new_with_config(client, manager_config)
            .await
            .map_err(storage)?;
        let scripts = Arc::new(Scripts::new());
        load_scripts(&mut conn.clone(), &scripts).await.map_err(storage)?;
        agree_on_settings(&mut conn.clone(), &mut config, worker).await?;
        Ok(RedisFrontier {
            conn,
            scripts,
            config,
            owned: Arc::new(RwLock::new(Vec::new())),
            claimed: Mutex::new(Claimed {
                leases: VecDeque::new(),
            }),
            ranking: Mutex::new(None),
            requests: AtomicU64::new(0),
            last_global_check: Mutex::new(Instant::now()),
            heartbeat: None,
            lost: Arc::new(Mutex::new(None)),
        })
    }

    /// The epoch of the crawl this worker joined.
    pub fn epoch(&self) -> Option<&str> {
        self.config.epoch.as_deref()
    }

    fn epoch_key(&self) -> String {
        format!("{}:epoch", self.meta_tag())
    }

    /// Refuses (or, when allowed, warns about) a Redis that would come back
    /// empty from a restart: one without its append-only file. Snapshots
    /// alone are not enough either: a restart goes back to the last one.
    async fn check_persistence(&self) -> Result<()> {
        let mut conn = self.conn.clone();
        let info: String = redis::cmd("INFO")
            .arg("persistence")
            .query_async(&mut conn)
            .await
            .map_err(storage)?;
        let aof_enabled = info.lines().any(|line| line.trim() == "aof_enabled:1");
        if aof_enabled {
            return Ok(());
        }
        let message = format!(
            "Redis at {} keeps the frontier only in memory (appendonly no): a restart would empty it \
             and end the crawl. Turn on its append-only file (`redis-cli CONFIG SET appendonly yes`, \
             and `appendonly yes`, `appendfsync everysec` in redis.conf)",
            self.config.url
        );
        if self.config.allow_volatile {
            warn!("{message}; going on because --redis-allow-volatile was given");
            Ok(())
        } else {
            Err(FrontierError::Storage(format!(
                "{message}, or pass --redis-allow-volatile to crawl anyway"
            )))
        }
    }

    /// Agrees with Redis on the crawl's epoch (see the module).
    async fn join_epoch(&mut self) -> Result<()> {
        let key = self.epoch_key();
        let mut conn = self.conn.clone();
        let stored: Option<String> = redis::cmd("GET")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .map_err(storage)?;
        let prefix = &self.config.prefix;
        match (stored, self.config.epoch.clone()) {
            (None, None) => {
                // A new crawl: the first worker names it.
                let _: Value = redis::cmd("SET")
                    .arg(&key)
                    .arg(new_epoch())
                    .arg("NX")
                    .query_async(&mut conn)
                    .await
                    .map_err(storage)?;
                let epoch: String = redis::cmd("GET")
                    .arg(&key)
                    .query_async(&mut conn)
                    .await
                    .map_err(storage)?;
                info!(epoch = %epoch, prefix = %prefix, "started a new crawl in Redis");
                self.config.epoch = Some(epoch);
            }
            (None, Some(mine)) => return Err(FrontierError::Lost(lost_message(prefix, &mine, None))),
            (Some(stored), None) => self.config.epoch = Some(stored),
            (Some(stored), Some(mine)) if stored == mine => {}
            (Some(stored), Some(mine)) => {
                return Err(FrontierError::Lost(lost_message(prefix, &mine, Some(&stored))));
            }
        }
        Ok(())
    }

    /// Makes sure Redis holds a crawl that the data directory of epoch
    /// `old` may join, for `trawl rebuild`: when the epoch is gone, deletes
    /// whatever was written since (an empty Redis that workers touched
    /// before they noticed), and starts a new epoch that records `old` as
    /// rebuilt; when a rebuild of `old` already started one, joins it.
    /// Returns the epoch to write into the data directory. Refuses when the
    /// crawl is not lost (`old` is the current epoch) unless `force`.
    pub async fn rebuild_epoch(&mut self, old: Option<&str>, force: bool) -> Result<String> {
        let key = self.epoch_key();
        let rebuilt_key = format!("{}:rebuilt_from", self.meta_tag());
        let mut conn = self.conn.clone();
        let (stored, rebuilt_from): (Option<String>, Vec<String>) = redis::pipe()
            .cmd("GET")
            .arg(&key)
            .cmd("SMEMBERS")
            .arg(&rebuilt_key)
            .query_async(&mut conn)
            .await
            .map_err(storage)?;
        let epoch = match stored {
            None => {
                self.delete_all().await?;
                let epoch = new_epoch();
                let mut pipe = redis::pipe();
                pipe.cmd("SET").arg(&key).arg(&epoch).ignore();
                if let Some(old) = old {
                    pipe.cmd("SADD").arg(&rebuilt_key).arg(old).ignore();
                }
                let _: () = pipe.query_async(&mut conn).await.map_err(storage)?;
                // The settings went with the rest: write them again.
                agree_on_settings(&mut conn, &mut self.config, true).await?;
                info!(epoch = %epoch, "started a new epoch for the rebuilt frontier");
                epoch
            }
            Some(stored) if old.is_none_or(|old| rebuilt_from.iter().any(|r| r == old)) => stored,
            Some(stored) if old == Some(stored.as_str()) => {
                if !force {
                    return Err(FrontierError::Storage(format!(
                        "the crawl {:?} in Redis is this data directory's (epoch {stored}): nothing was lost. \
                         Pass --force to queue its pages again anyway",
                        self.config.prefix
                    )));
                }
                stored
            }
            Some(stored) => {
                return Err(FrontierError::Storage(format!(
                    "Redis holds another crawl under {:?} (epoch {stored}); this data directory belongs to epoch {}",
                    self.config.prefix,
                    old.unwrap_or("-")
                )));
            }
        };
        self.config.epoch = Some(epoch.clone());
        Ok(epoch)
    }

    fn check_not_lost(&self) -> Result<()> {
        match self.lost.lock().unwrap_or_else(|p| p.into_inner()).clone() {
            Some(message) => Err(FrontierError::Lost(message)),
            None => Ok(()),
        }
    }

    /// Gives this worker's partitions up at once, so the others take them
    /// now rather than after the partition lease.
    pub async fn leave(&self) -> Result<()> {
        if let Some(heartbeat) = &self.heartbeat {
            heartbeat.abort();
        }
        let meta = self.meta_tag();
        let mut cmd = self.scripts.evalsha(Op::Leave, &format!("{meta}:owners"));
        cmd.arg(meta)
            .arg(&self.config.worker_id)
            .arg(self.config.partitions);
        let _: Value = self.run(&cmd).await?;
        Ok(())
    }

    pub fn owned_partitions(&self) -> Vec<u32> {
        self.owned.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The settings this frontier works with (those of the crawl in Redis).
    pub fn config(&self) -> &RedisFrontierConfig {
        &self.config
    }

    /// Deletes every key of this crawl: for tests and for starting over.
    pub async fn delete_all(&self) -> Result<()> {
        let mut conn = self.conn.clone();
        let pattern = format!("{{{}:*", self.config.prefix);
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(&pattern)
            .query_async(&mut conn)
            .await
            .map_err(storage)?;
        for chunk in keys.chunks(500) {
            let _: () = redis::cmd("DEL")
                .arg(chunk)
                .query_async(&mut conn)
                .await
                .map_err(storage)?;
        }
        Ok(())
    }

    pub fn partition_of(&self, host: &HostKey) -> u32 {
        (xxhash_rust::xxh3::xxh3_64(host.as_str().as_bytes()) % u64::from(self.config.partitions)) as u32
    }

    fn tag(&self, partition: u32) -> String {
        format!("{{{}:{}}}", self.config.prefix, partition)
    }

    fn meta_tag(&self) -> String {
        format!("{{{}:meta}}", self.config.prefix)
    }

    /// An EVALSHA of `op` on `partition`, with the two arguments every
    /// partition script takes.
    fn partition_call(&self, op: Op, partition: u32) -> Cmd {
        let tag = self.tag(partition);
        let mut cmd = self.scripts.evalsha(op, &format!("{tag}:queued"));
        cmd.arg(tag).arg(self.config.frontier.max_in_flight_per_host);
        cmd
    }

    /// A name for one call, unique across workers and runs.
    fn request_id(&self) -> String {
        format!(
            "{}-{}",
            self.config.worker_id,
            self.requests.fetch_add(1, Ordering::Relaxed)
        )
    }

    async fn renew_partitions(&self) -> Result<Vec<u32>> {
        renew(&self.conn, &self.scripts, &self.config).await
    }

    /// Whether the crawl's epoch is still the one this worker joined;
    /// remembers a loss for every later call.
    async fn verify_epoch(&self) -> Result<()> {
        self.check_not_lost()?;
        let Some(mine) = self.config.epoch.clone() else {
            return Ok(());
        };
        let stored: Option<String> = self.run(redis::cmd("GET").arg(self.epoch_key())).await?;
        if stored.as_deref() != Some(mine.as_str()) {
            let message = lost_message(&self.config.prefix, &mine, stored.as_deref());
            *self.lost.lock().unwrap_or_else(|p| p.into_inner()) = Some(message.clone());
            return Err(FrontierError::Lost(message));
        }
        Ok(())
    }

    /// Runs `cmd` until Redis answers: connection errors are retried with
    /// back-off, forgotten scripts are loaded again.
    async fn run<T: redis::FromRedisValue>(&self, cmd: &Cmd) -> Result<T> {
        retrying(&self.conn, &self.scripts, |mut conn| {
            let cmd = cmd.clone();
            async move { cmd.query_async(&mut conn).await }
        })
        .await
    }

    async fn run_pipeline<T: redis::FromRedisValue>(&self, pipe: &Pipeline) -> Result<T> {
        retrying(&self.conn, &self.scripts, |mut conn| {
            let pipe = pipe.clone();
            async move { pipe.query_async(&mut conn).await }
        })
        .await
    }

    fn seen_entry(&self, url: &NormalizedUrl) -> (u32, i64) {
        let hash = xxhash_rust::xxh3::xxh3_64(url.as_str().as_bytes());
        // The top bits pick the bucket; the whole hash, as a signed integer
        // so Redis stores it in an intset, is the member.
        let bucket = ((hash >> 40) % u64::from(self.config.seen_buckets)) as u32;
        (bucket, hash as i64)
    }

    /// Queued and leased links of every partition, and URLs seen.
    async fn global_counts(&self) -> Result<FrontierCounts> {
        let mut pipe = redis::pipe();
        for partition in 0..self.config.partitions {
            let tag = self.tag(partition);
            pipe.cmd("GET").arg(format!("{tag}:queued"));
            pipe.cmd("ZCARD").arg(format!("{tag}:leases"));
            pipe.cmd("GET").arg(format!("{tag}:seen_count"));
            pipe.cmd("ZCARD").arg(format!("{tag}:sleeping"));
            pipe.cmd("ZCARD").arg(format!("{tag}:delayed"));
        }
        let values: Vec<Option<i64>> = self.run_pipeline(&pipe).await?;
        let mut counts = FrontierCounts::default();
        for partition in values.chunks(5) {
            counts.queued += partition[0].unwrap_or(0).max(0) as u64;
            counts.leased += partition[1].unwrap_or(0).max(0) as u64;
            counts.seen += partition[2].unwrap_or(0).max(0) as u64;
            counts.resting_hosts += partition[3].unwrap_or(0).max(0) as u64;
            counts.retrying += partition[4].unwrap_or(0).max(0) as u64;
        }
        Ok(counts)
    }

    /// Whether no partition of any worker has work: nothing queued, nothing
    /// leased (their pages may still link into ours).
    async fn crawl_is_over(&self) -> Result<bool> {
        let counts = self.global_counts().await?;
        if counts.queued == 0 && counts.leased == 0 {
            // An emptied Redis looks exactly like a finished crawl.
            self.verify_epoch().await?;
            return Ok(true);
        }
        Ok(false)
    }

    fn lease_call(&self, op: Op, lease: &Lease) -> Cmd {
        let mut cmd = self.partition_call(op, self.partition_of(&lease.host));
        cmd.arg(lease.url.as_str()).arg(lease.token);
        cmd
    }

    /// The next lease of the last claim that is still young enough to use:
    /// one claimed more than half its lease ago goes back (its host may
    /// have been released by then).
    async fn next_claimed(&self) -> Result<Option<Lease>> {
        loop {
            let next = self
                .claimed
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .leases
                .pop_front();
            let Some((lease, claimed_at)) = next else {
                return Ok(None);
            };
            if claimed_at.elapsed() < self.config.frontier.lease_duration / 2 {
                return Ok(Some(lease));
            }
            self.give_back(&lease).await?;
        }
    }

    /// Leases up to `claim_batch` links from each of `partitions`, in one
    /// round trip, each stopping below `floor` once it has leased one. Hands
    /// back the best lease and keeps the others, best first, for later
    /// claims, but those below what a partition that reached `claim_batch`
    /// still has ready: they go back to the frontier. Also returns each
    /// partition's best ready priority after the claim.
    async fn claim_from(
        &self,
        partitions: &[u32],
        floor: Option<f64>,
    ) -> Result<(Option<Lease>, Vec<(u32, Option<f64>)>)> {
        let mut pipe = redis::pipe();
        for &partition in partitions {
            let mut cmd = self.partition_call(Op::Claim, partition);
            cmd.arg(self.request_id())
                .arg(self.config.frontier.lease_duration.as_millis() as u64)
                .arg(self.config.claim_batch.max(1))
                .arg(floor.map_or(String::new(), |f| f.to_string()))
                .arg(&self.config.worker_id);
            pipe.add_command(cmd);
        }
        let replies: Vec<Vec<String>> = self.run_pipeline(&pipe).await?;
        let mut leases = Vec::new();
        let mut bests = Vec::new();
        // The best link left in a partition that leased all it was asked
        // for: no lease below it may be handed out before it is claimed.
        let mut cutoff: Option<f64> = None;
        for (&partition, reply) in partitions.iter().zip(&replies) {
            let best_after = reply.first().and_then(|best| best.parse::<f64>().ok());
            bests.push((partition, best_after));
            if reply.len().saturating_sub(1) / 4 >= self.config.claim_batch.max(1)
                && let Some(best) = best_after
            {
                cutoff = Some(cutoff.map_or(best, |cutoff| cutoff.max(best)));
            }
            for fields in reply.get(1..).unwrap_or_default().chunks_exact(4) {
                let (url, token, meta, priority) = (&fields[0], &fields[1], &fields[2], &fields[3]);
                match decode_lease(url, token, meta) {
                    Ok(mut lease) => {
                        // The queue's score is the live priority: raised by
                        // links found since the link was queued.
                        lease.priority = priority.parse().unwrap_or(lease.priority);
                        leases.push(lease);
                    }
                    Err(error) => {
                        // One bad record must not stop the claim (or the
                        // crawl): end its lease and go on.
                        warn!(%error, "dropping a corrupt frontier record");
                        let mut cmd = self.partition_call(Op::Complete, partition);
                        cmd.arg(url).arg(token);
                        let _: i64 = self.run(&cmd).await?;
                    }
                }
            }
        }
        // Every partition gave what it had above the floor, which no other
        // partition's best reaches, or all it was asked for: the leases down
        // to the cutoff are the worker's best links. The best one is handed
        // out whatever the cutoff, so that every claim makes progress.
        leases.sort_by(|a, b| b.priority.total_cmp(&a.priority));
        if let Some(cutoff) = cutoff {
            let keep = 1 + leases
                .iter()
                .skip(1)
                .take_while(|lease| lease.priority >= cutoff)
                .count();
            let below = leases.split_off(keep.min(leases.len()));
            if !below.is_empty() {
                let mut pipe = redis::pipe();
                for lease in &below {
                    pipe.add_command(self.lease_call(Op::GiveBack, lease));
                }
                let _: Vec<i64> = self.run_pipeline(&pipe).await?;
                for lease in &below {
                    let partition = self.partition_of(&lease.host);
                    match bests.iter_mut().find(|(p, _)| *p == partition) {
                        Some((_, best)) => {
                            *best = Some(best.map_or(lease.priority, |b| b.max(lease.priority)))
                        }
                        None => bests.push((partition, Some(lease.priority))),
                    }
                }
            }
        }
        let now = Instant::now();
        let mut leases = leases.into_iter();
        let first = leases.next();
        self.claimed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .leases
            .extend(leases.map(|lease| (lease, now)));
        Ok((first, bests))
    }

    /// Ticks every owned partition in one round trip and ranks those with
    /// a ready host.
    async fn rank_partitions(&self, owned: Vec<u32>) -> Result<Ranking> {
        let mut pipe = redis::pipe();
        for &partition in &owned {
            pipe.add_command(self.partition_call(Op::Tick, partition));
        }
        let ticks: Vec<(String, i64, i64, i64)> = self.run_pipeline(&pipe).await?;
        let mut ranking = Ranking {
            ticked_at: Instant::now(),
            ready: Vec::new(),
            next_wake: None,
            busy: false,
            owned,
        };
        for (&partition, (best_priority, wake_ms, queued, leases)) in ranking.owned.iter().zip(&ticks) {
            if let Ok(priority) = best_priority.parse::<f64>() {
                ranking.ready.push((priority, partition));
            }
            if *wake_ms >= 0 {
                let wake = Duration::from_millis(*wake_ms as u64);
                ranking.next_wake = Some(ranking.next_wake.map_or(wake, |w| w.min(wake)));
            }
            ranking.busy |= *queued > 0 || *leases > 0;
        }
        ranking.ready.sort_by(|a, b| b.0.total_cmp(&a.0));
        Ok(ranking)
    }

    /// Sends one script per partition the links fall in, in one pipeline.
    async fn per_partition<T: redis::FromRedisValue>(&self, commands: BTreeMap<u32, Cmd>) -> Result<Vec<T>> {
        if commands.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for cmd in commands.into_values() {
            pipe.add_command(cmd);
        }
        self.run_pipeline(&pipe).await
    }
}

impl Drop for RedisFrontier {
    fn drop(&mut self) {
        if let Some(heartbeat) = &self.heartbeat {
            heartbeat.abort();
        }
    }
}

/// The settings every process of a crawl must share live in Redis: the
/// first process to connect writes them. A worker whose partitions or seen
/// buckets differ refuses to start (it would read and write other keys);
/// other settings, and everything for a client (`trawl seed`), are taken
/// from Redis.
async fn agree_on_settings(
    conn: &mut ConnectionManager,
    config: &mut RedisFrontierConfig,
    worker: bool,
) -> Result<()> {
    let key = format!("{{{}:meta}}:settings", config.prefix);
    let limits = &config.frontier;
    let ours = [
        ("partitions", u64::from(config.partitions)),
        ("seen_buckets", u64::from(config.seen_buckets)),
        ("max_in_flight_per_host", limits.max_in_flight_per_host as u64),
        ("max_urls_per_host", limits.max_urls_per_host),
        ("max_queries_per_path", limits.max_queries_per_path),
    ];
    let mut pipe = redis::pipe();
    for (field, value) in ours {
        pipe.cmd("HSETNX").arg(&key).arg(field).arg(value).ignore();
    }
    pipe.cmd("HGETALL").arg(&key);
    let (stored,): (std::collections::HashMap<String, u64>,) =
        pipe.query_async(conn).await.map_err(storage)?;
    let get = |field: &str, ours: u64| stored.get(field).copied().unwrap_or(ours);
    for (field, value) in &ours[..2] {
        if worker && get(field, *value) != *value {
            return Err(FrontierError::Storage(format!(
                "the crawl {:?} in Redis has {field} = {}, this worker {value}: start it with the crawl's settings",
                config.prefix,
                get(field, *value)
            )));
        }
    }
    for (field, value) in &ours[2..] {
        if worker && get(field, *value) != *value {
            warn!(
                field,
                stored = get(field, *value),
                ours = value,
                "using the crawl's setting from Redis"
            );
        }
    }
    config.partitions = get("partitions", u64::from(config.partitions)) as u32;
    config.seen_buckets = get("seen_buckets", u64::from(config.seen_buckets)) as u32;
    config.frontier.max_in_flight_per_host = get("max_in_flight_per_host", ours[2].1) as usize;
    config.frontier.max_urls_per_host = get("max_urls_per_host", ours[3].1);
    config.frontier.max_queries_per_path = get("max_queries_per_path", ours[4].1);
    Ok(())
}

/// `host\tpriority\tdepth\tretries\tkind\tredirects`
fn encode_meta(
    host: &HostKey,
    priority: f64,
    depth: u32,
    retries: u32,
    kind: LinkKind,
    redirects: u8,
) -> String {
    let kind = match kind {
        LinkKind::Page => "p",
        LinkKind::Sitemap => "s",
    };
    format!("{host}\t{priority}\t{depth}\t{retries}\t{kind}\t{redirects}")
}

fn decode_lease(url: &str, token: &str, meta: &str) -> Result<Lease> {
    let corrupt = |reason: &str| FrontierError::Corrupt {
        url: url.to_string(),
        reason: reason.to_string(),
    };
    let fields: Vec<&str> = meta.split('\t').collect();
    let [host, priority, depth, retries, kind, redirects] = fields[..] else {
        return Err(corrupt("wrong number of fields"));
    };
    let url = NormalizedUrl::parse(url).map_err(|e| corrupt(&e.to_string()))?;
    if url.host_key().as_str() != host {
        return Err(corrupt("host does not match the URL"));
    }
    Ok(Lease {
        host: url.host_key(),
        url,
        depth: depth.parse().map_err(|_| corrupt("depth"))?,
        priority: priority.parse().map_err(|_| corrupt("priority"))?,
        retries: retries.parse().map_err(|_| corrupt("retries"))?,
        kind: if kind == "s" {
            LinkKind::Sitemap
        } else {
            LinkKind::Page
        },
        redirects: redirects.parse().map_err(|_| corrupt("redirects"))?,
        token: token.parse().map_err(|_| corrupt("token"))?,
    })
}

#[async_trait::async_trait]
impl Frontier for RedisFrontier {
    async fn add(&self, links: Vec<NewLink>) -> Result<AddReport> {
        let mut unique = HashSet::new();
        let mut by_partition: BTreeMap<u32, Cmd> = BTreeMap::new();
        let mut best_added: BTreeMap<u32, f64> = BTreeMap::new();
        for link in links.iter().filter(|link| unique.insert(&link.url)) {
            let host = link.url.host_key();
            let partition = self.partition_of(&host);
            let best = best_added.entry(partition).or_insert(link.priority);
            *best = best.max(link.priority);
            let cmd = by_partition.entry(partition).or_insert_with(|| {
                let mut cmd = self.partition_call(Op::Add, partition);
                let limits = &self.config.frontier;
                cmd.arg(self.request_id())
                    .arg(limits.max_urls_per_host)
                    .arg(limits.max_queries_per_path);
                cmd
            });
            let (bucket, hash) = self.seen_entry(&link.url);
            let path_key = match link.url.as_url().query() {
                Some(_) => format!("{host}{}", link.url.as_url().path()),
                None => String::new(),
            };
            let meta = encode_meta(&host, link.priority, link.depth, 0, link.kind, link.redirects);
            cmd.arg(link.url.as_str())
                .arg(bucket)
                .arg(hash)
                .arg(host.as_str())
                .arg(path_key)
                .arg(link.priority)
                .arg(meta)
                .arg(
                    link.host_budget
                        .map_or(String::new(), |budget| budget.to_string()),
                )
                .arg(
                    link.host_in_flight
                        .map_or(String::new(), |limit| limit.to_string()),
                );
        }
        let mut report = AddReport::default();
        let replies = self.per_partition::<(usize, usize, usize)>(by_partition).await?;
        let mut ranking = self.ranking.lock().unwrap_or_else(|p| p.into_inner());
        for ((partition, best), (added, over_budget, too_many)) in best_added.into_iter().zip(replies) {
            report.added += added;
            report.over_host_budget += over_budget;
            report.too_many_queries += too_many;
            // A partition that queued links may have a ready host now: the
            // ranking learns it without a tick (a guess at worst, which the
            // claim from it corrects).
            if added > 0
                && let Some(ranking) = ranking.as_mut()
            {
                ranking.raise(partition, best);
            }
        }
        Ok(report)
    }

    async fn mark_seen(&self, urls: Vec<NormalizedUrl>) -> Result<usize> {
        let mut by_partition: BTreeMap<u32, Cmd> = BTreeMap::new();
        for url in &urls {
            let partition = self.partition_of(&url.host_key());
            let cmd = by_partition.entry(partition).or_insert_with(|| {
                let mut cmd = self.partition_call(Op::MarkSeen, partition);
                cmd.arg(self.request_id());
                cmd
            });
            let (bucket, hash) = self.seen_entry(url);
            cmd.arg(bucket).arg(hash);
        }
        let replies: Vec<(usize,)> = self.per_partition(by_partition).await?;
        Ok(replies.into_iter().map(|(new,)| new).sum())
    }

    async fn claim(&self) -> Result<Claim> {
        self.check_not_lost()?;
        if let Some(lease) = self.next_claimed().await? {
            return Ok(Claim::Leased(lease));
        }
        let owned = self.owned_partitions();
        if owned.is_empty() {
            // Every partition is held by other workers: idle until the
            // heartbeat gives this one a share, asking now and then whether
            // the crawl is over.
            let due = {
                let mut last = self.last_global_check.lock().unwrap_or_else(|p| p.into_inner());
                let due = last.elapsed() >= Duration::from_secs(1);
                if due {
                    *last = Instant::now();
                }
                due
            };
            if due && self.crawl_is_over().await? {
                return Ok(Claim::Empty);
            }
            return Ok(Claim::Wait(Duration::from_millis(500)));
        }
        // Claim from the partitions whose best ready hosts rank highest, down
        // to the next one's, by the ranking of the last tick of them all
        // (ticked again every RANKING_FOR, or when it has nothing ready).
        let cached = {
            let ranking = self.ranking.lock().unwrap_or_else(|p| p.into_inner());
            ranking
                .as_ref()
                .filter(|r| r.fresh_for(&owned) && !r.ready.is_empty())
                .map(Ranking::claim_choice)
        };
        let (partitions, floor) = match cached {
            Some(choice) => choice,
            None => {
                let ranking = self.rank_partitions(owned).await?;
                let choice = (!ranking.ready.is_empty()).then(|| ranking.claim_choice());
                let (busy, next_wake) = (ranking.busy, ranking.next_wake);
                *self.ranking.lock().unwrap_or_else(|p| p.into_inner()) = Some(ranking);
                match choice {
                    Some(choice) => choice,
                    None => {
                        if !busy && self.crawl_is_over().await? {
                            return Ok(Claim::Empty);
                        }
                        return Ok(Claim::Wait(next_wake.unwrap_or(Duration::from_millis(500))));
                    }
                }
            }
        };
        let (lease, bests) = self.claim_from(&partitions, floor).await?;
        if let Some(ranking) = self.ranking.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
            for (partition, best_after) in bests {
                ranking.update(partition, best_after);
            }
        }
        Ok(lease.map_or(Claim::Wait(Duration::ZERO), Claim::Leased))
    }

    async fn release_host(&self, lease: &Lease, delay: Duration) -> Result<()> {
        let mut cmd = self.lease_call(Op::ReleaseHost, lease);
        cmd.arg(delay.as_millis() as u64);
        let _: i64 = self.run(&cmd).await?;
        Ok(())
    }

    async fn complete(&self, lease: &Lease) -> Result<()> {
        let _: i64 = self.run(&self.lease_call(Op::Complete, lease)).await?;
        Ok(())
    }

    async fn retry(&self, lease: &Lease, delay: Duration) -> Result<RetryDecision> {
        if lease.retries >= self.config.frontier.max_retries {
            return Ok(RetryDecision::GaveUp);
        }
        let meta = encode_meta(
            &lease.host,
            lease.priority / 2.0,
            lease.depth,
            lease.retries + 1,
            lease.kind,
            lease.redirects,
        );
        let mut cmd = self.lease_call(Op::Retry, lease);
        cmd.arg(delay.as_millis() as u64).arg(meta);
        let _: i64 = self.run(&cmd).await?;
        Ok(RetryDecision::Requeued)
    }

    async fn give_back(&self, lease: &Lease) -> Result<()> {
        let _: i64 = self.run(&self.lease_call(Op::GiveBack, lease)).await?;
        Ok(())
    }

    async fn revisit(&self, links: Vec<NewLink>) -> Result<usize> {
        let mut unique = HashSet::new();
        let mut by_partition: BTreeMap<u32, Cmd> = BTreeMap::new();
        let mut best_added: BTreeMap<u32, f64> = BTreeMap::new();
        for link in links.iter().filter(|link| unique.insert(&link.url)) {
            let host = link.url.host_key();
            let partition = self.partition_of(&host);
            let best = best_added.entry(partition).or_insert(link.priority);
            *best = best.max(link.priority);
            let cmd = by_partition.entry(partition).or_insert_with(|| {
                let mut cmd = self.partition_call(Op::Revisit, partition);
                cmd.arg(self.request_id());
                cmd
            });
            let (bucket, hash) = self.seen_entry(&link.url);
            let meta = encode_meta(&host, link.priority, link.depth, 0, link.kind, link.redirects);
            cmd.arg(link.url.as_str())
                .arg(bucket)
                .arg(hash)
                .arg(host.as_str())
                .arg(link.priority)
                .arg(meta);
        }
        let replies: Vec<(usize,)> = self.per_partition(by_partition).await?;
        Ok(replies.into_iter().map(|(queued,)| queued).sum())
    }

    fn partition_of(&self, host: &HostKey) -> u32 {
        RedisFrontier::partition_of(self, host)
    }

    async fn counts(&self) -> Result<FrontierCounts> {
        self.global_counts().await
    }

    async fn close(&self) -> Result<()> {
        // Links claimed but never handed out go back at once.
        let unused: Vec<Lease> = self
            .claimed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .leases
            .drain(..)
            .map(|(lease, _)| lease)
            .collect();
        for lease in &unused {
            self.give_back(lease).await?;
        }
        if self.config.epoch.is_some() {
            // A crawl must not end as if it had finished when its frontier
            // vanished under it.
            self.verify_epoch().await?;
        }
        self.leave().await
    }
}

/// Keeps this worker's partitions: renews them every third of the
/// partition lease.
struct Heartbeat {
    conn: ConnectionManager,
    scripts: Arc<Scripts>,
    config: RedisFrontierConfig,
    owned: Arc<RwLock<Vec<u32>>>,
    lost: Arc<Mutex<Option<String>>>,
}

impl Heartbeat {
    async fn run(self) {
        let mut ticker = tokio::time::interval(self.config.partition_lease / 3);
        ticker.tick().await;
        loop {
            ticker.tick().await;
            match renew(&self.conn, &self.scripts, &self.config).await {
                Ok(owned) => {
                    let mut current = self.owned.write().unwrap_or_else(|p| p.into_inner());
                    if *current != owned {
                        info!(worker = %self.config.worker_id, partitions = owned.len(), "partition share changed");
                        *current = owned;
                    }
                }
                Err(FrontierError::Lost(_)) => {
                    let epoch = self.config.epoch.as_deref().unwrap_or("-");
                    let message = lost_message(&self.config.prefix, epoch, None);
                    tracing::error!(%message, "the frontier is gone from Redis");
                    *self.lost.lock().unwrap_or_else(|p| p.into_inner()) = Some(message);
                    // Claim from nothing: the next claim reports the loss.
                    self.owned.write().unwrap_or_else(|p| p.into_inner()).clear();
                    return;
                }
                Err(error) => warn!(%error, "partition heartbeat failed"),
            }
        }
    }
}

async fn renew(
    conn: &ConnectionManager,
    scripts: &Scripts,
    config: &RedisFrontierConfig,
) -> Result<Vec<u32>> {
    let meta = format!("{{{}:meta}}", config.prefix);
    let mut cmd = scripts.evalsha(Op::Partitions, &format!("{meta}:owners"));
    cmd.arg(meta)
        .arg(&config.worker_id)
        .arg(config.partition_lease.as_millis() as u64)
        .arg(config.partitions)
        .arg(config.epoch.as_deref().unwrap_or(""));
    retrying(conn, scripts, |mut conn| {
        let cmd = cmd.clone();
        async move { cmd.query_async(&mut conn).await }
    })
    .await
}

async fn load_scripts(conn: &mut ConnectionManager, scripts: &Scripts) -> redis::RedisResult<()> {
    for source in &scripts.sources {
        let _: String = redis::cmd("SCRIPT")
            .arg("LOAD")
            .arg(source)
            .query_async(conn)
            .await?;
    }
    Ok(())
}

/// Runs `call` until Redis answers. Connection errors and a busy or
/// failing-over server are retried with back-off for as long as it takes
/// (the crawl waits; nothing is dropped); NOSCRIPT (a restarted Redis) loads
/// the scripts again. Every script is safe to run twice.
async fn retrying<T, F, Fut>(conn: &ConnectionManager, scripts: &Scripts, call: F) -> Result<T>
where
    F: Fn(ConnectionManager) -> Fut,
    Fut: std::future::Future<Output = redis::RedisResult<T>>,
{
    let mut backoff = Duration::from_millis(50);
    let mut attempts = 0u32;
    loop {
        // A clone shares the one underlying connection; each attempt owns one.
        let error = match call(conn.clone()).await {
            Ok(value) => return Ok(value),
            Err(error) => error,
        };
        attempts += 1;
        if error.kind() == ErrorKind::Server(ServerErrorKind::NoScript) {
            warn!(
                attempts,
                "Redis lost the frontier scripts (restarted?); loading them again"
            );
            if let Err(error) = load_scripts(&mut conn.clone(), scripts).await {
                warn!(%error, "loading the scripts failed");
            }
        } else if is_transient(&error) {
            if attempts == 1 || attempts.is_power_of_two() {
                warn!(%error, attempts, retry_in_ms = backoff.as_millis() as u64, "Redis unavailable; retrying");
            }
        } else {
            return Err(storage(error));
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

fn is_transient(error: &RedisError) -> bool {
    error.is_io_error()
        || error.is_connection_dropped()
        || error.is_connection_refusal()
        || error.is_timeout()
        // A script of another client running long: ours did not run.
        || error.code() == Some("BUSY")
        || matches!(
            error.kind(),
            ErrorKind::Server(
                ServerErrorKind::BusyLoading
                    | ServerErrorKind::TryAgain
                    | ServerErrorKind::MasterDown
                    | ServerErrorKind::ReadOnly
                    | ServerErrorKind::ClusterDown
            )
        )
}

/// What a worker says when the crawl it joined (`mine`) is not in Redis:
/// what happened, and how to go on.
fn lost_message(prefix: &str, mine: &str, stored: Option<&str>) -> String {
    let what = match stored {
        None => format!(
            "the frontier of crawl {prefix:?} is gone from Redis (it restarted without persistence, or \
             its keys were deleted)"
        ),
        Some(other) => format!("Redis holds another crawl under {prefix:?} (epoch {other})"),
    };
    format!(
        "{what}; this worker's data directory belongs to epoch {mine}. Nothing is crawled until the \
         frontier is rebuilt: run `trawl rebuild --redis URL --redis-prefix {prefix} --data-dir DIR \
         --seed URL...` once for each worker's data directory, then start the workers again"
    )
}

fn storage(error: RedisError) -> FrontierError {
    if error.to_string().contains("TRAWL_EPOCH") {
        return FrontierError::Lost(error.to_string());
    }
    FrontierError::Storage(error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frontier::conformance::{test_redis_url, unique_prefix};

    async fn worker(prefix: &str, tweak: impl FnOnce(&mut RedisFrontierConfig)) -> Result<RedisFrontier> {
        let mut config = RedisFrontierConfig::new(&test_redis_url());
        config.prefix = prefix.to_string();
        config.allow_volatile = true;
        tweak(&mut config);
        RedisFrontier::worker(config).await
    }

    fn page(url: &str, priority: f64) -> NewLink {
        NewLink::page(NormalizedUrl::parse(url).unwrap(), 1, priority)
    }

    fn host_partition(frontier: &RedisFrontier, name: &str) -> u32 {
        frontier.partition_of(
            &NormalizedUrl::parse(&format!("http://{name}/"))
                .unwrap()
                .host_key(),
        )
    }

    /// Three host names: the first two in one partition, the third in another.
    fn hosts_in_partitions(frontier: &RedisFrontier) -> (String, String, String) {
        let names: Vec<String> = (0..1000).map(|i| format!("h{i}.test")).collect();
        let first = host_partition(frontier, &names[0]);
        let same = names[1..]
            .iter()
            .find(|n| host_partition(frontier, n) == first)
            .unwrap();
        let other = names[1..]
            .iter()
            .find(|n| host_partition(frontier, n) != first)
            .unwrap();
        (names[0].clone(), same.clone(), other.clone())
    }

    // A claim batch must not run past a better link in another partition.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_batch_stops_at_a_better_host_elsewhere() {
        let prefix = unique_prefix("floor");
        let frontier = worker(&prefix, |_| {}).await.unwrap();
        let (a, b, c) = hosts_in_partitions(&frontier);
        let links = vec![
            page(&format!("http://{a}/1"), 0.9),
            page(&format!("http://{b}/1"), 0.1),
            page(&format!("http://{c}/1"), 0.5),
        ];
        frontier.add(links).await.unwrap();
        let mut order = Vec::new();
        for _ in 0..3 {
            match frontier.claim().await.unwrap() {
                Claim::Leased(lease) => order.push(lease.priority),
                other => panic!("{other:?}"),
            }
        }
        frontier.delete_all().await.unwrap();
        assert_eq!(order, [0.9, 0.5, 0.1]);
    }

    // Every script may run twice when a call is retried after a dropped
    // connection: claim, add and mark-seen answer with their first reply.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_retried_call_takes_effect_once() {
        let prefix = unique_prefix("replay");
        let frontier = worker(&prefix, |_| {}).await.unwrap();
        let url = NormalizedUrl::parse("http://a.test/x").unwrap();
        let partition = frontier.partition_of(&url.host_key());

        let (bucket, hash) = frontier.seen_entry(&url);
        let meta = encode_meta(&url.host_key(), 0.5, 1, 0, LinkKind::Page, 0);
        let mut add = frontier.partition_call(Op::Add, partition);
        add.arg("same-id").arg(100).arg(100);
        add.arg(url.as_str())
            .arg(bucket)
            .arg(hash)
            .arg(url.host_key().as_str())
            .arg("")
            .arg(0.5)
            .arg(meta)
            .arg("")
            .arg("");
        let first: (usize, usize, usize) = frontier.run(&add).await.unwrap();
        let again: (usize, usize, usize) = frontier.run(&add).await.unwrap();
        assert_eq!(
            (first, again),
            ((1, 0, 0), (1, 0, 0)),
            "the same report, and no boost of its own link"
        );

        let mut claim = frontier.partition_call(Op::Claim, partition);
        claim.arg("claim-id").arg(60_000).arg(16).arg("").arg("worker");
        let first: Vec<String> = frontier.run(&claim).await.unwrap();
        let again: Vec<String> = frontier.run(&claim).await.unwrap();
        // The partition's best after the claim (none ready), then one lease.
        assert_eq!(first.len(), 5);
        assert_eq!(first[0], "");
        assert_eq!(first, again, "the same lease, not a second one");
        assert_eq!(frontier.counts().await.unwrap().leased, 1);
        let lease = decode_lease(&first[1], &first[2], &first[3]).unwrap();
        assert!((lease.priority - 0.5).abs() < 1e-9, "no boost from the replay");

        let mut seen = frontier.partition_call(Op::MarkSeen, partition);
        seen.arg("seen-id").arg(bucket).arg(hash.wrapping_add(1));
        let first: (usize,) = frontier.run(&seen).await.unwrap();
        let again: (usize,) = frontier.run(&seen).await.unwrap();
        assert_eq!((first, again), ((1,), (1,)));
        frontier.delete_all().await.unwrap();
    }

    // Settings that decide which keys are used are the crawl's, in Redis.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_worker_with_other_settings_is_refused_and_a_client_adopts_them() {
        let prefix = unique_prefix("settings");
        let first = worker(&prefix, |c| c.frontier.max_urls_per_host = 7)
            .await
            .unwrap();
        let error = worker(&prefix, |c| c.partitions = 32)
            .await
            .err()
            .expect("refused");
        assert!(error.to_string().contains("partitions"), "{error}");
        let mut config = RedisFrontierConfig::new(&test_redis_url());
        config.prefix = prefix.clone();
        config.partitions = 8;
        let client = RedisFrontier::client(config).await.unwrap();
        assert_eq!(
            client.config().partitions,
            64,
            "trawl seed writes where the workers read"
        );
        assert_eq!(client.config().frontier.max_urls_per_host, 7);
        first.delete_all().await.unwrap();
    }

    // One corrupt record must not stop a claim, nor the crawl.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_corrupt_record_is_dropped_and_the_claim_goes_on() {
        let prefix = unique_prefix("corrupt");
        let frontier = worker(&prefix, |c| c.frontier.max_in_flight_per_host = 2)
            .await
            .unwrap();
        frontier
            .add(vec![
                page("http://a.test/good", 0.5),
                page("http://a.test/bad", 0.9),
            ])
            .await
            .unwrap();
        let partition = host_partition(&frontier, "a.test");
        let mut conn = frontier.conn.clone();
        let _: () = redis::cmd("HSET")
            .arg(format!("{}:meta", frontier.tag(partition)))
            .arg("http://a.test/bad")
            .arg("garbage")
            .query_async(&mut conn)
            .await
            .unwrap();
        let mut leased = Vec::new();
        for _ in 0..5 {
            if let Claim::Leased(lease) = frontier.claim().await.unwrap() {
                leased.push(lease.url.to_string());
            }
        }
        assert_eq!(leased, ["http://a.test/good"]);
        assert_eq!(
            frontier.counts().await.unwrap().leased,
            1,
            "the bad record's lease was ended"
        );
        frontier.delete_all().await.unwrap();
    }

    // The lease table names the worker holding each lease.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn leases_record_their_worker() {
        let prefix = unique_prefix("holder");
        let frontier = worker(&prefix, |c| c.worker_id = "worker-7".into())
            .await
            .unwrap();
        frontier.add(vec![page("http://a.test/x", 0.5)]).await.unwrap();
        let Claim::Leased(lease) = frontier.claim().await.unwrap() else {
            panic!("a lease")
        };
        let mut conn = frontier.conn.clone();
        let state: String = redis::cmd("HGET")
            .arg(format!(
                "{}:leased",
                frontier.tag(frontier.partition_of(&lease.host))
            ))
            .arg(lease.url.as_str())
            .query_async(&mut conn)
            .await
            .unwrap();
        assert_eq!(state, format!("{}\t0\ta.test\tworker-7", lease.token));
        frontier.release_host(&lease, Duration::ZERO).await.unwrap();
        frontier.complete(&lease).await.unwrap();
        frontier.delete_all().await.unwrap();
    }
}
