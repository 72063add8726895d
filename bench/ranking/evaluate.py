#!/usr/bin/env python3
"""Measures trawl's ranking against plain BM25 on every documentation site
of the evaluation (score.py's SITES): serves each site's installed pages on
loopback with nginx, crawls them whole with `trawl crawl`, serves the
index with `trawl serve`, scores the site's queries with the default
ranking and with `ranking=baseline`, and prints one table per site and a
summary table (the one in BENCHMARKS.md).

    evaluate.py --trawl target/release/trawl [--sites rust,python,...]
                [--work /tmp/trawl-ranking] [--reuse] [--out DIR]

--reuse keeps a site's index from an earlier run (crawl once, score many
times while changing only the query side); without it every site is
crawled afresh. --out keeps each run's score.py JSON (SITE-trawl.json,
SITE-baseline.json) for score.py --compare.

Python 3.11, standard library only; nginx (scripts/serve-docs).
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import score  # noqa: E402  (the scorer beside this file)

# Every site is crawled the same way: politeness off (one loopback host),
# nothing else changed from the defaults.
CRAWL_FLAGS = ["--allow-private", "--delay-ms", "0", "--delay-factor", "0",
               "--per-host", "16", "--per-ip", "16", "--concurrency", "32"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    sys.exit(f"{url} did not answer within {seconds} s")


def documents(api):
    with urllib.request.urlopen(f"{api}/readyz", timeout=5) as r:
        return json.load(r).get("documents")


def evaluate_site(name, args):
    site = score.SITES[name]
    root = site.root()
    if not os.path.isdir(root):
        sys.exit(f"{name}: {root} is missing; install it with: {site.install}")
    data_dir = os.path.join(args.work, name)
    docs_port = free_port()
    serve_docs = os.path.join(REPO, "scripts", "serve-docs")
    subprocess.run([serve_docs, "start", str(docs_port), root], check=True, stdout=subprocess.DEVNULL)
    server = None
    try:
        if not (args.reuse and os.path.isdir(data_dir)):
            shutil.rmtree(data_dir, ignore_errors=True)
            seed = f"http://127.0.0.1:{docs_port}/index.html"
            started = time.time()
            crawl = subprocess.run([args.trawl, "crawl", "--seed", seed, "--data-dir", data_dir, *CRAWL_FLAGS],
                                   capture_output=True, text=True)
            if crawl.returncode != 0:
                sys.exit(f"{name}: crawl failed ({crawl.returncode}):\n{crawl.stderr[-2000:]}")
            print(f"{name}: crawled in {time.time() - started:.0f} s:\n{crawl.stdout.strip()}",
                  file=sys.stderr)
        api_port = free_port()
        api = f"http://127.0.0.1:{api_port}"
        server = subprocess.Popen([args.trawl, "serve", "--data-dir", data_dir, "--listen", f"127.0.0.1:{api_port}"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_ready(f"{api}/readyz", 120)
        queries = score.load_queries(os.path.join(HERE, "sites", name, "queries.tsv"))
        result = {"site": name, "generator": site.generator, "tuned_on": site.tuned_on,
                  "documents": documents(api)}
        for ranking, params in (("baseline", [("ranking", "baseline")]), ("trawl", [])):
            per_query, errors = score.score_queries(api, queries, params, args.timeout)
            if errors:
                print(f"{name} {ranking}: {len(errors)} requests failed, e.g. {errors[0][1]}", file=sys.stderr)
            result[ranking] = score.summaries(per_query)
            if args.out:
                os.makedirs(args.out, exist_ok=True)
                with open(os.path.join(args.out, f"{name}-{ranking}.json"), "w", encoding="utf-8") as f:
                    json.dump({"site": name, "api": api, "params": dict(params), "errors": len(errors),
                               "summary": result[ranking], "per_query": per_query}, f, indent=1,
                              ensure_ascii=False)
        return result
    finally:
        if server:
            server.terminate()
            server.wait()
        subprocess.run([serve_docs, "stop", str(docs_port)], check=False)


def print_site(r):
    held = "tuned on" if r["tuned_on"] else "held out"
    print(f"\n{r['site']} ({r['generator']}, {held}, {r['documents']} documents)")
    print(f"| kind | queries | BM25 MRR@10 | trawl MRR@10 | BM25 success@1 | trawl success@1 |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for kind, t in r["trawl"].items():
        b = r["baseline"][kind]
        print(f"| {kind} | {t['queries']} | {b['mrr@10']:.3f} | {t['mrr@10']:.3f} | "
              f"{b['success@1']:.3f} | {t['success@1']:.3f} |")


def print_summary(results):
    print("\n| site | generator | | documents | queries | BM25 MRR@10 | trawl MRR@10 | difference |"
          " BM25 success@1 | trawl success@1 | kinds below BM25 | anchor@1 BM25 / trawl |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |")
    for r in results:
        t, b = r["trawl"]["overall"], r["baseline"]["overall"]
        below = [k for k in score.KINDS if k in r["trawl"] and r["trawl"][k]["mrr@10"] < r["baseline"][k]["mrr@10"]]
        anchors = f"{b['anchor@1']:.3f} / {t['anchor@1']:.3f} ({t['anchored']})" if t["anchored"] else "-"
        print(f"| {r['site']} | {r['generator']} | {'tuned on' if r['tuned_on'] else 'held out'} | "
              f"{r['documents']} | {t['queries']} | {b['mrr@10']:.3f} | {t['mrr@10']:.3f} | "
              f"{t['mrr@10'] - b['mrr@10']:+.3f} | {b['success@1']:.3f} | {t['success@1']:.3f} | "
              f"{', '.join(below) or 'none'} | {anchors} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trawl", required=True, help="the trawl binary")
    parser.add_argument("--sites", default=",".join(score.SITES), help="comma-separated (default: all)")
    parser.add_argument("--work", default="/tmp/trawl-ranking", help="where the sites' indexes go")
    parser.add_argument("--reuse", action="store_true", help="keep an index from an earlier run")
    parser.add_argument("--out", help="write each site's score.py JSON here")
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args()
    args.trawl = os.path.abspath(args.trawl)
    names = [s for s in args.sites.split(",") if s]
    unknown = [s for s in names if s not in score.SITES]
    if unknown:
        parser.error(f"unknown sites {unknown}; known: {', '.join(score.SITES)}")
    results = [evaluate_site(name, args) for name in names]
    for r in results:
        print_site(r)
    print_summary(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
