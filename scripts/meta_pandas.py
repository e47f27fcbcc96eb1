#!/usr/bin/env python3
"""The naive pandas + scikit-learn meta-evaluation a user would write (point metrics, no CIs), for
scripts/bench_meta.sh: per-judge accuracy and Cohen kappa against the human label (flip policy tie: a judge
whose two orders disagree counts as a tie), position consistency (items answered in both orders), inter-judge
Cohen kappa. usage: meta_pandas.py ITEMS VOTES"""
import itertools
import json
import sys
import time

import pandas as pd
from sklearn.metrics import cohen_kappa_score

t0 = time.time()
items = pd.read_json(sys.argv[1], lines=True, dtype={"id": str})[["id", "label"]]
votes = pd.read_json(sys.argv[2], lines=True, dtype={"item": str})
ok = votes[votes["status"] == "ok"]
# majority per (item, judge, order); one sample each here, so the first answer
per_order = ok.groupby(["item", "judge", "order"])["verdict"].first().unstack("order")
ab, ba = per_order.get("AB"), per_order.get("BA")
both = ab.notna() & ba.notna()
rec = ab.where(ab.isna() | ba.isna() | (ab == ba), "tie").fillna(ba)
rec = rec.rename("verdict").reset_index()
wide = rec.pivot(index="item", columns="judge", values="verdict")
wide = wide.reindex(items["id"])
labels = items.set_index("id")["label"]
out = {"judges": {}, "inter_judge_kappa": {}}
for judge in wide.columns:
    pred = wide[judge]
    acc = float((pred == labels).mean())
    answered = pred.notna()
    kappa = float(cohen_kappa_score(pred[answered], labels[answered]))
    j_both = both.xs(judge, level="judge")
    j_ab, j_ba = ab.xs(judge, level="judge")[j_both], ba.xs(judge, level="judge")[j_both]
    pc = float((j_ab == j_ba).mean())
    out["judges"][judge] = {"accuracy": acc, "cohen_kappa": kappa, "position_consistency_answered": pc}
for a, b in itertools.combinations(wide.columns, 2):
    m = wide[a].notna() & wide[b].notna()
    out["inter_judge_kappa"][f"{a}|{b}"] = float(cohen_kappa_score(wide[a][m], wide[b][m]))
out["seconds"] = time.time() - t0
print(json.dumps(out, indent=1, sort_keys=True))
