#!/usr/bin/env bash
# Integration tier: two real local LLMs (llama.cpp) judge a small fixture; assert real properties.
set -euo pipefail
cd "$(dirname "$0")/.."
stage() { echo "== $1 ($(( $(date +%s) - T0 )) s so far)"; }
T0=$(date +%s)
stage "setup (models + llama-server)"
bash scripts/setup-local.sh
stage "build"
swift build --product judgepanel 2>&1 | tail -1
WORK=$(mktemp -d)
head -n 6 fixtures/pandalm-50.jsonl > "$WORK/items.jsonl"
stage "score 6 pairs x 2 orders x 2 judges"
.build/debug/judgepanel score "$WORK/items.jsonl" --rubric rubrics/pairwise-mtbench.yaml --panel panels/local.yaml \
  --out "$WORK/run" --cache-dir "$WORK/cache"
stage "checks"
python3 - "$WORK/run" <<'PY'
import json, sys
d = sys.argv[1]
votes = [json.loads(l) for l in open(d + "/votes.jsonl")]
assert len(votes) == 6 * 2 * 2, len(votes)
for v in votes:
    assert v["status"] in ("ok", "abstain", "error"), v
    assert v["status"] != "ok" or v.get("verdict") in ("A", "B", "tie"), v
    assert v["status"] == "ok" or v.get("raw") is not None or v.get("error"), v
for judge in {v["judge"] for v in votes}:
    orders = {(v["item"], v["order"]) for v in votes if v["judge"] == judge}
    assert len(orders) == 12, (judge, orders)
report = json.load(open(d + "/report.json"))
assert report["n_items"] == 6 and len(report["judges"]) == 2
for j in report["judges"]:
    assert "parse_rate" in j and "accuracy" in j and "position_consistency" in j, j
print("integration checks passed:", {j["judge"]: (j["parse_rate"], j["accuracy"]) for j in report["judges"]})
PY
if pgrep -f "$HOME/.cache/judgepanel/bin/llama-server" >/dev/null || pgrep -x llama-server >/dev/null; then
  echo "llama-server still running after the run" >&2; exit 1
fi
stage "second run (cached)"
.build/debug/judgepanel score "$WORK/items.jsonl" --rubric rubrics/pairwise-mtbench.yaml --panel panels/local.yaml \
  --out "$WORK/run2" --cache-dir "$WORK/cache" | tail -2
stage "done"
