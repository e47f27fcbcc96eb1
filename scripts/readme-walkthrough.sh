#!/usr/bin/env bash
# Every command of README.md, run from a fresh clone: the check behind "every README command works as written".
#
#   scripts/readme-walkthrough.sh            clone this repository's HEAD into a temporary directory, build there
#                                            (cold: about 10 minutes on 2 cores, SwiftPM's progress shown) and run
#   scripts/readme-walkthrough.sh --here     use this checkout's build (CI: the checkout is a fresh clone)
#
# The commands run in a scratch directory holding the clone's inputs (fixtures/, rubrics/, panels/, scripts/), so
# what they write lands there, never in the repository. Live commands (`score`, `probe`, …) judge against a local
# fake OpenAI-compatible server (scripts/bench_server.py, always "[[A]]"); no key, no network.
# The demo (scripts/demo-local.sh) runs too when its models are set up (scripts/setup-local.sh --check), else it is
# skipped with a note. env: JOBS (build jobs, default nproc), WITH_TESTS=1 (also `swift test`), STRICT=1 (a README
# command the walkthrough does not know fails it), SKIP_DEMO=1 (never the demo), KEEP=1 (keep the scratch directory), JUDGEPANEL_BIN=path (run that
# binary, no build).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
mode=${1:-clone}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/jp-walkthrough.XXXXXX")
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; [ "${KEEP:-0}" = 1 ] && echo "kept $tmp" || rm -rf "$tmp"; }
trap cleanup EXIT
t0=$(date +%s)
if [ "$mode" = --here ]; then
    clone=$repo
else
    echo "== cloning $(git -C "$repo" rev-parse --short HEAD) (committed files only) into $tmp/clone"
    git clone -q "$repo" "$tmp/clone"
    clone=$tmp/clone
fi
cd "$clone"
if [ -n "${JUDGEPANEL_BIN:-}" ]; then
    bin=$(cd "$(dirname "$JUDGEPANEL_BIN")" && pwd)/$(basename "$JUDGEPANEL_BIN")
    echo "== using $bin (JUDGEPANEL_BIN; no build)"
else
    echo "== swift build --product judgepanel (SwiftPM's progress below)"
    swift build -j "${JOBS:-$(nproc)}" --product judgepanel
    bin=$clone/.build/debug/judgepanel
fi
if [ "${WITH_TESTS:-0}" = 1 ]; then echo "== swift test"; swift test -j "${JOBS:-$(nproc)}"; fi

work=$tmp/work
mkdir -p "$work"
for d in fixtures rubrics panels scripts deploy python; do ln -s "$clone/$d" "$work/$d"; done
export JUDGEPANEL_BIN="$bin"   # absolute: `pip install ./python` then ships this binary instead of a release build
python3 "$clone/scripts/bench_server.py" --latency-ms 1 >"$tmp/port" &
server=$!
for _ in $(seq 100); do grep -q PORT "$tmp/port" && break; sleep 0.1; done
url="http://127.0.0.1:$(awk '/PORT/ {print $2}' "$tmp/port")/v1"
cat >"$tmp/panel.yaml" <<YAML
version: 1
judges:
  - {name: fake, provider: openai, base_url: "$url", model: fake, concurrency: 8, price: {input_per_mtok: 1, output_per_mtok: 2}}
  - {name: fake2, provider: openai, base_url: "$url", model: fake2, concurrency: 8}
  - {name: fake3, provider: openai, base_url: "$url", model: fake3, concurrency: 8}
aggregate: majority
swap: true
flip: tie
YAML
sed 's/^flip: tie$/flip: tie\ntiers: [[fake], [fake2, fake3]]/' "$tmp/panel.yaml" >"$tmp/cascade.yaml"
export JUDGEPANEL_HOME=$tmp/home   # the walkthrough's cache, not the user's
echo "== README commands (in $work; fake provider at $url)"
rc=0
python3 "$clone/scripts/readme_walkthrough.py" "$clone/README.md" "$bin" "$work" "$tmp/panel.yaml" "$tmp/cascade.yaml" || rc=$?
pkill -f "python/tests/fakejudge.py" 2>/dev/null || true   # the README's background fake judge
stray=$(git -C "$clone" status --porcelain --untracked-files=all -- . ':!.build' | grep -v '^?? runs/' || true)
if [ -n "$stray" ] && [ "$mode" != --here ]; then echo "FAIL: README commands wrote into the repository:"; echo "$stray"; rc=1; fi
if [ "${SKIP_DEMO:-0}" != 1 ] && env -u JUDGEPANEL_HOME bash "$clone/scripts/setup-local.sh" --check >/dev/null 2>&1; then
    echo "== bash scripts/demo-local.sh (models present)"
    (cd "$work" && env -u JUDGEPANEL_HOME JOBS=${JOBS:-} bash "$clone/scripts/demo-local.sh" "$work/runs/local") || rc=1
else
    echo "skip  bash scripts/demo-local.sh (SKIP_DEMO=1, or the local models are not set up: scripts/setup-local.sh, about 13 minutes cold)"
fi
echo "== walkthrough done in $(( $(date +%s) - t0 )) s (exit $rc)"
exit $rc
