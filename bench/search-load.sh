#!/usr/bin/env bash
# The query API under load (BENCHMARKS.md): a Zipf-like mix of 2,000
# queries (bench/search-queries.txt) against `trawl serve` over an index of
# the whole local Rust docs, with the cache (hits and misses apart) and
# without it (every query a miss), and, in the same run, the same axum stack
# answering one fixed JSON body: the limit of the cache-hit path.
#
#   bench/search-load.sh DATA_DIR [SECONDS] [CONNECTIONS]
#
# DATA_DIR holds a crawl of the Rust docs (bench/ranking/README.md says
# how). Needs the release binary: cargo build --release; cargo bench builds
# the load generator.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:?usage: bench/search-load.sh DATA_DIR [SECONDS] [CONNECTIONS]}
seconds=${2:-20}
connections=${3:-32}
target=${CARGO_TARGET_DIR:-target}
trawl=${TRAWL:-$target/release/trawl}
# shellcheck source=bench/search-servers.sh
source bench/search-servers.sh

echo "== $(nproc) cores; $seconds s per run; $connections connections; $(wc -l <bench/search-queries.txt) queries"
"${load[@]}" load --label "trawl serve, cache on" --url http://127.0.0.1:8090/api/v1/search \
  --queries bench/search-queries.txt --seconds "$seconds" --concurrency "$connections" --zipf 1.0
"${load[@]}" load --label "trawl serve, cache off" --url http://127.0.0.1:8091/api/v1/search \
  --queries bench/search-queries.txt --seconds "$seconds" --concurrency "$connections" --zipf 1.0
"${load[@]}" load --label "fixed JSON, same axum stack" --url http://127.0.0.1:8092/api/v1/search \
  --queries bench/search-queries.txt --seconds "$seconds" --concurrency "$connections" --zipf 1.0
