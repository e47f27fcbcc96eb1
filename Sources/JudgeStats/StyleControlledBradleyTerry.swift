import Foundation

/// Bradley–Terry with covariates (Chatbot Arena's and arena-hard-auto's "style control"): each battle between
/// models i and j with outcome y (i's share of a win, 0…1) and covariates f (i's style minus j's, normalised by
/// the caller) has `P(i beats j) = σ(βᵢ − βⱼ + γ·f)`. The unpenalised maximum-likelihood β and γ (binary cross
/// entropy summed over battles, the loss arena-hard-auto's `fit_pairwise_model` minimises with L-BFGS) are found
/// by Newton's method with a backtracking line search, β of `reference` fixed at 0 (only differences are
/// identified).
package enum StyleControlledBradleyTerry {
    package struct Battle: Sendable {
        package var i: Int
        package var j: Int
        package var outcome: Double
        package var covariates: [Double]

        package init(i: Int, j: Int, outcome: Double, covariates: [Double]) {
            self.i = i
            self.j = j
            self.outcome = outcome
            self.covariates = covariates
        }
    }

    package struct Fit: Sendable {
        /// βᵢ with β[reference] = 0.
        package var strengths: [Double]
        /// γ, one per covariate.
        package var coefficients: [Double]
        var logLikelihood: Double
        package var iterations: Int
    }

    package enum Failure: Error, Equatable, CustomStringConvertible {
        case noFiniteMaximum
        case singular

        package var description: String {
            switch self {
            case .noFiniteMaximum:
                return "no finite maximum-likelihood estimate (a model or a covariate separates the outcomes)"
            case .singular: return "the strengths and covariates are not identified by these battles"
            }
        }
    }

    /// Parameters beyond this magnitude mean the likelihood has no finite maximum.
    static let separation = 25.0

    static func logLikelihood(_ battles: [Battle], beta: [Double], gamma: [Double]) -> Double {
        var ll = 0.0
        for b in battles {
            var z = beta[b.i] - beta[b.j]
            for k in gamma.indices { z += gamma[k] * b.covariates[k] }
            // y log σ(z) + (1 − y) log(1 − σ(z)) = y z − softplus(z)
            ll += b.outcome * z - L1Logistic.softplus(z)
        }
        return ll
    }

    package static func fit(
        battles: [Battle], nModels: Int, nCovariates: Int, reference: Int, tolerance: Double = 1e-11,
        maxIterations: Int = 200
    ) throws(Failure) -> Fit {
        // Free parameters: β of every model but the reference, then γ.
        let free = (0..<nModels).filter { $0 != reference }
        var slot = [Int](repeating: -1, count: nModels)
        for (k, m) in free.enumerated() { slot[m] = k }
        let dim = free.count + nCovariates
        var beta = [Double](repeating: 0, count: nModels)
        var gamma = [Double](repeating: 0, count: nCovariates)
        var ll = logLikelihood(battles, beta: beta, gamma: gamma)
        for iteration in 1...maxIterations {
            var g = [Double](repeating: 0, count: dim)
            var h = [[Double]](repeating: [Double](repeating: 0, count: dim), count: dim)
            for b in battles {
                var z = beta[b.i] - beta[b.j]
                for k in 0..<nCovariates { z += gamma[k] * b.covariates[k] }
                let q = L1Logistic.sigmoid(z)
                let r = b.outcome - q
                let w = q * (1 - q)
                // The battle's gradient of z, as (slot, value) pairs.
                var x: [(Int, Double)] = []
                if slot[b.i] >= 0 { x.append((slot[b.i], 1)) }
                if slot[b.j] >= 0 { x.append((slot[b.j], -1)) }
                for k in 0..<nCovariates { x.append((free.count + k, b.covariates[k])) }
                for (a, va) in x {
                    g[a] += r * va
                    for (c, vc) in x { h[a][c] += w * va * vc }
                }
            }
            if g.allSatisfy({ abs($0) <= tolerance }) {
                // A separating model or covariate drives its parameter off towards infinity until the gradient
                // underflows the tolerance: log-odds beyond ±25 (odds of 7·10¹⁰) are taken as that.
                guard beta.allSatisfy({ abs($0) <= separation }), gamma.allSatisfy({ abs($0) <= separation }) else {
                    throw .noFiniteMaximum
                }
                return Fit(strengths: beta, coefficients: gamma, logLikelihood: ll, iterations: iteration - 1)
            }
            guard let step = solve(h, g) else { throw .singular }
            var t = 1.0
            var improved = false
            for _ in 0..<60 {
                var nb = beta
                var ng = gamma
                for (k, m) in free.enumerated() { nb[m] += t * step[k] }
                for k in 0..<nCovariates { ng[k] += t * step[free.count + k] }
                let nll = logLikelihood(battles, beta: nb, gamma: ng)
                if nll >= ll - 1e-15 * abs(ll) {
                    beta = nb
                    gamma = ng
                    improved = nll > ll
                    ll = nll
                    break
                }
                t /= 2
            }
            if !improved && step.allSatisfy({ abs($0) < 1e-12 }) {
                return Fit(strengths: beta, coefficients: gamma, logLikelihood: ll, iterations: iteration)
            }
            if beta.contains(where: { abs($0) > separation }) || gamma.contains(where: { abs($0) > separation }) {
                throw .noFiniteMaximum
            }
        }
        throw .noFiniteMaximum
    }

    /// Solves H x = g for a symmetric positive definite H (Gaussian elimination with partial pivoting); nil when
    /// singular.
    static func solve(_ h: [[Double]], _ g: [Double]) -> [Double]? {
        let n = g.count
        var a = h
        var b = g
        for col in 0..<n {
            var pivot = col
            for r in col..<n where abs(a[r][col]) > abs(a[pivot][col]) { pivot = r }
            guard abs(a[pivot][col]) > 1e-300 else { return nil }
            if pivot != col {
                a.swapAt(pivot, col)
                b.swapAt(pivot, col)
            }
            for r in (col + 1)..<n where a[r][col] != 0 {
                let f = a[r][col] / a[col][col]
                for c in col..<n { a[r][c] -= f * a[col][c] }
                b[r] -= f * b[col]
            }
        }
        var x = [Double](repeating: 0, count: n)
        for r in stride(from: n - 1, through: 0, by: -1) {
            var s = b[r]
            for c in (r + 1)..<n { s -= a[r][c] * x[c] }
            x[r] = s / a[r][r]
        }
        // A near-singular system shows as an enormous step.
        return x.allSatisfy({ $0.isFinite }) ? x : nil
    }
}
