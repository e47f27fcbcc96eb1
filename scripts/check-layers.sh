#!/usr/bin/env bash
# The JudgePanel library is built in layers (Package.swift): Core → Providers → Judging → Aggregation → Analysis
# → Reports → JudgePanel (workflows). A target may import only the targets it declares, so an import that points
# up the flow (a back-edge) fails the build.
#
# (a) builds the package with SwiftPM's import check as an error (without it, SwiftPM on Linux lets a target import
#     a module it does not declare whenever that module happens to be built already);
# (b) shows that the check bites: it adds `import JudgePanelReports` to a file of JudgePanelProviders, builds,
#     expects the build to fail with the import-check error, and puts the file back (also on interruption).
set -euo pipefail
cd "$(dirname "$0")/.."

check=(--explicit-target-dependency-import-check error)

echo "== check-layers: build with the import check"
swift build "${check[@]}" 2>&1 | tail -2

probe=Sources/JudgePanelProviders/Transport/HTTPTransport.swift
backup=$(mktemp)
cp "$probe" "$backup"
restore() { cp "$backup" "$probe" && rm -f "$backup"; }
trap restore EXIT INT TERM

echo "== check-layers: a deliberate back-edge (JudgePanelProviders imports JudgePanelReports)"
{ echo "import JudgePanelReports"; cat "$backup"; } > "$probe"
log=$(mktemp)
if swift build "${check[@]}" >"$log" 2>&1; then
  cat "$log"; rm -f "$log"
  echo "check-layers: FAILED — the back-edge built" >&2
  exit 1
fi
grep -E "error" "$log" | sort -u | head -5
if ! grep -q "imports another target (JudgePanelReports) in the package without declaring it a dependency" "$log"; then
  echo "check-layers: FAILED — the build failed, but not with the import-check error" >&2
  rm -f "$log"
  exit 1
fi
rm -f "$log"
restore
trap - EXIT INT TERM
echo "== check-layers: ok — the back-edge is a build error; $probe restored"
