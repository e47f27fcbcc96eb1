#!/usr/bin/env python3
"""Expected coefficients for JudgeStats' L1Logistic: scikit-learn's LogisticRegression(penalty="l1",
solver="liblinear", fit_intercept=False, tol=1e-12) on soft labels given alpaca_eval's way (each row twice, class 1
with weight s*p and class 0 with weight s*(1-p)), for a small seeded data set and several C.

Writes Tests/JudgeStatsTests/Fixtures/l1-logistic-expected.json. Usage: pip install scikit-learn numpy; run it.
"""
import json
import os
import warnings

import numpy as np
from sklearn.linear_model import LogisticRegression

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "JudgeStatsTests", "Fixtures",
                   "l1-logistic-expected.json")


def main():
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(7)
    n = 40
    x = np.column_stack([np.tanh(rng.normal(size=n)), rng.normal(size=n), np.ones(n)])
    p = 1 / (1 + np.exp(-(0.8 * x[:, 0] - 0.5 * x[:, 1] + 0.3 + rng.normal(scale=0.7, size=n))))
    s = np.where(np.arange(n) < 10, 0.1, 1.0)
    cases = []
    for c in [0.01, 0.1, 1.0, 10.0, 1000.0]:
        xx = np.vstack([x, x])
        yy = np.concatenate([np.ones(n), np.zeros(n)])
        ww = np.concatenate([s * p, s * (1 - p)])
        m = LogisticRegression(penalty="l1", solver="liblinear", fit_intercept=False, tol=1e-12, C=c,
                               max_iter=100000).fit(xx, yy, sample_weight=ww)
        cases.append({"c": c, "coef": [float(v) for v in m.coef_[0]]})
    with open(OUT, "w") as f:
        json.dump({"x": x.tolist(), "p": p.tolist(), "weight": s.tolist(), "cases": cases}, f, indent=1)
        f.write("\n")
    print(json.dumps(cases))


if __name__ == "__main__":
    main()
