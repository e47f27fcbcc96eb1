import Testing

@testable import JudgeStats

@Suite("Seeded percentile bootstrap")
struct BootstrapTests {
    static func correctness(n: Int, p: Double, seed: UInt64) -> [Bool] {
        var rng = SeededGenerator(seed: seed)
        return (0..<n).map { _ in rng.nextUnit() < p }
    }

    static func mean(_ v: [Bool]) -> ([Int]) -> Double? {
        { idx in Double(idx.reduce(0) { $0 + (v[$1] ? 1 : 0) }) / Double(idx.count) }
    }

    @Test func deterministicBySeed() throws {
        let v = Self.correctness(n: 300, p: 0.7, seed: 1)
        let a = try #require(bootstrapPercentileCI(count: v.count, seed: 42, statistic: Self.mean(v)))
        let b = try #require(bootstrapPercentileCI(count: v.count, seed: 42, statistic: Self.mean(v)))
        let c = try #require(bootstrapPercentileCI(count: v.count, seed: 43, statistic: Self.mean(v)))
        #expect(a == b)
        #expect(a != c)
        #expect(bootstrapAccuracyCI(correct: v, seed: 5)! == bootstrapAccuracyCI(correct: v, seed: 5)!)
        let values = v.map { $0 ? 1.0 : 0.0 }
        #expect(bootstrapMeanCI(values, seed: 5)! == bootstrapMeanCI(values, seed: 5)!)
    }

    @Test(arguments: [50, 500, 5000])
    func containsPointEstimate(n: Int) throws {
        let v = Self.correctness(n: n, p: 0.7, seed: UInt64(n))
        let point = Double(v.filter { $0 }.count) / Double(n)
        let generic = try #require(bootstrapPercentileCI(count: n, statistic: Self.mean(v)))
        let fast = try #require(bootstrapAccuracyCI(correct: v))
        let mean = try #require(bootstrapMeanCI(v.map { $0 ? 1 : 0 }))
        for ci in [generic, fast, mean] {
            #expect(ci.lo < point && point < ci.hi)
            #expect(ci.lo >= 0 && ci.hi <= 1)
        }
        // The fast paths are equal in distribution to the generic one: bounds agree closely.
        let tolerance = 4 / Double(n).squareRoot() * 0.46 / 4 + 0.01
        #expect(abs(fast.lo - generic.lo) < tolerance && abs(fast.hi - generic.hi) < tolerance)
        #expect(abs(mean.lo - generic.lo) < tolerance && abs(mean.hi - generic.hi) < tolerance)
    }

    @Test func clusterResamplingIsWiderOnClusteredData() throws {
        // 40 clusters of 25 items; all items of a cluster share their correctness.
        var rng = SeededGenerator(seed: 9)
        let clusterCorrect = (0..<40).map { _ in rng.nextUnit() < 0.6 }
        let clusters = (0..<1000).map { $0 / 25 }
        let v = clusters.map { clusterCorrect[$0] }
        let items = try #require(bootstrapPercentileCI(count: v.count, statistic: Self.mean(v)))
        let byCluster = try #require(bootstrapPercentileCI(count: v.count, clusters: clusters, statistic: Self.mean(v)))
        #expect(items != byCluster)
        #expect(byCluster.hi - byCluster.lo > 2 * (items.hi - items.lo))
        let fast = try #require(bootstrapAccuracyCI(correct: v, clusters: clusters))
        #expect(abs((fast.hi - fast.lo) - (byCluster.hi - byCluster.lo)) < 0.08)
        let mean = try #require(bootstrapMeanCI(v.map { $0 ? 1 : 0 }, clusters: clusters))
        #expect(mean.hi - mean.lo > 2 * (items.hi - items.lo))
    }

    @Test func clusterResamplesTakeWholeClusters() throws {
        // Each resample must contain whole clusters: the statistic checks cluster sizes.
        let clusters = [7, 7, 7, 3, 3, 9]
        var sizes: Set<Int> = []
        _ = bootstrapPercentileCI(count: 6, resamples: 200, clusters: clusters) { idx in
            var perCluster: [Int: Int] = [:]
            for i in idx { perCluster[clusters[i], default: 0] += 1 }
            let expected = [7: 3, 3: 2, 9: 1]
            for (c, k) in perCluster { sizes.insert(k % expected[c]!) }
            return Double(idx.count)
        }
        #expect(sizes == [0])
    }

    @Test func undefinedCases() {
        #expect(bootstrapPercentileCI(count: 1) { _ in 1 } == nil)
        #expect(bootstrapPercentileCI(count: 0) { _ in 1 } == nil)
        #expect(bootstrapPercentileCI(count: 10) { _ in nil } == nil)
        #expect(bootstrapPercentileCI(count: 10, level: 1) { _ in 1 } == nil)
        #expect(bootstrapPercentileCI(count: 3, clusters: [1, 1, 1]) { _ in 1 } == nil)
        #expect(bootstrapPercentileCI(count: 3, clusters: [1, 2]) { _ in 1 } == nil)
        #expect(bootstrapAccuracyCI(correct: [true]) == nil)
        #expect(bootstrapMeanCI([1.0]) == nil)
        #expect(bootstrapMeanCI([1.0, .nan]) == nil)
        // Fewer than half of the resamples defined → nil; more than half → defined.
        var flip = 0
        #expect(
            bootstrapPercentileCI(count: 10, resamples: 100) { _ in
                flip += 1
                return flip % 3 == 0 ? 1 : nil
            } == nil)
        #expect(
            bootstrapPercentileCI(count: 10, resamples: 100) { _ in
                flip += 1
                return flip % 3 == 0 ? nil : 1
            } != nil)
    }

    @Test(arguments: [(10, 3), (1000, 700), (1_000_000, 832_000), (50, 1)])
    func binomialTableMatchesMoments(n: Int, k: Int) {
        // The accuracy fast path draws the number of correct items from Binomial(n, k/n).
        let table = BinomialTable(n: n, k: k)
        #expect(table.cdf.last == 1)
        #expect(zip(table.cdf, table.cdf.dropFirst()).allSatisfy { $0 <= $1 })
        var rng = SeededGenerator(seed: 3)
        let draws = 200_000
        var sum = 0.0
        var squares = 0.0
        for _ in 0..<draws {
            let x = Double(table.quantile(rng.nextUnit()))
            sum += x
            squares += x * x
        }
        let p = Double(k) / Double(n)
        let mean = sum / Double(draws)
        let variance = squares / Double(draws) - mean * mean
        let sd = (Double(n) * p * (1 - p)).squareRoot()
        #expect(abs(mean - Double(n) * p) < 5 * sd / Double(draws).squareRoot())
        #expect(abs(variance / (sd * sd) - 1) < 0.02)
        // Small n: the table covers 0...n exactly.
        if n == 10 {
            #expect(table.lo == 0 && table.cdf.count == 11)
            let pmf3 = 120 * pow3(0.3) * pow7(0.7)  // C(10,3) 0.3³ 0.7⁷
            #expect(abs((table.cdf[3] - table.cdf[2]) - pmf3) < 1e-12)
        }
    }

    @Test func constantDataGivesDegenerateInterval() throws {
        let ci = try #require(bootstrapAccuracyCI(correct: [Bool](repeating: true, count: 20)))
        #expect(ci.lo == 1 && ci.hi == 1)
    }
}

private func pow3(_ x: Double) -> Double { x * x * x }
private func pow7(_ x: Double) -> Double { x * x * x * x * x * x * x }
