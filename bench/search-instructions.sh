#!/usr/bin/env bash
# The query path's CPU as instructions, not seconds (BENCHMARKS.md §23):
# `trawl serve --cache-entries 0` under callgrind, asked the first N
# queries of bench/search-queries.txt once to warm it (instrumentation
# off), then once more counted. Instruction counts do not move with the
# machine's speed, which drifts by a quarter within an hour on these
# 2-core machines (two counts of the same binary agreed within 0.3%), so a
# change of a few percent shows where latency runs cannot tell it from
# noise. What it does not show: waits, cache misses, contention.
#
#   bench/search-instructions.sh DATA_DIR N TRAWL_BINARY...
#
# Prints, per binary: instructions counted and instructions per query
# (every thread of the server, the HTTP stack included). DATA_DIR holds a
# crawl of the Rust docs (bench/ranking/README.md says how). Needs
# valgrind (apt-get install valgrind). Each binary takes about 4 minutes
# for N=500.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:?usage: bench/search-instructions.sh DATA_DIR N TRAWL_BINARY...}
count=${2:?N}
shift 2
[ $# -gt 0 ] || { echo "give at least one trawl binary" >&2; exit 1; }
work=$(mktemp -d)
server=
# (Never `kill 0`, which would signal this script's whole process group.)
trap '[ -z "$server" ] || kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
head -n "$count" bench/search-queries.txt >"$work/queries.txt"
port=8197
echo "== $(git rev-parse --short HEAD); $count queries"
for binary in "$@"; do
  valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$work/callgrind.out" \
    "$binary" serve --data-dir "$data" --listen "127.0.0.1:$port" --cache-entries 0 >"$work/serve.log" 2>&1 &
  server=$!
  for _ in $(seq 300); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 1; done
  python3 bench/search-latency.py "http://127.0.0.1:$port/api/v1/search" "$work/queries.txt" >/dev/null
  callgrind_control -i on "$server" >/dev/null 2>&1
  python3 bench/search-latency.py "http://127.0.0.1:$port/api/v1/search" "$work/queries.txt" >/dev/null
  callgrind_control -d "$server" >/dev/null 2>&1
  callgrind_control -k "$server" >/dev/null 2>&1 || true
  wait "$server" 2>/dev/null || true
  instructions=$(grep -h '^summary:' "$work"/callgrind.out* | awk '$2 > max { max = $2 } END { print max + 0 }')
  rm -f "$work"/callgrind.out*
  awk -v b="$binary" -v i="$instructions" -v n="$count" \
    'BEGIN { printf "%s\t%d instructions\t%.2f million a query\n", b, i, i / n / 1e6 }'
  port=$((port + 1))
done
