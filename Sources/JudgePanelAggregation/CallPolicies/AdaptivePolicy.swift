import Foundation
import JudgePanelCore
import JudgeStats

/// Which calls a run makes per item: the whole panel, only those the adaptive stopping rule needs, or the
/// panel's cascade of tiers (`tiers:` in the panel file). Set it in `RunOptions.policy`; the run journals,
/// resumes, caches and writes its votes the same way under every policy.
public enum CallPolicy: String, Sendable, Hashable, Codable, CaseIterable {
    /// Every judge, every order, every sample.
    case full
    /// Pairwise: judges one at a time in panel order until no remaining answer can change the strict majority
    /// (`AdaptiveRunner`). Pointwise, and checklist items with one response (the share of YES answers):
    /// judges one at a time until the remaining ones cannot move the pooled score across a threshold or beyond a
    /// tolerance (``/JudgePanelCore/ScoreStopping``).
    case adaptive
    /// Pairwise: the panel's tiers in order, escalating an item only while its tier is undecided
    /// (`CascadeRule`; the panel's `tiers:` and `escalate:`).
    case cascade
}

/// What has been asked of one judge for one item: the votes of each order (all samples), nil until asked.
package struct AskedJudge: Sendable {
    package var ab: [Vote]?
    package var ba: [Vote]?

    package init(ab: [Vote]? = nil, ba: [Vote]? = nil) {
        self.ab = ab
        self.ba = ba
    }

    package subscript(order: Order) -> [Vote]? {
        get { order == .ab ? ab : ba }
        set { if order == .ab { ab = newValue } else { ba = newValue } }
    }
}

/// A call scheduler as a pure state machine: given what has been asked of an item so far, the next calls to make
/// (each a judge and an order, all its samples; for pointwise rubrics `.ab` stands for the judge's calls), or none
/// when the item is decided. The live run
/// (``PanelRunner``) and the offline replay (``PanelPlan``) drive the same scheduler, so a replay over recorded
/// votes makes exactly the calls and verdicts a live run makes.
package protocol CallScheduler: Sendable {
    func next(_ asked: [AskedJudge]) -> [(judge: Int, order: Order)]
    /// The judges whose verdicts make the item's verdict once scheduling is done; nil for every judge heard.
    func aggregated(_ asked: [AskedJudge]) -> [Int]?
}

extension CallScheduler {
    package func aggregated(_ asked: [AskedJudge]) -> [Int]? { nil }
}

/// One item's votes under a scheduling policy (plan order) and the judges its verdict aggregates.
package struct ScheduledItem: Sendable {
    package var votes: [Vote]
    /// Judge indices whose verdicts are aggregated; nil for every judge heard.
    package var aggregated: [Int]?

    /// A value from its parts.
    package init(votes: [Vote], aggregated: [Int]? = nil) {
        self.votes = votes
        self.aggregated = aggregated
    }
}

/// The adaptive stopping rule of `AdaptiveRunner` as a scheduler: one call at a time.
package struct AdaptiveStopping: CallScheduler {
    /// Per judge (panel order): its weight in the majority (1 unless the method is `weighted`).
    package var weights: [Double]
    package var swap: Bool
    package var flip: FlipPolicy

    package init(weights: [Double], swap: Bool, flip: FlipPolicy) {
        self.weights = weights
        self.swap = swap
        self.flip = flip
    }

    package init(panel: Panel, method: AggregationMethod, flip: FlipPolicy) {
        self.init(weights: panel.judges.map { method == .weighted ? $0.weight : 1 }, swap: panel.swap, flip: flip)
    }

    package func next(_ asked: [AskedJudge]) -> [(judge: Int, order: Order)] {
        let n = weights.count
        let exact = (0..<n).map { Self.possible(ab: asked[$0].ab, ba: asked[$0].ba, swap: swap, flip: flip) }
        if Self.decided(exact, weights: weights) != nil { return [] }
        // Phase 1 view: first-order answers at face value.
        let optimistic = (0..<n).map { j -> Set<String> in
            guard let a = asked[j].ab, asked[j].ba == nil, swap else { return exact[j] }
            let x = Reconcile.majority(a.filter(\.isOK).compactMap(\.verdict))
            return x.map { [$0.rawValue] } ?? exact[j]
        }
        let unasked = (0..<n).first { asked[$0].ab == nil }
        if Self.decided(optimistic, weights: weights) == nil, let j = unasked { return [(j, .ab)] }
        if swap {
            let pending = (0..<n).filter { asked[$0].ab != nil && asked[$0].ba == nil }
            if !pending.isEmpty {
                // The leading bloc first: the judges whose flip could cost the leader its majority.
                var tally: [String: Double] = [:]
                for j in 0..<n where optimistic[j].count == 1 { tally[optimistic[j].first!, default: 0] += weights[j] }
                let leader = tally.filter { $0.key != "-" }.max {
                    $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key)
                }?.key
                let j = pending.first { optimistic[$0] == [leader ?? ""] } ?? pending[0]
                return [(j, .ba)]
            }
        }
        if let j = unasked { return [(j, .ab)] }
        return []
    }
}

extension CallPolicy {
    /// The scheduler of this policy for a panel and rubric, or nil when the run makes every call.
    package func scheduler(panel: Panel, rubric: Rubric, method: AggregationMethod, flip: FlipPolicy) -> (
        any CallScheduler
    )? {
        switch (self, rubric.kind) {
        case (.full, _): nil
        case (.adaptive, .pairwise): AdaptiveStopping(panel: panel, method: method, flip: flip)
        case (.cascade, .pairwise): CascadeRule(panel: panel, method: method, flip: flip)
        case (.adaptive, .pointwise), (.adaptive, .checklist):
            PointwiseStopping(panel: panel, rubric: rubric, method: method)
        default: nil
        }
    }
}

/// The pointwise stopping rule: judges one at a time in panel order; after each, the pooled score is bounded by
/// pooling the judges heard with every remaining judge at the scale's minimum, and at its maximum (`mean`,
/// `weighted` and `median` pooling only move monotonically with each score, and a remaining judge that abstains
/// keeps the pool inside those bounds too). The item stops when the bounds sit on one side of every threshold
/// and no further apart than the tolerance. Checklist items score in [0, 1]; a pairwise checklist item (both
/// responses graded) has a preference, not a pooled score, and runs the full panel.
struct PointwiseStopping: CallScheduler {
    package var kind: JudgingProtocol
    package var names: [String]
    package var aggregator: Aggregator
    package var low: Double
    package var high: Double
    package var rule: ScoreStopping
    package var tieMargin: Double

    package init?(panel: Panel, rubric: Rubric, method: AggregationMethod) {
        guard let rule = panel.scoreStopping, ScoreStopping.poolingMethods.contains(method) else { return nil }
        if rubric.kind == .checklist {
            (low, high) = (0, 1)
        } else {
            guard let scale = rubric.scale else { return nil }
            (low, high) = (Double(scale.min), Double(scale.max))
        }
        kind = rubric.kind
        names = panel.judges.map(\.name)
        aggregator = Aggregator(
            method: method, weights: Dictionary(uniqueKeysWithValues: panel.judges.map { ($0.name, $0.weight) }))
        self.rule = rule
        tieMargin = rubric.checklist?.tieMargin ?? 0.05
    }

    package func next(_ asked: [AskedJudge]) -> [(judge: Int, order: Order)] {
        guard let unasked = asked.indices.first(where: { asked[$0].ab == nil }) else { return [] }
        let heard = asked.indices.filter { asked[$0].ab != nil }.map { j in
            (name: names[j], verdict: Reconcile.judge(asked[j].ab!, kind: kind, flip: .tie, tieMargin: tieMargin))
        }
        // A pairwise checklist item pools preferences: no score bounds, every judge is asked.
        guard !heard.contains(where: { $0.verdict.verdict != nil }) else { return [(unasked, .ab)] }
        guard heard.contains(where: { $0.verdict.score != nil }) else { return [(unasked, .ab)] }
        let rest = asked.indices.filter { asked[$0].ab == nil }
        func pooled(_ x: Double) -> Double? {
            aggregator.aggregate(
                item: "", judges: heard + rest.map { (names[$0], JudgeVerdict(score: x)) }, kind: kind
            ).score
        }
        guard let lo = pooled(low), let hi = pooled(high) else { return [(unasked, .ab)] }
        let sided = rule.thresholds.allSatisfy { t in lo >= t || hi < t }
        let tight = rule.tolerance.map { hi - lo <= $0 + 1e-12 } ?? true
        return sided && tight ? [] : [(unasked, .ab)]
    }
}

extension AdaptiveStopping {
    // MARK: - The stopping rule

    /// A judge's possible final verdicts ("A", "B", "tie", or "-" for abstaining) given what has been asked.
    package static func possible(ab: [Vote]?, ba: [Vote]?, swap: Bool, flip: FlipPolicy) -> Set<String> {
        let all: Set<String> = ["A", "B", "tie", "-"]
        func key(_ p: Preference?) -> String { p?.rawValue ?? "-" }
        guard let ab else { return all }
        if !swap || ba != nil {
            return [key(Reconcile.judge(ab + (ba ?? []), kind: .pairwise, flip: flip).verdict)]
        }
        guard let x = Reconcile.majority(ab.filter(\.isOK).compactMap(\.verdict)) else { return all }
        let flipped = flip == .tie ? "tie" : "-"
        return [key(x), x == .tie && flip == .tie ? "tie" : flipped]
    }

    /// The verdict no remaining answer can change, if any: its guaranteed weight beats every rival's maximum.
    package static func decided(_ sets: [Set<String>], weights: [Double]) -> String? {
        for p in ["A", "B", "tie"] {
            let guaranteed = zip(sets, weights).filter { $0.0 == [p] }.map(\.1).reduce(0, +)
            guard guaranteed > 0 else { continue }
            let beaten = ["A", "B", "tie"].filter { $0 != p }.allSatisfy { q in
                zip(sets, weights).filter { $0.0.contains(q) }.map(\.1).reduce(0, +) < guaranteed - 1e-12
            }
            if beaten { return p }
        }
        return nil
    }
}
