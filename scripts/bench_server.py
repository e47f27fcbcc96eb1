#!/usr/bin/env python3
"""A minimal OpenAI-compatible chat server for PanelBench: every POST is answered "[[A]]" after a fixed
latency, over HTTP/1.1 keep-alive (asyncio, one process). Prints "PORT <n>" once listening.

    python3 scripts/bench_server.py [--port 0] [--latency-ms 50]
"""
import argparse
import asyncio
import json

# The chat completion object as OpenAI documents it (https://platform.openai.com/docs/api-reference/chat/object),
# so the openai Python SDK reads it as it reads a real reply (scripts/bench_openai_sdk.py).
BODY = json.dumps({
    "id": "chatcmpl-bench", "object": "chat.completion", "created": 1732350000, "model": "bench",
    "choices": [{
        "index": 0, "finish_reason": "stop", "logprobs": None,
        "message": {"role": "assistant", "content": "[[A]]", "refusal": None},
    }],
    "usage": {"prompt_tokens": 100, "completion_tokens": 3, "total_tokens": 103},
    "system_fingerprint": None,
}).encode()


async def handle(reader, writer, latency):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            if length:
                await reader.readexactly(length)
            await asyncio.sleep(latency)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(BODY) + BODY)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionResetError, BrokenPipeError):
        pass
    finally:
        writer.close()


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--latency-ms", type=float, default=50)
    a = ap.parse_args()
    server = await asyncio.start_server(lambda r, w: handle(r, w, a.latency_ms / 1000), "127.0.0.1", a.port, backlog=1024)
    print("PORT", server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
