import Foundation
import JudgePanelAggregation
import JudgePanelAnalysis
import JudgePanelCore
import JudgeStats

/// A self-contained HTML report: one file, no network, no scripts, no external fonts or images; charts are inline SVG
/// with a table beneath each. Every string from data (judge names, items, meta, notes) is escaped.
package enum HTMLReport {
    /// What the page says about the run besides the meta report.
    package struct Context: Sendable {
        package var title: String
        package var dataset: String?
        package var rubric: String?
        package var panel: String?
        package var cost: Double?
        package var date: String?
        /// A probe run's report.json (an object with `probes`), or the `probes` array itself.
        package var probes: JSONValue?
        /// Items and votes, for the confusion matrices and score distributions.
        package var items: [Item]?
        package var votes: [Vote]?
        /// How the votes were reconciled (flip policy, aggregation, judge order).
        package var analysis: MetaAnalysis.Options
        /// Further header lines (label, value).
        package var extra: [(String, String)]
        /// The reconciled verdicts of `items`, when already computed (then `votes` is not needed).
        package var reconciled: MetaAnalysis.Reconciled?

        package init(
            title: String, dataset: String? = nil, rubric: String? = nil, panel: String? = nil, cost: Double? = nil,
            date: String? = nil, probes: JSONValue? = nil, items: [Item]? = nil, votes: [Vote]? = nil,
            analysis: MetaAnalysis.Options = MetaAnalysis.Options(), extra: [(String, String)] = []
        ) {
            self.title = title
            self.dataset = dataset
            self.rubric = rubric
            self.panel = panel
            self.cost = cost
            self.date = date
            self.probes = probes
            self.items = items
            self.votes = votes
            self.analysis = analysis
            self.extra = extra
        }
    }

    /// Escapes text for HTML element content and attribute values (also inside SVG).
    package static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    package static func e(_ s: String) -> String { escape(s) }

    package static func num(_ v: MetricValue?, _ digits: Int = 3) -> String { ReportText.fmt(v, digits: digits) }

    package static func ci(_ i: Interval?) -> String { i.map { String(format: "[%.3f, %.3f]", $0.lo, $0.hi) } ?? "" }

    /// A table from already-plain strings (escaped here).
    package static func table(_ header: [String], _ rows: [[String]], caption: String? = nil) -> String {
        var s = "<div class=\"tw\"><table>"
        if let caption { s += "<caption>\(e(caption))</caption>" }
        s += "<thead><tr>" + header.map { "<th>\(e($0))</th>" }.joined() + "</tr></thead><tbody>"
        for r in rows { s += "<tr>" + r.map { "<td>\(e($0))</td>" }.joined() + "</tr>" }
        return s + "</tbody></table></div>\n"
    }

    package static func section(_ id: String, _ title: String, _ lede: String?, _ body: String) -> String {
        var s = "<section id=\"\(id)\"><h2>\(e(title))</h2>\n"
        if let lede { s += "<p class=\"lede\">\(e(lede))</p>\n" }
        return s + body + "</section>\n"
    }

    /// Renders the report as one HTML page. `report` may be nil for a probe run (no human labels analysed).
    package static func render(report: MetaReport?, context: Context) -> String {
        var body = header(report, context)
        var nav: [(String, String)] = []
        func add(_ id: String, _ title: String, _ html: String?) {
            guard let html else { return }
            nav.append((id, title))
            body += html
        }
        let rec = reconciled(context)
        if let report {
            add("summary", "Summary", summary(report))
            add("accuracy", "Accuracy", accuracySection(report))
            add("kappa", "Cohen κ", kappaSection(report))
            add("confusion", "Confusion", confusionSection(report, context, rec))
            add("position", "Position bias", positionSection(report))
            add("interjudge", "Inter-judge κ", interJudgeSection(report))
            add("scores", "Scores", scoreSection(report, context, rec))
            add("ranking", "Ranking", rankingSection(report))
            add("human-corrected", "Human-corrected", ppiSection(report))
            add("human", "Humans", humanSection(report))
        }
        add("probes", "Probes", probeSection(context.probes))
        if let report { add("notes", "Notes", notesSection(report)) }
        let navHTML =
            nav.isEmpty ? "" : "<nav>" + nav.map { "<a href=\"#\($0.0)\">\(e($0.1))</a>" }.joined() + "</nav>\n"
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(e(context.title))</title>
            <style>\(css)</style>
            </head><body><main>
            \(navHTML)\(body)<footer>Generated by judgepanel. Self-contained page: no scripts, no network. Every item of a run with its votes, filtered and labelled: “judgepanel ui RUN_DIR”, whose Report link shows this page with links into them.</footer>
            </main></body></html>

            """
    }

    package static let css = """
        :root{--fg:#1f2937;--muted:#6b7280;--line:#e5e7eb;--bg:#ffffff;--band:#f8fafc;--accent:#0072B2}
        *{box-sizing:border-box}
        body{margin:0;background:#f3f4f6;color:var(--fg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
        main{max-width:1180px;margin:0 auto;padding:24px 28px 40px;background:var(--bg)}
        h1{font-size:26px;margin:0 0 4px}
        h2{font-size:19px;margin:34px 0 6px;padding-top:14px;border-top:1px solid var(--line)}
        h3{font-size:15px;margin:16px 0 6px}
        .sub{color:var(--muted);margin:0 0 14px}
        .lede{color:var(--muted);margin:0 0 10px;max-width:860px}
        dl.meta{display:grid;grid-template-columns:repeat(auto-fill,minmax(250px,1fr));gap:8px 18px;margin:12px 0 4px;padding:12px 14px;background:var(--band);border:1px solid var(--line);border-radius:8px}
        dl.meta div{min-width:0}
        dl.meta dt{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
        dl.meta dd{margin:0;font-weight:600;overflow-wrap:anywhere}
        nav{display:flex;flex-wrap:wrap;gap:6px;margin:0 0 14px}
        nav a{font-size:13px;text-decoration:none;color:var(--accent);border:1px solid var(--line);border-radius:999px;padding:2px 10px}
        .tw{overflow-x:auto;margin:8px 0 4px}
        table{border-collapse:collapse;font-size:13px;font-variant-numeric:tabular-nums}
        caption{text-align:left;color:var(--muted);font-size:12px;padding-bottom:4px}
        th,td{border-bottom:1px solid var(--line);padding:4px 10px;text-align:right;white-space:nowrap}
        th{background:var(--band);font-weight:600}
        td:first-child,th:first-child{text-align:left;max-width:320px;overflow:hidden;text-overflow:ellipsis}
        tbody tr:last-child td{border-bottom:0}
        svg{display:block;max-width:100%;height:auto;margin:6px 0}
        svg text{font:12px system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif}
        svg text:not([fill]){fill:#1f2937}
        svg .tick{fill:#6b7280;font-size:11px}
        svg .muted{fill:#9ca3af}
        svg .small{font-size:11px}
        svg .strong{font-weight:700}
        svg .val{fill:#374151}
        svg .cell{font-size:12px;font-weight:600}
        svg .cellsub{font-size:10px}
        svg .reflbl{fill:#374151;font-size:11px;font-style:italic}
        svg .grid{stroke:#e5e7eb;stroke-width:1}
        svg .ref{stroke:#374151;stroke-width:1.2;stroke-dasharray:4 3}
        svg .band{fill:#f8fafc}
        svg .na{fill:#f3f4f6;stroke:#d1d5db;stroke-dasharray:2 2}
        .multiples{display:flex;flex-wrap:wrap;gap:10px 24px}
        .multiples figure{margin:0}
        .multiples figcaption{font-size:12px;color:var(--muted)}
        ul.notes{font-size:13px;color:#374151}
        footer{margin-top:36px;color:var(--muted);font-size:12px}
        """

    // MARK: - header

    package static func header(_ report: MetaReport?, _ ctx: Context) -> String {
        var s = "<header><h1>\(e(ctx.title))</h1>\n"
        if let r = report {
            let labels = r.labelKind?.rawValue ?? "none"
            s +=
                "<p class=\"sub\">\(r.nItems) items · labels: \(e(labels)) · \(r.judges.count) judges · flip policy \(e(r.flip.rawValue)) · aggregate \(e(r.aggregate.rawValue))</p>\n"
            if let c = r.conventions {
                s +=
                    "<ul class=\"notes\"><li><b>flip</b>: \(e(c.flip))</li><li><b>abstentions</b>: \(e(c.abstention))</li><li><b>human label</b>: \(e(c.humanLabel))</li><li><b>bootstrap unit</b>: \(e(c.bootstrapUnit))</li></ul>\n"
            }
        }
        var fields: [(String, String)] = []
        fields.append(("Dataset", ctx.dataset ?? "—"))
        fields.append(("Rubric", ctx.rubric ?? "—"))
        fields.append(("Panel", ctx.panel ?? (report.map { $0.judges.map(\.judge).joined(separator: ", ") } ?? "—")))
        let cost =
            ctx.cost
            ?? report.flatMap { r in
                let xs = (r.judges).compactMap(\.costUSD)
                return xs.isEmpty ? nil : xs.reduce(0, +)
            }
        fields.append(("Cost", cost.map { String(format: "$%.4f", $0) } ?? "—"))
        fields.append(("Date", ctx.date ?? "—"))
        if let r = report {
            let unit = r.resampling == "item" ? "items" : r.resampling
            fields.append(
                (
                    "Confidence intervals",
                    r.bootstrapResamples == 0
                        ? "none (--resamples 0: point figures only)"
                        : "95% percentile bootstrap over \(unit), \(r.bootstrapResamples) resamples, seed \(r.seed)"
                ))
        }
        fields += ctx.extra
        s +=
            "<dl class=\"meta\">" + fields.map { "<div><dt>\(e($0.0))</dt><dd>\(e($0.1))</dd></div>" }.joined()
            + "</dl>\n"
        return s + "</header>\n"
    }

    // MARK: - sections

    static func rowsWithPanel(_ r: MetaReport) -> [JudgeMetrics] { r.judges + [r.panel].compactMap { $0 } }

    package static func summary(_ r: MetaReport) -> String {
        let (h, rows) = ReportText.rows(r)
        return section("summary", "Summary", "Every judge and the panel (last row), as in report.md.", table(h, rows))
    }

    static func accuracySection(_ r: MetaReport) -> String? {
        guard r.labelKind != nil else { return nil }
        let all = rowsWithPanel(r)
        guard all.contains(where: { $0.accuracy != nil }) else { return nil }
        let rows = all.enumerated().map { i, m in
            HTMLCharts.ForestRow(
                label: m.judge, value: m.accuracy?.value, lo: m.accuracyCI?.lo, hi: m.accuracyCI?.hi,
                emphasis: r.panel != nil && i == r.judges.count)
        }
        var refs: [(Double, String)] = []
        if let h = r.human?.leaveOneOutAgreement?.value { refs.append((h, "human ceiling")) }
        let chart = HTMLCharts.forest(
            rows, domain: (0, 1), refs: refs, label: "accuracy against human labels with 95% CIs")
        let t = table(
            [
                "judge", "n", "accuracy", "95% CI", "coverage", "accuracy answered", "vote accuracy",
                "agreement w/o ties",
            ],
            all.map { m in
                [
                    m.judge, String(m.n), num(m.accuracy), ci(m.accuracyCI), num(m.coverage), num(m.accuracyAnswered),
                    num(m.voteAccuracy),
                    num(m.agreementWithoutTies),
                ]
            })
        return section(
            "accuracy", "Accuracy against human labels",
            "Reconciled verdicts (both orders) against the human label; an abstention counts as a miss. Dots: judges; diamond: the panel; whiskers: 95% bootstrap CI. The dashed line is the leave-one-out agreement among humans, when annotators were recorded.",
            chart + t)
    }

    static func kappaSection(_ r: MetaReport) -> String? {
        let all = rowsWithPanel(r)
        guard all.contains(where: { $0.cohenKappa?.value != nil }) else { return nil }
        let lows = all.compactMap { $0.cohenKappaCI?.lo ?? $0.cohenKappa?.value }
        let lo = min(0, ((lows.min() ?? 0) * 4).rounded(.down) / 4)
        let rows = all.enumerated().map { i, m in
            HTMLCharts.ForestRow(
                label: m.judge, value: m.cohenKappa?.value, lo: m.cohenKappaCI?.lo, hi: m.cohenKappaCI?.hi,
                emphasis: r.panel != nil && i == r.judges.count)
        }
        var refs: [(Double, String)] = []
        if let f = r.human?.fleissKappa?.value { refs.append((f, "human Fleiss κ")) }
        let chart = HTMLCharts.forest(
            rows, domain: (max(-1, lo), 1), refs: refs, label: "Cohen kappa against human labels")
        let t = table(
            ["judge", "Cohen κ", "95% CI", "weighted κ (quadratic)", "Pearson", "Spearman", "Kendall τ-b"],
            all.map {
                [
                    $0.judge, num($0.cohenKappa), ci($0.cohenKappaCI), num($0.weightedKappaQuadratic), num($0.pearson),
                    num($0.spearman), num($0.kendallTauB),
                ]
            })
        return section(
            "kappa", "Chance-corrected agreement (Cohen κ)",
            "κ of the reconciled verdicts with the human label over the label's categories; 0 is chance, 1 perfect.",
            chart + t)
    }

    /// Reconciled verdicts of the context's items and votes (baseline votes only).
    package static func reconciled(_ ctx: Context) -> (items: [Item], rec: MetaAnalysis.Reconciled)? {
        if let items = ctx.items, let rec = ctx.reconciled {
            return items.isEmpty || rec.judges.isEmpty ? nil : (items, rec)
        }
        guard let items = ctx.items, let votes = ctx.votes, !items.isEmpty, !votes.isEmpty else { return nil }
        let rec = MetaAnalysis(options: ctx.analysis).reconcile(items: items, votes: votes.filter { $0.variant == nil })
        guard !rec.judges.isEmpty else { return nil }
        return (items, rec)
    }

    static func confusionSection(
        _ r: MetaReport, _ ctx: Context, _ data: (items: [Item], rec: MetaAnalysis.Reconciled)?
    ) -> String? {
        guard r.labelKind == .pairwise, let (items, rec) = data, rec.kind != .pointwise else { return nil }
        let labels = items.map { $0.consensus?.preference }
        let humanCats: [Preference] = [.a, .b, .tie]
        let judgeCats = ["A", "B", "tie", "abstain"]
        var series: [(String, [Preference?])] = rec.judges.indices.map { j in
            (rec.judges[j], rec.verdicts[j].map(\.verdict))
        }
        series.append(("panel", rec.panel.map(\.verdict)))
        var figs = ""
        var rows: [[String]] = []
        for (name, verdicts) in series {
            var counts = [[Int]](repeating: [Int](repeating: 0, count: judgeCats.count), count: humanCats.count)
            for (i, l) in labels.enumerated() {
                guard let l, let hi = humanCats.firstIndex(of: l) else { continue }
                let v = verdicts[i]
                let ji = v.map { p in p == .a ? 0 : (p == .b ? 1 : 2) } ?? 3
                counts[hi][ji] += 1
            }
            let values: [[Double?]] = counts.map { row in
                let total = row.reduce(0, +)
                return row.map { total == 0 ? nil : Double($0) / Double(total) }
            }
            let subs = counts.map { row in row.map { "n=\($0)" } }
            let svg = HTMLCharts.heatmap(
                rows: humanCats.map { "human " + $0.rawValue }, cols: judgeCats.map { "judge " + $0 }, values: values,
                colour: HTMLCharts.sequential, format: { String(format: "%.0f%%", $0 * 100) },
                label: "confusion matrix of \(name) against human labels", subtitles: subs)
            figs +=
                "<figure>\(svg)<figcaption>\(e(name)) — rows: human label; columns: verdict; share of the row</figcaption></figure>"
            for (hi, h) in humanCats.enumerated() { rows.append([name, h.rawValue] + counts[hi].map(String.init)) }
        }
        let t = table(["judge", "human label"] + judgeCats.map { "judge " + $0 }, rows, caption: "counts")
        return section(
            "confusion", "Confusion against human labels",
            "Each matrix compares a judge's reconciled verdict (columns) with the human label (rows); cells show the share of the row, with counts.",
            "<div class=\"multiples\">\(figs)</div>" + t)
    }

    static func positionSection(_ r: MetaReport) -> String? {
        let all = rowsWithPanel(r).filter { $0.positionConsistency != nil || $0.firstSlotRate != nil }
        guard !all.isEmpty else { return nil }
        let chart = HTMLCharts.bars(
            rows: all.map(\.judge),
            series: [
                .init(
                    name: "position consistency", colour: HTMLCharts.blue,
                    values: all.map { $0.positionConsistency?.value }),
                .init(name: "first-slot rate", colour: HTMLCharts.orange, values: all.map { $0.firstSlotRate?.value }),
            ],
            refs: [(0.5, "unbiased first-slot rate")], label: "position consistency and first-slot rate")
        let t = table(
            [
                "judge", "position consistency", "over answered", "both abstained", "first-slot rate", "parse rate",
                "calls", "errors",
            ],
            all.map {
                [
                    $0.judge, num($0.positionConsistency), num($0.positionConsistencyAnswered),
                    $0.positionBothAbstained.map(String.init) ?? "", num($0.firstSlotRate), num($0.parseRate),
                    $0.calls.map(String.init) ?? "", $0.errors.map(String.init) ?? "",
                ]
            })
        return section(
            "position", "Position bias",
            "Position consistency: share of the items asked in both orders whose two orders answered and agree (1 is ideal; an order without a usable answer is inconsistent, as LLMBar's \"equal\"); over answered: the same over items answered in both orders. First-slot rate: share of votes for whichever answer was shown first (0.5 is unbiased).",
            chart + t)
    }

    static func interJudgeSection(_ r: MetaReport) -> String? {
        guard let ij = r.interJudge, !ij.cohenKappa.isEmpty else { return nil }
        let names = r.judges.map(\.judge)
        func lookup(_ d: [String: MetricValue], _ a: String, _ b: String) -> Double? {
            (d["\(a)|\(b)"] ?? d["\(b)|\(a)"])?.value
        }
        let values: [[Double?]] = names.map { a in names.map { b in a == b ? 1 : lookup(ij.cohenKappa, a, b) } }
        let svg = HTMLCharts.heatmap(
            rows: names, cols: names, values: values, colour: { HTMLCharts.diverging($0) },
            format: { String(format: "%.2f", $0) },
            label: "inter-judge Cohen kappa", legend: (-1, 1, { HTMLCharts.diverging($0) }))
        let keys = Set(ij.cohenKappa.keys).union(ij.errorCorrelation.keys).sorted()
        let rows = keys.map { k in
            [k.replacingOccurrences(of: "|", with: " × "), num(ij.cohenKappa[k]), num(ij.errorCorrelation[k])]
        }
        var lede =
            "Cohen κ between each pair of judges' reconciled verdicts (purple: agree beyond chance; orange: disagree)."
        if let eff = ij.effectiveJudges?.value {
            lede += String(format: " From the error correlations the panel is worth %.2f independent judges.", eff)
        }
        return section(
            "interjudge", "Inter-judge agreement", lede, svg + table(["pair", "Cohen κ", "error correlation"], rows))
    }

    static func scoreSection(
        _ r: MetaReport, _ ctx: Context, _ data: (items: [Item], rec: MetaAnalysis.Reconciled)?
    ) -> String? {
        guard let (items, rec) = data, rec.kind == .pointwise else { return nil }
        var series: [(String, [Double])] = []
        let human = items.compactMap { $0.consensus?.score }
        if !human.isEmpty { series.append(("human", human)) }
        for (j, name) in rec.judges.enumerated() { series.append((name, rec.verdicts[j].compactMap(\.score))) }
        series.append(("panel", rec.panel.compactMap(\.score)))
        series = series.filter { !$0.1.isEmpty }
        guard !series.isEmpty else { return nil }
        let all = series.flatMap(\.1)
        // Every series left holds a score (the filter above), so `all` has a least and a greatest.
        guard let lo = all.min(), let hi = all.max() else { return nil }
        let integral = all.allSatisfy { $0 == $0.rounded() } && hi - lo <= 20
        let bins: [String]
        let binOf: (Double) -> Int
        if integral {
            let l = Int(lo)
            let h = Int(hi)
            bins = (l...h).map(String.init)
            binOf = { Int($0.rounded()) - l }
        } else {
            let k = 10
            let w = max((hi - lo) / Double(k), 1e-9)
            bins = (0..<k).map { String(format: "%.1f", lo + w * Double($0)) }
            binOf = { min(k - 1, max(0, Int(($0 - lo) / w))) }
        }
        var counts: [[Int]] = []
        for (_, xs) in series {
            var c = [Int](repeating: 0, count: bins.count)
            for x in xs { c[binOf(x)] += 1 }
            counts.append(c)
        }
        let maxCount = counts.flatMap { $0 }.max() ?? 1
        let palette = [
            HTMLCharts.grey, HTMLCharts.blue, HTMLCharts.orange, HTMLCharts.green, "#CC79A7", "#56B4E9",
            HTMLCharts.vermillion,
        ]
        var figs = ""
        for (k, (name, _)) in series.enumerated() {
            let colour =
                name == "human"
                ? HTMLCharts.grey : (name == "panel" ? HTMLCharts.vermillion : palette[1 + (k % (palette.count - 2))])
            figs +=
                "<figure>"
                + HTMLCharts.histogram(title: name, bins: bins, counts: counts[k], maxCount: maxCount, colour: colour)
                + "</figure>"
        }
        let rows = series.enumerated().map { k, s in
            let xs = s.1
            let mean = xs.reduce(0, +) / Double(xs.count)
            let sd =
                xs.count > 1
                ? (xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(xs.count - 1)).squareRoot() : 0
            return [s.0, String(xs.count), String(format: "%.2f", mean), String(format: "%.2f", sd)]
                + counts[k].map(String.init)
        }
        return section(
            "scores", "Score distributions",
            "Reconciled scores per judge (mean over samples), the panel's pooled score and the human consensus score, on a shared scale.",
            "<div class=\"multiples\">\(figs)</div>" + table(["series", "n", "mean", "sd"] + bins, rows))
    }

    /// The Bradley–Terry ranking, read from the report's JSON form (`ranking`), when present.
    static func rankingSection(_ r: MetaReport) -> String? {
        guard let json = JSONValue(encoding: r),
            let ranking = json["ranking"]?.arrayValue, !ranking.isEmpty
        else { return nil }
        let rows = ranking.map { x -> [String] in
            let s = x["strength"]?.doubleValue.map { String(format: "%.3f", $0) } ?? ""
            let sci =
                x["strength_ci"]?.arrayValue.flatMap { a in
                    a.count == 2
                        ? String(format: "[%.3f, %.3f]", a[0].doubleValue ?? .nan, a[1].doubleValue ?? .nan) : nil
                } ?? ""
            let rci = x["rank_ci"]?.arrayValue.map { a in "[" + a.map(\.textValue).joined(separator: ", ") + "]" } ?? ""
            return [x["rank"]?.textValue ?? "", x["model"]?.textValue ?? "", s, sci, rci]
        }
        var lede = "Bradley–Terry strengths of the compared systems from the panel's verdicts, best first."
        if let tau = json["ranking_kendall_tau_human"]?["value"]?.doubleValue
            ?? json["ranking_kendall_tau_human"]?.doubleValue
        {
            lede += String(format: " Kendall τ-b with the ranking from human labels: %.3f.", tau)
        }
        return section(
            "ranking", "System ranking", lede, table(["rank", "model", "strength", "95% CI", "rank CI"], rows))
    }

    static func humanSection(_ r: MetaReport) -> String? {
        guard let h = r.human else { return nil }
        var rows: [[String]] = [
            ["Fleiss κ", num(h.fleissKappa)],
            ["Krippendorff α (\(h.alphaLevel ?? ""))", num(h.krippendorffAlpha)],
            ["leave-one-out agreement", num(h.leaveOneOutAgreement)],
        ]
        for (k, v) in h.pairwiseCohenKappa.sorted(by: { $0.key < $1.key }) {
            rows.append(["Cohen κ " + k.replacingOccurrences(of: "|", with: " × "), num(v)])
        }
        return section(
            "human", "Agreement among humans",
            "\(h.nAnnotators) annotators on \(h.nItems) items: the ceiling a judge can be expected to reach.",
            table(["statistic", "value"], rows))
    }

    struct ProbeRow {
        package var probe: String
        package var judge: String
        package var n: Int
        package var flip: Double?
        package var flipCI: [Double]?
        package var bias: Double?
        package var biasCI: [Double]?
        package var shift: Double?
    }

    static func probeSection(_ probes: JSONValue?) -> String? {
        guard let probes, let list = probes["probes"]?.arrayValue ?? probes.arrayValue, !list.isEmpty else {
            return nil
        }
        let rows = list.compactMap { p -> ProbeRow? in
            guard let probe = p["probe"]?.stringValue, let judge = p["judge"]?.stringValue else { return nil }
            func arr(_ k: String) -> [Double]? {
                p[k]?.arrayValue.map { $0.compactMap(\.doubleValue) }.flatMap { $0.count == 2 ? $0 : nil }
            }
            return ProbeRow(
                probe: probe, judge: judge, n: p["n"]?.intValue ?? 0, flip: p["flip_rate"]?.doubleValue,
                flipCI: arr("flip_rate_ci"),
                bias: p["bias"]?.doubleValue, biasCI: arr("bias_ci"), shift: p["score_shift"]?.doubleValue)
        }
        guard !rows.isEmpty else { return nil }
        var probeNames: [String] = []
        var judgeNames: [String] = []
        for r in rows {
            if !probeNames.contains(r.probe) { probeNames.append(r.probe) }
            if !judgeNames.contains(r.judge) { judgeNames.append(r.judge) }
        }
        if let i = judgeNames.firstIndex(of: "panel") { judgeNames.append(judgeNames.remove(at: i)) }
        func find(_ j: String, _ p: String) -> ProbeRow? { rows.first { $0.judge == j && $0.probe == p } }
        let values: [[Double?]] = judgeNames.map { j in probeNames.map { p in find(j, p)?.bias } }
        let m = max(0.1, ((values.flatMap { $0 }.compactMap { $0.map(abs) }.max() ?? 0.1) * 10).rounded(.up) / 10)
        let subs: [[String]] = judgeNames.map { j in
            probeNames.map { p in find(j, p)?.flip.map { String(format: "flip %.2f", $0) } ?? "" }
        }
        let svg = HTMLCharts.heatmap(
            rows: judgeNames, cols: probeNames, values: values, colour: { HTMLCharts.diverging($0 / m) },
            format: { String(format: "%+.2f", $0) }, label: "judge by probe bias", subtitles: subs,
            legend: (-m, m, { HTMLCharts.diverging($0 / m) }))
        func cell(_ x: Double?, _ c: [Double]?, signed: Bool) -> String {
            guard let x else { return "n/a" }
            let fmt = signed ? "%+.3f" : "%.3f"
            var s = String(format: fmt, x)
            if let c { s += " [" + String(format: fmt, c[0]) + ", " + String(format: fmt, c[1]) + "]" }
            return s
        }
        var tableRows: [[String]] = []
        for j in judgeNames {
            for p in probeNames {
                guard let r = find(j, p) else { continue }
                tableRows.append([
                    j, p, String(r.n), cell(r.flip, r.flipCI, signed: false), cell(r.bias, r.biasCI, signed: true),
                    r.shift.map { String(format: "%+.3f", $0) } ?? "",
                ])
            }
        }
        var desc = ""
        if let d = probes["descriptions"]?.objectValue, !d.isEmpty {
            desc =
                "<ul class=\"notes\">"
                + probeNames.compactMap { p in d[p]?.stringValue.map { "<li><b>\(e(p))</b>: \(e($0))</li>" } }.joined()
                + "</ul>"
        }
        return section(
            "probes", "Bias probes",
            "Bias per judge and probe: share of verdicts that moved toward the perturbed answer minus the share that moved away (position: first-slot rate − 0.5). Purple: toward; orange: away. Each cell also gives the flip rate.",
            svg + table(["judge", "probe", "n", "flip rate [95% CI]", "bias [95% CI]", "score shift"], tableRows) + desc
        )
    }

    static func notesSection(_ r: MetaReport) -> String? {
        var lines = r.notes ?? []
        for m in rowsWithPanel(r) {
            for (k, v) in (m.notes ?? [:]).sorted(by: { $0.key < $1.key }) {
                lines.append("\(m.judge): \(k) n/a (\(v))")
            }
        }
        guard !lines.isEmpty else { return nil }
        return section(
            "notes", "Notes and undefined metrics", nil,
            "<ul class=\"notes\">" + lines.map { "<li>\(e($0))</li>" }.joined() + "</ul>\n")
    }
}
