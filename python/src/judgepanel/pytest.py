"""pytest plugin: judge outputs in tests with a judgepanel panel.

Enable it with `pytest -p judgepanel.pytest` (it is also registered as the `judgepanel.pytest` entry point).

    from judgepanel.pytest import assert_judged
    def test_answer():
        assert_judged(my_model("2+2?"), prompt="2+2?", rubric="pointwise-1to10", panel="panels/judges.yaml",
                      min_score=7)

A failing assertion shows every judge's vote and reply. The panel defaults to `--judgepanel-panel` /
the `judgepanel_panel` ini option; one serve process per panel is kept for the session and closed at its end.
"""
from __future__ import annotations

import json
import os
from typing import Any, Dict, Optional, Union

import pytest

from ._api import Panel, Verdict

__all__ = ["judged", "assert_judged", "JudgedAssertion"]

_panels: Dict[str, Panel] = {}
_default_panel: Optional[str] = None
_default_rubric: Optional[str] = None


class JudgedAssertion(AssertionError):
    """A judged assertion that failed; `verdict` is the panel's Verdict."""

    def __init__(self, message: str, verdict: Verdict):
        super().__init__(message)
        self.verdict = verdict


def _panel(panel: Union[str, os.PathLike, dict, Panel, None]) -> Panel:
    if isinstance(panel, Panel):
        return panel
    if panel is None:
        panel = _default_panel or os.environ.get("JUDGEPANEL_PANEL")
        if panel is None:
            raise ValueError("judged() needs panel= (or --judgepanel-panel / ini judgepanel_panel)")
    key = json.dumps(panel, sort_keys=True) if isinstance(panel, dict) else os.path.abspath(os.fspath(panel))
    if key not in _panels:
        _panels[key] = Panel.from_dict(panel) if isinstance(panel, dict) else Panel.from_file(panel)
    return _panels[key]


def judged(output: str, *, rubric: Any = None, panel: Any = None, prompt: str = "", reference: Optional[str] = None,
           against: Optional[str] = None, item_id: str = "output", **options: Any) -> Verdict:
    """Judges `output` (pointwise; with `against=OTHER`, pairwise: `output` is A, OTHER is B)."""
    rubric = rubric if rubric is not None else _default_rubric
    if rubric is None:
        raise ValueError("judged() needs rubric=")
    item: Dict[str, Any] = {"id": item_id, "prompt": prompt}
    if against is not None:
        item.update(response_a=output, response_b=against, model_a="output", model_b="against")
    else:
        item["response"] = output
    if reference is not None:
        item["reference"] = reference
    return _panel(panel).score([item], rubric=rubric, allow_errors=True, **options)[0]


def assert_judged(output: str, *, min_score: Optional[float] = None, expect: Optional[str] = None, **kwargs: Any
                  ) -> Verdict:
    """Asserts the panel's score ≥ `min_score`, or its pairwise verdict == `expect` ("A", "B" or "tie").
    The failure message lists each judge's vote and reply."""
    if (min_score is None) == (expect is None):
        raise ValueError("assert_judged needs exactly one of min_score= or expect=")
    v = judged(output, **kwargs)
    errors = [x for x in v.votes if x.get("status") == "error"]
    if min_score is not None:
        ok = v.score is not None and v.score >= min_score and not errors
        want = f"score >= {min_score}"
        got = f"score {v.score}"
    else:
        ok = v.verdict == expect and not errors
        want = f"verdict {expect}"
        got = f"verdict {v.verdict}"
    if not ok:
        extra = f" ({len(errors)} failed calls)" if errors else ""
        raise JudgedAssertion(f"judged: expected {want}, panel gave {got}{extra}; votes:\n{v.explain()}", v)
    return v


def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("judgepanel")
    group.addoption("--judgepanel-panel", default=None, help="panel file for judged()/assert_judged()")
    group.addoption("--judgepanel-rubric", default=None, help="default rubric for judged()/assert_judged()")
    parser.addini("judgepanel_panel", "panel file for judged()/assert_judged()", default=None)
    parser.addini("judgepanel_rubric", "default rubric for judged()/assert_judged()", default=None)


def pytest_configure(config: Any) -> None:
    global _default_panel, _default_rubric
    _default_panel = config.getoption("--judgepanel-panel") or config.getini("judgepanel_panel") or None
    _default_rubric = config.getoption("--judgepanel-rubric") or config.getini("judgepanel_rubric") or None


def pytest_unconfigure(config: Any) -> None:
    for p in _panels.values():
        p.close()
    _panels.clear()


@pytest.fixture
def judgepanel_judged():
    """The `judged` function as a fixture."""
    return judged
