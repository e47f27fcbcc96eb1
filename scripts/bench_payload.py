"""The chat messages of pairwise call `i` in scripts/bench_http.sh, for the Python clients: the system prompt and
user template of rubrics/pairwise-mtbench.yaml filled with the same item PanelBench `calls` judges
("Question i?", "Answer alpha i.", "Answer beta i."), so every client sends a body of the same size."""
import os

import yaml

_RUBRIC = yaml.safe_load(open(os.path.join(os.path.dirname(__file__), "..", "rubrics", "pairwise-mtbench.yaml")))


def messages(i):
    user = (
        _RUBRIC["template"]
        .replace("{{prompt}}", f"Question {i}?")
        .replace("{{response_a}}", f"Answer alpha {i}.")
        .replace("{{response_b}}", f"Answer beta {i}.")
    )
    return [{"role": "system", "content": _RUBRIC["system"]}, {"role": "user", "content": user}]
