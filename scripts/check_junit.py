#!/usr/bin/env python3
"""Validate judgepanel's JUnit XML against the Jenkins/Ant JUnit schema with xmlschema (PyPI).

The schema is `junit-10.xsd` of the Jenkins xUnit plugin
(https://github.com/jenkinsci/xunit-plugin, src/main/resources/org/jenkinsci/plugins/xunit/types/model/xsd/junit-10.xsd,
MIT licence, Copyright (c) 2014 Gregory Boissinot) — the Ant/Surefire format Jenkins, GitLab and the GitHub test
reporters read. pytest ships the same file in its source distribution (testing/example_scripts/junit-10.xsd),
which is where scripts/fetch_junit_xsd.sh takes it from, through pip, and checks it against the SHA-256 below.

    python3 scripts/check_junit.py FILE.xml...   # exit 0 valid, 1 invalid, 2 validator or schema missing
    python3 scripts/check_junit.py --available   # exit 0 when xmlschema and the schema are there
"""
import hashlib
import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
XSD_SHA256 = "a1a816f58d1bf95ebabf371994df0b9246dee66ea9572fbec4f9296f1b2c0ff6"


def schema_path():
    env = os.environ.get("JUNIT_XSD")
    return pathlib.Path(env) if env else ROOT / ".build-venv" / "junit-10.xsd"


def load_schema():
    try:
        import xmlschema
    except ImportError:
        return None, "xmlschema is not installed (pip install -r scripts/ci-requirements.txt)"
    path = schema_path()
    if not path.exists():
        return None, f"{path} is missing (run scripts/fetch_junit_xsd.sh)"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != XSD_SHA256:
        return None, f"{path} has SHA-256 {digest}, expected {XSD_SHA256} (junit-10.xsd of the Jenkins xUnit plugin)"
    return xmlschema.XMLSchema(str(path)), None


def main(argv):
    schema, why = load_schema()
    if argv == ["--available"]:
        print(why or f"ok: {schema_path()}")
        return 0 if schema is not None else 2
    if schema is None:
        print(f"check_junit: {why}", file=sys.stderr)
        return 2
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    bad = 0
    for name in argv:
        errors = list(schema.iter_errors(name))
        if errors:
            bad += 1
            print(f"{name}: INVALID against junit-10.xsd", file=sys.stderr)
            for e in errors[:10]:
                print(f"  {e.reason} at {e.path}", file=sys.stderr)
        else:
            print(f"{name}: valid (junit-10.xsd)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
