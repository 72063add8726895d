#!/usr/bin/env python3
"""Members a Doxygen site lists only in a class's summary table: does the
search find the class's page when a member is named with its class?

Doxygen documents a member in a section of its own (`◆ push_back()`) when
its source has a comment, and otherwise lists it only in the summary table
at the top of its class's page, its name in bold (`<td
class="memItemRight"><b>join</b> ()`), as libstdc++'s `std::thread::join`.
This reads every class or struct page of a Doxygen site (its title
"PROJECT: NAME Class Reference"), takes each member named in bold in a
summary cell, asks "NAME::member" (the class's template parameters left
out, as people type it) and counts the class's page as the answer. A
query that several pages answer alike (a template and its
specializations, `std::atomic`; two pages of one class) is left out: it
cannot tell them apart. Overloads are asked once.

    summary_members.py --docs-root DIR --api http://127.0.0.1:8080 [--sample 300] [--json out.json]

DIR is the directory the server's crawl started from: a result's path
under the server's root is the page's path under DIR.

The members are sampled with a fixed seed, so two servers are asked the
same queries.

Python 3.11, standard library only.
"""
import argparse
import html
import json
import os
import random
import re
import sys
import urllib.parse
import urllib.request

TITLE = re.compile(r"<title>[^<:]*: (.*?) (?:Class|Struct)(?: Template)? Reference</title>")
MEMBER = re.compile(r'class="mem(?:Templ)?ItemRight"[^>]*><b>([^<]+)</b>')
NAME = re.compile(r"[A-Za-z_~][A-Za-z0-9_]*")


def member_queries(root):
    """(query, class page's path) for each member listed in bold whose
    query only that page answers."""
    pages = {}
    for dirpath, _, files in os.walk(root):
        for name in sorted(files):
            if not name.endswith(".html"):
                continue
            path = os.path.join(dirpath, name)
            with open(path, encoding="utf-8", errors="replace") as f:
                page = f.read()
            title = TITLE.search(page)
            if not title:
                continue
            owner = html.unescape(title.group(1)).split("<")[0].strip()
            for member in MEMBER.findall(page):
                member = html.unescape(member).strip()
                if NAME.fullmatch(member):
                    pages.setdefault(f"{owner}::{member}", set()).add(os.path.relpath(path, root))
    return sorted((query, answer.pop()) for query, answer in pages.items() if len(answer) == 1)


def result_paths(api, query):
    url = f"{api}/api/v1/search?" + urllib.parse.urlencode({"query": query, "per_page": 10})
    with urllib.request.urlopen(url, timeout=30) as response:
        answer = json.load(response)
    return [urllib.parse.unquote(urllib.parse.urlsplit(r["link"]).path).lstrip("/")
            for r in answer.get("results", [])]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs-root", required=True)
    parser.add_argument("--api", required=True)
    parser.add_argument("--sample", type=int, default=300)
    parser.add_argument("--json")
    args = parser.parse_args()

    queries = member_queries(args.docs_root)
    if not queries:
        sys.exit(f"no Doxygen class page with a member listed in bold under {args.docs_root}")
    random.Random(7).shuffle(queries)
    queries = queries[:args.sample]
    ranks = []
    for query, answer in queries:
        try:
            paths = result_paths(args.api.rstrip("/"), query)
        except (OSError, ValueError, KeyError, TypeError) as e:
            print(f"failed: {query}: {e}", file=sys.stderr)
            paths = []
        rank = next((i + 1 for i, path in enumerate(paths) if path == answer), None)
        ranks.append({"query": query, "answer": answer, "rank": rank, "top": paths[:3]})
    n = len(ranks)
    success1 = sum(r["rank"] == 1 for r in ranks) / n
    mrr = sum(1 / r["rank"] for r in ranks if r["rank"]) / n
    success10 = sum(r["rank"] is not None for r in ranks) / n
    print(f"{n} members of {len({a for _, a in queries})} class pages: "
          f"success@1 {success1:.3f}, MRR@10 {mrr:.3f}, success@10 {success10:.3f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(ranks, f, indent=1)


if __name__ == "__main__":
    main()
