import Foundation
import JudgePanelAggregation
import JudgePanelCore
import JudgePanelJudging
import JudgeStats

/// A finished probe run: results per probe × judge, every vote, and the perturbations made.
package struct ProbeRun: Sendable {
    package struct ProbeInfo: Sendable, Hashable, Codable {
        package var name: String
        package var summary: String

        /// A value from its parts.
        package init(name: String, summary: String) {
            self.name = name
            self.summary = summary
        }
    }

    /// Whether the panel's |bias| is below its members' mean |bias| on one probe.
    struct PanelComparison: Sendable, Hashable, Codable {
        package var probe: String
        var panelAbsBias: Double?
        var meanMemberAbsBias: Double?
        package var reduced: Bool?

        package enum CodingKeys: String, CodingKey {
            case probe
            case panelAbsBias = "panel_abs_bias"
            case meanMemberAbsBias = "mean_member_abs_bias"
            case reduced
        }

        package func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(probe, forKey: .probe)
            try c.encode(panelAbsBias, forKey: .panelAbsBias)
            try c.encode(meanMemberAbsBias, forKey: .meanMemberAbsBias)
            try c.encode(reduced, forKey: .reduced)
        }
    }

    /// report.json: `probes` as DESIGN.md, plus run facts and the panel comparison.
    package struct Report: Sendable, Codable {
        package var probes: [ProbeResult]
        package var nItems: Int
        package var seed: UInt64
        package var rubric: String
        package var judges: [String]
        package var descriptions: [String: String]
        var panelVsMembers: [PanelComparison]

        package enum CodingKeys: String, CodingKey {
            case probes
            case nItems = "n_items"
            case seed, rubric, judges, descriptions
            case panelVsMembers = "panel_vs_members"
        }
    }

    package var rubric: String
    package var judges: [String]
    package var items: Int
    package var seed: UInt64
    package var probes: [ProbeInfo]
    package var results: [ProbeResult]
    /// Baseline votes (no `variant`) followed by each probe's votes (`variant` = the probe's name).
    package var votes: [Vote]
    package var perturbations: [PerturbationRecord]
    /// The unperturbed outcome per item.
    package var baseline: [ItemOutcome]

    /// The row for one probe and judge (or `panel`).
    package func result(_ probe: String, _ judge: String) -> ProbeResult? {
        results.first { $0.probe == probe && $0.judge == judge }
    }

    /// Per probe: panel |bias| against the mean |bias| of its members (|score_shift| where bias is undefined).
    var panelComparison: [PanelComparison] {
        probes.map { p in
            func size(_ r: ProbeResult?) -> Double? { (r?.bias ?? r?.scoreShift).map(abs) }
            let panel = size(result(p.name, ProbeData.panelName))
            let members = judges.compactMap { size(result(p.name, $0)) }
            let mean = members.isEmpty ? nil : members.reduce(0, +) / Double(members.count)
            var reduced: Bool?
            if let panel, let mean { reduced = panel < mean }
            return PanelComparison(probe: p.name, panelAbsBias: panel, meanMemberAbsBias: mean, reduced: reduced)
        }
    }

    package var report: Report {
        Report(
            probes: results, nItems: items, seed: seed, rubric: rubric, judges: judges,
            descriptions: Dictionary(probes.map { ($0.name, $0.summary) }, uniquingKeysWith: { a, _ in a }),
            panelVsMembers: panelComparison)
    }

    // MARK: - Text

    package static func num(_ x: Double?, signed: Bool) -> String {
        guard let x else { return "n/a" }
        return String(format: signed ? "%+.3f" : "%.3f", x)
    }

    package static func cell(_ x: Double?, _ ci: [Double]?, signed: Bool) -> String {
        guard x != nil else { return "n/a" }
        guard let ci, ci.count == 2 else { return num(x, signed: signed) }
        return "\(num(x, signed: signed)) [\(num(ci[0], signed: signed)), \(num(ci[1], signed: signed))]"
    }

    /// The judge × probe table: a flip-rate row and a bias row per judge (and a score-shift row for pointwise).
    package var tableRows: (header: [String], rows: [[String]]) {
        let header = ["judge", "metric"] + probes.map(\.name)
        var rows: [[String]] = []
        let hasShift = results.contains { $0.scoreShift != nil }
        for judge in judges + [ProbeData.panelName] {
            let rs = probes.map { result($0.name, judge) }
            rows.append([judge, "flip"] + rs.map { Self.cell($0?.flipRate, $0?.flipRateCI, signed: false) })
            rows.append(["", "bias"] + rs.map { Self.cell($0?.bias, $0?.biasCI, signed: true) })
            if hasShift { rows.append(["", "shift"] + rs.map { Self.num($0?.scoreShift, signed: true) }) }
            rows.append(["", "n"] + rs.map { $0.map { String($0.n) } ?? "0" })
        }
        return (header, rows)
    }

    /// One line on whether the panel reduced bias compared with its members.
    var panelLine: String {
        let cmp = panelComparison.filter { $0.reduced != nil }
        guard !cmp.isEmpty else { return "Panel vs members: no probe with a defined bias for both." }
        let reduced = cmp.filter { $0.reduced == true }
        let detail = cmp.map {
            "\($0.probe) \(Self.num($0.panelAbsBias, signed: false)) vs \(Self.num($0.meanMemberAbsBias, signed: false))"
        }.joined(separator: ", ")
        return
            "Panel reduced bias (panel |bias| < mean member |bias|) on \(reduced.count) of \(cmp.count) probes: \(detail)."
    }

    /// An aligned plain-text table with the panel line, for the terminal.
    package var table: String {
        let (header, rows) = tableRows
        var widths = header.map(\.count)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        func line(_ r: [String]) -> String {
            r.enumerated().map { i, c in c.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        var out = [line(header), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")]
        out += rows.map(line)
        out.append("")
        out.append(panelLine)
        return out.joined(separator: "\n")
    }

    /// report.md: the table, what each probe perturbs, and the panel line.
    package var markdown: String {
        let (header, rows) = tableRows
        func esc(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|") }
        var md = "# judgepanel probe — \(rubric)\n\n"
        md +=
            "\(items) items, \(judges.count) judges, seed \(seed). Flip rate and bias with 95% bootstrap CIs over items.\n\n"
        md += "| " + header.map(esc).joined(separator: " | ") + " |\n"
        md += "|" + header.map { _ in "---|" }.joined() + "\n"
        for r in rows { md += "| " + r.map(esc).joined(separator: " | ") + " |\n" }
        md += "\n## Probes\n\n"
        for p in probes { md += "- **\(p.name)**: \(p.summary)\n" }
        md += "\n" + panelLine + "\n"
        return md
    }

    /// A value from its parts.
    package init(
        rubric: String, judges: [String], items: Int, seed: UInt64, probes: [ProbeInfo], results: [ProbeResult],
        votes: [Vote], perturbations: [PerturbationRecord], baseline: [ItemOutcome]
    ) {
        self.rubric = rubric
        self.judges = judges
        self.items = items
        self.seed = seed
        self.probes = probes
        self.results = results
        self.votes = votes
        self.perturbations = perturbations
        self.baseline = baseline
    }
}
