import Foundation
import JudgeStats

/// Combines judges' reconciled verdicts into the panel's verdict per item.
///
/// ```swift
/// let verdict = Aggregator(method: .majority).aggregate(
///     item: "q1", judges: [("qwen", JudgeVerdict(verdict: .a)), ("llama", JudgeVerdict(verdict: .b, flipped: true))],
///     kind: .pairwise)
/// ```
public struct Aggregator: Sendable {
    public var method: AggregationMethod
    /// Per-judge weights for `weighted` (default 1).
    public var weights: [String: Double]

    public init(method: AggregationMethod, weights: [String: Double] = [:]) {
        self.method = method
        self.weights = weights
    }

    /// Aggregates one item. `dawid-skene` needs all items (``MetaAnalysis/reconcile(items:votes:)`` or
    /// ``PanelRunner/run(items:journal:completed:counters:)`` apply it); per item it falls back to majority.
    public func aggregate(item: String, judges: [(name: String, verdict: JudgeVerdict)], kind: JudgingProtocol) -> Verdict {
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
                verdict = Reconcile.majority(prefs, weights: w)!
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
            let xs = answering.map { $0.verdict.score! }
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
                let top = counts.values.max()!
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

    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        let n = s.count
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
    }
}
