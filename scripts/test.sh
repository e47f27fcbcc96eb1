#!/usr/bin/env bash
# The README's test command: the Swift tests, then the Python package (python/) built into a fresh venv and its
# pytest suite run against the debug binary (JUDGEPANEL_BIN; the wheel then skips its own release build).
#   SWIFT_TEST_ARGS="--filter Serve" bash scripts/test.sh   # pass arguments to `swift test`
#   SKIP_SWIFT_TESTS=1 bash scripts/test.sh                 # only build the binary and run the Python tests
#   PYTEST_ARGS="-k protocol" bash scripts/test.sh          # pass arguments to pytest
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${SKIP_SWIFT_TESTS:-0}" = 1 ]; then
  swift build ${SWIFT_BUILD_ARGS:-} --product judgepanel
else
  # shellcheck disable=SC2086
  swift test ${SWIFT_TEST_ARGS:-}
  swift build ${SWIFT_BUILD_ARGS:-} --product judgepanel   # a no-op after `swift test` (same debug build)
fi
BIN="$(swift build --show-bin-path)/judgepanel"
[ -x "$BIN" ] || { echo "scripts/test.sh: no binary at $BIN" >&2; exit 1; }
VENV=${PYTHON_TEST_VENV:-.build/python-test-venv}
rm -rf "$VENV"
start=$(date +%s)
python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip
JUDGEPANEL_BIN="$BIN" "$VENV/bin/pip" install -q "./python[test,pandas]"
echo "python venv + package install: $(( $(date +%s) - start )) s"
set +e
# shellcheck disable=SC2086
JUDGEPANEL_BIN="$BIN" "$VENV/bin/python" -m pytest python/tests -q ${PYTEST_ARGS:-}
rc=$?
set -e
if [ "$rc" = 5 ]; then
  echo "scripts/test.sh: pytest collected no tests (exit 5): that is a failure here" >&2
  exit 1
fi
exit "$rc"
