#!/usr/bin/env python3
"""Benchmark `judgepanel score --dry-run` (streamed planning): writes ITEMS pairwise items and a panel of JUDGES priced
OpenAI judges (swap on: ITEMS x JUDGES x 2 calls), runs the dry run under /usr/bin/time -v and prints its wall time
and peak RSS (figures go to BENCHMARKS.md, "Dry run").

  swift build -c release --product judgepanel
  python3 scripts/bench_dryrun.py [--items 2500000] [--judges 2] [--bin .build/release/judgepanel] [--dir /tmp/jp-bench-dry]

Nothing is sent: the judges point at a closed port and a dry run makes no call.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

ap = argparse.ArgumentParser()
ap.add_argument("--items", type=int, default=2_500_000)
ap.add_argument("--judges", type=int, default=2)
ap.add_argument("--bin", default=".build/release/judgepanel")
ap.add_argument("--dir", default="/tmp/jp-bench-dry")
args = ap.parse_args()

shutil.rmtree(args.dir, ignore_errors=True)
os.makedirs(args.dir)
items = os.path.join(args.dir, "items.jsonl")
with open(items, "w") as f:
    for i in range(args.items):
        f.write('{"id":"i%d","prompt":"Question %d?","response_a":"Answer alpha %d.","response_b":"Answer beta %d.","label":"%s"}\n'
                % (i, i, i, i, "AB"[i % 2]))
panel = os.path.join(args.dir, "panel.yaml")
with open(panel, "w") as f:
    f.write("version: 1\njudges:\n")
    for j in range(args.judges):
        f.write(f"  - {{name: j{j}, provider: openai, base_url: \"http://127.0.0.1:9/v1\", model: m{j}, "
                "price: {input_per_mtok: 0.15, output_per_mtok: 0.6}}\n")
    f.write("aggregate: majority\nswap: true\nflip: tie\n")
size = os.path.getsize(items)
print(f"{args.items} items ({size / 1e6:.0f} MB), {args.judges} judges, swap: {args.items * args.judges * 2} calls planned")
r = subprocess.run(["/usr/bin/time", "-v", args.bin, "score", items, "--rubric", "rubrics/pairwise-mtbench.yaml",
                    "--panel", panel, "--dry-run", "--no-cache", "--out", os.path.join(args.dir, "run")],
                   capture_output=True, text=True)
if r.returncode != 0:
    sys.stderr.write(r.stdout[-2000:] + r.stderr[-4000:])
    sys.exit(r.returncode)
print(r.stdout.strip().splitlines()[-1])
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1))
wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", r.stderr).group(1)
print(f"dry run: wall {wall}, peak RSS {rss / 1024:.0f} MiB")
shutil.rmtree(args.dir, ignore_errors=True)
