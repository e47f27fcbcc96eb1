#!/usr/bin/env bash
# Peak RSS of one shard of a large run: `judgepanel score ITEMS --shard I/N` (BENCHMARKS.md, "Batch planning").
#
#   scripts/bench_shard.sh [ITEMS] [I/N]        # default: 2500000 items, shard 1/32
#
# ITEMS synthetic pairwise items (the same generator as scripts/bench_memory.sh) × 2 judges × 2 orders at concurrency
# 64 per judge, no cache, against `PanelBench serve --latency-ms 0`; only shard I/N's items are judged. The shard reads
# the whole items file in passes and keeps nothing of the other shards' items. Peak RSS and wall from
# /usr/bin/time -v. Writes into a scratch directory that it removes.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-2500000}
SHARD=${2:-1/32}
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
cat >"$WORK/panel.yaml" <<YAML
version: 1
judges:
  - {name: j1, provider: openai, base_url: "http://127.0.0.1:$PORT/v1", model: j1, api_key_env: JP_BENCH_KEY, concurrency: 64}
  - {name: j2, provider: openai, base_url: "http://127.0.0.1:$PORT/v1", model: j2, api_key_env: JP_BENCH_KEY, concurrency: 64}
aggregate: majority
swap: true
YAML
echo "== machine: $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg); $(git rev-parse --short HEAD)"
python3 - "$N" "$WORK/items.jsonl" <<'PY'
import json, sys
n, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w") as f:
    for i in range(n):
        f.write(json.dumps({"id": f"i{i}", "prompt": f"Question {i}: which answer is better?",
                            "response_a": f"Answer alpha {i}: a careful explanation.",
                            "response_b": f"Answer beta {i}: a different take.",
                            "label": ["A", "B", "tie"][i % 3]}) + "\n")
PY
/usr/bin/time -v "$JP" score "$WORK/items.jsonl" --shard "$SHARD" --rubric rubrics/pairwise-mtbench.yaml --panel "$WORK/panel.yaml" \
    --out "$WORK/run" --no-cache >"$WORK/out" 2>"$WORK/time" </dev/null || { cat "$WORK/time"; exit 1; }
RSS=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/time")
WALL=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$WORK/time")
VOTES=$(wc -l <"$WORK/run/votes.jsonl")
printf "items %d, %s  votes %d  peak RSS %.1f MiB  wall %s\n" "$N" "$(grep -o 'shard [^:]*: [0-9]* of [0-9]* items' "$WORK/out" | head -1)" \
    "$VOTES" "$(echo "$RSS / 1024" | bc -l)" "$WALL"
