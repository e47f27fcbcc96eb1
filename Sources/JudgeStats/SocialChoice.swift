// Social-choice aggregation of several rankings (voters) of the same candidates.

/// One voter's ranking of the candidates `0..<n` as tiers, best first: candidates in one tier are tied.
/// Every candidate must appear in exactly one tier (callers put unranked candidates in a last tier).
package struct WeakOrderBallot: Sendable, Hashable {
    /// Tiers of candidate indices, best first.
    package var tiers: [[Int]]
    /// How many voters cast this ballot (1, or a slice size).
    package var weight: Double

    package init(tiers: [[Int]], weight: Double = 1) {
        self.tiers = tiers
        self.weight = weight
    }

    /// The tier index of every candidate (0 = best); `nil` for one not ranked.
    func levels(_ n: Int) -> [Int?] {
        var l = [Int?](repeating: nil, count: n)
        for (k, tier) in tiers.enumerated() { for c in tier where (0..<n).contains(c) { l[c] = k } }
        return l
    }
}

/// The social-choice rules of `judgepanel rank --rule`.
///
/// Each rule's scores are defined as in pref_voting 1.18 (`ProfileWithTies`, every candidate ranked), so that a
/// test can compare both on the same profiles (scripts/reference/make_social_choice_fixture.py):
///
/// * `plurality`: `tops_scores(score_type="split")` — a voter gives its weight to its top tier, split equally
///   among the candidates in it (equal to `plurality_scores` when no top is shared; pref_voting's
///   `plurality_scores` refuses such ballots).
/// * `borda`: `symmetric_borda_scores` — per voter, the candidates ranked strictly below minus those strictly
///   above.
/// * `copeland`: `copeland_scores(scores=(1, 0, -1))` on the margins (voters strictly preferring x to y minus the
///   reverse): +1 per candidate beaten, −1 per candidate lost to.
/// * `minimax`: `minimax_scores(score_method="margins")`: minus the largest margin of any candidate over this one
///   (0 when none beats it).
/// * `schulze`: beat path (`beat_path` with the Floyd–Warshall strongest paths over margins, as pref_voting's
///   `_beat_path_floyd_warshall`); the score is minus the number of candidates that defeat this one
///   (`beat_path_defeat`'s in-degree): 0 exactly for the Schulze winners, and since the defeat relation is
///   transitive, a candidate defeated by another always scores lower — the order extends Schulze's relation.
/// * `kemeny`: a Kemeny–Young ranking maximises the sum over ordered pairs of the margins (equivalently minimises
///   the weighted Kendall-τ distance to the voters; pref_voting `kemeny_young`, "marginal"); the score is the
///   number of candidates ranked below in that ranking. Exact by dynamic programming over subsets,
///   O(2ⁿ·n²) time and O(2ⁿ) memory: instant for 10 candidates, about a second at 16; more than
///   ``SocialChoice/kemenyLimit`` candidates are refused (no heuristic).
///
/// Ties: the order sorts by score, highest first, then by candidate name (Swift `String` order: code points for
/// ASCII names); for Kemeny, among several optimal rankings, the one that is first by candidate name position by
/// position. Input order never breaks a tie.
package enum SocialChoiceRule: String, Sendable, CaseIterable {
    case plurality, borda, copeland, minimax, kemeny, schulze
}

/// The aggregate of a profile under one rule.
package struct SocialChoiceResult: Sendable, Equatable {
    /// Candidate indices, best first.
    package var order: [Int]
    /// Score per candidate index (higher is better).
    package var scores: [Double]
}

package enum SocialChoice {
    /// Most candidates the exact Kemeny–Young computation accepts.
    package static let kemenyLimit = 16

    package enum Failure: Error, Equatable, CustomStringConvertible {
        case tooManyCandidatesForKemeny(Int)

        package var description: String {
            switch self {
            case .tooManyCandidatesForKemeny(let n):
                return "Kemeny–Young is computed exactly (O(2^n·n^2)) for at most \(SocialChoice.kemenyLimit) models; "
                    + "this profile has \(n). Use another rule (schulze, copeland, borda)."
            }
        }
    }

    /// Margin matrix: `m[x][y]` = weight of voters ranking x strictly above y minus the reverse.
    package static func margins(_ ballots: [WeakOrderBallot], n: Int) -> [[Double]] {
        var m = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for b in ballots {
            let l = b.levels(n)
            for x in 0..<n {
                for y in 0..<n where x != y {
                    guard let lx = l[x], let ly = l[y] else { continue }
                    if lx < ly { m[x][y] += b.weight } else if lx > ly { m[x][y] -= b.weight }
                }
            }
        }
        return m
    }

    /// Aggregates `ballots` over candidates named `names` (indices into it) with `rule`.
    package static func aggregate(
        _ ballots: [WeakOrderBallot], names: [String], rule: SocialChoiceRule
    ) throws(Failure) -> SocialChoiceResult {
        let n = names.count
        let byScore: ([Double]) -> [Int] = { s in
            (0..<n).sorted { s[$0] != s[$1] ? s[$0] > s[$1] : names[$0] < names[$1] }
        }
        switch rule {
        case .plurality:
            var s = [Double](repeating: 0, count: n)
            for b in ballots {
                guard let top = b.tiers.first(where: { !$0.isEmpty }) else { continue }
                for c in top { s[c] += b.weight / Double(top.count) }
            }
            return SocialChoiceResult(order: byScore(s), scores: s)
        case .borda:
            var s = [Double](repeating: 0, count: n)
            for b in ballots {
                let l = b.levels(n)
                for x in 0..<n {
                    guard let lx = l[x] else { continue }
                    var below = 0.0
                    var above = 0.0
                    for y in 0..<n where y != x {
                        guard let ly = l[y] else { continue }
                        if ly > lx { below += 1 } else if ly < lx { above += 1 }
                    }
                    s[x] += b.weight * (below - above)
                }
            }
            return SocialChoiceResult(order: byScore(s), scores: s)
        case .copeland:
            let m = margins(ballots, n: n)
            var s = [Double](repeating: 0, count: n)
            for x in 0..<n {
                for y in 0..<n where m[x][y] != 0 { s[x] += m[x][y] > 0 ? 1 : -1 }
            }
            return SocialChoiceResult(order: byScore(s), scores: s)
        case .minimax:
            let m = margins(ballots, n: n)
            var s = [Double](repeating: 0, count: n)
            for x in 0..<n {
                var worst = 0.0
                for y in 0..<n where y != x { worst = max(worst, m[y][x]) }
                s[x] = -worst
            }
            return SocialChoiceResult(order: byScore(s), scores: s)
        case .schulze:
            let p = strongestPaths(margins(ballots, n: n))
            var s = [Double](repeating: 0, count: n)
            for x in 0..<n {
                for y in 0..<n where y != x && p[y][x] > p[x][y] { s[x] -= 1 }
            }
            return SocialChoiceResult(order: byScore(s), scores: s)
        case .kemeny:
            let order = try kemeny(margins(ballots, n: n), names: names)
            var s = [Double](repeating: 0, count: n)
            for (k, c) in order.enumerated() { s[c] = Double(n - 1 - k) }
            return SocialChoiceResult(order: order, scores: s)
        }
    }

    /// Strongest beat paths over margins (Floyd–Warshall, as pref_voting's `_beat_path_floyd_warshall`): a direct
    /// link x→y has the strength of the margin when x beats y, and −∞ otherwise.
    static func strongestPaths(_ m: [[Double]]) -> [[Double]] {
        let n = m.count
        var p = [[Double]](repeating: [Double](repeating: -.infinity, count: n), count: n)
        for x in 0..<n { for y in 0..<n where x == y || m[x][y] > 0 { p[x][y] = m[x][y] } }
        for i in 0..<n {
            for j in 0..<n where j != i {
                for k in 0..<n where k != i && k != j {
                    p[j][k] = max(p[j][k], min(p[j][i], p[i][k]))
                }
            }
        }
        return p
    }

    /// A Kemeny–Young ranking (maximum sum of margins over ordered pairs), exactly, by dynamic programming over
    /// the set of candidates already placed; among optimal rankings the one first by name position by position.
    package static func kemeny(_ m: [[Double]], names: [String]) throws(Failure) -> [Int] {
        let n = m.count
        guard n <= kemenyLimit else { throw .tooManyCandidatesForKemeny(n) }
        guard n > 0 else { return [] }
        let full = (1 << n) - 1
        // best[S]: the largest sum of margins among the candidates not in S, ordered below S.
        var best = [Double](repeating: 0, count: 1 << n)
        // gain(c, S): margins of c over every other candidate not in S (c placed next, above the rest).
        func gain(_ c: Int, _ placed: Int) -> Double {
            var g = 0.0
            for d in 0..<n where d != c && placed & (1 << d) == 0 { g += m[c][d] }
            return g
        }
        var sets = Array(0...full)
        sets.sort { $0.nonzeroBitCount > $1.nonzeroBitCount }
        for s in sets where s != full {
            var v = -Double.infinity
            for c in 0..<n where s & (1 << c) == 0 { v = max(v, gain(c, s) + best[s | (1 << c)]) }
            best[s] = v
        }
        let byName = (0..<n).sorted { names[$0] < names[$1] }
        var order: [Int] = []
        var placed = 0
        while placed != full {
            let target = best[placed]
            // Margins are sums of voter weights (integers for slice sizes): compare with a relative tolerance.
            let tol = 1e-9 * max(1, abs(target))
            let c = byName.first { c in
                placed & (1 << c) == 0 && abs(gain(c, placed) + best[placed | (1 << c)] - target) <= tol
            }!
            order.append(c)
            placed |= 1 << c
        }
        return order
    }
}
