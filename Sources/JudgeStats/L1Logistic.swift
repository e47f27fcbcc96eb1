import Foundation

/// L1-penalised logistic regression with soft labels and sample weights, no intercept — the problem liblinear's
/// `L1R_LR` solver (scikit-learn's `LogisticRegression(penalty="l1", solver="liblinear", fit_intercept=False)`)
/// solves when each row is given twice, once as class 1 with weight `s·p` and once as class 0 with weight
/// `s·(1 − p)` (alpaca_eval's trick for probability targets):
///
///     minimise  ‖w‖₁ + C · Σᵢ sᵢ · [softplus(xᵢ·w) − pᵢ · xᵢ·w]
///
/// Solved by proximal Newton steps (each quadratic model minimised by cyclic coordinate descent with soft
/// thresholding, as glmnet and liblinear's newGLMNET do) with a backtracking line search, to a tight tolerance
/// instead of liblinear's 1e-4: the result is the exact optimum, which liblinear approaches.
package enum L1Logistic {
    /// `log(1 + eˣ)` without overflow.
    static func softplus(_ x: Double) -> Double {
        x > 0 ? x + log1p(exp(-x)) : log1p(exp(x))
    }

    /// The logistic function.
    package static func sigmoid(_ x: Double) -> Double {
        x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x))
    }

    /// The penalised objective at `w`.
    package static func objective(x: [[Double]], p: [Double], weight: [Double], c: Double, w: [Double]) -> Double {
        var loss = 0.0
        for i in x.indices where weight[i] != 0 {
            let z = dot(x[i], w)
            loss += weight[i] * (softplus(z) - p[i] * z)
        }
        return w.reduce(0) { $0 + abs($1) } + c * loss
    }

    /// The coefficients minimising the objective. `x`: rows of features (all the same length), `p`: targets in
    /// [0, 1], `weight`: sample weights ≥ 0, `c`: the inverse penalty strength (> 0).
    package static func fit(
        x: [[Double]], p: [Double], weight: [Double], c: Double, tolerance: Double = 1e-13, maxIterations: Int = 500
    ) -> [Double] {
        let k = x.first?.count ?? 0
        var w = [Double](repeating: 0, count: k)
        guard k > 0, c > 0 else { return w }
        var f = objective(x: x, p: p, weight: weight, c: c, w: w)
        for _ in 0..<maxIterations {
            // Gradient and Hessian of the smooth part (times C).
            var g = [Double](repeating: 0, count: k)
            var h = [[Double]](repeating: [Double](repeating: 0, count: k), count: k)
            for i in x.indices where weight[i] != 0 {
                let row = x[i]
                let q = sigmoid(dot(row, w))
                let gi = c * weight[i] * (q - p[i])
                let hi = c * weight[i] * q * (1 - q)
                for a in 0..<k {
                    g[a] += gi * row[a]
                    for b in a..<k { h[a][b] += hi * row[a] * row[b] }
                }
            }
            for a in 0..<k { for b in 0..<a { h[a][b] = h[b][a] } }
            // Minimise g·d + ½ dᵀHd + ‖w + d‖₁ by coordinate descent.
            var d = [Double](repeating: 0, count: k)
            for _ in 0..<10_000 {
                var largest = 0.0
                for j in 0..<k {
                    let a = max(h[j][j], 1e-300)
                    var hd = 0.0
                    for b in 0..<k where b != j { hd += h[j][b] * d[b] }
                    let u = w[j] - (g[j] + hd) / a
                    let z = u > 0 ? max(u - 1 / a, 0) : min(u + 1 / a, 0)
                    let step = z - (w[j] + d[j])
                    largest = max(largest, abs(step))
                    d[j] += step
                }
                if largest <= 1e-15 * max(1, w.reduce(0) { max($0, abs($1)) }) { break }
            }
            if d.allSatisfy({ $0 == 0 }) { break }
            // Backtracking line search (Armijo on the penalised objective).
            let l1Now = w.reduce(0) { $0 + abs($1) }
            var l1Next = 0.0
            for j in 0..<k { l1Next += abs(w[j] + d[j]) }
            let delta = dot(g, d) + l1Next - l1Now
            var t = 1.0
            var accepted = false
            var next = w
            var fNext = f
            for _ in 0..<60 {
                for j in 0..<k { next[j] = w[j] + t * d[j] }
                fNext = objective(x: x, p: p, weight: weight, c: c, w: next)
                if fNext <= f + 0.01 * t * delta || fNext <= f {
                    accepted = true
                    break
                }
                t /= 2
            }
            guard accepted else { break }
            let moved = zip(next, w).reduce(0) { max($0, abs($1.0 - $1.1)) }
            w = next
            let improvement = f - fNext
            f = fNext
            if moved <= tolerance * max(1, w.reduce(0) { max($0, abs($1)) }) || improvement <= 1e-16 * max(1, abs(f)) {
                break
            }
        }
        return w
    }

    static func dot(_ a: [Double], _ b: [Double]) -> Double {
        var s = 0.0
        for i in a.indices { s += a[i] * b[i] }
        return s
    }
}
