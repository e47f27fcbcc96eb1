#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// McNemar's exact test for paired binary outcomes: of the discordant pairs, `b` changed one way and `c` the
/// other; under the null hypothesis each discordant pair goes either way with probability ½.
///
/// The statistic is min(b, c) and the two-sided p-value 2·P(X ≤ min(b, c)) for X ~ Binomial(b + c, ½), capped
/// at 1 — statsmodels' `mcnemar(table, exact=True)` (statsmodels.stats.contingency_tables). With no discordant
/// pair the p-value is 1.
///
/// ```swift
/// let t = McNemar.exact(b: 12, c: 3)   // t.pValue ≈ 0.0352
/// ```
public enum McNemar {
    /// The test's result.
    public struct Result: Sendable, Hashable {
        /// Discordant pairs one way (first → second).
        public var b: Int
        /// Discordant pairs the other way.
        public var c: Int
        /// min(b, c).
        public var statistic: Int
        /// The two-sided exact p-value.
        public var pValue: Double
    }

    /// The exact test on the discordant counts (`b`, `c` ≥ 0).
    public static func exact(b: Int, c: Int) -> Result {
        precondition(b >= 0 && c >= 0, "McNemar counts must be non-negative")
        let n = b + c
        let k = min(b, c)
        guard n > 0 else { return Result(b: b, c: c, statistic: k, pValue: 1) }
        return Result(b: b, c: c, statistic: k, pValue: min(1, 2 * binomialHalfCDF(k: k, n: n)))
    }

    /// P(X ≤ k) for X ~ Binomial(n, ½), summed in log space from the largest term down (exact to about 1e-13 in
    /// relative terms; the tail terms beyond 1e-17 of the largest are negligible).
    static func binomialHalfCDF(k: Int, n: Int) -> Double {
        if k >= n { return 1 }
        let logHalfN = Double(n) * log(0.5)
        func logTerm(_ i: Int) -> Double {
            lgamma(Double(n) + 1) - lgamma(Double(i) + 1) - lgamma(Double(n - i) + 1) + logHalfN
        }
        // Terms increase up to n/2; for k ≤ n/2 the largest is the k-th.
        let top = logTerm(k)
        var sum = 0.0
        var i = k
        while i >= 0 {
            let r = exp(logTerm(i) - top)
            sum += r
            if r < 1e-17 { break }
            i -= 1
        }
        return min(1, exp(top + log(sum)))
    }
}
