#!/usr/bin/env python3
"""Generate Tests/JudgeStatsTests/Fixtures/reference_mcnemar.json: McNemar's exact test (the drift sentinel).

Reference: statsmodels.stats.contingency_tables.mcnemar(table, exact=True) — statistic min(b, c), two-sided
binomial p-value. Tables [[a, b], [c, d]]: only the discordant counts b and c matter.

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install statsmodels==0.15.0 numpy
    /tmp/venv/bin/python scripts/reference/make_mcnemar_fixture.py
"""
import json
import pathlib

import numpy as np
import statsmodels
from statsmodels.stats.contingency_tables import mcnemar

OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests/JudgeStatsTests/Fixtures/reference_mcnemar.json"

pairs = [(0, 0), (0, 1), (1, 0), (1, 1), (3, 12), (12, 3), (5, 5), (0, 9), (7, 20), (40, 61), (100, 130),
         (250, 251), (0, 1000), (480, 540), (1200, 1110), (2, 3000)]
rng = np.random.default_rng(20261207)
for _ in range(20):
    b, c = (int(x) for x in rng.integers(0, 400, size=2))
    pairs.append((b, c))

cases = []
for b, c in pairs:
    r = mcnemar([[10, b], [c, 10]], exact=True)
    cases.append({"b": b, "c": c, "statistic": float(r.statistic), "pvalue": float(r.pvalue)})

OUT.parent.mkdir(parents=True, exist_ok=True)
OUT.write_text(json.dumps({"statsmodels": statsmodels.__version__, "cases": cases}, indent=1) + "\n")
print(f"wrote {OUT} ({len(cases)} cases, statsmodels {statsmodels.__version__})")
