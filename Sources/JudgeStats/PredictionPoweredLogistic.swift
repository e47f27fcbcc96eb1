import Foundation

extension PredictionPowered {
    /// A prediction-powered logistic regression: coefficients and their two-sided intervals.
    public struct LogisticEstimate: Sendable, Hashable {
        /// The coefficients (`ppi_logistic_pointestimate`).
        public var estimate: [Double]
        /// The interval's centre (`ppi_logistic_ci` refits at the λ tuned at the point estimate, so it can differ
        /// from `estimate` in the last digits).
        public var ciCenter: [Double]
        /// Lower and upper bounds per coefficient (`ppi_logistic_ci`).
        public var lo: [Double]
        public var hi: [Double]
        /// The λ the point estimate used, and the one the interval used.
        public var lambda: Double
        public var ciLambda: Double
    }

    /// Prediction-powered logistic regression without intercept (`ppi_logistic_pointestimate`, `ppi_logistic_ci`,
    /// `lam=None`): rows of `x` are covariates, `y` ∈ [0, 1] the human outcome (ties as ½), `yhat` ∈ [0, 1] the
    /// judge's. The rectified loss is convex for λ ∈ [0, 1] and is minimised by Newton's method to its exact optimum
    /// (ppi_py uses L-BFGS-B with tolerance 1e-15). `nil` when the Hessian is singular (a coefficient not identified,
    /// e.g. a model that never appears) or inputs are too few.
    public static func logistic(
        x: [[Double]], y: [Double], yhat: [Double], xUnlabeled: [[Double]], yhatUnlabeled: [Double], alpha: Double,
        w: [Double]? = nil, wUnlabeled: [Double]? = nil
    ) -> LogisticEstimate? {
        guard y.count >= 2, y.count == x.count, yhat.count == y.count, !xUnlabeled.isEmpty,
            xUnlabeled.count == yhatUnlabeled.count, let d = x.first?.count, d >= 1, alpha > 0, alpha < 1
        else { return nil }
        let p = LogisticProblem(
            x: x, y: y, yhat: yhat, xu: xUnlabeled, yhatU: yhatUnlabeled, wl: normalised(w, count: y.count),
            wu: normalised(wUnlabeled, count: yhatUnlabeled.count), d: d)
        guard let theta1 = p.fit(lambda: 1), let s1 = p.stats(theta1, useUnlabeled: true) else { return nil }
        let lam1 = p.lambda(s1)
        guard let thetaPE = p.fit(lambda: lam1), let s2 = p.stats(thetaPE, useUnlabeled: true) else { return nil }
        let lam2 = p.lambda(s2)
        guard let theta2 = p.fit(lambda: lam2), let s3 = p.stats(theta2, useUnlabeled: lam2 != 0) else { return nil }
        let n = Double(y.count)
        let bigN = Double(yhatUnlabeled.count)
        let varU = Matrix.cov(s3.gradsHatUnlabeled.map { $0.map { lam2 * $0 } }, d: d)
        let varL = Matrix.cov(
            s3.grads.indices.map { i in (0..<d).map { s3.grads[i][$0] - lam2 * s3.gradsHat[i][$0] } }, d: d)
        let mid = Matrix.add(Matrix.scale(varU, n / bigN), varL)
        let sigma = Matrix.mul(Matrix.mul(s3.invHessian, mid), s3.invHessian)
        let z = normalQuantile(1 - alpha / 2)
        var lo: [Double] = []
        var hi: [Double] = []
        for j in 0..<d {
            let se = (sigma[j][j] / n).squareRoot()
            lo.append(theta2[j] - z * se)
            hi.append(theta2[j] + z * se)
        }
        return LogisticEstimate(estimate: thetaPE, ciCenter: theta2, lo: lo, hi: hi, lambda: lam1, ciLambda: lam2)
    }

    /// The classical logistic regression (maximum likelihood on `y` alone, sandwich interval): `ppi_logistic_ci`
    /// with `lam=0`. Used for the judge-only interval (the verdicts taken as truth).
    public static func classicalLogistic(x: [[Double]], y: [Double], alpha: Double) -> LogisticEstimate? {
        guard y.count >= 2, y.count == x.count, let d = x.first?.count, d >= 1 else { return nil }
        let p = LogisticProblem(
            x: x, y: y, yhat: y, xu: [x[0]], yhatU: [y[0]], wl: normalised(nil, count: y.count), wu: [1], d: d)
        guard let theta = p.fit(lambda: 0), let s = p.stats(theta, useUnlabeled: false) else { return nil }
        let n = Double(y.count)
        let sigma = Matrix.mul(Matrix.mul(s.invHessian, Matrix.cov(s.grads, d: d)), s.invHessian)
        let z = normalQuantile(1 - alpha / 2)
        var lo: [Double] = []
        var hi: [Double] = []
        for j in 0..<d {
            let se = (sigma[j][j] / n).squareRoot()
            lo.append(theta[j] - z * se)
            hi.append(theta[j] + z * se)
        }
        return LogisticEstimate(estimate: theta, ciCenter: theta, lo: lo, hi: hi, lambda: 0, ciLambda: 0)
    }
}

/// The rectified logistic loss of PPI++ and the statistics its λ and interval need (`_logistic_get_stats`).
struct LogisticProblem {
    let x: [[Double]], y: [Double], yhat: [Double], xu: [[Double]], yhatU: [Double], wl: [Double], wu: [Double]
    let d: Int

    struct Stats {
        var grads: [[Double]], gradsHat: [[Double]], gradsHatUnlabeled: [[Double]], invHessian: [[Double]]
    }

    static func expit(_ t: Double) -> Double { t >= 0 ? 1 / (1 + exp(-t)) : exp(t) / (1 + exp(t)) }
    static func log1pexp(_ t: Double) -> Double { t > 10 ? t : log1p(exp(t)) }
    static func dot(_ a: [Double], _ b: [Double]) -> Double {
        var s = 0.0
        for i in a.indices { s += a[i] * b[i] }
        return s
    }

    func loss(_ th: [Double], _ lam: Double) -> Double {
        let n = Double(y.count)
        let bigN = Double(yhatU.count)
        var u = 0.0
        var l1 = 0.0
        var l2 = 0.0
        if lam != 0 {
            for i in xu.indices {
                let t = Self.dot(xu[i], th)
                u += wu[i] * (-yhatU[i] * t + Self.log1pexp(t))
            }
        }
        for i in x.indices {
            let t = Self.dot(x[i], th)
            l1 += wl[i] * (-yhat[i] * t + Self.log1pexp(t))
            l2 += wl[i] * (-y[i] * t + Self.log1pexp(t))
        }
        return lam / bigN * u - lam / n * l1 + l2 / n
    }

    /// Minimises the rectified loss for a fixed λ by damped Newton steps.
    func fit(lambda lam: Double) -> [Double]? {
        let n = Double(y.count)
        let bigN = Double(yhatU.count)
        var th = Array(repeating: 0.0, count: d)
        var f = loss(th, lam)
        for _ in 0..<200 {
            var g = Array(repeating: 0.0, count: d)
            var h = Array(repeating: Array(repeating: 0.0, count: d), count: d)
            if lam != 0 {
                for i in xu.indices {
                    let mu = Self.expit(Self.dot(xu[i], th))
                    let r = lam / bigN * wu[i]
                    let v = r * mu * (1 - mu)
                    for a in 0..<d {
                        g[a] += r * (mu - yhatU[i]) * xu[i][a]
                        if xu[i][a] != 0 { for b in 0..<d { h[a][b] += v * xu[i][a] * xu[i][b] } }
                    }
                }
            }
            for i in x.indices {
                let mu = Self.expit(Self.dot(x[i], th))
                let v = (1 - lam) / n * wl[i] * mu * (1 - mu)
                for a in 0..<d {
                    g[a] += wl[i] / n * ((mu - y[i]) - lam * (mu - yhat[i])) * x[i][a]
                    if x[i][a] != 0 { for b in 0..<d { h[a][b] += v * x[i][a] * x[i][b] } }
                }
            }
            if g.allSatisfy({ abs($0) < 1e-15 }) { return th }
            guard let hi = Matrix.inverse(h) else { return nil }
            let step = (0..<d).map { a in (0..<d).reduce(0) { $0 + hi[a][$1] * g[$1] } }
            var t = 1.0
            var next = th
            var fn = f
            while true {
                next = (0..<d).map { th[$0] - t * step[$0] }
                fn = loss(next, lam)
                if fn <= f || t < 1e-10 { break }
                t /= 2
            }
            let moved = zip(next, th).map { abs($0 - $1) }.max() ?? 0
            th = next
            f = fn
            if moved < 1e-14 { break }
        }
        guard th.allSatisfy(\.isFinite) else { return nil }
        return th
    }

    func stats(_ th: [Double], useUnlabeled: Bool) -> Stats? {
        let n = Double(y.count)
        let bigN = Double(yhatU.count)
        var h = Array(repeating: Array(repeating: 0.0, count: d), count: d)
        var ghu = Array(repeating: Array(repeating: 0.0, count: d), count: xu.count)
        if useUnlabeled {
            for i in xu.indices {
                let mu = Self.expit(Self.dot(xu[i], th))
                let v = wu[i] / (bigN + n) * mu * (1 - mu)
                for a in 0..<d {
                    for b in 0..<d { h[a][b] += v * xu[i][a] * xu[i][b] }
                    ghu[i][a] = wu[i] * xu[i][a] * (mu - yhatU[i])
                }
            }
        }
        var g = Array(repeating: Array(repeating: 0.0, count: d), count: x.count)
        var gh = g
        for i in x.indices {
            let mu = Self.expit(Self.dot(x[i], th))
            let v = (useUnlabeled ? wl[i] / (bigN + n) : wl[i] / n) * mu * (1 - mu)
            for a in 0..<d {
                for b in 0..<d { h[a][b] += v * x[i][a] * x[i][b] }
                g[i][a] = wl[i] * x[i][a] * (mu - y[i])
                gh[i][a] = wl[i] * x[i][a] * (mu - yhat[i])
            }
        }
        guard let inv = Matrix.inverse(h) else { return nil }
        return Stats(grads: g, gradsHat: gh, gradsHatUnlabeled: ghu, invHessian: inv)
    }

    /// `_calc_lam_glm` (overall mode, clipped to [0, 1]).
    func lambda(_ s: Stats) -> Double {
        let n = Double(s.grads.count)
        let bigN = Double(s.gradsHatUnlabeled.count)
        let mg = Matrix.colMeans(s.grads, d: d)
        let mh = Matrix.colMeans(s.gradsHat, d: d)
        var c = Array(repeating: Array(repeating: 0.0, count: d), count: d)
        for i in s.grads.indices {
            for a in 0..<d {
                for b in 0..<d {
                    let ga = s.grads[i][a] - mg[a]
                    let hb = s.gradsHat[i][b] - mh[b]
                    let ha = s.gradsHat[i][a] - mh[a]
                    let gb = s.grads[i][b] - mg[b]
                    c[a][b] += (ga * hb + ha * gb) / n
                }
            }
        }
        let v = Matrix.cov(s.gradsHat + s.gradsHatUnlabeled, d: d)
        let hi = s.invHessian
        let num = Matrix.trace(Matrix.mul(Matrix.mul(hi, c), hi))
        let den = 2 * (1 + n / bigN) * Matrix.trace(Matrix.mul(Matrix.mul(hi, v), hi))
        return PredictionPowered.clip01(num / den)
    }
}

/// Small dense matrix helpers (d is the number of models less one).
enum Matrix {
    static func mul(_ a: [[Double]], _ b: [[Double]]) -> [[Double]] {
        let n = a.count
        let m = b[0].count
        let k = b.count
        var c = Array(repeating: Array(repeating: 0.0, count: m), count: n)
        for i in 0..<n {
            for j in 0..<m {
                var s = 0.0
                for t in 0..<k { s += a[i][t] * b[t][j] }
                c[i][j] = s
            }
        }
        return c
    }
    static func add(_ a: [[Double]], _ b: [[Double]]) -> [[Double]] { zip(a, b).map { zip($0, $1).map { $0 + $1 } } }
    static func scale(_ a: [[Double]], _ s: Double) -> [[Double]] { a.map { $0.map { $0 * s } } }
    static func trace(_ a: [[Double]]) -> Double { a.indices.reduce(0) { $0 + a[$1][$1] } }
    static func colMeans(_ rows: [[Double]], d: Int) -> [Double] {
        var m = Array(repeating: 0.0, count: d)
        for r in rows { for j in 0..<d { m[j] += r[j] } }
        return m.map { $0 / Double(rows.count) }
    }
    /// `np.cov(rows.T)` (ddof 1); zeros for fewer than two rows.
    static func cov(_ rows: [[Double]], d: Int) -> [[Double]] {
        var c = Array(repeating: Array(repeating: 0.0, count: d), count: d)
        guard rows.count >= 2 else { return c }
        let m = colMeans(rows, d: d)
        for r in rows { for a in 0..<d { for b in 0..<d { c[a][b] += (r[a] - m[a]) * (r[b] - m[b]) } } }
        let k = Double(rows.count - 1)
        return c.map { $0.map { $0 / k } }
    }
    /// Gauss–Jordan inverse with partial pivoting; `nil` when singular.
    static func inverse(_ a: [[Double]]) -> [[Double]]? {
        let n = a.count
        var m = a
        var inv = (0..<n).map { i in (0..<n).map { $0 == i ? 1.0 : 0.0 } }
        let scaleRef = a.flatMap { $0 }.map(abs).max() ?? 0
        guard scaleRef > 0 else { return nil }
        for col in 0..<n {
            var piv = col
            for r in col..<n where abs(m[r][col]) > abs(m[piv][col]) { piv = r }
            guard abs(m[piv][col]) > 1e-13 * scaleRef else { return nil }
            m.swapAt(col, piv)
            inv.swapAt(col, piv)
            let p = m[col][col]
            for j in 0..<n {
                m[col][j] /= p
                inv[col][j] /= p
            }
            for r in 0..<n where r != col {
                let f = m[r][col]
                if f == 0 { continue }
                for j in 0..<n {
                    m[r][j] -= f * m[col][j]
                    inv[r][j] -= f * inv[col][j]
                }
            }
        }
        return inv
    }
}
