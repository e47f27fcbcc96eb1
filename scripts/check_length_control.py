#!/usr/bin/env python3
"""Checks `judgepanel rank --length-control` against alpaca_eval's own figures on all 805 annotations of each model
in fixtures/reference/alpacaeval-lc-expected.json ("full", written by
scripts/reference/make_length_control_fixture.py from the same checkout), with --glm-data (the stand-in file) and
with the reduced formula. Prints one line per model and formula, the largest differences, and the raw vs
controlled table (Markdown) the README shows.

Usage: python3 scripts/check_length_control.py --alpaca-eval ../alpaca_eval [--judgepanel .build/debug/judgepanel]
Exits 1 if any difference exceeds 1e-3.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
EXPECTED = os.path.join(ROOT, "fixtures", "reference", "alpacaeval-lc-expected.json")
STANDIN = os.path.join(ROOT, "fixtures", "alpacaeval", "df_gamed-standin.csv")
ANNOTATOR = "weighted_alpaca_eval_gpt4_turbo"


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr[-2000:]}")
    return p.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--alpaca-eval", required=True)
    ap.add_argument("--judgepanel", default=os.path.join(ROOT, ".build", "debug", "judgepanel"))
    a = ap.parse_args()
    with open(EXPECTED) as f:
        expected = json.load(f)
    models = sorted(expected["full"])
    failures = 0
    worst = {"glm_data": 0.0, "reduced": 0.0}
    worst_se = {"glm_data": 0.0, "reduced": 0.0}
    worst_tight = {"glm_data": 0.0, "reduced": 0.0}
    with tempfile.TemporaryDirectory() as work:
        sources = [os.path.join(a.alpaca_eval, "results", m, ANNOTATOR, "annotations.json") for m in models]
        run([a.judgepanel, "import", "alpacaeval", *sources, "--out", work])
        base = [a.judgepanel, "rank", os.path.join(work, "items.jsonl"), "--votes", os.path.join(work, "votes.jsonl"),
                "--preference", "probability", "--baseline", expected["baseline"], "--length-control",
                "--resamples", "0", "--json"]
        got = {"glm_data": json.loads(run(base + ["--glm-data", STANDIN])), "reduced": json.loads(run(base))}
    rows = {}
    for key, result in got.items():
        by = {r["model"]: r for r in result}
        for m in models:
            want = expected["full"][m][key]
            tight = expected["full"][m][key + "_tight"]
            r = by[m]
            d = abs(r["length_controlled_win_rate"] - want["length_controlled_winrate"])
            dt = abs(r["length_controlled_win_rate"] - tight["length_controlled_winrate"])
            dse = abs(r["lc_standard_error"] - want["lc_standard_error"])
            worst[key] = max(worst[key], d)
            worst_tight[key] = max(worst_tight[key], dt)
            worst_se[key] = max(worst_se[key], dse)
            ok = d <= 1e-3 and dse <= 1e-3
            failures += not ok
            print(f"{'ok  ' if ok else 'FAIL'} {key:8} {m:32} {r['length_controlled_win_rate']:.6f} vs "
                  f"{want['length_controlled_winrate']:.6f} (|d| {d:.2e}, SE |d| {dse:.2e}; "
                  f"vs tol 1e-10 {tight['length_controlled_winrate']:.6f}, |d| {dt:.2e})")
            rows.setdefault(m, {})[key] = r
    for key in worst:
        print(f"{key}: largest |LC - alpaca_eval| {worst[key]:.2e}, largest |SE - alpaca_eval| {worst_se[key]:.2e}, "
              f"largest |LC - alpaca_eval at liblinear tol 1e-10| {worst_tight[key]:.2e}")

    def kendall(x, y):
        n = len(x)
        c = d = tx = ty = 0
        for i in range(n):
            for j in range(i + 1, n):
                a_, b_ = x[i] - x[j], y[i] - y[j]
                if a_ == 0 and b_ == 0:
                    continue
                if a_ == 0:
                    tx += 1
                elif b_ == 0:
                    ty += 1
                elif (a_ > 0) == (b_ > 0):
                    c += 1
                else:
                    d += 1
        return (c - d) / ((c + d + tx) * (c + d + ty)) ** 0.5

    order = sorted(models, key=lambda m: -rows[m]["glm_data"]["strength"])
    print("\n| model | raw win rate | LC (--glm-data stand-in) | LC (reduced formula) | mean length |")
    print("|---|---|---|---|---|")
    for m in order:
        g, r = rows[m]["glm_data"], rows[m]["reduced"]
        print(f"| {m} | {100 * g['strength']:.1f} | {100 * g['length_controlled_win_rate']:.1f} | "
              f"{100 * r['length_controlled_win_rate']:.1f} | {g['mean_length']:.0f} |")
    raw = [rows[m]["glm_data"]["strength"] for m in models]
    for key in got:
        print(f"Kendall tau-b raw vs {key}: {kendall(raw, [rows[m][key]['length_controlled_win_rate'] for m in models]):.3f}")
    print(f"{failures} failures")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
