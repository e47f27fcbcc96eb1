import Foundation
import JudgePanelAggregation
import JudgePanelAnalysis
import JudgePanelCore
import JudgeStats

/// Renders reports as text: an aligned terminal table or Markdown.
public enum ReportText {
    static func fmt(_ v: MetricValue?, digits: Int = 3) -> String {
        guard let v else { return "" }
        guard let x = v.value else { return "n/a" }
        return String(format: "%.\(digits)f", x)
    }

    static func fmtCI(_ v: MetricValue?, _ ci: Interval?) -> String {
        guard let v else { return "" }
        guard let x = v.value else { return "n/a" }
        if let ci { return String(format: "%.3f [%.3f, %.3f]", x, ci.lo, ci.hi) }
        return String(format: "%.3f", x)
    }

    /// Columns shown for a report's judges.
    package static func columns(_ report: MetaReport) -> [(String, (JudgeMetrics) -> String)] {
        var cols: [(String, (JudgeMetrics) -> String)] = [
            ("judge", { $0.judge }),
            ("calls", { $0.calls.map(String.init) ?? "" }),
            ("parse", { fmt($0.parseRate) }),
        ]
        let all = report.judges + [report.panel].compactMap { $0 }
        if all.contains(where: { $0.positionConsistency != nil }) {
            cols.append(("consist", { fmt($0.positionConsistency) }))
        }
        if all.contains(where: { $0.positionConsistencyAnswered?.value != $0.positionConsistency?.value }) {
            cols.append(("consist-ans", { fmt($0.positionConsistencyAnswered) }))
        }
        if all.contains(where: { $0.firstSlotRate != nil }) { cols.append(("1st-slot", { fmt($0.firstSlotRate) })) }
        if all.contains(where: { $0.wins != nil }) {
            cols.append(("W/T/L (A)", { m in m.wins.map { "\($0)/\(m.ties ?? 0)/\(m.losses ?? 0)" } ?? "" }))
        }
        if all.contains(where: { $0.meanScore != nil }) { cols.append(("mean", { fmt($0.meanScore, digits: 2) })) }
        if report.labelKind != nil {
            cols.append(("accuracy [95% CI]", { fmtCI($0.accuracy, $0.accuracyCI) }))
            // The other flip convention's accuracy (and JudgeBench's two-order score) where it differs.
            let other: FlipPolicy = report.flip == .tie ? .abstain : .tie
            let otherValue: (JudgeMetrics) -> MetricValue? = {
                other == .tie ? $0.accuracyFlipTie : $0.accuracyFlipAbstain
            }
            if all.contains(where: { otherValue($0) != nil && otherValue($0)?.value != $0.accuracy?.value }) {
                cols.append(("acc flip=\(other.rawValue)", { fmt(otherValue($0)) }))
            }
            if all.contains(where: { $0.accuracyNet != nil && $0.accuracyNet?.value != $0.accuracy?.value }) {
                cols.append(("acc-net", { fmt($0.accuracyNet) }))
            }
            cols.append(("coverage", { fmt($0.coverage) }))
            cols.append(("kappa", { fmt($0.cohenKappa) }))
        }
        if all.contains(where: { $0.voteAccuracy != nil }) { cols.append(("vote-acc", { fmt($0.voteAccuracy) })) }
        if all.contains(where: { $0.probAccuracy != nil }) { cols.append(("prob-acc", { fmt($0.probAccuracy) })) }
        if report.labelKind == .score {
            cols.append(("pearson", { fmt($0.pearson) }))
            cols.append(("spearman", { fmt($0.spearman) }))
            cols.append(("kendall", { fmt($0.kendallTauB) }))
        }
        if all.contains(where: { ($0.refusalRate?.value ?? 0) > 0 }) {
            cols.append(("refusal", { fmt($0.refusalRate) }))
        }
        if all.contains(where: { ($0.lengthRate?.value ?? 0) > 0 }) { cols.append(("length", { fmt($0.lengthRate) })) }
        if all.contains(where: { $0.errors ?? 0 > 0 }) { cols.append(("errors", { $0.errors.map(String.init) ?? "" })) }
        if all.contains(where: { $0.costUSD != nil }) {
            cols.append(("cost $", { $0.costUSD.map { String(format: "%.4f", $0) } ?? "" }))
        }
        return cols
    }

    package static func rows(_ report: MetaReport) -> (header: [String], rows: [[String]]) {
        let cols = columns(report)
        var rows = report.judges.map { m in cols.map { $0.1(m) } }
        if let p = report.panel { rows.append(cols.map { $0.1(p) }) }
        return (cols.map(\.0), rows)
    }

    /// The terminal summary of a report.
    public static func terminal(_ report: MetaReport, title: String? = nil) -> String {
        var out: [String] = []
        if let title { out.append(title) }
        let (h, r) = rows(report)
        out.append(TextTable.plain(header: h, rows: r))
        out.append(contentsOf: extras(report, markdown: false))
        if let ppi = report.ppi { out.append(contentsOf: PPIText.terminal(ppi)) }
        if let slices = report.slices {
            for (key, byValue) in slices.sorted(by: { $0.key < $1.key }) {
                for (value, sub) in byValue.sorted(by: { $0.key < $1.key }) {
                    out.append("")
                    out.append("slice \(key)=\(value) (\(sub.nItems) items)")
                    let (sh, sr) = rows(sub)
                    out.append(TextTable.plain(header: sh, rows: sr))
                }
            }
        }
        return TerminalText.sanitize(out.joined(separator: "\n"))
    }

    static func extras(_ report: MetaReport, markdown: Bool) -> [String] {
        var out: [String] = []
        let bullet = markdown ? "- " : ""
        out.append("")
        out.append(
            "\(bullet)\(report.nItems) items; labels: \(report.labelKind?.rawValue ?? "none"); CIs: \(report.bootstrapResamples == 0 ? "none (--resamples 0)" : "percentile bootstrap over \(report.resampling == "item" ? "items" : report.resampling), \(report.bootstrapResamples) resamples, seed \(report.seed)"); flip policy: \(report.flip.rawValue); aggregate: \(report.aggregate.rawValue)"
        )
        if let c = report.conventions {
            out.append("\(bullet)flip convention (accuracy): \(c.flip)")
            out.append("\(bullet)abstentions: \(c.abstention)")
            out.append("\(bullet)human label: \(c.humanLabel); bootstrap unit: \(c.bootstrapUnit)")
        }
        if let h = report.human {
            let pairs = h.pairwiseCohenKappa.sorted { $0.key < $1.key }.map { "\($0.key) \(fmt($0.value))" }.joined(
                separator: ", ")
            out.append(
                "\(bullet)humans: \(h.nAnnotators) annotators on \(h.nItems) items; Fleiss κ \(fmt(h.fleissKappa)); Krippendorff α (\(h.alphaLevel ?? "")) \(fmt(h.krippendorffAlpha)); pairwise Cohen κ: \(pairs); leave-one-out agreement (human ceiling) \(fmt(h.leaveOneOutAgreement))"
            )
        }
        if let ij = report.interJudge {
            let k = ij.cohenKappa.sorted { $0.key < $1.key }.map { "\($0.key) \(fmt($0.value))" }.joined(
                separator: ", ")
            let e = ij.errorCorrelation.sorted { $0.key < $1.key }.map { "\($0.key) \(fmt($0.value))" }.joined(
                separator: ", ")
            out.append("\(bullet)inter-judge Cohen κ: \(k)")
            out.append(
                "\(bullet)error correlation: \(e); effective number of judges: \(fmt(ij.effectiveJudges, digits: 2))")
        }
        for note in report.notes ?? [] { out.append("\(bullet)note: \(note)") }
        return out
    }

    /// The Markdown report.
    public static func markdown(_ report: MetaReport, title: String, header: [String] = []) -> String {
        var out = ["# \(title)", ""]
        if !header.isEmpty { out += header.map { "- \($0)" } + [""] }
        let (h, r) = rows(report)
        out.append(TextTable.markdown(header: h, rows: r))
        out.append(contentsOf: extras(report, markdown: true))
        if let ppi = report.ppi { out.append(contentsOf: PPIText.markdown(ppi)) }
        if let a = report.adaptive {
            out += ["", a.policy == .cascade ? "## Cascade" : "## Adaptive panel", ""]
            out += a.text.split(separator: "\n").map { $0.hasPrefix("  ") ? "- " + $0.dropFirst(2) : String($0) }
        }
        if let slices = report.slices {
            for (key, byValue) in slices.sorted(by: { $0.key < $1.key }) {
                for (value, sub) in byValue.sorted(by: { $0.key < $1.key }) {
                    out.append("")
                    out.append("## Slice \(key) = \(value) (\(sub.nItems) items)")
                    out.append("")
                    let (sh, sr) = rows(sub)
                    out.append(TextTable.markdown(header: sh, rows: sr))
                }
            }
        }
        let notes = (report.judges + [report.panel].compactMap { $0 }).compactMap { m in
            m.notes.map { n in
                "- \(m.judge): "
                    + n.sorted { $0.key < $1.key }.map { "\($0.key) n/a (\($0.value))" }.joined(separator: "; ")
            }
        }
        if !notes.isEmpty { out += ["", "## Undefined metrics", ""] + notes }
        return TerminalText.sanitize(out.joined(separator: "\n") + "\n")
    }
}
