#!/usr/bin/env python3
"""The names a Doxygen site documents, as queries, one a line: each class,
struct and union page's name as its title writes it (`std::vector`,
template parameters left out), then each one's last part (`vector`),
then the functions the std namespace's page lists in bold
(`std::find`), each once. For bench/first-results.py (BENCHMARKS.md §41).

    bench/ranking/doxygen_names.py /usr/share/doc/gcc-12-base/libstdc++/user > /tmp/names.txt
"""
import glob
import html
import os
import re
import sys

TITLE = re.compile(r"<title>[^:<]*: (.*?) (?:Class|Struct|Union)(?: Template)? Reference</title>")
NAMESPACE_STD = "<title>libstdc++: std Namespace Reference</title>"
BOLD_MEMBER = re.compile(r'class="mem(?:Templ)?ItemRight"[^>]*><b>([A-Za-z_][A-Za-z0-9_]*)</b>')


def main():
    root = sys.argv[1]
    names, functions = set(), set()
    for path in sorted(glob.glob(os.path.join(root, "*.html"))):
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        found = TITLE.search(text[:3000])
        if found:
            name = html.unescape(found.group(1))
            names.add(name.split("<")[0].strip())
        if NAMESPACE_STD in text[:3000]:
            functions.update(BOLD_MEMBER.findall(text))
    queries = sorted(names)
    queries += [name.split("::")[-1] for name in sorted(names)]
    queries += ["std::" + function for function in sorted(functions)]
    seen = set()
    for query in queries:
        if query not in seen:
            seen.add(query)
            print(query)


if __name__ == "__main__":
    main()
