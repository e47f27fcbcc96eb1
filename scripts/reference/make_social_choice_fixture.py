#!/usr/bin/env python3
"""Reference values for `judgepanel rank --by KEY --rule M` (JudgeStats `SocialChoice`), from pref_voting.

Writes Tests/JudgeStatsTests/Fixtures/social_choice.json: a list of profiles, each a list of ballots
``{"tiers": [[name, ...], ...], "weight": int}`` (best tier first; every candidate ranked, ties within a tier,
as judgepanel builds them from slice rankings: models without comparisons in a slice share the last tier),
and per rule the scores pref_voting 1.18 computes on the same ``ProfileWithTies``:

* ``plurality``: ``prof.tops_scores(score_type="split")`` (the top tier shares the voter's weight; equals
  ``plurality_scores`` when no ballot has a tied top, which ``plurality_scores`` refuses);
* ``borda``: ``prof.borda_scores()`` (``symmetric_borda_scores``: ranked below minus ranked above);
* ``copeland``: ``prof.copeland_scores()`` (scores (1, 0, -1) on the margins);
* ``minimax``: ``minimax_scores(prof, score_method="margins")``;
* ``schulze``: minus the in-degree of ``beat_path_defeat(prof)`` (minus how many candidates defeat it by
  strongest paths; 0 exactly for the beat-path winners), with ``beat_path(prof, algorithm="floyd_warshall")`` as ``schulze_winners``;
* ``kemeny``: every Kemeny–Young ranking (maximal sum of ``prof.margin`` over ordered pairs, enumerated
  over all permutations exactly as pref_voting's ``kemeny_young(..., algorithm="marginal")``), the winners of
  ``kemeny_young(prof)``, and, for profiles of linear orders, ``kemeny_young_rankings`` of the equivalent
  ``Profile`` (Kendall-τ distance) with its minimal distance.

It also writes the end-to-end case of ``rank --by capability --rule M --json`` (AggregateRankTests):
fixtures/reference/rank-slices-items.jsonl (pairwise items of 5 models with ``meta.capability`` and
``meta.prompt_group``), rank-slices-votes.jsonl (one recorded judge, one vote per item, so the panel verdict is
that vote) and rank-slices-expected.json: per capability the choix 0.4.1 Bradley–Terry strengths (ties as half
wins: every decisive comparison twice, every tie one win each way, ``alpha = 2 * 0.01``, centred; fitted over
the models compared in that slice), the ballot judgepanel builds from them (tiers of strengths within 1e-9,
models not compared in the slice in a last tier), and per rule, with weight 1 and with slice-size weights, the
pref_voting scores and the documented order (score descending, then name; Kemeny: the first optimal ranking
by name).

Usage::

    pip install pref_voting==1.18.2 choix==0.4.1
    python3 scripts/reference/make_social_choice_fixture.py

Seeded: the output is reproducible.
"""

import json
import os
import random
from itertools import permutations

import choix

from pref_voting.margin_based_methods import beat_path, beat_path_defeat, minimax_scores
from pref_voting.other_methods import kemeny_young, kemeny_young_rankings
from pref_voting.profiles import Profile
from pref_voting.profiles_with_ties import ProfileWithTies

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Tests", "JudgeStatsTests", "Fixtures", "social_choice.json")


def random_profile(rng, n_cands, n_voters, tie_prob, weighted):
    names = rng.sample(["gpt-4", "claude", "llama-7b", "opt-7b", "bloom-7b", "pythia", "alpaca", "vicuna",
                        "zeta", "Mistral"], n_cands)
    ballots = []
    for _ in range(n_voters):
        order = names[:]
        rng.shuffle(order)
        tiers = [[order[0]]]
        for c in order[1:]:
            if rng.random() < tie_prob:
                tiers[-1].append(c)
            else:
                tiers.append([c])
        ballots.append({"tiers": tiers, "weight": rng.randint(1, 40) if weighted else 1})
    return names, ballots


def hand_profiles():
    # A Condorcet cycle (Kemeny and Schulze ties, broken by name), a unanimous profile, a tied top.
    cyc = ["a", "b", "c"]
    yield "condorcet cycle", cyc, [
        {"tiers": [["a"], ["b"], ["c"]], "weight": 1},
        {"tiers": [["b"], ["c"], ["a"]], "weight": 1},
        {"tiers": [["c"], ["a"], ["b"]], "weight": 1},
    ]
    yield "unanimous", ["x", "y", "z", "w"], [{"tiers": [["y"], ["x"], ["w"], ["z"]], "weight": 3}]
    yield "tied tops and bottoms", ["p", "q", "r", "s"], [
        {"tiers": [["p", "q"], ["r"], ["s"]], "weight": 2},
        {"tiers": [["r"], ["s"], ["p", "q"]], "weight": 1},
        {"tiers": [["q"], ["p", "r", "s"]], "weight": 1},
    ]
    # Vote'n'Rank-style: plurality and Borda disagree.
    yield "plurality vs borda", ["m1", "m2", "m3"], [
        {"tiers": [["m1"], ["m3"], ["m2"]], "weight": 3},
        {"tiers": [["m2"], ["m3"], ["m1"]], "weight": 2},
        {"tiers": [["m3"], ["m2"], ["m1"]], "weight": 1},
    ]


def reference(names, ballots):
    prof = ProfileWithTies(
        [{c: k for k, tier in enumerate(b["tiers"]) for c in tier} for b in ballots],
        rcounts=[b["weight"] for b in ballots],
        candidates=names,
    )
    ref = {
        "plurality": prof.tops_scores(score_type="split"),
        "borda": prof.borda_scores(),
        "copeland": prof.copeland_scores(),
        "minimax": minimax_scores(prof, score_method="margins"),
    }
    defeats = beat_path_defeat(prof)
    ref["schulze"] = {c: -defeats.in_degree(c) for c in names}
    ref["schulze_winners"] = list(beat_path(prof, algorithm="floyd_warshall"))
    best, rankings = None, []
    for r in permutations(names):
        s = sum(prof.margin(r[i], r[j]) for i in range(len(r)) for j in range(i + 1, len(r)))
        if best is None or s > best:
            best, rankings = s, [list(r)]
        elif s == best:
            rankings.append(list(r))
    ref["kemeny_rankings"] = sorted(rankings)
    ref["kemeny_margin_sum"] = best
    ref["kemeny_winners"] = list(kemeny_young(prof))
    if all(len(t) == 1 for b in ballots for t in b["tiers"]):
        idx = {c: i for i, c in enumerate(names)}
        lin = Profile([[idx[t[0]] for t in b["tiers"]] for b in ballots], rcounts=[b["weight"] for b in ballots])
        kyr, dist = kemeny_young_rankings(lin)
        ref["kemeny_rankings_kendall"] = sorted([[names[i] for i in r] for r in kyr])
        ref["kemeny_distance"] = float(dist)
    for k in ("plurality", "borda", "copeland", "minimax", "schulze"):
        ref[k] = {c: float(v) for c, v in ref[k].items()}
    return ref


MODELS = ["m-alpha", "m-beta", "m-gamma", "m-delta", "m-eps"]
SKILL = {  # per capability, each model's log-strength used to simulate verdicts
    "coding": [1.2, 0.4, 0.0, -0.5, -1.0],
    "math": [-0.6, 1.0, 0.3, 0.2, -0.8],
    "writing": [0.2, -0.3, 1.1, 0.0, -0.9],
    "roleplay": [0.0, 0.5, -0.2, 0.9, None],  # m-eps never compared here: last tier of the ballot
    "trivia": [0.8, 0.1, 0.6, -0.2, 0.3],
}


def order_by_score(scores):
    return sorted(scores, key=lambda c: (-scores[c], c))


def slice_case():
    rng = random.Random(4242)
    items, votes = [], []
    n = 0
    for cap, skill in SKILL.items():
        present = [m for m, s in zip(MODELS, skill) if s is not None]
        for k in range(rng.randint(28, 60)):
            a, b = rng.sample(present, 2)
            sa, sb = skill[MODELS.index(a)], skill[MODELS.index(b)]
            p_a = 1 / (1 + 2.718281828459045 ** (sb - sa))
            u = rng.random()
            verdict = "tie" if u < 0.12 else ("A" if rng.random() < p_a else "B")
            iid = f"{cap}-{k:03d}"
            items.append({"id": iid, "prompt": f"{cap} question {k}", "response_a": "x", "response_b": "y",
                          "model_a": a, "model_b": b,
                          "meta": {"capability": cap, "prompt_group": f"{cap}-g{k // 4}"}})
            votes.append({"item": iid, "judge": "recorded", "order": "AB", "verdict": verdict})
            n += 1
    # A slice with an exact tie: m-alpha and m-beta beat each other once, both beat m-gamma.
    for k, (a, b, v) in enumerate([("m-alpha", "m-beta", "A"), ("m-beta", "m-alpha", "A"),
                                    ("m-alpha", "m-gamma", "A"), ("m-beta", "m-gamma", "A")]):
        iid = f"tied-{k:03d}"
        items.append({"id": iid, "prompt": f"tied question {k}", "response_a": "x", "response_b": "y",
                      "model_a": a, "model_b": b, "meta": {"capability": "tied", "prompt_group": "tied-g0"}})
        votes.append({"item": iid, "judge": "recorded", "order": "AB", "verdict": v})
    slices = {}
    for cap in sorted({it["meta"]["capability"] for it in items}):
        index = {}
        doubled = []
        n_items = 0
        for it, v in zip(items, votes):
            if it["meta"]["capability"] != cap:
                continue
            n_items += 1
            for m in (it["model_a"], it["model_b"]):
                index.setdefault(m, len(index))
            a, b = index[it["model_a"]], index[it["model_b"]]
            out = v["verdict"]
            doubled += [(a, b), (a, b)] if out == "A" else ([(b, a), (b, a)] if out == "B" else [(a, b), (b, a)])
        p = choix.ilsr_pairwise(len(index), doubled, alpha=2 * 0.01, max_iter=10000, tol=1e-14)
        p = p - p.mean()
        strength = {m: float(p[i]) for m, i in index.items()}
        ranked = sorted(strength, key=lambda m: -strength[m])
        tiers = []
        for m in ranked:
            if tiers and abs(strength[tiers[-1][-1]] - strength[m]) <= 1e-9:
                tiers[-1].append(m)
            else:
                tiers.append([m])
        absent = [m for m in sorted(MODELS) if m not in strength]
        if absent:
            tiers.append(absent)
        slices[cap] = {"strength": strength, "tiers": tiers, "n_items": n_items}
    expected = {"slices": slices, "rules": {}}
    for weighted in (False, True):
        ballots = [{"tiers": s["tiers"], "weight": s["n_items"] if weighted else 1} for s in slices.values()]
        ref = reference(sorted(MODELS), ballots)
        out = {}
        for rule in ("plurality", "borda", "copeland", "minimax", "schulze"):
            out[rule] = {"scores": ref[rule], "order": order_by_score(ref[rule])}
        ky = ref["kemeny_rankings"][0]
        out["kemeny"] = {"scores": {m: float(len(ky) - 1 - k) for k, m in enumerate(ky)}, "order": ky,
                         "all_optimal": ref["kemeny_rankings"]}
        expected["rules"]["weighted" if weighted else "unweighted"] = out
    ref_dir = os.path.join(ROOT, "fixtures", "reference")
    with open(os.path.join(ref_dir, "rank-slices-items.jsonl"), "w") as f:
        for it in items:
            f.write(json.dumps(it, sort_keys=True) + "\n")
    with open(os.path.join(ref_dir, "rank-slices-votes.jsonl"), "w") as f:
        for v in votes:
            f.write(json.dumps(v, sort_keys=True) + "\n")
    with open(os.path.join(ref_dir, "rank-slices-expected.json"), "w") as f:
        json.dump({"generator": "choix 0.4.1 + pref_voting 1.18.2", **expected}, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"wrote fixtures/reference/rank-slices-*: {len(items)} items, {len(slices)} capabilities")


def main():
    slice_case()
    rng = random.Random(20261129)
    profiles = []
    for name, names, ballots in hand_profiles():
        profiles.append({"name": name, "candidates": names, "ballots": ballots, "expected": reference(names, ballots)})
    specs = [(3, 5, 0.0, False), (4, 7, 0.0, True), (5, 9, 0.2, False), (5, 6, 0.3, True), (6, 11, 0.15, True),
             (7, 8, 0.1, False), (8, 12, 0.25, True), (6, 4, 0.5, False), (4, 2, 0.0, False)]
    for i, (n, v, tie, weighted) in enumerate(specs):
        names, ballots = random_profile(rng, n, v, tie, weighted)
        profiles.append({"name": f"random {i}: {n} candidates, {v} voters, ties {tie}, weighted {weighted}",
                         "candidates": names, "ballots": ballots, "expected": reference(names, ballots)})
    with open(OUT, "w") as f:
        json.dump({"generator": "pref_voting 1.18.2", "profiles": profiles}, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"wrote {OUT}: {len(profiles)} profiles")


if __name__ == "__main__":
    main()
