#!/usr/bin/env bash
# Builds PanelBench in release and runs the execution-engine benchmarks (see BENCHMARKS.md):
#   1. 10 000 calls at concurrency 256 against the in-process fake server (50 ms latency);
#   2. the same against scripts/bench_server.py in a second process;
#   3. the same against `PanelBench serve` (thread-per-connection Swift server) in a second process;
#   4. the HTTP transport alone (`PanelBench transport`) against scripts/bench_server.py;
# (issue 16's comparison with raw asyncio and the openai SDK at concurrency 64 is scripts/bench_http.sh)
#   5. 1 000 000 items streamed through planning.
# Server CPU is read from /proc/PID/stat (10 ms resolution) around each client run.
set -euo pipefail
cd "$(dirname "$0")/.."
SCRATCH=${SCRATCH:-.build}
swift build -c release --scratch-path "$SCRATCH" --product PanelBench
BIN="$SCRATCH/release/PanelBench"
TICK=$(getconf CLK_TCK)
cpu_of() { awk -v t="$TICK" '{printf "%.2f", ($14+$15)/t}' "/proc/$1/stat"; }
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'); load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== calls, in-process FakeProviderServer"
"$BIN" calls

PIDS=()
PORTFILES=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -f "${PORTFILES[@]}"' EXIT
start_server() {  # start_server NAME CMD... → sets PORT and SERVER
    local portfile
    portfile=$(mktemp)
    PORTFILES+=("$portfile")
    shift
    "$@" >"$portfile" &
    SERVER=$!
    PIDS+=("$SERVER")
    for _ in $(seq 50); do grep -q PORT "$portfile" && break; sleep 0.1; done
    PORT=$(awk '/PORT/ {print $2}' "$portfile")
}
run_against() {  # run_against LABEL MODE ARGS...
    local label=$1 before
    shift
    before=$(cpu_of "$SERVER")
    echo "== $label"
    "$BIN" "$@" --url "http://127.0.0.1:$PORT/v1"
    echo "   server CPU: $(awk -v a="$before" -v b="$(cpu_of "$SERVER")" 'BEGIN {printf "%.2f s", b - a}')"
}

start_server python python3 scripts/bench_server.py --latency-ms 50
run_against "calls, scripts/bench_server.py" calls
run_against "transport alone, scripts/bench_server.py" transport

start_server swift "$BIN" serve --latency-ms 50
run_against "calls, PanelBench serve" calls

echo "== plan, 1 000 000 items"
"$BIN" plan
