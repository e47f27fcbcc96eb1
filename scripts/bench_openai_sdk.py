#!/usr/bin/env python3
"""The openai-Python-SDK harness for scripts/bench_http.sh, as most Python judge tools call a judge: one
`AsyncOpenAI` client (default settings: httpx, its connection pool, 2 retries) and `--concurrency` workers,
each awaiting `client.chat.completions.create` for the next call; the verdict is read from the parsed reply.
The request carries the same messages as scripts/bench_asyncio_client.py. Prints "WALL <seconds> OK <n>".

    pip install openai
    python3 scripts/bench_openai_sdk.py --url http://127.0.0.1:PORT/v1 [--calls 10000] [--concurrency 64]
"""
import argparse
import asyncio
import itertools
import time

from openai import AsyncOpenAI

from bench_payload import messages


async def worker(client, counter, calls, done):
    for i in counter:
        if i >= calls:
            return
        r = await client.chat.completions.create(model="bench", messages=messages(i), temperature=0, max_tokens=512)
        if "[[A]]" in (r.choices[0].message.content or ""):
            done.append(i)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--calls", type=int, default=10_000)
    ap.add_argument("--concurrency", type=int, default=64)
    a = ap.parse_args()
    client = AsyncOpenAI(base_url=a.url, api_key="bench")  # a placeholder: the loopback server reads no key
    counter = itertools.count()
    done = []
    start = time.perf_counter()
    await asyncio.gather(*(worker(client, counter, a.calls, done) for _ in range(a.concurrency)))
    wall = time.perf_counter() - start
    await client.close()
    print(f"WALL {wall:.3f} OK {len(done)}")


if __name__ == "__main__":
    asyncio.run(main())
