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
* ``schulze``: out-degree of ``beat_path_defeat(prof)`` (how many candidates each defeats by strongest
  paths), with ``beat_path(prof, algorithm="floyd_warshall")`` as ``schulze_winners``;
* ``kemeny``: every Kemeny–Young ranking (maximal sum of ``prof.margin`` over ordered pairs, enumerated
  over all permutations exactly as pref_voting's ``kemeny_young(..., algorithm="marginal")``), the winners of
  ``kemeny_young(prof)``, and, for profiles of linear orders, ``kemeny_young_rankings`` of the equivalent
  ``Profile`` (Kendall-τ distance) with its minimal distance.

Usage::

    pip install pref_voting==1.18.2
    python3 scripts/reference/make_social_choice_fixture.py

Seeded: the output is reproducible.
"""

import json
import os
import random
from itertools import permutations

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
    ref["schulze"] = {c: defeats.out_degree(c) for c in names}
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


def main():
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
