#!/usr/bin/env python3
"""Scores search ranking against the labelled known-item queries of one
documentation site (sites/NAME/queries.tsv, see README.md): for each
query, the rank of the first result whose link is one of the query's
answers, summed up per kind as MRR@10, success@1 and success@10.

    score.py --site python --api http://127.0.0.1:8080 [--param ranking=baseline ...]
             [--json out.json] [--show-misses]
    score.py --compare before.json after.json
    score.py --site python --check-paths
    score.py --list-sites

--site names the queries file and the directory the site's pages are
installed in (SITES below); --queries and --docs-root override them.

A result matches an answer when its link's path (no scheme, host, query or
fragment, no leading "/", percent-decoded) equals the answer exactly
(anchor@1 also compares the fragment, for answers written "path#anchor"):
"book/" and "book/index.html" are different pages here, so answers are
never directory indexes. A failed request (HTTP error, timeout, bad JSON)
counts as not found and is reported.

Python 3.11, standard library only.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

KINDS = ("title", "question", "api", "misspelling", "error")
# Fewer queries than this make a kind's scores swing by whole tenths.
MIN_PER_KIND = 14
PER_PAGE = 10
HERE = os.path.dirname(os.path.abspath(__file__))


def rust_docs_root():
    try:
        sysroot = subprocess.run(["rustc", "--print", "sysroot"], capture_output=True, text=True,
                                 check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError) as e:
        sys.exit(f"rustc cannot say where its docs are: {e}")
    return os.path.join(sysroot, "share", "doc", "rust", "html")


@dataclass
class Site:
    """A documentation site of the evaluation: who made it, where it is
    installed, how to install it, and whether the ranking was tuned on it."""
    generator: str
    docs_root: object  # a path, or a function that finds it
    install: str
    tuned_on: bool

    def root(self):
        return self.docs_root() if callable(self.docs_root) else self.docs_root


SITES = {
    "rust": Site("rustdoc and mdBook", rust_docs_root, "rustup component add rust-docs", True),
    "python": Site("Sphinx", "/usr/share/doc/python3-doc/html", "apt-get install python3-doc", True),
    "postgresql": Site("DocBook (xsltproc)", "/usr/share/doc/postgresql-doc-15/html",
                       "apt-get install postgresql-doc-15", True),
    # Held out until its first run showed a fault, which was then fixed:
    # tuned on since (README.md).
    "javadoc": Site("javadoc", "/usr/share/doc/openjdk-17-doc/api", "apt-get install openjdk-17-doc", True),
    # Held out until §29 named Doxygen's pages from their titles because of
    # it: tuned on since (README.md).
    "libstdcxx": Site("Doxygen (API) and DocBook (manual)", "/usr/share/doc/gcc-12-base/libstdc++",
                      "apt-get install libstdc++-12-doc", True),
    # Held out: written before trawl searched it, nobody tunes the ranking
    # on it (BENCHMARKS.md §29, README.md).
    "git": Site("AsciiDoc (manual pages) and DocBook (user manual)", "/usr/share/doc/git-doc",
                "apt-get install git-doc", False),
}


@dataclass
class Query:
    line: int
    kind: str
    text: str
    answers: list[str]
    note: str
    # The answers written with a section's anchor: "path#anchor" (decoded).
    anchored: list[str]

    @property
    def key(self):
        return f"{self.kind}\t{self.text}"


def load_queries(path):
    """Reads queries.tsv, rejecting any malformed line with its number."""
    queries, seen, problems = [], set(), []
    with open(path, encoding="utf-8") as f:
        for number, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if number == 1 and line.startswith("kind\t"):
                continue  # the header
            if not line.strip() or line.startswith("#"):
                continue
            cols = line.split("\t")
            if len(cols) != 4:
                problems.append(f"{path}:{number}: expected 4 tab-separated columns, got {len(cols)}")
                continue
            kind, text, answers, note = cols
            written = [a.strip() for a in answers.split("|") if a.strip()]
            answers = [normalize_path(a) for a in written]
            anchored = [normalize_link(a) for a in written if "#" in a]
            if kind not in KINDS:
                problems.append(f"{path}:{number}: unknown kind {kind!r} (one of {', '.join(KINDS)})")
            elif not text.strip() or not answers:
                problems.append(f"{path}:{number}: empty query or answers")
            elif (kind, text) in seen:
                problems.append(f"{path}:{number}: duplicate query {text!r}")
            else:
                seen.add((kind, text))
                queries.append(Query(number, kind, text, answers, note, anchored))
    if problems:
        sys.exit("\n".join(problems))
    return queries


def normalize_path(link):
    """The comparable form of a result link or an answer: the URL path
    without scheme, host, query, fragment and leading slashes, decoded."""
    parts = urllib.parse.urlsplit(link.strip())
    return urllib.parse.unquote(parts.path).lstrip("/")


def normalize_link(link):
    """A result link or an answer as path#anchor (anchor decoded), or the
    path alone when there is no anchor."""
    parts = urllib.parse.urlsplit(link.strip())
    path = urllib.parse.unquote(parts.path).lstrip("/")
    return f"{path}#{urllib.parse.unquote(parts.fragment)}" if parts.fragment else path


def search(api, query, params, timeout_secs):
    """Returns (result links as path#anchor, None) or (None, error description)."""
    args = [("query", query), ("per_page", str(PER_PAGE))] + params
    url = f"{api.rstrip('/')}/api/v1/search?{urllib.parse.urlencode(args)}"
    try:
        with urllib.request.urlopen(url, timeout=timeout_secs) as response:
            body = json.load(response)
        return [normalize_link(r.get("link", "")) for r in body["results"]][:PER_PAGE], None
    except urllib.error.HTTPError as e:
        detail = e.read(300).decode("utf-8", "replace").strip()
        return None, f"HTTP {e.code} {detail}"
    except (urllib.error.URLError, TimeoutError, OSError) as e:
        return None, f"request failed after at most {timeout_secs:g} s: {getattr(e, 'reason', e)}"
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        return None, f"unexpected response: {e!r}"


def score_queries(api, queries, params, timeout_secs):
    """Sends every query; returns the per-query records and the
    (query, error) pairs of the requests that failed."""
    per_query, errors = [], []
    for q in queries:
        links, error = search(api, q.text, params, timeout_secs)
        rank = None
        if error:
            errors.append((q, error))
        else:
            for i, link in enumerate(links, 1):
                if link.split("#", 1)[0] in q.answers:
                    rank = i
                    break
        top = links or []
        anchor_hit = bool(q.anchored) and bool(top) and top[0] in q.anchored
        per_query.append({"kind": q.kind, "query": q.text, "answers": q.answers, "rank": rank,
                          "anchored": q.anchored, "anchor_hit": anchor_hit,
                          "error": error, "top": top})
    return per_query, errors


def summarize(records):
    """queries, MRR@10, success@1, success@10 over {"rank"} records (rank
    None: not in the first ten); and over those with an anchored answer,
    how many there are and the share whose top result is that section
    (anchor@1)."""
    ranks = [r["rank"] for r in records]
    n = len(ranks)
    anchored = [r for r in records if r.get("anchored")]
    out = {"queries": n, "mrr@10": 0.0, "success@1": 0.0, "success@10": 0.0,
           "anchored": len(anchored), "anchor@1": 0.0}
    if n:
        out["mrr@10"] = sum(1 / r for r in ranks if r) / n
        out["success@1"] = sum(1 for r in ranks if r == 1) / n
        out["success@10"] = sum(1 for r in ranks if r) / n
    if anchored:
        out["anchor@1"] = sum(1 for r in anchored if r.get("anchor_hit")) / len(anchored)
    return out


def summaries(per_query):
    """Per kind and overall, from {"kind", "rank", ...} records."""
    out = {}
    for kind in KINDS:
        records = [q for q in per_query if q["kind"] == kind]
        if records:
            out[kind] = summarize(records)
    out["overall"] = summarize(per_query)
    return out


def print_table(table):
    print(f"{'kind':<12} {'queries':>7} {'MRR@10':>7} {'succ@1':>7} {'succ@10':>7} {'anchored':>8} {'anchor@1':>8}")
    for kind, s in table.items():
        print(f"{kind:<12} {s['queries']:>7} {s['mrr@10']:>7.3f} {s['success@1']:>7.3f} {s['success@10']:>7.3f}"
              f" {s.get('anchored', 0):>8} {s.get('anchor@1', 0.0):>8.3f}")


def run(args):
    queries = load_queries(args.queries)
    params = []
    for p in args.param:
        key, sep, value = p.partition("=")
        if not sep or not key:
            sys.exit(f"--param wants key=value, got {p!r}")
        params.append((key, value))

    started = time.time()
    per_query, errors = score_queries(args.api, queries, params, args.timeout)
    elapsed = time.time() - started

    table = summaries(per_query)
    # Written before printing, so that a closed pipe (| head) cannot lose it.
    if args.json:
        report = {"site": args.site, "api": args.api, "params": dict(params), "queries_file": os.path.abspath(args.queries),
                  "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
                  "errors": len(errors), "summary": table, "per_query": per_query}
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=1, ensure_ascii=False)
            f.write("\n")
    print(f"{args.api} params={dict(params)} queries={len(queries)} errors={len(errors)} "
          f"wall={elapsed:.1f}s")
    print_table(table)
    if errors:
        print("\nerrors (counted as not found):")
        for q, error in errors:
            print(f"  [{q.kind}] {q.text!r}: {error}")
    if args.show_misses:
        print("\nmisses (no answer in the first ten):")
        for r in per_query:
            if r["rank"] is None and not r["error"]:
                print(f"  [{r['kind']}] {r['query']!r}  want {r['answers'][0]}")
                for path in r["top"][:3]:
                    print(f"      got {path}")
                if not r["top"]:
                    print("      got no results")
    # Every query failing means the API is not there: say so in the exit code.
    return 2 if queries and len(errors) == len(queries) else 0


def compare(before_path, after_path):
    reports = []
    for path in (before_path, after_path):
        try:
            with open(path, encoding="utf-8") as f:
                reports.append(json.load(f))
        except (OSError, ValueError) as e:
            sys.exit(f"cannot read {path}: {e}")
    before, after = reports
    old = {f"{q['kind']}\t{q['query']}": q for q in before["per_query"]}
    new = {f"{q['kind']}\t{q['query']}": q for q in after["per_query"]}
    common = [k for k in old if k in new]
    if len(common) != len(old) or len(common) != len(new):
        print(f"note: comparing the {len(common)} queries both runs share "
              f"({len(old)} before, {len(new)} after)")
    a = summaries([old[k] for k in common])
    b = summaries([new[k] for k in common])
    print(f"before: {before_path} params={before.get('params')}")
    print(f"after:  {after_path} params={after.get('params')}")
    print(f"{'kind':<12} {'queries':>7} {'MRR@10':>16} {'succ@1':>16} {'succ@10':>16}")
    for kind in b:
        cells = [f"{b[kind][m]:.3f} ({b[kind][m] - a[kind][m]:+.3f})" for m in ("mrr@10", "success@1", "success@10")]
        print(f"{kind:<12} {b[kind]['queries']:>7} {cells[0]:>16} {cells[1]:>16} {cells[2]:>16}")

    def worse(r_old, r_new):
        return r_old is not None and (r_new is None or r_new > r_old)

    worse_keys = [k for k in common if worse(old[k]["rank"], new[k]["rank"])]
    better = sum(1 for k in common if worse(new[k]["rank"], old[k]["rank"]))
    print(f"\n{better} queries better, {len(worse_keys)} worse")
    for k in worse_keys:
        fmt = lambda r: "-" if r is None else str(r)
        kind, text = k.split("\t", 1)
        error = f" ({new[k]['error']})" if new[k].get("error") else ""
        print(f"  worse [{kind}] {text!r}: rank {fmt(old[k]['rank'])} -> {fmt(new[k]['rank'])}{error}")
    return 0


def is_redirect_stub(path):
    with open(path, "rb") as f:
        head = f.read(4096).lower()
    return b'http-equiv="refresh"' in head


def check_paths(queries_path, docs_root):
    if not os.path.isdir(docs_root):
        sys.exit(f"no such directory: {docs_root}")
    queries = load_queries(queries_path)
    problems = []
    answers = 0
    for q in queries:
        for answer in q.answers:
            answers += 1
            where = f"{queries_path}:{q.line} [{q.kind}] {q.text!r}: {answer}"
            full = os.path.join(docs_root, answer)
            if not os.path.isfile(full):
                problems.append(f"{where}: no such file")
            elif is_redirect_stub(full):
                problems.append(f"{where}: a redirect stub, not a page")
            elif os.path.basename(answer) in ("index.html", "print.html"):
                problems.append(f"{where}: index and print pages are not answers")
        for link in q.anchored:
            path, anchor = link.split("#", 1)
            full = os.path.join(docs_root, path)
            if os.path.isfile(full):
                with open(full, encoding="utf-8", errors="replace") as f:
                    html = f.read()
                if f'id="{anchor}"' not in html and f'name="{anchor}"' not in html:
                    problems.append(f"{queries_path}:{q.line} [{q.kind}] {q.text!r}: no id {anchor!r} in {path}")
    counts = {k: sum(1 for q in queries if q.kind == k) for k in KINDS}
    for kind, count in counts.items():
        if count < MIN_PER_KIND:
            problems.append(f"{queries_path}: {count} {kind} queries, fewer than {MIN_PER_KIND}")
    print(f"{len(queries)} queries ({', '.join(f'{k} {n}' for k, n in counts.items())}), "
          f"{answers} answer paths under {docs_root}")
    for p in problems:
        print(p)
    print("ok" if not problems else f"{len(problems)} problems")
    return 1 if problems else 0


def main():
    # Piped into head: end quietly like other command-line tools.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--api", help="base URL of the query API, e.g. http://127.0.0.1:8080")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                        help="extra query parameter for every search (repeatable)")
    parser.add_argument("--site", choices=sorted(SITES), default="rust",
                        help="the site whose queries and docs to use (default rust)")
    parser.add_argument("--list-sites", action="store_true", help="print the sites, then exit")
    parser.add_argument("--queries", help="the queries file (default: sites/SITE/queries.tsv)")
    parser.add_argument("--json", metavar="OUT", help="write per-query ranks and the summary here")
    parser.add_argument("--show-misses", action="store_true",
                        help="list queries with no answer in the first ten, with what came instead")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per request (default 10)")
    parser.add_argument("--compare", nargs=2, metavar=("BEFORE", "AFTER"),
                        help="compare two --json reports: per-kind deltas and the queries that got worse")
    parser.add_argument("--check-paths", action="store_true",
                        help="verify every answer is a page under --docs-root, then exit")
    parser.add_argument("--docs-root", help="the docs directory (default: where SITE is installed)")
    args = parser.parse_args()
    site = SITES[args.site]
    args.queries = args.queries or os.path.join(HERE, "sites", args.site, "queries.tsv")

    if args.list_sites:
        for name, s in SITES.items():
            print(f"{name}\t{s.generator}\t{s.root()}\t{'tuned on' if s.tuned_on else 'held out'}\t{s.install}")
        return 0

    if args.compare:
        return compare(*args.compare)
    if args.check_paths:
        return check_paths(args.queries, args.docs_root or site.root())
    if not args.api:
        parser.error("one of --api, --compare or --check-paths is required")
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
