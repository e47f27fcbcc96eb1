"""The Python API: Panel.score / ascore, Verdict, DataFrames, meta / rank / aggregate, Ctrl-C."""
import _thread
import asyncio
import json
import threading
import time

import pytest

import judgepanel
from conftest import REPO, pointwise_items

PAIRWISE = {
    "version": 1, "id": "inline-pairwise", "protocol": "pairwise", "description": "which is better", "allow_tie": True,
    "template": "[User Question]\n{{prompt}}\n\n[The Start of Assistant A's Answer]\n{{response_a}}\n"
                "[The End of Assistant A's Answer]\n\n[The Start of Assistant B's Answer]\n{{response_b}}\n"
                "[The End of Assistant B's Answer]\n",
    "output": {"pattern": "\\[\\[(A|B|C)\\]\\]"},
}


@pytest.fixture
def panel(fake):
    with judgepanel.Panel.from_dict(fake.panel("fair", "contrary"), cache=False,
                                    rubrics_dir=[str(REPO / "rubrics")]) as p:
        yield p


def test_score_returns_one_verdict_per_item_in_order(panel, fake):
    items = pointwise_items(5)
    verdicts = panel.score(items, rubric="pointwise-1to10")
    assert [v.item for v in verdicts] == [i["id"] for i in items]
    assert all(isinstance(v, judgepanel.Verdict) for v in verdicts)
    assert [v.score for v in verdicts] == [5] * 5
    assert verdicts[0].judges == {"fair-0": 9, "contrary-1": 1}
    assert {(x["judge"], x["score"]) for x in verdicts[1].votes} == {("fair-0", 2), ("contrary-1", 8)}
    assert "Rating: [[2]]" in verdicts[1].votes[0]["raw"] or "Rating: [[8]]" in verdicts[1].votes[0]["raw"]
    assert fake.requests == 10


def test_rubric_path_and_items_file(panel, tmp_path):
    f = tmp_path / "items.jsonl"
    f.write_text("".join(json.dumps(i) + "\n" for i in pointwise_items(3)))
    verdicts = panel.score(str(f), rubric=str(REPO / "rubrics/pointwise-1to10.yaml"))
    assert [v.judges["fair-0"] for v in verdicts] == [9, 2, 9]


def test_pairwise_inline_rubric_both_orders(fake):
    with judgepanel.Panel.from_dict(fake.panel("fair", aggregate="majority"), cache=False) as p:
        items = [{"id": "x", "prompt": "q", "response_a": "GOOD", "response_b": "meh"},
                 {"id": "y", "prompt": "q", "response_a": "meh", "response_b": "GOOD one"},
                 {"id": "z", "prompt": "q", "response_a": "meh", "response_b": "meh"}]
        verdicts = p.score(items, rubric=PAIRWISE)
    assert [v.verdict for v in verdicts] == ["A", "B", "tie"]
    assert [v.value for v in verdicts] == [1.0, 0.0, 0.5]
    assert sorted(x["order"] for x in verdicts[0].votes) == ["AB", "BA"]  # swap: both orders asked
    assert fake.requests == 6


def test_dataframe_items(panel):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(pointwise_items(4))
    df["reference"] = [None, "GOOD", None, None]  # a missing cell is not sent
    verdicts = panel.score(df, rubric="pointwise-1to10")
    assert [v.judges["fair-0"] for v in verdicts] == [9, 2, 9, 2]


def test_ascore_runs_concurrently(panel, fake):
    fake.delay = 0.05

    async def main():
        return await asyncio.gather(*(panel.ascore(pointwise_items(4, good_every=1 + n), rubric="pointwise-1to10")
                                      for n in range(3)))

    results = asyncio.run(main())
    assert [[v.judges["fair-0"] for v in r] for r in results] == [[9, 9, 9, 9], [9, 2, 9, 2], [9, 2, 2, 9]]
    assert fake.requests == 3 * 4 * 2


def test_failed_calls_raise_with_the_verdicts(fake):
    with judgepanel.Panel.from_dict(fake.panel("fair", "broken"), cache=False) as p:
        with pytest.raises(judgepanel.FailedCallsError) as e:
            p.score(pointwise_items(2), rubric=str(REPO / "rubrics/pointwise-1to10.yaml"))
        assert len(e.value.verdicts) == 2 and e.value.exit_code == 1
        v = p.score(pointwise_items(2), rubric=str(REPO / "rubrics/pointwise-1to10.yaml"), allow_errors=True)
        assert [x.judges.get("fair-0") for x in v] == [9, 2]


def test_bad_input_is_an_input_error(panel):
    with pytest.raises(judgepanel.InputError):
        panel.score([{"id": "1", "prompt": "q"}], rubric="pointwise-1to10")  # no response


def test_out_writes_a_run_directory(panel, tmp_path):
    out = tmp_path / "run"
    panel.score(pointwise_items(2), rubric="pointwise-1to10", out=str(out))
    assert panel.last_result["run"] == str(out)
    assert {"votes.jsonl", "verdicts.jsonl", "report.json"} <= {p.name for p in out.iterdir()}


def test_ctrl_c_cancels_the_request_on_the_server(fake):
    fake.delay = 0.2
    with judgepanel.Panel.from_dict(fake.panel("fair", concurrency=1), cache=False) as p:
        threading.Timer(1.0, _thread.interrupt_main).start()
        with pytest.raises(KeyboardInterrupt):
            p.score(pointwise_items(50), rubric=str(REPO / "rubrics/pointwise-1to10.yaml"))
        sent = fake.requests
        time.sleep(0.6)
        assert sent < 50 and fake.requests <= sent + 1
        # the same process serves the next request
        assert p.score(pointwise_items(1), rubric=str(REPO / "rubrics/pointwise-1to10.yaml"))[0].score == 9


def test_progress_callback(panel):
    seen = []
    panel.score(pointwise_items(3), rubric="pointwise-1to10", on_progress=seen.append)
    assert seen and seen[-1]["done"] == 6 and seen[-1]["total"] == 6


def test_meta_rank_aggregate_functions():
    items = json.loads("[" + ",".join((REPO / "fixtures/pandalm-50.jsonl").read_text().splitlines()) + "]")
    votes = str(REPO / "fixtures/pandalm-50.votes.jsonl")
    with judgepanel.Client(cache=False) as c:
        report = judgepanel.meta(items, votes, resamples=100, client=c)
        assert report["n_items"] == 50 and {j["judge"] for j in report["judges"]} == {"gpt-3.5-turbo", "pandalm-7b"}
        ranking = judgepanel.rank(str(REPO / "fixtures/pandalm-50.jsonl"), votes, resamples=20, client=c)
        assert {"model", "strength", "rank"} <= set(ranking[0])
        verdicts = judgepanel.aggregate(votes, method="majority", client=c)
        assert len(verdicts) == 50


def test_module_functions_share_a_default_client():
    votes = str(REPO / "fixtures/pandalm-50.votes.jsonl")
    a = judgepanel.aggregate(votes)
    assert judgepanel.default_client() is judgepanel.default_client()
    assert len(a) == 50
