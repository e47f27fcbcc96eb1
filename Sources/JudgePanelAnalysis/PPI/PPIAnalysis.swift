import Foundation
import JudgePanelCore
import JudgeStats

/// Prediction-powered estimates (report key `ppi`): what humans would conclude, from the panel's verdicts on every
/// item corrected by the human labels on a subset (PPI++, equal to `ppi_py`).
public struct PPIReport: Sendable, Hashable, Codable {
    /// One prediction-powered estimate beside its labels-only and judge-only counterparts.
    public struct Entry: Sendable, Hashable, Codable {
        public package(set) var estimate: Double
        public package(set) var ci: Interval
        public package(set) var classicalEstimate: Double
        public package(set) var classicalCI: Interval
        public package(set) var judgeOnlyEstimate: Double
        public package(set) var judgeOnlyCI: Interval
        public package(set) var lambda: Double
        public package(set) var nLabeled: Int
        public package(set) var nUnlabeled: Int
        /// Labels a classical interval would need to be as narrow (null when the labels do not vary).
        public package(set) var effectiveLabels: Double?

        package enum CodingKeys: String, CodingKey {
            case estimate, ci, lambda
            case classicalEstimate = "classical_estimate"
            case classicalCI = "classical_ci"
            case judgeOnlyEstimate = "judge_only_estimate"
            case judgeOnlyCI = "judge_only_ci"
            case nLabeled = "n_labeled"
            case nUnlabeled = "n_unlabeled"
            case effectiveLabels = "effective_labels"
        }
    }

    /// `win_rate` (pairwise) or `mean_score` (pointwise).
    public package(set) var estimand: String
    public package(set) var alpha: Double
    /// Pairwise: the win rate of `response_a` (the dataset's first slot; ties as ½); pointwise: the mean score.
    public package(set) var overall: Entry?
    public package(set) var byModel: [String: Entry]
    /// `uniform` (every label drawn with the same p_select: ppi_py as is) or `inverse_probability` (ppi_py with
    /// weights 1/p_select on the labelled items and every item's verdict as the unlabelled set, as in active
    /// statistical inference, Zrnic & Candès 2024).
    public package(set) var weighting: String
    public package(set) var notes: [String]?

    package enum CodingKeys: String, CodingKey {
        case estimand, alpha, overall, weighting, notes
        case byModel = "by_model"
    }
}

/// Builds the `ppi` report from items (their consensus label is the human side), the panel's verdicts, and the
/// labels' selection probabilities.
package enum PPIAnalysis {
    /// One observation: the human outcome (nil when unlabelled), the panel's, and the selection probability.
    package struct Row: Sendable {
        package var y: Double?
        package var yhat: Double
        package var p: Double
    }

    /// The estimate of one group of rows; nil when fewer than two rows are labelled.
    ///
    /// Equal selection probabilities: `ppi_py`'s PPI++ on (labelled, unlabelled) as is. Unequal ones: `ppi_py` with
    /// inverse-probability weights w = 1/p_select on the labelled items and every judged item's prediction as the
    /// unlabelled set (the labelled items are a biased sample of the items; all the items are not); the labels-only
    /// estimate is `classical_mean_ci` with the same weights. Its coverage under BPDE and uncertainty selection is
    /// simulated in scripts/ppi_coverage.py (BENCHMARKS.md).
    package static func entry(_ rows: [Row], alpha: Double, weighted: Bool) -> PPIReport.Entry? {
        let lab = rows.filter { $0.y != nil }
        guard lab.count >= 2 else { return nil }
        let y = lab.map { $0.y! }
        let yh = lab.map(\.yhat)
        let p = lab.map(\.p)
        let unl = rows.filter { $0.y == nil }.map(\.yhat)
        let classical: PredictionPowered.MeanEstimate?
        let ppi: PredictionPowered.MeanEstimate?
        if weighted {
            // ppi_py with w = 1/p_select (scaled to sum to the labels) on the labelled items and every judged item's
            // prediction as the unlabelled set: the labelled ones are a biased sample, all items are not.
            let w = p.map { 1 / $0 }
            classical = PredictionPowered.classicalMean(y: y, alpha: alpha, w: w)
            ppi = PredictionPowered.mean(y: y, yhat: yh, yhatUnlabeled: rows.map(\.yhat), alpha: alpha, w: w)
        } else {
            classical = PredictionPowered.classicalMean(y: y, alpha: alpha)
            // Every item labelled: prediction-powered inference is the classical estimate.
            ppi = unl.isEmpty ? classical : PredictionPowered.mean(y: y, yhat: yh, yhatUnlabeled: unl, alpha: alpha)
        }
        guard let classical, let ppi, let judge = PredictionPowered.classicalMean(y: rows.map(\.yhat), alpha: alpha)
        else { return nil }
        let eff: Double? =
            ppi.standardError > 0 && classical.standardError > 0
            ? Double(lab.count) * (classical.standardError / ppi.standardError)
                * (classical.standardError / ppi.standardError)
            : nil
        return PPIReport.Entry(
            estimate: ppi.estimate, ci: Interval(lo: ppi.ci.lo, hi: ppi.ci.hi), classicalEstimate: classical.estimate,
            classicalCI: Interval(lo: classical.ci.lo, hi: classical.ci.hi), judgeOnlyEstimate: judge.estimate,
            judgeOnlyCI: Interval(lo: judge.ci.lo, hi: judge.ci.hi), lambda: ppi.lambda, nLabeled: lab.count,
            nUnlabeled: rows.count - lab.count, effectiveLabels: eff)
    }

    /// The outcome of a preference from one model's side: 1 win, ½ tie, 0 loss.
    package static func side(_ p: Preference, isA: Bool) -> Double {
        switch p {
        case .tie: return 0.5
        case .a: return isA ? 1 : 0
        case .b: return isA ? 0 : 1
        }
    }

    /// The panel's outcome from `response_a`'s side for verdicts (pairwise), nil for a score run.
    package static func outcomes(_ panel: [Verdict]) -> [Double?]? {
        guard panel.contains(where: { $0.verdict != nil }) else { return nil }
        return panel.map { $0.verdict.map { side($0, isA: true) } }
    }

    /// The `ppi` report, or nil when fewer than two judged items carry a human label or none lacks one.
    ///
    /// - Parameters:
    ///   - items: items whose consensus label (`label`, else the majority of `labels`) is the human label.
    ///   - outcomes: the panel's outcome per item from `response_a`'s side (pairwise: 1 / ½ / 0, or P(A) when
    ///     probabilities are read), or nil for pointwise;
    ///   - scores: the panel's score per item (pointwise).
    ///   - pSelect: selection probability per item id (missing = 1).
    package static func report(
        items: [Item], outcomes: [Double?]?, scores: [Double?], pSelect: [String: Double], alpha: Double = 0.05,
        requireUnlabeled: Bool = true
    ) -> PPIReport? {
        report(
            count: items.count, id: { items[$0].id }, human: { items[$0].consensus },
            pair: { i in items[i].modelA.flatMap { a in items[i].modelB.flatMap { b in a != b ? (a, b) : nil } } },
            model: { items[$0].model }, outcomes: outcomes, scores: scores, pSelect: pSelect, alpha: alpha,
            requireUnlabeled: requireUnlabeled)
    }

    /// The `ppi` report from per-item accessors (the streamed analysis reads items as columns).
    package static func report(
        count: Int, id: (Int) -> String, human: (Int) -> Label?, pair: (Int) -> (a: String, b: String)?,
        model: (Int) -> String?, outcomes: [Double?]?, scores: [Double?], pSelect: [String: Double],
        alpha: Double = 0.05, requireUnlabeled: Bool = true
    ) -> PPIReport? {
        var overall: [Row] = []
        var byModel: [String: [Row]] = [:]
        var pairwise = false
        var noVerdict = 0
        for i in 0..<count {
            let human = human(i)
            let p = pSelect.isEmpty ? 1 : pSelect[id(i)] ?? 1
            if let outcomes {
                pairwise = true
                guard let hat = outcomes[i] else {
                    if human != nil { noVerdict += 1 }
                    continue
                }
                let y = human?.preference
                overall.append(Row(y: y.map { side($0, isA: true) }, yhat: hat, p: p))
                if let (a, b) = pair(i) {
                    byModel[a, default: []].append(Row(y: y.map { side($0, isA: true) }, yhat: hat, p: p))
                    byModel[b, default: []].append(Row(y: y.map { side($0, isA: false) }, yhat: 1 - hat, p: p))
                }
            } else if let s = scores[i] {
                let y = human?.score
                overall.append(Row(y: y, yhat: s, p: p))
                if let m = model(i) { byModel[m, default: []].append(Row(y: y, yhat: s, p: p)) }
            } else if human != nil {
                noVerdict += 1
            }
        }
        let nLab = overall.filter { $0.y != nil }.count
        guard nLab >= 2, !requireUnlabeled || nLab < overall.count else { return nil }
        let ps = Set(overall.filter { $0.y != nil }.map(\.p))
        let weighted = ps.count > 1
        var notes: [String] = []
        if noVerdict > 0 {
            notes.append("\(noVerdict) labelled items without a panel verdict (every judge abstained) left out")
        }
        if weighted {
            notes.append(
                "labels drawn with unequal p_select: inverse-probability weighted (w = 1/p_select on the labels, every item's verdict as the unlabelled set; labels-only: the same weights)"
            )
        }
        var models: [String: PPIReport.Entry] = [:]
        for (m, rows) in byModel {
            if let e = entry(rows, alpha: alpha, weighted: weighted) {
                models[m] = e
            } else {
                notes.append("\(m): fewer than two labelled items, no estimate")
            }
        }
        let fewest =
            ([overall] + Array(byModel.values)).map { $0.filter { $0.y != nil }.count }.filter { $0 >= 2 }.min() ?? nLab
        if fewest < 100 {
            notes.append(
                "fewer than 100 human labels behind an estimate (the fewest: \(fewest)): the intervals are normal approximations (CLT) and may under-cover at this size"
            )
        }
        return PPIReport(
            estimand: pairwise ? "win_rate" : "mean_score", alpha: alpha,
            overall: entry(overall, alpha: alpha, weighted: weighted), byModel: models,
            weighting: weighted ? "inverse_probability" : "uniform", notes: notes.isEmpty ? nil : notes)
    }
}

/// Bradley–Terry strengths by prediction-powered logistic regression (`rank --labels --ppi`).
public struct PPIRanking: Sendable, Hashable, Codable {
    public struct Row: Sendable, Hashable, Codable {
        public package(set) var model: String
        /// Log-odds strength, the reference model at 0.
        public package(set) var strength: Double
        public package(set) var strengthCI: Interval?
        /// Null when the judge-only fit does not exist (the verdicts separate the models).
        public package(set) var judgeOnlyStrength: Double?
        public package(set) var judgeOnlyCI: Interval?
        package enum CodingKeys: String, CodingKey {
            case model, strength
            case strengthCI = "strength_ci"
            case judgeOnlyStrength = "judge_only_strength"
            case judgeOnlyCI = "judge_only_ci"
        }
    }
    public package(set) var reference: String
    public package(set) var alpha: Double
    public package(set) var lambda: Double
    public package(set) var nLabeled: Int
    public package(set) var nUnlabeled: Int
    public package(set) var rows: [Row]
    package enum CodingKeys: String, CodingKey {
        case reference, alpha, lambda, rows
        case nLabeled = "n_labeled"
        case nUnlabeled = "n_unlabeled"
    }

    /// Fits both: the PPI logistic regression (labelled items: human outcome, the panel's; the unlabelled items:
    /// the panel's) and the judge-only one (every judged item's panel outcome taken as truth). The design is one row
    /// per item, x = e_a − e_b without the reference (the alphabetically first model). Nil when a strength is not
    /// identified or too few items are labelled.
    package static func fit(items: [Item], outcomes: [Double?], alpha: Double = 0.05) -> PPIRanking? {
        var models = Set<String>()
        for (item, v) in zip(items, outcomes) where v != nil {
            if let a = item.modelA, let b = item.modelB, a != b {
                models.insert(a)
                models.insert(b)
            }
        }
        let order = models.sorted()
        guard order.count >= 2 else { return nil }
        let index = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1, $0) })
        var x: [[Double]] = []
        var y: [Double] = []
        var yh: [Double] = []
        var xu: [[Double]] = []
        var yhu: [Double] = []
        var xAll: [[Double]] = []
        var yAll: [Double] = []
        for (item, v) in zip(items, outcomes) {
            guard let hat = v, let a = item.modelA, let b = item.modelB, a != b else { continue }
            // Both models are in `index`: it holds every model of an item with an outcome (above).
            guard let ia = index[a], let ib = index[b] else { continue }
            var row = Array(repeating: 0.0, count: order.count)
            row[ia] = 1
            row[ib] = -1
            let r = Array(row.dropFirst())
            xAll.append(r)
            yAll.append(hat)
            if let h = item.consensus?.preference {
                x.append(r)
                y.append(PPIAnalysis.side(h, isA: true))
                yh.append(hat)
            } else {
                xu.append(r)
                yhu.append(hat)
            }
        }
        guard x.count >= 2, !xu.isEmpty,
            let p = PredictionPowered.logistic(x: x, y: y, yhat: yh, xUnlabeled: xu, yhatUnlabeled: yhu, alpha: alpha),
            p.estimate.allSatisfy({ abs($0) < 50 }), p.lo.allSatisfy(\.isFinite), p.hi.allSatisfy(\.isFinite)
        else { return nil }
        // The judge-only fit diverges when the judge's verdicts separate the models (one always beats another).
        let j = PredictionPowered.classicalLogistic(x: xAll, y: yAll, alpha: alpha).flatMap {
            $0.estimate.allSatisfy { abs($0) < 50 } && $0.lo.allSatisfy(\.isFinite) && $0.hi.allSatisfy(\.isFinite)
                ? $0 : nil
        }
        var rows = [
            Row(
                model: order[0], strength: 0, strengthCI: Interval(lo: 0, hi: 0), judgeOnlyStrength: 0,
                judgeOnlyCI: Interval(lo: 0, hi: 0))
        ]
        for k in 1..<order.count {
            rows.append(
                Row(
                    model: order[k], strength: p.estimate[k - 1],
                    strengthCI: Interval(lo: p.lo[k - 1], hi: p.hi[k - 1]),
                    judgeOnlyStrength: j?.estimate[k - 1],
                    judgeOnlyCI: j.map { Interval(lo: $0.lo[k - 1], hi: $0.hi[k - 1]) }))
        }
        rows.sort { $0.strength != $1.strength ? $0.strength > $1.strength : $0.model < $1.model }
        return PPIRanking(
            reference: order[0], alpha: alpha, lambda: p.lambda, nLabeled: x.count, nUnlabeled: xu.count, rows: rows)
    }
}

/// `plan --half-width H`: how many human labels reach a prediction-powered interval of that half-width, and how many
/// labels alone would need, from a pilot (the labelled items) and the panel's verdicts on every item.
public struct PPILabelPlan: Sendable, Hashable, Codable {
    public struct Entry: Sendable, Hashable, Codable {
        /// Labelled items in the pilot.
        public package(set) var pilotLabels: Int
        /// Judged items (the unlabelled pool the labels are drawn from, labelled ones included).
        public package(set) var nItems: Int
        public package(set) var ppiCorrelation: Double
        /// Labels among this group's items (`ppi_mean_power`'s `n`; labels alone: ⌈(z σ / h)²⌉).
        public package(set) var labelsPPI: Int
        public package(set) var labelsClassical: Int
        /// Whether even labelling every item of the group misses the half-width.
        public package(set) var unreachable: Bool
        package enum CodingKeys: String, CodingKey {
            case pilotLabels = "pilot_labels"
            case nItems = "n_items"
            case ppiCorrelation = "ppi_correlation"
            case labelsPPI = "labels_ppi"
            case labelsClassical = "labels_classical"
            case unreachable
        }
    }
    public package(set) var halfWidth: Double
    public package(set) var alpha: Double
    public package(set) var estimand: String
    public package(set) var nItems: Int
    public package(set) var overall: Entry?
    public package(set) var byModel: [String: Entry]
    /// Labels to draw uniformly from all items so that every model (or the overall estimate) reaches the half-width:
    /// a model's need scaled by items / its items; the largest.
    public package(set) var labelsPPI: Int
    public package(set) var labelsClassical: Int
    /// 1 − labels_ppi / labels_classical.
    public package(set) var saving: Double
    public package(set) var notes: [String]?
    package enum CodingKeys: String, CodingKey {
        case halfWidth = "half_width"
        case alpha, estimand, overall, saving, notes
        case nItems = "n_items"
        case byModel = "by_model"
        case labelsPPI = "labels_ppi"
        case labelsClassical = "labels_classical"
    }

    /// The plan, or nil with fewer than two pilot labels.
    package static func plan(
        items: [Item], outcomes: [Double?]?, scores: [Double?], pSelect: [String: Double], halfWidth: Double,
        alpha: Double
    ) -> PPILabelPlan? {
        var overall: [PPIAnalysis.Row] = []
        var byModel: [String: [PPIAnalysis.Row]] = [:]
        for (i, item) in items.enumerated() {
            let human = item.consensus
            let p = pSelect[item.id] ?? 1
            if let outcomes {
                guard let hat = outcomes[i] else { continue }
                let y = human?.preference
                overall.append(.init(y: y.map { PPIAnalysis.side($0, isA: true) }, yhat: hat, p: p))
                if let a = item.modelA, let b = item.modelB, a != b {
                    byModel[a, default: []].append(.init(y: y.map { PPIAnalysis.side($0, isA: true) }, yhat: hat, p: p))
                    byModel[b, default: []].append(
                        .init(y: y.map { PPIAnalysis.side($0, isA: false) }, yhat: 1 - hat, p: p))
                }
            } else if let s = scores[i] {
                overall.append(.init(y: human?.score, yhat: s, p: p))
                if let m = item.model { byModel[m, default: []].append(.init(y: human?.score, yhat: s, p: p)) }
            }
        }
        let weighted = Set(overall.filter { $0.y != nil }.map(\.p)).count > 1
        func entry(_ rows: [PPIAnalysis.Row]) -> Entry? {
            let lab = rows.filter { $0.y != nil }
            guard
                let pl = PredictionPowered.labelPlan(
                    y: lab.map { $0.y! }, yhat: lab.map(\.yhat), w: weighted ? lab.map { 1 / $0.p } : nil,
                    nItems: rows.count, halfWidth: halfWidth, alpha: alpha)
            else { return nil }
            return Entry(
                pilotLabels: lab.count, nItems: rows.count, ppiCorrelation: pl.correlation, labelsPPI: pl.ppiLabels,
                labelsClassical: pl.classicalLabels, unreachable: pl.unreachable)
        }
        var models: [String: Entry] = [:]
        var notes: [String] = []
        for (m, rows) in byModel {
            if let e = entry(rows) {
                models[m] = e
            } else {
                notes.append("\(m): fewer than two pilot labels (or constant labels), no plan")
            }
        }
        let o = entry(overall)
        guard o != nil || !models.isEmpty else { return nil }
        let total = overall.count
        func scaled(_ e: Entry, _ k: KeyPath<Entry, Int>) -> Int {
            Int((Double(e[keyPath: k]) * Double(total) / Double(e.nItems)).rounded(.up))
        }
        let groups = models.isEmpty ? (o.map { [$0] } ?? []) : Array(models.values)
        // `groups` is not empty (the guard above): the maxima exist.
        let ppi = min(groups.map { scaled($0, \.labelsPPI) }.max() ?? 0, total)
        let classical = groups.map { scaled($0, \.labelsClassical) }.max() ?? 0
        if groups.contains(where: \.unreachable) {
            notes.append(
                "labelling every item does not reach ±\(halfWidth) for some group: PPI's figure is capped at all items")
        }
        if weighted {
            notes.append(
                "pilot labels drawn with unequal p_select: correlation and variance inverse-probability weighted")
        }
        return PPILabelPlan(
            halfWidth: halfWidth, alpha: alpha, estimand: outcomes == nil ? "mean_score" : "win_rate", nItems: total,
            overall: o, byModel: models, labelsPPI: ppi, labelsClassical: classical,
            saving: classical > 0 ? 1 - Double(ppi) / Double(classical) : 0, notes: notes.isEmpty ? nil : notes)
    }

    /// The plan in words.
    package var text: String {
        var out = [
            "labels for a ±\(halfWidth) \(Int(((1 - alpha) * 100).rounded()))% interval on each \(byModel.isEmpty ? "estimate" : "model's \(estimand == "win_rate" ? "win rate" : "mean score")") (\(nItems) judged items):",
            "  prediction-powered (PPI++): \(labelsPPI) labels",
            "  labels alone (classical):  \(labelsClassical) labels",
            String(format: "  saving: %.0f%% of the labels", saving * 100),
            "",
        ]
        var rows: [[String]] = []
        for (m, e) in byModel.sorted(by: { $0.key < $1.key }) { rows.append(Self.row(m, e)) }
        if let overall {
            rows.append(Self.row(estimand == "win_rate" ? "(response_a, overall)" : "(overall)", overall))
        }
        out.append(
            TextTable.plain(
                header: ["group", "pilot labels", "items", "PPI correlation", "labels PPI", "labels classical"],
                rows: rows))
        out.append(
            "(per group: labels among that group's items; the totals above scale each by all items / its items, the largest)"
        )
        for n in notes ?? [] { out.append("note: \(n)") }
        return out.joined(separator: "\n")
    }

    static func row(_ name: String, _ e: Entry) -> [String] {
        [
            name, String(e.pilotLabels), String(e.nItems), String(format: "%.3f", e.ppiCorrelation),
            String(e.labelsPPI) + (e.unreachable ? " (all; unreachable)" : ""), String(e.labelsClassical),
        ]
    }
}
