import Foundation
import JudgePanelCore
import JudgeStats

/// Combines judges' reconciled verdicts into the panel's verdicts — the one entry point for every
/// ``/JudgePanelCore/AggregationMethod``, Dawid–Skene included.
///
/// ```swift
/// let table = [[JudgeVerdict(verdict: .a), JudgeVerdict(verdict: .b)]]  // [item][judge]
/// let panel = Aggregator(method: .dawidSkene).aggregate(items: ["1"], judges: ["x", "y"], verdicts: table, kind: .pairwise)
/// print(panel.verdicts[0].verdict ?? "abstained", panel.judgeAccuracy)
/// ```
public struct Aggregator: Sendable {
    /// How the judges' verdicts are combined.
    public let method: AggregationMethod
    /// Per-judge weights for `weighted` (default 1).
    public let weights: [String: Double]

    /// The panel's verdicts over a set of items, and what a joint method learned about the judges.
    public struct Result: Sendable {
        /// One verdict per item, in the order of the items given.
        public let verdicts: [Verdict]
        /// Each judge's accuracy as estimated by Dawid–Skene (nil where it could not be estimated); empty for
        /// the per-item methods.
        public let judgeAccuracy: [String: Double?]
    }

    /// Whether the method decides every item from all items at once (`dawid-skene`), so that no verdict is
    /// final before the last item is in.
    public var isJoint: Bool { method == .dawidSkene }

    /// The panel's verdicts for `items` from every judge's reconciled verdict, `verdicts[item][judge]` (judges in
    /// the order of `judges`). Every method goes through here; `dawid-skene` fits the judges' confusion matrices
    /// on all the items.
    public func aggregate(items: [String], judges: [String], verdicts: [[JudgeVerdict]], kind: JudgingProtocol)
        -> Result
    {
        var out: [Verdict] = []
        out.reserveCapacity(items.count)
        let accuracy = panel(
            itemCount: items.count, id: { items[$0] }, judges: judges, verdict: { i, j in verdicts[i][j] }, kind: kind,
            each: { out.append($0) })
        return Result(verdicts: out, judgeAccuracy: accuracy)
    }

    /// The panel over items whose judges' reconciled verdicts are columns (`columns[judge]`, judges in the order of
    /// `judges`): the same rule as ``aggregate(items:judges:verdicts:kind:)`` item by item, with each whole panel
    /// verdict handed to `sink` in item order as it is decided, and only its verdict and score kept.
    package func aggregate(
        itemCount: Int, id: (Int) -> String, judges: [String], columns: [VerdictColumn], kind: JudgingProtocol,
        sink: ((Verdict) throws -> Void)?
    ) rethrows -> (panel: VerdictColumn, judgeAccuracy: [String: Double?]) {
        var out = VerdictColumn()
        out.reserveCapacity(itemCount)
        let accuracy = try panel(
            itemCount: itemCount, id: id, judges: judges, verdict: { i, j in columns[j][i] }, kind: kind,
            each: { v in
                try sink?(v)
                out.append(JudgeVerdict(verdict: v.verdict, score: v.score))
            })
        return (out, accuracy)
    }

    /// Every item's panel verdict, in item order, handed to `body` (`verdict(item, judge)`: a judge's reconciled
    /// verdict). The per-item methods decide each item alone (``aggregate(item:judges:kind:)``); `dawid-skene` first
    /// fits the judges' confusion matrices over all items, then overrides each item's verdict with the fit's.
    /// Returns what the joint method learned about the judges (empty for the per-item methods).
    package func panel(
        itemCount: Int, id: (Int) -> String, judges: [String], verdict: (Int, Int) -> JudgeVerdict,
        kind: JudgingProtocol,
        each body: (Verdict) throws -> Void
    ) rethrows -> [String: Double?] {
        let fit = isJoint ? Self.jointFit(itemCount: itemCount, judges: judges, verdict: verdict) : nil
        for i in 0..<itemCount {
            let row = judges.indices.map { verdict(i, $0) }
            var v = aggregate(item: id(i), judges: judges.indices.map { (judges[$0], row[$0]) }, kind: kind)
            if let fit { fit.apply(to: &v, item: i, row: row) }
            try body(v)
        }
        return fit?.judgeAccuracy(judges) ?? [:]
    }

    /// Finishes a run's item results, each aggregated on its own as it completed: under a joint method their
    /// verdicts are replaced by the joint ones over all `results`; otherwise they stand (an adaptive run's
    /// per-item verdict may rest on a subset of the judges, which re-aggregating would undo).
    package func finish(_ results: [ItemResult], kind: JudgingProtocol) -> [ItemResult] {
        guard isJoint else { return results }
        let judges = results.first.map { r in r.judgeVerdicts.keys.sorted() } ?? []
        let table = results.map { r in judges.map { r.judgeVerdicts[$0] ?? JudgeVerdict() } }
        let joint = Self.dawidSkene(
            items: results.map(\.item.id), judges: judges, verdicts: table, kind: kind, base: results.map(\.verdict))
        var out = results
        for i in out.indices { out[i].verdict = joint.verdicts[i] }
        return out
    }

    /// An aggregator for `method`; `weights` count for `weighted` only.
    public init(method: AggregationMethod, weights: [String: Double] = [:]) {
        self.method = method
        self.weights = weights
    }

    /// Aggregates one item on its own. A joint method (``isJoint``: `dawid-skene`) needs every item: here it gives
    /// the per-item majority, which ``aggregate(items:judges:verdicts:kind:)`` and ``finish(_:kind:)`` replace.
    package func aggregate(item: String, judges: [(name: String, verdict: JudgeVerdict)], kind: JudgingProtocol)
        -> Verdict
    {
        var out = Verdict(item: item)
        for (name, v) in judges {
            if let p = v.verdict {
                out.judges[name] = .string(p.rawValue)
            } else if let s = v.score {
                out.judges[name] = .number(s)
            } else {
                out.judges[name] = .null
            }
            if v.flipped { out.flips.append(name) }
            if v.abstained { out.abstained.append(name) }
        }
        let usePreferences = kind == .pairwise || (kind == .checklist && judges.contains { $0.verdict.verdict != nil })
        if usePreferences {
            let answering = judges.filter { $0.verdict.verdict != nil }
            guard !answering.isEmpty else { return out }
            let prefs = answering.map { $0.verdict.verdict! }
            let w = answering.map { method == .weighted ? (weights[$0.name] ?? 1) : 1 }
            let verdict: Preference
            switch method {
            case .mean, .median:
                let xs = prefs.map { $0 == .a ? 1.0 : ($0 == .b ? -1.0 : 0) }
                let m = method == .mean ? xs.reduce(0, +) / Double(xs.count) : Self.median(xs)
                verdict = abs(m) < 1e-12 ? .tie : (m > 0 ? .a : .b)
            default:
                // `prefs` is not empty (judges without a preference were left out above), so there is a majority.
                verdict = Reconcile.majority(prefs, weights: w) ?? .tie
            }
            out.verdict = verdict
            let total = w.reduce(0, +)
            var tally: [Preference: Double] = [:]
            for (p, x) in zip(prefs, w) { tally[p, default: 0] += x }
            // The share behind the verdict; for an even split (a tie nobody voted), the share of the largest bloc.
            let behind = max(tally[verdict] ?? 0, tally.values.max() ?? 0)
            out.confidence = total > 0 ? behind / total : nil
            out.agreement = Double(prefs.filter { $0 == verdict }.count) / Double(prefs.count)
        } else {
            let answering = judges.filter { $0.verdict.score != nil }
            guard !answering.isEmpty else { return out }
            let xs = answering.compactMap(\.verdict.score)  // every answering judge has a score
            let score: Double
            switch method {
            case .median: score = Self.median(xs)
            case .weighted:
                let w = answering.map { weights[$0.name] ?? 1 }
                let tw = w.reduce(0, +)
                score = tw > 0 ? zip(xs, w).map { $0 * $1 }.reduce(0, +) / tw : xs.reduce(0, +) / Double(xs.count)
            case .majority:
                // Majority over rounded scores; a tie at the top falls back to the median of the tied values.
                var counts: [Double: Int] = [:]
                for x in xs { counts[x.rounded(), default: 0] += 1 }
                let top = counts.values.max() ?? 0  // `xs` is not empty (the guard above)
                let tied = counts.filter { $0.value == top }.map(\.key)
                score = tied.count == 1 ? tied[0] : Self.median(tied)
            default: score = xs.reduce(0, +) / Double(xs.count)
            }
            out.score = score
            let agreeing = xs.filter { abs($0 - score) <= 0.5 }.count
            out.agreement = Double(agreeing) / Double(xs.count)
            out.confidence = out.agreement
        }
        return out
    }

    package static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        let n = s.count
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
    }
}
