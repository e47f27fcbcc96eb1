#!/usr/bin/env python3
"""Puts `package` back on the declarations scripts/narrow-access.py demoted that a failed build's errors name.

usage: scripts/narrow-access-revert.py BUILD_LOG [EXTRA_NAME ...]   (run in the repository root, tree not committed)
"""
import re, subprocess, sys
log = open(sys.argv[1], errors="replace").read().split("\n")
names = set()
for i, l in enumerate(log):
    if "note: type declared here" in l or "note: " in l and "declared here" in l:
        # previous snippet line with code
        for k in range(i - 1, max(0, i - 4), -1):
            m = re.search(r"\|\s*(?:.*\s)?(?:struct|enum|class|actor|protocol|typealias|func|var|let|case)\s+`?([A-Za-z_][A-Za-z0-9_]*)", log[k])
            if m:
                names.add(m.group(1)); break
    m = re.search(r"error: (?:property|method|initializer|subscript|instance method|static method) '([A-Za-z_][A-Za-z0-9_]*)(?:\(.*?\))?' must be (?:as accessible|declared)", l)
    if m: names.add(m.group(1))
    m = re.search(r"because its type '([A-Za-z_][A-Za-z0-9_]*)' uses", l)
    if m: names.add(m.group(1))
    m = re.search(r"error: '([A-Za-z_][A-Za-z0-9_]*)' is inaccessible due to 'internal'", l)
    if m: names.add(m.group(1))
    m = re.search(r"error: .*'([A-Za-z_][A-Za-z0-9_]*)' (?:is|was) (?:internal|declared internal)", l)
    if m: names.add(m.group(1))
for i, l in enumerate(log):
    m = re.search(r"\|\s*extension .* where \w+ == `?([A-Za-z_][A-Za-z0-9_]*)", l)
    if m: names.add(m.group(1))
names |= set(sys.argv[2:])
print("names:", sorted(names))
diff = subprocess.run(["git", "diff", "-U0", "--no-color", "--", "Sources"], capture_output=True, text=True).stdout
restore = {}  # file -> set of removed-line texts to restore
cur = None
for l in diff.split("\n"):
    if l.startswith("+++ b/"): cur = l[6:]
    elif l.startswith("-") and not l.startswith("---") and "package " in l:
        m = re.search(r"package\s+(?:\w+\s+)*?(?:func|var|let|struct|enum|class|actor|protocol|typealias|case)\s+`?([A-Za-z_][A-Za-z0-9_]*)", l)
        if m and m.group(1) in names:
            restore.setdefault(cur, []).append(l[1:])
n = 0
for f, olds in restore.items():
    lines = open(f).read().split("\n")
    for old in olds:
        new = re.sub(r"\bpackage\s+", "", old, count=1)
        for i, x in enumerate(lines):
            if x == new:
                lines[i] = old; n += 1; break
    open(f, "w").write("\n".join(lines))
print("restored", n)
