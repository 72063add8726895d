#!/usr/bin/env python3
"""Two query APIs asked the same queries: the queries whose first result
differs, with both first results (path and title). For a ranking change,
to read every first result it moves over a set of real queries
(BENCHMARKS.md §41). Links are compared by their path after the host, so
two servers of two crawls of the same site on different ports compare.

    bench/first-results.py http://127.0.0.1:8201 http://127.0.0.1:8202 QUERIES

QUERIES: one query a line (bench/search-queries.txt, or
bench/ranking/doxygen_names.py's list).
"""
import json
import sys
import urllib.parse
import urllib.request


def first(base, query):
    url = base + "/api/v1/search?" + urllib.parse.urlencode({"query": query})
    with urllib.request.urlopen(url, timeout=30) as response:
        results = json.load(response)["results"]
    if not results:
        return None, None
    return results[0]["link"].split("/", 3)[-1], results[0]["title"]


def main():
    a, b, queries = sys.argv[1:4]
    asked = differ = 0
    for query in (line.strip() for line in open(queries, encoding="utf-8")):
        if not query:
            continue
        asked += 1
        in_a, in_b = first(a, query), first(b, query)
        if in_a[0] != in_b[0]:
            differ += 1
            print(f"{query!r}\n   A {in_a[0]} {in_a[1]}\n   B {in_b[0]} {in_b[1]}")
    print(f"{differ} of {asked} first results differ")


if __name__ == "__main__":
    main()
