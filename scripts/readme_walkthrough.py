#!/usr/bin/env python3
"""Runs every command of README.md's ```sh blocks (see scripts/readme-walkthrough.sh, which prepares the tree).

    python3 scripts/readme_walkthrough.py README JUDGEPANEL_BIN WORKDIR PANEL_FAKE PANEL_CASCADE

Each command line of the README (continuation lines joined, comments dropped) is run in WORKDIR, a scratch copy of
the clone's inputs, so no file lands in the repository:
- `swift run judgepanel` is the built binary (the same build; `swift run` only adds a build check);
- a line with placeholders (ITEMS, VOTES, P, `...`, `[optional]`) runs with the concrete values in CONCRETE below —
  recorded PandaLM files for items and votes, a panel on a local fake OpenAI-compatible server (bench_server.py,
  always "[[A]]") for the live commands;
- SKIP names the lines that cannot run offline, and why (the demo is run by the shell script when models exist).
A README line that is neither literal-runnable nor listed is reported as "not covered"; STRICT=1 makes that a failure.
Prints one line per command and a closing "N passed, N failed" line; exit 1 on any failure.
"""
import os
import re
import shlex
import subprocess
import sys
import time

README, BIN, WORK, PANEL, CASCADE = sys.argv[1:6]
ITEMS = "fixtures/pandalm-50.jsonl"
VOTES = "fixtures/pandalm-50.votes.jsonl"
JP = shlex.quote(BIN)

# README line (normalised) -> the concrete command(s) run for it.
CONCRETE = {
    "swift run judgepanel score ITEMS --rubric rubrics/pairwise-mtbench.yaml --panel panels/mine.yaml --out runs/x [--resume] [--dry-run]": [
        f"{JP} score {ITEMS} --rubric rubrics/pairwise-mtbench.yaml --panel {PANEL} --out runs/x --dry-run",
        f"{JP} score {ITEMS} --rubric rubrics/pairwise-mtbench.yaml --panel {PANEL} --out runs/x",
        f"{JP} score {ITEMS} --rubric rubrics/pairwise-mtbench.yaml --panel {PANEL} --out runs/x --resume",
    ],
    "swift run judgepanel probe ITEMS --rubric rubrics/pairwise-mtbench.yaml --panel P --probes all": [
        f"{JP} probe {ITEMS} --rubric rubrics/pairwise-mtbench.yaml --panel {PANEL} --probes all --out runs/probe",
    ],
    "swift run judgepanel aggregate VOTES --method dawid-skene": [f"{JP} aggregate {VOTES} --method dawid-skene"],
    "swift run judgepanel rank ITEMS --votes VOTES --json": [f"{JP} rank {ITEMS} --votes {VOTES} --json"],
    "swift run judgepanel rank ITEMS --votes VOTES --by capability --rule schulze --cluster prompt_group --html runs/rank.html": [
        f"{JP} rank {ITEMS} --votes {VOTES} --by motivation_app --rule schulze --cluster cmp_key --html runs/rank.html",
    ],
    "swift run judgepanel report runs/x": [f"{JP} report runs/x"],
    "swift run judgepanel score ... --adaptive": [
        f"{JP} score {ITEMS} --rubric rubrics/pairwise-mtbench.yaml --panel {PANEL} --out runs/adaptive --adaptive",
    ],
    "swift run judgepanel score ... --cascade": [
        f"{JP} score {ITEMS} --rubric rubrics/pairwise-mtbench.yaml --panel {CASCADE} --out runs/cascade --cascade",
    ],
    "swift run judgepanel plan VOTES --items ITEMS [--panel P]": [f"{JP} plan {VOTES} --items {ITEMS}"],
    "swift run judgepanel score ITEMS --rubric rubrics/pairwise-mtbench.yaml --panel panels/cascade.yaml --cascade --out runs/c": [
        f"{JP} score {ITEMS} --rubric rubrics/pairwise-mtbench.yaml --panel {CASCADE} --cascade --out runs/c",
    ],
}
SKIP = {
    "swift build --product judgepanel": "the walkthrough's own build step, before the commands",
    "swift run judgepanel calibrate ITEMS --votes VOTES --judge J --method isotonic --out cal.json":
        "needs numeric human labels and scored votes (a pointwise run with probabilities); covered by the calibration tests",
    "bash scripts/demo-local.sh": "run by readme-walkthrough.sh itself when the local models are set up",
    "swift test": "the unit tests: CI's own stage (WITH_TESTS=1 runs them here)",
    "bash scripts/test.sh": "the tests themselves: CI's own stage (WITH_TESTS=1 runs swift test here)",
    # The item-kind examples score files the reader writes from the jsonl lines above them; ItemKindsTests runs each
    # of those lines end to end against the fake server (both orders, panel, probes).
    "judgepanel score images.jsonl --rubric rubrics/pairwise-mtbench.yaml --panel panels/vision.yaml":
        "an example over the reader's own items; ItemKindsTests runs the README's image line against the fake server",
    "judgepanel score conversations.jsonl --rubric rubrics/mtbench-turn2-pairwise.yaml --panel panels/local.yaml":
        "an example over the reader's own items; ItemKindsTests runs the README's conversation line",
    "judgepanel score conversations.jsonl --rubric rubrics/conversation-pairwise.yaml --panel panels/local.yaml":
        "an example over the reader's own items; ItemKindsTests runs the README's conversation line",
    "judgepanel score trajectories.jsonl --rubric rubrics/trajectory-task-success.yaml --panel panels/local.yaml":
        "an example over the reader's own items; ItemKindsTests runs the README's trajectory line",
    "judgepanel probe conversations.jsonl --rubric rubrics/conversation-pairwise.yaml --panel panels/local.yaml --probes position,verbosity":
        "an example over the reader's own items; ItemKindsTests runs position and verbosity probes on conversations",
    "swift run judgepanel checklist weights ITEMS --votes VOTES": "needs checklist votes (a checklist run); covered by ChecklistTests",
    "swift run judgepanel score ... --batch [--batch-fallback live]": "needs a provider's batch API (and its key)",
    "swift run judgepanel batches runs/x [status|cancel]": "needs a --batch run at a provider",
}
PLACEHOLDER = re.compile(r"\b(ITEMS|VOTES|DIR|FILE|RUN|J|P)\b|\.\.\.|\[[^\]]*\]|\bOUT\b")


def readme_commands(path):
    lines, out, block = open(path, encoding="utf-8").read().split("\n"), [], False
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.strip() == "```python" and not block:
            # A Python block runs whole with the venv the README's `pip install ./python` line made.
            j = lines.index("```", i + 1)
            out.append(".venv/bin/python - <<'PYEOF'\n" + "\n".join(lines[i + 1:j]) + "\nPYEOF")
            i = j + 1
            continue
        if line.startswith("```"):
            block = line.strip() == "```sh" if not block else False
            i += 1
            continue
        if block and line.strip() and not line.lstrip().startswith("#"):
            cmd = line
            while cmd.rstrip().endswith("\\") and i + 1 < len(lines):
                i += 1
                cmd = cmd.rstrip()[:-1] + " " + lines[i].strip()
            cmd = re.sub(r"\s+#.*$", "", cmd).strip()
            cmd = re.sub(r"\s+", " ", cmd)
            out.append(cmd)
        i += 1
    return out


def run(cmd):
    t0 = time.time()
    p = subprocess.run(["bash", "-c", cmd], cwd=WORK, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    return p.returncode, time.time() - t0, (p.stdout + p.stderr)


passed = failed = uncovered = 0
seen = set()
for line in readme_commands(README):
    if line in seen:
        continue
    seen.add(line)
    if line in SKIP:
        print(f"skip  {line}\n      ({SKIP[line]})")
        continue
    if line in CONCRETE:
        cmds = CONCRETE[line]
    elif line.startswith(".venv/bin/python - <<'PYEOF'"):
        cmds = [line]  # a README Python block, run whole (its brackets are Python, not placeholders)
    elif line.startswith("swift run judgepanel ") and not PLACEHOLDER.search(line[len("swift run judgepanel "):]):
        cmds = [JP + line[len("swift run judgepanel"):]]
    elif not PLACEHOLDER.search(line) and not line.startswith("swift "):
        cmds = [line]
    else:
        uncovered += 1
        print(f"NOT COVERED  {line}\n      (placeholders: add a concrete form to scripts/readme_walkthrough.py)")
        continue
    for cmd in cmds:
        # A command the README says writes files must write them in the scratch copy, not in the repository.
        code, secs, output = run(cmd)
        ok = code == 0
        status = "ok   " if ok else "FAIL "
        shown = cmd.replace(JP, "judgepanel").split("\n")[0]
        print(f"{status} {shown}  ({secs:.1f} s, exit {code})")
        if not ok:
            failed += 1
            print("      " + "\n      ".join(output.strip().splitlines()[-15:]))
        else:
            passed += 1
print(f"walkthrough: {passed} passed, {failed} failed" + (f", {uncovered} not covered" if uncovered else ""))
if failed or (uncovered and os.environ.get("STRICT") == "1"):
    sys.exit(1)
