import Foundation
import Testing

@testable import JudgeStats

@Suite("Binomial and multinomial draws; the table bootstrap")
struct TableBootstrapTests {
    static func logPMF(_ k: Int, n: Int, p: Double) -> Double {
        lgamma(Double(n + 1)) - lgamma(Double(k + 1)) - lgamma(Double(n - k + 1)) + Double(k) * log(p)
            + Double(n - k) * log1p(-p)
    }

    /// Inversion (n·p < 10), BTRS (n·p ≥ 10), and the p > 0.5 reflection of both.
    @Test(arguments: [
        (20, 0.3), (1000, 0.005), (60, 0.97), (1000, 0.3), (400, 0.8), (1_000_000, 0.45), (5_000_000, 0.0004),
    ])
    func binomialMatchesItsDistribution(n: Int, p: Double) {
        var rng = SeededGenerator(seed: UInt64(n) &+ UInt64(p * 1e6))
        let draws = 200_000
        var counts: [Int: Int] = [:]
        var sum = 0.0
        var sumSq = 0.0
        for _ in 0..<draws {
            let x = rng.nextBinomial(n: n, p: p)
            #expect(x >= 0 && x <= n)
            counts[x, default: 0] += 1
            sum += Double(x)
            sumSq += Double(x) * Double(x)
        }
        let mean = sum / Double(draws)
        let variance = sumSq / Double(draws) - mean * mean
        let mu = Double(n) * p
        let sigma2 = Double(n) * p * (1 - p)
        // Mean within 5 standard errors; variance within 5 % (its relative SE here is ~0.3 %).
        #expect(abs(mean - mu) < 5 * (sigma2 / Double(draws)).squareRoot(), "mean \(mean) vs \(mu)")
        #expect(abs(variance / sigma2 - 1) < 0.05, "variance \(variance) vs \(sigma2)")
        // Pearson χ² goodness of fit over the values with expected count ≥ 20 (the rest pooled).
        var chi2 = 0.0
        var bins = 0
        var pooledObserved = draws
        var pooledExpected = Double(draws)
        let lo = max(0, Int(mu - 8 * sigma2.squareRoot()))
        let hi = min(n, Int(mu + 8 * sigma2.squareRoot()) + 1)
        for k in lo...hi {
            let expected = Double(draws) * exp(Self.logPMF(k, n: n, p: p))
            guard expected >= 20 else { continue }
            let observed = counts[k] ?? 0
            chi2 += (Double(observed) - expected) * (Double(observed) - expected) / expected
            bins += 1
            pooledObserved -= observed
            pooledExpected -= expected
        }
        if pooledExpected >= 20 {
            chi2 +=
                (Double(pooledObserved) - pooledExpected) * (Double(pooledObserved) - pooledExpected) / pooledExpected
            bins += 1
        }
        let df = Double(bins - 1)
        // χ²(df) has mean df and sd √(2df): 6 sd above the mean is a ~1e-6 false-alarm rate.
        #expect(bins >= 3)
        #expect(chi2 < df + 6 * (2 * df).squareRoot(), "χ² \(chi2) over \(bins) bins")
    }

    @Test func binomialEdgeCases() {
        var rng = SeededGenerator(seed: 3)
        #expect(rng.nextBinomial(n: 0, p: 0.4) == 0)
        #expect(rng.nextBinomial(n: 50, p: 0) == 0)
        #expect(rng.nextBinomial(n: 50, p: 1) == 50)
        #expect(rng.nextBinomial(n: 1, p: 0.5) <= 1)
    }

    @Test func multinomialSumsToNWithTheRightMeans() {
        var rng = SeededGenerator(seed: 9)
        let weights: [Double] = [450, 0, 300, 200, 50]
        var out = [Int](repeating: 0, count: weights.count)
        var totals = [Double](repeating: 0, count: weights.count)
        let draws = 20_000
        let n = 10_000
        for _ in 0..<draws {
            rng.nextMultinomial(n: n, weights: weights, into: &out)
            #expect(out.reduce(0, +) == n)
            #expect(out[1] == 0)
            for j in out.indices { totals[j] += Double(out[j]) }
        }
        let w = weights.reduce(0, +)
        for j in weights.indices {
            let p = weights[j] / w
            let se = (Double(n) * p * (1 - p) / Double(draws)).squareRoot()
            #expect(abs(totals[j] / Double(draws) - Double(n) * p) <= 5 * se + 1e-9, "cell \(j)")
        }
    }

    static func pairs(n: Int, seed: UInt64) -> ([Preference], [Preference]) {
        var rng = SeededGenerator(seed: seed)
        var judge: [Preference] = []
        var truth: [Preference] = []
        for _ in 0..<n {
            let u = rng.nextUnit()
            let t: Preference = u < 0.45 ? .a : (u < 0.9 ? .b : .tie)
            truth.append(t)
            judge.append(rng.nextUnit() < 0.7 ? t : Preference.allCases[rng.nextIndex(below: 3)])
        }
        return (judge, truth)
    }

    static func table(_ judge: [Preference], _ truth: [Preference], _ idx: some Sequence<Int>) -> [Int] {
        var t = [Int](repeating: 0, count: 9)
        for i in idx { t[judge[i].denseIndex * 3 + truth[i].denseIndex] += 1 }
        return t
    }

    /// The table bootstrap is the item bootstrap drawn another way: same distribution, so the same
    /// interval up to Monte Carlo error, for κ of every weighting.
    @Test(arguments: KappaWeights.allCases)
    func kappaTableCIAgreesWithItemResampling(weights: KappaWeights) throws {
        let (judge, truth) = Self.pairs(n: 3000, seed: 11)
        let cells = Self.table(judge, truth, judge.indices)
        let point = try #require(cohenKappa(judge, truth, weights: weights).value)
        #expect(abs(cohenKappa(flatConfusion: cells, categoryCount: 3, weights: weights).value! - point) < 1e-12)
        let table = try #require(
            bootstrapTableCI(cells: cells, resamples: 2000, seed: 1) {
                cohenKappa(flatConfusion: $0, categoryCount: 3, weights: weights).value
            })
        let items = try #require(
            bootstrapPercentileCI(count: judge.count, resamples: 2000, seed: 1) { idx in
                cohenKappa(flatConfusion: Self.table(judge, truth, idx), categoryCount: 3, weights: weights).value
            })
        #expect(table.lo < point && point < table.hi)
        let width = items.hi - items.lo
        #expect(
            abs(table.lo - items.lo) < 0.12 * width && abs(table.hi - items.hi) < 0.12 * width, "\(table) vs \(items)")
        #expect(abs((table.hi - table.lo) / width - 1) < 0.15)
        // Deterministic by seed.
        let again = bootstrapTableCI(cells: cells, resamples: 2000, seed: 1) {
            cohenKappa(flatConfusion: $0, categoryCount: 3, weights: weights).value
        }
        #expect(again! == table)
    }

    @Test func clusterTablesMatchClusterItemResampling() throws {
        let (judge, truth) = Self.pairs(n: 2400, seed: 5)
        // 120 clusters of 20 items; within a cluster the judge is uniformly good or bad.
        var j = judge
        for c in 0..<120 where c % 3 == 0 { for i in (c * 20)..<(c * 20 + 20) { j[i] = truth[i].swapped } }
        let clusters = j.indices.map { $0 / 20 }
        let tables = (0..<120).map { c in Self.table(j, truth, (c * 20)..<(c * 20 + 20)) }
        let stat: ([Int]) -> Double? = { cohenKappa(flatConfusion: $0, categoryCount: 3).value }
        let viaTables = try #require(
            bootstrapTableCI(cells: [], resamples: 2000, seed: 2, clusterTables: tables, statistic: stat))
        let viaItems = try #require(
            bootstrapPercentileCI(count: j.count, resamples: 2000, seed: 2, clusters: clusters) { idx in
                stat(Self.table(j, truth, idx))
            })
        // Same cluster draws (same seed, same cluster order): the same interval.
        #expect(
            abs(viaTables.lo - viaItems.lo) < 1e-12 && abs(viaTables.hi - viaItems.hi) < 1e-12,
            "\(viaTables) vs \(viaItems)")
        // And wider than the item bootstrap, which ignores the clustering.
        let flat = try #require(
            bootstrapTableCI(cells: Self.table(j, truth, j.indices), resamples: 2000, seed: 2, statistic: stat))
        #expect(viaTables.hi - viaTables.lo > 1.5 * (flat.hi - flat.lo))
    }

    @Test func undefinedCases() {
        let stat: ([Int]) -> Double? = { Double($0[0]) }
        #expect(bootstrapTableCI(cells: [1, 0], statistic: stat) == nil)  // one item
        #expect(bootstrapTableCI(cells: [], statistic: stat) == nil)
        #expect(bootstrapTableCI(cells: [3, -1], statistic: stat) == nil)
        #expect(bootstrapTableCI(cells: [3, 4], level: 1, statistic: stat) == nil)
        #expect(bootstrapTableCI(cells: [3, 4], statistic: { _ in nil }) == nil)
        #expect(bootstrapTableCI(cells: [], clusterTables: [[1, 2]], statistic: stat) == nil)  // one cluster
        #expect(bootstrapTableCI(cells: [], clusterTables: [[1, 2], [1]], statistic: stat) == nil)
        #expect(cohenKappa(flatConfusion: [1, 2, 3], categoryCount: 2).value == nil)
    }

    /// The dense fast path equals the generic coder path on every input shape, labels given or not.
    @Test func denseKappaEqualsGenericKappa() {
        struct Boxed: Hashable, Comparable {
            let p: Preference
            static func < (l: Boxed, r: Boxed) -> Bool { l.p < r.p }
        }
        let (judge, truth) = Self.pairs(n: 500, seed: 8)
        let noTie = (judge.map { $0 == .tie ? .a : $0 }, truth.map { $0 == .tie ? .b : $0 })
        let cases: [([Preference], [Preference])] = [
            (judge, truth), noTie, (truth.map { _ in .tie }, truth), ([.a, .a], [.a, .a]), ([.b, .tie], [.tie, .b]),
        ]
        for (x, y) in cases {
            for w in KappaWeights.allCases {
                for labels in [nil, [Preference.tie, .a, .b], [.a, .b]] as [[Preference]?] {
                    let dense = cohenKappa(x, y, labels: labels, weights: w)
                    let generic = cohenKappa(
                        x.map(Boxed.init), y.map(Boxed.init), labels: labels?.map(Boxed.init), weights: w)
                    #expect(dense == generic, "\(w) \(labels ?? [])")
                }
            }
        }
        #expect(cohenKappa([Preference.a], [.a], labels: [.a, .a]).value == nil)
        #expect(cohenKappa([Preference.a], [.a, .b]).value == nil)
    }
}
