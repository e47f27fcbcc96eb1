// The bootstrap of a contingency-table statistic, drawn as a multinomial table instead of item by item.
//
// Resampling n items with replacement and tabulating them gives the table counts a
// Multinomial(n, cellsᵢ / n) distribution. A statistic that depends on the items only through their table
// (accuracy, Cohen's κ with any weights, agreement with or without ties, a confusion-matrix rate) therefore
// has exactly the same bootstrap distribution when each resample draws the table directly: O(cells) work
// per resample instead of O(n). Cluster resampling draws clusters and sums their tables.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

extension SeededGenerator {
    /// A draw from Binomial(n, p), exact in distribution: inversion when n·min(p, 1−p) < 10, otherwise
    /// Hörmann's BTRS transformed rejection (as numpy's generator).
    public mutating func nextBinomial(n: Int, p: Double) -> Int {
        guard n > 0, p > 0 else { return 0 }
        guard p < 1 else { return n }
        if p > 0.5 { return n - nextBinomial(n: n, p: 1 - p) }
        let q = 1 - p
        let np = Double(n) * p
        if np < 10 {
            // Inversion by sequential search from 0: P(0) = qⁿ ≥ e^(−10·(1+p)) here, so no underflow.
            let s = p / q
            let a = Double(n + 1) * s
            while true {
                var r = pow(q, Double(n))
                var u = nextUnit()
                var x = 0
                while u > r {
                    u -= r
                    x += 1
                    if x > n { break }
                    r *= a / Double(x) - s
                }
                if x <= n { return x }
                // Rounding left u above the whole mass: draw again (probability ~1e-16).
            }
        }
        let spq = (np * q).squareRoot()
        let b = 1.15 + 2.53 * spq
        let a = -0.0873 + 0.0248 * b + 0.01 * p
        let c = np + 0.5
        let vr = 0.92 - 4.2 / b
        let alpha = (2.83 + 5.1 / b) * spq
        let lpq = log(p / q)
        let m = floor(Double(n + 1) * p)
        let h = lgamma(m + 1) + lgamma(Double(n) - m + 1)
        while true {
            let u = nextUnit() - 0.5
            var v = nextUnit()
            let us = 0.5 - abs(u)
            let kd = floor((2 * a / us + b) * u + c)
            if kd < 0 || kd > Double(n) { continue }
            if us >= 0.07 && v <= vr { return Int(kd) }
            guard v > 0 else { continue }
            v = log(v * alpha / (a / (us * us) + b))
            if v <= h - lgamma(kd + 1) - lgamma(Double(n) - kd + 1) + (kd - m) * lpq { return Int(kd) }
        }
    }

    /// A draw from Multinomial(n, weights / Σweights) by conditional binomials, written into `out`
    /// (same length as `weights`). Weights must be finite and non-negative with a positive sum.
    public mutating func nextMultinomial(n: Int, weights: [Double], into out: inout [Int]) {
        precondition(out.count == weights.count)
        var remainingMass = weights.reduce(0, +)
        var remaining = n
        for j in weights.indices {
            if remaining == 0 || remainingMass <= 0 {
                out[j] = 0
                continue
            }
            if j == weights.count - 1 {
                out[j] = weights[j] > 0 ? remaining : 0
                break
            }
            let p = min(1, weights[j] / remainingMass)
            let x = nextBinomial(n: remaining, p: p)
            out[j] = x
            remaining -= x
            remainingMass -= weights[j]
        }
    }
}

/// A percentile bootstrap confidence interval for a statistic of a table of counts (e.g. a k×k
/// confusion matrix, flattened), equal in distribution to `bootstrapPercentileCI` over the items the
/// table counts, at O(cells) per resample.
///
/// Without `clusterTables` each resample draws the table from Multinomial(Σcells, cells / Σcells).
/// With `clusterTables` (one table per cluster, each the size of `cells`; `cells` is then ignored),
/// each resample draws as many clusters as there are, with replacement, and sums their tables — the
/// cluster bootstrap. Resamples where `statistic` returns nil or a non-finite value are skipped; the
/// interval uses numpy's linear percentile interpolation. nil when fewer than two items (or clusters)
/// are counted, `level` is outside (0, 1), or fewer than half the resamples are defined. The table
/// passed to `statistic` is a reused buffer: read it, don't keep it.
public func bootstrapTableCI(
    cells: [Int], resamples: Int = 1000, seed: UInt64 = 0, level: Double = 0.95, clusterTables: [[Int]]? = nil,
    statistic: ([Int]) -> Double?
) -> (lo: Double, hi: Double)? {
    guard resamples > 0, level > 0, level < 1 else { return nil }
    var stats: [Double] = []
    stats.reserveCapacity(resamples)
    if let clusterTables {
        guard clusterTables.count >= 2, let width = clusterTables.first?.count, width > 0,
            clusterTables.allSatisfy({ $0.count == width && $0.allSatisfy { $0 >= 0 } })
        else { return nil }
        var drawer = IndexDrawer(seed: seed, bound: clusterTables.count)
        var picks = [Int](repeating: 0, count: clusterTables.count)
        var table = [Int](repeating: 0, count: width)
        for _ in 0..<resamples {
            picks.withUnsafeMutableBufferPointer { drawer.fill($0) }
            for j in 0..<width { table[j] = 0 }
            for p in picks {
                let t = clusterTables[p]
                for j in 0..<width { table[j] += t[j] }
            }
            if let s = statistic(table), s.isFinite { stats.append(s) }
        }
    } else {
        guard cells.allSatisfy({ $0 >= 0 }) else { return nil }
        let n = cells.reduce(0, +)
        guard n >= 2 else { return nil }
        let weights = cells.map(Double.init)
        var rng = SeededGenerator(seed: seed)
        var table = [Int](repeating: 0, count: cells.count)
        for _ in 0..<resamples {
            rng.nextMultinomial(n: n, weights: weights, into: &table)
            if let s = statistic(table), s.isFinite { stats.append(s) }
        }
    }
    return percentileInterval(&stats, resamples: resamples, level: level)
}

/// Cohen's κ from a flattened k×k confusion matrix (rows: rater 1), for use inside `bootstrapTableCI`.
public func cohenKappa(flatConfusion: [Int], categoryCount k: Int, weights: KappaWeights = .none) -> MetricValue {
    guard k > 0, flatConfusion.count == k * k else { return .undefined("confusion matrix is not k×k") }
    guard flatConfusion.allSatisfy({ $0 >= 0 }) else { return .undefined("negative count") }
    return kappa(confusion: flatConfusion, k: k, weights: weights)
}
