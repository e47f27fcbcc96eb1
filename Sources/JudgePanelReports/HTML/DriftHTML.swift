import Foundation
import JudgePanelAnalysis
import JudgePanelCore
import JudgeStats

/// The self-contained drift page (drift.html): verdict changes, score differences with their CIs, agreement with
/// humans, and what changed in the recorded inputs and the model versions the providers reported.
package enum DriftHTML {
    package static func render(_ r: DriftReport, title: String = "judgepanel drift") -> String {
        let e = HTMLReport.escape
        func g(_ x: Double?) -> String { x.map { String(format: "%.4f", $0) } ?? "–" }
        var s = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>\(e(title))</title><style>"
        s += "body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#111}"
        s += "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ddd;padding:4px 8px;text-align:right}"
        s += "td:first-child,th:first-child{text-align:left}.drift{background:#fee2e2}.ok{background:#ecfdf5}"
        s += ".verdict{font-size:1.2em;font-weight:600}.bar{display:inline-block;height:10px;background:#2563eb}"
        s += "</style></head><body>"
        s += "<h1>\(e(title))</h1>"
        s +=
            "<p class=\"verdict \(r.significant ? "drift" : "ok")\">\(r.significant ? "Significant change" : "No significant change") (α = \(r.alpha))</p>"
        s += "<p>base: <code>\(e(r.base))</code><br>new: <code>\(e(r.new))</code><br>"
        s +=
            "\(r.nShared) shared items (\(r.nBaseOnly) only in the base run, \(r.nNewOnly) only in the new run); protocol \(e(r.protocolKind)). "
        s +=
            "McNemar p-values are Holm-adjusted over all units; bootstrap CIs of the paired difference are at 1 − α/m (\(r.resamples) resamples).</p>"
        s += "<h2>Model versions the providers reported</h2>"
        if r.modelVersions.isEmpty {
            s += "<p>Unchanged (or not recorded).</p>"
        } else {
            s += "<ul>" + r.modelVersions.map { "<li>\(e($0.summary))</li>" }.joined() + "</ul>"
        }
        s += "<h2>What changed in the recorded inputs</h2>"
        s +=
            r.changes.isEmpty
            ? "<p>Nothing: same rubric, prompt, judge settings, analysis and items.</p>"
            : "<ul>" + r.changes.map { "<li>\(e($0))</li>" }.joined() + "</ul>"
        s +=
            "<h2>Per judge and the panel</h2><table><thead><tr><th>unit</th><th>items</th><th>changed</th><th>share changed</th>"
        s += "<th>score base</th><th>score new</th><th>diff</th><th>CI</th><th>A→B</th><th>B→A</th><th>p (Holm)</th>"
        s += "<th>accuracy base</th><th>accuracy new</th><th>drift</th></tr></thead><tbody>"
        for u in r.units {
            let ci = u.scoreDiffCI.map { String(format: "[%+.4f, %+.4f]", $0[0], $0[1]) } ?? "–"
            let share = u.changeRate ?? 0
            s +=
                "<tr class=\"\(u.significant ? "drift" : "")\"><td>\(e(u.judge))</td><td>\(u.n)</td><td>\(u.changed)</td>"
            s +=
                "<td><span class=\"bar\" style=\"width:\(Int((share * 80).rounded()))px\"></span> \(String(format: "%.1f %%", share * 100))</td>"
            s +=
                "<td>\(g(u.scoreBase))</td><td>\(g(u.scoreNew))</td><td>\(u.scoreDiff.map { String(format: "%+.4f", $0) } ?? "–")</td><td>\(ci)</td>"
            s += "<td>\(u.mcnemar.map { String($0.b) } ?? "–")</td><td>\(u.mcnemar.map { String($0.c) } ?? "–")</td>"
            s += "<td>\(u.mcnemar?.pAdjusted.map { String(format: "%.4g", $0) } ?? "–")</td>"
            s += "<td>\(g(u.accuracyBase ?? u.maeBase))</td><td>\(g(u.accuracyNew ?? u.maeNew))</td>"
            s += "<td>\(u.significant ? "yes" : "no")</td></tr>"
        }
        s += "</tbody></table>"
        let findings = r.units.flatMap { u in u.findings.map { (u.judge, $0) } }
        if !findings.isEmpty {
            s += "<h2>Findings</h2><ul>" + findings.map { "<li><b>\(e($0.0))</b>: \(e($0.1))</li>" }.joined() + "</ul>"
        }
        let transitions = r.units.filter { !($0.transitions ?? [:]).isEmpty }
        if !transitions.isEmpty {
            s +=
                "<h2>Verdict transitions (base → new)</h2><table><thead><tr><th>unit</th><th>transition</th><th>items</th></tr></thead><tbody>"
            for u in transitions {
                for (k, v) in (u.transitions ?? [:]).sorted(by: { $0.key < $1.key }) {
                    s += "<tr><td>\(e(u.judge))</td><td>\(e(k))</td><td>\(v)</td></tr>"
                }
            }
            s += "</tbody></table>"
        }
        if !r.notes.isEmpty { s += "<h2>Notes</h2><ul>" + r.notes.map { "<li>\(e($0))</li>" }.joined() + "</ul>" }
        s += "</body></html>\n"
        return s
    }
}
