#!/usr/bin/env bash
# The browser test of `judgepanel ui` (integration tier): real headless Chromium (Debian chromium + chromium-driver)
# through selenium (scripts/ci-requirements.txt). Screenshots of both views go to docs/ with --screenshots.
# usage: scripts/integration-browser.sh [--screenshots]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${JUDGEPANEL_BIN:-.build/debug/judgepanel}"
PY="${PYTHON:-.build-venv/bin/python}"
[ -x "$PY" ] || PY=python3
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
"$PY" scripts/browser/make_run.py "$WORK" 40 --hostile
ARGS=()
if [ "${1:-}" = "--screenshots" ]; then mkdir -p docs; ARGS=(--screenshots docs); fi
"$PY" scripts/browser/ui_browser_test.py "$BIN" "$WORK" "${ARGS[@]}"
