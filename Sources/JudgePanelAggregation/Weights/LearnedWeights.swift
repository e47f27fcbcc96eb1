import Foundation
import JudgePanelCore
import JudgeStats

/// Per-judge weights for `weighted` aggregation learned from a labelled calibration set, as in weighted
/// majority voting (Nitzan–Paroush): w = log(acc / (1 − acc)), with the accuracy clipped to
/// [`floor`, 1 − `floor`] (so a perfect judge does not get an infinite weight) and the weight clipped at 0
/// below (a judge no better than chance gets no say; the tally cannot use negative weights).
///
/// ```swift
/// let learned = LearnedWeights.learn(items: labelled, votes: recorded)
/// let agg = Aggregator(method: .weighted, weights: learned.weights)
/// ```
package struct LearnedWeights: Sendable, Hashable, Codable {
    package struct Entry: Sendable, Hashable, Codable {
        package var judge: String
        /// Labelled items the judge was scored on.
        package var n: Int
        /// Correct reconciled verdicts / labelled items (an abstention is a miss).
        package var accuracy: Double?
        package var weight: Double
    }

    package var entries: [Entry]
    /// Accuracy clip used: [floor, 1 − floor].
    package var floor: Double

    package var weights: [String: Double] { Dictionary(uniqueKeysWithValues: entries.map { ($0.judge, $0.weight) }) }

    /// w = max(0, log(p / (1 − p))) with p clipped to [floor, 1 − floor].
    package static func weight(accuracy: Double, floor: Double = 0.01) -> Double {
        let p = min(max(accuracy, floor), 1 - floor)
        return max(0, log(p / (1 - p)))
    }

    /// Learns weights from labelled items and the judges' votes on them (pairwise: reconciled verdict vs consensus
    /// label; scores: |score − label| ≤ 0.5 counts as correct). Items without a label are skipped. A judge with no
    /// labelled item gets weight 1 (the default weight).
    package static func learn(items: [Item], votes: [Vote], flip: FlipPolicy = .tie, floor: Double = 0.01)
        -> LearnedWeights
    {
        let labelled = items.filter { $0.consensus != nil }
        let rec = Reconcile.table(items: labelled, votes: votes.filter { $0.variant == nil }, flip: flip)
        var entries: [Entry] = []
        for (j, name) in rec.judges.enumerated() {
            var correct = 0
            var n = 0
            for (i, item) in labelled.enumerated() {
                guard let label = item.consensus else { continue }
                let v = rec.verdicts[j][i]
                n += 1
                if let p = v.verdict, let lp = label.preference {
                    if p == lp { correct += 1 }
                } else if let s = v.score, let ls = label.score {
                    if abs(s - ls) <= 0.5 { correct += 1 }
                } else if let p = v.verdict, case .category(let c) = label {
                    if p.rawValue == c { correct += 1 }
                }
            }
            let acc = n > 0 ? Double(correct) / Double(n) : nil
            entries.append(
                Entry(judge: name, n: n, accuracy: acc, weight: acc.map { weight(accuracy: $0, floor: floor) } ?? 1))
        }
        return LearnedWeights(entries: entries, floor: floor)
    }
}
