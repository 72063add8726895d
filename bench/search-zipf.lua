-- wrk script: GET /api/v1/search with queries drawn from a file by Zipf's
-- law (rank r chosen with probability proportional to 1 / r^s), the same
-- sequence in every run (each wrk thread seeds its own generator with its
-- number).
--
--   wrk -t2 -c8 -d20s --latency -s bench/search-zipf.lua \
--       http://127.0.0.1:8090/api/v1/search -- bench/search-queries.txt 1.0
--
-- bench/search-wrk.sh runs it against trawl serve with and without the
-- cache, and against a fixed answer of the same size (BENCHMARKS.md).

local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("number", threads)
end

local paths = {}
local cdf = {}

local function encode(text)
  return (text:gsub("[^%w%-%._~]", function(c)
    return string.format("%%%02X", string.byte(c))
  end))
end

function init(args)
  local file = args[1] or "bench/search-queries.txt"
  local s = tonumber(args[2] or "1.0")
  local base = wrk.path
  for line in io.lines(file) do
    if #line > 0 then
      table.insert(paths, base .. "?query=" .. encode(line))
    end
  end
  local total = 0
  for i = 1, #paths do
    total = total + 1 / (i ^ s)
    cdf[i] = total
  end
  for i = 1, #paths do
    cdf[i] = cdf[i] / total
  end
  math.randomseed(number or 1)
end

function request()
  local r = math.random()
  local lo, hi = 1, #paths
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if cdf[mid] < r then lo = mid + 1 else hi = mid end
  end
  return wrk.format("GET", paths[lo])
end
