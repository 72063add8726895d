#!/usr/bin/env python3
"""Builds the labelled page pairs of the near-duplicate evaluation from the
local Rust documentation (BENCHMARKS.md, "Near-duplicate detection").

Pairs, by rule rather than by hand, so that anyone can rebuild and check them:

- duplicate: a page of `std` and the page of `core` or `alloc` at the same
  path that document the same own members: the same methods, variants,
  fields and associated items (rustdoc's anchors `method.*`, `variant.*`,
  ...) before the trait implementations. These are re-exports: one set of
  doc comments rendered twice, under two crate names (std lists a few more
  trait implementations, which rustdoc adds per crate).
- distinct: two pages that share rustdoc's template but document different
  things. Half are the hardest case there is: the `std` and `core`/`alloc`
  pages of one item whose own members differ by at least a fifth (std adds
  methods: f64, slices, str); half are two different items of the same
  kind in one module (two structs, two functions).
- Pairs in between (own members that differ by less than a fifth) are left
  out: whether they are duplicates is a matter of opinion.

Usage: make-pairs.py DOCS_ROOT OUT.tsv [PAIRS_PER_LABEL]
Each line: label, then the two page paths relative to DOCS_ROOT.
"""
import os
import random
import re
import sys

MEMBER = re.compile(
    r'id="((?:method|tymethod|variant|structfield|associatedconstant|associatedtype)\.[^"]+)"')


def item_list(path):
    """The members a page documents itself (before its trait
    implementations), sorted. Pages without members (a function, a macro, a
    module) have none to compare and are left out."""
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    own = text.split('id="trait-implementations"', 1)[0]
    return sorted(set(MEMBER.findall(own)))


def main():
    root, out = sys.argv[1], sys.argv[2]
    per_label = int(sys.argv[3]) if len(sys.argv) > 3 else 150
    rng = random.Random(7)

    same, differ = [], []
    for dirpath, _, files in os.walk(os.path.join(root, "std")):
        for name in files:
            if not name.endswith(".html") or name in ("all.html", "index.html"):
                continue
            std_page = os.path.relpath(os.path.join(dirpath, name), root)
            rest = std_page[len("std/"):]
            for other_crate in ("core", "alloc"):
                other = os.path.join(other_crate, rest)
                if not os.path.exists(os.path.join(root, other)):
                    continue
                a, b = item_list(os.path.join(root, std_page)), item_list(os.path.join(root, other))
                if not a or not b:
                    continue  # a page without members, or a redirect stub
                if a == b:
                    same.append((std_page, other))
                elif len(set(a) ^ set(b)) >= max(len(a), len(b)) / 5:
                    differ.append((std_page, other))

    # Two items of one kind in one module: struct.A.html and struct.B.html.
    kinds = {}
    for dirpath, _, files in os.walk(root):
        for name in files:
            kind = name.split(".")[0]
            if name.endswith(".html") and kind in ("struct", "enum", "trait", "fn", "macro", "type", "constant"):
                kinds.setdefault((dirpath, kind), []).append(os.path.relpath(os.path.join(dirpath, name), root))
    siblings = []
    for pages in kinds.values():
        pages.sort()
        for a, b in zip(pages, pages[1:]):
            siblings.append((a, b))

    same.sort()
    differ.sort()
    siblings.sort()
    duplicates = rng.sample(same, min(per_label, len(same)))
    hard = rng.sample(differ, min(per_label // 2, len(differ)))
    easy = rng.sample(siblings, per_label - len(hard))
    with open(out, "w") as f:
        f.write("# label\tpage_a\tpage_b  (made by make-pairs.py; see its docstring)\n")
        for a, b in sorted(duplicates):
            f.write(f"duplicate\t{a}\t{b}\n")
        for a, b in sorted(hard + easy):
            f.write(f"distinct\t{a}\t{b}\n")
    print(f"{len(same)} re-exported pages with the same items, {len(differ)} with different items, "
          f"{len(siblings)} sibling pairs; wrote {len(duplicates)} duplicate and {len(hard) + len(easy)} "
          f"distinct pairs ({len(hard)} std/core pairs with different items) to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
