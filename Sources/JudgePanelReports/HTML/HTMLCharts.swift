import Foundation
import JudgePanelAggregation
import JudgePanelAnalysis
import JudgePanelCore

/// Inline SVG charts for the HTML report. Every label passes through `HTMLReport.escape`; numbers are formatted
/// here, so no data string reaches the markup unescaped.
enum HTMLCharts {
    package static let blue = "#0072B2"
    static let orange = "#E69F00"
    static let green = "#009E73"
    static let vermillion = "#D55E00"
    static let grey = "#6b7280"

    package static func e(_ s: String) -> String { HTMLReport.escape(s) }

    package static func f(_ x: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)f", x) }

    /// Coordinates: one decimal is enough.
    package static func c(_ x: Double) -> String { String(format: "%.1f", x) }

    /// Shortens a label for an axis (the full text stays in the `<title>` tooltip and the table).
    package static func short(_ s: String, _ n: Int = 22) -> String {
        s.count <= n ? s : String(s.prefix(n - 1)) + "…"
    }

    static func svgOpen(width: Double, height: Double, label: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"\(e(label))\" viewBox=\"0 0 \(c(width)) \(c(height))\" width=\"\(c(width))\" height=\"\(c(height))\">"
    }

    package static func text(
        _ x: Double, _ y: Double, _ s: String, anchor: String = "start", cls: String = "", extra: String = ""
    ) -> String {
        let k = cls.isEmpty ? "" : " class=\"\(cls)\""
        return "<text x=\"\(c(x))\" y=\"\(c(y))\" text-anchor=\"\(anchor)\"\(k)\(extra)>\(e(s))</text>"
    }

    // MARK: colours

    package static func hex(_ s: String) -> (Double, Double, Double) {
        let v = Int(s.dropFirst(), radix: 16) ?? 0
        return (Double((v >> 16) & 255), Double((v >> 8) & 255), Double(v & 255))
    }

    static func mix(_ a: String, _ b: String, _ t: Double) -> String {
        let t = min(1, max(0, t))
        let (r1, g1, b1) = hex(a)
        let (r2, g2, b2) = hex(b)
        return String(
            format: "#%02x%02x%02x", Int((r1 + (r2 - r1) * t).rounded()), Int((g1 + (g2 - g1) * t).rounded()),
            Int((b1 + (b2 - b1) * t).rounded()))
    }

    /// Sequential (light → dark blue) for shares in [0, 1].
    package static func sequential(_ t: Double) -> String { mix("#f4f8fb", "#08306b", t) }

    /// Diverging orange ↔ purple (PuOr, colour-blind safe) for values in [-1, 1].
    static func diverging(_ t: Double) -> String {
        t < 0 ? mix("#f7f7f7", "#b35806", -t) : mix("#f7f7f7", "#542788", t)
    }

    static func ink(_ fill: String) -> String {
        let (r, g, b) = hex(fill)
        return (0.299 * r + 0.587 * g + 0.114 * b) / 255 < 0.55 ? "#ffffff" : "#111827"
    }

    // MARK: forest plot

    struct ForestRow {
        package var label: String
        package var value: Double?
        package var lo: Double?
        package var hi: Double?
        var emphasis = false
    }

    /// Point estimates with CI whiskers on a shared axis, one row per judge.
    static func forest(_ rows: [ForestRow], domain: (Double, Double), refs: [(Double, String)], label: String)
        -> String
    {
        let left = 190.0
        let plotW = 460.0
        let right = 170.0
        let rowH = 28.0
        let top = 16.0
        let axisH = 34.0
        let width = left + plotW + right
        let height = top + rowH * Double(rows.count) + axisH
        func x(_ v: Double) -> Double {
            left + (min(domain.1, max(domain.0, v)) - domain.0) / (domain.1 - domain.0) * plotW
        }
        var s = svgOpen(width: width, height: height, label: label)
        let bottom = top + rowH * Double(rows.count)
        let step = (domain.1 - domain.0) > 1.01 ? 0.5 : 0.25
        var t = domain.0
        while t <= domain.1 + 1e-9 {
            s += "<line class=\"grid\" x1=\"\(c(x(t)))\" x2=\"\(c(x(t)))\" y1=\"\(c(top - 6))\" y2=\"\(c(bottom))\"/>"
            s += text(x(t), bottom + 16, f(t, 2), anchor: "middle", cls: "tick")
            t += step
        }
        for (i, r) in rows.enumerated() {
            let y = top + rowH * (Double(i) + 0.5)
            if i % 2 == 1 {
                s +=
                    "<rect class=\"band\" x=\"0\" y=\"\(c(y - rowH / 2))\" width=\"\(c(width))\" height=\"\(c(rowH))\"/>"
            }
            s += "<g><title>\(e(r.label))</title>"
            s += text(left - 10, y + 4, short(r.label, 26), anchor: "end", cls: r.emphasis ? "lbl strong" : "lbl")
            s += "</g>"
            guard let v = r.value else {
                s += text(left + 6, y + 4, "n/a", cls: "muted")
                continue
            }
            let colour = r.emphasis ? vermillion : blue
            if let lo = r.lo, let hi = r.hi {
                s +=
                    "<line x1=\"\(c(x(lo)))\" x2=\"\(c(x(hi)))\" y1=\"\(c(y))\" y2=\"\(c(y))\" stroke=\"\(colour)\" stroke-width=\"2.5\"/>"
                for end in [lo, hi] {
                    s +=
                        "<line x1=\"\(c(x(end)))\" x2=\"\(c(x(end)))\" y1=\"\(c(y - 5))\" y2=\"\(c(y + 5))\" stroke=\"\(colour)\" stroke-width=\"2\"/>"
                }
            }
            let mark =
                r.emphasis
                ? "<rect x=\"\(c(x(v) - 6))\" y=\"\(c(y - 6))\" width=\"12\" height=\"12\" transform=\"rotate(45 \(c(x(v))) \(c(y)))\" fill=\"\(colour)\"/>"
                : "<circle cx=\"\(c(x(v)))\" cy=\"\(c(y))\" r=\"5.5\" fill=\"\(colour)\"/>"
            s += mark
            let ci = (r.lo != nil && r.hi != nil) ? " [\(f(r.lo!, 2)), \(f(r.hi!, 2))]" : ""
            s += text(left + plotW + 10, y + 4, f(v) + ci, cls: "val")
        }
        for (v, name) in refs where v >= domain.0 && v <= domain.1 {
            s += "<line class=\"ref\" x1=\"\(c(x(v)))\" x2=\"\(c(x(v)))\" y1=\"\(c(top - 8))\" y2=\"\(c(bottom))\"/>"
            s += text(x(v), top - 8, name, anchor: "middle", cls: "reflbl")
        }
        s += "</svg>\n"
        return s
    }

    // MARK: heatmap

    /// A labelled grid of coloured cells. `values[r][c]` nil draws a hatched "n/a" cell.
    package static func heatmap(
        rows: [String], cols: [String], values: [[Double?]], colour: (Double) -> String, format: (Double) -> String,
        label: String, subtitles: [[String]]? = nil, legend: (lo: Double, hi: Double, colour: (Double) -> String)? = nil
    ) -> String {
        let cell = max(40.0, min(72.0, 520.0 / Double(max(cols.count, 1))))
        let cellH = subtitles == nil ? min(cell, 44) : 48
        let left = 170.0
        let top = 96.0
        let width = max(left + cell * Double(cols.count) + 80, 420)
        let legendH = legend == nil ? 0.0 : 46.0
        let height = top + cellH * Double(rows.count) + 12 + legendH
        var s = svgOpen(width: width, height: height, label: label)
        for (j, name) in cols.enumerated() {
            let x = left + cell * (Double(j) + 0.5)
            s += "<g><title>\(e(name))</title>"
            s += text(
                x, top - 8, short(name, 16), anchor: "start", cls: "lbl",
                extra: " transform=\"rotate(-40 \(c(x)) \(c(top - 8)))\"")
            s += "</g>"
        }
        for (i, name) in rows.enumerated() {
            let y = top + cellH * Double(i)
            s += "<g><title>\(e(name))</title>"
            s += text(left - 8, y + cellH / 2 + 4, short(name, 24), anchor: "end", cls: "lbl")
            s += "</g>"
            for j in cols.indices {
                let x = left + cell * Double(j)
                let v = i < values.count && j < values[i].count ? values[i][j] : nil
                let tip = "\(rows[i]) × \(cols[j]): " + (v.map(format) ?? "n/a")
                s += "<g><title>\(e(tip))</title>"
                if let v {
                    let fill = colour(v)
                    s +=
                        "<rect x=\"\(c(x))\" y=\"\(c(y))\" width=\"\(c(cell - 2))\" height=\"\(c(cellH - 2))\" rx=\"3\" fill=\"\(fill)\"/>"
                    let sub = subtitles.flatMap { i < $0.count && j < $0[i].count ? $0[i][j] : nil }
                    let ty = sub == nil ? y + cellH / 2 + 4 : y + cellH / 2 - 2
                    s +=
                        "<text x=\"\(c(x + cell / 2 - 1))\" y=\"\(c(ty))\" text-anchor=\"middle\" class=\"cell\" fill=\"\(ink(fill))\">\(e(format(v)))</text>"
                    if let sub, !sub.isEmpty {
                        s +=
                            "<text x=\"\(c(x + cell / 2 - 1))\" y=\"\(c(ty + 14))\" text-anchor=\"middle\" class=\"cellsub\" fill=\"\(ink(fill))\">\(e(sub))</text>"
                    }
                } else {
                    s +=
                        "<rect x=\"\(c(x))\" y=\"\(c(y))\" width=\"\(c(cell - 2))\" height=\"\(c(cellH - 2))\" rx=\"3\" class=\"na\"/>"
                    s += text(x + cell / 2 - 1, y + cellH / 2 + 4, "n/a", anchor: "middle", cls: "muted")
                }
                s += "</g>"
            }
        }
        if let legend {
            let y = top + cellH * Double(rows.count) + 18
            let steps = 10
            let w = 22.0
            for k in 0...steps {
                let v = legend.lo + (legend.hi - legend.lo) * Double(k) / Double(steps)
                s +=
                    "<rect x=\"\(c(left + w * Double(k)))\" y=\"\(c(y))\" width=\"\(c(w))\" height=\"10\" fill=\"\(legend.colour(v))\"/>"
            }
            s += text(left, y + 24, f(legend.lo, 2), anchor: "start", cls: "tick")
            s += text(left + w * Double(steps + 1), y + 24, f(legend.hi, 2), anchor: "end", cls: "tick")
        }
        s += "</svg>\n"
        return s
    }

    // MARK: grouped horizontal bars

    struct BarSeries {
        package var name: String
        package var colour: String
        package var values: [Double?]
    }

    /// Horizontal bars on [0, 1], one group per row label, with optional reference lines.
    static func bars(rows: [String], series: [BarSeries], refs: [(Double, String)], label: String) -> String {
        let left = 190.0
        let plotW = 440.0
        let right = 70.0
        let barH = 14.0
        let gap = 12.0
        let top = 34.0
        let axisH = 26.0
        let groupH = barH * Double(series.count) + gap
        let width = left + plotW + right
        let height = top + groupH * Double(rows.count) + axisH
        func x(_ v: Double) -> Double { left + min(1, max(0, v)) * plotW }
        var s = svgOpen(width: width, height: height, label: label)
        var lx = left
        for sr in series {
            s += "<rect x=\"\(c(lx))\" y=\"6\" width=\"12\" height=\"12\" fill=\"\(sr.colour)\"/>"
            s += text(lx + 17, 16, sr.name, cls: "lbl")
            lx += 30 + Double(sr.name.count) * 7
        }
        let bottom = top + groupH * Double(rows.count)
        for t in stride(from: 0.0, through: 1.0001, by: 0.25) {
            s += "<line class=\"grid\" x1=\"\(c(x(t)))\" x2=\"\(c(x(t)))\" y1=\"\(c(top - 4))\" y2=\"\(c(bottom))\"/>"
            s += text(x(t), bottom + 16, f(t, 2), anchor: "middle", cls: "tick")
        }
        for (i, name) in rows.enumerated() {
            let y0 = top + groupH * Double(i)
            s += "<g><title>\(e(name))</title>"
            s += text(left - 10, y0 + barH * Double(series.count) / 2 + 4, short(name, 26), anchor: "end", cls: "lbl")
            s += "</g>"
            for (k, sr) in series.enumerated() {
                let y = y0 + barH * Double(k)
                guard i < sr.values.count, let v = sr.values[i] else {
                    s += text(left + 4, y + barH - 3, "n/a", cls: "muted small")
                    continue
                }
                s += "<g><title>\(e("\(name) — \(sr.name): \(f(v))"))</title>"
                s +=
                    "<rect x=\"\(c(left))\" y=\"\(c(y + 1))\" width=\"\(c(max(0.5, x(v) - left)))\" height=\"\(c(barH - 2))\" fill=\"\(sr.colour)\"/>"
                s += text(x(v) + 5, y + barH - 3, f(v), cls: "val small")
                s += "</g>"
            }
        }
        for (v, name) in refs {
            s += "<line class=\"ref\" x1=\"\(c(x(v)))\" x2=\"\(c(x(v)))\" y1=\"\(c(top - 6))\" y2=\"\(c(bottom))\"/>"
            s += text(x(v) + 4, bottom - 4, name, cls: "reflbl")
        }
        s += "</svg>\n"
        return s
    }

    // MARK: histogram

    /// A small histogram: counts per bin, bars scaled to `maxCount`.
    static func histogram(title: String, bins: [String], counts: [Int], maxCount: Int, colour: String) -> String {
        let left = 34.0
        let barW = max(10.0, min(28.0, 260.0 / Double(max(bins.count, 1))))
        let top = 26.0
        let plotH = 110.0
        let width = left + barW * Double(bins.count) + 16
        let height = top + plotH + 34
        var s = svgOpen(width: max(width, 180), height: height, label: "score distribution: " + title)
        s += "<g><title>\(e(title))</title>" + text(left, 15, short(title, 30), cls: "lbl strong") + "</g>"
        let m = Double(max(maxCount, 1))
        s +=
            "<line class=\"grid\" x1=\"\(c(left))\" x2=\"\(c(width - 10))\" y1=\"\(c(top + plotH))\" y2=\"\(c(top + plotH))\"/>"
        s += text(left - 4, top + 8, String(maxCount), anchor: "end", cls: "tick")
        s += text(left - 4, top + plotH, "0", anchor: "end", cls: "tick")
        for (k, b) in bins.enumerated() {
            let n = k < counts.count ? counts[k] : 0
            let h = Double(n) / m * plotH
            let x = left + barW * Double(k)
            s += "<g><title>\(e("\(title) — \(b): \(n)"))</title>"
            s +=
                "<rect x=\"\(c(x + 1))\" y=\"\(c(top + plotH - h))\" width=\"\(c(barW - 2))\" height=\"\(c(h))\" fill=\"\(colour)\"/>"
            s += "</g>"
            if bins.count <= 12 || k % 2 == 0 {
                s += text(x + barW / 2, top + plotH + 14, b, anchor: "middle", cls: "tick")
            }
        }
        s += "</svg>\n"
        return s
    }
}
