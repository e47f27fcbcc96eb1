#!/usr/bin/env bash
# Meta-evaluation at scale (issue 19): times `judgepanel meta ITEMS --votes VOTES --json` (release build, default
# 1 000 resamples) against a pandas + scikit-learn script computing the point metrics (no CIs) on the same files,
# in the same run, with /usr/bin/time -v (wall clock, peak RSS).
# usage: scripts/bench_meta.sh [N_ITEMS ...]   (default 250000 = 2 M votes; 1250000 = 10 M votes)
# env: JUDGEPANEL_BIN=path times that binary instead of building; SHUFFLE=1 also times a shuffled (not grouped by item) copy; SKIP_PANDAS=1 skips the Python side.
# Needs: swift, python3 with pandas and scikit-learn (pip install pandas scikit-learn).
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("${@:-250000}")
dir=${BENCH_DIR:-/tmp/judgepanel-bench-meta}
mkdir -p "$dir"
# JUDGEPANEL_BIN: a prebuilt binary to time (e.g. an older build for a before/after figure).
bin=${JUDGEPANEL_BIN:-}
if [ -z "$bin" ]; then
    swift build -c release --product judgepanel >/dev/null
    bin=$(swift build -c release --show-bin-path)/judgepanel
fi
echo "machine: $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
run() {  # label, command...
    local label=$1; shift
    /usr/bin/time -v "$@" >"$dir/out.json" 2>"$dir/time.txt" || { cat "$dir/time.txt"; exit 1; }
    local wall rss
    wall=$(grep 'Elapsed (wall clock)' "$dir/time.txt" | awk '{print $NF}')
    rss=$(grep 'Maximum resident set size' "$dir/time.txt" | awk '{print $NF}')
    printf '%-44s wall %10s  peak RSS %6d MiB  (load %s)\n' "$label" "$wall" $((rss / 1024)) "$(cut -d' ' -f1 /proc/loadavg)"
    echo "$wall" | awk -F: '{s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s}' >"$dir/last-wall"
}
for n in "${sizes[@]}"; do
    items=$dir/items-$n.jsonl votes=$dir/votes-$n.jsonl
    [ -s "$votes" ] || python3 scripts/gen_meta_votes.py "$n" "$items" "$votes"
    echo "== $n items, $(wc -l <"$votes") votes, $(du -m "$votes" | cut -f1) MB"
    run "judgepanel meta --json (1000 resamples)" "$bin" meta "$items" --votes "$votes" --json
    jp_wall=$(cat "$dir/last-wall")
    cp "$dir/out.json" "$dir/report-$n.json"
    if [ "${SHUFFLE:-0}" = 1 ]; then
        [ -s "$votes.shuf" ] || python3 scripts/gen_meta_votes.py "$n" "$items" "$votes.shuf" --shuffle
        run "judgepanel meta --json, shuffled votes" "$bin" meta "$items" --votes "$votes.shuf" --json
        cmp -s <(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(json.dumps(sorted(r["judges"], key=lambda j: j["judge"]), sort_keys=True))' "$dir/out.json") \
               <(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(json.dumps(sorted(r["judges"], key=lambda j: j["judge"]), sort_keys=True))' "$dir/report-$n.json") \
            && echo "   shuffled report judges == grouped" || echo "   WARNING: shuffled report differs"
    fi
    if [ "${SKIP_PANDAS:-0}" != 1 ]; then
        run "pandas + scikit-learn (point metrics)" python3 scripts/meta_pandas.py "$items" "$votes"
        # The only figure to compare: both walls from this run, on the same files, at the same load.
        awk -v p="$(cat "$dir/last-wall")" -v j="$jp_wall" 'BEGIN {printf "   same-run ratio pandas/judgepanel: %.2fx (goal >= 5; judgepanel with 1000-resample CIs, pandas without)\n", p / j}' 
        python3 - "$dir/out.json" "$dir/report-$n.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1])); r = json.load(open(sys.argv[2]))
worst = 0.0
for j in r["judges"]:
    q = p["judges"][j["judge"]]
    for k in ("accuracy", "cohen_kappa", "position_consistency_answered"):
        worst = max(worst, abs(q[k] - j[k]))
for k, v in p["inter_judge_kappa"].items():
    worst = max(worst, abs(v - r["inter_judge"]["cohen_kappa"][k]))
print(f"   pandas vs judgepanel: largest difference over accuracy, kappa, position consistency, inter-judge kappa: {worst:.2e}")
PY
    fi
done
