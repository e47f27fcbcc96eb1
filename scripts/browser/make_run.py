#!/usr/bin/env python3
"""Writes a synthetic pairwise run directory for the `judgepanel ui` browser test and benchmark.

usage: make_run.py DIR N_ITEMS [--judges 3] [--hostile]
DIR/items.jsonl, DIR/run/{config.json,votes.jsonl,verdicts.jsonl}. Each item's response_a starts with
"ANSWER-A <id>" and response_b with "ANSWER-B <id>", so a test can tell from the page which candidate was shown
first. Model names are "secret-model-x"/"secret-model-y", judges "judge-alpha", ... — names a blind page must not show.
With --hostile the first item's candidates carry HTML that would run script if it were ever parsed as HTML.
"""
import json
import os
import random
import sys


def main():
    args = sys.argv[1:]
    judges = 3
    hostile = "--hostile" in args
    if hostile:
        args.remove("--hostile")
    if "--judges" in args:
        i = args.index("--judges")
        judges = int(args[i + 1])
        del args[i:i + 2]
    out, n = args[0], int(args[1])
    names = ["judge-alpha", "judge-beta", "judge-gamma", "judge-delta", "judge-epsilon"][:judges]
    rng = random.Random(1)
    os.makedirs(os.path.join(out, "run"), exist_ok=True)
    items_path = os.path.abspath(os.path.join(out, "items.jsonl"))
    topics = ["math", "code", "writing", "chat"]
    with open(items_path, "w") as fi, open(os.path.join(out, "run", "votes.jsonl"), "w") as fv, \
            open(os.path.join(out, "run", "verdicts.jsonl"), "w") as fd:
        for k in range(n):
            iid = "item-%06d" % k
            a = "ANSWER-A %s: the first candidate answer, with some text to search (lorem ipsum %d)." % (iid, k)
            b = "ANSWER-B %s: the second candidate answer." % iid
            if hostile and k == 0:
                a += ' <img src=x onerror="document.title=\'PWNED\'"><script>document.title=\'PWNED\'</script>'
                b += ' <b onmouseover="document.title=\'PWNED\'">bold?</b>'
            label = rng.choice(["A", "B", "tie"])
            fi.write(json.dumps({"id": iid, "prompt": "Question %d: which is better?" % k, "response_a": a,
                                 "response_b": b, "model_a": "secret-model-x", "model_b": "secret-model-y",
                                 "label": label, "meta": {"topic": topics[k % 4]}}) + "\n")
            rec = {}
            flips = []
            for j in names:
                pair = []
                for order in ("AB", "BA"):
                    if rng.random() < 0.03:
                        fv.write(json.dumps({"item": iid, "judge": j, "protocol": "pairwise", "order": order,
                                             "sample": 0, "status": "error", "reason": "timeout",
                                             "error": "timed out"}) + "\n")
                        continue
                    v = label if rng.random() < 0.7 else rng.choice(["A", "B", "tie"])
                    pair.append(v)
                    fv.write(json.dumps({"item": iid, "judge": j, "protocol": "pairwise", "order": order,
                                         "sample": 0, "verdict": v, "status": "ok",
                                         "raw": "Reasoning about %s ... [[%s]]" % (iid, v)}) + "\n")
                if len(pair) == 2 and pair[0] != pair[1]:
                    flips.append(j)
                    rec[j] = "tie"
                else:
                    rec[j] = pair[0] if pair else None
            vals = [v for v in rec.values() if v]
            top = max(set(vals), key=vals.count) if vals else None
            counts = sorted((vals.count(x) for x in set(vals)), reverse=True)
            if len(counts) > 1 and counts[0] == counts[1]:
                top = "tie"
            fd.write(json.dumps({"item": iid, "verdict": top, "judges": rec, "flips": flips, "abstained": []}) + "\n")
    with open(os.path.join(out, "run", "config.json"), "w") as f:
        json.dump({"items": items_path, "rubric": {"id": "pairwise", "protocol": "pairwise"}}, f)


if __name__ == "__main__":
    main()
