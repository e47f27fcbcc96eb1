import Foundation
import JudgePanelCore
import JudgeStats

/// What `judgepanel drift BASE NEW` (and `score --baseline`) found: written as drift.json (stable keys, README
/// "Drift").
package struct DriftReport: Sendable, Codable {
    /// A judge whose provider reported other model versions in the two runs.
    package struct ModelVersionChange: Sendable, Codable, Hashable {
        package var judge: String
        /// The model the panel file asks for (new run), e.g. an alias such as `gpt-4o`.
        package var requested: String?
        /// Versions the provider reported, with their vote counts.
        package var base: [String: Int]
        package var new: [String: Int]
        /// In words, naming an alias that resolved to another snapshot.
        package var summary: String

        package init(judge: String, requested: String?, base: [String: Int], new: [String: Int], summary: String) {
            self.judge = judge
            self.requested = requested
            self.base = base
            self.new = new
            self.summary = summary
        }
    }

    package var schemaVersion = 1
    package var base: String
    package var new: String
    package var alpha: Double
    package var resamples: Int
    package var protocolKind: String
    package var nShared: Int
    package var nBaseOnly: Int
    package var nNewOnly: Int
    package var units: [DriftUnit]
    /// What changed between the runs' recorded inputs (rubric parts, judge settings, analysis, items), in words.
    package var changes: [String]
    package var modelVersions: [ModelVersionChange]
    /// Whether any unit drifted significantly (exit 4).
    package var significant: Bool
    package var notes: [String] = []

    package init(
        base: String, new: String, alpha: Double, resamples: Int, protocolKind: String, nShared: Int, nBaseOnly: Int,
        nNewOnly: Int,
        units: [DriftUnit], changes: [String], modelVersions: [ModelVersionChange], significant: Bool,
        notes: [String] = []
    ) {
        self.base = base
        self.new = new
        self.alpha = alpha
        self.resamples = resamples
        self.protocolKind = protocolKind
        self.nShared = nShared
        self.nBaseOnly = nBaseOnly
        self.nNewOnly = nNewOnly
        self.units = units
        self.changes = changes
        self.modelVersions = modelVersions
        self.significant = significant
        self.notes = notes
    }

    enum CodingKeys: String, CodingKey {
        case base, new, alpha, resamples, units, changes, significant, notes
        case schemaVersion = "schema_version"
        case protocolKind = "protocol"
        case nShared = "n_shared"
        case nBaseOnly = "n_base_only"
        case nNewOnly = "n_new_only"
        case modelVersions = "model_versions"
    }

    /// The findings in a few lines (terminal and Markdown).
    package var summaryLines: [String] {
        var out: [String] = []
        out.append(
            "drift: \(nShared) shared items (\(nBaseOnly) only in the base run, \(nNewOnly) only in the new one); α = \(alpha)"
        )
        for m in modelVersions { out.append("model version: \(m.summary)") }
        for c in changes { out.append("changed: \(c)") }
        for u in units {
            let diff = u.scoreDiff.map { String(format: "%+.4f", $0) } ?? "n/a"
            let ci = u.scoreDiffCI.map { String(format: "[%+.4f, %+.4f]", $0[0], $0[1]) } ?? "n/a"
            let p = u.mcnemar.map { String(format: "McNemar A→B %d, B→A %d, p %.4g", $0.b, $0.c, $0.pValue) } ?? ""
            out.append(
                "\(u.significant ? "DRIFT" : "ok   ") \(u.judge): \(u.changed) of \(u.n) changed; score diff \(diff) CI \(ci)"
                    + (p.isEmpty ? "" : "; \(p)")
                    + (u.accuracyDiff.map { String(format: "; accuracy %+.4f", $0) } ?? ""))
            for f in u.findings { out.append("      \(f)") }
        }
        out.append(significant ? "drift: significant change (exit 4)" : "drift: no significant change")
        return out
    }

    /// Markdown for drift.md.
    package var markdown: String {
        var s = "# judgepanel drift\n\n"
        s +=
            "- base: `\(base)`\n- new: `\(new)`\n- shared items: \(nShared) (base only \(nBaseOnly), new only \(nNewOnly))\n"
        s +=
            "- α = \(alpha) (McNemar p-values Holm-adjusted over all units; bootstrap CIs at 1 − α/m, \(resamples) resamples)\n"
        s += "- result: **\(significant ? "significant change" : "no significant change")**\n\n"
        if !modelVersions.isEmpty {
            s += "## Model versions the providers reported\n\n"
            for m in modelVersions { s += "- \(m.summary)\n" }
            s += "\n"
        }
        s += "## What changed in the recorded inputs\n\n"
        s +=
            changes.isEmpty
            ? "Nothing: same rubric, prompt, judge settings, analysis and items.\n\n"
            : changes.map { "- \($0)\n" }.joined() + "\n"
        s += "## Per judge and the panel\n\n"
        s +=
            "| unit | items | changed | score base | score new | diff | CI | McNemar A→B / B→A | p (Holm) | accuracy base → new | drift |\n"
        s += "|---|---|---|---|---|---|---|---|---|---|---|\n"
        func g(_ x: Double?) -> String { x.map { String(format: "%.4f", $0) } ?? "–" }
        for u in units {
            let ci = u.scoreDiffCI.map { String(format: "[%+.4f, %+.4f]", $0[0], $0[1]) } ?? "–"
            let mc = u.mcnemar.map { "\($0.b) / \($0.c)" } ?? "–"
            let p = u.mcnemar?.pAdjusted.map { String(format: "%.4g", $0) } ?? "–"
            let acc =
                u.accuracyBase.map { "\(g($0)) → \(g(u.accuracyNew))" }
                ?? (u.maeBase.map { "MAE \(g($0)) → \(g(u.maeNew))" } ?? "–")
            s +=
                "| \(u.judge) | \(u.n) | \(u.changed) | \(g(u.scoreBase)) | \(g(u.scoreNew)) | \(u.scoreDiff.map { String(format: "%+.4f", $0) } ?? "–") | \(ci) | \(mc) | \(p) | \(acc) | \(u.significant ? "**yes**" : "no") |\n"
        }
        let findings = units.flatMap { u in u.findings.map { "- \(u.judge): \($0)" } }
        if !findings.isEmpty { s += "\n## Findings\n\n" + findings.joined(separator: "\n") + "\n" }
        if !notes.isEmpty { s += "\n## Notes\n\n" + notes.map { "- \($0)" }.joined(separator: "\n") + "\n" }
        return s
    }
}
