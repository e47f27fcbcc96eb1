/// A fitted map from a judge's score to the human score scale. Codable, so it can be saved
/// with a run and applied to new scores later.
///
/// ```swift
/// let model = Calibration.fitIsotonic(judge: [1, 2, 3, 4], human: [1, 3, 2, 4])!
/// model.apply(2.5)   // 2.5
/// ```
public struct CalibrationModel: Sendable, Hashable, Codable {
    public enum Method: String, Sendable, Hashable, Codable {
        /// Ordinary least squares, `human ≈ intercept + slope · judge`.
        case linear
        /// Isotonic (non-decreasing) regression, linear interpolation between thresholds,
        /// clipped to the fitted range outside it (scikit-learn `out_of_bounds='clip'`).
        case isotonic
    }

    public var method: Method
    /// Linear model: intercept and slope (both 0 for isotonic).
    public var intercept: Double
    public var slope: Double
    /// Isotonic model: increasing judge-score thresholds and the fitted human score at each
    /// (scikit-learn's `X_thresholds_` / `y_thresholds_`); empty for linear.
    public var xThresholds: [Double]
    public var yThresholds: [Double]

    public init(
        method: Method, intercept: Double = 0, slope: Double = 0,
        xThresholds: [Double] = [], yThresholds: [Double] = []
    ) {
        self.method = method
        self.intercept = intercept
        self.slope = slope
        self.xThresholds = xThresholds
        self.yThresholds = yThresholds
    }

    /// The calibrated score for one judge score.
    public func apply(_ x: Double) -> Double {
        switch method {
        case .linear:
            return intercept + slope * x
        case .isotonic:
            guard let first = xThresholds.first, let last = xThresholds.last,
                yThresholds.count == xThresholds.count
            else { return x }
            if xThresholds.count == 1 || x <= first { return yThresholds[0] }
            if x >= last { return yThresholds[yThresholds.count - 1] }
            // Binary search: largest k with xThresholds[k] <= x.
            var lo = 0
            var hi = xThresholds.count - 1
            while hi - lo > 1 {
                let mid = (lo + hi) / 2
                if xThresholds[mid] <= x { lo = mid } else { hi = mid }
            }
            let x0 = xThresholds[lo]
            let x1 = xThresholds[hi]
            let y0 = yThresholds[lo]
            let y1 = yThresholds[hi]
            return y0 + (x - x0) * (y1 - y0) / (x1 - x0)
        }
    }

    /// The calibrated scores for several judge scores.
    public func apply(_ xs: [Double]) -> [Double] { xs.map { apply($0) } }
}

/// Cross-validated errors of a calibration, before (raw judge scores) and after.
public struct CalibrationReport: Sendable, Hashable, Codable {
    public var method: CalibrationModel.Method
    /// Number of (judge, human) pairs used.
    public var n: Int
    /// Number of folds.
    public var folds: Int
    /// Seed of the fold assignment.
    public var seed: UInt64
    /// Mean absolute / root-mean-square error of the raw judge scores against the human scores.
    public var maeBefore: MetricValue
    public var rmseBefore: MetricValue
    /// The same for out-of-fold calibrated predictions.
    public var maeAfter: MetricValue
    public var rmseAfter: MetricValue
    /// The model fitted on all pairs (`nil` when it cannot be fitted).
    public var model: CalibrationModel?
}

/// Calibration of judge scores to human scores: linear (OLS) and isotonic
/// (pool-adjacent-violators, equal to scikit-learn `IsotonicRegression(out_of_bounds='clip')`)
/// fits, and k-fold cross-validated MAE/RMSE before and after.
public enum Calibration {
    /// OLS fit `human ≈ intercept + slope · judge`. `nil` with fewer than two pairs, mismatched
    /// lengths, non-finite values, or constant judge scores (slope undefined).
    public static func fitLinear(judge: [Double], human: [Double]) -> CalibrationModel? {
        guard judge.count == human.count, judge.count >= 2,
            judge.allSatisfy({ $0.isFinite }), human.allSatisfy({ $0.isFinite })
        else { return nil }
        let n = Double(judge.count)
        let mx = judge.reduce(0, +) / n
        let my = human.reduce(0, +) / n
        var sxx = 0.0
        var sxy = 0.0
        for (x, y) in zip(judge, human) {
            sxx += (x - mx) * (x - mx)
            sxy += (x - mx) * (y - my)
        }
        guard sxx > 0 else { return nil }
        let slope = sxy / sxx
        return CalibrationModel(method: .linear, intercept: my - slope * mx, slope: slope)
    }

    /// Isotonic (non-decreasing) fit, as scikit-learn: pairs sorted by (judge, human), equal
    /// judge scores (within 1e-15) merged into their mean, pool-adjacent-violators weighted
    /// by the merged counts, and thresholds whose value equals both neighbours dropped.
    /// `nil` with no pairs, mismatched lengths or non-finite values.
    public static func fitIsotonic(judge: [Double], human: [Double], weights: [Double]? = nil) -> CalibrationModel? {
        guard judge.count == human.count, !judge.isEmpty,
            judge.allSatisfy({ $0.isFinite }), human.allSatisfy({ $0.isFinite })
        else { return nil }
        let w = weights ?? Array(repeating: 1, count: judge.count)
        guard w.count == judge.count, w.allSatisfy({ $0.isFinite && $0 >= 0 }) else { return nil }
        let idx = judge.indices.filter { w[$0] > 0 }.sorted {
            judge[$0] < judge[$1] || (judge[$0] == judge[$1] && human[$0] < human[$1])
        }
        guard !idx.isEmpty else { return nil }
        // Merge duplicate x (sklearn _make_unique, eps = float64 resolution 1e-15).
        let eps = 1e-15
        var ux: [Double] = []
        var uy: [Double] = []
        var uw: [Double] = []
        var cx = judge[idx[0]]
        var cy = 0.0
        var cw = 0.0
        for i in idx {
            if judge[i] - cx >= eps {
                ux.append(cx)
                uw.append(cw)
                uy.append(cy / cw)
                cx = judge[i]
                cw = w[i]
                cy = human[i] * w[i]
            } else {
                cw += w[i]
                cy += human[i] * w[i]
            }
        }
        ux.append(cx)
        uw.append(cw)
        uy.append(cy / cw)
        let fitted = pava(uy, uw)
        // Trim interior points equal to both neighbours.
        var xs: [Double] = []
        var ys: [Double] = []
        for i in fitted.indices {
            if i == 0 || i == fitted.count - 1 || fitted[i] != fitted[i - 1] || fitted[i] != fitted[i + 1] {
                xs.append(ux[i])
                ys.append(fitted[i])
            }
        }
        return CalibrationModel(method: .isotonic, xThresholds: xs, yThresholds: ys)
    }

    /// Fits with the given method.
    public static func fit(_ method: CalibrationModel.Method, judge: [Double], human: [Double]) -> CalibrationModel? {
        switch method {
        case .linear: return fitLinear(judge: judge, human: human)
        case .isotonic: return fitIsotonic(judge: judge, human: human)
        }
    }

    /// Deterministic fold assignment: a seeded Fisher–Yates shuffle of `0..<n`, the k-th
    /// shuffled position going to fold `k % folds`. Returns the fold of each index.
    public static func foldAssignment(n: Int, folds: Int, seed: UInt64) -> [Int] {
        guard n > 0, folds > 0 else { return Array(repeating: 0, count: max(n, 0)) }
        var perm = Array(0..<n)
        var rng = SeededGenerator(seed: seed)
        if n > 1 {
            for i in stride(from: n - 1, to: 0, by: -1) {
                perm.swapAt(i, rng.nextIndex(below: i + 1))
            }
        }
        var fold = [Int](repeating: 0, count: n)
        for (k, i) in perm.enumerated() { fold[i] = k % folds }
        return fold
    }

    /// k-fold cross-validated MAE/RMSE of the raw judge scores ("before") and of the
    /// out-of-fold calibrated predictions ("after"). When a training fold cannot be fitted
    /// (e.g. constant judge scores for a linear fit) its held-out predictions are the training
    /// mean of the human scores. Pairs with a non-finite value are dropped. The "after" values
    /// are undefined with fewer than `max(folds, 2)` pairs or `folds < 2`.
    public static func crossValidate(
        judge: [Double], human: [Double], method: CalibrationModel.Method,
        folds: Int = 5, seed: UInt64 = 0
    ) -> CalibrationReport {
        var xs: [Double] = []
        var ys: [Double] = []
        for (x, y) in zip(judge, human) where x.isFinite && y.isFinite {
            xs.append(x)
            ys.append(y)
        }
        let n = xs.count
        let before = errors(xs, ys)
        let model = fit(method, judge: xs, human: ys)
        guard judge.count == human.count else {
            let u = MetricValue.undefined("judge and human scores differ in length")
            return CalibrationReport(
                method: method, n: n, folds: folds, seed: seed,
                maeBefore: u, rmseBefore: u, maeAfter: u, rmseAfter: u, model: nil)
        }
        guard folds >= 2, n >= folds else {
            let u = MetricValue.undefined(folds < 2 ? "fewer than two folds" : "fewer pairs than folds")
            return CalibrationReport(
                method: method, n: n, folds: folds, seed: seed,
                maeBefore: before.mae, rmseBefore: before.rmse,
                maeAfter: u, rmseAfter: u, model: model)
        }
        let fold = foldAssignment(n: n, folds: folds, seed: seed)
        var pred = [Double](repeating: 0, count: n)
        for f in 0..<folds {
            let train = (0..<n).filter { fold[$0] != f }
            let tx = train.map { xs[$0] }
            let ty = train.map { ys[$0] }
            let m = fit(method, judge: tx, human: ty)
            let fallback = ty.reduce(0, +) / Double(ty.count)
            for i in 0..<n where fold[i] == f {
                pred[i] = m?.apply(xs[i]) ?? fallback
            }
        }
        let after = errors(pred, ys)
        return CalibrationReport(
            method: method, n: n, folds: folds, seed: seed,
            maeBefore: before.mae, rmseBefore: before.rmse,
            maeAfter: after.mae, rmseAfter: after.rmse, model: model)
    }

    // MARK: - Internals

    private static func errors(_ pred: [Double], _ truth: [Double]) -> (mae: MetricValue, rmse: MetricValue) {
        guard !pred.isEmpty else {
            return (.undefined("no pairs"), .undefined("no pairs"))
        }
        var a = 0.0
        var s = 0.0
        for (p, t) in zip(pred, truth) {
            a += abs(p - t)
            s += (p - t) * (p - t)
        }
        let n = Double(pred.count)
        return (.defined(a / n), .defined((s / n).squareRoot()))
    }

    /// Weighted pool-adjacent-violators for a non-decreasing fit.
    static func pava(_ y: [Double], _ w: [Double]) -> [Double] {
        var mean: [Double] = []
        var weight: [Double] = []
        var count: [Int] = []
        for i in y.indices {
            mean.append(y[i])
            weight.append(w[i])
            count.append(1)
            while mean.count > 1 && mean[mean.count - 2] >= mean[mean.count - 1] {
                let b = mean.count - 1
                let wt = weight[b - 1] + weight[b]
                mean[b - 1] = (mean[b - 1] * weight[b - 1] + mean[b] * weight[b]) / wt
                weight[b - 1] = wt
                count[b - 1] += count[b]
                mean.removeLast()
                weight.removeLast()
                count.removeLast()
            }
        }
        var out: [Double] = []
        out.reserveCapacity(y.count)
        for (m, c) in zip(mean, count) { out.append(contentsOf: repeatElement(m, count: c)) }
        return out
    }
}
