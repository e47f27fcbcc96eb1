import Testing

@testable import JudgeStats

@Suite("Clustered rank bootstrap: whole clusters resampled, P(best), win rates with CIs")
struct ClusteredRankBootstrapTests {
    /// Cluster X: model 0 beats model 1 three times; cluster Y: model 1 beats model 0 once. A resample of two
    /// clusters is XX (0 best, win rate 1), YY (1 best, win rate 0) or XY/YX (3 wins to 1: 0 best, win rate 0.75).
    static let x = [PairwiseComparison](repeating: PairwiseComparison(0, 1, .aWins), count: 3)
    static let y = [PairwiseComparison(0, 1, .bWins)]

    @Test("two clusters with deterministic outcomes: P(best) and win rates are the hand-computed ones")
    func twoClusters() {
        let resamples = 4000
        let r = ClusteredRankBootstrap.run(nModels: 2, clusters: [Self.x, Self.y], resamples: resamples, seed: 7)
        #expect(r.nClusters == 2 && r.nComparisons == 4 && r.resamplesUsed == resamples)
        #expect(r.ranks == [1, 2])
        #expect(r.pairCount[0][1] == 4 && r.winRate[0][1] == 0.75 && r.winRate[1][0] == 0.25)
        // Replay the generator: the resample is YY exactly when both draws pick cluster 1.
        var rng = SeededGenerator(seed: 7)
        var yy = 0
        for _ in 0..<resamples {
            let a = rng.nextIndex(below: 2)
            let b = rng.nextIndex(below: 2)
            if a == 1 && b == 1 { yy += 1 }
        }
        #expect(r.pBest[1] == Double(yy) / Double(resamples))
        #expect(r.pBest[0] == 1 - Double(yy) / Double(resamples))
        #expect(abs(r.pBest[0] - 0.75) < 0.03, "expected 3/4, got \(r.pBest[0])")
        // Win-rate resamples only take the values 0, 0.75, 1: the 95% interval spans [0, 1].
        let ci = r.winRateCI[0][1]!
        #expect(ci.0 == 0 && ci.1 == 1)
        #expect(r.rankCI[0] == (1, 2) && r.rankCI[1] == (1, 2))
        // Resampling the four comparisons one by one treats them as independent: model 1 needs its single win
        // drawn at least as often as the three losses, which happens less often than drawing cluster Y twice.
        let items = ClusteredRankBootstrap.run(
            nModels: 2, clusters: (Self.x + Self.y).map { [$0] }, resamples: resamples, seed: 7)
        #expect(items.nClusters == 4)
        #expect(items.pBest[1] < r.pBest[1])
    }

    @Test("one comparison per cluster reproduces BradleyTerry.rankWithCI exactly (same draws)")
    func singletonClustersEqualItemBootstrap() {
        var rng = SeededGenerator(seed: 3)
        var comps: [PairwiseComparison] = []
        for _ in 0..<120 {
            let a = rng.nextIndex(below: 4)
            let b = (a + 1 + rng.nextIndex(below: 3)) % 4
            let u = rng.nextIndex(below: 10)
            comps.append(PairwiseComparison(a, b, u < 2 ? .tie : (u < 2 + a + 3 ? .aWins : .bWins)))
        }
        let old = BradleyTerry.rankWithCI(nItems: 4, comparisons: comps, resamples: 200, seed: 11)
        let new = ClusteredRankBootstrap.run(nModels: 4, clusters: comps.map { [$0] }, resamples: 200, seed: 11)
        for row in old {
            #expect(row.strength == new.strengths[row.index])
            #expect(row.rank == new.ranks[row.index])
            #expect(row.strengthCI == new.strengthCI[row.index])
            #expect(row.rankCI == new.rankCI[row.index])
        }
        #expect(abs(new.pBest.reduce(0, +) - 1) < 1e-12)
    }

    @Test("paired Kendall τ: identical comparisons give τ = 1 with interval [1, 1]; reversed ones τ = −1")
    func pairedKendall() {
        let clusters: [[PairwiseComparison]] = [
            [PairwiseComparison(0, 1, .aWins), PairwiseComparison(1, 2, .aWins)],
            [PairwiseComparison(0, 2, .aWins), PairwiseComparison(0, 1, .aWins)],
            [PairwiseComparison(1, 2, .aWins), PairwiseComparison(0, 2, .tie)],
        ]
        let same = ClusteredRankBootstrap.pairedKendall(
            nModels: 3, clustersX: clusters, clustersY: clusters, resamples: 300)
        #expect(same.tau.value == 1)
        #expect(abs(same.ci!.0 - 1) < 1e-12 && abs(same.ci!.1 - 1) < 1e-12)
        let flipped = clusters.map { $0.map { PairwiseComparison($0.b, $0.a, $0.outcome) } }
        let opposite = ClusteredRankBootstrap.pairedKendall(
            nModels: 3, clustersX: clusters, clustersY: flipped, resamples: 300)
        #expect(opposite.tau.value == -1)
        #expect(opposite.resamplesUsed > 0)
    }
}
