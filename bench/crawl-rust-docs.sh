#!/usr/bin/env bash
# Crawl benchmark: the local Rust docs (the book and std, about 2,900 pages,
# 146 MB) served by nginx on loopback, crawled by trawl and by its peers in
# one run: wget -r, Scrapy (a CrawlSpider), and spider_cli (links only).
# For each: pages fetched, wall seconds, pages/s, CPU milliseconds per page,
# cores busy (CPU seconds over wall seconds; nginx uses the rest), peak RSS.
# Results go to $OUT/results.tsv and stdout.
#
#   bench/crawl-rust-docs.sh [trawl-binary[::flags] ...]
#
# Several trawl binaries may be given (e.g. before and after a change); each
# runs with its own flags after `::`, or TRAWL_FLAGS. With RUNS=n, each
# binary runs n times, the binaries taking turns; spider_cli takes its turn
# in every round too, so that trawl and the fastest peer meet the same
# machine. wget and Scrapy run once, at the end. PEERS=spider leaves them
# out; PEERS=none runs trawl alone.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${PORT:-8088}
BASE=http://127.0.0.1:$PORT
OUT=${OUT:-/tmp/trawl-bench}
RUNS=${RUNS:-1}
TRAWL_FLAGS=${TRAWL_FLAGS:---delay-ms 0 --delay-factor 0 --per-host 32 --per-ip 32 --concurrency 64}
binaries=("$@")
[ ${#binaries[@]} -gt 0 ] || binaries=("${CARGO_TARGET_DIR:-target}/release/trawl")

scripts/serve-docs start "$PORT" >/dev/null
# Read the corpus once before timing, so that no crawler pays for nginx's
# first reads from disk (the first one timed would).
docroot=$(rustc --print sysroot)/share/doc/rust/html
find "$docroot/book" "$docroot/std" -name '*.html' -exec cat {} + >/dev/null
mkdir -p "$OUT"
printf 'crawler\tpages\twall_s\tpages_per_s\tcpu_ms_per_page\tcores_busy\tpeak_rss_mb\n' > "$OUT/results.tsv"

# measure NAME PAGES_COMMAND -- COMMAND...: runs COMMAND under /usr/bin/time,
# then PAGES_COMMAND, which prints the number of pages fetched.
measure() {
  local name=$1 count=$2
  shift 3
  if ! /usr/bin/time -f '%e %U %S %M' -o "$OUT/$name.time" "$@" >"$OUT/$name.out" 2>"$OUT/$name.err"; then
    echo "$name failed; see $OUT/$name.err" >&2
    return 0
  fi
  local pages wall user sys rss
  pages=$(eval "$count")
  read -r wall user sys rss < "$OUT/$name.time"
  awk -v n="$name" -v p="$pages" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" 'BEGIN {
    printf "%s\t%d\t%.1f\t%.0f\t%.2f\t%.2f\t%.0f\n", n, p, w, p / w, (u + s) * 1000 / p, (u + s) / w, r / 1024 }' \
    | tee -a "$OUT/results.tsv"
}

# spider_cli takes one start URL and a page limit; it extracts links and
# keeps nothing else. It is given the number of pages trawl fetched.
run_spider() {
  local limit
  limit=$(awk -F'\t' 'NR == 2 { print $2 }' "$OUT/results.tsv")
  measure "spider-run$1" "grep -c '^http' $OUT/spider-run$1.out" -- \
    spider --url "$BASE/std/index.html" --limit "${limit:-3000}" crawl --output-links
}

for run in $(seq "$RUNS"); do
  for spec in "${binaries[@]}"; do
    binary=${spec%%::*}
    flags=$TRAWL_FLAGS
    [ "$spec" = "$binary" ] || flags=${spec#*::}
    name="trawl-$(echo "$spec" | md5sum | cut -c1-6)-run$run"
    echo "$name = $spec" >> "$OUT/binaries.txt"
    rm -rf "$OUT/data-$name"
    # shellcheck disable=SC2086
    measure "$name" "grep -m1 -oP 'fetched +\K[0-9]+' $OUT/$name.out" -- \
      "$binary" crawl --seed "$BASE/book/index.html" --seed "$BASE/std/index.html" \
      --include "$BASE/book/" --include "$BASE/std/" --allow-private --data-dir "$OUT/data-$name" $flags
  done
  if [ "${PEERS:-all}" != none ] && command -v spider >/dev/null; then
    run_spider "$run"
  fi
done

if [ "${PEERS:-all}" = all ]; then
  rm -rf "$OUT/wget"
  # wget exits 8 when any page answered an error (the docs have broken
  # links); that is a finished crawl.
  measure wget "find $OUT/wget -name '*.html' | wc -l" -- \
    sh -c 'wget "$@"; [ $? -le 8 ]' wget -r -l inf -np -q -e robots=off --include-directories=/book,/std \
    -P "$OUT/wget" "$BASE/book/index.html" "$BASE/std/index.html"

  measure scrapy "wc -l < $OUT/scrapy.jsonl" -- \
    scrapy runspider bench/scrapy_docs.py -a "seeds=$BASE/book/index.html,$BASE/std/index.html" \
    -a "prefixes=$BASE/book/,$BASE/std/" -O "$OUT/scrapy.jsonl" -s LOG_LEVEL=WARNING
fi
