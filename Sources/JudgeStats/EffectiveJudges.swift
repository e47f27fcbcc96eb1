/// The effective number of independent judges in a panel whose errors are correlated.
///
/// With `n` equally weighted judges whose errors have correlation matrix `ρ` (ρ_ii = 1), the
/// variance of the panel's mean verdict equals that of `n_eff` independent judges, with
///
///     n_eff = n² / Σ_ij ρ_ij                (Kish-style design effect)
///
/// `n` uncorrelated judges give `n`; perfectly correlated ones give 1. The eigenvalue
/// (participation-ratio) variant is
///
///     n_eff = (Σ_k λ_k)² / Σ_k λ_k² = n² / Σ_ij ρ_ij²
///
/// (since Σλ = tr ρ = n and Σλ² = tr ρ² = Σ_ij ρ_ij²), which needs no eigen-decomposition
/// and, unlike the first, never exceeds `n` for negative correlations.
///
/// The diagonal is taken to be 1 whatever the matrix holds there. Both are undefined with
/// fewer than two judges, a non-square matrix, or any off-diagonal correlation undefined;
/// the Kish form also when Σ_ij ρ_ij ≤ 0 (strong negative correlations).
///
/// ```swift
/// EffectiveJudges.kish([[1, 0.5], [0.5, 1]])   // 4 / 3
/// ```
public enum EffectiveJudges {
    /// `n² / Σ_ij ρ_ij`. `nil` entries are undefined correlations.
    public static func kish(_ correlation: [[Double?]]) -> MetricValue {
        switch offDiagonal(correlation) {
        case .failure(let reason): return .undefined(reason)
        case .success(let (n, sum, _)):
            let total = Double(n) + sum
            guard total > 0 else { return .undefined("sum of correlations is not positive") }
            return .defined(Double(n * n) / total)
        }
    }

    /// The panel's effective number of judges, as reports print it: Kish's form with each negative error correlation
    /// counted as 0,
    ///
    ///     n_eff = n² / (n + Σ_{i≠j} max(ρ_ij, 0))
    ///
    /// which lies in [1, n]: `n` when no two judges' errors are positively correlated (judges that err in opposite
    /// directions are not counted as more than independent ones), 1 when all are perfectly correlated. Undefined as
    /// ``kish(_:)`` is (fewer than two judges, an undefined correlation).
    public static func bounded(_ correlation: [[Double?]]) -> MetricValue {
        let floored = correlation.enumerated().map { i, row in
            row.enumerated().map { j, v in i == j ? v : v.map { Swift.max($0, 0) } }
        }
        let k = kish(floored)
        guard let v = k.value else { return k }
        // Rounding only: the formula is within [1, n].
        return .defined(Swift.min(Double(correlation.count), Swift.max(1, v)))
    }

    /// ``bounded(_:)`` on a matrix of ``MetricValue``s.
    public static func bounded(_ correlation: [[MetricValue]]) -> MetricValue {
        bounded(correlation.map { $0.map(\.value) })
    }

    /// `n² / Σ_ij ρ_ij²` (participation ratio of the eigenvalues of ρ).
    public static func eigen(_ correlation: [[Double?]]) -> MetricValue {
        switch offDiagonal(correlation) {
        case .failure(let reason): return .undefined(reason)
        case .success(let (n, _, sumSq)):
            return .defined(Double(n * n) / (Double(n) + sumSq))
        }
    }

    /// ``kish(_:)`` on a matrix of ``MetricValue``s (e.g. pairwise error correlations).
    public static func kish(_ correlation: [[MetricValue]]) -> MetricValue {
        kish(correlation.map { $0.map(\.value) })
    }

    /// ``eigen(_:)`` on a matrix of ``MetricValue``s.
    public static func eigen(_ correlation: [[MetricValue]]) -> MetricValue {
        eigen(correlation.map { $0.map(\.value) })
    }

    /// ``kish(_:)`` on a fully defined matrix.
    public static func kish(_ correlation: [[Double]]) -> MetricValue {
        kish(correlation.map { $0.map { Optional($0) } })
    }

    /// ``eigen(_:)`` on a fully defined matrix.
    public static func eigen(_ correlation: [[Double]]) -> MetricValue {
        eigen(correlation.map { $0.map { Optional($0) } })
    }

    private enum Sums {
        case success((Int, Double, Double))
        case failure(String)
    }

    /// n, Σ_{i≠j} ρ_ij and Σ_{i≠j} ρ_ij².
    private static func offDiagonal(_ r: [[Double?]]) -> Sums {
        let n = r.count
        guard n >= 2 else { return .failure("fewer than two judges") }
        guard r.allSatisfy({ $0.count == n }) else { return .failure("correlation matrix is not square") }
        var sum = 0.0
        var sumSq = 0.0
        for i in 0..<n {
            for j in 0..<n where i != j {
                guard let v = r[i][j], v.isFinite else {
                    return .failure("correlation between judges \(i) and \(j) is undefined")
                }
                guard v >= -1 - 1e-9, v <= 1 + 1e-9 else {
                    return .failure("correlation between judges \(i) and \(j) is outside [-1, 1]")
                }
                sum += v
                sumSq += v * v
            }
        }
        return .success((n, sum, sumSq))
    }
}
