#!/usr/bin/env python3
"""Benchmark `judgepanel merge`: writes N synthetic shard run directories holding VOTES votes in total, then runs
`merge` under /usr/bin/time -v and prints its wall time and peak RSS (figures go to BENCHMARKS.md).

  swift build -c release --product judgepanel
  python3 scripts/bench_merge.py [--votes 1000000] [--shards 8] [--bin .build/release/judgepanel] [--dir /tmp/jp-bench-merge]

Items are pairwise with a human label; every item gets 2 judges x 2 orders x 2 samples = 8 votes, in the order a
score run writes them. The shard directories carry the config.json keys merge checks (same inputs, shard identity).
"""
import argparse
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys

ap = argparse.ArgumentParser()
ap.add_argument("--votes", type=int, default=1_000_000)
ap.add_argument("--shards", type=int, default=8)
ap.add_argument("--bin", default=".build/release/judgepanel")
ap.add_argument("--dir", default="/tmp/jp-bench-merge")
ap.add_argument("--resamples", type=int, default=1000)
ap.add_argument("--generate-only", action="store_true", help="write the shards and stop (run again with --reuse)")
ap.add_argument("--reuse", action="store_true", help="merge the shards an earlier --generate-only wrote")
args = ap.parse_args()

judges, orders, samples = ["alpha", "beta"], ["AB", "BA"], [0, 1]
per_item = len(judges) * len(orders) * len(samples)
n_items = args.votes // per_item


def shard_of(iid, n):
    return int.from_bytes(hashlib.sha256(iid.encode()).digest()[:8], "big") % n


def generate():
    shutil.rmtree(args.dir, ignore_errors=True)
    os.makedirs(args.dir)
    rng = random.Random(1)
    items_path = os.path.join(args.dir, "items.jsonl")
    ids = []
    with open(items_path, "w") as f:
        for i in range(n_items):
            iid = f"item-{i:07d}"
            ids.append(iid)
            label = rng.choice(["A", "B", "tie"])
            f.write(json.dumps({"id": iid, "prompt": f"Question {i}?", "response_a": f"Answer alpha {i}",
                                "response_b": f"Answer beta {i}", "label": label}) + "\n")
    items_sha = hashlib.sha256(open(items_path, "rb").read()).hexdigest()


    files = [open(os.path.join(args.dir, f"votes-{s}.tmp"), "w") for s in range(args.shards)]
    owned = [0] * args.shards
    for iid in ids:
        s = shard_of(iid, args.shards)
        owned[s] += 1
        for j in judges:
            for o in orders:
                for k in samples:
                    v = rng.choice(["A", "B", "tie"])
                    files[s].write(json.dumps({
                        "item": iid, "judge": j, "protocol": "pairwise", "order": o, "sample": k, "verdict": v,
                        "status": "ok", "raw": f"[[{v}]]", "usage": {"prompt_tokens": 180, "completion_tokens": 6},
                        "cost_usd": 0.000192, "latency_ms": round(rng.uniform(200, 900), 1), "cached": False,
                        "fingerprint": hashlib.sha256(f"{iid}{j}{o}{k}".encode()).hexdigest()},
                        separators=(",", ":"), sort_keys=True) + "\n")
    for f in files:
        f.close()

    config = {
        "analysis": {"aggregate": "majority", "alpha_level": None, "cluster_key": None, "flip": "tie",
                     "judge_order": judges, "protocol": "pairwise", "resamples": args.resamples, "seed": 0,
                     "tie_margin": 0.05, "weights": {j: 1 for j in judges}},
        "fingerprint": {"version": 1, "rubric": "r", "panel": "p", "judges": [], "rubric_parts": {}, "swap": True},
        "item_mapping": {"label_map": {}, "map": {}},
        "items": items_path, "items_sha256": items_sha,
        "panel": {"aggregate": "majority", "flip": "tie", "judges": [{"name": j} for j in judges], "source": "panel.yaml",
                  "swap": True},
        "rubric": {"id": "pairwise-mtbench", "protocol": "pairwise", "source": "", "template_sha256": ""},
    }
    for s in range(args.shards):
        d = os.path.join(args.dir, "shards", str(s))
        os.makedirs(d)
        os.rename(os.path.join(args.dir, f"votes-{s}.tmp"), os.path.join(d, "votes.jsonl"))
        votes = owned[s] * per_item
        c = dict(config)
        c["shard"] = {"index": s, "count": args.shards, "scheme": "sha256(id utf8)[0..<8] big-endian mod count",
                      "items": owned[s], "items_total": n_items}
        c["run"] = {"items_file": items_path, "rubric": "pairwise-mtbench", "protocol": "pairwise", "panel": "panel.yaml",
                    "judges": judges, "started": f"2026-11-29T20:0{s % 10}:00Z", "wall_s": 100.0 + s, "votes": votes,
                    "reused_from_journal": 0, "reasked": 0, "dropped_from_journal": 0, "http_calls": votes, "cached": 0,
                    "ok": votes, "abstain": 0, "error": 0, "prompt_tokens": 180 * votes, "completion_tokens": 6 * votes,
                    "cost_usd": 0.000192 * votes}
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(c, f, indent=2, sort_keys=True)


if not args.reuse:
    generate()
if args.generate_only:
    sys.exit(0)
shutil.rmtree(os.path.join(args.dir, "merged"), ignore_errors=True)
out = os.path.join(args.dir, "merged")
shards = [os.path.join(args.dir, "shards", str(s)) for s in range(args.shards)]
size = sum(os.path.getsize(os.path.join(d, "votes.jsonl")) for d in shards)
print(f"{n_items} items, {n_items * per_item} votes ({size / 1e6:.0f} MB of votes.jsonl) in {args.shards} shards")
r = subprocess.run(["/usr/bin/time", "-v", args.bin, "merge", *shards, "--out", out], capture_output=True, text=True)
if r.returncode != 0:
    sys.stderr.write(r.stdout[-2000:] + r.stderr[-4000:])
    sys.exit(r.returncode)
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1))
wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", r.stderr).group(1)
merged = sum(1 for _ in open(os.path.join(out, "votes.jsonl")))
print(f"merge: wall {wall}, peak RSS {rss / 1024:.0f} MiB, {merged} votes merged")
r = subprocess.run(["/usr/bin/time", "-v", args.bin, "report", out], capture_output=True, text=True)
if r.returncode != 0:
    sys.stderr.write(r.stdout[-2000:] + r.stderr[-4000:])
    sys.exit(r.returncode)
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1))
wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", r.stderr).group(1)
print(f"report DIR of the merged run: wall {wall}, peak RSS {rss / 1024:.0f} MiB")
