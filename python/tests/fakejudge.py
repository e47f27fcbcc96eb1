"""A fake OpenAI-compatible judge server (stdlib only) on 127.0.0.1 for the Python tests.

It answers POST /v1/chat/completions as OpenAI's Chat Completions API documents it
(https://platform.openai.com/docs/api-reference/chat/create and .../chat/object): a `chat.completion` object with
`choices[0].message.content`, `finish_reason` and `usage`; an error is a JSON body {"error": {"message", "type",
"code"}} with its HTTP status (https://platform.openai.com/docs/guides/error-codes).

The judge's behaviour comes from the request's `model`:
  fair      pointwise: [[9]] when the answer contains GOOD, [[2]] when it contains BAD, else [[5]];
            pairwise: [[A]]/[[B]] for the answer containing GOOD, else [[C]].
  contrary  the opposite (pointwise 10 - fair's score; pairwise the other answer).
  broken    HTTP 400 invalid_request_error (not retried: an error vote).
Every request is counted at the server (`requests`, and the most answered at once, `max_in_flight`); `delay` seconds are slept before each answer.
"""
from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

POINT = re.compile(r"\[The Start of Assistant's Answer\]\n(.*?)\n\[The End of Assistant's Answer\]", re.S)
PAIR_A = re.compile(r"\[The Start of Assistant A's Answer\]\n(.*?)\n\[The End of Assistant A's Answer\]", re.S)
PAIR_B = re.compile(r"\[The Start of Assistant B's Answer\]\n(.*?)\n\[The End of Assistant B's Answer\]", re.S)


def reply(model: str, prompt: str) -> str:
    a, b = PAIR_A.search(prompt), PAIR_B.search(prompt)
    if a and b:
        ga, gb = "GOOD" in a.group(1), "GOOD" in b.group(1)
        pick = "A" if ga and not gb else "B" if gb and not ga else "C"
        if model == "contrary" and pick != "C":
            pick = "B" if pick == "A" else "A"
        why = {"A": "Assistant A's answer is the good one.", "B": "Assistant B's answer is the good one.",
               "C": "Neither answer stands out."}[pick]
        return f"{why} [[{pick}]]"
    m = POINT.search(prompt)
    answer = m.group(1) if m else prompt
    score = 9 if "GOOD" in answer else 2 if "BAD" in answer else 5
    if model == "contrary":
        score = 10 - score
    why = {9: "The answer is correct and helpful.", 2: "The answer is wrong.", 5: "The answer is average."}.get(
        score, f"The answer deserves {score}.")
    return f"{why} Rating: [[{score}]]"


class FakeJudgeServer:
    def __init__(self) -> None:
        self.requests = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.delay = 0.0
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                with outer.lock:
                    outer.requests += 1
                if not self.path.endswith("/chat/completions"):
                    return self._send(404, {"error": {"message": "not found", "type": "invalid_request_error",
                                                      "code": None}})
                with outer.lock:
                    outer.in_flight += 1
                    outer.max_in_flight = max(outer.max_in_flight, outer.in_flight)
                try:
                    if outer.delay:
                        time.sleep(outer.delay)
                finally:
                    with outer.lock:
                        outer.in_flight -= 1
                model = body.get("model", "")
                if model == "broken":
                    return self._send(400, {"error": {"message": "this judge is broken", "type":
                                                      "invalid_request_error", "code": None}})
                prompt = "\n".join(m.get("content", "") if isinstance(m.get("content"), str) else ""
                                   for m in body.get("messages", []))
                content = reply(model, prompt)
                self._send(200, {
                    "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()), "model": model,
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                 "logprobs": None, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": len(prompt) // 4, "completion_tokens": len(content) // 4,
                              "total_tokens": len(prompt) // 4 + len(content) // 4},
                })

            def _send(self, status: int, obj: dict) -> None:
                data = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        ThreadingHTTPServer.daemon_threads = True
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.request_queue_size = 256
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def start(self) -> "FakeJudgeServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def panel(self, *models: str, aggregate: str = "mean", concurrency: int = 8, **judge: object) -> dict:
        """A panel dict of judges `models` on this server."""
        return {"version": 1, "aggregate": aggregate, "judges": [
            {"name": f"{m}-{n}", "provider": "openai", "base_url": self.base_url, "model": m,
             "api_key_env": "JUDGEPANEL_FAKE_KEY", "temperature": 0, "max_tokens": 64, "concurrency": concurrency,
             **judge}
            for n, m in enumerate(models or ("fair",))]}


if __name__ == "__main__":  # a server for the benchmark script: prints its base URL, serves until killed
    import sys
    s = FakeJudgeServer().start()
    print(s.base_url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        sys.exit(0)
