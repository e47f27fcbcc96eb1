"""JSON-RPC 2.0 conformance of `judgepanel serve --stdio`, spoken line by line."""
import json
import subprocess
import threading
import time

import pytest

import judgepanel
from conftest import REPO, pointwise_items


def wait_for(pred, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.02)
    return False


def raw_session(lines, timeout=120):
    """Runs a serve process over `lines` (then end of input); returns its stdout lines and exit code."""
    proc = subprocess.run([judgepanel.find_binary(), "serve", "--stdio", "--no-cache"], input="".join(lines),
                          capture_output=True, text=True, timeout=timeout, cwd=REPO)
    return proc.stdout.splitlines(), proc.returncode, proc.stderr


def req(id, method, params):
    return json.dumps({"jsonrpc": "2.0", "id": id, "method": method, "params": params}) + "\n"


def test_malformed_lines_get_errors_and_the_server_goes_on(fake):
    panel = fake.panel("fair")
    lines = ["{not json\n", "[1, 2]\n", json.dumps({"id": 7, "method": "score"}) + "\n",
             req(8, "no-such-method", {}), req(9, "score", {"items": pointwise_items(2), "rubric": "pointwise-1to10",
                                                          "panel": panel}),
             req(10, "shutdown", {})]
    out, code, err = raw_session(lines)
    assert code == 0, err
    msgs = [json.loads(l) for l in out]  # every stdout line is a protocol line
    answers = {json.dumps(m.get("id")): m for m in msgs if "id" in m}
    parse = [m for m in msgs if m.get("id") is None and "error" in m]
    assert [m["error"]["code"] for m in parse] == [-32700, -32600]
    assert answers["7"]["error"]["code"] == -32600
    assert answers["8"]["error"]["code"] == -32601
    result = answers["9"]["result"]
    assert [v["score"] for v in result["verdicts"]] == [9, 2]
    assert answers["10"]["result"] is None
    assert fake.requests == 2
    # shutdown's answer is the last line
    assert msgs[-1]["id"] == 10


def test_concurrent_requests_share_one_server(fake, client):
    fake.delay = 0.05
    panel = fake.panel("fair", "contrary")
    futures = [client.submit("score", {"items": pointwise_items(6, good_every=1 + n), "rubric": "pointwise-1to10",
                                       "panel": panel})
               for n in range(4)]
    results = [f.result(timeout=120) for _, f in futures]
    for n, r in enumerate(results):
        # fair gives 9/2, contrary 1/8: the mean is 5 either way; each judge's own vote is distinct
        assert len(r["verdicts"]) == 6
        for v, item in zip(r["verdicts"], pointwise_items(6, good_every=1 + n)):
            good = "GOOD" in item["response"]
            assert v["judges"] == ({"fair-0": 9, "contrary-1": 1} if good else {"fair-0": 2, "contrary-1": 8})
            assert v["score"] == 5
    assert fake.requests == 4 * 6 * 2  # counted at the server: nothing asked twice


def test_concurrent_requests_share_each_judges_lane(fake, client):
    # One runtime for all requests: a judge with concurrency 1 never has two calls open, across requests.
    fake.delay = 0.05
    panel = fake.panel("fair", concurrency=1)
    futures = [client.submit("score", {"items": pointwise_items(5), "rubric": "pointwise-1to10", "panel": panel})
               for _ in range(3)]
    for _, f in futures:
        assert len(f.result(timeout=120)["verdicts"]) == 5
    assert fake.requests == 15 and fake.max_in_flight == 1


def test_progress_notifications_name_their_request(fake, client):
    fake.delay = 0.05
    seen = []
    rid, fut = client.submit("score", {"items": pointwise_items(10), "rubric": "pointwise-1to10",
                                       "panel": fake.panel("fair", concurrency=2)},
                             on_notification=lambda m, p: seen.append((m, p)))
    fut.result(timeout=120)
    assert seen, "no progress notification"
    assert all(m == "progress" and p["request"] == rid for m, p in seen)
    last = seen[-1][1]
    assert (last["done"], last["total"], last["errors"]) == (10, 10, 0)
    assert set(last) == {"request", "done", "total", "errors", "cost"}


def test_vote_notifications_when_asked(fake, client):
    # notify_votes: one `vote` notification per journaled vote, each naming its request, all before the answer;
    # without it, none. Counted against the requests at the fake server.
    seen = []
    rid, fut = client.submit("score", {"items": pointwise_items(7), "rubric": "pointwise-1to10",
                                       "panel": fake.panel("fair", "contrary"), "notify_votes": True},
                             on_notification=lambda m, p: seen.append((m, p)))
    result = fut.result(timeout=120)
    votes = [p for m, p in seen if m == "vote"]
    assert fake.requests == 14 and len(votes) == fake.requests
    assert all(p["request"] == rid and set(p) == {"request", "vote"} for p in votes)
    key = lambda v: json.dumps(v, sort_keys=True)
    assert sorted(map(key, (p["vote"] for p in votes))) == sorted(map(key, result["votes"]))
    quiet = []
    _, fut = client.submit("score", {"items": pointwise_items(2), "rubric": "pointwise-1to10",
                                     "panel": fake.panel("fair")},
                           on_notification=lambda m, p: quiet.append(m))
    fut.result(timeout=120)
    assert fake.requests == 16 and "vote" not in quiet and "progress" in quiet


def test_panel_score_on_vote(fake):
    with judgepanel.Panel.from_dict(fake.panel("fair", "contrary"), cache=False,
                                    rubrics_dir=[str(REPO / "rubrics")]) as panel:
        got = []
        verdicts = panel.score(pointwise_items(4), rubric="pointwise-1to10", on_vote=got.append)
    assert len(got) == fake.requests == 8
    assert sorted((v["item"], v["judge"]) for v in got) == sorted((x["item"], x["judge"]) for v in verdicts
                                                                  for x in v.votes)


def test_cancel_stops_the_run(fake, client):
    fake.delay = 0.2
    progress = []
    rid, fut = client.submit("score", {"items": pointwise_items(60), "rubric": "pointwise-1to10",
                                       "panel": fake.panel("fair", concurrency=1)},
                             on_notification=lambda m, p: progress.append(p))
    assert wait_for(lambda: fake.requests >= 2)
    client.cancel(rid)
    with pytest.raises(judgepanel.Cancelled) as e:
        fut.result(timeout=60)
    assert e.value.code == -32800
    sent = fake.requests
    time.sleep(0.6)
    assert fake.requests <= sent + 1 and sent < 60  # stopped: no more calls after the cancel
    # the server goes on
    r = client.request("score", {"items": pointwise_items(1), "rubric": "pointwise-1to10",
                                 "panel": fake.panel("fair")}, timeout=60)
    assert r["verdicts"][0]["score"] == 9


def test_cancel_of_an_unknown_request_says_so(client):
    assert client.request("cancel", {"id": 12345}, timeout=30) == {"cancelled": False}


def test_shutdown_finishes_work_in_flight(fake):
    fake.delay = 0.1
    c = judgepanel.Client(cache=False, rubrics_dir=[str(REPO / "rubrics")])
    rid, fut = c.submit("score", {"items": pointwise_items(8), "rubric": "pointwise-1to10",
                                  "panel": fake.panel("fair", concurrency=2)})
    assert wait_for(lambda: fake.requests >= 1)
    assert c.close(cancel=False) == 0
    result = fut.result(timeout=5)
    assert len(result["verdicts"]) == 8 and fake.requests == 8


def test_shutdown_cancels_work_in_flight_when_asked(fake):
    fake.delay = 0.2
    c = judgepanel.Client(cache=False, rubrics_dir=[str(REPO / "rubrics")])
    rid, fut = c.submit("score", {"items": pointwise_items(50), "rubric": "pointwise-1to10",
                                  "panel": fake.panel("fair", concurrency=1)})
    assert wait_for(lambda: fake.requests >= 1)
    assert c.close(cancel=True) == 0
    with pytest.raises(judgepanel.Cancelled):
        fut.result(timeout=5)
    assert fake.requests < 50


def test_errors_carry_the_cli_message_and_exit_class(fake, client, tmp_path):
    with pytest.raises(judgepanel.InputError) as e:
        client.request("score", {"items": pointwise_items(1), "rubric": "no-such-rubric",
                                 "panel": fake.panel("fair")}, timeout=30)
    assert e.value.exit_code == 2 and e.value.code == -32002 and "no-such-rubric" in e.value.message
    items = tmp_path / "items.jsonl"
    items.write_text('{"id": "1", "prompt": "p", "response": "r"}\n{"prompt": "no id"}\n')
    with pytest.raises(judgepanel.InputError) as e:
        client.request("score", {"items_path": str(items), "rubric": "pointwise-1to10",
                                 "panel": fake.panel("fair")}, timeout=30)
    assert f"{items}:2" in e.value.message
    with pytest.raises(judgepanel.InputError) as e:
        client.request("meta", {"items": str(REPO / "fixtures/pandalm-50.jsonl"), "resamples": -1}, timeout=30)
    assert "--resamples" in e.value.message
    assert fake.requests == 0


def test_failed_calls_are_reported(fake, client):
    r = client.request("score", {"items": pointwise_items(2), "rubric": "pointwise-1to10",
                                 "panel": fake.panel("fair", "broken")}, timeout=60)
    assert r["failed_calls"] == 2
    assert sum(1 for v in r["votes"] if v["status"] == "error") == 2


def cli_json(*args):
    p = subprocess.run([judgepanel.find_binary(), *args], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_meta_rank_aggregate_equal_the_cli(client):
    items, votes = "fixtures/pandalm-50.jsonl", "fixtures/pandalm-50.votes.jsonl"
    meta = client.request("meta", {"items": str(REPO / items), "votes": str(REPO / votes), "resamples": 200},
                          timeout=120)
    assert meta == json.loads(cli_json("meta", items, "--votes", votes, "--resamples", "200", "--json"))
    rank = client.request("rank", {"items": str(REPO / items), "votes": str(REPO / votes), "resamples": 50},
                          timeout=120)
    assert rank == json.loads(cli_json("rank", items, "--votes", votes, "--resamples", "50", "--json"))
    agg = client.request("aggregate", {"votes": str(REPO / votes), "method": "majority"}, timeout=120)
    assert agg == [json.loads(l) for l in cli_json("aggregate", votes, "--method", "majority").splitlines()]
    assert len(agg) == 50
