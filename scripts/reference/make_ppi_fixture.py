"""Expected values for JudgeStats' PredictionPowered from ppi_py (PyPI ppi-python 0.2.3).

    python3 -m venv /tmp/ppi-venv && /tmp/ppi-venv/bin/pip install ppi-python==0.2.3
    /tmp/ppi-venv/bin/python scripts/reference/make_ppi_fixture.py > Tests/JudgeStatsTests/Fixtures/ppi.json

Mean cases: ppi_mean_pointestimate / ppi_mean_ci (lam=None, overall mode, alpha given), classical_mean_ci, with and
without labelled-set weights w (1/p_select). Power: ppi_mean_power with effective_n = the classical need
(z sigma / h)^2, n_max = the number of items and a negligible prediction cost (the judge's votes are already paid).
Logistic: ppi_logistic_pointestimate / ppi_logistic_ci on a Bradley-Terry design (one row per comparison,
x = e_a - e_b without the first model, y = 1 when model_a won).
"""
import json
import numpy as np
from scipy.stats import norm
from ppi_py import ppi_mean_pointestimate, ppi_mean_ci, ppi_logistic_pointestimate, ppi_logistic_ci
from ppi_py.baselines import classical_mean_ci
from ppi_py.ppi_power_analysis import ppi_mean_power

rng = np.random.default_rng(20261207)
out = {"mean": [], "power": [], "logistic": [], "active": []}


def mean_case(name, Y, Yhat, Yu, alpha, w=None):
    est = ppi_mean_pointestimate(Y, Yhat, Yu, w=w)
    lo, hi = ppi_mean_ci(Y, Yhat, Yu, alpha=alpha, w=w)
    clo, chi = classical_mean_ci(Y, w=w, alpha=alpha)
    out["mean"].append({
        "name": name, "y": Y.tolist(), "yhat": Yhat.tolist(), "yhat_unlabeled": Yu.tolist(), "alpha": alpha,
        "w": None if w is None else w.tolist(),
        "estimate": float(np.squeeze(est)), "ci": [float(np.squeeze(lo)), float(np.squeeze(hi))],
        "classical_ci": [float(clo), float(chi)],
    })


for k, (n, N, acc) in enumerate([(40, 400, 0.8), (100, 900, 0.9), (25, 60, 0.6), (200, 2000, 0.5)]):
    truth = rng.choice([0.0, 0.5, 1.0], size=n + N, p=[0.4, 0.1, 0.5])
    pred = np.where(rng.random(n + N) < acc, truth, rng.choice([0.0, 0.5, 1.0], size=n + N))
    mean_case(f"win-rate {n}/{N} acc {acc}", truth[:n], pred[:n], pred[n:], 0.05)
    mean_case(f"win-rate {n}/{N} acc {acc} alpha 0.1", truth[:n], pred[:n], pred[n:], 0.1)
    # probabilities as predictions
    prob = np.clip(truth + rng.normal(0, 0.3, n + N), 0, 1)
    mean_case(f"probability {n}/{N}", truth[:n], prob[:n], prob[n:], 0.05)
    # unequal selection probabilities: w = 1/p on the labelled items, every item's prediction as the unlabelled set
    p = rng.uniform(0.05, 0.6, n)
    mean_case(f"weighted {n}/{N}", truth[:n], pred[:n], pred, 0.05, w=1 / p)
# scores 1..5 (pointwise mean score)
s = rng.integers(1, 6, 300).astype(float)
sh = np.clip(s + rng.integers(-1, 2, 300) + 0.3, 1, 5)
mean_case("scores 60/240", s[:60], sh[:60], sh[60:], 0.05)
# an uninformative judge: lambda clips to 0
y = rng.integers(0, 2, 50).astype(float)
mean_case("anti-correlated judge", y, 1 - y, rng.integers(0, 2, 500).astype(float), 0.05)

for k, (n, N, h) in enumerate([(100, 1000, 0.03), (50, 5000, 0.05), (80, 999, 0.02), (120, 20000, 0.01)]):
    truth = rng.choice([0.0, 0.5, 1.0], size=n, p=[0.45, 0.1, 0.45])
    pred = np.where(rng.random(n) < 0.85, truth, rng.choice([0.0, 0.5, 1.0], size=n))
    alpha = 0.05
    sigma = truth.std()
    n0 = (norm.ppf(1 - alpha / 2) * sigma / h) ** 2
    r = ppi_mean_power(truth, pred, cost_Y=1.0, cost_Yhat=1e-12, effective_n=n0, n_max=N)
    out["power"].append({"name": f"pilot {n}, {N} items, h {h}", "y": truth.tolist(), "yhat": pred.tolist(),
                         "n_items": N, "half_width": h, "alpha": alpha, "classical_exact": float(n0),
                         "ppi_labels": int(r["n"]), "ppi_corr": float(r["ppi_corr"])})


def bt_case(name, models, strengths, n, N, judge_noise, probs):
    m = len(models)
    rows, ys, yh = [], [], []
    for _ in range(n + N):
        a, b = rng.choice(m, 2, replace=False)
        x = np.zeros(m)
        x[a], x[b] = 1, -1
        pa = 1 / (1 + np.exp(-(strengths[a] - strengths[b])))
        y = float(rng.random() < pa)
        if probs:
            j = float(np.clip(pa + rng.normal(0, judge_noise), 0.01, 0.99))
        else:
            j = y if rng.random() > judge_noise else float(rng.random() < 0.7)  # biased towards A when wrong
        rows.append(x[1:]); ys.append(y); yh.append(j)
    X = np.array(rows); Y = np.array(ys); Yh = np.array(yh)
    alpha = 0.05
    est = ppi_logistic_pointestimate(X[:n], Y[:n], Yh[:n], X[n:], Yh[n:])
    lo, hi = ppi_logistic_ci(X[:n], Y[:n], Yh[:n], X[n:], Yh[n:], alpha=alpha)
    out["logistic"].append({"name": name, "x": X[:n].tolist(), "y": Y[:n].tolist(), "yhat": Yh[:n].tolist(),
                            "x_unlabeled": X[n:].tolist(), "yhat_unlabeled": Yh[n:].tolist(), "alpha": alpha,
                            "estimate": est.tolist(), "lo": lo.tolist(), "hi": hi.tolist()})


bt_case("4 models, verdicts", ["a", "b", "c", "d"], [0, 0.5, 1.0, -0.3], 150, 600, 0.25, False)
bt_case("3 models, probabilities", ["a", "b", "c"], [0, -0.8, 0.4], 120, 500, 0.2, True)
bt_case("5 models, noisy verdicts", ["a", "b", "c", "d", "e"], [0, 0.2, 0.4, 0.6, 0.8], 200, 1000, 0.45, False)


def active(y, yhat, p, yhat_u, alpha, lam=None):
    """Active inference (Zrnic & Candes 2024, eq. for the mean with power tuning): a numpy transcription of the
    paper's estimator (ppi_py has no selection-probability estimator of this form; its `w` is a Hajek weight on a
    separate unlabelled set)."""
    a = np.concatenate([y / p, np.zeros(len(yhat_u))])
    b = np.concatenate([yhat * (1 - 1 / p), yhat_u])
    if lam is None:
        lam = float(np.clip(-np.cov(a, b)[0, 1] / np.var(b, ddof=1), 0, 1))
    z = a + lam * b
    m, se = z.mean(), z.std() / np.sqrt(len(z))
    q = norm.ppf(1 - alpha / 2)
    return m, m - q * se, m + q * se, lam


for k, (N, n) in enumerate([(1000, 100), (400, 80), (3000, 150)]):
    truth = rng.choice([0.0, 0.5, 1.0], size=N, p=[0.4, 0.1, 0.5])
    pred = np.where(rng.random(N) < 0.8, truth, 1.0)
    p = np.clip(rng.uniform(0.02, 0.3, N), 0, 1)
    sel = rng.random(N) < p
    for lam in (None, 0.0):
        m, lo, hi, l = active(truth[sel], pred[sel], p[sel], pred[~sel], 0.05, lam)
        out["active"].append({"name": f"active {N} items, lam {lam}", "y": truth[sel].tolist(), "yhat": pred[sel].tolist(),
                              "p": p[sel].tolist(), "yhat_unlabeled": pred[~sel].tolist(), "alpha": 0.05,
                              "lam": lam, "estimate": m, "ci": [lo, hi], "lambda": l})
print(json.dumps(out))
