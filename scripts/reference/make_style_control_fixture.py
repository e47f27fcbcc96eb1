#!/usr/bin/env python3
"""Reference figures for `judgepanel rank --style-control` (arena-hard-auto's style control).

Runs arena-hard-auto's own code from a checkout (lmarena/arena-hard-auto, commit
196f6b826783b3da7310e361a805fa36f0be83f3): `show_result.load_judgments` turns judgments into battles (two games
per judgment, a strong verdict counted three times), `utils.add_markdown_info.count_markdown_elements` and
`remove_pattern` count each answer's markdown, `utils.math_utils.one_hot_encode`, `fit_pairwise_model` (the
Bradley-Terry loss, L-BFGS) and `to_winrate_probabilities` fit and read the style-controlled win rates. The
features follow `show_result.print_leaderboard_with_style_features`: (m - b)/(m + b) for the length, markdown
densities count/(length + 1) compared as (d_m - d_b)/(d_m + d_b + 1), each normalised over the battles (mean 0,
torch.std). Two deliberate differences, both the same on judgepanel's side:
* the length is counted in Unicode code points, not gpt-4o tokens (judgepanel has no tokenizer);
* the fit is the point fit on all battles (arena-hard-auto reports the median of 100 unseeded bootstrap fits):
  the maximum-likelihood estimate of its own Bradley-Terry loss (`REGISTER_LOSSES["bt"]`), found by Newton's
  method in float64 ("mle"). Its `fit_pairwise_model` (L-BFGS, lr 0.1, no line search) stops on its change
  tolerance short of that optimum; what it returns by default (float32, 50 iterations) and in float64 with 2000
  iterations is recorded beside it ("fit_pairwise_model_default", "fit_pairwise_model_float64_2000").

Data: the checkout's arena-hard-v0.1 answers of gpt-4-0314 (the baseline), gpt-3.5-turbo-0125 and gpt-4-0613 on
the first N_QUESTIONS questions all three answered (licence Apache-2.0, the checkout's LICENSE). The checkout holds
no judgments for them, so the verdicts are synthetic: seeded draws of the five arena-hard labels, tilted towards
the longer answer so that the length covariate has an effect to find. The same battles are written as a judgepanel
items file (one item per battle, the label in the dataset's orientation, model_a the answer shown first).

Writes fixtures/arenahard/style-battles.jsonl and fixtures/reference/style-control-expected.json.

Usage::

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install torch pandas numpy tqdm
    /tmp/venv/bin/python scripts/reference/make_style_control_fixture.py --arena-hard ../arena-hard-auto

(the committed figures: torch 2.13.0+cpu, pandas 3.1.2, numpy 2.4.6, Python 3.11)
"""
import argparse
import json
import os
import random
import sys
import tempfile
import types

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
ITEMS = os.path.join(ROOT, "fixtures", "arenahard", "style-battles.jsonl")
OUT = os.path.join(ROOT, "fixtures", "reference", "style-control-expected.json")
BENCH = "arena-hard-v0.1"
BASELINE = "gpt-4-0314"
MODELS = ["gpt-3.5-turbo-0125", "gpt-4-0613"]
N_QUESTIONS = 24
SEED = 20240731
LABELS = ["A>>B", "A>B", "A=B", "B>A", "B>>A"]


def answers(root, model):
    out = {}
    with open(os.path.join(root, "data", BENCH, "model_answer", f"{model}.jsonl")) as f:
        for line in f:
            r = json.loads(line)
            out[r["uid"]] = r["messages"][-1]["content"]["answer"]
    return out


def draw(rng, len_a, len_b):
    """A five-level label for a game, tilted towards the longer answer (A shown first)."""
    tilt = (len_a - len_b) / (len_a + len_b)
    weights = [0.15 + 0.2 * tilt, 0.25 + 0.1 * tilt, 0.2, 0.25 - 0.1 * tilt, 0.15 - 0.2 * tilt]
    return rng.choices(LABELS, weights=[max(w, 0.01) for w in weights])[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arena-hard", required=True, help="checkout of lmarena/arena-hard-auto")
    a = ap.parse_args()
    root = os.path.abspath(a.arena_hard)
    sys.modules.setdefault("tiktoken", types.ModuleType("tiktoken"))  # only its token counter needs it
    sys.path.insert(0, root)
    import torch
    import show_result
    from utils.add_markdown_info import count_markdown_elements, remove_pattern
    from utils.math_utils import REGISTER_LOSSES, fit_pairwise_model, one_hot_encode, to_winrate_probabilities
    import re

    ans = {m: answers(root, m) for m in [BASELINE] + MODELS}
    uids = [u for u in ans[BASELINE] if all(u in ans[m] for m in MODELS)][:N_QUESTIONS]
    rng = random.Random(SEED)
    work = tempfile.mkdtemp()
    judge_dir = os.path.join(work, "data", BENCH, "model_judgment", "synthetic-judge")
    os.makedirs(judge_dir)
    games = {}
    for m in MODELS:
        with open(os.path.join(judge_dir, f"{m}.jsonl"), "w") as f:
            for u in uids:
                # arena-hard-auto: game 1 shows the baseline first, game 2 the model first.
                g1 = draw(rng, len(ans[BASELINE][u]), len(ans[m][u]))
                g2 = draw(rng, len(ans[m][u]), len(ans[BASELINE][u]))
                games[(m, u)] = (g1, g2)
                f.write(json.dumps({"uid": u, "model": m, "category": BENCH,
                                    "games": [{"score": g1}, {"score": g2}]}) + "\n")
    cwd = os.getcwd()
    os.chdir(work)
    try:
        battles = show_result.load_judgments(["synthetic-judge"], BENCH)  # weight 3 for strong verdicts
    finally:
        os.chdir(cwd)

    # The same battles as judgepanel items, in load_judgments' row order: for each judgment, game 2's battles
    # (model shown first) then game 1's (baseline first).
    items = []
    for m in MODELS:
        for u in uids:
            g1, g2 = games[(m, u)]
            for game, label, first, second in [(2, g2, m, BASELINE), (1, g1, BASELINE, m)]:
                n = 3 if ">>" in label else 1
                verdict = {"A>>B": "A", "A>B": "A", "A=B": "tie", "B>A": "B", "B>>A": "B"}[label]
                for k in range(n):
                    items.append({"id": f"{u}-{m}-g{game}-{k}", "prompt": u, "response_a": ans[first][u],
                                  "response_b": ans[second][u], "model_a": first, "model_b": second,
                                  "label": verdict})
    assert len(items) == len(battles), (len(items), len(battles))
    os.makedirs(os.path.dirname(ITEMS), exist_ok=True)
    with open(ITEMS, "w") as f:
        for it in items:
            f.write(json.dumps(it, ensure_ascii=False) + "\n")

    code = re.compile("```([^`]*)```")

    def meta(text):
        c = count_markdown_elements(remove_pattern(text, code), suffix="")
        return [len(text), sum(c["header_count"].values()), sum(c["list_count"].values()),
                sum(c["bold_count"].values())]

    torch.set_default_dtype(torch.float64)
    mf = torch.tensor([meta(ans[r.model][r.uid]) for r in battles.itertuples()], dtype=torch.float64)
    bf = torch.tensor([meta(ans[BASELINE][r.uid]) for r in battles.itertuples()], dtype=torch.float64)
    feat = torch.zeros_like(mf)
    feat[:, 0] = (mf[:, 0] - bf[:, 0]) / (mf[:, 0] + bf[:, 0])
    md, bd = mf[:, 1:] / (mf[:, :1] + 1), bf[:, 1:] / (bf[:, :1] + 1)
    feat[:, 1:] = (md - bd) / (md + bd + 1)
    norm = (feat - feat.mean(axis=0)) / feat.std(axis=0)
    outcomes = torch.tensor([float(s) for s in battles.scores.tolist()], dtype=torch.float64)
    onehot, models = one_hot_encode(battles.model.tolist(), baseline=BASELINE)
    x = torch.cat([onehot.to(torch.float64), norm], dim=1)

    def figures(coefs):
        probs = to_winrate_probabilities(coefs[None, :-4], models, baseline_model=BASELINE)[0]
        return {
            "style_controlled_strength": {m: float(probs[k]) for k, m in enumerate(models) if m != BASELINE},
            "style_coefficients": dict(zip(["length", "headers", "list_items", "bold"],
                                           [float(c) for c in coefs[-4:]])),
        }

    # The maximum-likelihood estimate of arena-hard-auto's own loss (REGISTER_LOSSES["bt"]) by Newton's method
    # on autograd's gradient and Hessian, the baseline's column fixed at 0 (only differences are identified):
    # fit_pairwise_model's L-BFGS (lr 0.1, no line search) stops on its change tolerance before it gets there.
    loss = REGISTER_LOSSES["bt"]
    base = models.index(BASELINE)
    keep = [k for k in range(x.shape[1]) if k != base]
    xr = x[:, keep]

    def objective(theta):
        return loss(logits=xr @ theta, outcomes=outcomes)

    theta = torch.zeros(len(keep), dtype=torch.float64)
    for _ in range(100):
        g = torch.autograd.functional.jacobian(objective, theta)
        h = torch.autograd.functional.hessian(objective, theta)
        step = torch.linalg.solve(h, g)
        theta = theta - step
        if step.abs().max() < 1e-14:
            break
    mle = torch.zeros(x.shape[1], dtype=torch.float64)
    mle[keep] = theta
    out = {"source": "fixtures/arenahard/style-battles.jsonl", "baseline": BASELINE, "n_battles": len(items),
           "length_unit": "unicode code points", "mle": figures(mle),
           "mle_max_abs_gradient": float(torch.autograd.functional.jacobian(objective, theta).abs().max())}
    coefs, _ = fit_pairwise_model(x, outcomes, "bt", max_epochs=2000, tol=1e-12)
    out["fit_pairwise_model_float64_2000"] = figures(coefs)
    torch.set_default_dtype(torch.float32)
    c32, _ = fit_pairwise_model(x.float(), outcomes.float(), "bt")
    out["fit_pairwise_model_default"] = figures(c32.double())
    out["raw_win_rate"] = {m: float(outcomes[torch.tensor([b == m for b in battles.model])].mean()) for m in MODELS}
    with open(OUT, "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")
    print(json.dumps(out, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
