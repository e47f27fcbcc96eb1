#!/usr/bin/env bash
# Prediction-powered estimates on PandaLM (999 items, 3 human annotators each, gpt-3.5-turbo and PandaLM-7B verdicts):
# 100 items drawn uniformly (seeded) are the labelled subset (a labels.jsonl made from their human labels); the other
# 899 items keep only the judges' verdicts. The full human labels are the truth the estimates are checked against.
#   scripts/ppi_pandalm_demo.sh [JUDGEPANEL_BIN] [OUT_DIR]
set -euo pipefail
bin=${1:-.build/debug/judgepanel}
out=${2:-runs/pandalm-ppi}
src=fixtures/pandalm
rm -rf "$out"
"$bin" import pandalm "$src/testset-v1.json" "$src/gpt-3.5-turbo-testset-v1.json" "$src/pandalm-7b-testset-v1.json" --out "$out/import" >/dev/null
python3 - "$out" <<'PY'
import json, random, sys
out = sys.argv[1]
items = [json.loads(l) for l in open(f"{out}/import/items.jsonl")]
rng = random.Random(20261207)
chosen = set(rng.sample([it["id"] for it in items], 100))
with open(f"{out}/labels.jsonl", "w") as f:
    for it in items:
        if it["id"] in chosen:
            for a in it.get("labels", []):
                f.write(json.dumps({"item": it["id"], "annotator": a["annotator"], "label": a["label"],
                                    "selected_by": "random", "p_select": 100 / len(items)}) + "\n")
with open(f"{out}/items-unlabelled.jsonl", "w") as f:
    for it in items:
        f.write(json.dumps({k: v for k, v in it.items() if k not in ("label", "labels")}) + "\n")
# the truth: every item's majority human label, per model (ties 1/2)
def y(l): return {"A": 1.0, "B": 0.0, "tie": 0.5}[l]
from collections import Counter, defaultdict
s, n = defaultdict(float), defaultdict(int)
over = []
for it in items:
    c = Counter(a["label"] for a in it["labels"]).most_common()
    lab = "tie" if len(c) > 1 and c[0][1] == c[1][1] else c[0][0]
    over.append(y(lab))
    if it.get("model_a") and it.get("model_b") and it["model_a"] != it["model_b"]:
        s[it["model_a"]] += y(lab); n[it["model_a"]] += 1
        s[it["model_b"]] += 1 - y(lab); n[it["model_b"]] += 1
print("truth (all 999 human labels): response_a win rate %.3f; " % (sum(over) / len(over))
      + ", ".join(f"{m} {s[m] / n[m]:.3f}" for m in sorted(n)))
PY
"$bin" meta "$out/items-unlabelled.jsonl" --votes "$out/import/votes.jsonl" --labels "$out/labels.jsonl" --markdown --resamples 200 \
    | sed -n '/## Human-corrected/,$p'
"$bin" rank "$out/items-unlabelled.jsonl" --votes "$out/import/votes.jsonl" --labels "$out/labels.jsonl" --ppi --resamples 0 \
    | sed -n '/prediction-powered logistic/,$p'
"$bin" plan "$out/import/votes.jsonl" --items "$out/items-unlabelled.jsonl" --labels "$out/labels.jsonl" --half-width 0.05
