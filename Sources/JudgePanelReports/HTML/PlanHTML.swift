import Foundation
import JudgePanelAggregation
import JudgePanelAnalysis
import JudgePanelCore
import JudgeStats

extension HTMLCharts {
    /// One point of a scatter plot.
    struct ScatterPoint {
        package var x: Double
        package var y: Double
        package var label: String
        package var colour: String
        var emphasis = false
        var ring = false
    }

    /// Points on linear axes; the `line` points (already sorted by x) are joined as a step-free polyline.
    static func scatter(
        _ points: [ScatterPoint], line: [ScatterPoint], xLabel: String, yLabel: String, legend: [(String, String)],
        label: String
    ) -> String {
        let left = 84.0
        let plotW = 620.0
        let right = 190.0
        let top = 16.0
        let plotH = 340.0
        let bottom = 48.0
        let width = left + plotW + right
        let height = top + plotH + bottom
        let xs = points.map(\.x)
        let ys = points.map(\.y)
        var (x0, x1) = (xs.min() ?? 0, xs.max() ?? 1)
        var (y0, y1) = (ys.min() ?? 0, ys.max() ?? 1)
        if x1 - x0 < 1e-12 { (x0, x1) = (x0 - 0.5, x1 + 0.5) }
        if y1 - y0 < 1e-12 { (y0, y1) = (y0 - 0.05, y1 + 0.05) }
        let padX = (x1 - x0) * 0.05
        let padY = (y1 - y0) * 0.08
        (x0, x1, y0, y1) = (x0 - padX, x1 + padX, y0 - padY, y1 + padY)
        func px(_ v: Double) -> Double { left + (v - x0) / (x1 - x0) * plotW }
        func py(_ v: Double) -> Double { top + plotH - (v - y0) / (y1 - y0) * plotH }
        var s = svgOpen(width: width, height: height, label: label)
        s +=
            "<rect x=\"\(c(left))\" y=\"\(c(top))\" width=\"\(c(plotW))\" height=\"\(c(plotH))\" fill=\"#fafafa\" stroke=\"#e5e7eb\"/>"
        for k in 0...4 {
            let vx = x0 + (x1 - x0) * Double(k) / 4
            let vy = y0 + (y1 - y0) * Double(k) / 4
            s +=
                "<line x1=\"\(c(px(vx)))\" y1=\"\(c(top))\" x2=\"\(c(px(vx)))\" y2=\"\(c(top + plotH))\" stroke=\"#eee\"/>"
            s +=
                "<line x1=\"\(c(left))\" y1=\"\(c(py(vy)))\" x2=\"\(c(left + plotW))\" y2=\"\(c(py(vy)))\" stroke=\"#eee\"/>"
            s += text(px(vx), top + plotH + 16, f(vx, 3), anchor: "middle", cls: "tick")
            s += text(left - 6, py(vy) + 4, f(vy, 3), anchor: "end", cls: "tick")
        }
        s += text(left + plotW / 2, height - 8, xLabel, anchor: "middle")
        s += text(
            14, top + plotH / 2, yLabel, anchor: "middle", extra: " transform=\"rotate(-90 14 \(c(top + plotH / 2)))\"")
        if line.count > 1 {
            let pts = line.map { "\(c(px($0.x))),\(c(py($0.y)))" }.joined(separator: " ")
            s += "<polyline points=\"\(pts)\" fill=\"none\" stroke=\"#111827\" stroke-width=\"1.5\"/>"
        }
        for p in points {
            let r = p.emphasis ? 5.5 : 3.5
            s +=
                "<circle cx=\"\(c(px(p.x)))\" cy=\"\(c(py(p.y)))\" r=\"\(c(r))\" fill=\"\(p.colour)\" fill-opacity=\"\(p.emphasis ? "1" : "0.55")\""
                + (p.emphasis ? " stroke=\"#111827\"" : "") + "><title>\(e(p.label))</title></circle>"
            if p.ring {
                s +=
                    "<circle cx=\"\(c(px(p.x)))\" cy=\"\(c(py(p.y)))\" r=\"10\" fill=\"none\" stroke=\"\(vermillion)\" stroke-width=\"2.5\"><title>recommended: \(e(p.label))</title></circle>"
            }
        }
        for (k, (name, colour)) in legend.enumerated() {
            let y = top + 14 + Double(k) * 20
            s += "<circle cx=\"\(c(left + plotW + 18))\" cy=\"\(c(y - 4))\" r=\"5\" fill=\"\(colour)\"/>"
            s += text(left + plotW + 30, y, name)
        }
        return s + "</svg>"
    }
}

extension PanelPlan.Report {
    /// A self-contained HTML page: the agreement-vs-cost plot with the Pareto frontier and the recommendation,
    /// then the frontier table (and one plot per slice).
    package func html(title: String = "judgepanel plan") -> String {
        func e(_ s: String) -> String { HTMLReport.escape(s) }
        var body =
            "<h1>\(e(title))</h1>\n<p>\(nItems) items (\(nLabelled) labelled), judges: \(e(judges.joined(separator: ", "))); "
            + "\(e(search)) search; cost axis: \(costBasis == "usd" ? "USD per 1000 items" : "calls per item"); "
            + "CIs: \(bootstrapResamples) bootstrap resamples by \(e(resampling)).</p>\n"
        body += section(heading: "Agreement against cost")
        for (key, byValue) in (slices ?? [:]).sorted(by: { $0.key < $1.key }) {
            for (value, sub) in byValue.sorted(by: { $0.key < $1.key }) {
                body += sub.section(heading: "Slice \(key) = \(value) (\(sub.nItems) items)")
            }
        }
        if let notes { body += "<h2>Notes</h2><ul>" + notes.map { "<li>\(e($0))</li>" }.joined() + "</ul>\n" }
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(e(title))</title>
            <style>\(HTMLReport.css)</style>
            </head><body><main>
            \(body)<footer>Generated by judgepanel plan. Self-contained page: no scripts, no network.</footer>
            </main></body></html>

            """
    }

    package func section(heading: String) -> String {
        func e(_ s: String) -> String { HTMLReport.escape(s) }
        let colours: [CallPolicy: String] = [
            .full: HTMLCharts.blue, .adaptive: HTMLCharts.green, .cascade: HTMLCharts.orange,
        ]
        func cost(_ c: PanelPlan.Candidate) -> Double { costBasis == "usd" ? (c.usdPer1000 ?? 0) : c.callsPerItem }
        func name(_ c: PanelPlan.Candidate) -> String { "\(c.judges.joined(separator: "+")) (\(c.policy.rawValue))" }
        let scored = candidates.filter { $0.accuracy?.value != nil }
        let points = scored.map { c in
            HTMLCharts.ScatterPoint(
                x: cost(c), y: c.accuracy!.value!,
                label: name(c) + String(format: ": accuracy %.3f, ", c.accuracy!.value!)
                    + (costBasis == "usd"
                        ? String(format: "$%.4f / 1000 items", cost(c)) : String(format: "%.2f calls / item", cost(c))),
                colour: colours[c.policy] ?? HTMLCharts.grey, emphasis: c.pareto, ring: c == recommended)
        }
        let line = points.filter(\.emphasis)
        var s = "<h2>\(e(heading))</h2>\n"
        s += HTMLCharts.scatter(
            points, line: line, xLabel: costBasis == "usd" ? "USD per 1000 items" : "calls per item",
            yLabel: "accuracy vs humans",
            legend: [
                ("full panel", HTMLCharts.blue), ("adaptive", HTMLCharts.green), ("cascade", HTMLCharts.orange),
                ("— Pareto frontier", "#111827"), ("○ recommended", HTMLCharts.vermillion),
            ],
            label: "Accuracy against cost of every judge subset and policy; the Pareto frontier joined")
        if let recommended {
            s +=
                "<p><strong>Recommended:</strong> \(e(name(recommended)))"
                + (recommendation.map { " — \(e($0))" } ?? "") + "</p>\n"
        } else if let recommendation {
            s += "<p>\(e(recommendation))</p>\n"
        }
        func m(_ v: MetricValue?, _ ci: Interval?) -> String {
            guard let x = v?.value else { return "n/a" }
            return String(format: "%.3f", x) + (ci.map { String(format: " [%.3f, %.3f]", $0.lo, $0.hi) } ?? "")
        }
        s +=
            "<table><thead><tr><th>judges</th><th>policy</th><th>accuracy [95% CI]</th><th>Cohen κ [95% CI]</th>"
            + "<th>calls / item</th><th>USD / 1000 items</th><th>same as full</th></tr></thead><tbody>"
        for c in frontier {
            s +=
                "<tr><td>\(e(c.judges.joined(separator: ", ")))</td><td>\(e(c.policy.rawValue))</td>"
                + "<td>\(m(c.accuracy, c.accuracyCI))</td><td>\(m(c.cohenKappa, c.cohenKappaCI))</td>"
                + "<td>\(String(format: "%.2f", c.callsPerItem))</td><td>\(c.usdPer1000.map { String(format: "%.4f", $0) } ?? "n/a")</td>"
                + "<td>\(String(format: "%.3f", c.sameAsFull))</td></tr>"
        }
        return s + "</tbody></table>\n"
    }
}
