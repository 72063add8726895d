#!/usr/bin/env bash
# The query API under wrk (BENCHMARKS.md): queries drawn by Zipf's law from
# 2,000 real ones (bench/search-queries.txt, bench/search-zipf.lua), against
# `trawl serve` over an index of the whole Rust docs with the cache and
# without it, and, in the same run, the same axum stack answering one fixed
# JSON body of the size of a real answer (benches/search_load.rs fixed): the
# limit of the cache-hit path. Then one client alone on the uncached server
# for its latency percentiles, each query once (bench/search-latency.py).
#
#   bench/search-wrk.sh DATA_DIR [SECONDS] [CONNECTIONS]
#
# DATA_DIR holds a crawl of the Rust docs (bench/ranking/README.md says
# how). Needs the release binary (cargo build --release --bin trawl) and
# wrk (apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:?usage: bench/search-wrk.sh DATA_DIR [SECONDS] [CONNECTIONS]}
seconds=${2:-20}
connections=${3:-8}
target=${CARGO_TARGET_DIR:-target}
trawl=${TRAWL:-$target/release/trawl}
queries=bench/search-queries.txt
# shellcheck source=bench/search-servers.sh
source bench/search-servers.sh

run_wrk() { # LABEL URL
  echo "== $1"
  wrk -t2 -c"$connections" -d"${seconds}s" --latency -s bench/search-zipf.lua "$2" -- "$queries" 1.0 \
    | grep -E 'Requests/sec|^ +(50|90|99)%|Non-2xx|Socket errors|requests in'
}

echo "== $(nproc) cores; $seconds s per run; $connections connections; $(wc -l <"$queries") queries; $(git rev-parse --short HEAD)"
# The cache's hits alone: every query of the mix asked once first, so that
# the wrk run meets a warm cache.
while IFS= read -r query; do
  curl -sf -G --data-urlencode "query=$query" http://127.0.0.1:8090/api/v1/search >/dev/null || true
done <"$queries"
run_wrk "trawl serve, warm cache (hits)" http://127.0.0.1:8090/api/v1/search
run_wrk "fixed answer of $(wc -c <"$work/answer.json") bytes, same axum stack" http://127.0.0.1:8092/api/v1/search
run_wrk "trawl serve, cache off (every query a miss)" http://127.0.0.1:8091/api/v1/search
echo "== one client, cache off, each query once"
python3 bench/search-latency.py http://127.0.0.1:8091/api/v1/search "$queries"
