import Foundation
import JudgePanelAnalysis
import JudgePanelCore
import JudgeStats

/// The "human-corrected" section: per model, the judge-only estimate beside the prediction-powered one.
package enum PPIText {
    static func f(_ x: Double) -> String { String(format: "%.3f", x) }
    static func ci(_ i: Interval) -> String { "[\(f(i.lo)), \(f(i.hi))]" }

    /// Whether the two intervals do not overlap: the judge is biased on this model beyond both intervals' noise.
    package static func disagrees(_ e: PPIReport.Entry) -> Bool {
        e.judgeOnlyCI.hi < e.ci.lo || e.ci.hi < e.judgeOnlyCI.lo
    }

    package static func header(_ r: PPIReport) -> [String] {
        [
            "model", "judge only [CI]", "human-corrected (PPI) [CI]", "labels only [CI]", "λ", "labelled",
            "effective labels", "judge biased?",
        ]
    }

    package static func rows(_ r: PPIReport) -> [[String]] {
        var out: [[String]] = []
        func row(_ name: String, _ e: PPIReport.Entry) -> [String] {
            [
                name, "\(f(e.judgeOnlyEstimate)) \(ci(e.judgeOnlyCI))", "\(f(e.estimate)) \(ci(e.ci))",
                "\(f(e.classicalEstimate)) \(ci(e.classicalCI))", String(format: "%.2f", e.lambda), String(e.nLabeled),
                e.effectiveLabels.map { String(format: "%.0f", $0) } ?? "n/a", disagrees(e) ? "yes" : "no",
            ]
        }
        for (m, e) in r.byModel.sorted(by: { $0.key < $1.key }) { out.append(row(m, e)) }
        if let o = r.overall { out.append(row(r.estimand == "win_rate" ? "(response_a, overall)" : "(overall)", o)) }
        return out
    }

    /// The lines under the table: what the numbers are and the small-sample warning.
    static func lede(_ r: PPIReport) -> [String] {
        let pct = Int(((1 - r.alpha) * 100).rounded())
        var out = [
            (r.estimand == "win_rate"
                ? "Win rate against the models each was compared with (ties ½), from the human labels' side."
                : "Mean score on the human scale.")
                + " Judge only: the panel's verdicts on every item taken as truth. Human-corrected: prediction-powered inference (PPI++, power-tuned λ) — the panel's verdicts on every item, corrected by the human labels on a subset; an unbiased estimate of what the humans would conclude. \(pct)% normal intervals; where judge-only and human-corrected intervals do not overlap, the judge is biased for that model."
        ]
        let n = ([r.overall].compactMap { $0 } + Array(r.byModel.values)).map(\.nLabeled).min() ?? 0
        if n < 100 {
            out.append(
                "Warning: an estimate here rests on fewer than 100 human labels (the fewest: \(n)) — its interval is a normal (CLT) approximation and can under-cover at this size; get at least 100 labels per model before relying on it."
            )
        }
        if r.weighting == "inverse_probability" {
            out.append(
                "Labels were drawn with unequal probabilities (p_select): estimates are inverse-probability weighted.")
        }
        return out
    }

    /// The section as Markdown (`## Human-corrected estimates`).
    package static func markdown(_ r: PPIReport) -> [String] {
        ["", "## Human-corrected estimates (prediction-powered)", ""] + lede(r).flatMap { [$0, ""] }
            + [TextTable.markdown(header: header(r), rows: rows(r))] + (r.notes ?? []).map { "- note: \($0)" }
    }

    /// The section for the terminal.
    package static func terminal(_ r: PPIReport) -> [String] {
        ["", "human-corrected estimates (prediction-powered):"] + lede(r)
            + [TextTable.plain(header: header(r), rows: rows(r))] + (r.notes ?? []).map { "note: \($0)" }
    }

    /// `rank --labels --ppi`: Bradley–Terry strengths by PPI logistic regression beside the judge-only fit.
    package static func ranking(_ r: PPIRanking) -> [String] {
        let pct = Int(((1 - r.alpha) * 100).rounded())
        return [
            "",
            "Bradley–Terry by prediction-powered logistic regression (log-odds, \(r.reference) = 0; \(r.nLabeled) labelled, \(r.nUnlabeled) unlabelled items; λ \(String(format: "%.2f", r.lambda)); \(pct)% normal intervals):",
            TextTable.plain(
                header: ["model", "human-corrected strength [CI]", "judge-only strength [CI]"],
                rows: r.rows.map { row in
                    [
                        row.model, "\(f(row.strength)) " + (row.strengthCI.map(ci) ?? ""),
                        row.judgeOnlyStrength.map { "\(f($0)) " + (row.judgeOnlyCI.map(ci) ?? "") }
                            ?? "n/a (verdicts separate the models)",
                    ]
                }),
        ]
    }
}

extension HTMLReport {
    /// The "Human-corrected" section of the HTML report.
    static func ppiSection(_ report: MetaReport) -> String? {
        guard let r = report.ppi else { return nil }
        let lede = PPIText.lede(r)
        var body = lede.dropFirst().map { "<p class=\"lede\"><strong>\(e($0))</strong></p>\n" }.joined()
        body += table(PPIText.header(r), PPIText.rows(r))
        for n in r.notes ?? [] { body += "<p class=\"lede\">\(e(n))</p>\n" }
        return section("human-corrected", "Human-corrected estimates", lede.first, body)
    }
}
