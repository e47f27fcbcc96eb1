import Foundation
import JudgePanelCore
import JudgeStats
import Yams

/// A cascade: the tiers (judge indices, panel order within a tier) are asked one at a time, every judge of a
/// tier with all its calls at once; an item stops at the first tier that is sure of it (``EscalationRule``),
/// and the last tier always decides. The item's verdict is the deciding tier's aggregate.
package struct CascadeRule: CallScheduler {
    package var tiers: [[Int]]
    /// Per judge (panel order).
    package var weights: [Double]
    package var swap: Bool
    package var flip: FlipPolicy
    package var rule: EscalationRule

    package init(tiers: [[Int]], weights: [Double], swap: Bool, flip: FlipPolicy, rule: EscalationRule) {
        self.tiers = tiers
        self.weights = weights
        self.swap = swap
        self.flip = flip
        self.rule = rule
    }

    /// The panel's tiers; a panel without `tiers:` is one tier of every judge.
    package init(panel: Panel, method: AggregationMethod, flip: FlipPolicy) {
        let index = Dictionary(uniqueKeysWithValues: panel.judges.enumerated().map { ($1.name, $0) })
        let tiers = panel.tiers.map { $0.map { $0.compactMap { index[$0] } } } ?? [Array(panel.judges.indices)]
        self.init(
            tiers: tiers, weights: panel.judges.map { method == .weighted ? $0.weight : 1 }, swap: panel.swap,
            flip: flip,
            rule: panel.escalate)
    }

    package func complete(_ tier: [Int], _ asked: [AskedJudge]) -> Bool {
        tier.allSatisfy { asked[$0].ab != nil && (!swap || asked[$0].ba != nil) }
    }

    package func next(_ asked: [AskedJudge]) -> [(judge: Int, order: Order)] {
        for (t, tier) in tiers.enumerated() {
            if !complete(tier, asked) {
                return tier.flatMap { j in
                    ([Order.ab] + (swap ? [.ba] : [])).filter { asked[j][$0] == nil }.map { (j, $0) }
                }
            }
            if t == tiers.count - 1 || isSure(tier, asked) { return [] }
        }
        return []
    }

    /// The tier that decided the item: the last tier asked (nil before any tier finished).
    func decidingTier(_ asked: [AskedJudge]) -> Int? {
        tiers.lastIndex { complete($0, asked) }
    }

    package func aggregated(_ asked: [AskedJudge]) -> [Int]? {
        decidingTier(asked).map { tiers[$0] }
    }

    /// Whether a finished tier keeps the item: no flip (when that escalates) and a leading verdict with at least
    /// `minShare` of the tier's weight.
    func isSure(_ tier: [Int], _ asked: [AskedJudge]) -> Bool {
        var tally: [Preference: Double] = [:]
        var total = 0.0
        for j in tier {
            let votes = (asked[j].ab ?? []) + (asked[j].ba ?? [])
            if rule.onFlip, swap, Self.flipped(ab: asked[j].ab ?? [], ba: asked[j].ba ?? []) { return false }
            if let m = rule.minMargin, let margin = Self.margin(votes), margin < m - 1e-12 { return false }
            total += weights[j]
            if let v = Reconcile.judge(votes, kind: .pairwise, flip: flip).verdict {
                tally[v, default: 0] += weights[j]
            }
        }
        guard total > 0, let top = tally.values.max() else { return false }
        // A tied lead is a split tier.
        guard tally.values.filter({ $0 == top }).count == 1 else { return false }
        return top / total >= rule.minShare - 1e-12
    }

    /// |P(A) − P(B)| averaged over the votes that carry probabilities; nil when none does.
    package static func margin(_ votes: [Vote]) -> Double? {
        let probs = votes.compactMap(\.probs)
        guard !probs.isEmpty else { return nil }
        return probs.map { abs(($0["A"] ?? 0) - ($0["B"] ?? 0)) }.reduce(0, +) / Double(probs.count)
    }

    /// A judge whose two orders (each the majority of its samples) name different winners.
    package static func flipped(ab: [Vote], ba: [Vote]) -> Bool {
        guard let x = Reconcile.majority(ab.filter(\.isOK).compactMap(\.verdict)),
            let y = Reconcile.majority(ba.filter(\.isOK).compactMap(\.verdict))
        else { return false }
        return x != y
    }
}
