// Pairwise comparisons with fractional outcomes (a judge's probability of preferring one side) and the two ways
// `judgepanel rank` scores models from them: Bradley–Terry, or the win rate against one baseline model.

/// A pairwise comparison between items `a` and `b` whose outcome is a fraction: `a` scores `scoreA` ∈ [0, 1] of a win
/// and `b` scores `1 − scoreA`. A hard outcome is 1 (a wins), 0 (b wins) or ½ (a tie); a probability preference (for
/// example AlpacaEval 2's weighted annotator, P(b preferred) = `preference − 1`) gives any value in between.
///
/// ```swift
/// let c = [FractionalComparison(0, 1, scoreA: 0.8), FractionalComparison(1, 2, scoreA: 0.3)]
/// let fit = BradleyTerry.fit(nItems: 3, fractional: c)
/// ```
public struct FractionalComparison: Sendable, Hashable {
    public var a: Int
    public var b: Int
    /// The share of a win that goes to `a` (the rest goes to `b`).
    public var scoreA: Double

    /// A comparison in which `a` scores `scoreA` and `b` scores `1 − scoreA`.
    public init(_ a: Int, _ b: Int, scoreA: Double) {
        self.a = a
        self.b = b
        self.scoreA = scoreA
    }

    /// The hard outcome as a fraction: a win of `a` is 1, a win of `b` 0, a tie ½.
    public init(_ c: PairwiseComparison) {
        self.init(c.a, c.b, scoreA: c.outcome == .aWins ? 1 : (c.outcome == .bWins ? 0 : 0.5))
    }
}

extension BradleyTerry {
    /// Bradley–Terry strengths from fractional outcomes: each comparison counts as `scoreA` of a win for `a` over
    /// `b` and `1 − scoreA` of a win for `b` over `a` (I-LSR on weighted wins, as ``ilsr(nItems:wins:alpha:maxIterations:tolerance:)``).
    /// This is choix 0.4.1 `ilsr_pairwise_dense(comp_mat, alpha)` with `comp_mat[i][j]` the summed fractional wins
    /// of i over j. With outcomes 1, 0 and ½ only it is exactly ``fit(nItems:comparisons:ties:alpha:)`` with
    /// half-win ties (the same weighted wins in the same order).
    public static func fit(nItems: Int, fractional comparisons: [FractionalComparison], alpha: Double = 0.01)
        -> BradleyTerryFit
    {
        ilsr(nItems: nItems, wins: fractionalWins(comparisons), alpha: alpha)
    }

    /// `scoreA` of a win for a, `1 − scoreA` for b; zero shares are left out (as ``halfWins(_:)`` lists a decisive
    /// comparison once and a tie as two halves).
    static func fractionalWins(_ comparisons: [FractionalComparison]) -> [(winner: Int, loser: Int, weight: Double)] {
        var out: [(winner: Int, loser: Int, weight: Double)] = []
        out.reserveCapacity(comparisons.count * 2)
        for c in comparisons {
            if c.scoreA > 0 { out.append((c.a, c.b, c.scoreA)) }
            if c.scoreA < 1 { out.append((c.b, c.a, 1 - c.scoreA)) }
        }
        return out
    }
}

/// How a ranking scores models from their comparisons (``ClusteredRankBootstrap``).
package enum RankScore: Sendable, Hashable {
    /// Bradley–Terry log-strengths, centred to mean 0 (half-win I-LSR on fractional outcomes; `alpha` as in
    /// ``BradleyTerry/ilsr(nItems:wins:alpha:maxIterations:tolerance:)``).
    case bradleyTerry(alpha: Double)
    /// Each model's mean score in its comparisons with model `baseline` — its win rate against the baseline, ties
    /// (or probabilities) counted fractionally, as AlpacaEval computes its leaderboard. The baseline itself scores
    /// ½ (its win rate against itself); a model that never met the baseline scores NaN. Comparisons between two
    /// other models do not count.
    case winRateAgainst(baseline: Int)

    /// The score of every model from `comparisons`.
    package func strengths(nModels: Int, _ comparisons: [FractionalComparison]) -> [Double] {
        switch self {
        case .bradleyTerry(let alpha):
            return BradleyTerry.fit(nItems: nModels, fractional: comparisons, alpha: alpha).strengths
        case .winRateAgainst(let baseline):
            var sum = [Double](repeating: 0, count: nModels)
            var n = [Int](repeating: 0, count: nModels)
            for c in comparisons where c.a != c.b {
                if c.b == baseline, (0..<nModels).contains(c.a) {
                    sum[c.a] += c.scoreA
                    n[c.a] += 1
                } else if c.a == baseline, (0..<nModels).contains(c.b) {
                    sum[c.b] += 1 - c.scoreA
                    n[c.b] += 1
                }
            }
            return (0..<nModels).map { i in i == baseline ? 0.5 : (n[i] == 0 ? .nan : sum[i] / Double(n[i])) }
        }
    }
}
