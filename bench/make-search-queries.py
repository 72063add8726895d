#!/usr/bin/env python3
"""Writes bench/search-queries.txt: 2,000 distinct queries for the query
API's load benchmark, most popular first (the load generator draws them
with Zipf's law by rank).

The queries are the labelled ranking set's (bench/ranking/sites/rust/queries.tsv)
followed by queries made from the titles of Rust documentation pages, one or
two words of each, as people type them. Seeded: the same file every run.
"""
import csv
import html
import os
import random
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
root = subprocess.run(["rustc", "--print", "sysroot"], capture_output=True, text=True).stdout.strip()
docs = os.path.join(root, "share/doc/rust/html")
random.seed(20261123)

queries = []
with open(os.path.join(HERE, "ranking/sites/rust/queries.tsv")) as f:
    for row in csv.reader(f, delimiter="\t"):
        if row and row[0] != "kind":
            queries.append(row[1])

files = []
for dirpath, _, names in os.walk(docs):
    files.extend(os.path.join(dirpath, n) for n in names if n.endswith(".html"))
files.sort()
random.shuffle(files)
title_re = re.compile(r"<title>(.*?)</title>", re.S)
for path in files:
    if len(queries) >= 2000:
        break
    with open(path, errors="replace") as f:
        match = title_re.search(f.read(4096))
    if not match:
        continue
    title = html.unescape(match.group(1)).split(" - ")[0]
    words = [w for w in re.split(r"[^A-Za-z0-9_]+", title) if len(w) > 2 and not w.isdigit()]
    if not words:
        continue
    query = " ".join(words[: random.choice([1, 2, 2, 3])]).lower()
    if query not in queries:
        queries.append(query)

with open(os.path.join(HERE, "search-queries.txt"), "w") as out:
    out.write("\n".join(queries) + "\n")
print(f"{len(queries)} queries", file=sys.stderr)
