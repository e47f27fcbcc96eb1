#!/usr/bin/env bash
# Renders a report.html with headless Chromium to a PNG and fails on console errors or a page that does not load.
# Usage: scripts/screenshot-report.sh REPORT.html [OUT.png]
# Installs the Debian `chromium` package when it is missing and we are root.
set -euo pipefail
html=${1:?usage: screenshot-report.sh REPORT.html [OUT.png]}
png=${2:-${html%.html}.png}
start=$(date +%s)
browser=""
for b in chromium chromium-browser google-chrome; do command -v "$b" >/dev/null 2>&1 && { browser=$b; break; }; done
if [[ -z $browser ]]; then
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
        echo "installing chromium (apt-get)..." >&2
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
        browser=chromium
    else
        echo "screenshot-report: no chromium and cannot install it (not root)" >&2
        exit 3
    fi
fi
abs=$(cd "$(dirname "$html")" && pwd)/$(basename "$html")
log=$(mktemp)
dom=$(mktemp)
trap 'rm -f "$log" "$dom"' EXIT
flags=(--headless=new --no-sandbox --disable-gpu --hide-scrollbars --force-device-scale-factor=1 --no-first-run
    --disable-extensions --enable-logging=stderr --v=0 --window-size=1280,2400)
timeout 120 "$browser" "${flags[@]}" --screenshot="$png" "file://$abs" 2>"$log" >/dev/null || { cat "$log" >&2; exit 1; }
timeout 120 "$browser" "${flags[@]}" --dump-dom "file://$abs" 2>>"$log" >"$dom" || { cat "$log" >&2; exit 1; }
if grep -E "Uncaught|ERROR:CONSOLE|CONSOLE\(.*\).*(Error|error)" "$log" >&2; then
    echo "screenshot-report: console errors in $html" >&2
    exit 1
fi
grep -q "</main>" "$dom" || { echo "screenshot-report: the page did not render (no </main> in the DOM)" >&2; exit 1; }
[[ -s $png ]] || { echo "screenshot-report: no screenshot written" >&2; exit 1; }
echo "wrote $png in $(( $(date +%s) - start )) s"
