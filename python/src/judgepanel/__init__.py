"""judgepanel: LLM-as-a-judge panels from Python, over `judgepanel serve --stdio` (JSON-RPC 2.0).

    import judgepanel
    with judgepanel.Panel.from_file("panel.yaml") as panel:
        verdicts = panel.score([{"id": "1", "prompt": "2+2?", "response": "4"}], rubric="pointwise-1to10")
"""
from ._api import Panel, Verdict, aggregate, meta, rank
from ._client import (Cancelled, Client, EnvironmentFailure, FailedCallsError, InputError, JudgePanelError,
                      default_client, find_binary)

__all__ = ["Panel", "Verdict", "meta", "rank", "aggregate", "Client", "default_client", "find_binary",
           "JudgePanelError", "InputError", "EnvironmentFailure", "FailedCallsError", "Cancelled"]
__version__ = "0.1.0"
