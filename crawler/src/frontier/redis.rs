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
//! The seen-filter stores the 64-bit xxh3 hash of each URL, as an integer,
//! in sets of a few hundred members; Redis keeps sets of integers that small
//! as compact intsets: 9.6 bytes a URL at 10 million URLs, against 84 for
//! one plain set (BENCHMARKS.md has the measurement). A new URL is taken for
//! a seen one only if its hash collides with one of the n seen: n / 2^64, or
//! 5e-13 at 10 million; over a whole crawl of 10 million, the odds that any
//! URL is lost that way are about 3 in a million.

use std::sync::{Arc, RwLock};
use std::time::Duration;

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

/// Leases up to ARGV[4] links, best ready host first; a host with free
/// slots stays ready and may give more than one. Returns 4 values a lease.
const CLAIM: &str = r#"
tick()
local leased = {}
for _ = 1, tonumber(ARGV[4]) do
  local top = redis.call('ZPOPMAX', key('ready'))
  if #top == 0 then
    break
  end
  local host = top[1]
  local popped = redis.call('ZPOPMAX', links_key(host))
  if #popped > 0 then
    local url, priority = popped[1], popped[2]
    local token = redis.call('INCR', key('lease_seq'))
    redis.call('HINCRBY', key('inflight'), host, 1)
    redis.call('ZADD', key('leases'), now + tonumber(ARGV[3]), url)
    redis.call('HSET', key('leased'), url, token .. ':0')
    redis.call('DECR', key('queued'))
    for _, value in ipairs({ url, tostring(token), redis.call('HGET', key('meta'), url), priority }) do
      table.insert(leased, value)
    end
  end
  schedule(host)
end
return leased
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

/// ARGV[3], ARGV[4]: host budget, query cap; then 7 values per link.
const ADD: &str = r#"
local max_urls, max_queries = tonumber(ARGV[3]), tonumber(ARGV[4])
local added, over_budget, too_many = 0, 0, 0
local touched, raised = {}, {}
for i = 5, #ARGV, 7 do
  local url, bucket, value, host, path_key, priority, meta =
    ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5], ARGV[i + 6]
  if redis.call('SADD', key('seen:' .. bucket), value) == 0 then
    -- Found on one more page: a waiting link gains a tenth of the priority
    -- it was found with, up to 1.0 (the embedded frontier's inlink_boost).
    local score = redis.call('ZSCORE', links_key(host), url)
    if score and not raised[url] then
      raised[url] = true
      local boosted = math.min(tonumber(score) + tonumber(priority) / 10, 1.0)
      if boosted > tonumber(score) then
        redis.call('ZADD', links_key(host), boosted, url)
        touched[host] = true
      end
    end
  else
    redis.call('INCR', key('seen_count'))
    if tonumber(redis.call('HGET', key('host_urls'), host) or '0') >= max_urls then
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
return { added, over_budget, too_many }
"#;

/// Pairs of (bucket, hash) after ARGV[2].
const MARK_SEEN: &str = r#"
local new = 0
for i = 3, #ARGV, 2 do
  if redis.call('SADD', key('seen:' .. ARGV[i]), ARGV[i + 1]) == 1 then
    redis.call('INCR', key('seen_count'))
    new = new + 1
  end
end
return new
"#;

/// Registers the worker, renews its partitions, takes free ones up to its
/// fair share and gives up those above it. ARGV: tag, worker, lease ms,
/// partitions. Not built on the prelude: it works on the meta tag.
const PARTITIONS: &str = r#"
local tag, me, lease_ms, partitions = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
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
    /// Links leased per claim script; the worker hands them out one by one.
    /// One pass over the owned partitions then serves this many claims.
    pub claim_batch: usize,
    pub frontier: FrontierConfig,
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
        }
    }
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
            PARTITIONS.to_string(),
            LEAVE.to_string(),
        ];
        let hashes = sources
            .iter()
            .map(|s| redis::Script::new(s).get_hash().to_string())
            .collect();
        Scripts { sources, hashes }
    }

    fn evalsha(&self, op: Op) -> Cmd {
        let mut cmd = redis::cmd("EVALSHA");
        cmd.arg(&self.hashes[op as usize]).arg(0);
        cmd
    }
}

pub struct RedisFrontier {
    conn: ConnectionManager,
    scripts: Arc<Scripts>,
    config: RedisFrontierConfig,
    /// The partitions this worker claims from; kept by the heartbeat.
    owned: Arc<RwLock<Vec<u32>>>,
    /// Links leased by the last claim script and not handed out yet.
    claimed: std::sync::Mutex<std::collections::VecDeque<Lease>>,
    heartbeat: Option<JoinHandle<()>>,
}

impl RedisFrontier {
    /// Connects as a crawling worker: takes its share of partitions now and
    /// keeps them with a heartbeat.
    pub async fn worker(config: RedisFrontierConfig) -> Result<RedisFrontier> {
        let mut frontier = RedisFrontier::client(config).await?;
        let owned = frontier.renew_partitions().await?;
        info!(worker = %frontier.config.worker_id, partitions = owned.len(), "joined the crawl");
        *frontier.owned.write().unwrap_or_else(|p| p.into_inner()) = owned;
        let heartbeat = Heartbeat {
            conn: frontier.conn.clone(),
            scripts: frontier.scripts.clone(),
            config: frontier.config.clone(),
            owned: frontier.owned.clone(),
        };
        frontier.heartbeat = Some(tokio::spawn(heartbeat.run()));
        Ok(frontier)
    }

    /// Connects without joining the crawl: to add seeds or read counts.
    pub async fn client(config: RedisFrontierConfig) -> Result<RedisFrontier> {
        let client = redis::Client::open(config.url.as_str()).map_err(storage)?;
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(5)))
            .set_response_timeout(Some(Duration::from_secs(10)))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_secs(2));
        let conn = ConnectionManager::new_with_config(client, manager_config)
            .await
            .map_err(storage)?;
        let frontier = RedisFrontier {
            conn,
            scripts: Arc::new(Scripts::new()),
            config,
            owned: Arc::new(RwLock::new(Vec::new())),
            claimed: std::sync::Mutex::new(std::collections::VecDeque::new()),
            heartbeat: None,
        };
        load_scripts(&mut frontier.conn.clone(), &frontier.scripts)
            .await
            .map_err(storage)?;
        Ok(frontier)
    }

    /// Gives this worker's partitions up at once, so the others take them
    /// now rather than after the partition lease.
    pub async fn leave(&self) -> Result<()> {
        if let Some(heartbeat) = &self.heartbeat {
            heartbeat.abort();
        }
        let mut cmd = self.scripts.evalsha(Op::Leave);
        cmd.arg(self.meta_tag())
            .arg(&self.config.worker_id)
            .arg(self.config.partitions);
        let _: Value = self.run(&cmd).await?;
        Ok(())
    }

    pub fn owned_partitions(&self) -> Vec<u32> {
        self.owned.read().unwrap_or_else(|p| p.into_inner()).clone()
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
        let mut cmd = self.scripts.evalsha(op);
        cmd.arg(self.tag(partition))
            .arg(self.config.frontier.max_in_flight_per_host);
        cmd
    }

    async fn renew_partitions(&self) -> Result<Vec<u32>> {
        renew(&self.conn, &self.scripts, &self.config).await
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
        }
        let values: Vec<Option<i64>> = self.run_pipeline(&pipe).await?;
        let mut counts = FrontierCounts::default();
        for triple in values.chunks(3) {
            counts.queued += triple[0].unwrap_or(0).max(0) as u64;
            counts.leased += triple[1].unwrap_or(0).max(0) as u64;
            counts.seen += triple[2].unwrap_or(0).max(0) as u64;
        }
        Ok(counts)
    }

    fn lease_call(&self, op: Op, lease: &Lease) -> Cmd {
        let mut cmd = self.partition_call(op, self.partition_of(&lease.host));
        cmd.arg(lease.url.as_str()).arg(lease.token);
        cmd
    }
}

impl Drop for RedisFrontier {
    fn drop(&mut self) {
        if let Some(heartbeat) = &self.heartbeat {
            heartbeat.abort();
        }
    }
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
        let mut by_partition: std::collections::BTreeMap<u32, Cmd> = std::collections::BTreeMap::new();
        for link in &links {
            let host = link.url.host_key();
            let partition = self.partition_of(&host);
            let cmd = by_partition.entry(partition).or_insert_with(|| {
                let mut cmd = self.partition_call(Op::Add, partition);
                let limits = &self.config.frontier;
                cmd.arg(limits.max_urls_per_host).arg(limits.max_queries_per_path);
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
                .arg(meta);
        }
        let mut report = AddReport::default();
        for cmd in by_partition.values() {
            let (added, over_budget, too_many): (usize, usize, usize) = self.run(cmd).await?;
            report.added += added;
            report.over_host_budget += over_budget;
            report.too_many_queries += too_many;
        }
        Ok(report)
    }

    async fn mark_seen(&self, urls: Vec<NormalizedUrl>) -> Result<usize> {
        let mut by_partition: std::collections::BTreeMap<u32, Cmd> = std::collections::BTreeMap::new();
        for url in &urls {
            let partition = self.partition_of(&url.host_key());
            let cmd = by_partition
                .entry(partition)
                .or_insert_with(|| self.partition_call(Op::MarkSeen, partition));
            let (bucket, hash) = self.seen_entry(url);
            cmd.arg(bucket).arg(hash);
        }
        let mut new = 0;
        for cmd in by_partition.values() {
            new += self.run::<usize>(cmd).await?;
        }
        Ok(new)
    }

    async fn claim(&self) -> Result<Claim> {
        if let Some(lease) = self.claimed.lock().unwrap_or_else(|p| p.into_inner()).pop_front() {
            return Ok(Claim::Leased(lease));
        }
        let owned = self.owned_partitions();
        if owned.is_empty() {
            // Every partition is held by other workers: idle until the
            // heartbeat gives this one a share.
            return Ok(Claim::Wait(Duration::from_millis(500)));
        }
        // Tick every owned partition in one round trip and claim from the
        // one whose best ready host ranks highest.
        let mut pipe = redis::pipe();
        for &partition in &owned {
            pipe.add_command(self.partition_call(Op::Tick, partition));
        }
        let ticks: Vec<(String, i64, i64, i64)> = self.run_pipeline(&pipe).await?;
        let mut best: Option<(f64, u32)> = None;
        let mut next_wake: Option<i64> = None;
        let mut busy = false;
        for (&partition, (best_priority, wake_ms, queued, leases)) in owned.iter().zip(&ticks) {
            if let Ok(priority) = best_priority.parse::<f64>()
                && best.is_none_or(|(b, _)| priority > b)
            {
                best = Some((priority, partition));
            }
            if *wake_ms >= 0 {
                next_wake = Some(next_wake.map_or(*wake_ms, |w| w.min(*wake_ms)));
            }
            busy |= *queued > 0 || *leases > 0;
        }
        if let Some((_, partition)) = best {
            let mut cmd = self.partition_call(Op::Claim, partition);
            cmd.arg(self.config.frontier.lease_duration.as_millis() as u64)
                .arg(self.config.claim_batch.max(1));
            let reply: Vec<String> = self.run(&cmd).await?;
            let mut leases = std::collections::VecDeque::new();
            for lease in reply.chunks_exact(4) {
                let mut decoded = decode_lease(&lease[0], &lease[1], &lease[2])?;
                // The queue's score is the live priority: raised by links
                // found since the link was queued.
                decoded.priority = lease[3].parse().unwrap_or(decoded.priority);
                leases.push_back(decoded);
            }
            let first = leases.pop_front();
            self.claimed
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend(leases);
            return Ok(first.map_or(Claim::Wait(Duration::ZERO), Claim::Leased));
        }
        if !busy {
            // Nothing here; the crawl is over only if no partition of any
            // worker has work (their pages may still link into ours).
            let counts = self.global_counts().await?;
            if counts.queued == 0 && counts.leased == 0 {
                return Ok(Claim::Empty);
            }
        }
        let wait = next_wake.map_or(Duration::from_millis(500), |ms| Duration::from_millis(ms as u64));
        Ok(Claim::Wait(wait))
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

    async fn counts(&self) -> Result<FrontierCounts> {
        self.global_counts().await
    }

    async fn close(&self) -> Result<()> {
        // Links claimed but never handed out go back at once.
        let unused: Vec<Lease> = self
            .claimed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
            .collect();
        for lease in &unused {
            self.give_back(lease).await?;
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
    let mut cmd = scripts.evalsha(Op::Partitions);
    cmd.arg(format!("{{{}:meta}}", config.prefix))
        .arg(&config.worker_id)
        .arg(config.partition_lease.as_millis() as u64)
        .arg(config.partitions);
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

/// Runs `call` until Redis answers. Connection errors are retried with
/// back-off for as long as it takes (the crawl waits; nothing is dropped);
/// NOSCRIPT (a restarted Redis) loads the scripts again.
async fn retrying<T, F, Fut>(conn: &ConnectionManager, scripts: &Scripts, call: F) -> Result<T>
where
    F: Fn(ConnectionManager) -> Fut,
    Fut: std::future::Future<Output = redis::RedisResult<T>>,
{
    let mut backoff = Duration::from_millis(50);
    let mut attempts = 0u32;
    loop {
        // A clone shares the one underlying connection; each attempt owns one.
        match call(conn.clone()).await {
            Ok(value) => return Ok(value),
            Err(error) if error.kind() == ErrorKind::Server(ServerErrorKind::NoScript) => {
                warn!("Redis lost the frontier scripts (restarted?); loading them again");
                if let Err(error) = load_scripts(&mut conn.clone(), scripts).await {
                    warn!(%error, "loading the scripts failed");
                    tokio::time::sleep(backoff).await;
                }
            }
            Err(error) if is_transient(&error) => {
                attempts += 1;
                if attempts == 1 || attempts.is_power_of_two() {
                    warn!(%error, attempts, retry_in_ms = backoff.as_millis() as u64, "Redis unavailable; retrying");
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
            Err(error) => return Err(storage(error)),
        }
    }
}

fn is_transient(error: &RedisError) -> bool {
    error.is_io_error()
        || error.is_connection_dropped()
        || error.is_connection_refusal()
        || error.is_timeout()
        || matches!(
            error.kind(),
            ErrorKind::Server(ServerErrorKind::BusyLoading | ServerErrorKind::TryAgain)
        )
}

fn storage(error: RedisError) -> FrontierError {
    FrontierError::Storage(error.to_string())
}
