#!/usr/bin/env bash
# Peak RSS of `judgepanel score` as the run grows (BENCHMARKS.md, "Memory of a score run").
#
#   scripts/bench_memory.sh [N ...]        # default: 20000 200000 items
#
# For each N: N synthetic pairwise items × 2 judges × 2 orders (4N calls) at concurrency 64 per judge, no cache,
# against `PanelBench serve --latency-ms 0` (a loopback OpenAI-compatible server in a second process that answers
# "[[A]]"); peak RSS and wall time from /usr/bin/time -v. Then `judgepanel report DIR` on the finished run (peak RSS,
# wall, and whether it rebuilt the four files byte for byte). Writes into a scratch directory that it removes.
set -euo pipefail
cd "$(dirname "$0")/.."
SCRATCH=${SCRATCH:-.build}
swift build -c release --scratch-path "$SCRATCH" --product judgepanel >/dev/null
swift build -c release --scratch-path "$SCRATCH" --product PanelBench >/dev/null
JP="$SCRATCH/release/judgepanel"
BENCH="$SCRATCH/release/PanelBench"
WORK=$(mktemp -d)
PORTFILE="$WORK/port"
"$BENCH" serve --latency-ms 0 >"$PORTFILE" &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do grep -q PORT "$PORTFILE" && break; sleep 0.1; done
PORT=$(awk '/PORT/ {print $2}' "$PORTFILE")
cat >"$WORK/panel.yaml" <<EOF
version: 1
judges:
  - {name: j1, provider: openai, base_url: "http://127.0.0.1:$PORT/v1", model: j1, api_key_env: JP_BENCH_KEY, concurrency: 64}
  - {name: j2, provider: openai, base_url: "http://127.0.0.1:$PORT/v1", model: j2, api_key_env: JP_BENCH_KEY, concurrency: 64}
aggregate: majority
swap: true
EOF
echo "== machine: $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg); $(git rev-parse --short HEAD)"
for N in "${@:-20000 200000}"; do
    python3 - "$N" "$WORK/items-$N.jsonl" <<'EOF'
import json, sys
n, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w") as f:
    for i in range(n):
        f.write(json.dumps({"id": f"i{i}", "prompt": f"Question {i}: which answer is better?",
                            "response_a": f"Answer alpha {i}: a careful explanation.",
                            "response_b": f"Answer beta {i}: a different take.",
                            "label": ["A", "B", "tie"][i % 3]}) + "\n")
EOF
    rm -rf "$WORK/run-$N"
    /usr/bin/time -v "$JP" score "$WORK/items-$N.jsonl" --rubric rubrics/pairwise-mtbench.yaml --panel "$WORK/panel.yaml" \
        --out "$WORK/run-$N" --no-cache >"$WORK/out-$N" 2>"$WORK/time-$N" </dev/null || { cat "$WORK/time-$N"; exit 1; }
    RSS=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/time-$N")
    WALL=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$WORK/time-$N")
    VOTES=$(wc -l <"$WORK/run-$N/votes.jsonl")
    printf "items %7d  votes %7d  peak RSS %6.1f MiB  wall %s\n" "$N" "$VOTES" "$(echo "$RSS / 1024" | bc -l)" "$WALL"
    # `report DIR` on the finished run: the same analysis from votes.jsonl, which must rebuild the files identically.
    mkdir -p "$WORK/orig-$N"
    cp "$WORK/run-$N"/{verdicts.jsonl,report.json,report.md,report.html} "$WORK/orig-$N/"
    /usr/bin/time -v "$JP" report "$WORK/run-$N" >"$WORK/rout-$N" 2>"$WORK/rtime-$N" </dev/null || { cat "$WORK/rtime-$N"; exit 1; }
    RRSS=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/rtime-$N")
    RWALL=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$WORK/rtime-$N")
    SAME=identical
    for f in verdicts.jsonl report.json report.md report.html; do cmp -s "$WORK/orig-$N/$f" "$WORK/run-$N/$f" || SAME="DIFFERS ($f)"; done
    printf "  report DIR        peak RSS %6.1f MiB  wall %s  files %s\n" "$(echo "$RRSS / 1024" | bc -l)" "$RWALL" "$SAME"
    rm -rf "$WORK/orig-$N"
    rm -rf "$WORK/run-$N" "$WORK/items-$N.jsonl"
done
