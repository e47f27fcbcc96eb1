#!/usr/bin/env python3
"""Reference figures for `judgepanel rank` on real AlpacaEval 2 annotations (--preference, --baseline).

Writes
* fixtures/alpacaeval/ae2-rank-excerpt.json (only with --alpaca-eval DIR, a checkout of tatsu-lab/alpaca_eval): the
  first 20 records of results/MODEL/weighted_alpaca_eval_gpt4_turbo/annotations.json for each MODEL below (all
  against the baseline gpt4_1106_preview), unchanged except that price_per_example, time_per_example and
  raw_completion are dropped (licence Apache-2.0, fixtures/alpacaeval/LICENSE);
* fixtures/reference/alpacaeval-rank-expected.json, computed from the excerpt without judgepanel:
  - win_rate / discrete_win_rate: alpaca_eval 0.6.6's own `alpaca_eval.metrics.get_winrate` on each model's records
    (win_rate = mean(preference - 1) with 0 read as 1.5, what the leaderboard's `win_rate` column holds;
    discrete_win_rate = the same on preferences rounded to 1 / 2, draws as half), divided by 100;
  - bt_probability: choix `ilsr_pairwise_dense(comp_mat, alpha=0.01, tol=1e-12)` where comp_mat[i][j] sums the
    fractional wins of i over j: each record gives the model P = preference - 1 of a win and the baseline 1 - P;
  - bt_verdict: the same with each record's verdict (preference < 1.5: baseline wins, > 1.5: model wins, 1.5 or 0:
    half a win each).
  Strengths are centred to mean 0 (choix's convention). Records whose preference is null are left out.

Usage::

    pip install alpaca-eval==0.6.6 choix numpy pandas
    python3 scripts/reference/make_alpacaeval_rank_fixture.py [--alpaca-eval ../alpaca_eval]
"""
import argparse
import json
import math
import os

import choix
import numpy as np
from alpaca_eval.metrics import get_winrate

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
EXCERPT = os.path.join(ROOT, "fixtures", "alpacaeval", "ae2-rank-excerpt.json")
OUT = os.path.join(ROOT, "fixtures", "reference", "alpacaeval-rank-expected.json")
BASELINE = "gpt4_1106_preview"
# Chosen so that the verdicts tie where the probabilities do not (claude-2 / claude-2.1, and the two FuseChat
# Llama / Qwen models, each pair with equal discrete win rates in these records).
MODELS = ["claude-2", "claude-2.1", "FuseChat-Llama-3.2-3B-Instruct", "FuseChat-Qwen-2.5-7B-Instruct", "FuseChat-Llama-3.1-8B-Instruct",
          "FuseChat-Gemma-2-9B-Instruct"]
PER_MODEL = 20
ALPHA = 0.01
DROP = ("price_per_example", "time_per_example", "raw_completion")


def write_excerpt(checkout):
    records = []
    for m in MODELS:
        path = os.path.join(checkout, "results", m, "weighted_alpaca_eval_gpt4_turbo", "annotations.json")
        with open(path) as f:
            rows = json.load(f)[:PER_MODEL]
        for r in rows:
            assert r["generator_1"] == BASELINE and r["generator_2"] == m, (m, r["generator_1"], r["generator_2"])
            records.append({k: v for k, v in r.items() if k not in DROP})
    with open(EXCERPT, "w") as f:
        json.dump(records, f, indent=1, ensure_ascii=False)
        f.write("\n")


def strengths(models, wins):
    """choix I-LSR on a dense matrix of (fractional) wins: wins[(i, j)] = summed wins of i over j."""
    comp = np.zeros((len(models), len(models)))
    for (i, j), w in wins.items():
        comp[i][j] += w
    params = choix.ilsr_pairwise_dense(comp, alpha=ALPHA, max_iter=10000, tol=1e-12)
    params = params - params.mean()
    return {m: float(params[k]) for k, m in enumerate(models)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--alpaca-eval", help="checkout of tatsu-lab/alpaca_eval to (re)write the excerpt from")
    a = ap.parse_args()
    if a.alpaca_eval:
        write_excerpt(a.alpaca_eval)
    with open(EXCERPT) as f:
        records = json.load(f)
    models = [BASELINE] + MODELS
    index = {m: k for k, m in enumerate(models)}
    soft, hard = {}, {}
    win_rate, discrete = {}, {}
    for m in MODELS:
        rows = [r for r in records if r["generator_2"] == m]
        w = get_winrate(rows)
        win_rate[m] = float(w["win_rate"]) / 100
        discrete[m] = float(w["discrete_win_rate"]) / 100
        for r in rows:
            p = r["preference"]
            if p is None or (isinstance(p, float) and math.isnan(p)):
                continue
            p = 1.5 if p == 0 else float(p)
            b, i = index[BASELINE], index[m]
            soft[(i, b)] = soft.get((i, b), 0) + (p - 1)
            soft[(b, i)] = soft.get((b, i), 0) + (2 - p)
            v = 1.0 if p > 1.5 else (0.0 if p < 1.5 else 0.5)
            hard[(i, b)] = hard.get((i, b), 0) + v
            hard[(b, i)] = hard.get((b, i), 0) + (1 - v)
    out = {
        "source": "fixtures/alpacaeval/ae2-rank-excerpt.json",
        "baseline": BASELINE,
        "alpha": ALPHA,
        "win_rate": win_rate,
        "discrete_win_rate": discrete,
        "bt_probability": strengths(models, soft),
        "bt_verdict": strengths(models, hard),
    }
    with open(OUT, "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")
    print(json.dumps(out, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
