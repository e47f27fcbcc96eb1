import Foundation
import JudgeStats
import Yams

/// When a cascade tier passes an item on to the next tier (`escalate:` in the panel file).
public struct EscalationRule: Sendable, Hashable, Codable {
    /// Escalate when the tier's leading verdict holds less than this share of the tier's judge weight
    /// (abstaining judges count in the total, so an abstention never makes a tier more sure).
    public var minShare: Double
    /// Escalate when any judge of the tier gave different verdicts in the two orders.
    public var onFlip: Bool
    /// Escalate when a judge's probability margin |P(A) − P(B)| (from log-probabilities, averaged over its votes
    /// that carry them) is below this; judges without probabilities are held to the other criteria only.
    public var minMargin: Double?

    /// Creates a rule; the defaults escalate split and order-flipped tiers.
    public init(minShare: Double = 0.75, onFlip: Bool = true, minMargin: Double? = nil) {
        self.minShare = minShare
        self.onFlip = onFlip
        self.minMargin = minMargin
    }

    enum CodingKeys: String, CodingKey {
        case minShare = "min_share"
        case onFlip = "on_flip"
        case minMargin = "min_margin"
    }
}

/// A cascade: the tiers (judge indices, panel order within a tier) are asked one at a time, every judge of a
/// tier with all its calls at once; an item stops at the first tier that is sure of it (``EscalationRule``),
/// and the last tier always decides. The item's verdict is the deciding tier's aggregate.
struct CascadeRule: CallScheduler {
    var tiers: [[Int]]
    /// Per judge (panel order).
    var weights: [Double]
    var swap: Bool
    var flip: FlipPolicy
    var rule: EscalationRule

    init(tiers: [[Int]], weights: [Double], swap: Bool, flip: FlipPolicy, rule: EscalationRule) {
        self.tiers = tiers
        self.weights = weights
        self.swap = swap
        self.flip = flip
        self.rule = rule
    }

    /// The panel's tiers; a panel without `tiers:` is one tier of every judge.
    init(panel: Panel, method: AggregationMethod, flip: FlipPolicy) {
        let index = Dictionary(uniqueKeysWithValues: panel.judges.enumerated().map { ($1.name, $0) })
        let tiers = panel.tiers.map { $0.map { $0.compactMap { index[$0] } } } ?? [Array(panel.judges.indices)]
        self.init(
            tiers: tiers, weights: panel.judges.map { method == .weighted ? $0.weight : 1 }, swap: panel.swap, flip: flip,
            rule: panel.escalate)
    }

    func complete(_ tier: [Int], _ asked: [AskedJudge]) -> Bool {
        tier.allSatisfy { asked[$0].ab != nil && (!swap || asked[$0].ba != nil) }
    }

    func next(_ asked: [AskedJudge]) -> [(judge: Int, order: Order)] {
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

    func aggregated(_ asked: [AskedJudge]) -> [Int]? {
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
            if let v = Reconcile.judge(votes, kind: .pairwise, flip: flip).verdict { tally[v, default: 0] += weights[j] }
        }
        guard total > 0, let top = tally.values.max() else { return false }
        // A tied lead is a split tier.
        guard tally.values.filter({ $0 == top }).count == 1 else { return false }
        return top / total >= rule.minShare - 1e-12
    }

    /// |P(A) − P(B)| averaged over the votes that carry probabilities; nil when none does.
    static func margin(_ votes: [Vote]) -> Double? {
        let probs = votes.compactMap(\.probs)
        guard !probs.isEmpty else { return nil }
        return probs.map { abs(($0["A"] ?? 0) - ($0["B"] ?? 0)) }.reduce(0, +) / Double(probs.count)
    }

    /// A judge whose two orders (each the majority of its samples) name different winners.
    static func flipped(ab: [Vote], ba: [Vote]) -> Bool {
        guard let x = Reconcile.majority(ab.filter(\.isOK).compactMap(\.verdict)),
            let y = Reconcile.majority(ba.filter(\.isOK).compactMap(\.verdict))
        else { return false }
        return x != y
    }
}

extension Panel {
    /// Parses `tiers:`, `escalate:` and `adaptive:` of a panel file into `panel` (names checked against its judges).
    static func parseCascade(map: YAMLMap, into panel: inout Panel) throws {
        if let nodes = try map.sequence("tiers") {
            let names = Set(panel.judges.map(\.name))
            var seen = Set<String>()
            var tiers: [[String]] = []
            for node in nodes {
                guard let seq = node.sequence, !seq.isEmpty else {
                    throw JudgePanelError.badInput(
                        "each tier must be a non-empty list of judge names, e.g. tiers: [[small1, small2], [big]]",
                        file: map.file, line: node.mark?.line ?? map.lineOf("tiers"))
                }
                var tier: [String] = []
                for e in seq {
                    guard let name = e.scalar?.string else {
                        throw JudgePanelError.badInput("tier entries must be judge names", file: map.file, line: e.mark?.line)
                    }
                    guard names.contains(name) else {
                        throw JudgePanelError.badInput("tier names unknown judge '\(name)'", file: map.file, line: e.mark?.line)
                    }
                    guard seen.insert(name).inserted else {
                        throw JudgePanelError.badInput("judge '\(name)' is in more than one tier", file: map.file, line: e.mark?.line)
                    }
                    tier.append(name)
                }
                tiers.append(tier)
            }
            if let missing = panel.judges.first(where: { !seen.contains($0.name) }) {
                throw map.error("tiers", "judge '\(missing.name)' is in no tier (every judge belongs to exactly one)")
            }
            panel.tiers = tiers
        }
        if let a = try map.map("adaptive") {
            try a.rejectUnknown(["thresholds", "tolerance"], context: "adaptive")
            var rule = ScoreStopping()
            if let node = a.node("thresholds") {
                let values = node.sequence.map { Array($0) } ?? [node]
                rule.thresholds = try values.map { v in
                    guard let x = v.float ?? v.int.map(Double.init) else {
                        throw JudgePanelError.badInput("adaptive thresholds must be numbers", file: map.file, line: v.mark?.line)
                    }
                    return x
                }
            }
            if let t = try a.double("tolerance") {
                guard t >= 0 else { throw a.error("tolerance", "tolerance must be at least 0") }
                rule.tolerance = t
            }
            guard !rule.thresholds.isEmpty || rule.tolerance != nil else {
                throw map.error("adaptive", "adaptive needs thresholds: [..] and/or tolerance: X")
            }
            panel.scoreStopping = rule
        }
        if let e = try map.map("escalate") {
            try e.rejectUnknown(["min_share", "on_flip", "min_margin"], context: "escalate")
            var rule = EscalationRule()
            if let s = try e.double("min_share") {
                guard s > 0, s <= 1 else { throw e.error("min_share", "min_share must be in (0, 1]") }
                rule.minShare = s
            }
            if let f = try e.bool("on_flip") { rule.onFlip = f }
            if let m = try e.double("min_margin") {
                guard m >= 0, m <= 1 else { throw e.error("min_margin", "min_margin must be in [0, 1]") }
                rule.minMargin = m
            }
            panel.escalate = rule
        }
    }
}
