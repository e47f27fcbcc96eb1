// Bradley–Terry ranking uncertainty from a bootstrap that resamples whole clusters of comparisons.

/// What a clustered bootstrap of a Bradley–Terry ranking gives (indices are model indices).
package struct ClusteredRanking: Sendable {
    /// Point strengths (all comparisons), centred to mean 0.
    package var strengths: [Double]
    /// Point ranks, 1 = strongest (equal strengths go to the lower index).
    package var ranks: [Int]
    /// Percentile intervals of the strength and of the rank (rank bounds rounded outwards; in a resample, models
    /// whose strengths are tied within ``ClusteredRankBootstrap/tieTolerance`` share the best rank of the tie).
    package var strengthCI: [(Double, Double)]
    package var rankCI: [(Int, Int)]
    /// Share of the resamples in which the model ranks 1st; a resample whose top strength is shared (within
    /// ``ClusteredRankBootstrap/tieTolerance``) counts 1/k for each of the k tied models.
    package var pBest: [Double]
    /// `winRate[i][j]`: (wins of i over j + ties / 2) / comparisons between them; `nil` when they never met.
    package var winRate: [[Double?]]
    /// Percentile interval of `winRate[i][j]` over the resamples in which i and j met.
    package var winRateCI: [[(Double, Double)?]]
    /// Comparisons between i and j.
    package var pairCount: [[Int]]
    package var nComparisons: Int
    package var nClusters: Int
    /// Resamples whose fit was finite (the denominators of `pBest` and the percentiles).
    package var resamplesUsed: Int
}

/// Cluster bootstrap for rankings (Field & Welsh 2007; the "prompts are not i.i.d." point of the robustness
/// literature): each resample draws as many clusters as there are, with replacement, keeps every comparison
/// of a drawn cluster, and refits Bradley–Terry. With one comparison per cluster, in order, it draws exactly
/// the resamples of ``BradleyTerry/rankWithCI(nItems:comparisons:ties:alpha:resamples:confidence:seed:)``
/// (same generator, same calls), so the unclustered figures are unchanged — except that a resample's exact ties
/// (within ``tieTolerance``) share a rank instead of going to the lower index.
package enum ClusteredRankBootstrap {
    /// Strengths closer than this are tied (for P(best)).
    package static let tieTolerance = 1e-9

    package static func run(
        nModels: Int,
        clusters: [[PairwiseComparison]],
        ties: BradleyTerry.TieModel = .halfWin,
        alpha: Double = 0.01,
        resamples: Int = 1000,
        confidence: Double = 0.95,
        seed: UInt64 = 0
    ) -> ClusteredRanking {
        let fractional = clusters.map { $0.map(FractionalComparison.init) }
        switch ties {
        case .halfWin:
            return run(
                nModels: nModels, fractional: fractional, score: .bradleyTerry(alpha: alpha), resamples: resamples,
                confidence: confidence, seed: seed)
        case .davidson:
            // Davidson's model needs hard outcomes: the fractions here are exactly 1, 0 or ½.
            return run(
                nModels: nModels, fractional: fractional, resamples: resamples, confidence: confidence, seed: seed
            ) {
                let hard = $0.map { c in
                    PairwiseComparison(c.a, c.b, c.scoreA == 1 ? .aWins : (c.scoreA == 0 ? .bWins : .tie))
                }
                return BradleyTerry.fit(nItems: nModels, comparisons: hard, ties: .davidson, alpha: alpha).strengths
            }
        }
    }

    /// The clustered bootstrap of a ranking from fractional outcomes (a probability preference counts as that
    /// share of a win), scored by Bradley–Terry or by the win rate against a baseline (``RankScore``). With
    /// outcomes 1, 0 and ½ and `.bradleyTerry` it equals ``run(nModels:clusters:ties:alpha:resamples:confidence:seed:)``
    /// with half-win ties, figure for figure. A resample in which some model gets no finite score (with
    /// `.winRateAgainst`, a model that drew no comparison with the baseline) is left out of the intervals.
    package static func run(
        nModels: Int,
        fractional clusters: [[FractionalComparison]],
        score: RankScore,
        resamples: Int = 1000,
        confidence: Double = 0.95,
        seed: UInt64 = 0
    ) -> ClusteredRanking {
        run(nModels: nModels, fractional: clusters, resamples: resamples, confidence: confidence, seed: seed) {
            score.strengths(nModels: nModels, $0)
        }
    }

    private static func run(
        nModels: Int,
        fractional clusters: [[FractionalComparison]],
        resamples: Int,
        confidence: Double,
        seed: UInt64,
        strengths fit: ([FractionalComparison]) -> [Double]
    ) -> ClusteredRanking {
        let all = clusters.flatMap { $0 }
        let point = fit(all)
        let pointRanks = BradleyTerry.ranks(point)
        let (pointWins, pointCount) = tally(all, n: nModels)
        var sStrength = [[Double]](repeating: [], count: nModels)
        var sRank = [[Double]](repeating: [], count: nModels)
        var best = [Double](repeating: 0, count: nModels)
        var sWin = [[[Double]]](repeating: [[Double]](repeating: [], count: nModels), count: nModels)
        var used = 0
        let nonEmpty = clusters.filter { !$0.isEmpty }
        if !nonEmpty.isEmpty && resamples > 0 {
            var rng = SeededGenerator(seed: seed)
            for _ in 0..<resamples {
                var sample: [FractionalComparison] = []
                sample.reserveCapacity(all.count)
                for _ in 0..<nonEmpty.count {
                    sample.append(contentsOf: nonEmpty[rng.nextIndex(below: nonEmpty.count)])
                }
                let strengths = fit(sample)
                guard strengths.allSatisfy({ $0.isFinite }) else { continue }
                used += 1
                let r = tiedRanks(strengths)
                let top = strengths.max() ?? 0
                let tied = strengths.indices.filter { strengths[$0] >= top - tieTolerance }
                for i in tied { best[i] += 1 / Double(tied.count) }
                for i in 0..<nModels {
                    sStrength[i].append(strengths[i])
                    sRank[i].append(Double(r[i]))
                }
                let (w, c) = tally(sample, n: nModels)
                for i in 0..<nModels {
                    for j in 0..<nModels where i != j && c[i][j] > 0 { sWin[i][j].append(w[i][j] / Double(c[i][j])) }
                }
            }
        }
        let lo = (1 - min(max(confidence, 0), 1)) / 2
        var strengthCI: [(Double, Double)] = []
        var rankCI: [(Int, Int)] = []
        for i in 0..<nModels {
            if sStrength[i].isEmpty {
                strengthCI.append((point[i], point[i]))
                rankCI.append((pointRanks[i], pointRanks[i]))
            } else {
                let s = sStrength[i].sorted()
                let r = sRank[i].sorted()
                strengthCI.append((percentile(s, lo), percentile(s, 1 - lo)))
                rankCI.append((Int(percentile(r, lo).rounded(.down)), Int(percentile(r, 1 - lo).rounded(.up))))
            }
        }
        var winRate = [[Double?]](repeating: [Double?](repeating: nil, count: nModels), count: nModels)
        var winRateCI = [[(Double, Double)?]](
            repeating: [(Double, Double)?](repeating: nil, count: nModels), count: nModels)
        for i in 0..<nModels {
            for j in 0..<nModels where i != j && pointCount[i][j] > 0 {
                winRate[i][j] = pointWins[i][j] / Double(pointCount[i][j])
                if !sWin[i][j].isEmpty {
                    let s = sWin[i][j].sorted()
                    winRateCI[i][j] = (percentile(s, lo), percentile(s, 1 - lo))
                }
            }
        }
        return ClusteredRanking(
            strengths: point, ranks: pointRanks, strengthCI: strengthCI, rankCI: rankCI,
            pBest: best.map { used > 0 ? $0 / Double(used) : 0 },
            winRate: winRate, winRateCI: winRateCI, pairCount: pointCount, nComparisons: all.count,
            nClusters: nonEmpty.count, resamplesUsed: used)
    }

    /// Kendall τ-b between the Bradley–Terry strengths fitted on two sets of comparisons of the same units (for
    /// example human labels and a judge's verdicts on the same items), with a percentile interval from a
    /// bootstrap that draws the same clusters for both. `clustersX[k]` and `clustersY[k]` belong to one cluster.
    package static func pairedKendall(
        nModels: Int,
        clustersX: [[PairwiseComparison]],
        clustersY: [[PairwiseComparison]],
        alpha: Double = 0.01,
        resamples: Int = 1000,
        confidence: Double = 0.95,
        seed: UInt64 = 0
    ) -> (tau: MetricValue, ci: (Double, Double)?, resamplesUsed: Int) {
        pairedKendall(
            nModels: nModels, fractionalX: clustersX.map { $0.map(FractionalComparison.init) },
            fractionalY: clustersY.map { $0.map(FractionalComparison.init) }, score: .bradleyTerry(alpha: alpha),
            resamples: resamples, confidence: confidence, seed: seed)
    }

    /// Kendall τ-b between the scores (``RankScore``) of two sets of fractional comparisons of the same units, with
    /// the paired cluster bootstrap of ``pairedKendall(nModels:clustersX:clustersY:alpha:resamples:confidence:seed:)``
    /// (equal to it for hard outcomes and `.bradleyTerry`). A resample whose τ is undefined or not finite (some
    /// model without a score) is left out.
    package static func pairedKendall(
        nModels: Int,
        fractionalX clustersX: [[FractionalComparison]],
        fractionalY clustersY: [[FractionalComparison]],
        score: RankScore,
        resamples: Int = 1000,
        confidence: Double = 0.95,
        seed: UInt64 = 0
    ) -> (tau: MetricValue, ci: (Double, Double)?, resamplesUsed: Int) {
        precondition(clustersX.count == clustersY.count)
        func tau(_ x: [FractionalComparison], _ y: [FractionalComparison]) -> MetricValue {
            let sx = score.strengths(nModels: nModels, x)
            let sy = score.strengths(nModels: nModels, y)
            guard sx.allSatisfy(\.isFinite), sy.allSatisfy(\.isFinite) else {
                return .undefined("a model without a score")
            }
            return kendallTauB(sx, sy)
        }
        let point = tau(clustersX.flatMap { $0 }, clustersY.flatMap { $0 })
        let k = clustersX.count
        guard k > 0, resamples > 0, point.value != nil else { return (point, nil, 0) }
        var rng = SeededGenerator(seed: seed)
        var taus: [Double] = []
        for _ in 0..<resamples {
            var x: [FractionalComparison] = []
            var y: [FractionalComparison] = []
            for _ in 0..<k {
                let c = rng.nextIndex(below: k)
                x.append(contentsOf: clustersX[c])
                y.append(contentsOf: clustersY[c])
            }
            if let t = tau(x, y).value, t.isFinite { taus.append(t) }
        }
        guard !taus.isEmpty else { return (point, nil, 0) }
        taus.sort()
        let lo = (1 - min(max(confidence, 0), 1)) / 2
        return (point, (percentile(taus, lo), percentile(taus, 1 - lo)), taus.count)
    }

    /// Competition ranks (1, 1, 3, …): 1 + the number of strengths larger by more than ``tieTolerance``.
    static func tiedRanks(_ s: [Double]) -> [Int] {
        s.map { x in 1 + s.filter { $0 > x + tieTolerance }.count }
    }

    /// Wins (ties as halves, fractional outcomes as their shares) and comparison counts per ordered pair.
    static func tally(_ comparisons: [FractionalComparison], n: Int) -> ([[Double]], [[Int]]) {
        var w = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        var c = [[Int]](repeating: [Int](repeating: 0, count: n), count: n)
        for x in comparisons where (0..<n).contains(x.a) && (0..<n).contains(x.b) && x.a != x.b {
            c[x.a][x.b] += 1
            c[x.b][x.a] += 1
            // A decisive outcome adds 1 to the winner and nothing to the loser, as a count of wins would.
            if x.scoreA > 0 { w[x.a][x.b] += x.scoreA }
            if x.scoreA < 1 { w[x.b][x.a] += 1 - x.scoreA }
        }
        return (w, c)
    }

    /// Linear-interpolation percentile (numpy's default) of sorted values, q in [0, 1].
    static func percentile(_ sorted: [Double], _ q: Double) -> Double {
        let pos = q * Double(sorted.count - 1)
        let i = Int(pos.rounded(.down))
        if i >= sorted.count - 1 { return sorted[sorted.count - 1] }
        let f = pos - Double(i)
        return sorted[i] + f * (sorted[i + 1] - sorted[i])
    }
}
