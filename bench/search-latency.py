#!/usr/bin/env python3
"""One client, each query of a file once, in order, against a query API:
the client's wall time and the server's own `took_ms` per query, as
percentiles, and the slowest queries.

    bench/search-latency.py http://127.0.0.1:8091/api/v1/search bench/search-queries.txt
"""
import http.client
import json
import sys
import time
import urllib.parse


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))]


def main():
    url = urllib.parse.urlsplit(sys.argv[1])
    queries = [line.strip() for line in open(sys.argv[2], encoding="utf-8") if line.strip()]
    connection = http.client.HTTPConnection(url.hostname, url.port)
    wall, took, slow, errors = [], [], [], 0
    for query in queries:
        path = url.path + "?" + urllib.parse.urlencode({"query": query})
        sent = time.perf_counter()
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
        elapsed_ms = (time.perf_counter() - sent) * 1000
        if response.status != 200:
            errors += 1
            continue
        answer = json.loads(body)
        wall.append(elapsed_ms)
        took.append(answer["took_ms"])
        slow.append((answer["took_ms"], query, answer.get("total"), answer.get("cut_short")))
    print(f"{len(wall)} queries, each once, one client, {errors} errors")
    for name, values in (("client wall", wall), ("server took_ms", took)):
        print(f"  {name:<15} p50 {percentile(values, 0.5):6.2f} ms  p90 {percentile(values, 0.9):6.2f} ms"
              f"  p99 {percentile(values, 0.99):6.2f} ms  max {max(values):7.2f} ms"
              f"  mean {sum(values) / len(values):6.2f} ms")
    print("  slowest (took_ms, query, total, cut_short):")
    for entry in sorted(slow, reverse=True)[:8]:
        print(f"    {entry[0]:8.2f}  {entry[1]!r}  {entry[2]}  {entry[3]}")


if __name__ == "__main__":
    main()
