import Foundation
import JudgePanelCore
import JudgeStats

/// Combines one judge's votes on one item: samples by majority (or mean), then the two orders under the flip policy.
/// The pairwise and pointwise rules themselves are ``PairwiseSamples``, ``PairwiseRule`` and ``PointwiseSamples``
/// (ReconcileRules.swift), which the votes-file digest and the compact columns call too.
package enum Reconcile {
    /// Reconciles the votes of one judge on one item (all orders and samples).
    ///
    /// Pairwise: each order's samples are combined by strict majority; if both orders answered and disagree,
    /// the judge flipped and counts as a tie (`flip: tie`) or abstains (`flip: abstain`); if only one order
    /// answered, that order stands. Pointwise: the mean of the answered samples. Checklist: the pass ratio
    /// (YES over answered questions), per response; a pairwise item gets the verdict whose pass ratio is higher
    /// by more than `tieMargin`.
    package static func judge(_ votes: [Vote], kind: JudgingProtocol, flip: FlipPolicy, tieMargin: Double = 0.05)
        -> JudgeVerdict
    {
        switch kind {
        case .pairwise:
            var samples = PairwiseSamples()
            for v in votes { samples.add(v) }
            var out = samples.verdict(flip: flip)
            let probs = votes.compactMap(\.probs)
            if !probs.isEmpty {
                let pa = probs.map { $0["A"] ?? 0 }.reduce(0, +) / Double(probs.count)
                let pb = probs.map { $0["B"] ?? 0 }.reduce(0, +) / Double(probs.count)
                out.probVerdict = abs(pa - pb) < 1e-9 ? .tie : (pa > pb ? .a : .b)
            }
            return out
        case .pointwise:
            var samples = PointwiseSamples()
            for v in votes { samples.add(status: v.status, score: v.score) }
            var out = JudgeVerdict(score: samples.mean)
            let es = votes.compactMap(\.expectedScore)
            if !es.isEmpty { out.expectedScore = es.reduce(0, +) / Double(es.count) }
            return out
        case .checklist:
            let ok = votes.filter(\.isOK)
            func ratio(_ vs: [Vote]) -> Double? {
                var yes = 0
                var answered = 0
                for v in vs {
                    for c in v.checks ?? [] {
                        if let c {
                            answered += 1
                            if c { yes += 1 }
                        }
                    }
                }
                return answered == 0 ? nil : Double(yes) / Double(answered)
            }
            let sides = Set(ok.compactMap(\.side))
            if sides.isEmpty { return JudgeVerdict(score: ratio(ok)) }
            guard let ra = ratio(ok.filter { $0.side == .a }), let rb = ratio(ok.filter { $0.side == .b }) else {
                return JudgeVerdict()
            }
            let v: Preference = abs(ra - rb) <= tieMargin ? .tie : (ra > rb ? .a : .b)
            return JudgeVerdict(verdict: v, score: ra - rb)
        }
    }

    /// Strict majority of preferences: the most frequent wins; a tie at the top is a tie; none is nil.
    package static func majority(_ prefs: [Preference], weights: [Double]? = nil) -> Preference? {
        Preference.majority(prefs, weights: weights)
    }
}

extension Reconcile {
    /// Every judge's reconciled verdict per item, `verdicts[judge][item]`: judges in `judgeOrder`, then in order
    /// of first vote; the protocol is `kind`, else read from the votes.
    package static func table(
        items: [Item], votes: [Vote], judgeOrder: [String] = [], kind given: JudgingProtocol? = nil, flip: FlipPolicy,
        tieMargin: Double = 0.05
    ) -> (judges: [String], kind: JudgingProtocol, verdicts: [[JudgeVerdict]]) {
        var order = judgeOrder
        var seen = Set(order)
        for v in votes where !seen.contains(v.judge) {
            seen.insert(v.judge)
            order.append(v.judge)
        }
        let present = Set(votes.map(\.judge))
        let judges = order.filter { present.contains($0) }
        let kind: JudgingProtocol =
            given ?? votes.first(where: { $0.checks != nil })?.protocol
            ?? (votes.contains { $0.verdict != nil }
                ? .pairwise : (votes.contains { $0.score != nil } ? .pointwise : .pairwise))
        let itemIndex = Dictionary(items.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
        let judgeIndex = Dictionary(uniqueKeysWithValues: judges.enumerated().map { ($1, $0) })
        var grouped = [[[Vote]]](repeating: [[Vote]](repeating: [], count: items.count), count: judges.count)
        for v in votes {
            guard let i = itemIndex[v.item], let j = judgeIndex[v.judge] else { continue }
            grouped[j][i].append(v)
        }
        let verdicts = grouped.map { perItem in
            perItem.map { Reconcile.judge($0, kind: kind, flip: flip, tieMargin: tieMargin) }
        }
        return (judges, kind, verdicts)
    }
}
