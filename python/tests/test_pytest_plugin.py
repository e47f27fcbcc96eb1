"""The pytest plugin end to end, in a child pytest run against the fake judge server."""
import json

from conftest import REPO

INNER = """
from judgepanel.pytest import assert_judged, judged

PANEL = {panel}
PANEL_PAIR = {panel_pair}
RUBRIC = {rubric!r}

def test_good_passes():
    v = assert_judged("a GOOD answer", prompt="q", rubric=RUBRIC, panel=PANEL, min_score=7)
    assert v.score == 9

def test_bad_fails():
    assert_judged("a BAD answer", prompt="q", rubric=RUBRIC, panel=PANEL, min_score=7)

def test_pairwise_expect():
    assert_judged("GOOD", against="meh", prompt="q", rubric={pairwise}, panel=PANEL_PAIR, expect="A")

def test_judged_fixture(judgepanel_judged):
    assert judgepanel_judged("GOOD", prompt="q", rubric=RUBRIC, panel=PANEL).judges["fair-0"] == 9
"""


def test_plugin_reports_each_judges_vote(pytester, fake):
    from test_api import PAIRWISE
    pytester.makepyfile(test_inner=INNER.format(panel=json.dumps(fake.panel("fair", "fair", "contrary", aggregate="median")),
                                                panel_pair=json.dumps(fake.panel("fair", "contrary", aggregate="majority")),
                                                rubric=str(REPO / "rubrics/pointwise-1to10.yaml"),
                                                pairwise=repr(PAIRWISE)))
    result = pytester.runpytest_subprocess("-p", "judgepanel.pytest", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=2)
    out = result.stdout.str()
    # the failure message: the panel's score, then each judge's vote and reply
    assert "expected score >= 7, panel gave score 2" in out
    assert "fair-0: 2" in out and "The answer is wrong. Rating: [[2]]" in out
    assert "contrary-2: 8" in out
    assert "expected verdict A" in out  # fair says A, contrary B: the majority ties
    assert fake.requests == 3 + 3 + 2 * 2 + 3


def test_plugin_is_registered_as_an_entry_point(pytester):
    pytester.makepyfile(test_inner="def test_x(request):\n"
                                   "    assert request.config.pluginmanager.has_plugin('judgepanel.pytest')\n")
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
