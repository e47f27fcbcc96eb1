"""The inspect_ai adapter end to end: a real inspect_ai.eval run (mockllm/model) judged by the fake server."""
import pytest

inspect_ai = pytest.importorskip("inspect_ai")

from inspect_ai import Task, eval as inspect_eval  # noqa: E402
from inspect_ai.dataset import Sample  # noqa: E402
from inspect_ai.model import ModelOutput, ModelUsage, get_model  # noqa: E402
from inspect_ai.solver import generate  # noqa: E402

import judgepanel  # noqa: E402
from judgepanel.inspect import panel_scorer  # noqa: E402
from conftest import REPO  # noqa: E402
from test_api import PAIRWISE  # noqa: E402


def run(scorer, outputs, targets, tmp_path):
    samples = [Sample(input=f"question {n}", target=t, id=f"s{n}") for n, t in enumerate(targets)]
    def output(text):
        # With usage given, mockllm does not count tokens with tiktoken (which would download its encoding).
        o = ModelOutput.from_content(model="mockllm/model", content=text)
        o.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
        return o

    model = get_model("mockllm/model", custom_outputs=[output(o) for o in outputs])
    task = Task(dataset=samples, solver=generate(), scorer=scorer)
    logs = inspect_eval(task, model=model, log_dir=str(tmp_path / "logs"), display="none", max_samples=1)
    assert logs[0].status == "success", logs[0].error
    return logs[0]


def metrics(log):
    return {name: m.value for name, m in log.results.scores[0].metrics.items()}


def test_pointwise_panel_scorer(fake, tmp_path):
    with judgepanel.Panel.from_dict(fake.panel("fair", "fair"), cache=False) as panel:
        log = run(panel_scorer(panel, str(REPO / "rubrics/pointwise-1to10.yaml")),
                  ["a GOOD answer", "a BAD answer", "GOOD again", "BAD again"], ["", "", "", ""], tmp_path)
    m = metrics(log)
    assert m["mean"] == pytest.approx(5.5)
    assert m["stderr"] == pytest.approx((sum((x - 5.5) ** 2 for x in [9, 2, 9, 2]) / 3) ** 0.5 / 2)
    scores = {s.id: s.scores["panel_scorer"] for s in log.samples}
    assert scores["s0"].value == 9 and scores["s1"].value == 2
    votes = scores["s0"].metadata["votes"]
    assert len(votes) == 2 and {v["judge"] for v in votes} == {"fair-0", "fair-1"}
    assert "Rating: [[9]]" in votes[0]["raw"]
    assert fake.requests == 8


def test_pairwise_panel_scorer_against_the_target(fake, tmp_path):
    with judgepanel.Panel.from_dict(fake.panel("fair", aggregate="majority"), cache=False) as panel:
        log = run(panel_scorer(panel, PAIRWISE), ["GOOD output", "plain output", "plain"],
                  ["plain target", "GOOD target", "plain"], tmp_path)
    scores = {s.id: s.scores["panel_scorer"] for s in log.samples}
    assert [scores[k].value for k in ("s0", "s1", "s2")] == [1.0, 0.0, 0.5]
    assert scores["s0"].metadata["verdict"] == "A"
    assert metrics(log)["mean"] == pytest.approx(0.5)
    assert fake.requests == 6  # both orders per sample
