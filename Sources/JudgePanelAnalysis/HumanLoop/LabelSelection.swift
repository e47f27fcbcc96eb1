import Foundation
import JudgePanelAggregation
import JudgePanelCore
import JudgeStats

/// Which items a human should label next (`judgepanel label RUN --select …`), with each selected item's exact
/// inclusion probability.
///
/// Scores (higher = more worth a human's minute):
/// - `bpde` (FairEval, "Large Language Models are not Fair Evaluators", §3.3 Human-in-the-Loop Calibration): the
///   *balanced position diversity entropy* of an item — over a judge's 2k results (k samples × both orders; the
///   panel: every judge's results), each mapped to the dataset's orientation as win / tie / lose for `response_a`,
///   with p the three shares, BPDE = −Σ p ln p (natural log; 0 ln 0 = 0). Only `ok` votes count.
/// - `disagreement`: the entropy (natural log) of the judges' reconciled verdicts on the item (abstentions left
///   out).
/// - `uncertainty`: 1 − the largest Dawid–Skene posterior of the item (fitted on the judges' reconciled verdicts).
/// - `random`: no score; a uniform draw.
///
/// An item with no usable vote has no score (`nil`) and ranks after every scored item; ties (equal scores, and the
/// unscored) are broken by item id, ascending.
///
/// **Inclusion probability** (`p_select`). With budget N over n items and explore share ε, `E = round(ε·N)` items are
/// drawn uniformly without replacement from the n − (N − E) items *not* among the N − E highest-scored ones, which
/// are taken with certainty. So a top item has p_select = 1 and every other item p_select = E / (n − N + E) — exact,
/// because the top set is a fixed function of the votes. `random` draws N of n uniformly: p_select = N / n. An
/// inverse-probability-weighted mean over the labelled items, Σ yᵢ/pᵢ / n, is then unbiased for the mean over all
/// n items — provided every item can be drawn (ε > 0 or `random`); with ε = 0 the unselected items have
/// probability 0 and no weighting can stand in for them.
public enum LabelSelection {
    /// The selection rules.
    public enum Rule: String, Sendable, CaseIterable {
        /// FairEval's balanced position diversity entropy.
        case bpde
        /// Entropy of the judges' reconciled verdicts.
        case disagreement
        /// 1 − the largest Dawid–Skene posterior.
        case uncertainty
        /// A uniform draw.
        case random
    }

    /// One selected item.
    public struct Pick: Sendable, Hashable {
        /// The item's id.
        public var item: String
        /// The rule's score (nil: `random`, an explore draw of an unscored item, or no usable vote).
        public var score: Double?
        /// The probability with which the item was drawn, in (0, 1].
        public var pSelect: Double
        /// Whether the item came from the uniform explore share.
        public var explored: Bool

        /// A pick from its parts.
        public init(item: String, score: Double? = nil, pSelect: Double, explored: Bool) {
            self.item = item
            self.score = score
            self.pSelect = pSelect
            self.explored = explored
        }
    }

    /// BPDE of one item's results: −Σ p ln p over the shares of A (win for `response_a`), tie and B; nil when empty.
    public static func bpde(_ results: [Preference]) -> Double? {
        entropy(results)
    }

    /// Natural-log entropy of the distribution of `values`; nil when empty.
    package static func entropy(_ values: [Preference]) -> Double? {
        guard !values.isEmpty else { return nil }
        var counts: [Preference: Int] = [:]
        for v in values { counts[v, default: 0] += 1 }
        let n = Double(values.count)
        var h = 0.0
        // A fixed order of summation, so equal inputs give bit-equal scores.
        for p in Preference.allCases {
            guard let c = counts[p], c > 0 else { continue }
            let q = Double(c) / n
            h -= q * log(q)
        }
        return h == 0 ? 0 : h  // no −0
    }

    /// Each item's score under `rule` (nil for `random`, or an item without usable votes).
    ///
    /// - Parameters:
    ///   - items: item ids, in the run's order.
    ///   - votes: the run's votes (pairwise; verdicts in the dataset's orientation).
    ///   - judge: `bpde` over one judge's results only (nil: the panel, every judge).
    ///   - flip: the flip policy for reconciling a judge's two orders (`disagreement`, `uncertainty`).
    package static func scores(
        rule: Rule, items: [String], votes: [Vote], judge: String? = nil, flip: FlipPolicy = .tie
    ) -> [Double?] {
        let index = Dictionary(items.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        switch rule {
        case .random:
            return Array(repeating: nil, count: items.count)
        case .bpde:
            var results = [[Preference]](repeating: [], count: items.count)
            for v in votes where v.isOK {
                guard let i = index[v.item], let p = v.verdict else { continue }
                if let judge, v.judge != judge { continue }
                results[i].append(p)
            }
            return results.map(bpde)
        case .disagreement, .uncertainty:
            let itemValues = items.map { Item(id: $0) }
            let table = Reconcile.table(items: itemValues, votes: votes, kind: .pairwise, flip: flip)
            if rule == .disagreement {
                return items.indices.map { i in
                    entropy(table.judges.indices.compactMap { table.verdicts[$0][i].verdict })
                }
            }
            let classes = Preference.allCases
            var dsVotes: [(item: Int, worker: Int, label: Int)] = []
            var answered = [Bool](repeating: false, count: items.count)
            for j in table.judges.indices {
                for i in items.indices {
                    guard let p = table.verdicts[j][i].verdict, let c = classes.firstIndex(of: p) else { continue }
                    dsVotes.append((i, j, c))
                    answered[i] = true
                }
            }
            let fit = DawidSkene.fit(
                votes: dsVotes, nItems: items.count, nWorkers: table.judges.count, nClasses: classes.count)
            return items.indices.map { i in
                guard answered[i], i < fit.posteriors.count, let top = fit.posteriors[i].max() else { return nil }
                return 1 - top
            }
        }
    }

    /// Selects `budget` items: the highest-scored first (ties by id), with `explore` (0…1) of the budget drawn
    /// uniformly (seeded) from the rest; `random` draws the whole budget uniformly. Items in `exclude` (already
    /// labelled) are not candidates. Returns the picks in selection order: the top items by score, then the explore
    /// draws in draw order.
    public static func select(
        ids: [String], scores: [Double?], rule: Rule, budget: Int, explore: Double = 0, seed: UInt64 = 0,
        exclude: Set<String> = []
    ) -> [Pick] {
        let candidates = ids.indices.filter { !exclude.contains(ids[$0]) }
        let n = candidates.count
        let budget = max(0, min(budget, n))
        guard budget > 0 else { return [] }
        var rng = SeededGenerator(seed: seed)
        if rule == .random {
            let drawn = draw(budget, from: candidates.sorted { ids[$0] < ids[$1] }, rng: &rng)
            let p = Double(budget) / Double(n)
            return drawn.map { Pick(item: ids[$0], score: nil, pSelect: p, explored: true) }
        }
        let ranked = candidates.sorted { a, b in
            switch (scores[a], scores[b]) {
            case (let x?, let y?): return x != y ? x > y : ids[a] < ids[b]
            case (.some, nil): return true
            case (nil, .some): return false
            case (nil, nil): return ids[a] < ids[b]
            }
        }
        let e = min(budget, Int((max(0, min(1, explore)) * Double(budget)).rounded()))
        let top = budget - e
        var out = ranked.prefix(top).map { Pick(item: ids[$0], score: scores[$0], pSelect: 1, explored: false) }
        if e > 0 {
            let rest = Array(ranked.dropFirst(top))
            let p = Double(e) / Double(rest.count)
            for i in draw(e, from: rest.sorted { ids[$0] < ids[$1] }, rng: &rng) {
                out.append(Pick(item: ids[i], score: scores[i], pSelect: p, explored: true))
            }
        }
        return out
    }

    /// `k` of `pool` uniformly without replacement (a partial Fisher–Yates shuffle), in draw order.
    private static func draw(_ k: Int, from pool: [Int], rng: inout SeededGenerator) -> [Int] {
        var pool = pool
        for i in 0..<k {
            let j = i + Int(rng.next() % UInt64(pool.count - i))
            pool.swapAt(i, j)
        }
        return Array(pool.prefix(k))
    }
}
