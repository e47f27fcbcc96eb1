#!/usr/bin/env python3
"""10 000 judgements through the Python package (Panel.score over `judgepanel serve --stdio`) vs the CLI
(`judgepanel score`), on the same fake OpenAI-compatible server (scripts/bench_server.py: "[[A]]" after a fixed
latency), same binary, same panel (one judge, concurrency 64, no swap: one call per item), no cache.
Each side is timed from process start to the verdicts in hand (the CLI: its exit; Python: Panel creation to the
list of Verdicts and the server's exit). Runs alternate, `--repeat` times each; medians are printed.

    JUDGEPANEL_BIN=.build/release/judgepanel python3 scripts/bench_python_serve.py [--items 10000] [--repeat 3]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "python" / "src"))
import judgepanel  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=10000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--latency-ms", type=float, default=20)
    ap.add_argument("--concurrency", type=int, default=64)
    a = ap.parse_args()
    binary = judgepanel.find_binary()
    server = subprocess.Popen([sys.executable, str(REPO / "scripts/bench_server.py"), "--latency-ms", str(a.latency_ms)],
                              stdout=subprocess.PIPE, text=True)
    port = int(server.stdout.readline().split()[1])
    tmp = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    try:
        items = [{"id": str(n), "prompt": f"question {n}", "response_a": f"answer a {n}", "response_b": f"answer b {n}"}
                 for n in range(a.items)]
        (tmp / "items.jsonl").write_text("".join(json.dumps(i) + "\n" for i in items))
        panel = {"version": 1, "swap": False, "aggregate": "majority", "judges": [
            {"name": "bench", "provider": "openai", "base_url": f"http://127.0.0.1:{port}/v1", "model": "bench",
             "api_key_env": "BENCH_KEY", "concurrency": a.concurrency, "max_tokens": 16, "temperature": 0}]}
        (tmp / "panel.json").write_text(json.dumps(panel))
        os.environ["BENCH_KEY"] = "sk-bench-0000"
        os.environ["JUDGEPANEL_HOME"] = str(tmp / "home")
        rubric = str(REPO / "rubrics/pairwise-mtbench.yaml")
        cli, py, py_file = [], [], []
        for r in range(a.repeat):
            out = tmp / f"run{r}"
            t = time.perf_counter()
            p = subprocess.run([binary, "score", str(tmp / "items.jsonl"), "--rubric", rubric, "--panel",
                                str(tmp / "panel.json"), "--out", str(out), "--no-cache"],
                               capture_output=True, text=True)
            cli.append(time.perf_counter() - t)
            assert p.returncode == 0, p.stderr
            n_cli = sum(1 for _ in open(out / "verdicts.jsonl"))
            t = time.perf_counter()
            with judgepanel.Panel.from_dict(panel, cache=False) as jp:
                verdicts = jp.score(items, rubric=rubric)
            py.append(time.perf_counter() - t)
            t = time.perf_counter()
            with judgepanel.Panel.from_dict(panel, cache=False) as jp:
                verdicts_f = jp.score(str(tmp / "items.jsonl"), rubric=rubric)
            py_file.append(time.perf_counter() - t)
            assert n_cli == len(verdicts) == len(verdicts_f) == a.items
            assert all(v.verdict == "A" for v in verdicts)
        load = open("/proc/loadavg").read().split()[:3]
        med = statistics.median
        print(f"machine: {os.cpu_count()} cores; load average {' '.join(load)}; binary {binary}")
        print(f"{a.items} judgements, 1 judge, concurrency {a.concurrency}, fake server latency {a.latency_ms} ms, "
              f"{a.repeat} runs each (median)")
        for label, xs in (("CLI judgepanel score", cli), ("Python Panel.score(list of dicts)", py),
                          ("Python Panel.score(items file)", py_file)):
            print(f"  {label:36s} {med(xs):7.2f} s  {a.items / med(xs):8.0f} judgements/s  "
                  f"ratio to CLI {med(cli) / med(xs):.2f}   runs: {', '.join(f'{x:.2f}' for x in xs)}")
    finally:
        server.terminate()


if __name__ == "__main__":
    main()
