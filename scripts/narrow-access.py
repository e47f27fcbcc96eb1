#!/usr/bin/env python3
"""Issue 24, "layers that hide": demote `package` declarations that no other target uses to internal.

A declaration `package ... NAME` in Sources/T stays `package` when NAME (as a word) appears in any file outside T:
another source target, Tests/, Benchmarks/. Everything else becomes internal (the keyword is removed). Names that
cannot be looked up by their name (init, subscript, operators, extensions) keep `package`. The compiler is the
judge: `scripts/narrow-access-revert.py BUILD_LOG` puts `package` back on every demoted declaration the build's errors
name (a signature needing it, a protocol requirement), run after each failed build until the build passes.

usage: scripts/narrow-access.py count            # package declarations, and how many are used elsewhere
       scripts/narrow-access.py apply            # demote
       swift build --build-tests > /tmp/b.log 2>&1; scripts/narrow-access-revert.py /tmp/b.log   # until it builds
"""
import os
import re
import sys
from collections import defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DECL = re.compile(
    r"^(\s*)(?:@\w+(?:\([^)]*\))?\s+)*package\s+((?:(?:static|final|mutating|nonmutating|override|lazy|indirect|"
    r"convenience|required|nonisolated|dynamic|private\(set\)|fileprivate\(set\)|internal\(set\))\s+)*)"
    r"(func|var|let|struct|enum|class|actor|protocol|typealias|case)\s+`?([A-Za-z_][A-Za-z0-9_]*)")


def swift_files(top):
    for d, _, fs in os.walk(top):
        for f in fs:
            if f.endswith(".swift"):
                yield os.path.join(d, f)


def target_of(path):
    rel = os.path.relpath(path, ROOT).split(os.sep)
    return rel[0] + "/" + rel[1] if rel[0] in ("Sources", "Tests", "Benchmarks") else rel[0]


def load():
    files = {}
    for top in ("Sources", "Tests", "Benchmarks"):
        for p in swift_files(os.path.join(ROOT, top)):
            files[p] = open(p, encoding="utf-8").read()
    words = defaultdict(set)  # word -> targets using it
    for p, text in files.items():
        t = target_of(p)
        for w in set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text)):
            words[w].add(t)
    return files, words


def decls(files):
    for p, text in files.items():
        if not p.startswith(os.path.join(ROOT, "Sources")):
            continue
        for n, line in enumerate(text.split("\n")):
            m = DECL.match(line)
            if m:
                yield p, n, m.group(4)


def main():
    mode = sys.argv[1]
    files, words = load()
    if mode == "count":
        total = used = 0
        for p, n, name in decls(files):
            total += 1
            if words[name] - {target_of(p)}:
                used += 1
        all_pkg = sum(len(re.findall(r"\bpackage\s+(?!import)", t)) for p, t in files.items() if "/Sources/" in p)
        print(f"package keywords in Sources: {all_pkg}; named declarations: {total}; used outside their target: {used}")
        return
    if mode == "apply":
        changed = defaultdict(set)
        for p, n, name in decls(files):
            if not (words[name] - {target_of(p)}):
                changed[p].add(n)
        count = 0
        for p, lines in changed.items():
            ls = files[p].split("\n")
            for n in lines:
                ls[n] = re.sub(r"\bpackage\s+", "", ls[n], count=1)
                count += 1
            open(p, "w", encoding="utf-8").write("\n".join(ls))
        print(f"demoted {count} declarations in {len(changed)} files")
        return
    raise SystemExit("modes: count, apply (then scripts/narrow-access-revert.py BUILD_LOG until the build passes)")

if __name__ == "__main__":
    main()
