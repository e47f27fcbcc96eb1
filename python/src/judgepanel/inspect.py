"""inspect_ai adapter: `panel_scorer`, an inspect `@scorer` that judges each sample's output with a judgepanel
panel and reports the mean and its standard error.

    from inspect_ai import Task, eval
    from judgepanel.inspect import panel_scorer
    Task(dataset=..., solver=generate(), scorer=panel_scorer("panels/judges.yaml", rubric="pointwise-1to10"))

Pointwise (the rubric's protocol): the score is the panel's pooled score. Pairwise (`pairwise=True` or a pairwise
rubric): the sample's output is answer A and its target answer B; the score is 1 (A better), 0.5 (tie) or 0 (B
better), so the mean is the output's win rate against the targets. Each score's metadata holds the panel's
verdict, each judge's reconciled verdict and every vote (judge, order, vote, status, reason, raw reply).
"""
from __future__ import annotations

import os
from typing import Any, Optional, Union

from inspect_ai.scorer import Score, Target, mean, scorer, stderr
from inspect_ai.solver import TaskState

from ._api import Panel
from ._client import Client

__all__ = ["panel_scorer"]


@scorer(metrics=[mean(), stderr()])
def panel_scorer(panel: Union[str, os.PathLike, dict, Panel], rubric: Union[str, os.PathLike, dict],
                 *, pairwise: Optional[bool] = None, client: Optional[Client] = None, allow_errors: bool = False,
                 **options: Any):
    """An inspect scorer judging with `panel` (a Panel, a panel file or dict) and `rubric` (an id, path or
    dict). `pairwise` defaults to whether the rubric is pairwise (known for a dict; else say so)."""
    if isinstance(panel, Panel):
        judge_panel = panel
    elif isinstance(panel, dict):
        judge_panel = Panel.from_dict(panel, client=client)
    else:
        judge_panel = Panel.from_file(panel, client=client)
    is_pairwise = pairwise
    if is_pairwise is None:
        is_pairwise = isinstance(rubric, dict) and rubric.get("protocol") == "pairwise"

    async def score(state: TaskState, target: Target) -> Score:
        output = state.output.completion if state.output is not None else ""
        item: dict = {"id": str(state.sample_id if state.sample_id is not None else "sample"),
                      "prompt": state.input_text}
        if is_pairwise:
            item["response_a"] = output
            item["response_b"] = target.text
            item["model_a"] = "output"
            item["model_b"] = "target"
        else:
            item["response"] = output
            if target.text:
                item["reference"] = target.text
        verdicts = await judge_panel.ascore([item], rubric=rubric, allow_errors=allow_errors, **options)
        v = verdicts[0]
        value = v.value
        return Score(
            value=value if value is not None else float("nan"),
            answer=output,
            explanation=v.explain(),
            metadata={"verdict": v.verdict, "score": v.score, "confidence": v.confidence, "judges": v.judges,
                      "votes": v.votes, "abstained": value is None},
        )

    return score
