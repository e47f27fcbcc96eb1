#!/usr/bin/env bash
# Benchmark: `judgepanel ui` Explore over a 200 000-item run (3 judges x both orders = 1.2 M votes).
# Prints the time to index the run (start to URL), and of each filter request and of opening one item
# (goal: each request under a second). Record the figures in BENCHMARKS.md with the load average beside them.
# usage: scripts/bench_ui_explore.sh [N_ITEMS]
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-200000}"
BIN="${JUDGEPANEL_BIN:-.build/debug/judgepanel}"
WORK="$(mktemp -d)"
trap 'kill "$PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT
python3 scripts/browser/make_run.py "$WORK" "$N" --judges 3
echo "items $N, votes $(wc -l < "$WORK/run/votes.jsonl"), votes.jsonl $(du -h "$WORK/run/votes.jsonl" | cut -f1), items.jsonl $(du -h "$WORK/items.jsonl" | cut -f1)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
T0=$(date +%s.%N)
"$BIN" ui "$WORK/run" --port 0 > "$WORK/out.txt" 2>&1 &
PID=$!
until grep -q '^http://' "$WORK/out.txt"; do
  kill -0 "$PID" 2>/dev/null || { cat "$WORK/out.txt"; exit 1; }
  sleep 0.1
done
T1=$(date +%s.%N)
URL=$(grep '^http://' "$WORK/out.txt" | head -1)
BASE="${URL%%\?*}"
TOKEN="${URL#*token=}"; TOKEN="${TOKEN%%#*}"
printf 'index (start to URL): %.2f s, RSS %s KiB\n' "$(echo "$T1 - $T0" | bc)" "$(awk '/VmRSS/ {print $2}' /proc/$PID/status)"
t() { # name, path
  local s
  s=$(curl -s -o "$WORK/resp.json" -w '%{time_total}' "$BASE$2&token=$TOKEN")
  printf '%-34s %6.3f s  %s\n' "$1" "$s" "$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print("total %s" % j.get("total", "-"))' "$WORK/resp.json")"
}
t "summary"                      "api/summary?x=1"
t "first page, no filter"        "api/items?page=0"
t "order flips"                  "api/items?flips=1"
t "panel split"                  "api/items?split=1"
t "panel vs human disagree"      "api/items?disagree=1"
t "judge + reason timeout"       "api/items?judge=judge-beta&reason=timeout"
t "meta topic=code"              "api/items?meta_key=topic&meta_value=code"
t "flips + disagree, page 100"   "api/items?flips=1&disagree=1&page=100"
t "search id"                    "api/items?q=item-123456"
t "search text (memmem over the file)"      "api/items?q=lorem%20ipsum%20199999"
t "open item (votes, verdict)"   "api/item?id=item-154321"
echo "RSS after requests: $(awk '/VmRSS/ {print $2}' /proc/$PID/status) KiB"
