#!/usr/bin/env bash
# Item loading of one long line (issue 13, failure 5): 1/4/16/50 MiB, a valid item, a bad byte at the start
# of the line and one at its end; each run in a fresh process so VmHWM is that run's own peak RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
SCRATCH=${SCRATCH:-.build}
swift build -c release --scratch-path "$SCRATCH" --product PanelBench
BIN="$SCRATCH/release/PanelBench"
echo "== machine: $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
for KIND in valid error late-error; do
    for MB in 1 4 16 50; do "$BIN" lines --mb "$MB" --kind "$KIND"; done
done
