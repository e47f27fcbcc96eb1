#!/usr/bin/env bash
# Issue 16, point 5: 10 000 pairwise calls at concurrency 64 against one loopback server with 50 ms latency
# (scripts/bench_server.py, the OpenAI chat-completion shape), through
#   judgepanel  — PanelBench `calls`: PanelRunner's full call path (prompt rendering, provider, cache/retry/rate-limit
#                 layers, AsyncHTTPClientTransport, reply parsing, reconciliation), release build;
#   raw         — scripts/bench_asyncio_client.py: raw asyncio keep-alive streams, 64 connections;
#   sdk         — scripts/bench_openai_sdk.py: AsyncOpenAI (openai Python SDK) with 64 workers;
# interleaved in the same run, REPS repetitions (default 3), all against the same server process.
# Each client runs under /usr/bin/time -v: wall is the call loop's own (what each client prints), CPU (user + sys)
# and peak RSS are the whole process's (interpreter start and imports included for the Python clients).
# Prints one line per run, then per repetition the ratios: raw/judgepanel (goal ≥ 0.95) and sdk/judgepanel (goal ≥ 2).
#
#     pip install openai pyyaml   # for the SDK harness and the payload
#     scripts/bench_http.sh [REPS]
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${1:-${REPS:-3}}
CALLS=${CALLS:-10000}
CONC=${CONC:-64}
LAT=${LAT:-50}
swift build -c release --product PanelBench 2>&1 | tail -1
BIN=.build/release/PanelBench
TICK=$(getconf CLK_TCK)
cpu_of() { awk -v t="$TICK" '{printf "%.2f", ($14+$15)/t}' "/proc/$1/stat"; }
WORK=$(mktemp -d)
SERVER=""
trap '[ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; rm -rf "$WORK"' EXIT
python3 scripts/bench_server.py --latency-ms "$LAT" >"$WORK/port" &
SERVER=$!
for _ in $(seq 100); do grep -q PORT "$WORK/port" && break; sleep 0.1; done
URL="http://127.0.0.1:$(awk '/PORT/ {print $2}' "$WORK/port")/v1"
echo "== $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //');" \
    "load before: $(cut -d' ' -f1-3 /proc/loadavg); $CALLS calls, concurrency $CONC, latency $LAT ms; server $URL"

run() {  # run NAME REP CMD... → appends "NAME REP wall cpu rss servercpu ok" to $WORK/results
    local name=$1 rep=$2 before out wall ok user sys rss
    shift 2
    before=$(cpu_of "$SERVER")
    /usr/bin/time -v -o "$WORK/time" "$@" >"$WORK/out" 2>&1 || { echo "$name failed:"; tail -20 "$WORK/out"; exit 1; }
    if [ "$name" = judgepanel ]; then
        wall=$(awk '/^wall:/ {print $2}' "$WORK/out")
        ok=$(sed -n 's/^calls: [0-9]* (\([0-9]*\) ok.*/\1/p' "$WORK/out")
    else
        wall=$(awk '/^WALL/ {print $2}' "$WORK/out")
        ok=$(awk '/^WALL/ {print $4}' "$WORK/out")
    fi
    user=$(awk -F': ' '/User time/ {print $2}' "$WORK/time")
    sys=$(awk -F': ' '/System time/ {print $2}' "$WORK/time")
    rss=$(awk -F': ' '/Maximum resident/ {printf "%.0f", $2 / 1024}' "$WORK/time")
    local server
    server=$(awk -v a="$before" -v b="$(cpu_of "$SERVER")" 'BEGIN {printf "%.2f", b - a}')
    printf '%-10s rep %d: wall %7.2f s  ok %5s  cpu %6.2f s (user %.2f + sys %.2f; %4.0f µs/call)  peak RSS %4d MiB  server cpu %.2f s  load %s\n' \
        "$name" "$rep" "$wall" "$ok" "$(echo "$user + $sys" | bc)" "$user" "$sys" "$(echo "($user + $sys) * 1000000 / $CALLS" | bc)" "$rss" "$server" \
        "$(cut -d' ' -f1 /proc/loadavg)"
    echo "$name $rep $wall" >>"$WORK/results"
}

for rep in $(seq "$REPS"); do
    run judgepanel "$rep" "$BIN" calls --url "$URL" --calls "$CALLS" --concurrency "$CONC" --latency-ms "$LAT"
    run raw "$rep" python3 scripts/bench_asyncio_client.py --url "$URL" --calls "$CALLS" --concurrency "$CONC"
    run sdk "$rep" python3 scripts/bench_openai_sdk.py --url "$URL" --calls "$CALLS" --concurrency "$CONC"
done
echo "== ratios per repetition (wall of the call loop)"
awk '{w[$1, $2] = $3; if ($2 > n) n = $2}
     END {for (r = 1; r <= n; r++) printf "rep %d: raw/judgepanel %.3f (goal >= 0.95)   sdk/judgepanel %.2fx (goal >= 2)\n",
          r, w["raw", r] / w["judgepanel", r], w["sdk", r] / w["judgepanel", r]}' "$WORK/results"
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
