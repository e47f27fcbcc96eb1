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
#   cli         — the real CLI as users run it: `judgepanel score ITEMS --rubric … --panel … --out DIR` with the
#                 defaults (response cache on — a fresh cache directory per repetition, so every call is made and
#                 stored —, journal, votes, verdicts, report.json/.md/.html), one judge at concurrency CONC over
#                 CALLS items (swap off: one call an item), release build; its wall is the whole process's.
# Prints one line per run, then per repetition the ratios: raw/judgepanel (goal ≥ 0.95) and sdk/judgepanel (goal ≥ 2),
# and end to end raw/cli (goal ≥ 0.95): both walls of the whole process (/usr/bin/time), interpreter start and
# imports included for Python, start-up, reading the items and writing every file included for the CLI.
# SKIP_SDK=1 leaves the openai SDK out; SKIP_PANELBENCH=1 leaves PanelBench out.
#
#     pip install openai pyyaml   # for the SDK harness and the payload
#     scripts/bench_http.sh [REPS]
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${1:-${REPS:-3}}
CALLS=${CALLS:-10000}
CONC=${CONC:-64}
LAT=${LAT:-50}
# JUDGEPANEL_BIN=path times that CLI binary (no build); SKIP_PANELBENCH=1 builds no PanelBench.
BIN=.build/release/PanelBench
CLI=${JUDGEPANEL_BIN:-.build/release/judgepanel}
echo "== building (release; a cold release build takes 20-30 minutes on 2 cores)"
[ "${SKIP_PANELBENCH:-0}" = 1 ] || swift build -c release -j 1 --product PanelBench
[ -n "${JUDGEPANEL_BIN:-}" ] || swift build -c release -j 1 --product judgepanel
TICK=$(getconf CLK_TCK)
cpu_of() { awk -v t="$TICK" '{printf "%.2f", ($14+$15)/t}' "/proc/$1/stat"; }
WORK=$(mktemp -d)
SERVER=""
trap '[ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; rm -rf "$WORK"' EXIT
python3 scripts/bench_server.py --latency-ms "$LAT" >"$WORK/port" &
SERVER=$!
for _ in $(seq 100); do grep -q PORT "$WORK/port" && break; sleep 0.1; done
URL="http://127.0.0.1:$(awk '/PORT/ {print $2}' "$WORK/port")/v1"
# The CLI's inputs: the items PanelBench `calls` judges (the same prompt sizes) and a one-judge panel on the server.
python3 - "$CALLS" "$WORK/items.jsonl" <<'PY'
import json, sys
with open(sys.argv[2], "w") as f:
    for i in range(int(sys.argv[1])):
        f.write(json.dumps({"id": f"b{i}", "prompt": f"Question {i}?", "response_a": f"Answer alpha {i}.", "response_b": f"Answer beta {i}."}) + "\n")
PY
cat >"$WORK/panel.yaml" <<YAML
version: 1
judges:
  - {name: bench, provider: openai, base_url: "$URL", model: bench, concurrency: $CONC, timeout: 60, retries: 3}
aggregate: majority
swap: false
flip: tie
YAML
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
    elif [ "$name" = cli ] || [ "$name" = cli-nocache ]; then
        wall=$(process_wall)
        ok=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run"]["ok"])' "$WORK/$name-$rep/config.json")
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
    echo "$name $rep $wall $(process_wall)" >>"$WORK/results"
}
process_wall() {  # the whole process's wall clock from /usr/bin/time -v (h:mm:ss or m:ss.ss), in seconds
    awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.2f", s}' "$WORK/time"
}

for rep in $(seq "$REPS"); do
    [ "${SKIP_PANELBENCH:-0}" = 1 ] || run judgepanel "$rep" "$BIN" calls --url "$URL" --calls "$CALLS" --concurrency "$CONC" --latency-ms "$LAT"
    run cli "$rep" "$CLI" score "$WORK/items.jsonl" --rubric rubrics/pairwise-mtbench.yaml --panel "$WORK/panel.yaml" \
        --out "$WORK/cli-$rep" --cache-dir "$WORK/cache-$rep"
    [ "${CLI_NOCACHE:-0}" = 1 ] && run cli-nocache "$rep" "$CLI" score "$WORK/items.jsonl" --rubric rubrics/pairwise-mtbench.yaml \
        --panel "$WORK/panel.yaml" --out "$WORK/cli-nocache-$rep" --no-cache
    run raw "$rep" python3 scripts/bench_asyncio_client.py --url "$URL" --calls "$CALLS" --concurrency "$CONC"
    [ "${SKIP_SDK:-0}" = 1 ] || run sdk "$rep" python3 scripts/bench_openai_sdk.py --url "$URL" --calls "$CALLS" --concurrency "$CONC"
    ls "$WORK/cli-$rep/report.html" >/dev/null  # the CLI wrote its whole run
    echo "   cli rep $rep: cache $(du -sh "$WORK/cache-$rep" | cut -f1) in $(ls "$WORK/cache-$rep" | wc -l) files; run directory: $(ls "$WORK/cli-$rep" | tr '\n' ' ')"
done
echo "== ratios per repetition"
awk '{w[$1, $2] = $3; p[$1, $2] = $4; if ($2 > n) n = $2}
     END {for (r = 1; r <= n; r++) {
              if (w["judgepanel", r] > 0) printf "rep %d: call loop raw/judgepanel %.3f (goal >= 0.95)", r, w["raw", r] / w["judgepanel", r]
              if (w["judgepanel", r] > 0 && w["sdk", r] > 0) printf "   sdk/judgepanel %.2fx (goal >= 2)", w["sdk", r] / w["judgepanel", r]
              printf "%send to end (whole processes) raw/cli %.3f (goal >= 0.95): raw %.2f s, cli %.2f s\n",
                     (w["judgepanel", r] > 0 ? "\n       " : "rep " r ": "), p["raw", r] / p["cli", r], p["raw", r], p["cli", r]}}' "$WORK/results"
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
