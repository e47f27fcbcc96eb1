#!/usr/bin/env python3
"""Throughput of the local real judges (llama-server on CPU) for a pairwise
MT-Bench-style judge prompt (~400 prompt tokens, max_tokens 16).

For each model and each client concurrency C it starts
`scripts/local-server.sh MODEL --parallel C --threads T` on a free port, waits
for /health, warms up, sends N distinct judge requests with C client threads,
stops the server and reports judgments per minute.

    python3 scripts/bench_local.py                       # smollm2+gemma, C=1,2,4
    python3 scripts/bench_local.py --models gemma --concurrency 2 --requests 16
    python3 scripts/bench_local.py --markdown            # table rows for BENCHMARKS-local.md

Stdlib only. Each request's user message differs from the others (item id,
question, A/B order) so the server's prompt cache only reuses the shared
system prompt, as in a real judging run.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))

SYSTEM = (
    "Please act as an impartial judge and evaluate the quality of the responses "
    "provided by two AI assistants to the user question displayed below. You should "
    "choose the assistant that follows the user's instructions and answers the user's "
    "question better. Your evaluation should consider factors such as the helpfulness, "
    "relevance, accuracy, depth, creativity, and level of detail of their responses. "
    "Avoid any position biases and ensure that the order in which the responses were "
    "presented does not influence your decision. Do not allow the length of the "
    "responses to influence your evaluation. Be as objective as possible. Output your "
    'final verdict by strictly following this format: "[[A]]" if assistant A is '
    'better, "[[B]]" if assistant B is better, and "[[C]]" for a tie.'
)

ITEMS = [
    (
        "Why does ice float on water? Explain for a curious twelve-year-old.",
        "Ice floats because it is less dense than liquid water. When water freezes, its "
        "molecules arrange themselves into a hexagonal crystal held together by hydrogen "
        "bonds. In that pattern the molecules sit a little farther apart than they do in "
        "the liquid, where they tumble around and pack more closely. Because the same "
        "mass takes up about nine percent more space as ice, a cube of ice weighs less "
        "than the same volume of water, so the water pushes it up, the way it pushes up "
        "a wooden boat. This matters for life: lakes freeze from the top down, and the "
        "layer of ice insulates the water below, so fish can survive the winter under "
        "it. Most other substances do the opposite and sink when they freeze.",
        "Ice floats because it is cold and cold things are lighter. When water gets "
        "cold enough it turns into ice, and ice has air bubbles trapped inside it, which "
        "is what makes it float, a bit like a life jacket. If you could get all of the "
        "air out of the ice, it would sink straight to the bottom of the glass. That is "
        "also why icebergs float in the ocean: they are full of air from the snow that "
        "made them. Salt water helps too, because salt makes water heavier. So the two "
        "reasons are the cold and the air. Scientists have known this for a very long "
        "time, and you can test it at home by freezing some water in a cup and watching "
        "what happens when you drop the ice into a glass of warm water.",
    ),
    (
        "Write a short Python function that returns the n-th Fibonacci number and explain its complexity.",
        "Here is an iterative version:\n\ndef fib(n):\n    a, b = 0, 1\n    for _ in range(n):\n"
        "        a, b = b, a + b\n    return a\n\nIt keeps only the last two values, so it "
        "runs in O(n) time and O(1) extra memory. fib(0) is 0, fib(1) is 1, fib(10) is 55. "
        "A naive recursive version, fib(n-1) + fib(n-2), recomputes the same values again "
        "and again and takes exponential time, roughly O(1.618^n), so it becomes unusable "
        "around n = 40. If you need very large n, the fast-doubling method computes the "
        "result in O(log n) arithmetic operations, though the numbers themselves grow "
        "large, so each operation gets slower as n grows.",
        "def fib(n):\n    if n <= 1:\n        return n\n    return fib(n-1) + fib(n-2)\n\nThis "
        "function is recursive, which makes it elegant and efficient. Its complexity is "
        "O(n) because it calls itself once for every number below n, and it uses constant "
        "memory. Recursion is always the best approach for Fibonacci because the "
        "definition itself is recursive, so the code mirrors the math. You can call "
        "fib(100) and get the answer instantly. Python also automatically caches the "
        "results of recursive functions, so there is no need to worry about performance "
        "at all. This is the version most textbooks recommend for production code.",
    ),
    (
        "Give three practical tips for reducing the energy bill of a small apartment in winter.",
        "First, stop drafts: put weatherstripping on doors and windows and a draft "
        "stopper at the bottom of the entrance door; cold air leaking in can account for "
        "a large share of heat loss. Second, lower the thermostat by one or two degrees "
        "and use a programmable schedule so that you do not heat an empty apartment "
        "during the day or heat the bedroom fully at night; each degree saves roughly "
        "five to ten percent of heating energy. Third, use the sun and the curtains: "
        "open them on sunny days to let heat in, and close heavy curtains at night to "
        "keep it in. Bonus: bleed radiators so they heat evenly and do not block them "
        "with furniture.",
        "Here are some tips. Buy a new energy efficient refrigerator because old ones "
        "use a lot of power. Install solar panels on the roof of the building. Replace "
        "all the windows with triple glazing. Switch to an electric car so that you can "
        "save on fuel. Insulate the walls of the building from the outside. Get a heat "
        "pump instead of your current heating system. Turn off the lights when you leave "
        "a room. These will definitely reduce your bill by a lot, some of them by more "
        "than half, and they will also increase the value of your property if you ever "
        "decide to sell it later on.",
    ),
    (
        "Summarize the causes of the French Revolution in a few sentences.",
        "The French Revolution of 1789 grew out of several pressures at once. The "
        "monarchy was nearly bankrupt after costly wars, including support for the "
        "American Revolution, and its attempts to tax the privileged orders failed. "
        "Society was divided into three estates, and the Third Estate, the great "
        "majority, carried most of the tax burden while having little political power. "
        "Poor harvests in 1788 drove bread prices up and caused hunger and unrest. "
        "Enlightenment ideas about popular sovereignty, rights and equality gave people "
        "a language to challenge absolute monarchy, and the calling of the "
        "Estates-General turned these tensions into an open political crisis.",
        "The French Revolution happened mainly because Napoleon wanted to become "
        "emperor and needed to remove the king. He organized the storming of the "
        "Bastille in 1799 with the help of the British, who wanted to weaken France. "
        "Marie Antoinette also caused it by saying that people should eat cake, which "
        "made everyone angry. There were some money problems too, but they were not very "
        "important. After the revolution, France became a democracy immediately and "
        "stayed one, and the king was allowed to keep his palace in Versailles, where "
        "his family still lives today. It was mostly a peaceful event overall.",
    ),
]

VERDICT = re.compile(r"\[\[(A|B|C)\]\]")


def judge_messages(i: int) -> list[dict]:
    q, good, bad = ITEMS[i % len(ITEMS)]
    a, b = (good, bad) if (i // len(ITEMS)) % 2 == 0 else (bad, good)
    user = (
        f"[Item {i}]\n[User Question]\n{q}\n\n"
        f"[The Start of Assistant A's Answer]\n{a}\n[The End of Assistant A's Answer]\n\n"
        f"[The Start of Assistant B's Answer]\n{b}\n[The End of Assistant B's Answer]\n\n"
        "Which answer is better? Reply with [[A]], [[B]] or [[C]] only."
    )
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def post(base: str, path: str, body: dict, timeout: float = 600) -> dict:
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.load(r)


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_healthy(base: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    t_end = time.time() + timeout
    while time.time() < t_end:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(base + "/health", timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError("server not healthy in time")


def one(base: str, i: int, max_tokens: int) -> dict:
    t0 = time.perf_counter()
    resp = post(base, "/v1/chat/completions", {
        "messages": judge_messages(i), "max_tokens": max_tokens, "temperature": 0,
    })
    dt = time.perf_counter() - t0
    text = resp["choices"][0]["message"].get("content") or ""
    m = VERDICT.search(text)
    return {"latency": dt, "prompt_tokens": resp["usage"]["prompt_tokens"],
            "completion_tokens": resp["usage"]["completion_tokens"],
            "verdict": m.group(1) if m else None, "text": text}


def bench(model: str, conc: int, n: int, threads: int, max_tokens: int, ctx_slot: int) -> dict:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [os.path.join(HERE, "local-server.sh"), model, "--port", str(port),
           "--parallel", str(conc), "--threads", str(threads), "--ctx-per-slot", str(ctx_slot)]
    printed = subprocess.run(cmd + ["--print"], capture_output=True, text=True, check=True).stdout.strip()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_healthy(base, proc)
        # warm-up: caches the shared system prompt in every slot's neighbourhood
        with ThreadPoolExecutor(conc) as ex:
            list(ex.map(lambda k: one(base, 10_000 + k, max_tokens), range(conc)))
        t0 = time.perf_counter()
        with ThreadPoolExecutor(conc) as ex:
            results = list(ex.map(lambda k: one(base, k, max_tokens), range(n)))
        wall = time.perf_counter() - t0
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
    lat = [r["latency"] for r in results]
    return {
        "model": model, "concurrency": conc, "requests": n, "wall_s": wall,
        "per_min": 60 * n / wall,
        "lat_p50": statistics.median(lat), "lat_max": max(lat),
        "prompt_tokens": statistics.mean(r["prompt_tokens"] for r in results),
        "completion_tokens": statistics.mean(r["completion_tokens"] for r in results),
        "parsed": sum(r["verdict"] is not None for r in results),
        "sample": results[0]["text"], "command": printed,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=["smollm2", "gemma"])
    ap.add_argument("--concurrency", nargs="+", type=int, default=[1, 2, 4])
    ap.add_argument("--requests", type=int, default=24)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-tokens", type=int, default=16)
    ap.add_argument("--ctx-per-slot", type=int, default=2048)
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--json", help="also write the raw results here")
    a = ap.parse_args()
    rows = []
    for model in a.models:
        for c in a.concurrency:
            r = bench(model, c, a.requests, a.threads, a.max_tokens, a.ctx_per_slot)
            rows.append(r)
            print(f"{model:8s} C={c}  {r['per_min']:6.1f} judgments/min  wall {r['wall_s']:.1f}s  "
                  f"p50 {r['lat_p50']:.2f}s max {r['lat_max']:.2f}s  prompt {r['prompt_tokens']:.0f} tok  "
                  f"completion {r['completion_tokens']:.1f} tok  verdict parsed {r['parsed']}/{r['requests']}  "
                  f"sample {r['sample'][:40]!r}", flush=True)
            print(f"    $ {r['command']}", flush=True)
    if a.markdown:
        print()
        print("| model | concurrency (= --parallel) | judgments/min | p50 latency s | max latency s | prompt tok | verdict parsed |")
        print("|---|---|---|---|---|---|---|")
        for r in rows:
            print(f"| {r['model']} | {r['concurrency']} | {r['per_min']:.1f} | {r['lat_p50']:.2f} | "
                  f"{r['lat_max']:.2f} | {r['prompt_tokens']:.0f} | {r['parsed']}/{r['requests']} |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
