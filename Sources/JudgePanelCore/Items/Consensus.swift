import Foundation
import JudgeStats

extension Item {
    /// The consensus label (the one `meta` compares judges with): `label`, else the majority (pairwise/category) or mean (score) of `labels`.
    package var consensus: Label? {
        if let l = label { return l }
        guard !labels.isEmpty else { return nil }
        let ls = labels.map(\.label)
        if case .score = ls[0] {
            let xs = ls.compactMap(\.score)
            return xs.isEmpty ? nil : .score(xs.reduce(0, +) / Double(xs.count))
        }
        let prefs = ls.compactMap(\.preference)
        if prefs.count == ls.count { return Preference.majority(prefs).map { .pairwise($0) } }
        var counts: [String: Int] = [:]
        for l in ls { counts[l.text, default: 0] += 1 }
        let top = counts.values.max() ?? 0  // `ls` is not empty: one count per label
        let winners = counts.filter { $0.value == top }.keys.sorted()
        return winners.count == 1 ? .category(winners[0]) : nil
    }
}

extension Preference {
    /// The preference with the most (weighted) votes; a tie at the top is `.tie`; nil when there are no votes.
    package static func majority(_ prefs: [Preference], weights: [Double]? = nil) -> Preference? {
        guard !prefs.isEmpty else { return nil }
        var counts: [Preference: Double] = [:]
        for (i, p) in prefs.enumerated() { counts[p, default: 0] += weights?[i] ?? 1 }
        let top = counts.values.max() ?? 0  // `prefs` is not empty (the guard above)
        let winners = counts.filter { abs($0.value - top) < 1e-12 }.map(\.key)
        return winners.count == 1 ? winners[0] : .tie
    }
}
