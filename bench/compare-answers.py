#!/usr/bin/env python3
"""Two query APIs over the same index, asked the same queries: whether
their answers agree, result by result (title, links, section, snippet,
highlights, also_at, doc id), with the total, the correction, the
suggestion, and whether the query was relaxed or cut short; the first differences are printed. For a change that must not
change what is found or shown (BENCHMARKS.md §12).

    bench/compare-answers.py http://127.0.0.1:8101/api/v1/search \
        http://127.0.0.1:8102/api/v1/search bench/search-queries.txt
"""
import http.client, json, sys, urllib.parse
a, b, qfile = sys.argv[1], sys.argv[2], sys.argv[3]
def conn(u):
    u = urllib.parse.urlsplit(u); return http.client.HTTPConnection(u.hostname, u.port), u.path
ca, pa = conn(a); cb, pb = conn(b)
def get(c, p, q):
    c.request("GET", p + "?" + urllib.parse.urlencode({"query": q})); r = c.getresponse(); return r.status, json.loads(r.read())
keys = ["title", "link", "page_link", "section", "snippet", "snippet_text", "highlights", "also_at", "doc_id"]
n = diff = 0
for q in [l.strip() for l in open(qfile, encoding="utf-8") if l.strip()]:
    sa, ja = get(ca, pa, q); sb, jb = get(cb, pb, q); n += 1
    if sa != sb: diff += 1; print("status", q, sa, sb); continue
    if sa != 200: continue
    ra = [{k: r.get(k) for k in keys} for r in ja["results"]]
    rb = [{k: r.get(k) for k in keys} for r in jb["results"]]
    answer_keys = ["total", "corrected_query", "suggestion", "relaxed", "cut_short"]
    same = ra == rb and all(ja.get(k) == jb.get(k) for k in answer_keys)
    if not same:
        diff += 1
        if diff <= 5:
            print("DIFF", repr(q))
            for k in answer_keys:
                if ja.get(k) != jb.get(k): print("  ", k, ja.get(k), "|", jb.get(k))
            if len(ra) != len(rb): print("   results", len(ra), "|", len(rb))
            for x, y in zip(ra, rb):
                for k in keys:
                    if x[k] != y[k]: print("  ", k, repr(x[k])[:200], "|", repr(y[k])[:200])
print(f"{n} queries, {diff} answers differ")
