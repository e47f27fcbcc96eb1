import Foundation
import Testing

@testable import JudgeStats

@Suite struct BradleyTerryTests {
    private func comparisons(_ raw: [[Double]]) -> [PairwiseComparison] {
        raw.map { c in
            PairwiseComparison(Int(c[0]), Int(c[1]), c[2] == 0.5 ? .tie : (c[2] == 1 ? .aWins : .bWins))
        }
    }

    @Test func matchesChoixOnExpandedTies() throws {
        let fixture = try AggregationFixture.load()
        #expect(fixture.bradley_terry.count >= 4)
        for c in fixture.bradley_terry {
            let wins = c.expanded_wins.map { (winner: $0[0], loser: $0[1], weight: 1.0) }
            let f = BradleyTerry.ilsr(nItems: c.n_items, wins: wins, alpha: c.alpha)
            #expect(f.converged, "\(c.name)")
            for i in 0..<c.n_items {
                #expect(abs(f.strengths[i] - c.params_expanded[i]) < 1e-6, "\(c.name) item \(i)")
            }
        }
    }

    @Test func halfWinsMatchChoixOnDoubledData() throws {
        let fixture = try AggregationFixture.load()
        for c in fixture.bradley_terry {
            let f = BradleyTerry.fit(nItems: c.n_items, comparisons: comparisons(c.comparisons), alpha: c.alpha)
            #expect(f.converged, "\(c.name)")
            #expect(f.tieParameter == nil)
            for i in 0..<c.n_items {
                #expect(abs(f.strengths[i] - c.params_half_win[i]) < 1e-6, "\(c.name) item \(i)")
            }
        }
    }

    @Test func dominanceChainIsOrdered() {
        var comps: [PairwiseComparison] = []
        for (a, b) in [(0, 1), (1, 2), (2, 3), (3, 4), (0, 2), (1, 3), (2, 4)] {
            for _ in 0..<6 { comps.append(PairwiseComparison(b, a, .bWins)) }
        }
        for ties in [BradleyTerry.TieModel.halfWin, .davidson] {
            let s = BradleyTerry.fit(nItems: 5, comparisons: comps, ties: ties).strengths
            #expect(s[0] > s[1] && s[1] > s[2] && s[2] > s[3] && s[3] > s[4], "\(ties)")
            #expect(abs(s.reduce(0, +)) < 1e-9)
        }
        let ranked = BradleyTerry.rankWithCI(nItems: 5, comparisons: comps, resamples: 200, seed: 3)
        #expect(ranked.map(\.index) == [0, 1, 2, 3, 4])
        #expect(ranked.map(\.rank) == [1, 2, 3, 4, 5])
        for r in ranked {
            #expect(r.strengthCI.0 <= r.strength + 1e-9 && r.strength <= r.strengthCI.1 + 1e-9)
            #expect(r.rankCI.0 <= r.rank && r.rank <= r.rankCI.1)
            #expect(r.rankCI.0 >= 1 && r.rankCI.1 <= 5)
        }
    }

    @Test func bootstrapIsSeededAndReproducible() {
        var rng = SeededGenerator(seed: 11)
        let truth = [2.0, 1.0, 0.0, -1.0, -2.0]
        var comps: [PairwiseComparison] = []
        for _ in 0..<150 {
            let a = rng.nextIndex(below: 5)
            var b = rng.nextIndex(below: 4)
            if b >= a { b += 1 }
            let u = rng.nextUnit()
            let p = 1 / (1 + exp(truth[b] - truth[a]))
            comps.append(PairwiseComparison(a, b, u < 0.15 ? .tie : (u < 0.15 + 0.85 * p ? .aWins : .bWins)))
        }
        let r1 = BradleyTerry.rankWithCI(nItems: 5, comparisons: comps, resamples: 300, seed: 42)
        let r2 = BradleyTerry.rankWithCI(nItems: 5, comparisons: comps, resamples: 300, seed: 42)
        #expect(r1.map(\.index) == r2.map(\.index))
        #expect(r1.map(\.strengthCI.0) == r2.map(\.strengthCI.0))
        #expect(r1.map(\.strengthCI.1) == r2.map(\.strengthCI.1))
        #expect(r1.first?.index == 0 && r1.last?.index == 4)
        for r in r1 { #expect(r.strengthCI.0 < r.strengthCI.1) }
    }

    @Test func davidsonEstimatesTiesAndReducesToBradleyTerry() {
        // Without ties and without regularisation Davidson is plain Bradley–Terry (the MLE).
        var comps: [PairwiseComparison] = []
        let results: [(Int, Int, Int, Int)] = [
            (0, 1, 7, 3), (1, 2, 6, 4), (0, 2, 8, 2), (2, 3, 5, 5), (0, 3, 9, 1), (1, 3, 6, 4),
        ]
        for (a, b, wa, wb) in results {
            for _ in 0..<wa { comps.append(PairwiseComparison(a, b, .aWins)) }
            for _ in 0..<wb { comps.append(PairwiseComparison(a, b, .bWins)) }
        }
        let bt = BradleyTerry.fit(nItems: 4, comparisons: comps, ties: .halfWin, alpha: 0)
        let dv = BradleyTerry.fit(nItems: 4, comparisons: comps, ties: .davidson, alpha: 0)
        #expect(bt.converged && dv.converged)
        #expect(dv.tieParameter == 0)
        for i in 0..<4 { #expect(abs(bt.strengths[i] - dv.strengths[i]) < 1e-6) }

        // With ties, ν > 0 and the likelihood equations hold at the fit.
        var withTies = comps
        for _ in 0..<10 { withTies.append(PairwiseComparison(1, 2, .tie)) }
        for _ in 0..<4 { withTies.append(PairwiseComparison(0, 3, .tie)) }
        let d2 = BradleyTerry.fit(nItems: 4, comparisons: withTies, ties: .davidson, alpha: 0)
        #expect(d2.converged)
        let nu = try! #require(d2.tieParameter)
        #expect(nu > 0)
        let pi = d2.strengths.map { exp($0) }
        var expectedTies = 0.0
        for c in withTies {
            let r = (pi[c.a] * pi[c.b]).squareRoot()
            expectedTies += nu * r / (pi[c.a] + pi[c.b] + nu * r)
        }
        #expect(abs(expectedTies - 14) < 1e-6)
    }

    @Test func degenerateInputsDoNotCrash() {
        #expect(BradleyTerry.fit(nItems: 0, comparisons: []).strengths.isEmpty)
        #expect(BradleyTerry.fit(nItems: 1, comparisons: []).strengths == [0])
        let none = BradleyTerry.fit(nItems: 3, comparisons: [])
        #expect(none.strengths.allSatisfy { abs($0) < 1e-12 })
        let none2 = BradleyTerry.fit(nItems: 3, comparisons: [], ties: .davidson)
        #expect(none2.strengths.allSatisfy { $0.isFinite })
        #expect(BradleyTerry.rankWithCI(nItems: 0, comparisons: []).isEmpty)
        let r = BradleyTerry.rankWithCI(nItems: 2, comparisons: [PairwiseComparison(0, 1, .tie)], resamples: 50)
        #expect(r.count == 2)
        #expect(r.allSatisfy { $0.strength.isFinite && $0.strengthCI.0.isFinite && $0.strengthCI.1.isFinite })
        // alpha = 0 with an item that never wins: no finite MLE, reported as not converged.
        let bad = BradleyTerry.fit(nItems: 2, comparisons: [PairwiseComparison(0, 1, .aWins)], alpha: 0)
        #expect(bad.strengths.allSatisfy { $0.isFinite })
        // Out-of-range indices are ignored.
        let odd = BradleyTerry.fit(
            nItems: 2, comparisons: [PairwiseComparison(0, 5, .aWins), PairwiseComparison(0, 1, .aWins)])
        #expect(odd.strengths[0] > odd.strengths[1])
    }
}
