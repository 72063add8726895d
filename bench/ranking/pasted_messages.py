#!/usr/bin/env python3
"""Error messages pasted with the user's own values: does the search still
find the page that shows the message, or the page that explains its code?

People paste what their compiler or server printed, with their own names in
it ("cannot find value `running_total` in this scope", "password
authentication failed for user "postgres""), where the documentation shows
the same message with its example's names (`x`, "andym"). This reads every
message a site's pages quote after a severity (`error[E0425]:`, `error:`,
`FATAL:`, in any case), keeps those with a value (a word in backticks,
single or double quotes), and asks each twice: with the values as the page has them, and with
each value replaced by another name. A message pasted without its code is
answered by the page of its code when the site has one
(`error_codes/E0425.html`), else by any page that quotes it.

    pasted_messages.py --docs-root DIR --api http://127.0.0.1:8080 [--json out.json]

A message with no other word than its values (`` `x` is ambiguous ``, two
words once `x` is left out) cannot be told from another by its words: the
report counts those apart.

Python 3.11, standard library only.
"""
import argparse
import html
import json
import os
import re
import sys
import urllib.parse
import urllib.request

# A severity as a word of its own: not `KeyError:`, not `on_error:`.
MARKER = re.compile(r"(?<![\w.])(?:error\[(E\d{4})\]|(?i:error|fatal)):\s+")
VALUE = re.compile(r"`[^`\s]{1,40}`|'[^'\s]{1,40}'|\"[^\"\s]{1,40}\"")
OWN_NAMES = ["running_total", "customer_orders", "zebra"]
MESSAGE_WORDS = 12


def page_texts(root):
    for dirpath, _, files in os.walk(root):
        for name in files:
            if not name.endswith(".html"):
                continue
            path = os.path.join(dirpath, name)
            with open(path, encoding="utf-8", errors="replace") as f:
                raw = f.read()
            raw = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", raw)
            text = html.unescape(re.sub(r"<[^>]+>", " ", raw))
            yield os.path.relpath(path, root), text


def messages_of(text):
    """(code, message) for each message the text quotes: the words after
    its marker up to the end of its line or a `-->`, at most MESSAGE_WORDS."""
    for match in MARKER.finditer(text):
        rest = text[match.end():match.end() + 400]
        rest = re.split(r"\n|-->|\s\|\s", rest)[0]
        words = rest.split()[:MESSAGE_WORDS]
        if len(words) >= 3:
            yield match.group(1), " ".join(words)


def with_own_values(message):
    count = 0

    def replace(match):
        nonlocal count
        quote = match.group(0)[0]
        name = OWN_NAMES[count % len(OWN_NAMES)]
        count += 1
        return f"{quote}{name}{quote}"

    return VALUE.sub(replace, message)


def search(api, query):
    """The paths of the first 10 results, or None when the request failed."""
    args = urllib.parse.urlencode({"query": query, "per_page": "10"})
    try:
        with urllib.request.urlopen(f"{api.rstrip('/')}/api/v1/search?{args}", timeout=60) as r:
            results = json.load(r)["results"]
    except (OSError, ValueError, KeyError) as e:
        print(f"request failed for {query!r}: {e}", file=sys.stderr)
        return None
    return [urllib.parse.unquote(urllib.parse.urlparse(r["link"]).path).lstrip("/") for r in results]


def words_besides_values(message):
    return len(VALUE.sub(" ", message).split())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs-root", required=True)
    parser.add_argument("--api", required=True)
    parser.add_argument("--json")
    parser.add_argument("--limit", type=int, default=10000, help="at most this many messages, in sorted order")
    args = parser.parse_args()

    quoting = {}  # message -> pages that quote it
    codes = {}
    for path, text in page_texts(args.docs_root):
        for code, message in messages_of(text):
            if VALUE.search(message):
                quoting.setdefault(message, set()).add(path)
                if code:
                    codes.setdefault(message, code)
    code_pages = {}
    for message, code in codes.items():
        if code and os.path.exists(os.path.join(args.docs_root, "error_codes", f"{code}.html")):
            code_pages[message] = {f"error_codes/{code}.html"}
    messages = sorted(quoting)[:args.limit]
    rows = []
    for message in messages:
        answers = code_pages.get(message) or quoting[message]
        row = {"message": message, "answers": sorted(answers)}
        row["words_besides_values"] = words_besides_values(message)
        for form, query in (("as_quoted", message), ("own_values", with_own_values(message))):
            links = search(args.api, query)
            rank = next((at + 1 for at, link in enumerate(links or []) if link in answers), None)
            row[form] = {"query": query, "rank": rank, "top": (links or [])[:3], "failed": links is None}
        rows.append(row)
    failed = sum(row[form]["failed"] for row in rows for form in ("as_quoted", "own_values"))
    print(f"{len(rows)} messages with a value ({sum(1 for m in messages if m in code_pages)} answered by a "
          f"code's page); {failed} requests failed (counted as not found)")
    groups = [("all", rows), ("3+ other words", [row for row in rows if row["words_besides_values"] >= 3]),
              ("fewer", [row for row in rows if row["words_besides_values"] < 3])]
    for name, group in groups:
        for form in ("as_quoted", "own_values"):
            ranks = [row[form]["rank"] for row in group]
            n = max(len(ranks), 1)
            mrr = sum(1 / r for r in ranks if r) / n
            s1 = sum(1 for r in ranks if r == 1) / n
            s10 = sum(1 for r in ranks if r) / n
            print(f"{name:15} {len(group):4} {form:11} MRR@10 {mrr:.3f}  success@1 {s1:.3f}  success@10 {s10:.3f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
