"""The JSON-RPC 2.0 client of `judgepanel serve --stdio` (one JSON object a line each way)."""
from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import io
import itertools
import json
import os
import shutil
import subprocess
import threading
import time
import weakref
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

__all__ = ["Client", "JudgePanelError", "InputError", "EnvironmentFailure", "FailedCallsError", "Cancelled",
           "find_binary", "default_client"]


class JudgePanelError(Exception):
    """An error answered by the server: `message` is the CLI's message, `exit_code` its exit-code class
    (1 failed calls, 2 bad input or usage, 3 I/O and environment, 4 a failed quality gate)."""

    def __init__(self, message: str, code: int = 0, exit_code: Optional[int] = None, data: Any = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.exit_code = exit_code
        self.data = data


class InputError(JudgePanelError, ValueError):
    """Bad input or usage (the CLI's exit code 2)."""


class EnvironmentFailure(JudgePanelError, OSError):
    """An I/O or environment failure (the CLI's exit code 3)."""


class FailedCallsError(JudgePanelError):
    """A run finished with failed calls (error votes; the CLI's exit code 1). `verdicts` holds what was decided."""

    verdicts: list = []


class Cancelled(JudgePanelError):
    """The request was cancelled."""


def _error(err: Dict[str, Any]) -> JudgePanelError:
    data = err.get("data") if isinstance(err.get("data"), dict) else {}
    message = data.get("message") or err.get("message") or "error"
    exit_code = data.get("exit_code")
    cls = {2: InputError, 3: EnvironmentFailure, 1: FailedCallsError, 130: Cancelled}.get(exit_code, JudgePanelError)
    if err.get("code") == -32800:
        cls = Cancelled
    return cls(message, code=err.get("code", 0), exit_code=exit_code, data=err.get("data"))


def find_binary() -> str:
    """The `judgepanel` binary: $JUDGEPANEL_BIN, then `judgepanel` on PATH, then the one shipped in the wheel."""
    env = os.environ.get("JUDGEPANEL_BIN")
    if env:
        if not os.access(env, os.X_OK):
            raise FileNotFoundError(f"JUDGEPANEL_BIN={env} is not an executable file")
        return env
    on_path = shutil.which("judgepanel")
    if on_path:
        return on_path
    shipped = Path(__file__).resolve().parent / "bin" / "judgepanel"
    if shipped.is_file() and os.access(shipped, os.X_OK):
        return str(shipped)
    raise FileNotFoundError(
        "no judgepanel binary: set JUDGEPANEL_BIN, put `judgepanel` on PATH, or install the package from the "
        "repository with a Swift toolchain (`pip install ./python` builds and ships it)")


class Client:
    """One `judgepanel serve --stdio` process. Thread-safe: many requests may be in flight at once (they share
    the server's HTTP pool, rate limits and cache). Close it with `close()`, a `with` block, or at exit."""

    def __init__(self, binary: Optional[str] = None, *, cache: bool = True, cache_dir: Optional[str] = None,
                 rubrics_dir: Optional[List[str]] = None, args: Optional[List[str]] = None,
                 env: Optional[Dict[str, str]] = None, cwd: Optional[str] = None):
        self.binary = binary or find_binary()
        cmd = [self.binary, "serve", "--stdio"]
        if not cache:
            cmd.append("--no-cache")
        if cache_dir:
            cmd += ["--cache-dir", cache_dir]
        for d in rubrics_dir or []:
            cmd += ["--rubrics-dir", d]
        cmd += list(args or [])
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=None,
                                      env=env, cwd=cwd, bufsize=0,
                                      # Its own process group: a terminal's Ctrl-C reaches Python, which cancels
                                      # the request in flight, not the server (which serves the next one).
                                      start_new_session=True)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._pending: Dict[Any, concurrent.futures.Future] = {}
        self._listeners: Dict[Any, Callable[[str, dict], None]] = {}
        self._closed = False
        self._reader = threading.Thread(target=self._read, name="judgepanel-serve-reader", daemon=True)
        self._reader.start()
        _live.add(self)

    # -- wire ---------------------------------------------------------------------------------------------
    def _send(self, message: dict) -> None:
        line = (json.dumps(message, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")
        with self._write_lock:
            if self._proc.stdin is None or self._proc.stdin.closed:
                raise JudgePanelError("the judgepanel serve process is closed")
            try:
                self._proc.stdin.write(line)
                self._proc.stdin.flush()
            except BrokenPipeError as e:
                raise JudgePanelError(f"the judgepanel serve process has exited (code {self._proc.poll()})") from e

    def send_raw(self, line: bytes) -> None:
        """Writes bytes as they are (protocol tests)."""
        with self._write_lock:
            self._proc.stdin.write(line)
            self._proc.stdin.flush()

    def _read(self) -> None:
        # The pipe is opened unbuffered (bufsize=0, so requests go out at once); reading lines from the raw pipe
        # would cost one system call per byte (RawIOBase.readline), which for a 10 000-item answer of a few MB was
        # most of Panel.score's overhead. A buffered reader returns each line as soon as its newline has arrived.
        out = io.BufferedReader(self._proc.stdout, buffer_size=1 << 20)
        for raw in iter(out.readline, b""):
            try:
                msg = json.loads(raw)
            except ValueError:
                continue  # the server writes protocol lines only; a torn line is not ours to answer
            if not isinstance(msg, dict):
                continue
            if "method" in msg and "id" not in msg:
                params = msg.get("params") or {}
                listener = self._listeners.get(params.get("request")) if isinstance(params, dict) else None
                if listener is not None:
                    try:
                        listener(msg["method"], params)
                    except Exception:  # a listener's bug must not stop the reader
                        pass
                continue
            with self._lock:
                fut = self._pending.pop(msg.get("id"), None)
                self._listeners.pop(msg.get("id"), None)
            if fut is None:
                self._unmatched(msg)
                continue
            if "error" in msg:
                fut.set_exception(_error(msg["error"]))
            else:
                fut.set_result(msg.get("result"))
        # The process ended: fail whatever still waits.
        with self._lock:
            pending, self._pending = self._pending, {}
        code = self._proc.wait()
        for fut in pending.values():
            if not fut.done():
                fut.set_exception(JudgePanelError(f"the judgepanel serve process exited (code {code})"))

    unmatched: List[dict]

    def _unmatched(self, msg: dict) -> None:
        # Errors for lines without a usable id (parse errors) are kept for inspection.
        self.__dict__.setdefault("unmatched", []).append(msg)

    # -- requests -----------------------------------------------------------------------------------------
    def submit(self, method: str, params: Optional[dict] = None,
               on_notification: Optional[Callable[[str, dict], None]] = None) -> "tuple[int, concurrent.futures.Future]":
        """Sends a request; returns its id and a future of its result."""
        if self._closed:
            raise JudgePanelError("client is closed")
        rid = next(self._ids)
        fut: concurrent.futures.Future = concurrent.futures.Future()
        with self._lock:
            self._pending[rid] = fut
            if on_notification is not None:
                self._listeners[rid] = on_notification
        try:
            self._send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params or {}})
        except Exception:
            with self._lock:
                self._pending.pop(rid, None)
                self._listeners.pop(rid, None)
            raise
        return rid, fut

    def cancel(self, rid: Any) -> None:
        """Asks the server to cancel request `rid` (its answer is then a Cancelled error)."""
        try:
            self._send({"jsonrpc": "2.0", "method": "cancel", "params": {"id": rid}})
        except JudgePanelError:
            pass

    def request(self, method: str, params: Optional[dict] = None, *,
                on_notification: Optional[Callable[[str, dict], None]] = None, timeout: Optional[float] = None) -> Any:
        """Runs one request and returns its result. Ctrl-C (KeyboardInterrupt) cancels it on the server first."""
        rid, fut = self.submit(method, params, on_notification)
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            # Waits in short slices: a signal (Ctrl-C) is handled between them even where a blocked wait would not
            # be woken by it.
            while True:
                left = 0.2 if deadline is None else min(0.2, deadline - time.monotonic())
                if left <= 0:
                    raise concurrent.futures.TimeoutError()
                try:
                    return fut.result(timeout=left)
                except concurrent.futures.TimeoutError:
                    if fut.done():
                        raise
        except KeyboardInterrupt:
            self.cancel(rid)
            try:
                fut.result(timeout=30)
            except BaseException:
                pass
            raise
        except concurrent.futures.TimeoutError:
            self.cancel(rid)
            raise

    async def arequest(self, method: str, params: Optional[dict] = None, *,
                       on_notification: Optional[Callable[[str, dict], None]] = None) -> Any:
        """`request` for asyncio: cancelling the awaiting task cancels the request on the server."""
        rid, fut = self.submit(method, params, on_notification)
        try:
            return await asyncio.shield(asyncio.wrap_future(fut))
        except asyncio.CancelledError:
            self.cancel(rid)
            raise

    # -- lifetime -----------------------------------------------------------------------------------------
    def close(self, cancel: bool = True, timeout: float = 30) -> int:
        """Shuts the server down (cancelling in-flight requests unless `cancel=False`, which lets them finish)
        and waits for it to exit; returns its exit code."""
        if self._closed:
            return self._proc.wait()
        self._closed = True
        try:
            self._send({"jsonrpc": "2.0", "id": "shutdown", "method": "shutdown", "params": {"cancel": cancel}})
            self._proc.stdin.close()
        except (JudgePanelError, OSError):
            pass
        try:
            code = self._proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            code = self._proc.wait()
        self._reader.join(timeout=5)
        _live.discard(self)
        return code

    @property
    def process(self) -> subprocess.Popen:
        return self._proc

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


_live: "weakref.WeakSet[Client]" = weakref.WeakSet()
_default: Optional[Client] = None
_default_lock = threading.Lock()


def default_client() -> Client:
    """The shared client of module-level calls (`judgepanel.meta`, `rank`, `aggregate`), started on first use."""
    global _default
    with _default_lock:
        if _default is None or _default._closed:
            _default = Client()
        return _default


@atexit.register
def _close_all() -> None:
    for c in list(_live):
        try:
            c.close(timeout=10)
        except Exception:
            pass
