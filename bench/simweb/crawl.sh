#!/usr/bin/env bash
# The crawl on the simulated web (bench/simweb), with trawl's default
# politeness (1 s per host, one request in flight per host, 4 per IP, 64 in
# all): the web serves 10,000 hosts (about 900,000 pages) on 256 loopback
# addresses, trawl crawls it for $DURATION seconds and is stopped (SIGINT,
# a graceful drain), then the web writes its report. Prints one line of
# results (also appended to $OUT/results.tsv):
#
#   pages/s; requests/s (robots.txt too: each takes a fetch slot and its
#   host's gap like a page), and the bound on requests/s the run allowed,
#   the least of
#     politeness  every reachable host once per (gap + its latency), capped
#                 by its pages (the web's report: an upper bound, as if every
#                 host were known from the first second);
#     concurrency --concurrency / the mean latency of the answers;
#     cpu         2 cores / (trawl's + the web's CPU per page, and Redis's
#                 in redis mode), all measured in this run (they share the
#                 machine);
#   the ratio of requests/s to that bound, CPU ms per page (trawl, the web,
#   Redis), peak RSS,
#   politeness violations and, for Redis, its memory per known URL; and
#   last, the bound taken window by window (5 s) in pages/s and the ratio
#   of pages/s to it: in each window the least of what politeness allowed
#   over the pages the crawl could know of by then (the web's
#   politeness_by_window_pages) and the CPU's and concurrency's rates, so
#   that a run whose binding limit changes midway is held to each in turn.
#
#   bench/simweb/crawl.sh embedded|redis [WORKERS]
#
# Environment: DURATION (300), CONCURRENCY (64), SEED (1), SIZE (large), OUT (/tmp/simweb-bench),
# TRAWL (the release binary), SIMWEB (the release simweb), TRAWL_FLAGS (extra
# crawl flags), SIMWEB_FLAGS (extra web flags: --hosts, --pages, --min-gap-ms,
# which must match trawl's --delay-ms), REDIS (redis://127.0.0.1:6379).
set -euo pipefail
cd "$(dirname "$0")/../.."

MODE=${1:-embedded}
WORKERS=${2:-1}
DURATION=${DURATION:-300}
SEED=${SEED:-1}
SIZE=${SIZE:-large}
OUT=${OUT:-/tmp/simweb-bench}
TARGET=${CARGO_TARGET_DIR:-target}
TRAWL=${TRAWL:-$TARGET/release/trawl}
SIMWEB=${SIMWEB:-$TARGET/release/simweb}
REDIS=${REDIS:-redis://127.0.0.1:6379}
CONCURRENCY=${CONCURRENCY:-64}
for binary in "$TRAWL" "$SIMWEB"; do
  [ -x "$binary" ] || { echo "no $binary: cargo build --release --bin trawl -p simweb --bins" >&2; exit 1; }
done
run="$MODE-w$WORKERS-$(date +%s)"
dir=$OUT/$run
mkdir -p "$dir"
[ -f "$OUT/results.tsv" ] || printf 'run\tconcurrency\tseconds\tpages\tpages_per_s\trequests_per_s\tbound_per_s\tbound_by\tratio\tpoliteness_per_s\tconcurrency_per_s\tcpu_per_s\ttrawl_cpu_ms_per_page\tweb_cpu_ms_per_page\tredis_cpu_ms_per_page\ttrawl_peak_rss_mb\tviolations\tlost_of_reachable_fetched\tredis_bytes_per_url\twindowed_bound_pages_per_s\twindowed_ratio\n' > "$OUT/results.tsv"

dns_port=$((20000 + RANDOM % 10000))
# shellcheck disable=SC2086
/usr/bin/time -f '%e %U %S %M' -o "$dir/simweb.time" "$SIMWEB" --size "$SIZE" --seed "$SEED" ${SIMWEB_FLAGS:-} \
  --dns "127.0.0.1:$dns_port" --seeds-file "$dir/seeds.txt" --report-file "$dir/report.json" \
  2> "$dir/simweb.err" &
web=$!
for _ in $(seq 100); do [ -s "$dir/seeds.txt" ] && break; sleep 0.1; done

prefix=trawl-simweb-$$
flags=(crawl --seeds-file "$dir/seeds.txt" --scope any --allow-net 127.0.0.0/8
       --dns-server "127.0.0.1:$dns_port" --concurrency $CONCURRENCY)
[ "$MODE" = redis ] && flags+=(--redis "$REDIS" --redis-prefix "$prefix")
# Redis's CPU (user + system seconds): on this machine it shares the cores
# with trawl and the web, so its CPU per page counts in the CPU bound.
redis_cpu() { redis-cli -u "$REDIS" info cpu | awk -F: '/^used_cpu_(user|sys):/ { s += $2 } END { print s }'; }
redis_cpu_before=0
if [ "$MODE" = redis ]; then
  redis_before=$(redis-cli -u "$REDIS" info memory | grep -oP '^used_memory:\K[0-9]+')
  redis_cpu_before=$(redis_cpu)
fi
pids=()
for w in $(seq "$WORKERS"); do
  # shellcheck disable=SC2086
  /usr/bin/time -f '%e %U %S %M' -o "$dir/trawl$w.time" \
    timeout --foreground -s INT "$DURATION" "$TRAWL" "${flags[@]}" --data-dir "$dir/data$w" ${TRAWL_FLAGS:-} \
    > "$dir/trawl$w.out" 2> "$dir/trawl$w.err" &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || true; done
redis_bytes=-
redis_cpu_seconds=0
if [ "$MODE" = redis ]; then
  redis_cpu_seconds=$(awk -v after="$(redis_cpu)" -v before="$redis_cpu_before" 'BEGIN { print after - before }')
  redis_after=$(redis-cli -u "$REDIS" info memory | grep -oP '^used_memory:\K[0-9]+')
  known=$(awk '/new links/ { n += $3 } END { print n + 0 }' "$dir"/trawl*.out)
  redis_bytes=$(( (redis_after - redis_before) / (known > 0 ? known : 1) ))
  redis-cli -u "$REDIS" --scan --pattern "{$prefix:*" | xargs -r -n 500 redis-cli -u "$REDIS" del > /dev/null
fi
# $web is /usr/bin/time; the web is its child.
pkill -TERM -P $web
wait $web || true

python3 - "$dir" "$run" "$CONCURRENCY" "$redis_bytes" "$WORKERS" "$redis_cpu_seconds" <<'PY' | tee -a "$OUT/results.tsv"
import json, sys
d, run, concurrency, redis_bytes, workers = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
redis_cpu = float(sys.argv[6])
r = json.load(open(f"{d}/report.json"))
def times(name):
    wall, user, sys_, rss = open(f"{d}/{name}.time").read().split()[-4:]
    return float(wall), float(user) + float(sys_), int(rss) / 1024
trawl = [times(f"trawl{w}") for w in range(1, workers + 1)]
web_wall, web_cpu, _ = times("simweb")
pages = r["page_requests"]
seconds = r["crawl_seconds"]
trawl_cpu = sum(t[1] for t in trawl)
cpu_ms = trawl_cpu * 1000 / max(pages, 1)
# The web's CPU in the crawl's window only: it idles before and after.
web_ms = web_cpu * 1000 / max(pages, 1)
redis_ms = redis_cpu * 1000 / max(pages, 1)
bounds = {
    # Robots.txt requests on top of the pages: one per reachable host at most.
    "politeness": (r["politeness_bound_pages"] + r["hosts_requested"]) / seconds,
    "concurrency": concurrency * workers / (r["mean_latency_ms"] / 1000),
    "cpu": 2 * 1000 / (cpu_ms + web_ms + redis_ms) * r["requests"] / max(pages, 1),
}
by = min(bounds, key=bounds.get)
rate = pages / seconds
# The bound window by window, in pages: what politeness allowed over the
# pages the crawl could know of then (the web's report), capped by the
# CPU's and the concurrency's rate; the binding limit may change mid-run.
window = 5.0
share = pages / max(r["requests"], 1)
caps = [2 * 1000 / (cpu_ms + web_ms + redis_ms), bounds["concurrency"] * share]
windows = r["politeness_by_window_pages"]
windowed = 0.0
for i, allowed in enumerate(windows):
    length = min(window, seconds - i * window) if i == len(windows) - 1 else window
    windowed += min([allowed] + [cap * length for cap in caps])
windowed_rate = windowed / seconds
requests = r["requests"] / seconds
print("\t".join(str(x) for x in [
    run, concurrency, round(seconds), pages, round(rate, 1), round(requests, 1), round(bounds[by], 1), by,
    round(requests / bounds[by], 3),
    round(bounds["politeness"], 1), round(bounds["concurrency"], 1), round(bounds["cpu"], 1),
    round(cpu_ms, 2), round(web_ms, 2), round(redis_ms, 2), round(max(t[2] for t in trawl)), r["violations"],
    f'{r["lost"]} of {r["reachable"]}, {r["fetched"]}', redis_bytes,
    round(windowed_rate, 1), round(rate / windowed_rate, 3) if windowed_rate else "-"]))
if r["violations"]:
    print(json.dumps(r["violations_by_rule"]), r["violation_examples"][:3], file=sys.stderr)
PY
