#!/usr/bin/env python3
"""The last words of scripts/demo-local.sh: what the demo's own numbers say, in plain language.

    python3 scripts/demo_reading.py ITEMS LOCAL_META_JSON RECORDED_META_JSON

LOCAL_META_JSON is `judgepanel meta ITEMS --votes RUN/votes.jsonl --json` (the local judges, both orders),
RECORDED_META_JSON the same on the recorded votes alone (gpt-3.5-turbo and PandaLM-7B, one order each).
"""
import json
import sys


def pct(x):
    return f"{100 * x:.0f} %"


def ci(j, key):
    c = j.get(key + "_ci")
    return f" [{c[0]:.2f}, {c[1]:.2f}]" if isinstance(c, list) and len(c) == 2 else ""


def main():
    items_path, local_path, recorded_path = sys.argv[1:4]
    labels = [json.loads(line).get("label") for line in open(items_path) if line.strip()]
    ties = sum(1 for x in labels if x == "tie")
    n = len(labels)
    local = json.load(open(local_path))
    recorded = json.load(open(recorded_path))
    print("What this says, in plain words:")
    for j in local["judges"]:
        name, acc = j["judge"], j.get("accuracy")
        first, consistent = j.get("first_slot_rate"), j.get("position_consistency")
        if first is not None and first >= 0.9 and consistent is not None and consistent <= 0.1:
            print(f"- {name} named the answer in the first slot {pct(first)} of the time, whichever answer was there. "
                  f"Asked both orders, it chose A, then (swapped) the other answer: its verdict flipped on "
                  f"{pct(1 - consistent)} of the pairs, and a flipped pair counts as a tie (flip: tie). So its "
                  f"accuracy, {acc:.2f}{ci(j, 'accuracy')}, is just the share of pairs the humans called a tie "
                  f"({ties} of {n} = {ties / n:.2f}). That is position bias, not judgement: it never compared the answers.")
        else:
            extra = f"; it kept its verdict across the two orders on {pct(consistent)} of the pairs" if consistent is not None else ""
            print(f"- {name} agreed with the human majority on {acc:.2f}{ci(j, 'accuracy')} of the pairs{extra}"
                  + (f" and named the first slot {pct(first)} of the time." if first is not None else "."))
    panel = local.get("panel") or {}
    biased = all((j.get("first_slot_rate") or 0) >= 0.9 for j in local["judges"])
    if panel.get("accuracy") is not None:
        print(f"- Their panel: accuracy {panel['accuracy']:.2f}{ci(panel, 'accuracy')}"
              + (": judges that all pick slot one make a panel that does the same." if biased else "."))
    rec = ", ".join(f"{j['judge']} {j['accuracy']:.2f}{ci(j, 'accuracy')}" for j in recorded["judges"])
    rp = recorded.get("panel") or {}
    print(f"- The recorded judges, on the same {n} pairs: accuracy {rec}"
          + (f"; their panel {rp['accuracy']:.2f}{ci(rp, 'accuracy')}" if rp.get("accuracy") is not None else "")
          + ". They read the answers: well above the tie share, with CIs this wide on 50 items.")
    print("- Take-away: a judge is worth what its agreement with humans says, measured in both orders; a number "
          "like 0.14 from judges this small measures their bias, which is what judgepanel is for finding.")


if __name__ == "__main__":
    main()
