#!/usr/bin/env python3
"""Generate Tests/JudgeStatsTests/Fixtures/reference_aggregation.json.

Reference values for JudgeStats' reconciliation statistics:

* Dawid–Skene: crowd-kit 1.4.x ``DawidSkene(n_iter=100, tol=1e-5)``
* Bradley–Terry: choix 0.4.1 ``ilsr_pairwise(n, data, alpha=...)``
* isotonic calibration: scikit-learn ``IsotonicRegression(out_of_bounds='clip')``
* linear calibration: ``numpy.polyfit(x, y, 1)``

Usage (all packages are on PyPI)::

    pip install "crowd-kit==1.4.*" choix==0.4.1 scikit-learn numpy
    python3 scripts/reference/make_aggregation_fixture.py

Every case is generated from a fixed seed, so the output is reproducible.
"""

import json
import os

import choix
import numpy as np
import pandas as pd
from crowdkit.aggregation import DawidSkene
from sklearn.isotonic import IsotonicRegression

OUT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)),
    "..", "..", "Tests", "JudgeStatsTests", "Fixtures", "reference_aggregation.json",
)


# ---------------------------------------------------------------- Dawid–Skene

def simulate_votes(seed, n_items, accuracies, n_classes, p_vote=1.0, prior=None,
                   skip_items=(), used_classes=None):
    rng = np.random.default_rng(seed)
    classes = list(range(n_classes)) if used_classes is None else list(used_classes)
    if prior is None:
        prior = np.ones(len(classes)) / len(classes)
    truth = rng.choice(classes, size=n_items, p=prior)
    votes = []
    for item in range(n_items):
        if item in skip_items:
            continue
        for w, acc in enumerate(accuracies):
            if rng.random() > p_vote:
                continue
            if rng.random() < acc:
                label = int(truth[item])
            else:
                others = [c for c in classes if c != truth[item]]
                label = int(rng.choice(others))
            votes.append([item, w, label])
    return votes


def ds_case(name, n_items, n_workers, n_classes, votes):
    df = pd.DataFrame(votes, columns=["task", "worker", "label"])
    ds = DawidSkene(n_iter=100, tol=1e-5)
    ds.fit(df)
    probas = ds.probas_
    priors = ds.priors_
    errors = ds.errors_
    cols = [int(c) for c in probas.columns]

    posteriors = []
    for task, row in probas.iterrows():
        p = [0.0] * n_classes
        for c in cols:
            p[c] = float(row[c])
        posteriors.append([int(task), p])
    posteriors.sort()
    labels = sorted([int(t), int(l)] for t, l in ds.labels_.items())
    prior_list = [0.0] * n_classes
    for c in cols:
        prior_list[c] = float(priors[c])

    # errors_[worker, observed][true]; rows missing for labels a worker never gave.
    confusion = []
    accuracy = []
    for w in sorted(set(int(v[1]) for v in votes)):
        m = [[0.0] * n_classes for _ in range(n_classes)]
        for (ww, obs), row in errors.iterrows():
            if int(ww) != w:
                continue
            for c in cols:
                m[int(obs)][c] = float(row[c])
        confusion.append([w, m])
        # crowd-kit exposes errors_ and priors_; accuracy is derived from them:
        # sum over true classes c of prior(c) * errors[w][c][c].
        accuracy.append([w, float(sum(prior_list[c] * m[c][c] for c in cols))])

    return {
        "name": name,
        "n_items": n_items,
        "n_workers": n_workers,
        "n_classes": n_classes,
        "votes": votes,
        "posteriors": posteriors,
        "labels": labels,
        "priors": prior_list,
        "confusion": confusion,
        "worker_accuracy": accuracy,
        "iterations": len(ds.loss_history_),
        "loss_history": [float(x) for x in ds.loss_history_],
    }


def dawid_skene_cases():
    cases = []
    cases.append(ds_case(
        "binary_full", 40, 5, 2,
        simulate_votes(101, 40, [0.95, 0.85, 0.7, 0.6, 0.45], 2)))
    cases.append(ds_case(
        "three_class_missing", 60, 6, 3,
        simulate_votes(202, 60, [0.9, 0.8, 0.75, 0.6, 0.5, 0.4], 3, p_vote=0.7,
                       prior=[0.5, 0.3, 0.2])))
    cases.append(ds_case(
        "three_class_small_adversarial", 15, 4, 3,
        simulate_votes(303, 15, [0.9, 0.7, 0.2, 0.6], 3, p_vote=0.8)))
    cases.append(ds_case(
        "binary_tiny_ties", 8, 4, 2,
        simulate_votes(404, 8, [0.7, 0.6, 0.6, 0.5], 2, p_vote=0.6)))
    # nClasses = 3 but class 2 is never used; items 3 and 7 have no votes;
    # worker 5 never votes.
    cases.append(ds_case(
        "unused_class_and_gaps", 20, 6, 3,
        simulate_votes(505, 20, [0.9, 0.8, 0.65, 0.55, 0.5], 3, p_vote=0.85,
                       skip_items=(3, 7), used_classes=[0, 1])))
    cases.append(ds_case(
        "binary_many_workers", 120, 9, 2,
        simulate_votes(606, 120, [0.92, 0.9, 0.85, 0.8, 0.7, 0.65, 0.6, 0.55, 0.3], 2,
                       p_vote=0.5, prior=[0.7, 0.3])))
    return cases


# ---------------------------------------------------------------- Bradley–Terry

def simulate_comparisons(seed, strengths, n_comp, tie_rate, pairs=None):
    rng = np.random.default_rng(seed)
    n = len(strengths)
    comps = []
    for _ in range(n_comp):
        if pairs is None:
            a, b = rng.choice(n, size=2, replace=False)
        else:
            a, b = pairs[rng.integers(len(pairs))]
        a, b = int(a), int(b)
        if rng.random() < tie_rate:
            comps.append([a, b, 0.5])
            continue
        p = 1.0 / (1.0 + np.exp(strengths[b] - strengths[a]))
        comps.append([a, b, 1.0 if rng.random() < p else 0.0])
    return comps


def bt_case(name, n_items, comps, alpha):
    # choix has no ties. "expanded": each tie -> one win each way, each decisive
    # comparison once. "doubled": every decisive comparison twice and each tie one
    # win each way, fitted with 2*alpha: this is exactly half-win semantics with alpha.
    expanded, doubled = [], []
    for a, b, o in comps:
        if o == 0.5:
            expanded += [(a, b), (b, a)]
            doubled += [(a, b), (b, a)]
        elif o == 1.0:
            expanded.append((a, b))
            doubled += [(a, b), (a, b)]
        else:
            expanded.append((b, a))
            doubled += [(b, a), (b, a)]
    p_exp = choix.ilsr_pairwise(n_items, expanded, alpha=alpha, max_iter=1000, tol=1e-12)
    p_half = choix.ilsr_pairwise(n_items, doubled, alpha=2 * alpha, max_iter=1000, tol=1e-12)
    return {
        "name": name,
        "n_items": n_items,
        "alpha": alpha,
        "comparisons": comps,
        "expanded_wins": [list(x) for x in expanded],
        "params_expanded": [float(x) for x in p_exp],
        "params_half_win": [float(x) for x in p_half],
    }


def bradley_terry_cases():
    cases = []
    cases.append(bt_case("five_models_ties", 5,
                         simulate_comparisons(11, [1.0, 0.5, 0.0, -0.3, -1.2], 200, 0.2), 0.01))
    cases.append(bt_case("eight_models", 8,
                         simulate_comparisons(22, list(np.linspace(2, -2, 8)), 400, 0.1), 0.01))
    cases.append(bt_case("few_comparisons", 4,
                         simulate_comparisons(33, [0.3, 0.1, 0.0, -0.2], 12, 0.25), 0.1))
    # Two disconnected groups {0,1,2} and {3,4}: only alpha connects them.
    cases.append(bt_case("disconnected", 5,
                         simulate_comparisons(44, [1.0, 0.0, -1.0, 0.5, -0.5], 60, 0.15,
                                              pairs=[(0, 1), (1, 2), (0, 2), (3, 4)]), 0.5))
    # Dominance chain: 0 beats 1 beats 2 beats 3 always (alpha makes it finite).
    chain = []
    for a, b in [(0, 1), (1, 2), (2, 3), (0, 2), (1, 3)]:
        chain += [[a, b, 1.0]] * 5
    cases.append(bt_case("dominance_chain", 4, chain, 0.1))
    return cases


# ---------------------------------------------------------------- calibration

def iso_case(name, x, y, t):
    iso = IsotonicRegression(out_of_bounds="clip")
    fitted = iso.fit_transform(x, y)
    pred = iso.predict(t)
    slope, intercept = np.polyfit(np.asarray(x, float), np.asarray(y, float), 1)
    return {
        "name": name,
        "x": [float(v) for v in x],
        "y": [float(v) for v in y],
        "fitted": [float(v) for v in fitted],
        "t": [float(v) for v in t],
        "predicted": [float(v) for v in pred],
        "x_thresholds": [float(v) for v in iso.X_thresholds_],
        "y_thresholds": [float(v) for v in iso.y_thresholds_],
        "linear_slope": float(slope),
        "linear_intercept": float(intercept),
    }


def isotonic_cases():
    cases = []
    rng = np.random.default_rng(7)
    # Judge scores on a 1..5 scale (many duplicates) against noisy human scores.
    x = rng.integers(1, 6, size=60).astype(float)
    y = np.clip(0.8 * x + rng.normal(0, 0.9, size=60), 1, 5)
    cases.append(iso_case("likert_duplicates", x, y, [0, 1, 1.5, 2.25, 3, 4.7, 5, 6]))
    # Continuous scores with a non-monotone bump.
    x = rng.uniform(0, 10, size=80)
    y = np.sqrt(x) + 0.8 * np.sin(x) + rng.normal(0, 0.3, size=80)
    cases.append(iso_case("continuous", x, y, [-1, 0.1, 2.5, 5, 7.77, 9.9, 12]))
    # Decreasing data: isotonic fit collapses to one block.
    x = np.arange(10, dtype=float)
    y = 10 - x + rng.normal(0, 0.1, size=10)
    cases.append(iso_case("decreasing", x, y, [-3, 0, 4.5, 9, 20]))
    # Small, already monotone with ties in y.
    cases.append(iso_case("small_monotone", [1, 2, 2, 3, 4], [1, 1, 2, 2, 5], [0, 1.5, 2, 3.5, 4, 9]))
    return cases


def main():
    data = {
        "generator": "scripts/reference/make_aggregation_fixture.py",
        "versions": {
            "crowd_kit": __import__("crowdkit").__version__ if hasattr(__import__("crowdkit"), "__version__") else "1.4.x",
            "choix": getattr(choix, "__version__", "0.4.1"),
            "sklearn": __import__("sklearn").__version__,
            "numpy": np.__version__,
            "pandas": pd.__version__,
        },
        "dawid_skene": dawid_skene_cases(),
        "bradley_terry": bradley_terry_cases(),
        "isotonic": isotonic_cases(),
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(data, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes): "
          f"{len(data['dawid_skene'])} DS, {len(data['bradley_terry'])} BT, "
          f"{len(data['isotonic'])} isotonic cases")


if __name__ == "__main__":
    main()
