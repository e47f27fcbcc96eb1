import Foundation
import JudgePanelAggregation
import JudgePanelCore
import JudgePanelJudging
import JudgeStats

/// Ranks the systems (`model_a`/`model_b`) compared in pairwise items by Bradley–Terry, ties counted as
/// half wins (choix-compatible I-LSR), with seeded bootstrap CIs over comparisons.
package enum SystemRanking {
    package struct Entry: Sendable, Hashable {
        package var model: String
        package var strength: Double
        package var strengthCI: Interval?
        package var rank: Int
        package var rankCI: (lo: Int, hi: Int)?

        package static func == (l: Entry, r: Entry) -> Bool {
            l.model == r.model && l.strength == r.strength && l.rank == r.rank
        }

        package func hash(into h: inout Hasher) {
            h.combine(model)
            h.combine(rank)
        }
    }

    /// The ranking, best first; `resamples: 0` skips the CIs.
    package static func rank(items: [Item], verdicts: [Preference?], resamples: Int = 1000, seed: UInt64 = 0) -> [Entry]
    {
        rank(
            pairs: items.lazy.map { i in i.modelA.flatMap { a in i.modelB.map { (a, $0) } } }, verdicts: verdicts,
            resamples: resamples, seed: seed)
    }

    /// The ranking from each item's compared models (model_a, model_b; nil for none) and verdict, best first.
    package static func rank(
        pairs: some Sequence<(String, String)?>, verdicts: some Sequence<Preference?>, resamples: Int = 1000,
        seed: UInt64 = 0
    ) -> [Entry] {
        var models: [String] = []
        var index: [String: Int] = [:]
        func id(_ m: String) -> Int {
            if let i = index[m] { return i }
            models.append(m)
            index[m] = models.count - 1
            return models.count - 1
        }
        var comparisons: [PairwiseComparison] = []
        for (pair, verdict) in zip(pairs, verdicts) {
            guard let pair, pair.0 != pair.1, let verdict else { continue }
            let (a, b) = pair
            let outcome: PairwiseComparison.Outcome = verdict == .a ? .aWins : (verdict == .b ? .bWins : .tie)
            comparisons.append(PairwiseComparison(id(a), id(b), outcome))
        }
        guard models.count >= 2 else { return [] }
        if resamples > 0 {
            return BradleyTerry.rankWithCI(
                nItems: models.count, comparisons: comparisons, resamples: resamples, seed: seed
            ).map {
                Entry(
                    model: models[$0.index], strength: $0.strength,
                    strengthCI: Interval(lo: $0.strengthCI.0, hi: $0.strengthCI.1), rank: $0.rank,
                    rankCI: (lo: $0.rankCI.0, hi: $0.rankCI.1))
            }
        }
        let fit = BradleyTerry.fit(nItems: models.count, comparisons: comparisons)
        let order = fit.strengths.indices.sorted { fit.strengths[$0] > fit.strengths[$1] }
        return order.enumerated().map {
            Entry(model: models[$1], strength: fit.strengths[$1], strengthCI: nil, rank: $0 + 1, rankCI: nil)
        }
    }

    /// Kendall τ-b between two rankings' strengths over their common models.
    package static func kendall(_ x: [Entry], _ y: [Entry]) -> MetricValue {
        let ys = Dictionary(uniqueKeysWithValues: y.map { ($0.model, $0.strength) })
        let common = x.compactMap { e in ys[e.model].map { (e.strength, $0) } }
        return kendallTauB(common.map(\.0), common.map(\.1))
    }
}
