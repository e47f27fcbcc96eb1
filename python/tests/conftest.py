import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fakejudge import FakeJudgeServer  # noqa: E402

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[2]
os.environ.setdefault("JUDGEPANEL_FAKE_KEY", "sk-fake-test-key-0000")


@pytest.fixture(scope="session", autouse=True)
def _home(tmp_path_factory):
    # The response cache and everything judgepanel keeps under its home stay in the test's temp directory.
    os.environ["JUDGEPANEL_HOME"] = str(tmp_path_factory.mktemp("judgepanel-home"))


@pytest.fixture
def fake():
    server = FakeJudgeServer().start()
    yield server
    server.stop()


@pytest.fixture
def client():
    import judgepanel
    c = judgepanel.Client(cache=False, rubrics_dir=[str(REPO / "rubrics")])
    yield c
    c.close()


def pointwise_items(n, good_every=2):
    return [{"id": f"i{k}", "prompt": f"question {k}", "response": "GOOD answer" if k % good_every == 0 else "BAD answer"}
            for k in range(n)]
