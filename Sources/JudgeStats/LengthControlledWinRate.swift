import Foundation

/// AlpacaEval 2's length-controlled win rate against a baseline, as alpaca_eval 0.6.6 computes it
/// (`metrics/glm_winrate.py`, `get_length_controlled_winrate`):
///
/// * features per comparison: `tanh(std_delta_len)` — the baseline's length minus the model's (Unicode code
///   points), divided by its sample standard deviation over the model's comparisons — then
///   `instruction_difficulty` and `not_gamed_baseline` (1 for the model's rows, 0 for the gamed baselines'), no
///   intercept; without GLM data the reduced formula `tanh(std_delta_len) + not_gamed_baseline` (alpaca_eval's
///   `length_controlled_minimal`);
/// * target: the preference for the model in [0, 1] (soft); rows without a preference are not trained on;
/// * with GLM data the gamed baselines' rows come first in the training data with weight λ/2 (λ = 0.2:
///   alpaca_eval's "divided by 2 because there are two gamed baselines"), the model's rows weight 1;
/// * C chosen among `logspace(-4, 4, 10)` by 5-fold `GroupKFold` (each row its own group: row r of n goes to fold
///   (n − 1 − r) mod 5, scikit-learn's assignment for equal group sizes) on the weighted continuous log loss,
///   the summed fold scores' first best; then refitted on all rows (``L1Logistic``);
/// * the win rate is the mean over the model's comparisons (all of them) of the prediction at zero length
///   difference, `σ(w_difficulty · difficulty + w_not_gamed)`; its standard error the standard error of that mean.
package enum LengthControlledWinRate {
    /// One of the model's comparisons with the baseline.
    package struct Row: Sendable {
        /// P(the model's output is preferred) in [0, 1]; nil when the comparison has none.
        package var preference: Double?
        /// The baseline's output length minus the model's.
        package var deltaLength: Double
        /// The instruction's position in the evaluation set (needed with GLM data).
        package var index: Int?

        package init(preference: Double?, deltaLength: Double, index: Int?) {
            self.preference = preference
            self.deltaLength = deltaLength
            self.index = index
        }
    }

    /// One row of the gamed baselines' annotations (alpaca_eval's `df_gamed.csv`).
    package struct GamedRow: Sendable {
        package var index: Int
        package var preference: Double?
        package var stdDeltaLength: Double
        package var difficulty: Double
        /// `not_gamed_baseline` (false in alpaca_eval's file): the row's third feature, and its weight 1 instead of λ/2.
        package var notGamed: Bool

        package init(
            index: Int, preference: Double?, stdDeltaLength: Double, difficulty: Double, notGamed: Bool = false
        ) {
            self.index = index
            self.preference = preference
            self.stdDeltaLength = stdDeltaLength
            self.difficulty = difficulty
            self.notGamed = notGamed
        }
    }

    package struct Result: Sendable, Equatable {
        /// Mean predicted preference at zero length difference (0–1).
        package var winRate: Double
        /// Standard error of that mean (sample standard deviation / √n); nil below two comparisons.
        package var standardError: Double?
        /// The GLM's coefficients, by alpaca_eval's column names.
        package var coefficients: [String: Double]
        /// The C cross-validation chose.
        package var c: Double
        /// Comparisons of the model (predicted) and rows trained on (the model's with a preference, plus gamed).
        package var n: Int
        var nTrained: Int
    }

    package enum Failure: Error, Equatable, CustomStringConvertible {
        case tooFewComparisons(Int)
        case constantLength
        case missingIndex
        case unknownIndex(Int)

        package var description: String {
            switch self {
            case .tooFewComparisons(let n):
                return "the GLM needs at least 5 comparisons with a preference (5-fold cross-validation), got \(n)"
            case .constantLength: return "every comparison has the same length difference (std_delta_len undefined)"
            case .missingIndex: return "a comparison has no instruction index (meta.index) for the GLM data"
            case .unknownIndex(let i): return "instruction index \(i) is not in the GLM data"
            }
        }
    }

    /// `numpy.logspace(-4, 4, 10)`: scikit-learn's `LogisticRegressionCV(Cs=10)` grid.
    package static let cGrid: [Double] = (0..<10).map { k in k == 9 ? 1e4 : pow(10, -4 + Double(k) * 8 / 9) }
    package static let folds = 5

    /// The length-controlled win rate of one model; `gamed` (with `difficulty` per instruction index) selects
    /// alpaca_eval's `length_controlled_v1`, nil its `length_controlled_minimal`.
    package static func compute(
        rows: [Row], gamed: [GamedRow]?, difficulty: [Int: Double] = [:], lambda: Double = 0.2
    ) throws(Failure) -> Result {
        let n = rows.count
        let deltas = rows.map(\.deltaLength)
        let mean = deltas.reduce(0, +) / Double(max(n, 1))
        let sd = n > 1 ? (deltas.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)).squareRoot() : 0
        guard sd > 0, sd.isFinite else { throw .constantLength }
        var modelDifficulty: [Double] = []
        if gamed != nil {
            for r in rows {
                guard let i = r.index else { throw .missingIndex }
                guard let d = difficulty[i] else { throw .unknownIndex(i) }
                modelDifficulty.append(d)
            }
        }
        func features(tanhDelta: Double, difficulty: Double, notGamed: Double) -> [Double] {
            gamed == nil ? [tanhDelta, notGamed] : [tanhDelta, difficulty, notGamed]
        }
        var x: [[Double]] = []
        var p: [Double] = []
        var s: [Double] = []
        if let gamed {
            for g in gamed {
                guard let pref = g.preference else { continue }
                x.append(
                    features(tanhDelta: tanh(g.stdDeltaLength), difficulty: g.difficulty, notGamed: g.notGamed ? 1 : 0))
                p.append(pref)
                s.append(g.notGamed ? 1 : lambda / 2)
            }
        }
        var modelTrained = 0
        for (k, r) in rows.enumerated() {
            guard let pref = r.preference else { continue }
            x.append(
                features(
                    tanhDelta: tanh(r.deltaLength / sd), difficulty: gamed == nil ? 0 : modelDifficulty[k], notGamed: 1)
            )
            p.append(pref)
            s.append(1)
            modelTrained += 1
        }
        guard x.count >= folds, modelTrained >= 1 else { throw .tooFewComparisons(modelTrained) }
        let c = chooseC(x: x, p: p, weight: s, weighted: gamed != nil)
        let w = L1Logistic.fit(x: x, p: p, weight: s, c: c)
        let predictions = rows.indices.map { k in
            L1Logistic.sigmoid(gamed == nil ? w[1] : w[1] * modelDifficulty[k] + w[2])
        }
        let lc = predictions.reduce(0, +) / Double(n)
        var se: Double?
        if n > 1 {
            let v = predictions.reduce(0) { $0 + ($1 - lc) * ($1 - lc) } / Double(n - 1)
            se = (v / Double(n)).squareRoot()
        }
        let names =
            gamed == nil
            ? ["np.tanh(std_delta_len)", "not_gamed_baseline.astype(float)"]
            : ["np.tanh(std_delta_len)", "instruction_difficulty", "not_gamed_baseline.astype(float)"]
        return Result(
            winRate: lc, standardError: se, coefficients: Dictionary(uniqueKeysWithValues: zip(names, w)), c: c, n: n,
            nTrained: x.count)
    }

    /// The C of ``cGrid`` with the best summed validation score over the folds (the first on a tie). The score
    /// is alpaca_eval's `logloss_continuous`: minus the mean over the fold's rows of
    /// `s · (p log q + (1 − p) log(1 − q))`, q clipped to [1e-15, 1 − 1e-15] (`s` = 1 without GLM data, where
    /// alpaca_eval passes no sample weight to the scorer).
    static func chooseC(x: [[Double]], p: [Double], weight: [Double], weighted: Bool) -> Double {
        let n = x.count
        let fold = (0..<n).map { (n - 1 - $0) % folds }
        var totals = [Double](repeating: 0, count: cGrid.count)
        for f in 0..<folds {
            let train = (0..<n).filter { fold[$0] != f }
            let test = (0..<n).filter { fold[$0] == f }
            let tx = train.map { x[$0] }
            let tp = train.map { p[$0] }
            let ts = train.map { weight[$0] }
            for (ci, c) in cGrid.enumerated() {
                let w = L1Logistic.fit(x: tx, p: tp, weight: ts, c: c)
                var loss = 0.0
                for i in test {
                    let q = min(max(L1Logistic.sigmoid(L1Logistic.dot(x[i], w)), 1e-15), 1 - 1e-15)
                    let s = weighted ? weight[i] : 1
                    loss += s * (p[i] * log(q) + (1 - p[i]) * log(1 - q))
                }
                totals[ci] += loss / Double(test.count)  // minus the log loss: higher is better
            }
        }
        var best = 0
        for ci in cGrid.indices where totals[ci] > totals[best] { best = ci }
        return cGrid[best]
    }
}
