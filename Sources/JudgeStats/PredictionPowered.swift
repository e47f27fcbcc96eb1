import Foundation

/// Prediction-powered inference (PPI++, Angelopoulos, Duchi & Zrnic 2023): estimates of what humans would conclude
/// from a few human labels `Y`, the judge's predictions `Ŷ` on those items, and its predictions on the unlabelled
/// ones. Every function equals the `ppi_py` package (PyPI `ppi-python` 0.2.3) on the same inputs: its weight
/// normalisation (weights scaled to sum to the sample size), its variance estimators (population standard deviation
/// for the mean, `np.cov` for the power-tuning and GLM variances), its power-tuned λ (`_calc_lam_glm`, overall mode,
/// clipped to [0, 1]) and its two-sided normal interval.
///
/// ```swift
/// let e = PredictionPowered.mean(y: [1, 0, 1], yhat: [1, 0, 0], yhatUnlabeled: [1, 1, 0, 1], alpha: 0.05)
/// print(e.estimate, e.ci, e.lambda)
/// ```
public enum PredictionPowered {
    /// A prediction-powered estimate of a mean.
    public struct MeanEstimate: Sendable, Hashable {
        /// The point estimate (`ppi_mean_pointestimate`).
        public var estimate: Double
        /// The two-sided (1 − α) interval (`ppi_mean_ci`).
        public var ci: (lo: Double, hi: Double)
        /// The power-tuning parameter used (0 = labels only, 1 = plain PPI).
        public var lambda: Double
        /// The estimate's standard error.
        public var standardError: Double

        public static func == (a: Self, b: Self) -> Bool {
            a.estimate == b.estimate && a.ci.lo == b.ci.lo && a.ci.hi == b.ci.hi && a.lambda == b.lambda
                && a.standardError == b.standardError
        }
        public func hash(into h: inout Hasher) {
            h.combine(estimate)
            h.combine(lambda)
        }
    }

    /// The two-sided standard normal quantile z with P(Z ≤ z) = p (scipy `norm.ppf`), to about 1e-15.
    public static func normalQuantile(_ p: Double) -> Double {
        precondition(p > 0 && p < 1, "normalQuantile needs p in (0, 1)")
        // Acklam's rational approximation, then one Halley step on the exact CDF (via erfc).
        let a = [
            -3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02,
            -3.066479806614716e+01, 2.506628277459239e+00,
        ]
        let b = [
            -5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01,
            -1.328068155288572e+01,
        ]
        let c = [
            -7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00,
            4.374664141464968e+00, 2.938163982698783e+00,
        ]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        let low = 0.02425
        var x: Double
        if p < low {
            let q = (-2 * log(p)).squareRoot()
            x =
                (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
                / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        } else if p <= 1 - low {
            let q = p - 0.5
            let r = q * q
            x =
                (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
                / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
        } else {
            let q = (-2 * log(1 - p)).squareRoot()
            x =
                -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
                / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        for _ in 0..<2 {
            let e = 0.5 * erfc(-x / 2.0.squareRoot()) - p
            let u = e * (2 * Double.pi).squareRoot() * exp(x * x / 2)
            x -= u / (1 + x * u / 2)
        }
        return x
    }

    /// Weights scaled to sum to their count (`construct_weight_vector`); all ones when `nil`.
    static func normalised(_ w: [Double]?, count: Int) -> [Double] {
        guard let w else { return Array(repeating: 1, count: count) }
        let s = w.reduce(0, +)
        return w.map { $0 / s * Double(count) }
    }

    static func mean(_ x: [Double]) -> Double { x.reduce(0, +) / Double(x.count) }

    /// Population (ddof 0) standard deviation, as numpy's `std`.
    static func std0(_ x: [Double]) -> Double {
        let m = mean(x)
        return (x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(x.count)).squareRoot()
    }

    /// Sample (ddof 1) variance, as `np.cov` of one row.
    static func var1(_ x: [Double]) -> Double {
        let m = mean(x)
        return x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(x.count - 1)
    }

    /// The power-tuned λ of `_calc_lam_glm` for a one-dimensional estimand with identity Hessian, clipped to [0, 1].
    static func meanLambda(grads: [Double], gradsHat: [Double], gradsHatUnlabeled: [Double]) -> Double {
        let n = Double(grads.count)
        let bigN = Double(gradsHatUnlabeled.count)
        let mg = mean(grads)
        let mh = mean(gradsHat)
        var cov = 0.0
        for i in grads.indices { cov += (grads[i] - mg) * (gradsHat[i] - mh) }
        cov = 2 * cov / n
        let v = var1(gradsHat + gradsHatUnlabeled)
        let lam = cov / (2 * (1 + n / bigN) * v)
        return clip01(lam)
    }

    static func clip01(_ x: Double) -> Double { x.isNaN ? 0 : min(max(x, 0), 1) }

    /// The prediction-powered mean (`ppi_mean_pointestimate` and `ppi_mean_ci`, `lam=None`, overall mode).
    ///
    /// - Parameters:
    ///   - y: the human labels of the labelled items.
    ///   - yhat: the judge's predictions on those items.
    ///   - yhatUnlabeled: the judge's predictions on the unlabelled items.
    ///   - alpha: error level (the interval covers with probability 1 − α).
    ///   - lambda: a fixed λ (0 = classical, 1 = PPI); `nil` tunes it.
    ///   - w: weights of the labelled items (e.g. 1 / p_select), scaled to sum to their count; `nil` = equal.
    ///   - wUnlabeled: weights of the unlabelled items, likewise.
    /// - Returns: `nil` with fewer than two labelled or one unlabelled item.
    public static func mean(
        y: [Double], yhat: [Double], yhatUnlabeled: [Double], alpha: Double, lambda: Double? = nil,
        w: [Double]? = nil, wUnlabeled: [Double]? = nil
    ) -> MeanEstimate? {
        precondition(y.count == yhat.count, "y and yhat must have the same length")
        guard y.count >= 2, !yhatUnlabeled.isEmpty, alpha > 0, alpha < 1 else { return nil }
        let n = y.count
        let bigN = yhatUnlabeled.count
        let wl = normalised(w, count: n)
        let wu = normalised(wUnlabeled, count: bigN)
        func estimate(_ lam: Double) -> Double {
            mean(yhatUnlabeled.indices.map { wu[$0] * lam * yhatUnlabeled[$0] })
                + mean(y.indices.map { wl[$0] * (y[$0] - lam * yhat[$0]) })
        }
        var lam: Double
        if let lambda {
            lam = lambda
        } else {
            let theta = estimate(1)
            lam = meanLambda(
                grads: y.indices.map { wl[$0] * (y[$0] - theta) },
                gradsHat: y.indices.map { wl[$0] * (yhat[$0] - theta) },
                gradsHatUnlabeled: yhatUnlabeled.indices.map { wu[$0] * (yhatUnlabeled[$0] - theta) })
        }
        let est = estimate(lam)
        let imputed = std0(yhatUnlabeled.indices.map { wu[$0] * lam * yhatUnlabeled[$0] }) / Double(bigN).squareRoot()
        let rectifier = std0(y.indices.map { wl[$0] * (y[$0] - lam * yhat[$0]) }) / Double(n).squareRoot()
        let se = (imputed * imputed + rectifier * rectifier).squareRoot()
        let z = normalQuantile(1 - alpha / 2)
        return MeanEstimate(estimate: est, ci: (est - z * se, est + z * se), lambda: lam, standardError: se)
    }

    /// Active inference (Zrnic & Candès, ICML 2024) for labels drawn with unequal probabilities: over every item,
    /// zᵢ = λŶᵢ + (Yᵢ − λŶᵢ) ξᵢ / pᵢ (ξᵢ = 1 when labelled, pᵢ its selection probability); the estimate is the mean
    /// of z and the interval the normal one on it (population standard deviation / √N). λ minimises the variance of
    /// z: −cov(a, b) / var(b) with a = Yξ/p, b = Ŷ(1 − ξ/p), clipped to [0, 1]; `lambda: 0` gives the
    /// labels-only Horvitz–Thompson estimate. Valid for independent (Poisson) selection with p bounded away from 0.
    ///
    /// - Parameters:
    ///   - y, yhat, pSelect: the labelled items' human labels, predictions and selection probabilities.
    ///   - yhatUnlabeled: the predictions on the items not labelled.
    public static func activeMean(
        y: [Double], yhat: [Double], pSelect: [Double], yhatUnlabeled: [Double], alpha: Double, lambda: Double? = nil
    ) -> MeanEstimate? {
        precondition(y.count == yhat.count && y.count == pSelect.count, "y, yhat and pSelect must have the same length")
        guard y.count >= 1, y.count + yhatUnlabeled.count >= 2, alpha > 0, alpha < 1 else { return nil }
        let a = y.indices.map { y[$0] / pSelect[$0] } + yhatUnlabeled.map { _ in 0.0 }
        let b = yhat.indices.map { yhat[$0] * (1 - 1 / pSelect[$0]) } + yhatUnlabeled
        var lam: Double
        if let lambda {
            lam = lambda
        } else {
            let ma = mean(a)
            let mb = mean(b)
            var c = 0.0
            for i in a.indices { c += (a[i] - ma) * (b[i] - mb) }
            let vb = var1(b)
            lam = vb > 0 ? clip01(-(c / Double(a.count - 1)) / vb) : 0
        }
        let z = a.indices.map { a[$0] + lam * b[$0] }
        let est = mean(z)
        let se = std0(z) / Double(z.count).squareRoot()
        let q = normalQuantile(1 - alpha / 2)
        return MeanEstimate(estimate: est, ci: (est - q * se, est + q * se), lambda: lam, standardError: se)
    }

    /// The classical CLT interval from labels alone (`classical_mean_ci`), with its point estimate and standard error.
    public static func classicalMean(y: [Double], alpha: Double, w: [Double]? = nil) -> MeanEstimate? {
        guard y.count >= 2, alpha > 0, alpha < 1 else { return nil }
        let wl = normalised(w, count: y.count)
        let wy = y.indices.map { wl[$0] * y[$0] }
        let m = mean(wy)
        let se = std0(wy) / Double(y.count).squareRoot()
        let z = normalQuantile(1 - alpha / 2)
        return MeanEstimate(estimate: m, ci: (m - z * se, m + z * se), lambda: 0, standardError: se)
    }

    /// The number of labels a classical interval would need to be as narrow as the prediction-powered one:
    /// the labels' variance over the PPI standard error squared (`nil` when either is zero).
    public static func effectiveLabels(y: [Double], ppiStandardError: Double, w: [Double]? = nil) -> Double? {
        guard y.count >= 2, ppiStandardError > 0 else { return nil }
        let wl = normalised(w, count: y.count)
        let s = std0(y.indices.map { wl[$0] * y[$0] })
        guard s > 0 else { return nil }
        return s * s / (ppiStandardError * ppiStandardError)
    }

    /// The PPI correlation of a pilot (`_get_ppi_corr` as `ppi_mean_power` computes it, capped at 1 − 1/n).
    public static func ppiCorrelation(y: [Double], yhat: [Double], w: [Double]? = nil) -> Double? {
        guard y.count >= 2 else { return nil }
        let n = Double(y.count)
        let wl = normalised(w, count: y.count)
        let point = zip(wl, y).reduce(0) { $0 + $1.0 * $1.1 } / wl.reduce(0, +)
        let g = y.indices.map { wl[$0] * (y[$0] - point) }
        let gh = y.indices.map { wl[$0] * (yhat[$0] - point) }
        let mg = mean(g)
        let mh = mean(gh)
        var c = 0.0
        var vg = 0.0
        var vh = 0.0
        for i in g.indices {
            c += (g[i] - mg) * (gh[i] - mh)
            vg += (g[i] - mg) * (g[i] - mg)
            vh += (gh[i] - mh) * (gh[i] - mh)
        }
        guard vg > 0, vh > 0 else { return nil }
        return min((c / n) / ((vg / n) * (vh / n)).squareRoot(), 1 - 1 / n)
    }

    /// How many labels reach a target half-width.
    public struct LabelPlan: Sendable, Hashable {
        /// Labels a classical (labels-only) interval needs: ⌈(z σ / h)²⌉.
        public var classicalLabels: Int
        /// The classical need before rounding, (z σ / h)² (`effective_n` of `ppi_mean_power`).
        public var classicalExact: Double
        /// Labels prediction-powered inference needs with `nItems` judged items, as `ppi_mean_power`
        /// (`effective_n` = the classical need, `n_max` = `nItems`, predictions already paid for) returns `n`.
        public var ppiLabels: Int
        /// The PPI correlation of the pilot.
        public var correlation: Double
        /// Whether even labelling every item does not reach the half-width.
        public var unreachable: Bool
    }

    /// Labels needed for a two-sided (1 − α) half-width `halfWidth`, from a pilot's `y`, `yhat`.
    ///
    /// The classical need is n₀ = (z σ_Y / h)² (σ_Y the pilot's population standard deviation). With the judge's
    /// predictions on all `nItems` items, PPI needs n = n₀ N (1 − ρ²) / (N − ρ² n₀) labels (`ppi_mean_power`'s
    /// `_get_cheap_pair` with `n_max` = N and a negligible prediction cost), rounded half to even as Python's `round`.
    /// A negative correlation counts as 0: PPI++'s λ is clipped at 0 and then gains nothing.
    public static func labelPlan(
        y: [Double], yhat: [Double], w: [Double]? = nil, nItems: Int, halfWidth: Double, alpha: Double
    ) -> LabelPlan? {
        guard y.count >= 2, halfWidth > 0, nItems >= 1, let rho0 = ppiCorrelation(y: y, yhat: yhat, w: w) else {
            return nil
        }
        let wl = normalised(w, count: y.count)
        let sigma = std0(y.indices.map { wl[$0] * y[$0] })
        let z = normalQuantile(1 - alpha / 2)
        let n0 = (z * sigma / halfWidth) * (z * sigma / halfWidth)
        let rho = max(rho0, 0)
        let r2 = rho * rho
        let bigN = Double(nItems)
        var ppi: Double
        var unreachable = false
        if n0 > bigN {
            ppi = bigN
            unreachable = true
        } else {
            ppi = (n0 * bigN * (1 - r2) / (bigN - r2 * n0)).rounded(.toNearestOrEven)
        }
        return LabelPlan(
            classicalLabels: Int(n0.rounded(.up)), classicalExact: n0, ppiLabels: Int(ppi), correlation: rho0,
            unreachable: unreachable)
    }
}
