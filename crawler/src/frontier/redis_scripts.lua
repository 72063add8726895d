-- Shared prelude of every frontier script. Each script works on ONE
-- partition: every key it touches starts with the partition's hash tag
-- (ARGV[1], e.g. "{trawl:17}"), so the whole partition lives in one Redis
-- Cluster slot and a script is atomic over it.
--
-- Keys of a partition (T = the tag):
--   T:links:<host>  zset  url -> priority        queued links of a host
--   T:meta          hash  url -> "host\tpriority\tdepth\tretries\tkind\tredirects"
--   T:ready         zset  host -> best priority   hosts that may be fetched now
--   T:sleeping      zset  host -> ms              politeness clock, when in the future
--   T:inflight      hash  host -> n               leases whose fetch is not over
--   T:leases        zset  url -> deadline ms      claimed links
--   T:leased        hash  url -> "token\treleased\thost\tworker"  released: 1 once the host slot is freed
--   T:reply:<id>    string                        a reply kept a minute, for a retried call
--   T:delayed       zset  url -> due ms           retries waiting for their delay
--   T:queued        int                           links in host queues or delayed
--   T:lease_seq     int                           lease tokens
--   T:seen:<b>      set   64-bit URL hashes       the seen-filter, bucketed so each set stays an intset
--   T:seen_count    int
--   T:host_urls     hash  host -> URLs ever queued
--   T:host_limit    hash  host -> requests in flight at most, when not the crawl's
--   T:path_queries  hash  host+path -> query strings ever queued
--
-- KEYS[1] is a key of the partition, so that a cluster routes the call.
-- The clock is Redis's (TIME), the same for every worker.
local tag = ARGV[1]
local max_inflight = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)

local function key(name)
  return tag .. ':' .. name
end

local function links_key(host)
  return tag .. ':links:' .. host
end

local function meta_of(url)
  local raw = redis.call('HGET', key('meta'), url)
  local host, priority = string.match(raw or '', '^([^\t]+)\t([^\t]+)\t')
  if not host or not tonumber(priority) then
    return nil
  end
  return { host = host, priority = tonumber(priority) }
end

-- Requests in flight a host may have: its own limit (a site rule's), or
-- the crawl's.
local function inflight_limit(host)
  return tonumber(redis.call('HGET', key('host_limit'), host)) or max_inflight
end

-- Puts a host where its state says: ready when it has links, a free slot
-- and no politeness wait left; otherwise out of the ready set.
local function schedule(host)
  redis.call('ZREM', key('ready'), host)
  local best = redis.call('ZREVRANGE', links_key(host), 0, 0, 'WITHSCORES')
  if #best == 0 then
    return
  end
  local inflight = tonumber(redis.call('HGET', key('inflight'), host) or '0')
  if inflight >= inflight_limit(host) then
    return
  end
  local wake = redis.call('ZSCORE', key('sleeping'), host)
  if wake then
    if tonumber(wake) > now then
      return
    end
    redis.call('ZREM', key('sleeping'), host)
  end
  redis.call('ZADD', key('ready'), best[2], host)
end

-- Frees the host slot of a lease (once) and rests the host until wake_at.
-- The lease names its host itself, so this never depends on the metadata.
local function release(url, wake_at)
  local state = redis.call('HGET', key('leased'), url)
  local token, released, host, worker = string.match(state or '', '^(%d+)\t(%d)\t([^\t]*)\t(.*)$')
  if released ~= '0' then
    return
  end
  redis.call('HSET', key('leased'), url, token .. '\t1\t' .. host .. '\t' .. worker)
  if redis.call('HINCRBY', key('inflight'), host, -1) <= 0 then
    redis.call('HDEL', key('inflight'), host)
  end
  if wake_at > now then
    local current = redis.call('ZSCORE', key('sleeping'), host)
    if not current or tonumber(current) < wake_at then
      redis.call('ZADD', key('sleeping'), wake_at, host)
    end
  end
  schedule(host)
end

local function end_lease(url)
  redis.call('ZREM', key('leases'), url)
  redis.call('HDEL', key('leased'), url)
end

-- Whether the lease of url is still the one with this token: a worker whose
-- lease expired must not end the lease another worker took since.
local function lease_is(url, token)
  local state = redis.call('HGET', key('leased'), url)
  return state ~= false and string.match(state, '^(%d+)\t') == token
end

local function requeue(url)
  local meta = meta_of(url)
  if meta then
    redis.call('ZADD', links_key(meta.host), meta.priority, url)
    redis.call('INCR', key('queued'))
    schedule(meta.host)
  end
end

-- Moves due work forward: expired leases back to their hosts, due retries
-- back to their hosts, rested hosts back to ready.
local function tick()
  for _, url in ipairs(redis.call('ZRANGEBYSCORE', key('leases'), '-inf', now, 'LIMIT', 0, 256)) do
    release(url, now)
    end_lease(url)
    requeue(url)
  end
  for _, url in ipairs(redis.call('ZRANGEBYSCORE', key('delayed'), '-inf', now, 'LIMIT', 0, 256)) do
    redis.call('ZREM', key('delayed'), url)
    redis.call('DECR', key('queued')) -- requeue counts it again
    requeue(url)
  end
  for _, host in ipairs(redis.call('ZRANGEBYSCORE', key('sleeping'), '-inf', now, 'LIMIT', 0, 256)) do
    redis.call('ZREM', key('sleeping'), host)
    schedule(host)
  end
end

-- Calls that change state and answer with what they did (claim, add, mark
-- seen) may run twice when the client retries after a dropped connection:
-- the second run answers with the first one's reply instead.
local function replay(id)
  local kept = redis.call('GET', key('reply:' .. id))
  if kept then
    return cjson.decode(kept)
  end
  return nil
end

local function remember(id, reply)
  redis.call('SET', key('reply:' .. id), cjson.encode(reply), 'PX', 60000)
  return reply
end

-- Milliseconds until something in this partition may become claimable.
local function next_wake()
  local next_at = nil
  for _, name in ipairs({ 'sleeping', 'delayed', 'leases' }) do
    local first = redis.call('ZRANGE', key(name), 0, 0, 'WITHSCORES')
    if #first > 0 then
      local at = tonumber(first[2])
      if not next_at or at < next_at then
        next_at = at
      end
    end
  end
  if not next_at then
    return -1
  end
  return math.max(0, next_at - now)
end
