#!/usr/bin/env bash
# Cache hits against their limit, in rounds (BENCHMARKS.md §20): `trawl
# serve` answering a warm cache and the same axum stack answering one fixed
# JSON body of a real answer's size (benches/search_load.rs fixed), under
# wrk with the Zipf mix of bench/search-queries.txt. This machine's speed
# drifts by a quarter from minute to minute, so the two take turns every
# 5 seconds, three turns each a round, and a round compares what each
# answered in its turns. Several binaries (before and after a change) take
# their rounds in turn.
#
#   bench/search-hits.sh DATA_DIR ROUNDS TRAWL_BINARY...
#
# Prints per round and binary: hits/s, fixed answers/s, their ratio, and
# each server's CPU microseconds per request (its own utime + stime; wrk
# shares the two cores). DATA_DIR holds a crawl of the Rust docs
# (bench/ranking/README.md says how). Needs wrk (apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:?usage: bench/search-hits.sh DATA_DIR ROUNDS TRAWL_BINARY...}
rounds=${2:?rounds}
shift 2
[ $# -gt 0 ] || { echo "give at least one trawl binary" >&2; exit 1; }
queries=bench/search-queries.txt
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

wait_up() {
  for _ in $(seq 100); do curl -sf "$1" >/dev/null && return 0; sleep 0.2; done
  echo "$1 did not come up" >&2; exit 1
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# wrk_turn URL PID: prints the requests answered in 5 s and the server's CPU ticks spent.
wrk_turn() {
  local before after out
  before=$(cpu_ticks "$2")
  out=$(wrk -t2 -c8 -d5s -s bench/search-zipf.lua "$1" -- "$queries" 1.0)
  after=$(cpu_ticks "$2")
  echo "$(echo "$out" | awk '/requests in/ { print $1 }') $((after - before))"
}

cargo bench --bench search_load --no-run >/dev/null 2>&1
fixed_server=$(find "${CARGO_TARGET_DIR:-target}/release/deps" -name 'search_load-*' -type f -executable | head -1)

serve() { # BINARY: starts it on 8190 over DATA_DIR
  "$1" serve --data-dir "$data" --listen 127.0.0.1:8190 2>"$work/serve.log" &
  serving=$!
  pids+=("$serving")
  wait_up http://127.0.0.1:8190/healthz
}

# The fixed body: a real answer (10 results with snippets), marked cached.
serve "$1"
curl -sf 'http://127.0.0.1:8190/api/v1/search?query=hashmap+entry' | sed 's/"cached":false/"cached":true/' >"$work/answer.json"
kill "$serving"; wait "$serving" 2>/dev/null || true
"$fixed_server" fixed --listen 127.0.0.1:8192 --body "$work/answer.json" 2>/dev/null &
fixed=$!
pids+=("$fixed")
wait_up 'http://127.0.0.1:8192/api/v1/search?query=x'

ticks=$(getconf CLK_TCK)
echo "== $(nproc) cores; $(wc -l <"$queries") queries; fixed body $(wc -c <"$work/answer.json") bytes; $(git rev-parse --short HEAD)"
printf 'round\tbinary\thits_per_s\tfixed_per_s\tratio\thit_cpu_us\tfixed_cpu_us\n'
for round in $(seq "$rounds"); do
  for binary in "$@"; do
    serve "$binary"
    # Every query of the mix asked once, spelled as wrk spells it (spaces
    # as %20): the turns meet a warm cache and a warm memo.
    python3 - "$queries" <<'EOF'
import sys, urllib.parse, urllib.request
for line in open(sys.argv[1]):
    if line.strip():
        url = "http://127.0.0.1:8190/api/v1/search?query=" + urllib.parse.quote(line.strip(), safe="-._~")
        urllib.request.urlopen(url).read()
EOF
    hits=0 hit_ticks=0 answers=0 fixed_ticks=0
    for _ in 1 2 3; do
      read -r n t < <(wrk_turn http://127.0.0.1:8190/api/v1/search "$serving")
      hits=$((hits + n)) hit_ticks=$((hit_ticks + t))
      read -r n t < <(wrk_turn http://127.0.0.1:8192/api/v1/search "$fixed")
      answers=$((answers + n)) fixed_ticks=$((fixed_ticks + t))
    done
    kill "$serving"; wait "$serving" 2>/dev/null || true
    awk -v r="$round" -v b="$(basename "$binary")" -v h="$hits" -v f="$answers" \
        -v ht="$hit_ticks" -v ft="$fixed_ticks" -v hz="$ticks" 'BEGIN {
      printf "%d\t%s\t%.0f\t%.0f\t%.3f\t%.2f\t%.2f\n", r, b, h / 15, f / 15, h / f, ht * 1e6 / hz / h, ft * 1e6 / hz / f }'
  done
done
