#!/usr/bin/env python3
"""Checks judgepanel's importers and meta/rank against the figures published with the real data sets.

Needs checkouts of the source repositories (too large to commit; fixtures/ holds small excerpts that the Swift
tests check the same way) and a built judgepanel (swift build). Each part runs when its folder is given:

  --alpaca-eval DIR   tatsu-lab/alpaca_eval: every results/*/alpaca_eval_gpt4/annotations.json (AlpacaEval 1) and
                      results/*/weighted_alpaca_eval_gpt4_turbo/annotations.json (AlpacaEval 2) present is imported
                      in one `judgepanel import alpacaeval` per version; each model's win rate (mean P(model) over
                      its answered votes, x100) is compared with docs/data_AlpacaEval*/...leaderboard.csv, and
                      `judgepanel rank --json` is compared with the leaderboard's order (Kendall tau-b) four ways:
                      Bradley-Terry on verdicts (the default), Bradley-Terry on probabilities (--preference
                      probability), and the win rate against the leaderboard's baseline (--baseline, AlpacaEval's own
                      rule) on verdicts and on probabilities; each against the `win_rate` column and, for reference,
                      the length-controlled column (a GLM on output lengths that judgepanel does not fit).
  --llmbar DIR        princeton-nlp/LLMBar: every Dataset/**/evaluators/E/S/result.json; `meta --json` gives
                      position_consistency, position_both_abstained and position_asked; LLMBar's "equal" numerator
                      in statistics.json must be position_consistency * asked + both_abstained.
  --judgebench DIR    ScalerLab/JudgeBench: every outputs/*.jsonl; accuracy_net and accuracy (both flip policies)
                      x100, overall and per category, must equal JudgeBench's own utils/metrics.py
                      compute_final_metrics (imported from DIR, not copied).

Usage: python3 scripts/check_real_data.py --judgepanel .build/debug/judgepanel --alpaca-eval ../alpaca_eval ...
Prints one line per check and a summary; exits 1 if any check fails.
"""
import argparse
import csv
import glob
import json
import os
import subprocess
import sys
import tempfile

failures = 0


def check(ok, line):
    global failures
    if not ok:
        failures += 1
    print(("ok    " if ok else "FAIL  ") + line)


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr[-2000:]}")
    return p.stdout


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def kendall_tau_b(x, y):
    n = len(x)
    conc = disc = tx = ty = 0
    for i in range(n):
        for j in range(i + 1, n):
            dx = (x[i] > x[j]) - (x[i] < x[j])
            dy = (y[i] > y[j]) - (y[i] < y[j])
            if dx == 0 and dy == 0:
                continue
            if dx == 0:
                tx += 1
            elif dy == 0:
                ty += 1
            elif dx == dy:
                conc += 1
            else:
                disc += 1
    denom = ((conc + disc + tx) * (conc + disc + ty)) ** 0.5
    return (conc - disc) / denom if denom else float("nan")


def alpaca_eval(root, jp, work):
    versions = [
        ("AlpacaEval 1", "alpaca_eval_gpt4", "docs/data_AlpacaEval/alpaca_eval_gpt4_leaderboard.csv", "text_davinci_003"),
        ("AlpacaEval 2", "weighted_alpaca_eval_gpt4_turbo",
         "docs/data_AlpacaEval_2/weighted_alpaca_eval_gpt4_turbo_leaderboard.csv", "gpt4_1106_preview"),
    ]
    for name, annotator, board, baseline in versions:
        files = sorted(glob.glob(os.path.join(root, "results", "*", annotator, "annotations.json")))
        readable = []
        for f in files:
            try:
                with open(f) as fh:
                    json.load(fh)
                readable.append(f)
            except (OSError, ValueError):
                print(f"skip  {f}: not readable JSON (a large-file pointer?)")
        if not readable:
            continue
        published = {}
        controlled = {}
        with open(os.path.join(root, board)) as fh:
            for row in csv.DictReader(fh):
                model = row["samples"].rstrip("/").split("/")[-2] if row.get("samples") else row["name"]
                published[model] = float(row["win_rate"])
                if row.get("length_controlled_winrate"):
                    controlled[model] = float(row["length_controlled_winrate"])
        out = os.path.join(work, annotator)
        run([jp, "import", "alpacaeval", *readable, "--out", out])
        items = {i["id"]: i for i in read_jsonl(os.path.join(out, "items.jsonl"))}
        votes = read_jsonl(os.path.join(out, "votes.jsonl"))
        per_model = {}
        for v in votes:
            if v.get("status") != "ok" or "probs" not in v:
                continue
            item = items[v["item"]]
            for side, key in (("A", "model_a"), ("B", "model_b")):
                m = item.get(key)
                if m and m != "text_davinci_003" and m != "gpt4_1106_preview":
                    per_model.setdefault(m, []).append(v["probs"][side])
        common = sorted(m for m in per_model if m in published)
        worst = 0.0
        for m in common:
            ours = sum(per_model[m]) / len(per_model[m]) * 100
            worst = max(worst, abs(ours - published[m]))
            check(abs(ours - published[m]) < 1e-6, f"{name} {m}: win rate {ours:.6f} vs leaderboard {published[m]:.6f}")
        print(f"      {name}: {len(common)} models compared, largest difference {worst:.2e}")
        modes = [
            ("Bradley-Terry on verdicts", []),
            ("Bradley-Terry on probabilities", ["--preference", "probability"]),
            (f"win rate vs {baseline} on verdicts", ["--baseline", baseline]),
            (f"win rate vs {baseline} on probabilities", ["--preference", "probability", "--baseline", baseline]),
        ]
        for label, flags in modes:
            ranking = json.loads(run([jp, "rank", os.path.join(out, "items.jsonl"), "--resamples", "0", "--votes",
                                      os.path.join(out, "votes.jsonl"), "--json", *flags]))
            strength = {r["model"]: r["strength"] for r in ranking}
            ranked = [m for m in common if m in strength]
            tau = kendall_tau_b([strength[m] for m in ranked], [published[m] for m in ranked])
            lc = [m for m in ranked if m in controlled]
            tau_lc = kendall_tau_b([strength[m] for m in lc], [controlled[m] for m in lc])
            print(f"      {name}: rank {' '.join(flags) or '(default)'} ({label}) over {len(ranked)} models: "
                  f"Kendall tau-b {tau:.4f} vs win_rate, {tau_lc:.4f} vs length_controlled_winrate ({len(lc)} models)")
            if flags and flags[-2:] == ["--baseline", baseline] and "probability" in flags:
                # AlpacaEval's own rule: the strength is the leaderboard's win rate (/100) for every model.
                worst = max(abs(strength[m] * 100 - published[m]) for m in ranked)
                check(worst < 1e-6 and abs(tau - 1) < 1e-12,
                      f"{name}: rank {' '.join(flags)} strengths equal the leaderboard win rates "
                      f"(largest difference {worst:.2e} points) and its order (tau {tau:.4f})")


def llmbar(root, jp, work):
    runs = sorted(glob.glob(os.path.join(root, "Dataset", "**", "evaluators", "*", "*", "result.json"), recursive=True))
    folders = sorted({os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(r)))) for r in runs})
    checked = 0
    for k, folder in enumerate(folders):
        out = os.path.join(work, f"llmbar-{k}")
        run([jp, "import", "llmbar", folder, "--out", out])
        report = json.loads(run([jp, "meta", os.path.join(out, "items.jsonl"), "--votes",
                                 os.path.join(out, "votes.jsonl"), "--json", "--resamples", "10"]))
        judges = {j["judge"]: j for j in report["judges"]}
        for r in runs:
            if not r.startswith(folder + os.sep):
                continue
            e, s = r.split(os.sep)[-3], r.split(os.sep)[-2]
            with open(os.path.join(os.path.dirname(r), "statistics.json")) as fh:
                equal = int(json.load(fh)["equal"].split("/")[0])
            j = judges[f"{e}/{s}"]
            got = j["position_consistency"] * j["position_asked"] + j["position_both_abstained"]
            checked += 1
            check(abs(got - equal) < 1e-6, f"LLMBar {os.path.relpath(r, root)}: equal {equal} vs "
                  f"{j['position_consistency']:.6f} x {j['position_asked']} + {j['position_both_abstained']}")
    print(f"      LLMBar: {checked} evaluator runs compared")


def judgebench(root, jp, work):
    sys.path.insert(0, root)
    from utils import metrics  # JudgeBench's own metric code

    for k, f in enumerate(sorted(glob.glob(os.path.join(root, "outputs", "*.jsonl")))):
        try:
            pairs = read_jsonl(f)
        except (OSError, ValueError):
            print(f"skip  {f}: not readable JSONL (a large-file pointer?)")
            continue
        reverse = all(len(p["judgments"]) == 2 for p in pairs)
        out = os.path.join(work, f"judgebench-{k}")
        run([jp, "import", "judgebench", f, "--out", out])
        report = json.loads(run([jp, "meta", os.path.join(out, "items.jsonl"), "--votes",
                                 os.path.join(out, "votes.jsonl"), "--json", "--resamples", "0", "--by", "category"]))
        # Overall and per category (run_judge.py's groups), accuracy_net and the headline accuracy under both
        # flip policies.
        for source in ["", "mmlu-pro", "livebench-reasoning", "livebench-math", "livecodebench"]:
            if not any(p["source"].startswith(source) for p in pairs):
                continue
            want = metrics.compute_final_metrics(pairs, reverse, include_fn=lambda x, s=source: x["source"].startswith(s))
            judge = report["judges"][0] if not source else report["slices"]["category"][source]["judges"][0]
            for key in ["accuracy_net", "accuracy", "accuracy_flip_abstain"]:
                if judge.get(key) is None:
                    continue
                got = judge[key] * 100
                check(abs(got - want) < 1e-9,
                      f"JudgeBench {os.path.basename(f)} {source or 'overall'} {key}: {got:.6f} vs compute_final_metrics {want:.6f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--judgepanel", default=".build/debug/judgepanel")
    ap.add_argument("--alpaca-eval")
    ap.add_argument("--llmbar")
    ap.add_argument("--judgebench")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as work:
        if args.alpaca_eval:
            alpaca_eval(args.alpaca_eval, args.judgepanel, work)
        if args.llmbar:
            llmbar(args.llmbar, args.judgepanel, work)
        if args.judgebench:
            judgebench(args.judgebench, args.judgepanel, work)
    print(f"{failures} failures")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
