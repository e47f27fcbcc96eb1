#!/usr/bin/env bash
# Plans ITEMS × JUDGES × 2 orders × SAMPLES calls into OpenAI batch input files (nothing is sent) and prints
# time and peak RSS. The items are written to a JSONL file and read from it in passes, as `score --batch` does;
# a fourth argument I/N plans only that shard (`score --batch --shard I/N`).
# Default: 100 000 items × 10 judges × 2 × 5 = 10 M calls; `scripts/bench_batch.sh 2500000 2 1` is 10 M calls
# from 2.5 M items.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product BatchBench
.build/release/BatchBench "${1:-100000}" "${2:-10}" "${3:-5}" ${4:+"$4"}
