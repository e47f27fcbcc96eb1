#!/usr/bin/env python3
"""Seeded pairwise meta-evaluation data for scripts/bench_meta.sh.

Writes ITEMS.jsonl (N items with a human label) and VOTES.jsonl (N items x J judges x 2 orders, one sample each,
grouped by item as `judgepanel score` writes them; ~2 % abstentions, ~1 % failed calls). With --shuffle the vote
lines are written in a seeded random order (not grouped by item).

usage: gen_meta_votes.py N ITEMS VOTES [--judges 4] [--seed 1] [--shuffle]
"""
import argparse
import json
import random

ap = argparse.ArgumentParser()
ap.add_argument("n", type=int)
ap.add_argument("items")
ap.add_argument("votes")
ap.add_argument("--judges", type=int, default=4)
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--shuffle", action="store_true")
a = ap.parse_args()
rng = random.Random(a.seed)
prefs = ["A", "B", "tie"]
judges = [f"judge-{j}" for j in range(a.judges)]
skill = [0.62 + 0.06 * j for j in range(a.judges)]
lines = []
with open(a.items, "w") as fi:
    for i in range(a.n):
        label = rng.choices(prefs, weights=[0.45, 0.45, 0.10])[0]
        fi.write(json.dumps({"id": f"it-{i:07d}", "prompt": f"q{i}", "response_a": "x", "response_b": "y",
                             "label": label}, separators=(",", ":")) + "\n")
        for j, judge in enumerate(judges):
            for order in ("AB", "BA"):
                v = {"item": f"it-{i:07d}", "judge": judge, "protocol": "pairwise", "order": order, "sample": 0}
                r = rng.random()
                if r < 0.01:
                    v.update(status="error", reason="timeout", error="timed out")
                elif r < 0.03:
                    v.update(status="abstain", reason="unparsed", raw="?")
                else:
                    # position bias: the first-shown answer wins a little more often
                    p = label if rng.random() < skill[j] else rng.choice(prefs)
                    if rng.random() < 0.05:
                        p = "A" if order == "AB" else "B"
                    v.update(status="ok", verdict=p, raw=p)
                lines.append(json.dumps(v, separators=(",", ":")))
if a.shuffle:
    rng.shuffle(lines)
with open(a.votes, "w") as fv:
    fv.write("\n".join(lines) + "\n")
