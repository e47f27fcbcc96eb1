#!/usr/bin/env bash
# aggregate and rank at scale (issue 19): peak RSS and wall time of `judgepanel aggregate` and `judgepanel rank` on a
# 2 M-vote file (250 000 pairwise items x 4 judges x 2 orders, scripts/gen_meta_votes.py; items given model_a/model_b
# from 8 models so that `rank` has systems to rank), measured with /usr/bin/time -v. Both commands stream the votes
# file (VoteDigest), so memory should follow items x judges, not the file's size.
# usage: scripts/bench_aggregate_rank.sh [N_ITEMS]   (default 250000 = 2 M votes)
# env: JUDGEPANEL_BIN=path times that binary instead of building (e.g. an older build for a before/after figure);
#      SHUFFLE=1 also times a shuffled (not grouped by item) copy of the votes; RESAMPLES (default 0) for rank.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-250000}
dir=${BENCH_DIR:-/tmp/judgepanel-bench-rank}
mkdir -p "$dir"
bin=${JUDGEPANEL_BIN:-}
if [ -z "$bin" ]; then
    swift build -c release --product judgepanel >/dev/null
    bin=$(swift build -c release --show-bin-path)/judgepanel
fi
items=$dir/items-$n.jsonl votes=$dir/votes-$n.jsonl ranked=$dir/ranked-items-$n.jsonl
[ -s "$votes" ] || python3 scripts/gen_meta_votes.py "$n" "$items" "$votes"
[ -s "$ranked" ] || python3 - "$items" "$ranked" <<'PY'
import json, sys
models = [f"model-{k}" for k in range(8)]
with open(sys.argv[1]) as fi, open(sys.argv[2], "w") as fo:
    for i, line in enumerate(fi):
        o = json.loads(line)
        a = i % 8
        o["model_a"], o["model_b"] = models[a], models[(a + 1 + (i // 8) % 7) % 8]
        fo.write(json.dumps(o, separators=(",", ":")) + "\n")
PY
echo "machine: $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg); binary: $bin"
echo "== $n items, $(wc -l <"$votes") votes, $(du -m "$votes" | cut -f1) MB"
run() {  # label, command...
    local label=$1; shift
    /usr/bin/time -v "$@" >"$dir/out.txt" 2>"$dir/time.txt" || { tail -5 "$dir/time.txt"; exit 1; }
    local wall rss
    wall=$(grep 'Elapsed (wall clock)' "$dir/time.txt" | awk '{print $NF}')
    rss=$(grep 'Maximum resident set size' "$dir/time.txt" | awk '{print $NF}')
    printf '%-58s wall %9s  peak RSS %6d MiB  (load %s)\n' "$label" "$wall" $((rss / 1024)) "$(cut -d' ' -f1 /proc/loadavg)"
}
files=("$votes")
if [ "${SHUFFLE:-0}" = 1 ]; then
    [ -s "$votes.shuf" ] || python3 scripts/gen_meta_votes.py "$n" "$items.shuf-items" "$votes.shuf" --shuffle
    files+=("$votes.shuf")
fi
for v in "${files[@]}"; do
    tag=$([ "$v" = "$votes" ] && echo "grouped" || echo "shuffled")
    run "aggregate --method majority ($tag, items from the votes)" "$bin" aggregate "$v" --method majority
    echo "   $(wc -l <"$dir/out.txt") verdict lines"
    run "aggregate --method dawid-skene --items ($tag)" "$bin" aggregate "$v" --method dawid-skene --items "$items"
    run "rank --json --resamples ${RESAMPLES:-0} ($tag)" "$bin" rank "$ranked" --votes "$v" --json --resamples "${RESAMPLES:-0}"
    run "rank --json --preference probability --baseline model-0 ($tag)" "$bin" rank "$ranked" --votes "$v" --json \
        --resamples "${RESAMPLES:-0}" --preference probability --baseline model-0
done
