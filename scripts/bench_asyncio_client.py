#!/usr/bin/env python3
"""The raw-asyncio baseline for scripts/bench_http.sh: `--calls` chat-completion POSTs over `--concurrency`
keep-alive HTTP/1.1 connections (asyncio streams, one connection per worker, TCP_NODELAY), each request a JSON
body of the size judgepanel sends for a pairwise call, each reply parsed as JSON and its verdict read. Nothing
else: no retries, no prompt templates, no journal. Prints "WALL <seconds> OK <n>" for the call loop.

    python3 scripts/bench_asyncio_client.py --url http://127.0.0.1:PORT/v1 [--calls 10000] [--concurrency 64]
"""
import argparse
import asyncio
import itertools
import json
import socket
import time
from urllib.parse import urlsplit

from bench_payload import messages


async def worker(host, port, path, counter, calls, done):
    reader, writer = await asyncio.open_connection(host, port)
    writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    head_prefix = f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n".encode()
    try:
        for i in counter:
            if i >= calls:
                return
            body = json.dumps({"model": "bench", "messages": messages(i), "temperature": 0, "max_tokens": 512}).encode()
            writer.write(head_prefix + b"Content-Length: %d\r\n\r\n" % len(body) + body)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            reply = json.loads(await reader.readexactly(length))
            if head.startswith(b"HTTP/1.1 200") and "[[A]]" in reply["choices"][0]["message"]["content"]:
                done.append(i)
    finally:
        writer.close()


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--calls", type=int, default=10_000)
    ap.add_argument("--concurrency", type=int, default=64)
    a = ap.parse_args()
    u = urlsplit(a.url)
    path = u.path.rstrip("/") + "/chat/completions"
    counter = itertools.count()
    done = []
    start = time.perf_counter()
    await asyncio.gather(*(worker(u.hostname, u.port, path, counter, a.calls, done) for _ in range(a.concurrency)))
    print(f"WALL {time.perf_counter() - start:.3f} OK {len(done)}")


if __name__ == "__main__":
    asyncio.run(main())
