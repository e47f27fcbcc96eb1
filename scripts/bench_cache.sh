#!/usr/bin/env bash
# The response cache store at scale (issue 26): N entries put as the call path does (batched commits by the
# writer), looked up in random order from a fresh store, size on disk and the files it takes (one database, never
# a file per entry); then P processes writing into one cache directory at once, none of their entries lost.
# usage: scripts/bench_cache.sh [N] [P]      (defaults: N = 10 000 000, P = 4)
# env: CACHEBENCH_BIN=path runs that binary instead of building; BENCH_DIR=dir for the databases (default /tmp).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000000}
P=${2:-4}
bin=${CACHEBENCH_BIN:-}
if [ -z "$bin" ]; then
    echo "== building CacheBench (release)"
    swift build -c release -j 1 --product CacheBench
    bin=$(swift build -c release --show-bin-path)/CacheBench
fi
dir=$(mktemp -d "${BENCH_DIR:-/tmp}/jp-bench-cache.XXXXXX")
trap 'rm -rf "$dir"' EXIT
echo "== $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores; load before: $(cut -d' ' -f1-3 /proc/loadavg); N = $N; $(sqlite3 --version 2>/dev/null | cut -d' ' -f1 | sed 's/^/system SQLite /')"
/usr/bin/time -v -o "$dir/time" "$bin" run "$N" "$dir/one"
awk -F': ' '/Elapsed \(wall clock\)/ {print "whole process: wall " $2} /Maximum resident/ {printf "peak RSS %.0f MiB\n", $2 / 1024}' "$dir/time"
echo "files in the cache directory: $(find "$dir/one" -type f | wc -l)"
rm -rf "$dir/one"
echo "== load: $(cut -d' ' -f1-3 /proc/loadavg)"
"$bin" processes "$dir/shared" "$P" 50000
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
