#!/usr/bin/env bash
# Puts the Jenkins/Ant JUnit schema (junit-10.xsd of the Jenkins xUnit plugin, MIT) at .build-venv/junit-10.xsd for
# scripts/check_junit.py. It comes from pytest's source distribution on PyPI (testing/example_scripts/junit-10.xsd),
# fetched with pip (no other network), and is checked against the SHA-256 in check_junit.py.
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-.build-venv/bin/python3}
dest=${JUNIT_XSD:-.build-venv/junit-10.xsd}
[ -f "$dest" ] && exit 0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$py" -m pip download -q --no-deps --no-binary :all: "pytest==9.2.0" -d "$tmp"
tar -xzf "$tmp"/pytest-9.2.0.tar.gz -C "$tmp" pytest-9.2.0/testing/example_scripts/junit-10.xsd
mkdir -p "$(dirname "$dest")"
cp "$tmp"/pytest-9.2.0/testing/example_scripts/junit-10.xsd "$dest"
"$py" scripts/check_junit.py --available
