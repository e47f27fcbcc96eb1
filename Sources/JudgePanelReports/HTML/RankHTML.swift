import Foundation
import JudgePanelAggregation
import JudgePanelAnalysis
import JudgePanelCore
import JudgeStats

/// The `judgepanel rank --html FILE` page: the ranking with CIs and P(best), the pairwise win-rate matrix, and
/// with `--by` a models × slices rank heatmap, the slices' Kendall τ and the social-choice aggregate.
/// Self-contained (inline CSS, no scripts), in the style of the run report.
package enum RankHTML {
    package static func e(_ s: String) -> String { HTMLReport.escape(s) }
    package static func f3(_ x: Double) -> String { String(format: "%.3f", x) }

    /// Background for rank `r` of `n`: dark blue for 1st, fading to pale for last.
    static func shade(rank r: Int, of n: Int) -> (bg: String, fg: String) {
        let t = n > 1 ? Double(r - 1) / Double(n - 1) : 0
        // From #0072B2 (0, 114, 178) to #eef4fa (238, 244, 250).
        let c = [0.0, 114, 178].enumerated().map { i, v in Int((v + ([238.0, 244, 250][i] - v) * t).rounded()) }
        return (String(format: "#%02x%02x%02x", c[0], c[1], c[2]), t < 0.5 ? "#ffffff" : "#1f2937")
    }

    /// The models × slices heatmap: one row per model, one column per slice, the cell its rank there.
    package static func heatmap(_ s: SliceRanking.BySlice) -> String {
        var h = "<div class=\"tw\"><table class=\"heat\"><thead><tr><th>model \\ \(e(s.key))</th>"
        h += s.slices.map { "<th title=\"\(e($0.value))\">\(e(HTMLCharts.short($0.value, 16)))</th>" }.joined()
        h += "<th>best in</th></tr><tr><th class=\"n\">items / clusters</th>"
        h += s.slices.map { "<th class=\"n\">\($0.figure.nItems) / \($0.figure.nClusters)</th>" }.joined()
        h += "<th class=\"n\">of \(s.slices.count)</th></tr></thead><tbody>"
        for m in s.models {
            h += "<tr><td>\(e(m))</td>"
            for sl in s.slices {
                if let r = sl.figure.row(m) {
                    let c = shade(rank: r.rank, of: sl.figure.rows.count)
                    let boot = sl.figure.resamplesUsed > 0
                    let tip =
                        "\(m) in \(sl.value): rank \(r.rank) of \(sl.figure.rows.count)"
                        + (boot ? ", 95% CI \(r.rankCI.lo)–\(r.rankCI.hi), P(best) \(f3(r.pBest))" : "")
                        + ", \(sl.figure.nItems) items"
                    h +=
                        "<td style=\"background:\(c.bg);color:\(c.fg);text-align:center\" title=\"\(e(tip))\">\(r.rank)</td>"
                } else {
                    h += "<td style=\"text-align:center;color:#9ca3af\" title=\"not compared in this slice\">—</td>"
                }
            }
            h += "<td>\(s.bestIn[m] ?? 0)</td></tr>"
        }
        return h + "</tbody></table></div>\n"
    }

    package static func render(_ r: RankReport, title: String) -> String {
        var body =
            "<h1>\(e(title))</h1>\n<p class=\"sub\">"
            + (r.baseline.map { "Win rate against \(e($0)) (ties as half wins)" } ?? "Bradley–Terry (ties as half wins)")
            + " on the \(r.preference == "probability" ? "probabilities" : "verdicts") of \(e(r.source)); "
            + "\(r.overall.nItems) items in \(r.overall.nClusters) bootstrap clusters (\(e(r.unit))), "
            + "\(r.overall.resamplesUsed) resamples.</p>\n"
        if let h = r.humanLabel { body += "<p class=\"lede\">\(e(h))</p>\n" }
        body += HTMLReport.section(
            "ranking", "Ranking",
            "Rank CI: percentile bootstrap; P(best): share of resamples in which the model ranks 1st.",
            HTMLReport.table(
                ["rank", "model", "strength", "95% CI", "rank CI", "P(best)"],
                r.rowCells))
        let models = r.overall.models
        body += HTMLReport.section(
            "winrates", "Pairwise win rates",
            "Row model against column model: (wins + ties/2) / comparisons, 95% bootstrap CI, number of comparisons.",
            HTMLReport.table(
                [""] + models,
                models.map { a in
                    [a]
                        + models.map { b in
                            guard let w = r.overall.winRates[a]?[b] else { return a == b ? "—" : "" }
                            return RankReport.winCell(w)
                        }
                }))
        if let line = r.tauHumanLine {
            body += HTMLReport.section("human", "Against the human ranking", nil, "<p>\(e(line))</p>\n")
        }
        if let c = r.control {
            let t = r.controlTable(c)
            var html = HTMLReport.table(t.header, t.rows)
            if let line = RankReport.coefficientLine(c) { html += "<p>\(e(line))</p>\n" }
            html += "<p>\(e(RankReport.controlTauLine(c)))</p>\n"
            body += HTMLReport.section(
                "control", c.kind == .length ? "Raw and length-controlled" : "Raw and style-controlled",
                c.description, html)
        }
        if let s = r.bySlice {
            var html = heatmap(s)
            if !s.skipped.isEmpty {
                html +=
                    "<p class=\"lede\">Slices without a ranking (fewer than two models compared): "
                    + e(s.skipped.map { "\($0.value) (\($0.items) items)" }.joined(separator: ", ")) + "</p>\n"
            }
            html +=
                "<p>Kendall τ between slice rankings: "
                + (s.meanTau.map { "mean \(f3($0)) over \(s.tau.filter { $0.tau.value != nil }.count) slice pairs" }
                    ?? "undefined")
                + "</p>\n"
            body += HTMLReport.section(
                "slices", "Rank by \(s.key)",
                "Cell: the model's rank in that slice (1 = best, darkest); hover for its CI.", html)
            if let sc = s.socialChoice {
                body += HTMLReport.section(
                    "socialchoice", "Social choice: \(sc.rule.rawValue)",
                    "Each of \(sc.voters) slices is one voter (weight \(sc.weighted ? "= its ranked items" : "1")); ties by model name.",
                    HTMLReport.table(
                        ["#", "model", "score"],
                        sc.order.enumerated().map { [String($0 + 1), $1, sc.scores[$1].map(RankReport.score) ?? "—"] }))
            }
        }
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(e(title))</title>
            <style>\(HTMLReport.css)
            table.heat td{min-width:34px}
            th.n{font-weight:400;color:#6b7280;font-size:11px}</style>
            </head><body><main>
            \(body)<footer>Generated by judgepanel rank. Self-contained page: no scripts, no network.</footer>
            </main></body></html>

            """
    }
}
