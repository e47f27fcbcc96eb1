import Foundation
import JudgePanelCore
import JudgeStats

/// The drift sentinel's statistics: two runs' reconciled verdicts on the items they share, compared per judge
/// and for the panel (README, "Drift").
///
/// - Pairwise: McNemar's exact test on the items both runs decided (A or B): `b` = A→B, `c` = B→A. A one-sided
///   drift (a judge that now prefers the second answer) shows as b ≫ c.
/// - Every protocol: a paired bootstrap CI of the mean outcome's difference (new − base) over the items with a
///   value in both runs (pairwise: A = 1, tie = ½, B = 0, the share of wins of `response_a`; pointwise: the score).
/// - With human labels (pairwise): McNemar's exact test on correctness (correct → wrong vs wrong → correct) and
///   the accuracies; with score labels: the mean absolute error and its paired bootstrap CI.
///
/// Multiple tests: the McNemar p-values of all units (judges and panel) are Holm-adjusted together; each
/// bootstrap CI is at level 1 − α/m (Bonferroni over the m units). A unit drifted when an adjusted p-value is
/// below α or a CI excludes 0.
package struct DriftAnalysis: Sendable {
    package var alpha = 0.05
    package var resamples = 1000
    package var seed: UInt64 = 0
    /// A tolerance for the share of changed verdicts (`--max-change-rate`): above it a unit drifted. McNemar's test
    /// sees only a one-sided shift, so a judge that changed many answers both ways (as often A→B as B→A) on items
    /// without labels is caught by this bound alone.
    package var maxChangeRate: Double?

    package init(alpha: Double = 0.05, resamples: Int = 1000, seed: UInt64 = 0, maxChangeRate: Double? = nil) {
        self.alpha = alpha
        self.resamples = resamples
        self.seed = seed
        self.maxChangeRate = maxChangeRate
    }

    /// One side of the comparison: a unit's (judge's or the panel's) value per shared item.
    package struct Column: Sendable {
        package var name: String
        package var verdicts: [Preference?]
        package var scores: [Double?]

        package init(name: String, verdicts: [Preference?], scores: [Double?]) {
            self.name = name
            self.verdicts = verdicts
            self.scores = scores
        }
    }

    /// Compares the units present in both runs (by name, in `base` order; the panel last when named `panel`).
    /// `labels[i]` is shared item i's consensus human label.
    package func compare(base: [Column], new: [Column], labels: [Label?], pairwise: Bool) -> [DriftUnit] {
        var units: [DriftUnit] = []
        for b in base {
            guard let n = new.first(where: { $0.name == b.name }) else { continue }
            units.append(unit(base: b, new: n, labels: labels, pairwise: pairwise))
        }
        // Holm over every McNemar test of every unit.
        var tests: [(unit: Int, which: Int, p: Double)] = []
        for (u, unit) in units.enumerated() {
            if let m = unit.mcnemar { tests.append((u, 0, m.pValue)) }
            if let m = unit.accuracyMcnemar { tests.append((u, 1, m.pValue)) }
        }
        let adjusted = Self.holm(tests.map(\.p))
        for (t, test) in tests.enumerated() {
            if test.which == 0 {
                units[test.unit].mcnemar?.pAdjusted = adjusted[t]
            } else {
                units[test.unit].accuracyMcnemar?.pAdjusted = adjusted[t]
            }
        }
        // Bootstrap CIs at 1 − α/m.
        let m = max(1, units.count)
        let level = 1 - alpha / Double(m)
        for u in units.indices {
            units[u].ciLevel = level
            let unitSeed = seed &+ UInt64(u) &* 0x9E37_79B9
            if units[u].diffs.count >= 2 {
                if let ci = bootstrapMeanCI(units[u].diffs, resamples: resamples, seed: unitSeed, level: level) {
                    units[u].scoreDiffCI = [ci.lo, ci.hi]
                }
            }
            if units[u].absErrorDiffs.count >= 2 {
                if let ci = bootstrapMeanCI(
                    units[u].absErrorDiffs, resamples: resamples, seed: unitSeed &+ 1, level: level)
                {
                    units[u].maeDiffCI = [ci.lo, ci.hi]
                }
            }
            var reasons: [String] = []
            if let t = units[u].mcnemar, let p = t.pAdjusted, p < alpha {
                reasons.append(
                    "verdicts moved A→B \(t.b) vs B→A \(t.c) (McNemar exact p = \(Self.f(t.pValue)), Holm-adjusted \(Self.f(p)))"
                )
            }
            if let ci = units[u].scoreDiffCI, ci[0] > 0 || ci[1] < 0 {
                let what = pairwise ? "share of wins of response_a" : "mean score"
                reasons.append(
                    "\(what) changed by \(Self.f(units[u].scoreDiff ?? 0)) (\(Self.pct(level)) CI [\(Self.f(ci[0])), \(Self.f(ci[1]))])"
                )
            }
            if let t = units[u].accuracyMcnemar, let p = t.pAdjusted, p < alpha {
                reasons.append(
                    "agreement with humans changed \(Self.f(units[u].accuracyBase ?? 0)) → \(Self.f(units[u].accuracyNew ?? 0)) "
                        + "(correct→wrong \(t.b), wrong→correct \(t.c), McNemar exact p = \(Self.f(t.pValue)), Holm-adjusted \(Self.f(p)))"
                )
            }
            if let ci = units[u].maeDiffCI, ci[0] > 0 || ci[1] < 0 {
                reasons.append(
                    "mean absolute error against humans changed by \(Self.f(units[u].maeDiff ?? 0)) (CI [\(Self.f(ci[0])), \(Self.f(ci[1]))])"
                )
            }
            if let limit = maxChangeRate, let rate = units[u].changeRate, rate > limit {
                reasons.append(
                    "\(units[u].changed) of \(units[u].n) verdicts changed (\(Self.f(rate)) > --max-change-rate \(Self.f(limit)))"
                )
            }
            units[u].findings = reasons
            units[u].significant = !reasons.isEmpty
        }
        return units
    }

    func unit(base: Column, new: Column, labels: [Label?], pairwise: Bool) -> DriftUnit {
        var u = DriftUnit(judge: base.name)
        let count = min(base.verdicts.count, new.verdicts.count, labels.count)
        var transitions: [String: Int] = [:]
        var b = 0
        var c = 0
        var diffs: [Double] = []
        var baseValues: [Double] = []
        var newValues: [Double] = []
        var correctB = 0
        var correctN = 0
        var cw = 0
        var wc = 0
        var labelled = 0
        var absDiffs: [Double] = []
        var absBase: [Double] = []
        var absNew: [Double] = []
        for i in 0..<count {
            let vb = pairwise ? base.verdicts[i].map { Self.outcome($0) } : base.scores[i]
            let vn = pairwise ? new.verdicts[i].map { Self.outcome($0) } : new.scores[i]
            let sb = pairwise ? base.verdicts[i]?.rawValue ?? "abstain" : base.scores[i].map { Self.f($0) } ?? "abstain"
            let sn = pairwise ? new.verdicts[i]?.rawValue ?? "abstain" : new.scores[i].map { Self.f($0) } ?? "abstain"
            if sb != sn {
                u.changed += 1
                if pairwise { transitions["\(sb)→\(sn)", default: 0] += 1 }
            }
            if pairwise, let x = base.verdicts[i], let y = new.verdicts[i] {
                if x == .a && y == .b { b += 1 }
                if x == .b && y == .a { c += 1 }
            }
            if let vb, let vn {
                diffs.append(vn - vb)
                baseValues.append(vb)
                newValues.append(vn)
            }
            guard let label = labels[i] else { continue }
            if pairwise, let want = label.preference {
                labelled += 1
                let okB = base.verdicts[i] == want
                let okN = new.verdicts[i] == want
                if okB { correctB += 1 }
                if okN { correctN += 1 }
                if okB && !okN { cw += 1 }
                if !okB && okN { wc += 1 }
            } else if !pairwise, let want = label.score, let sb = base.scores[i], let sn = new.scores[i] {
                absBase.append(abs(sb - want))
                absNew.append(abs(sn - want))
                absDiffs.append(abs(sn - want) - abs(sb - want))
            }
        }
        u.n = count
        u.changeRate = count > 0 ? Double(u.changed) / Double(count) : nil
        if pairwise {
            u.transitions = transitions
            let t = McNemar.exact(b: b, c: c)
            u.mcnemar = .init(b: b, c: c, statistic: t.statistic, pValue: t.pValue)
        }
        u.nCompared = diffs.count
        u.diffs = diffs
        if !diffs.isEmpty {
            u.scoreBase = baseValues.reduce(0, +) / Double(baseValues.count)
            u.scoreNew = newValues.reduce(0, +) / Double(newValues.count)
            u.scoreDiff = diffs.reduce(0, +) / Double(diffs.count)
        }
        if labelled > 0 {
            u.nLabelled = labelled
            u.accuracyBase = Double(correctB) / Double(labelled)
            u.accuracyNew = Double(correctN) / Double(labelled)
            u.accuracyDiff = u.accuracyNew! - u.accuracyBase!
            let t = McNemar.exact(b: cw, c: wc)
            u.accuracyMcnemar = .init(b: cw, c: wc, statistic: t.statistic, pValue: t.pValue)
        }
        if !absDiffs.isEmpty {
            u.nLabelled = absDiffs.count
            u.maeBase = absBase.reduce(0, +) / Double(absBase.count)
            u.maeNew = absNew.reduce(0, +) / Double(absNew.count)
            u.maeDiff = absDiffs.reduce(0, +) / Double(absDiffs.count)
            u.absErrorDiffs = absDiffs
        }
        return u
    }

    static func outcome(_ p: Preference) -> Double {
        switch p {
        case .a: return 1
        case .b: return 0
        case .tie: return 0.5
        }
    }

    /// Holm's step-down adjustment (adjusted p-values, monotone, capped at 1), in the input order.
    package static func holm(_ p: [Double]) -> [Double] {
        let m = p.count
        let order = p.indices.sorted { p[$0] < p[$1] }
        var out = [Double](repeating: 1, count: m)
        var running = 0.0
        for (rank, i) in order.enumerated() {
            running = max(running, min(1, Double(m - rank) * p[i]))
            out[i] = running
        }
        return out
    }

    static func f(_ x: Double) -> String { String(format: "%.4g", x) }
    static func pct(_ level: Double) -> String { String(format: "%.4g %%", level * 100) }
}

/// One unit (a judge or the panel) of a drift report.
package struct DriftUnit: Sendable, Codable, Hashable {
    package struct Test: Sendable, Codable, Hashable {
        /// Discordant pairs first → second (A→B; correct→wrong).
        package var b: Int
        /// Discordant pairs the other way (B→A; wrong→correct).
        package var c: Int
        package var statistic: Int
        package var pValue: Double
        package var pAdjusted: Double?

        enum CodingKeys: String, CodingKey {
            case b, c, statistic
            case pValue = "p_value"
            case pAdjusted = "p_holm"
        }
    }

    /// The judge's name, or `panel`.
    package var judge: String
    /// Shared items.
    package var n = 0
    /// Items whose reconciled verdict or score differs (abstentions included).
    package var changed = 0
    package var changeRate: Double?
    /// Pairwise: "A→B", "tie→abstain", … counts.
    package var transitions: [String: Int]?
    package var mcnemar: Test?
    /// Items with a value in both runs.
    var nCompared = 0
    package var scoreBase: Double?
    package var scoreNew: Double?
    package var scoreDiff: Double?
    package var scoreDiffCI: [Double]?
    var ciLevel: Double?
    package var nLabelled: Int?
    package var accuracyBase: Double?
    package var accuracyNew: Double?
    var accuracyDiff: Double?
    var accuracyMcnemar: Test?
    package var maeBase: Double?
    package var maeNew: Double?
    var maeDiff: Double?
    var maeDiffCI: [Double]?
    package var significant = false
    package var findings: [String] = []
    /// Per-item differences (not written).
    var diffs: [Double] = []
    var absErrorDiffs: [Double] = []

    package init(judge: String) { self.judge = judge }

    enum CodingKeys: String, CodingKey {
        case judge, n, changed, transitions, mcnemar, significant, findings
        case changeRate = "change_rate"
        case nCompared = "n_compared"
        case scoreBase = "score_base"
        case scoreNew = "score_new"
        case scoreDiff = "score_diff"
        case scoreDiffCI = "score_diff_ci"
        case ciLevel = "ci_level"
        case nLabelled = "n_labelled"
        case accuracyBase = "accuracy_base"
        case accuracyNew = "accuracy_new"
        case accuracyDiff = "accuracy_diff"
        case accuracyMcnemar = "accuracy_mcnemar"
        case maeBase = "mae_base"
        case maeNew = "mae_new"
        case maeDiff = "mae_diff"
        case maeDiffCI = "mae_diff_ci"
    }
}
