#!/usr/bin/env bash
# Builds PanelBench in release and runs the execution-engine benchmarks (see BENCHMARKS.md):
#   1. 10 000 calls at concurrency 256 against the in-process fake server (50 ms latency);
#   2. the same against scripts/bench_server.py in a second process;
#   3. 1 000 000 items streamed through planning.
set -euo pipefail
cd "$(dirname "$0")/.."
SCRATCH=${SCRATCH:-.build}
swift build -c release --scratch-path "$SCRATCH" --product PanelBench
BIN="$SCRATCH/release/PanelBench"
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo "== calls, in-process FakeProviderServer"
"$BIN" calls
echo "== calls, scripts/bench_server.py (separate process)"
PORTFILE=$(mktemp)
python3 scripts/bench_server.py --latency-ms 50 >"$PORTFILE" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -f "$PORTFILE"' EXIT
for _ in $(seq 50); do grep -q PORT "$PORTFILE" && break; sleep 0.1; done
PORT=$(awk '/PORT/ {print $2}' "$PORTFILE")
"$BIN" calls --url "http://127.0.0.1:$PORT/v1"
echo "== server CPU (python): $(ps -o cputime= -p $SERVER)"
echo "== plan, 1 000 000 items"
"$BIN" plan
