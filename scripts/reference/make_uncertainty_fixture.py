#!/usr/bin/env python3
"""Expected `label --select uncertainty` scores for the HumanLoopTests fixture: 1 - the largest Dawid-Skene posterior
per item, from crowd-kit, fitted on the judges' reconciled verdicts (flip policy tie) of that fixture:

    q1: j1 A, j2 tie   q2: j1 B, j2 B   q3: j1 tie, j2 tie   q4: j1 A, j2 A

    pip install "crowd-kit==1.4.*" pandas
    python3 scripts/reference/make_uncertainty_fixture.py   # prints the four scores the test expects
"""
import pandas as pd
from crowdkit.aggregation import DawidSkene

CLASSES = {"A": 0, "B": 1, "tie": 2}
TABLE = {"q1": {"j1": "A", "j2": "tie"}, "q2": {"j1": "B", "j2": "B"},
         "q3": {"j1": "tie", "j2": "tie"}, "q4": {"j1": "A", "j2": "A"}}

rows = [(item, judge, CLASSES[v]) for item, judges in TABLE.items() for judge, v in judges.items()]
ds = DawidSkene(n_iter=100, tol=1e-5).fit(pd.DataFrame(rows, columns=["task", "worker", "label"]))
for item in TABLE:
    print(item, repr(1 - float(ds.probas_.loc[item].max())))
