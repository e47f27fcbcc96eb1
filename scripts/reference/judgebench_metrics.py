#!/usr/bin/env python3
"""Expected JudgeBench scores for the recorded-output excerpts in fixtures/judgebench/.

Runs JudgeBench's own metric code (utils/metrics.py, `compute_final_metrics`) from a JudgeBench checkout on every
`*judge_name=*.jsonl` file of the fixture folder, per category the way its run_judge.py reports them (source
prefixes mmlu-pro, livebench-reasoning, livebench-math, livecodebench, and "" for overall), and writes
fixtures/judgebench/expected.json. Categories with no pair in an excerpt are left out (the code divides by
the pair count).

Usage:
    git clone https://github.com/ScalerLab/JudgeBench /tmp/JudgeBench   # or any checkout of it
    python3 scripts/reference/judgebench_metrics.py --judgebench /tmp/JudgeBench
"""
import argparse
import glob
import json
import os
import sys

CATEGORIES = ["mmlu-pro", "livebench-reasoning", "livebench-math", "livecodebench", ""]


def main() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    parser = argparse.ArgumentParser()
    parser.add_argument("--judgebench", required=True, help="a JudgeBench checkout (holds utils/metrics.py)")
    parser.add_argument("--fixtures", default=os.path.join(root, "fixtures", "judgebench"))
    args = parser.parse_args()
    sys.path.insert(0, args.judgebench)
    from utils import metrics  # JudgeBench's module, not a copy

    expected = {}
    for path in sorted(glob.glob(os.path.join(args.fixtures, "*judge_name=*.jsonl"))):
        with open(path) as f:
            pairs = [json.loads(line) for line in f if line.strip()]
        reverse_order = all(len(p["judgments"]) == 2 for p in pairs)
        scores = {}
        for source in CATEGORIES:
            subset = [p for p in pairs if p["source"].startswith(source)]
            if not subset:
                continue
            score = metrics.compute_final_metrics(
                pairs, reverse_order, include_fn=lambda x, s=source: x["source"].startswith(s))
            scores[source or "overall"] = {"score": score, "n_pairs": len(subset)}
        expected[os.path.basename(path)] = {"reverse_order": reverse_order, "scores": scores}
    out = os.path.join(args.fixtures, "expected.json")
    with open(out, "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
