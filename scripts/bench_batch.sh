#!/usr/bin/env bash
# Plans ITEMS × JUDGES × 2 orders × SAMPLES calls into OpenAI batch input files (nothing is sent) and prints
# calls/s and peak RSS. Default: 100 000 items × 10 judges × 2 × 5 = 10 M calls.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product BatchBench
.build/release/BatchBench "${1:-100000}" "${2:-10}" "${3:-5}"
