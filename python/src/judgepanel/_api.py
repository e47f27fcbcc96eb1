"""Panel, Verdict and the module-level calls (meta, rank, aggregate)."""
from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Union

from ._client import Client, FailedCallsError, default_client

__all__ = ["Panel", "Verdict", "meta", "rank", "aggregate"]


@dataclass
class Verdict:
    """The panel's decision on one item.

    `verdict` is "A", "B" or "tie" (pairwise; None when the panel abstained), `score` the pooled score
    (pointwise, checklist), `confidence` the share of judges agreeing with the panel, `votes` the judges' votes
    (the votes-file lines: judge, order, verdict or score, status, reason, raw, ...), `judges` each judge's
    reconciled verdict or score, `record` the verdicts-file line as the server wrote it."""

    item: str
    verdict: Optional[str] = None
    score: Optional[float] = None
    confidence: Optional[float] = None
    votes: List[Dict[str, Any]] = field(default_factory=list)
    judges: Dict[str, Any] = field(default_factory=dict)
    record: Dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def value(self) -> Optional[float]:
        """A number for metrics: the score, or for a pairwise verdict 1 (A), 0.5 (tie), 0 (B)."""
        if self.score is not None:
            return self.score
        return {"A": 1.0, "tie": 0.5, "B": 0.0}.get(self.verdict or "")

    def explain(self) -> str:
        """One line per vote: judge, order, vote, status/reason, and the judge's reply."""
        lines = []
        for v in self.votes:
            vote = v.get("verdict", v.get("score", v.get("checks")))
            status = v.get("status", "ok")
            if v.get("reason"):
                status += f" ({v['reason']})"
            order = f" [{v['order']}]" if v.get("order") else ""
            raw = (v.get("raw") or "").strip().replace("\n", " ")
            if len(raw) > 300:
                raw = raw[:297] + "..."
            lines.append(f"  {v.get('judge')}{order}: {vote} — {status}: {raw}")
        return "\n".join(lines)


def _clean(value: Any) -> Any:
    # pandas gives NaN for a missing cell and numpy scalars for numbers.
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item") and callable(value.item) and not isinstance(value, (list, dict, str)):
        try:
            return value.item()
        except (TypeError, ValueError):
            return value
    return value


def _records(items: Any) -> List[Dict[str, Any]]:
    """Items as a list of dicts (a pandas DataFrame's rows too); an item without `id` gets its position."""
    if hasattr(items, "to_dict") and hasattr(items, "columns"):
        rows = items.to_dict(orient="records")
    elif isinstance(items, dict):
        rows = [items]
    else:
        rows = list(items)
    out = []
    for n, row in enumerate(rows):
        if not isinstance(row, dict):
            raise TypeError(f"item {n} is a {type(row).__name__}, not a dict")
        rec = {k: _clean(v) for k, v in row.items() if _clean(v) is not None}
        rec.setdefault("id", str(n))
        if not isinstance(rec["id"], str):
            rec["id"] = str(rec["id"])
        out.append(rec)
    return out


def _rubric_param(rubric: Union[str, os.PathLike, dict]) -> Any:
    if isinstance(rubric, dict):
        return rubric
    s = os.fspath(rubric)
    return os.path.abspath(s) if os.path.exists(s) else s


class Panel:
    """A panel of judges (a panel file or dict), scoring through its own `judgepanel serve` process (or a
    shared `client`). Use it as a context manager or call `close()`; it is closed at exit anyway."""

    def __init__(self, panel: Union[str, os.PathLike, dict], *, rubric: Union[str, os.PathLike, dict, None] = None,
                 client: Optional[Client] = None, **client_options: Any):
        if isinstance(panel, dict):
            self._panel: Any = panel
        else:
            path = os.fspath(panel)
            if not os.path.exists(path):
                raise FileNotFoundError(f"no panel file {path}")
            self._panel = os.path.abspath(path)
        self.rubric = rubric
        self._own = client is None
        self._client = client if client is not None else Client(**client_options)

    @classmethod
    def from_file(cls, path: Union[str, os.PathLike], **kwargs: Any) -> "Panel":
        return cls(path, **kwargs)

    @classmethod
    def from_dict(cls, d: dict, **kwargs: Any) -> "Panel":
        return cls(dict(d), **kwargs)

    @property
    def client(self) -> Client:
        return self._client

    def _params(self, items: Any, rubric: Any, out: Optional[str], resume: bool, adaptive: bool,
                options: Dict[str, Any]) -> Dict[str, Any]:
        rubric = rubric if rubric is not None else self.rubric
        if rubric is None:
            raise ValueError("score needs a rubric (an id, a path or a dict)")
        params: Dict[str, Any] = {"rubric": _rubric_param(rubric), "panel": self._panel}
        if isinstance(items, (str, os.PathLike)):
            params["items_path"] = os.path.abspath(os.fspath(items))
        else:
            params["items"] = _records(items)
        if out is not None:
            params["out"] = os.path.abspath(out)
        if resume:
            params["resume"] = True
        if adaptive:
            params["adaptive"] = True
        params.update(options)
        return params

    @staticmethod
    def _verdicts(result: Dict[str, Any], allow_errors: bool) -> List[Verdict]:
        by_item: Dict[str, List[dict]] = {}
        for v in result.get("votes") or []:
            by_item.setdefault(str(v.get("item")), []).append(v)
        verdicts = []
        for rec in result.get("verdicts", []):
            item = str(rec.get("item"))
            conf = rec.get("confidence", rec.get("agreement"))
            verdicts.append(Verdict(item=item, verdict=rec.get("verdict"), score=rec.get("score"),
                                    confidence=conf, votes=by_item.get(item, []), judges=rec.get("judges") or {},
                                    record=rec))
        failed = result.get("failed_calls") or 0
        if failed and not allow_errors:
            err = FailedCallsError(f"{failed} calls failed after retries (recorded as error votes)", exit_code=1)
            err.verdicts = verdicts
            raise err
        return verdicts

    @staticmethod
    def _listener(params: Dict[str, Any], on_progress: Optional[Callable[[dict], None]],
                  on_vote: Optional[Callable[[dict], None]]) -> Optional[Callable[[str, dict], None]]:
        """The request's notification listener; `on_vote` asks the server for `vote` notifications."""
        if on_vote is not None:
            params["notify_votes"] = True
        if on_progress is None and on_vote is None:
            return None

        def listener(method: str, p: dict) -> None:
            if method == "progress" and on_progress is not None:
                on_progress(p)
            elif method == "vote" and on_vote is not None:
                on_vote(p.get("vote"))
        return listener

    def score(self, items: Any, rubric: Any = None, *, out: Optional[str] = None, resume: bool = False,
              adaptive: bool = False, on_progress: Optional[Callable[[dict], None]] = None,
              on_vote: Optional[Callable[[dict], None]] = None,
              allow_errors: bool = False, **options: Any) -> List[Verdict]:
        """Judges `items` (dicts, a DataFrame, or an items-file path) with `rubric` (an id, path or dict).
        Returns one Verdict per item in input order. Failed calls raise FailedCallsError (with `.verdicts`)
        unless `allow_errors`. Ctrl-C cancels the run on the server. `on_progress(dict)` sees the progress
        notifications; `on_vote(dict)` each vote (a votes-file line) as the server journals it."""
        params = self._params(items, rubric, out, resume, adaptive, options)
        listener = self._listener(params, on_progress, on_vote)
        result = self._client.request("score", params, on_notification=listener)
        self.last_result = result
        return self._verdicts(result, allow_errors)

    async def ascore(self, items: Any, rubric: Any = None, *, out: Optional[str] = None, resume: bool = False,
                     adaptive: bool = False, on_progress: Optional[Callable[[dict], None]] = None,
                     on_vote: Optional[Callable[[dict], None]] = None,
                     allow_errors: bool = False, **options: Any) -> List[Verdict]:
        """`score` for asyncio; cancelling the awaiting task cancels the run on the server."""
        params = self._params(items, rubric, out, resume, adaptive, options)
        listener = self._listener(params, on_progress, on_vote)
        result = await self._client.arequest("score", params, on_notification=listener)
        return self._verdicts(result, allow_errors)

    def close(self) -> None:
        if self._own:
            self._client.close()

    def __enter__(self) -> "Panel":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class _Files:
    """Lists of dicts written to temporary JSONL files for the commands that read files."""

    def __init__(self) -> None:
        self.dir: Optional[tempfile.TemporaryDirectory] = None

    def path(self, value: Any, name: str) -> str:
        if isinstance(value, (str, os.PathLike)):
            return os.path.abspath(os.fspath(value))
        if self.dir is None:
            self.dir = tempfile.TemporaryDirectory(prefix="judgepanel-")
        p = Path(self.dir.name) / f"{name}.jsonl"
        rows = _records(value) if name == "items" else [dict(r) for r in value]
        with open(p, "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        return str(p)

    def close(self) -> None:
        if self.dir is not None:
            self.dir.cleanup()


def _call(method: str, params: Dict[str, Any], client: Optional[Client]) -> Any:
    return (client or default_client()).request(method, params)


def _items_votes_call(method: str, items: Any, votes: Any, client: Optional[Client], options: dict) -> Any:
    """One CLI-shaped request over items and (optional) votes given as paths or lists of dicts."""
    files = _Files()
    try:
        params = {"items": files.path(items, "items"), **options}
        if votes is not None:
            params["votes"] = files.path(votes, "votes")
        return _call(method, params, client)
    finally:
        files.close()


def meta(items: Any, votes: Any = None, *, client: Optional[Client] = None, **options: Any) -> dict:
    """`judgepanel meta ITEMS --votes VOTES --json`: items and votes as paths or lists of dicts; options by the
    CLI's long names (`resamples=200`, `by="category"`, `alpha_level="interval"`). Returns the report dict."""
    return _items_votes_call("meta", items, votes, client, options)


def rank(items: Any, votes: Any = None, *, client: Optional[Client] = None, **options: Any) -> Any:
    """`judgepanel rank ITEMS [--votes VOTES] --json`: the ranking list (or the report dict with `detail=True`,
    `by=`, `cluster=`)."""
    return _items_votes_call("rank", items, votes, client, options)


def aggregate(votes: Any, *, client: Optional[Client] = None, **options: Any) -> List[dict]:
    """`judgepanel aggregate VOTES --method M`: one verdict dict per item."""
    files = _Files()
    try:
        params = {"votes": files.path(votes, "votes"), **options}
        if "items" in params and not isinstance(params["items"], (str, os.PathLike)):
            params["items"] = files.path(params["items"], "items")
        return _call("aggregate", params, client)
    finally:
        files.close()
