#if canImport(Darwin)
    import Darwin
#elseif canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(ucrt)
    import ucrt
#endif

/// One pairwise comparison between items `a` and `b` (models, in `judgepanel rank`).
public struct PairwiseComparison: Sendable, Hashable, Codable {
    public enum Outcome: String, Sendable, Hashable, Codable {
        case aWins = "a"
        case bWins = "b"
        case tie
    }
    public var a: Int
    public var b: Int
    public var outcome: Outcome

    public init(_ a: Int, _ b: Int, _ outcome: Outcome) {
        self.a = a
        self.b = b
        self.outcome = outcome
    }
}

/// A fitted Bradley–Terry model.
public struct BradleyTerryFit: Sendable, Hashable, Codable {
    /// Log-scale strengths, centred to mean 0 (choix's convention): item `i` beats `j` with
    /// probability `1 / (1 + exp(s_j - s_i))` (without ties).
    public var strengths: [Double]
    /// Davidson's tie parameter ν (`nil` for the half-win fit): P(tie) ∝ ν·√(π_i π_j).
    public var tieParameter: Double?
    /// Iterations run.
    public var iterations: Int
    /// Whether the iteration met its tolerance. When `false` the strengths are the last
    /// iterate (all 0 when the stationary distribution could not be computed).
    public var converged: Bool
}

/// One row of ``BradleyTerry/rankWithCI(nItems:comparisons:ties:alpha:resamples:confidence:seed:)``.
public struct BradleyTerryRanking: Sendable {
    /// The item (model) index.
    public var index: Int
    /// Log-scale strength, centred to mean 0 over all items.
    public var strength: Double
    /// Percentile bootstrap interval of the strength.
    public var strengthCI: (Double, Double)
    /// 1 = strongest (ties in strength go to the lower index).
    public var rank: Int
    /// Percentile bootstrap interval of the rank (lower bound rounded down, upper up).
    public var rankCI: (Int, Int)
}

/// Bradley–Terry strengths from pairwise comparisons with ties.
///
/// Two ways to treat ties:
///
/// * ``TieModel/halfWin`` (the default, and what `judgepanel rank` uses): a tie is half a
///   win for each side, a decisive comparison one win. The fit is I-LSR (iterative Luce
///   spectral ranking, Maystre & Grossglauser 2015) exactly as choix 0.4.1
///   `ilsr_pairwise(n, data, alpha)` with weighted data; with `alpha = 0` its fixed point
///   is the maximum-likelihood estimate. Because choix cannot take half wins, the tests
///   check it against choix on the data with every decisive comparison listed twice and
///   every tie as one win each way, fitted with `2·alpha` — the same chain, so the same
///   estimate.
/// * ``TieModel/davidson``: Davidson (1970): P(i ≻ j) = π_i / D, P(tie) = ν√(π_iπ_j) / D,
///   D = π_i + π_j + ν√(π_iπ_j); fitted by the fixed-point (MM-type) updates of its
///   likelihood equations, ν estimated along. `alpha` adds `alpha` pseudo-wins each way
///   between every pair.
///
/// `alpha > 0` regularises (choix's `alpha`: every transition rate of the LSR chain starts
/// at `alpha`), so items that never won or lost, and disconnected comparison graphs, still
/// get finite strengths. The default `0.01` is small next to one comparison.
public enum BradleyTerry {
    public enum TieModel: String, Sendable, Hashable, Codable {
        case halfWin = "half-win"
        case davidson
    }

    /// I-LSR on weighted wins: `choix.ilsr_pairwise(nItems, data, alpha)` where each
    /// `(winner, loser, weight)` stands for `weight` copies of `(winner, loser)`.
    /// Convergence as choix: L1 change of the centred parameters ≤ `tolerance · nItems`.
    public static func ilsr(
        nItems: Int,
        wins: [(winner: Int, loser: Int, weight: Double)],
        alpha: Double = 0.01,
        maxIterations: Int = 1000,
        tolerance: Double = 1e-10
    ) -> BradleyTerryFit {
        let n = nItems
        guard n >= 2 else {
            return BradleyTerryFit(
                strengths: Array(repeating: 0, count: max(n, 0)), tieParameter: nil,
                iterations: 0, converged: true)
        }
        let data = wins.filter {
            (0..<n).contains($0.winner) && (0..<n).contains($0.loser) && $0.winner != $0.loser && $0.weight > 0
        }
        var params: [Double]? = nil
        var prev: [Double]? = nil
        for it in 1...max(maxIterations, 1) {
            guard let next = lsrStep(n: n, data: data, alpha: alpha, params: params) else {
                return BradleyTerryFit(
                    strengths: Array(repeating: 0, count: n), tieParameter: nil,
                    iterations: it, converged: false)
            }
            params = next
            if let p = prev {
                var dist = 0.0
                for i in 0..<n { dist += abs(p[i] - next[i]) }
                if dist <= tolerance * Double(n) {
                    return BradleyTerryFit(strengths: next, tieParameter: nil, iterations: it, converged: true)
                }
            }
            prev = next
        }
        return BradleyTerryFit(
            strengths: params ?? Array(repeating: 0, count: n), tieParameter: nil,
            iterations: max(maxIterations, 1), converged: false)
    }

    /// Fits strengths from comparisons, ties as half wins (default) or by Davidson's model.
    public static func fit(
        nItems: Int,
        comparisons: [PairwiseComparison],
        ties: TieModel = .halfWin,
        alpha: Double = 0.01
    ) -> BradleyTerryFit {
        switch ties {
        case .halfWin: return ilsr(nItems: nItems, wins: halfWins(comparisons), alpha: alpha)
        case .davidson: return davidson(nItems: nItems, comparisons: comparisons, alpha: alpha)
        }
    }

    /// Ranks items by strength with percentile bootstrap intervals: the comparisons are
    /// resampled with replacement `resamples` times (seeded with ``SeededGenerator``) and
    /// refitted. Rows come best first.
    public static func rankWithCI(
        nItems: Int,
        comparisons: [PairwiseComparison],
        ties: TieModel = .halfWin,
        alpha: Double = 0.01,
        resamples: Int = 1000,
        confidence: Double = 0.95,
        seed: UInt64 = 0
    ) -> [BradleyTerryRanking] {
        guard nItems > 0 else { return [] }
        let point = fit(nItems: nItems, comparisons: comparisons, ties: ties, alpha: alpha).strengths
        let pointRanks = ranks(point)
        var sStrength = [[Double]](repeating: [], count: nItems)
        var sRank = [[Double]](repeating: [], count: nItems)
        if !comparisons.isEmpty && resamples > 0 {
            var rng = SeededGenerator(seed: seed)
            for _ in 0..<resamples {
                var sample: [PairwiseComparison] = []
                sample.reserveCapacity(comparisons.count)
                for _ in 0..<comparisons.count {
                    sample.append(comparisons[rng.nextIndex(below: comparisons.count)])
                }
                let f = fit(nItems: nItems, comparisons: sample, ties: ties, alpha: alpha)
                guard f.strengths.allSatisfy({ $0.isFinite }) else { continue }
                let r = ranks(f.strengths)
                for i in 0..<nItems {
                    sStrength[i].append(f.strengths[i])
                    sRank[i].append(Double(r[i]))
                }
            }
        }
        let lo = (1 - min(max(confidence, 0), 1)) / 2
        var rows: [BradleyTerryRanking] = []
        for i in 0..<nItems {
            let sCI: (Double, Double)
            let rCI: (Int, Int)
            if sStrength[i].isEmpty {
                sCI = (point[i], point[i])
                rCI = (pointRanks[i], pointRanks[i])
            } else {
                let s = sStrength[i].sorted()
                let r = sRank[i].sorted()
                sCI = (percentile(s, lo), percentile(s, 1 - lo))
                rCI = (Int(percentile(r, lo).rounded(.down)), Int(percentile(r, 1 - lo).rounded(.up)))
            }
            rows.append(
                BradleyTerryRanking(
                    index: i, strength: point[i], strengthCI: sCI,
                    rank: pointRanks[i], rankCI: rCI))
        }
        return rows.sorted { $0.rank < $1.rank }
    }

    // MARK: - Internals

    /// Ties as half a win each way, decisive comparisons as one win.
    static func halfWins(_ comparisons: [PairwiseComparison]) -> [(winner: Int, loser: Int, weight: Double)] {
        var out: [(winner: Int, loser: Int, weight: Double)] = []
        out.reserveCapacity(comparisons.count * 2)
        for c in comparisons {
            switch c.outcome {
            case .aWins: out.append((c.a, c.b, 1))
            case .bWins: out.append((c.b, c.a, 1))
            case .tie:
                out.append((c.a, c.b, 0.5))
                out.append((c.b, c.a, 0.5))
            }
        }
        return out
    }

    /// Rank 1 = largest strength; equal strengths go to the lower index.
    static func ranks(_ s: [Double]) -> [Int] {
        let order = s.indices.sorted { s[$0] > s[$1] || (s[$0] == s[$1] && $0 < $1) }
        var r = [Int](repeating: 0, count: s.count)
        for (k, i) in order.enumerated() { r[i] = k + 1 }
        return r
    }

    /// Linear-interpolation percentile (numpy's default) of sorted values, q in [0, 1].
    private static func percentile(_ sorted: [Double], _ q: Double) -> Double {
        let pos = q * Double(sorted.count - 1)
        let i = Int(pos.rounded(.down))
        if i >= sorted.count - 1 { return sorted[sorted.count - 1] }
        let f = pos - Double(i)
        return sorted[i] + f * (sorted[i + 1] - sorted[i])
    }

    /// One LSR step (choix `lsr_pairwise`): build the chain's generator with the current
    /// weights, take its stationary distribution, return centred log weights.
    private static func lsrStep(
        n: Int, data: [(winner: Int, loser: Int, weight: Double)], alpha: Double, params: [Double]?
    ) -> [Double]? {
        var weights = [Double](repeating: 1, count: n)
        if let p = params {
            let mean = p.reduce(0, +) / Double(n)
            let e = p.map { exp($0 - mean) }
            let s = e.reduce(0, +)
            weights = e.map { Double(n) / s * $0 }
        }
        // chain[i][j]: rate from i to j (i loses to j).
        var chain = [[Double]](repeating: [Double](repeating: alpha, count: n), count: n)
        for d in data {
            chain[d.loser][d.winner] += d.weight / (weights[d.winner] + weights[d.loser])
        }
        for i in 0..<n {
            var s = 0.0
            for j in 0..<n { s += chain[i][j] }
            chain[i][i] -= s
        }
        guard let pi = stationary(chain), pi.allSatisfy({ $0 > 0 && $0.isFinite }) else { return nil }
        let logs = pi.map { log($0) }
        let mean = logs.reduce(0, +) / Double(n)
        return logs.map { $0 - mean }
    }

    /// Stationary distribution of a generator Q (rows sum to 0): solves Qᵀπ = 0 with the
    /// last equation replaced by Σπ = 1, by Gaussian elimination with partial pivoting.
    private static func stationary(_ q: [[Double]]) -> [Double]? {
        let n = q.count
        var a = [[Double]](repeating: [Double](repeating: 0, count: n + 1), count: n)
        for i in 0..<n { for j in 0..<n { a[i][j] = q[j][i] } }
        for j in 0..<n { a[n - 1][j] = 1 }
        a[n - 1][n] = 1
        var scale = 0.0
        for i in 0..<n { for j in 0..<n { scale = max(scale, abs(a[i][j])) } }
        for c in 0..<n {
            var p = c
            for r in (c + 1)..<n where abs(a[r][c]) > abs(a[p][c]) { p = r }
            if abs(a[p][c]) <= 1e-14 * scale { return nil }
            if p != c { a.swapAt(p, c) }
            for r in (c + 1)..<n {
                let f = a[r][c] / a[c][c]
                if f == 0 { continue }
                for k in c...n { a[r][k] -= f * a[c][k] }
            }
        }
        var x = [Double](repeating: 0, count: n)
        for i in stride(from: n - 1, through: 0, by: -1) {
            var s = a[i][n]
            for k in (i + 1)..<n { s -= a[i][k] * x[k] }
            x[i] = s / a[i][i]
        }
        return x
    }

    /// Davidson's ties model by fixed-point updates of the likelihood equations.
    private static func davidson(
        nItems n: Int, comparisons: [PairwiseComparison], alpha: Double,
        maxIterations: Int = 10_000, tolerance: Double = 1e-10
    ) -> BradleyTerryFit {
        guard n >= 2 else {
            return BradleyTerryFit(
                strengths: Array(repeating: 0, count: max(n, 0)), tieParameter: 0,
                iterations: 0, converged: true)
        }
        let a = max(alpha, 0)
        // score[i] = wins + ties/2 (+ pseudo-wins); games[i][j] = comparisons between i, j.
        var score = [Double](repeating: a * Double(n - 1), count: n)
        var games = [[Double]](repeating: [Double](repeating: 2 * a, count: n), count: n)
        var tieCount = 0.0
        for c in comparisons where (0..<n).contains(c.a) && (0..<n).contains(c.b) && c.a != c.b {
            games[c.a][c.b] += 1
            games[c.b][c.a] += 1
            switch c.outcome {
            case .aWins: score[c.a] += 1
            case .bWins: score[c.b] += 1
            case .tie:
                score[c.a] += 0.5
                score[c.b] += 0.5
                tieCount += 1
            }
        }
        for i in 0..<n { games[i][i] = 0 }
        // An item that never scored has no finite maximum-likelihood strength.
        guard score.allSatisfy({ $0 > 0 }) else {
            return BradleyTerryFit(
                strengths: Array(repeating: 0, count: n), tieParameter: nil,
                iterations: 0, converged: false)
        }
        var pi = [Double](repeating: 1, count: n)
        var nu = tieCount > 0 ? 0.5 : 0
        for it in 1...maxIterations {
            var next = pi
            for i in 0..<n {
                var den = 0.0
                for j in 0..<n where games[i][j] > 0 {
                    let r = (pi[i] * pi[j]).squareRoot()
                    den += games[i][j] * (1 + 0.5 * nu * (pi[j] / pi[i]).squareRoot()) / (pi[i] + pi[j] + nu * r)
                }
                next[i] = den > 0 ? score[i] / den : pi[i]
            }
            // Normalise to geometric mean 1.
            let meanLog = next.reduce(0) { $0 + log($1) } / Double(n)
            let g = exp(meanLog)
            for i in 0..<n { next[i] /= g }
            var nextNu = 0.0
            if tieCount > 0 {
                var den = 0.0
                for i in 0..<n {
                    for j in (i + 1)..<n where games[i][j] > 0 {
                        let r = (next[i] * next[j]).squareRoot()
                        den += games[i][j] * r / (next[i] + next[j] + nu * r)
                    }
                }
                nextNu = den > 0 ? tieCount / den : 0
            }
            var change = abs(nextNu - nu)
            for i in 0..<n { change = max(change, abs(log(next[i]) - log(pi[i]))) }
            pi = next
            nu = nextNu
            if !pi.allSatisfy({ $0.isFinite && $0 > 0 }) || !nu.isFinite { break }
            if change < tolerance {
                return BradleyTerryFit(strengths: pi.map { log($0) }, tieParameter: nu, iterations: it, converged: true)
            }
        }
        let ok = pi.allSatisfy { $0.isFinite && $0 > 0 } && nu.isFinite
        return BradleyTerryFit(
            strengths: ok ? pi.map { log($0) } : Array(repeating: 0, count: n),
            tieParameter: ok ? nu : nil, iterations: maxIterations, converged: false)
    }
}
