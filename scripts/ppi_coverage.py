"""Coverage of judgepanel's prediction-powered intervals under three label selections (>= 1 000 repetitions each).

    /tmp/ppi-venv/bin/python scripts/ppi_coverage.py [--reps 1000] [--seed 7]

judgepanel's `ppi` equals ppi_py (tested to 1e-9 in JudgeStatsTests), so this simulates with ppi_py itself and the
same rule judgepanel applies: equal p_select -> ppi_mean_ci on (labelled, unlabelled) as is; unequal p_select ->
weights w = 1/p_select on the labelled items and every item's verdict as the unlabelled set (inverse-probability
weighting, active inference). Each repetition draws a fresh population of N items from a model of pairwise
judging: human outcome Y in {0, 1/2, 1} for response_a, a judge biased towards slot A that answers 2k = 4 times
(2 samples x both orders) per item; its verdict is the majority, its P(A) the share of A answers.
Selections (expected budget n): uniform (simple random sample of n), BPDE with explore 0.2 (p_i = n [0.8 H_i/sum H +
0.2/N], Poisson sampling; H = entropy of the 4 answers), uncertainty (p_i proportional to 0.05 + 1 - |2 P(A) - 1|).
Reported: coverage of the true win rate E[Y] by the 95% PPI interval and by the classical (labels-only) one, and
their mean widths.
"""
import argparse
import numpy as np
from ppi_py import ppi_mean_ci
from ppi_py.baselines import classical_mean_ci

ap = argparse.ArgumentParser()
ap.add_argument("--reps", type=int, default=1000)
ap.add_argument("--seed", type=int, default=7)
ap.add_argument("--N", type=int, default=2000)
ap.add_argument("--n", type=int, default=200)
ap.add_argument("--estimator", choices=["ppi_py_w", "active"], default="ppi_py_w",
                help="ppi_py_w: what judgepanel does (ppi_py, w = 1/p_select, every item's verdict unlabelled); "
                     "active: the Horvitz-Thompson form of Zrnic & Candes (JudgeStats PredictionPowered.activeMean)")
args = ap.parse_args()
rng = np.random.default_rng(args.seed)
N, n, alpha = args.N, args.n, 0.05
P_Y = np.array([0.45, 0.15, 0.40])  # human: B wins, tie, A wins
TRUTH = 0.15 * 0.5 + 0.40  # E[Y]


def population():
    y = rng.choice([0.0, 0.5, 1.0], size=N, p=P_Y)
    # the judge: each of 4 answers is right with 0.7, else A with 0.75 (slot-A bias), else the third option
    ans = np.empty((N, 4))
    for k in range(4):
        right = rng.random(N) < 0.7
        wrong = np.where(rng.random(N) < 0.75, 1.0, np.where(y == 1.0, 0.0, np.where(y == 0.0, 0.5, 0.0)))
        ans[:, k] = np.where(right, y, wrong)
    pa = (ans == 1.0).mean(1) + 0.5 * (ans == 0.5).mean(1)
    counts = np.stack([(ans == v).sum(1) for v in (0.0, 0.5, 1.0)], 1)
    verdict = np.array([0.0, 0.5, 1.0])[counts.argmax(1)]
    q = counts / 4
    H = -(np.where(q > 0, q * np.log(np.where(q > 0, q, 1)), 0)).sum(1)
    return y, verdict, pa, H


def active(y, yhat, p, sel):
    """Active inference (Zrnic & Candes 2024): z_i = lam yhat_i + (y_i - lam yhat_i) xi_i / p_i over every item,
    lam = -cov(a, b) / var(b) clipped to [0, 1] (a = y xi / p, b = yhat (1 - xi / p)); normal interval on mean z.
    Classical: the same with lam = 0 (Horvitz-Thompson)."""
    xi = sel.astype(float)
    yy = np.where(sel, y, 0.0)
    a = yy * xi / p
    b = yhat * (1 - xi / p)
    lam = np.clip(-np.cov(a, b)[0, 1] / np.var(b, ddof=1), 0, 1)
    z = 1.959963984540054
    out = []
    for l in (lam, 0.0):
        t = a + l * b
        m, se = t.mean(), t.std() / np.sqrt(len(t))
        out += [m - z * se, m + z * se]
    return out


def estimate(y, yhat, p, sel):
    if np.allclose(p, p[0]):
        lo, hi = ppi_mean_ci(y[sel], yhat[sel], yhat[~sel], alpha=alpha)
        clo, chi = classical_mean_ci(y[sel], alpha=alpha)
    elif args.estimator == "ppi_py_w":
        w = 1 / p[sel]
        lo, hi = ppi_mean_ci(y[sel], yhat[sel], yhat, alpha=alpha, w=w)
        clo, chi = classical_mean_ci(y[sel], w=w, alpha=alpha)
    else:
        lo, hi, clo, chi = active(y, yhat, p, sel)
    return float(np.squeeze(lo)), float(np.squeeze(hi)), float(clo), float(chi)


def run(design):
    cov = ccov = 0
    width = cwidth = judge_cov = 0.0
    labels = 0
    for _ in range(args.reps):
        y, verdict, pa, H = population()
        if design == "uniform":
            sel = np.zeros(N, bool)
            sel[rng.choice(N, n, replace=False)] = True
            p = np.full(N, n / N)
        elif design == "bpde+explore":
            p = np.minimum(n * (0.8 * H / H.sum() + 0.2 / N), 1)
            sel = rng.random(N) < p
        else:
            u = 0.05 + 1 - np.abs(2 * pa - 1)
            p = np.minimum(n * u / u.sum(), 1)
            sel = rng.random(N) < p
        labels += sel.sum()
        lo, hi, clo, chi = estimate(y, verdict, p, sel)
        cov += lo <= TRUTH <= hi
        ccov += clo <= TRUTH <= chi
        width += hi - lo
        cwidth += chi - clo
        jm, js = verdict.mean(), verdict.std() / np.sqrt(N)
        judge_cov += abs(jm - TRUTH) <= 1.959963984540054 * js
    r = args.reps
    print(f"| {design} | {labels / r:.0f} | {cov / r:.3f} | {ccov / r:.3f} | {width / r:.4f} | {cwidth / r:.4f} | "
          f"{1 - width / cwidth:.0%} | {judge_cov / r:.3f} |")


print(f"estimator for unequal p_select: {args.estimator}; N = {N} items, expected {n} labels, {args.reps} repetitions, seed {args.seed}; true win rate {TRUTH:.3f}")
print()
print("| selection | mean labels | PPI 95% coverage | classical coverage | PPI mean width | classical mean width | narrower by | judge-only coverage |")
print("|---|---|---|---|---|---|---|---|")
for d in ["uniform", "bpde+explore", "uncertainty"]:
    run(d)
