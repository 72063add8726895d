# Sourced by bench/search-load.sh and bench/search-wrk.sh (after they set
# `data`, the index's data directory, and `trawl`, the binary): starts
# `trawl serve` over that index with the query cache (127.0.0.1:8090) and
# without it (8091), and the same axum stack answering one fixed JSON body
# of a real answer (8092, benches/search_load.rs fixed): the limit of the
# cache-hit path. Everything started is stopped when the script exits.
# Defines `load`, the command that runs benches/search_load.rs.
work=$(mktemp -d)
pids=()
# (cargo bench runs the fixed server as its child: that one is stopped by name.)
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  pkill -f 'search_load.* fixed --listen 127.0.0.1:8092' 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

wait_up() {
  for _ in $(seq 100); do curl -sf "$1" >/dev/null && return 0; sleep 0.2; done
  echo "$1 did not come up" >&2; exit 1
}

# Said out loud: in a target dir that has no optimized RocksDB yet (no
# CARGO_TARGET_DIR set, so ./target), this build takes some 20 minutes.
echo "building the fixed-answer server (cargo bench --bench search_load, target dir ${CARGO_TARGET_DIR:-./target})" >&2
cargo bench --profile "${BENCH_PROFILE:-bench}" --bench search_load --no-run >/dev/null 2>&1
load=(cargo bench --profile "${BENCH_PROFILE:-bench}" --bench search_load -q --)

"$trawl" serve --data-dir "$data" --listen 127.0.0.1:8090 2>"$work/cached.log" & pids+=($!)
"$trawl" serve --data-dir "$data" --listen 127.0.0.1:8091 --cache-entries 0 2>"$work/uncached.log" & pids+=($!)
wait_up http://127.0.0.1:8090/healthz
wait_up http://127.0.0.1:8091/healthz
# A real answer (10 results with snippets) as the fixed body, marked cached
# as the answers it stands for are.
curl -sf 'http://127.0.0.1:8090/api/v1/search?query=hashmap+entry' | sed 's/"cached":false/"cached":true/' >"$work/answer.json"
"${load[@]}" fixed --listen 127.0.0.1:8092 --body "$work/answer.json" & pids+=($!)
wait_up 'http://127.0.0.1:8092/api/v1/search?query=x'
