#!/usr/bin/env python3
"""Reference figures for `judgepanel rank --length-control` (AlpacaEval 2's length-controlled win rate).

Runs alpaca_eval 0.6.6's own `alpaca_eval.metrics.glm_winrate.get_length_controlled_winrate` (not a copy) on the
weighted GPT-4 Turbo annotations of the MODELS below (each against gpt4_1106_preview), with both GLMs judgepanel
offers:

* `length_controlled_v1` (the leaderboard's: tanh(std_delta_len) + instruction_difficulty + not_gamed_baseline - 1,
  regularised towards the gamed baselines with lambda 0.2) — judgepanel's `--glm-data FILE`;
* `length_controlled_minimal` (tanh(std_delta_len) + not_gamed_baseline - 1, no regularisation) — judgepanel's
  reduced formula without `--glm-data`.

alpaca_eval downloads `df_gamed.csv` (instruction difficulties and the annotations of the two gamed baselines) from
the Hugging Face hub. The hub is not reachable from where this was written, so the script patches that download to
a local file in the same format (columns model, index, preference, std_delta_len, instruction_difficulty,
not_gamed_baseline; the first rows list the indexes 0..804 in order, as alpaca_eval's row-label lookup needs):
fixtures/alpacaeval/df_gamed-standin.csv, written here from the checkout. Its gamed baselines are
gpt-3.5-turbo-1106_verbose and gpt-3.5-turbo-1106_concise (the hub file's are gpt4_1106_preview_verbose/_concise,
absent from the checkout); its instruction difficulty is a stand-in, -logit of the mean preference of the MODELS on
the instruction (clipped to [0.02, 0.98]). The figures therefore check judgepanel's computation against
alpaca_eval's on the same inputs; they are not the public leaderboard's LC column. Run it with the real hub file
(`--df-gamed PATH`) to compare with that column.

Writes
* fixtures/alpacaeval/ae2-lc-excerpt.json: the first PER_MODEL records of each MODEL's annotations (fields
  price_per_example, time_per_example and raw_completion dropped, as in the other excerpts);
* fixtures/alpacaeval/df_gamed-standin.csv (unless --df-gamed is given);
* fixtures/reference/alpacaeval-lc-expected.json: per model and GLM, length_controlled_winrate and
  lc_standard_error (divided by 100: judgepanel's 0-1 scale), win_rate (/100) — as alpaca_eval runs it (keys
  glm_data, reduced) and with liblinear's tolerance tightened to 1e-10 (glm_data_tight, reduced_tight) — on the
  excerpt ("excerpt") and on all 805 records of each model ("full").

Usage::

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install alpaca-eval==0.6.6 "setuptools<81"
    /tmp/venv/bin/python scripts/reference/make_length_control_fixture.py --alpaca-eval ../alpaca_eval

(the committed figures: alpaca_eval 0.6.6, scikit-learn 1.9.1, pandas 3.1.2, numpy 2.4.6, patsy 1.0.3, Python 3.11)
"""
import argparse
import json
import logging
import math
import os

import numpy as np
import pandas as pd

import alpaca_eval.metrics.glm_winrate as glm

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
EXCERPT = os.path.join(ROOT, "fixtures", "alpacaeval", "ae2-lc-excerpt.json")
STANDIN = os.path.join(ROOT, "fixtures", "alpacaeval", "df_gamed-standin.csv")
OUT = os.path.join(ROOT, "fixtures", "reference", "alpacaeval-lc-expected.json")
BASELINE = "gpt4_1106_preview"
ANNOTATOR = "weighted_alpaca_eval_gpt4_turbo"
MODELS = [
    "claude-2", "claude-2.1", "FuseChat-Llama-3.2-3B-Instruct", "FuseChat-Qwen-2.5-7B-Instruct",
    "FuseChat-Llama-3.1-8B-Instruct", "FuseChat-Gemma-2-9B-Instruct", "FuseChat-Llama-3.2-1B-Instruct",
    "OpenHermes-2.5-Mistral-7B", "Qwen-14B-Chat", "alpaca-7b", "chatglm2-6b", "claude-instant-1.2", "gemma-7b-it",
    "gpt-3.5-turbo-1106", "vicuna-13b-v1.5", "vicuna-7b", "wizardlm-13b", "falcon-7b-instruct",
    "minichat-3b", "text_davinci_003",
]
# (phi-2 and gpt35_turbo_instruct are left out: their files hold 803 and 804 records, so a record's position is not
# its instruction's.)
GAMED = ["gpt-3.5-turbo-1106_verbose", "gpt-3.5-turbo-1106_concise"]
PER_MODEL = 30
DROP = ("price_per_example", "time_per_example", "raw_completion")
GLMS = {"length_controlled_v1": "glm_data", "length_controlled_minimal": "reduced"}


def load(checkout, model):
    with open(os.path.join(checkout, "results", model, ANNOTATOR, "annotations.json")) as f:
        rows = json.load(f)
    for r in rows:
        assert r["generator_1"] == BASELINE and r["generator_2"] == model, (model, r["generator_1"], r["generator_2"])
    return [{k: v for k, v in r.items() if k not in DROP} for r in rows]


def pref01(p):
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return float("nan")
    return (1.5 if p == 0 else float(p)) - 1


def write_standin(checkout, full):
    n = len(next(iter(full.values())))
    means = []
    for i in range(n):
        ps = [pref01(full[m][i]["preference"]) for m in MODELS]
        ps = [p for p in ps if not math.isnan(p)]
        mu = min(max(sum(ps) / len(ps), 0.02), 0.98)
        means.append(-math.log(mu / (1 - mu)))
    frames = []
    for g in GAMED:
        rows = load(checkout, g)
        assert len(rows) == n
        d = pd.DataFrame(rows)
        delta = d["output_1"].str.len() - d["output_2"].str.len()
        frames.append(pd.DataFrame({
            "model": g,
            "index": range(n),
            "preference": d["preference"].astype(float).replace({0.0: 1.5}) - 1,
            "std_delta_len": delta / delta.std(),
            "instruction_difficulty": means,
            "not_gamed_baseline": False,
        }))
    pd.concat(frames, axis=0).to_csv(STANDIN, index=False, float_format="%.17g")


def figures(records, df_gamed_path):
    glm.hf_hub_download = lambda **kwargs: df_gamed_path  # alpaca_eval's own code, reading the local file
    out = {}
    for name, key in GLMS.items():
        # As alpaca_eval runs it (liblinear at its default tolerance 1e-4), and with the solver's tolerance
        # tightened to 1e-10 through alpaca_eval's own glm_info kwargs (everything else unchanged): the second is
        # the L1 optimum itself, which judgepanel computes.
        for suffix, extra in [("", {}), ("_tight", {"tol": 1e-10, "max_iter": 100000})]:
            info = dict(glm.GLM_INFO[name])
            info["kwargs"] = {**info["kwargs"], **extra}
            m = glm.get_length_controlled_winrate(
                records, glm_name=name, save_weights_dir=None, is_warn_extreme_changes=False, glm_info=info)
            out[key + suffix] = {
                "length_controlled_winrate": float(m["length_controlled_winrate"]) / 100,
                "lc_standard_error": float(m["lc_standard_error"]) / 100,
                "win_rate": float(m["win_rate"]) / 100,
            }
    return out


def main():
    logging.disable(logging.WARNING)
    ap = argparse.ArgumentParser()
    ap.add_argument("--alpaca-eval", required=True, help="checkout of tatsu-lab/alpaca_eval (results/)")
    ap.add_argument("--df-gamed", help="alpaca_eval's df_gamed.csv from the hub (default: write the stand-in)")
    ap.add_argument("--no-full", action="store_true", help="skip the 805-record figures")
    a = ap.parse_args()
    full = {m: load(a.alpaca_eval, m) for m in MODELS}
    gamed = a.df_gamed or STANDIN
    if not a.df_gamed:
        write_standin(a.alpaca_eval, full)
    excerpt = [r for m in MODELS for r in full[m][:PER_MODEL]]
    with open(EXCERPT, "w") as f:
        json.dump(excerpt, f, indent=1, ensure_ascii=False)
        f.write("\n")
    out = {
        "source": "fixtures/alpacaeval/ae2-lc-excerpt.json (excerpt) and results/MODEL/" + ANNOTATOR
                  + "/annotations.json of alpaca_eval commit cd543a149df89434d8a54582c0151c0b945c3d20 (full)",
        "glm_data_file": os.path.relpath(gamed, ROOT) if not a.df_gamed else "df_gamed.csv (hub)",
        "baseline": BASELINE,
        "per_model_excerpt": PER_MODEL,
        "excerpt": {},
        "full": {},
    }
    for m in MODELS:
        out["excerpt"][m] = figures(full[m][:PER_MODEL], gamed)
        if not a.no_full:
            out["full"][m] = figures(full[m], gamed)
        print(m, json.dumps(out["excerpt"][m]), json.dumps(out["full"].get(m)), flush=True)
    with open(OUT, "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
