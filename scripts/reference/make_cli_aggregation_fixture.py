#!/usr/bin/env python3
"""Generate the CLI-level reference fixtures for `judgepanel aggregate` and `judgepanel rank`.

Writes, under fixtures/reference/:

* ``cli-items.jsonl`` — 240 pairwise items with ``model_a``/``model_b`` (5 systems) and a human ``label``;
* ``cli-votes.jsonl`` — one recorded vote (``item``, ``judge``, ``verdict``) per judge per item
  (4 simulated judges of different accuracy, some votes missing);
* ``cli-expected.json`` — the references:
  - ``dawid_skene``: crowd-kit 1.4.x ``DawidSkene(n_iter=100, tol=1e-5)`` on the same votes (labels
    ``A``/``B``/``tie``): per item the label and its posterior; per judge the accuracy
    ``sum_c prior(c) * errors[(judge, c), c]``;
  - ``rank``: choix 0.4.1 ``ilsr_pairwise`` on the panel's majority verdicts with ties as half wins
    (every decisive comparison twice, every tie one win each way, ``alpha = 2 * 0.01``), strengths
    centred to mean 0 (choix's convention); and the same on the human labels.

Usage::

    pip install "crowd-kit==1.4.*" choix==0.4.1 numpy pandas
    python3 scripts/reference/make_cli_aggregation_fixture.py

Seeded: the output is reproducible.
"""

import json
import os
from collections import Counter

import choix
import numpy as np
import pandas as pd
from crowdkit.aggregation import DawidSkene

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
OUT = os.path.join(ROOT, "fixtures", "reference")
MODELS = ["m-alpha", "m-beta", "m-gamma", "m-delta", "m-eps"]
TRUE_STRENGTH = [1.2, 0.6, 0.0, -0.5, -1.1]
JUDGES = [("j-strong", 0.85), ("j-mid", 0.7), ("j-weak", 0.55), ("j-noisy", 0.45)]
ALPHA = 0.01


def main():
    rng = np.random.default_rng(20240817)
    items, votes = [], []
    for i in range(240):
        a, b = rng.choice(len(MODELS), size=2, replace=False)
        pa = 1 / (1 + np.exp(-(TRUE_STRENGTH[a] - TRUE_STRENGTH[b])))
        u = rng.random()
        truth = "tie" if u < 0.12 else ("A" if rng.random() < pa else "B")
        iid = f"c{i:03d}"
        items.append({"id": iid, "prompt": f"q{i}", "response_a": f"a{i}", "response_b": f"b{i}",
                      "model_a": MODELS[a], "model_b": MODELS[b], "label": truth})
        for name, acc in JUDGES:
            if rng.random() < 0.07:
                continue  # missing vote
            if rng.random() < acc:
                v = truth
            else:
                v = str(rng.choice([c for c in ["A", "B", "tie"] if c != truth]))
            votes.append({"item": iid, "judge": name, "verdict": v})

    # Dawid–Skene (crowd-kit)
    df = pd.DataFrame([[v["item"], v["judge"], v["verdict"]] for v in votes], columns=["task", "worker", "label"])
    ds = DawidSkene(n_iter=100, tol=1e-5)
    ds.fit(df)
    probas, priors, errors = ds.probas_, ds.priors_, ds.errors_
    ds_items = {}
    for task, row in probas.iterrows():
        label = ds.labels_[task]
        ds_items[task] = {"verdict": str(label), "confidence": float(row[label]),
                          "posterior": {str(c): float(row[c]) for c in probas.columns}}
    accuracy = {}
    for name, _ in JUDGES:
        acc = 0.0
        for c in priors.index:
            if (name, c) in errors.index:
                acc += float(priors[c]) * float(errors.loc[(name, c), c])
        accuracy[name] = acc

    # Majority per item (strict: a tie at the top is a tie), then choix half-wins.
    by_item = {}
    for v in votes:
        by_item.setdefault(v["item"], []).append(v["verdict"])
    index = {}

    def idx(m):
        if m not in index:
            index[m] = len(index)
        return index[m]

    def half_win_fit(pairs):
        doubled = []
        for a, b, out in pairs:
            if out == "A":
                doubled += [(a, b), (a, b)]
            elif out == "B":
                doubled += [(b, a), (b, a)]
            else:
                doubled += [(a, b), (b, a)]
        p = choix.ilsr_pairwise(len(index), doubled, alpha=2 * ALPHA, max_iter=10000, tol=1e-14)
        p = p - p.mean()
        return p

    panel_pairs, human_pairs = [], []
    for it in items:
        vs = by_item.get(it["id"], [])
        if not vs:
            continue
        counts = Counter(vs)
        top = max(counts.values())
        winners = [k for k, c in counts.items() if c == top]
        verdict = winners[0] if len(winners) == 1 else "tie"
        a, b = idx(it["model_a"]), idx(it["model_b"])
        panel_pairs.append((a, b, verdict))
    for it in items:
        human_pairs.append((idx(it["model_a"]), idx(it["model_b"]), it["label"]))
    names = sorted(index, key=index.get)
    panel = half_win_fit(panel_pairs)
    human = half_win_fit(human_pairs)

    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "cli-items.jsonl"), "w") as f:
        for it in items:
            f.write(json.dumps(it) + "\n")
    with open(os.path.join(OUT, "cli-votes.jsonl"), "w") as f:
        for v in votes:
            f.write(json.dumps(v) + "\n")
    expected = {
        "generator": "scripts/reference/make_cli_aggregation_fixture.py",
        "versions": {"crowd_kit": "1.4.x", "choix": getattr(choix, "__version__", "0.4.1"),
                     "numpy": np.__version__, "pandas": pd.__version__},
        "dawid_skene": {"items": ds_items, "judge_accuracy": accuracy},
        "rank": {"alpha": ALPHA,
                 "panel_strength": {m: float(panel[index[m]]) for m in names},
                 "human_strength": {m: float(human[index[m]]) for m in names}},
    }
    with open(os.path.join(OUT, "cli-expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
