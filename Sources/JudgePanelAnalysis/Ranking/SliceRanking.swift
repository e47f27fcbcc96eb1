import Foundation
import JudgePanelAggregation
import JudgePanelCore
import JudgePanelJudging
import JudgeStats

/// Rankings beyond one score (`judgepanel rank --by/--rule/--cluster`): Bradley–Terry per slice of a `meta` key,
/// social-choice aggregation of the slice rankings, a bootstrap over clusters of items, P(best), pairwise win
/// rates, and Kendall τ between rankings.
package enum SliceRanking {
    /// One model's row in a ranking.
    package struct Row: Sendable {
        package var model: String
        package var strength: Double
        package var strengthCI: Interval
        package var rank: Int
        package var rankCI: (lo: Int, hi: Int)
        /// Share of bootstrap resamples in which the model ranks 1st.
        package var pBest: Double
    }

    /// A ranking with what stands behind it.
    package struct Figure: Sendable {
        /// Best first.
        package var rows: [Row]
        /// `winRate[a][b]` for models named a, b that met: (wins + ties/2) / comparisons, its interval, and the count.
        package var winRates: [String: [String: (rate: Double, ci: Interval?, n: Int)]]
        /// Items with a usable comparison (model_a ≠ model_b and a verdict).
        package var nItems: Int
        /// Bootstrap units: clusters of items (each item its own cluster without a cluster key).
        package var nClusters: Int
        package var resamplesUsed: Int

        package var models: [String] { rows.map(\.model) }
        package func row(_ model: String) -> Row? { rows.first { $0.model == model } }
    }

    package struct Options: Sendable {
        package var resamples: Int
        package var seed: UInt64
        /// A `meta` key whose values group items into bootstrap clusters; nil = every item its own cluster.
        package var clusterKey: String?
        /// Rank by the win rate against this model (AlpacaEval's leaderboard) instead of Bradley–Terry: only items
        /// comparing a model with the baseline count, and the baseline itself is listed at ½.
        package var baseline: String?

        package init(resamples: Int = 1000, seed: UInt64 = 0, clusterKey: String? = nil, baseline: String? = nil) {
            self.resamples = resamples
            self.seed = seed
            self.clusterKey = clusterKey
            self.baseline = baseline
        }
    }

    /// A verdict as the share of a win that goes to `model_a`: A 1, B 0, a tie ½.
    package static func outcome(_ p: Preference?) -> Double? {
        p.map { $0 == .a ? 1 : ($0 == .b ? 0 : 0.5) }
    }

    /// Whether an item counts in a ranking: two different models, and with a baseline, one of them the baseline.
    package static func pair(_ item: Item, _ options: Options) -> (a: String, b: String)? {
        guard let a = item.modelA, let b = item.modelB, a != b else { return nil }
        if let base = options.baseline, a != base, b != base { return nil }
        return (a, b)
    }

    /// How the models are scored, given their indices: Bradley–Terry, or the win rate against the baseline (nil
    /// when the baseline was never compared).
    package static func score(_ options: Options, index: [String: Int]) -> RankScore? {
        guard let base = options.baseline else { return .bradleyTerry(alpha: 0.01) }
        return index[base].map { .winRateAgainst(baseline: $0) }
    }

    /// The cluster an item belongs to: the text of `meta[key]`; an item without the key is a cluster of its own.
    static func clusterID(_ item: Item, key: String?) -> String {
        guard let key, let v = item.meta[key], v != .null else { return "\u{0}item:" + item.id }
        return v.textValue
    }

    /// Bradley–Terry ranking of the models compared in `items` with `verdicts` (aligned with items), bootstrapped
    /// over clusters. Models are indexed in order of first appearance, so without a cluster key the figures equal
    /// ``SystemRanking/rank(items:verdicts:resamples:seed:)``. Nil when fewer than two models were compared.
    package static func rank(items: [Item], verdicts: [Preference?], options: Options) -> Figure? {
        rank(items: items, outcomes: verdicts.map(outcome), options: options)
    }

    /// The ranking from fractional outcomes (aligned with items): each item's share of a win for `model_a` — 1, 0
    /// or ½ for a verdict, or a probability preference — by Bradley–Terry on fractional wins, or with
    /// `options.baseline` by each model's mean outcome against the baseline. Nil when fewer than two models were
    /// compared (with a baseline: fewer than one model compared with it).
    package static func rank(items: [Item], outcomes: [Double?], options: Options) -> Figure? {
        var models: [String] = []
        var index: [String: Int] = [:]
        var clusterIndex: [String: Int] = [:]
        var clusters: [[FractionalComparison]] = []
        var nItems = 0
        for (item, outcome) in zip(items, outcomes) {
            guard let (a, b) = pair(item, options), let outcome else { continue }
            for m in [a, b] where index[m] == nil {
                index[m] = models.count
                models.append(m)
            }
            let cid = clusterID(item, key: options.clusterKey)
            let k = clusterIndex[cid] ?? clusters.count
            if k == clusters.count {
                clusterIndex[cid] = k
                clusters.append([])
            }
            // Both models were indexed just above.
            guard let ia = index[a], let ib = index[b] else { continue }
            clusters[k].append(FractionalComparison(ia, ib, scoreA: outcome))
            nItems += 1
        }
        guard models.count >= 2, let score = score(options, index: index) else { return nil }
        let r = ClusteredRankBootstrap.run(
            nModels: models.count, fractional: clusters, score: score, resamples: options.resamples,
            seed: options.seed)
        let rows = models.indices.sorted { r.ranks[$0] < r.ranks[$1] }.map { i in
            Row(
                model: models[i], strength: r.strengths[i],
                strengthCI: Interval(lo: r.strengthCI[i].0, hi: r.strengthCI[i].1), rank: r.ranks[i],
                rankCI: (lo: r.rankCI[i].0, hi: r.rankCI[i].1), pBest: r.pBest[i])
        }
        var win: [String: [String: (rate: Double, ci: Interval?, n: Int)]] = [:]
        for i in models.indices {
            for j in models.indices {
                guard let w = r.winRate[i][j] else { continue }
                win[models[i], default: [:]][models[j]] = (
                    w, r.winRateCI[i][j].map { Interval(lo: $0.0, hi: $0.1) }, r.pairCount[i][j]
                )
            }
        }
        return Figure(
            rows: rows, winRates: win, nItems: nItems, nClusters: clusters.count, resamplesUsed: r.resamplesUsed)
    }

    // MARK: - Human labels

    /// The human pairwise label per item — the one `meta` compares judges with (``MetaAnalysis``'s consensus:
    /// `label`, else the majority of the annotators' `labels`) — and a sentence saying which was used how often.
    package static func humanPreferences(_ items: [Item]) -> (labels: [Preference?], description: String) {
        let labels = items.map { $0.consensus?.preference }
        var fromLabel = 0
        var fromAnnotators = 0
        var none = 0
        for (item, l) in zip(items, labels) {
            if l == nil {
                none += 1
            } else if item.label?.preference != nil {
                fromLabel += 1
            } else {
                fromAnnotators += 1
            }
        }
        var parts = ["human label = the consensus `meta` uses: `label` (\(fromLabel) items)"]
        parts.append("else the majority of the annotators' `labels` (\(fromAnnotators) items)")
        if none > 0 { parts.append("\(none) items without a usable pairwise label") }
        return (labels, parts.joined(separator: ", "))
    }

    // MARK: - Slices

    package struct Slice: Sendable {
        package var value: String
        package var figure: Figure
    }

    package struct SocialChoiceOutcome: Sendable {
        package var rule: SocialChoiceRule
        package var order: [String]
        package var scores: [String: Double]
        package var weighted: Bool
        /// Voters: slices with a ranking (at least two models compared).
        package var voters: Int
    }

    package struct TauPair: Sendable {
        package var a: String
        package var b: String
        package var tau: MetricValue
        /// Models ranked in both slices.
        package var nModels: Int
    }

    package struct BySlice: Sendable {
        package var key: String
        /// Slices sorted by value; only slices where at least two models were compared.
        package var slices: [Slice]
        /// Slice values without a ranking (fewer than two models compared), with their item counts.
        package var skipped: [(value: String, items: Int)]
        /// Every model ranked in some slice, by name.
        package var models: [String]
        /// In how many slices each model ranks 1st.
        package var bestIn: [String: Int]
        /// Kendall τ-b between every two slices' (tie-aware) ranks over the models both rank.
        package var tau: [TauPair]
        package var meanTau: Double?
        package var socialChoice: SocialChoiceOutcome?
    }

    /// The text of an item's slice value (`(none)` when the key is missing, as `meta --slice`).
    static func sliceValue(_ item: Item, key: String) -> String {
        guard let v = item.meta[key], v != .null else { return "(none)" }
        return v.textValue
    }

    /// Strengths that differ by less than this are a tie in a slice's ranking and ballot.
    package static let tieTolerance = ClusteredRankBootstrap.tieTolerance

    /// Rows grouped into tiers of equal strength: a row joins the tier of the row before it when their strengths
    /// differ by at most ``tieTolerance``.
    package static func tiers(_ rows: [Row]) -> [[Row]] {
        var out: [[Row]] = []
        for row in rows {
            if let prev = out.last?.last, abs(prev.strength - row.strength) <= tieTolerance {
                out[out.count - 1].append(row)
            } else {
                out.append([row])
            }
        }
        return out
    }

    /// The slice form of a ranking: tied models share the best rank of their tier (1, 1, 3, …) and are listed by
    /// name, so neither input order nor rounding noise decides between them.
    static func withTiedRanks(_ f: Figure) -> Figure {
        var g = f
        var rows: [Row] = []
        for tier in tiers(f.rows) {
            let rank = rows.count + 1
            for var row in tier.sorted(by: { $0.model < $1.model }) {
                row.rank = rank
                rows.append(row)
            }
        }
        g.rows = rows
        return g
    }

    /// A slice ranking as a ballot over `models`: tiers of equal strength (within ``tieTolerance``), best first;
    /// models without comparisons in the slice share a last tier.
    package static func ballot(_ figure: Figure, models: [String], weight: Double) -> WeakOrderBallot {
        let idx = Dictionary(uniqueKeysWithValues: models.enumerated().map { ($1, $0) })
        // A figure's models are among `models` (ranked over them); one that is not would be dropped.
        var tiers = Self.tiers(figure.rows).map { $0.compactMap { idx[$0.model] } }
        let ranked = Set(figure.models)
        let absent = models.indices.filter { !ranked.contains(models[$0]) }
        if !absent.isEmpty { tiers.append(absent) }
        return WeakOrderBallot(tiers: tiers, weight: weight)
    }

    /// Bradley–Terry per value of `meta[key]`, and optionally their social-choice aggregate (each slice one
    /// voter, weight 1 or its number of ranked items with `weightSlices`).
    package static func bySlice(
        items: [Item], verdicts: [Preference?], key: String, rule: SocialChoiceRule?, weightSlices: Bool,
        options: Options
    ) throws(SocialChoice.Failure) -> BySlice {
        try bySlice(
            items: items, outcomes: verdicts.map(outcome), key: key, rule: rule, weightSlices: weightSlices,
            options: options)
    }

    /// ``bySlice(items:verdicts:key:rule:weightSlices:options:)`` on fractional outcomes (see
    /// ``rank(items:outcomes:options:)``); with `options.baseline` each slice is ranked by the win rate against it.
    package static func bySlice(
        items: [Item], outcomes verdicts: [Double?], key: String, rule: SocialChoiceRule?, weightSlices: Bool,
        options: Options
    ) throws(SocialChoice.Failure) -> BySlice {
        var groups: [String: [Int]] = [:]
        for (i, item) in items.enumerated() { groups[sliceValue(item, key: key), default: []].append(i) }
        var slices: [Slice] = []
        var skipped: [(value: String, items: Int)] = []
        for (value, idx) in groups.sorted(by: { $0.key < $1.key }) {
            if let f = rank(items: idx.map { items[$0] }, outcomes: idx.map { verdicts[$0] }, options: options) {
                slices.append(Slice(value: value, figure: withTiedRanks(f)))
            } else {
                skipped.append((value, idx.count))
            }
        }
        let models = Set(slices.flatMap(\.figure.models)).sorted()
        var bestIn = Dictionary(uniqueKeysWithValues: models.map { ($0, 0) })
        for s in slices {
            // Every model tied at the top counts.
            for r in s.figure.rows where r.rank == 1 { bestIn[r.model, default: 0] += 1 }
        }
        var taus: [TauPair] = []
        for i in slices.indices {
            for j in slices.indices where j > i {
                let a = slices[i].figure
                let b = slices[j].figure
                let common = a.models.sorted().compactMap { m in a.row(m).flatMap { x in b.row(m).map { (x, $0) } } }
                // On the tie-aware slice ranks, so strengths equal up to rounding are a tie.
                let t = kendallTauB(common.map { -Double($0.0.rank) }, common.map { -Double($0.1.rank) })
                taus.append(TauPair(a: slices[i].value, b: slices[j].value, tau: t, nModels: common.count))
            }
        }
        let defined = taus.compactMap(\.tau.value)
        var outcome: SocialChoiceOutcome?
        if let rule, !slices.isEmpty {
            let ballots = slices.map {
                ballot($0.figure, models: models, weight: weightSlices ? Double($0.figure.nItems) : 1)
            }
            let r = try SocialChoice.aggregate(ballots, names: models, rule: rule)
            outcome = SocialChoiceOutcome(
                rule: rule, order: r.order.map { models[$0] },
                scores: Dictionary(uniqueKeysWithValues: models.indices.map { (models[$0], r.scores[$0]) }),
                weighted: weightSlices, voters: slices.count)
        }
        return BySlice(
            key: key, slices: slices, skipped: skipped, models: models, bestIn: bestIn, tau: taus,
            meanTau: defined.isEmpty ? nil : defined.reduce(0, +) / Double(defined.count), socialChoice: outcome)
    }

    // MARK: - Two rankings of the same items

    /// Kendall τ-b between the rankings two label sources give on the same items (e.g. human labels and a judge),
    /// with a percentile interval from a bootstrap that resamples the same clusters of items for both.
    /// Only items where both sources have a verdict count; nil when fewer than two models remain.
    package static func agreement(
        items: [Item], x: [Preference?], y: [Preference?], options: Options
    ) -> (tau: MetricValue, ci: Interval?, nItems: Int, nClusters: Int, nModels: Int)? {
        agreement(items: items, x: x.map(outcome), y: y.map(outcome), options: options)
    }

    /// ``agreement(items:x:y:options:)`` on fractional outcomes (see ``rank(items:outcomes:options:)``), each
    /// source scored as the ranking is (Bradley–Terry, or the win rate against `options.baseline`).
    package static func agreement(
        items: [Item], x: [Double?], y: [Double?], options: Options
    ) -> (tau: MetricValue, ci: Interval?, nItems: Int, nClusters: Int, nModels: Int)? {
        var models: [String: Int] = [:]
        var clusterIndex: [String: Int] = [:]
        var cx: [[FractionalComparison]] = []
        var cy: [[FractionalComparison]] = []
        var n = 0
        for (i, item) in items.enumerated() {
            guard let (a, b) = pair(item, options), let vx = x[i], let vy = y[i] else { continue }
            for m in [a, b] where models[m] == nil { models[m] = models.count }
            let cid = clusterID(item, key: options.clusterKey)
            if clusterIndex[cid] == nil {
                clusterIndex[cid] = cx.count
                cx.append([])
                cy.append([])
            }
            // The cluster and both models were indexed just above.
            guard let k = clusterIndex[cid], let ia = models[a], let ib = models[b] else { continue }
            cx[k].append(FractionalComparison(ia, ib, scoreA: vx))
            cy[k].append(FractionalComparison(ia, ib, scoreA: vy))
            n += 1
        }
        guard models.count >= 2, let score = score(options, index: models) else { return nil }
        let r = ClusteredRankBootstrap.pairedKendall(
            nModels: models.count, fractionalX: cx, fractionalY: cy, score: score, resamples: options.resamples,
            seed: options.seed)
        return (r.tau, r.ci.map { Interval(lo: $0.0, hi: $0.1) }, n, cx.count, models.count)
    }
}
