#!/usr/bin/env python3
"""Generate Tests/JudgeStatsTests/Fixtures/reference_stats.json: reference values for JudgeStats.

References: scikit-learn cohen_kappa_score, statsmodels fleiss_kappa(method="fleiss"),
krippendorff.alpha (v0.9.0), scipy pearsonr / spearmanr / kendalltau (tau-b), numpy.percentile.
A reference that raises or returns NaN is written as null (the Swift side must be undefined).

    pip install scikit-learn statsmodels krippendorff==0.9.0 scipy numpy
    python3 scripts/reference/make_stats_fixture.py
"""
import json
import math
import pathlib
import warnings

import krippendorff
import numpy as np
import scipy
import sklearn
import statsmodels
from scipy import stats
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa

warnings.filterwarnings("ignore")
rng = np.random.default_rng(20240611)
OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests/JudgeStatsTests/Fixtures/reference_stats.json"


def ref(f):
    try:
        v = float(f())
    except Exception:
        return None
    return v if math.isfinite(v) else None


def py(xs):
    return [x.item() if hasattr(x, "item") else x for x in xs]


# ---- Cohen's kappa ------------------------------------------------------------------------
kappa_int, kappa_str = [], []


def add_kappa(name, y1, y2, labels=None, weights=None, kind="int"):
    case = {"name": name, "y1": py(y1), "y2": py(y2), "labels": None if labels is None else py(labels),
            "weights": weights or "none",
            "expected": ref(lambda: cohen_kappa_score(y1, y2, labels=labels, weights=weights))}
    (kappa_int if kind == "int" else kappa_str).append(case)


for n in (5, 20, 57, 200):
    for k in (2, 3, 5):
        for w in (None, "linear", "quadratic"):
            y1 = rng.integers(0, k, n)
            # correlated second rater: copy with probability 0.6
            y2 = np.where(rng.random(n) < 0.6, y1, rng.integers(0, k, n))
            add_kappa(f"random n={n} k={k} w={w}", y1, y2, weights=w)
# labels not all observed, and a custom label order
for w in (None, "linear", "quadratic"):
    y1 = rng.integers(1, 4, 40); y2 = rng.integers(1, 4, 40)
    add_kappa(f"unobserved labels w={w}", y1, y2, labels=[0, 1, 2, 3, 4, 5], weights=w)
    add_kappa(f"reversed labels w={w}", y1, y2, labels=[5, 4, 3, 2, 1, 0], weights=w)
    add_kappa(f"label subset drops pairs w={w}", y1, y2, labels=[1, 2], weights=w)
# pairwise string labels A/B/tie
for n in (10, 100):
    for w in (None, "quadratic"):
        y1 = rng.choice(["A", "B", "tie"], n, p=[0.45, 0.45, 0.1])
        y2 = np.where(rng.random(n) < 0.7, y1, rng.choice(["A", "B", "tie"], n))
        add_kappa(f"strings n={n} w={w}", y1, y2, weights=w, kind="str")
add_kappa("strings with labels", ["A", "B", "A", "tie"], ["A", "A", "B", "tie"], labels=["A", "B", "tie"], kind="str")
# degenerate
add_kappa("one identical class", [1, 1, 1, 1], [1, 1, 1, 1])
add_kappa("one identical class quadratic", [2, 2, 2], [2, 2, 2], weights="quadratic")
add_kappa("perfect agreement", [0, 1, 2, 0], [0, 1, 2, 0])
add_kappa("single pair", [3], [3])
add_kappa("rater 1 constant", [0, 0, 0, 0], [0, 1, 0, 1])
add_kappa("labels only one observed", [0, 0, 1], [0, 0, 1], labels=[0])

# ---- Fleiss' kappa -------------------------------------------------------------------------
def fleiss_general(table):
    """Per-item generalisation for unequal rater counts (items with < 2 ratings skipped)."""
    t = np.asarray(table, dtype=float)
    ni = t.sum(1)
    t = t[ni >= 2]; ni = ni[ni >= 2]
    if len(t) == 0:
        return None
    p_i = ((t * t).sum(1) - ni) / (ni * (ni - 1))
    p_cat = t.sum(0) / t.sum()
    pe = (p_cat * p_cat).sum()
    if 1 - pe <= 0:
        return None
    return float((p_i.mean() - pe) / (1 - pe))


fleiss = []
for items in (5, 30, 120):
    for raters in (2, 3, 7):
        for k in (2, 3, 5):
            probs = rng.dirichlet(np.ones(k))
            table = np.stack([rng.multinomial(raters, probs) for _ in range(items)])
            fleiss.append({"name": f"statsmodels items={items} raters={raters} k={k}", "table": table.tolist(),
                           "reference": "statsmodels", "expected": ref(lambda: fleiss_kappa(table, method="fleiss"))})
for items in (10, 50):
    k = 3
    table = np.stack([rng.multinomial(rng.integers(0, 6), np.ones(k) / k) for _ in range(items)])
    fleiss.append({"name": f"unequal raters items={items}", "table": table.tolist(),
                   "reference": "generalised", "expected": fleiss_general(table)})
fleiss.append({"name": "one category", "table": [[3, 0], [3, 0]], "reference": "statsmodels",
               "expected": ref(lambda: fleiss_kappa(np.array([[3, 0], [3, 0]])))})
fleiss.append({"name": "single rater", "table": [[1, 0], [0, 1]], "reference": "statsmodels",
               "expected": ref(lambda: fleiss_kappa(np.array([[1, 0], [0, 1]])))})
fleiss.append({"name": "perfect", "table": [[4, 0], [0, 4], [4, 0]], "reference": "statsmodels",
               "expected": ref(lambda: fleiss_kappa(np.array([[4, 0], [0, 4], [4, 0]])))})

# ratings -> table -> kappa (missing ratings skipped)
fleiss_ratings = []
for items, raters, missing in ((8, 3, 0.0), (25, 4, 0.0), (25, 4, 0.2)):
    ratings = [[(int(v) if rng.random() >= missing else None) for v in rng.integers(1, 5, raters)] for _ in range(items)]
    cats = sorted({v for r in ratings for v in r if v is not None})
    table = [[sum(1 for v in r if v == c) for c in cats] for r in ratings]
    equal = len({sum(row) for row in table}) == 1
    exp = ref(lambda: fleiss_kappa(np.array(table), method="fleiss")) if equal else fleiss_general(table)
    fleiss_ratings.append({"name": f"ratings items={items} raters={raters} missing={missing}", "ratings": ratings,
                           "categories": cats, "table": table, "expected": exp})

# ---- Krippendorff's alpha ------------------------------------------------------------------
kripp, kripp_str = [], []


def add_alpha(name, data, level, domain=None):
    arr = np.array([[np.nan if v is None else v for v in row] for row in data], dtype=float)
    kripp.append({"name": name, "data": data, "level": level, "value_domain": domain,
                  "expected": ref(lambda: krippendorff.alpha(reliability_data=arr, level_of_measurement=level,
                                                             value_domain=domain))})


wiki = [[None, None, None, None, None, 3, 4, 1, 2, 1, 1, 3, 3, None, 3],
        [1, None, 2, 1, 3, 3, 4, 3, None, None, None, None, None, None, None],
        [None, None, 2, 1, 3, 4, 4, None, 2, 1, 1, 3, 3, None, 4]]
for level in ("nominal", "ordinal", "interval", "ratio"):
    add_alpha(f"wikipedia {level}", wiki, level)
    for coders, units, k, miss in ((2, 10, 3, 0.0), (2, 60, 4, 0.1), (3, 40, 5, 0.25), (5, 80, 3, 0.3), (4, 25, 7, 0.5)):
        truth = rng.integers(0, k, units)
        data = []
        for _ in range(coders):
            row = np.where(rng.random(units) < 0.7, truth, rng.integers(0, k, units))
            data.append([None if rng.random() < miss else int(v) for v in row])
        add_alpha(f"random {level} coders={coders} units={units} k={k} missing={miss}", data, level)
    # continuous values (many distinct)
    data = [[None if rng.random() < 0.15 else round(float(v), 3) for v in rng.normal(5, 2, 30) + 0.1] for _ in range(3)]
    add_alpha(f"continuous {level}", data, level)
# ratio with zeros (v1 + v2 == 0)
add_alpha("ratio with zeros", [[0, 0, 1, 2, 3, 0], [0, 1, 1, 2, 4, 0]], "ratio")
# custom domains: unobserved values, ordinal rank order from the domain
add_alpha("ordinal domain with unobserved", [[1, 2, 3, 3, 2], [1, 3, 3, 2, 2], [None, 2, 3, 3, 1]], "ordinal", [0, 1, 2, 3, 4])
add_alpha("nominal domain with unobserved", [[1, 2, 3, 3, 2], [1, 3, 3, 2, 2]], "nominal", [1, 2, 3, 9])
add_alpha("interval domain with unobserved", [[1, 2, 3, 3, 2], [1, 3, 3, 2, 2]], "interval", [0, 1, 2, 3, 4, 5])
# degenerate
add_alpha("all missing", [[None, None, None], [None, None, None]], "nominal")
add_alpha("one value", [[1, 1, 1], [1, 1, None]], "nominal")
add_alpha("one value with domain", [[1, 1, 1], [1, 1, 1]], "nominal", [1, 2])
add_alpha("no pairable unit", [[1, None, 2], [None, 2, None]], "interval")
add_alpha("out of domain", [[1, 2, 3], [1, 2, 2]], "nominal", [1, 2])
add_alpha("perfect agreement", [[1, 2, 3], [1, 2, 3]], "interval")

for coders, units, miss in ((2, 50, 0.0), (3, 40, 0.2)):
    cats = ["A", "B", "tie"]
    data = [[None if rng.random() < miss else str(rng.choice(cats, p=[0.4, 0.4, 0.2])) for _ in range(units)] for _ in range(coders)]
    arr = np.array([[np.nan if v is None else v for v in row] for row in data], dtype=object)
    # krippendorff wants a numeric or string array; code strings as sorted-rank numbers for the reference
    codes = np.array([[np.nan if v is None else float(cats.index(v)) for v in row] for row in data])
    for level in ("nominal", "ordinal"):
        kripp_str.append({"name": f"strings {level} coders={coders}", "data": data, "level": level,
                          "expected": ref(lambda: krippendorff.alpha(reliability_data=codes, level_of_measurement=level))})

# ---- correlations ---------------------------------------------------------------------------
corr = []


def add_corr(name, x, y):
    x = [float(v) for v in x]; y = [float(v) for v in y]
    corr.append({"name": name, "x": x, "y": y,
                 "pearson": ref(lambda: stats.pearsonr(x, y)[0]),
                 "spearman": ref(lambda: stats.spearmanr(x, y)[0]),
                 "kendall_tau_b": ref(lambda: stats.kendalltau(x, y)[0])})


for n in (2, 3, 10, 50, 300):
    x = rng.normal(0, 1, n); y = 0.5 * x + rng.normal(0, 1, n)
    add_corr(f"normal n={n}", x, y)
    xi = rng.integers(1, 6, n); yi = np.clip(xi + rng.integers(-1, 2, n), 1, 5)
    add_corr(f"ties (1-5 scores) n={n}", xi, yi)
    add_corr(f"ties in x only n={n}", xi, y)
add_corr("negative perfect", [1, 2, 3, 4], [8, 6, 4, 2])
add_corr("large offsets", [1e6 + 0.1, 1e6 + 0.2, 1e6 + 0.4, 1e6 + 0.3], [3, 1, 4, 1])
add_corr("constant x", [1, 1, 1, 1], [1, 2, 3, 4])
add_corr("constant y decimals", [1, 2, 3], [0.1, 0.1, 0.1])
add_corr("n=1", [1], [2])
add_corr("n=0", [], [])

# ---- numpy percentile -----------------------------------------------------------------------
perc = []
for n in (1, 2, 7, 1000):
    v = rng.normal(0, 1, n)
    for q in (0, 2.5, 25, 50, 97.5, 100):
        perc.append({"values": v.tolist(), "q": q, "expected": float(np.percentile(v, q))})

fixture = {
    "generator": "scripts/reference/make_stats_fixture.py",
    "versions": {"numpy": np.__version__, "scipy": scipy.__version__, "scikit-learn": sklearn.__version__,
                 "statsmodels": statsmodels.__version__, "krippendorff": getattr(krippendorff, "__version__", "0.9.0")},
    "cohen_kappa_int": kappa_int, "cohen_kappa_str": kappa_str,
    "fleiss": fleiss, "fleiss_ratings": fleiss_ratings,
    "krippendorff": kripp, "krippendorff_str": kripp_str,
    "correlation": corr, "percentile": perc,
}
OUT.parent.mkdir(parents=True, exist_ok=True)
OUT.write_text(json.dumps(fixture, separators=(",", ":")) + "\n")
counts = {k: len(v) for k, v in fixture.items() if isinstance(v, list)}
nulls = sum(1 for k, v in fixture.items() if isinstance(v, list) for c in v if c.get("expected", 0) is None)
print(f"wrote {OUT} ({OUT.stat().st_size} bytes): {counts}, {nulls} expected-null cases")
