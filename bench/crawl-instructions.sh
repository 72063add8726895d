#!/usr/bin/env bash
# The crawl's CPU as instructions, not seconds (BENCHMARKS.md §30): the
# crawl of bench/crawl-rust-docs.sh (the book and std from a loopback
# nginx, politeness off) under callgrind, once per binary. Instruction
# counts do not move with the machine's speed, which drifts by a quarter
# within an hour on these 2-core machines, so a change of a few percent
# shows where timed crawls cannot tell it from noise.
#
#   bench/crawl-instructions.sh TRAWL_BINARY...
#
# Prints, per binary: pages fetched, and instructions per page in all and
# in the stages that run once a page (inclusive of what they call):
# extraction (`parse_page`), the index document (`upsert`, trawl's part of
# indexing), tantivy's indexing of the documents (`index_documents`, which
# also builds the segments at commits), the docstore's put and the
# near-duplicate record, and the queueing of a page's links (the frontier's
# part, refused links included). Under callgrind a crawl runs about 70 times
# slower, so the indexer's one-second commit timer commits some 75 times
# where a timed crawl commits twice, and tantivy merges the segments: the
# total and `index_documents` carry that cost, which a timed crawl does
# not; the other stages are per page. Needs valgrind. Each binary takes
# about 4 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || { echo "usage: bench/crawl-instructions.sh TRAWL_BINARY..." >&2; exit 1; }
PORT=${PORT:-8088}
BASE=http://127.0.0.1:$PORT
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
scripts/serve-docs start "$PORT" >/dev/null
stages='crawler::parse::parse_page indexer::index::IndexWriterHandle::upsert tantivy::indexer::index_writer::index_documents indexer::docstore::Docstore::put_page crawler::crawled::CrawledLinks::record_page crawler::crawl::Crawler::queue_links::{{closure}}'
printf 'binary\tpages\tinstr_per_page'
for stage in $stages; do label=${stage%::\{\{closure\}\}}; printf '\t%s' "${label##*::}"; done
echo
for binary in "$@"; do
  rm -rf "$work/data"
  if ! valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out" \
    "$binary" crawl --seed "$BASE/book/index.html" --seed "$BASE/std/index.html" \
    --include "$BASE/book/" --include "$BASE/std/" --allow-private --data-dir "$work/data" \
    --delay-ms 0 --delay-factor 0 --per-host 32 --per-ip 32 --concurrency 64 >"$work/crawl.log" 2>&1 ||
    ! pages=$(grep -m1 -oP 'fetched +\K[0-9]+' "$work/crawl.log"); then
    echo "$binary: the crawl failed:" >&2
    tail -20 "$work/crawl.log" >&2
    exit 1
  fi
  total=$(grep -oP 'Collected : \K[0-9]+' "$work/crawl.log")
  # Every function, however small its share (the default stops at 1%).
  callgrind_annotate --inclusive=yes --threshold=100 "$work/callgrind.out" >"$work/annotate.txt" 2>/dev/null
  printf '%s\t%s\t%s' "$binary" "$pages" "$(awk -v n="$total" -v p="$pages" 'BEGIN { printf "%.0f", n / p }')"
  for stage in $stages; do
    # callgrind_annotate prints "1,234,567 (1.2%)  ???:name [binary]".
    count=$(awk -v name=":$stage [" 'index($0, name) { gsub(",", "", $1); print $1; exit }' "$work/annotate.txt")
    printf '\t%s' "$(awk -v n="${count:-0}" -v p="$pages" 'BEGIN { printf "%.0f", n / p }')"
  done
  echo
done
