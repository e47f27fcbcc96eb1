import Foundation
import JudgePanelAggregation
import JudgePanelCore
import JudgePanelJudging
import JudgeStats

/// Per-question checklist weights learned from human labels (as in RocketEval): a regularised logistic regression
/// on per-question answer differences (response A minus response B; YES = 1, NO = 0, UNSURE = 0.5, averaged over
/// the judges and samples that answered) predicting the human pairwise label (ties excluded), or a ridge linear
/// regression on the answers predicting a score label. Questions are aligned by position (question 1 of every
/// item shares a weight), which fits fixed checklists; for generated ones a position is "the n-th question".
///
/// Agreement is reported before (unweighted pass ratio: YES over answered questions, per response) and after
/// (weighted), both out of sample: k-fold cross-validation with a seeded fold assignment.
///
/// ```swift
/// let w = try ChecklistWeights.learn(items: labelled, votes: recorded, options: .init(folds: 5, seed: 0))
/// print(w.before ?? Double.nan, "→", w.after ?? Double.nan, w.weights)
/// ```
package struct ChecklistWeights: Sendable, Hashable, Codable {
    package enum Kind: String, Sendable, Hashable, Codable {
        /// Logistic regression on A − B answer differences; metric: agreement with the label (ties excluded).
        case pairwise
        /// Linear (ridge) regression on the answers; metric: Pearson correlation with the label.
        case score
    }

    package struct Options: Sendable, Hashable {
        package var folds: Int
        package var seed: UInt64
        /// L2 penalty on the question weights (not the intercept).
        package var lambda: Double

        package init(folds: Int = 5, seed: UInt64 = 0, lambda: Double = 1.0) {
            self.folds = folds
            self.seed = seed
            self.lambda = lambda
        }
    }

    package var kind: Kind
    /// Labelled items used.
    package var n: Int
    /// Question positions (weights).
    package var questions: Int
    /// One weight per question position, fitted on all `n` items.
    package var weights: [Double]
    /// Score regression only (pairwise models have no intercept: swapping A and B flips the prediction).
    package var intercept: Double?
    /// `agreement` (pairwise) or `pearson` (score).
    package var metric: String
    /// Out-of-sample metric of the unweighted pass ratio (pairwise: a pass-ratio tie counts half).
    package var before: Double?
    /// Cross-validated metric of the weighted prediction (null when n < folds or folds < 2).
    package var after: Double?
    package var folds: Int
    package var seed: UInt64
    package var lambda: Double

    package enum CodingKeys: String, CodingKey {
        case kind = "label_kind"
        case n, questions, weights, intercept, metric, before, after, folds, seed, lambda
    }

    /// The answer code of one checklist answer: YES 1, NO 0, UNSURE 0.5.
    package static func code(_ answer: Bool?) -> Double {
        switch answer {
        case true?: return 1
        case false?: return 0
        case nil: return 0.5
        }
    }

    /// Per-question mean answer code over the ok votes (judges × samples); positions past a vote's answers are UNSURE.
    static func meanAnswers(_ votes: [Vote], width: Int) -> [Double] {
        var sums = [Double](repeating: 0, count: width)
        var n = 0
        for v in votes {
            guard let checks = v.checks else { continue }
            n += 1
            for i in 0..<width { sums[i] += code(i < checks.count ? checks[i] : nil) }
        }
        return n == 0 ? sums.map { _ in 0.5 } : sums.map { $0 / Double(n) }
    }

    /// YES over answered questions, pooled over the votes; nil when nothing was answered.
    static func passRatio(_ votes: [Vote]) -> Double? {
        var yes = 0
        var answered = 0
        for v in votes {
            for c in v.checks ?? [] {
                if let c {
                    answered += 1
                    if c { yes += 1 }
                }
            }
        }
        return answered == 0 ? nil : Double(yes) / Double(answered)
    }

    /// The design matrix from items and checklist votes. Pairwise: items with an `A` or `B` consensus label and ok
    /// votes on both responses (rows: A − B; y: 1 for A, 0 for B; `base`: the pass-ratio difference). Score: items
    /// with a score label and ok pointwise checklist votes (rows: answers; `base`: the pass ratio).
    package static func design(items: [Item], votes: [Vote]) -> (
        kind: Kind, ids: [String], x: [[Double]], y: [Double], base: [Double]
    )? {
        let ok = votes.filter { $0.isOK && $0.checks != nil && $0.variant == nil }
        var byItem: [String: [Vote]] = [:]
        for v in ok { byItem[v.item, default: []].append(v) }
        let width = ok.map { $0.checks?.count ?? 0 }.max() ?? 0
        guard width > 0 else { return nil }
        let labelled = items.compactMap { item in item.consensus.map { (item, $0) } }
        let pairwise = labelled.filter { $0.1.preference != nil }.count >= labelled.filter { $0.1.score != nil }.count
        var ids: [String] = []
        var x: [[Double]] = []
        var y: [Double] = []
        var base: [Double] = []
        for (item, label) in labelled {
            guard let vs = byItem[item.id] else { continue }
            if pairwise {
                guard let p = label.preference, p != .tie else { continue }
                let a = vs.filter { $0.side == .a }
                let b = vs.filter { $0.side == .b }
                guard !a.isEmpty, !b.isEmpty else { continue }
                let ma = meanAnswers(a, width: width)
                let mb = meanAnswers(b, width: width)
                ids.append(item.id)
                x.append(zip(ma, mb).map { $0 - $1 })
                y.append(p == .a ? 1 : 0)
                base.append((passRatio(a) ?? 0.5) - (passRatio(b) ?? 0.5))
            } else {
                guard let s = label.score else { continue }
                let pv = vs.filter { $0.side == nil }
                guard !pv.isEmpty else { continue }
                ids.append(item.id)
                x.append(meanAnswers(pv, width: width))
                y.append(s)
                base.append(passRatio(pv) ?? 0.5)
            }
        }
        guard !ids.isEmpty else { return nil }
        return (pairwise ? .pairwise : .score, ids, x, y, base)
    }

    /// Learns weights from labelled items and their checklist votes. Throws bad input when no item has both a usable
    /// label and checklist answers.
    package static func learn(items: [Item], votes: [Vote], options: Options = Options()) throws -> ChecklistWeights {
        guard let d = design(items: items, votes: votes) else {
            throw JudgePanelError.badInput(
                "no labelled item with checklist answers (pairwise: an A/B label and votes on both responses; score: a score label)"
            )
        }
        return fit(kind: d.kind, x: d.x, y: d.y, base: d.base, options: options)
    }

    /// Fits and cross-validates on a ready design matrix (`base`: the unweighted prediction per row).
    package static func fit(kind: Kind, x: [[Double]], y: [Double], base: [Double], options: Options = Options())
        -> ChecklistWeights
    {
        let n = x.count
        let d = x.first?.count ?? 0
        let model = train(kind: kind, x: x, y: y, lambda: options.lambda)
        var after: Double?
        if options.folds >= 2, n >= options.folds {
            let fold = Calibration.foldAssignment(n: n, folds: options.folds, seed: options.seed)
            var pred = [Double](repeating: 0, count: n)
            for f in 0..<options.folds {
                let train = (0..<n).filter { fold[$0] != f }
                let test = (0..<n).filter { fold[$0] == f }
                guard !train.isEmpty else { continue }
                let m = Self.train(kind: kind, x: train.map { x[$0] }, y: train.map { y[$0] }, lambda: options.lambda)
                for i in test { pred[i] = m.b + dot(m.w, x[i]) }
            }
            after = metric(kind: kind, prediction: pred, y: y)
        }
        return ChecklistWeights(
            kind: kind, n: n, questions: d, weights: model.w, intercept: kind == .score ? model.b : nil,
            metric: kind == .pairwise ? "agreement" : "pearson", before: metric(kind: kind, prediction: base, y: y),
            after: after, folds: options.folds, seed: options.seed, lambda: options.lambda)
    }

    /// Pairwise: share of rows whose prediction's sign matches the label (0 counts half). Score: Pearson r.
    package static func metric(kind: Kind, prediction: [Double], y: [Double]) -> Double? {
        guard !y.isEmpty else { return nil }
        switch kind {
        case .pairwise:
            var s = 0.0
            for (p, t) in zip(prediction, y) {
                if abs(p) < 1e-12 { s += 0.5 } else if (p > 0) == (t > 0.5) { s += 1 }
            }
            return s / Double(y.count)
        case .score:
            return pearson(prediction, y).value
        }
    }

    package static func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

    package static func train(kind: Kind, x: [[Double]], y: [Double], lambda: Double) -> (w: [Double], b: Double) {
        switch kind {
        case .pairwise: return (logistic(x: x, y: y, lambda: lambda), 0)
        case .score: return ridge(x: x, y: y, lambda: lambda)
        }
    }

    /// L2-regularised logistic regression without intercept, by Newton's method.
    package static func logistic(x: [[Double]], y: [Double], lambda: Double, iterations: Int = 100) -> [Double] {
        let d = x.first?.count ?? 0
        var w = [Double](repeating: 0, count: d)
        let lam = max(lambda, 1e-8)
        for _ in 0..<iterations {
            var g = w.map { lam * $0 }
            var h = (0..<d).map { i in (0..<d).map { j in i == j ? lam : 0.0 } }
            for (xi, yi) in zip(x, y) {
                let z = dot(w, xi)
                let p = 1 / (1 + exp(-z))
                let r = p * (1 - p)
                for a in 0..<d {
                    g[a] += (p - yi) * xi[a]
                    guard xi[a] != 0 else { continue }
                    for b in 0..<d where xi[b] != 0 { h[a][b] += r * xi[a] * xi[b] }
                }
            }
            guard let step = solve(h, g) else { break }
            for a in 0..<d { w[a] -= step[a] }
            if step.map(abs).max() ?? 0 < 1e-10 { break }
        }
        return w
    }

    /// Ridge regression with an unpenalised intercept (centred least squares).
    package static func ridge(x: [[Double]], y: [Double], lambda: Double) -> (w: [Double], b: Double) {
        let n = Double(x.count)
        let d = x.first?.count ?? 0
        guard n > 0 else { return ([Double](repeating: 0, count: d), 0) }
        let mx = (0..<d).map { j in x.reduce(0) { $0 + $1[j] } / n }
        let my = y.reduce(0, +) / n
        var a = (0..<d).map { i in (0..<d).map { j in i == j ? max(lambda, 1e-8) : 0.0 } }
        var rhs = [Double](repeating: 0, count: d)
        for (xi, yi) in zip(x, y) {
            for i in 0..<d {
                let ci = xi[i] - mx[i]
                rhs[i] += ci * (yi - my)
                for j in 0..<d { a[i][j] += ci * (xi[j] - mx[j]) }
            }
        }
        let w = solve(a, rhs) ?? [Double](repeating: 0, count: d)
        return (w, my - dot(w, mx))
    }

    /// Solves A x = b by Gaussian elimination with partial pivoting; nil when singular.
    package static func solve(_ a: [[Double]], _ b: [Double]) -> [Double]? {
        let n = b.count
        var m = a
        var v = b
        for c in 0..<n {
            guard let p = (c..<n).max(by: { abs(m[$0][c]) < abs(m[$1][c]) }), abs(m[p][c]) > 1e-14 else { return nil }
            m.swapAt(c, p)
            v.swapAt(c, p)
            for r in (c + 1)..<max(n, c + 1) where r < n {
                let f = m[r][c] / m[c][c]
                if f == 0 { continue }
                for k in c..<n { m[r][k] -= f * m[c][k] }
                v[r] -= f * v[c]
            }
        }
        var out = [Double](repeating: 0, count: n)
        for r in stride(from: n - 1, through: 0, by: -1) {
            var s = v[r]
            for k in (r + 1)..<max(n, r + 1) where k < n { s -= m[r][k] * out[k] }
            out[r] = s / m[r][r]
        }
        return out
    }
}
