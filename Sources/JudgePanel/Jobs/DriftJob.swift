import Foundation
import JudgePanelAggregation
import JudgePanelAnalysis
import JudgePanelCore
import JudgePanelJudging
import JudgePanelProviders
import JudgePanelReports
import JudgeStats

/// `judgepanel drift BASE NEW` and `score --baseline RUN`: two score runs compared on the items they share, from
/// their recorded votes and config.json (no model call). See ``DriftAnalysis`` for the statistics.
package enum DriftJob {
    /// A run directory read back.
    struct Run {
        var dir: String
        var config: RunConfig
        var items: [Item]
        var reconciled: MetaAnalysis.Reconciled
    }

    static func load(_ dir: String) throws -> Run {
        let run = RunDirectory(path: dir)
        let configPath = run.url.appendingPathComponent("config.json").path
        guard let config = try RunConfig.read(dir: dir) else {
            throw JudgePanelError.badInput("not a judgepanel score run directory (no config.json)", file: dir)
        }
        guard config.run != nil else {
            throw JudgePanelError.badInput(
                "the run did not finish (no run facts in config.json): finish it with score --resume", file: configPath)
        }
        guard let itemsPath = config.items else {
            throw JudgePanelError.badInput("no items file recorded", file: configPath)
        }
        let loader = ItemLoader(mapping: config.mapping)
        var items = try loader.load(path: itemsPath)
        if let shard = try Shard.recorded(in: config, file: configPath) {
            items = items.filter { shard.contains($0.id) }
        }
        let options = try RunReports.analysisOptions(config, file: configPath) ?? MetaAnalysis.Options()
        let reconciled = try MetaAnalysis(options: options).reconcile(items: items, votesPath: run.votesPath)
        return Run(dir: dir, config: config, items: items, reconciled: reconciled)
    }

    /// Compares two runs; bad input (no such run, an unfinished run) names the directory.
    package static func compare(base baseDir: String, new newDir: String, analysis: DriftAnalysis) throws -> DriftReport
    {
        let base = try load(baseDir)
        let new = try load(newDir)
        guard base.reconciled.kind == new.reconciled.kind else {
            throw JudgePanelError.badInput(
                "the runs judged different protocols (\(base.reconciled.kind.rawValue) vs \(new.reconciled.kind.rawValue))",
                file: newDir)
        }
        let pairwise = base.reconciled.kind == .pairwise
        let newIndex = Dictionary(new.items.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
        let shared: [(Int, Int)] = base.items.enumerated().compactMap { i, item in newIndex[item.id].map { (i, $0) } }
        let baseIDs = Set(base.items.map(\.id))
        func columns(_ run: Run, pick: (Int, Int) -> Int) -> [DriftAnalysis.Column] {
            var out = run.reconciled.judges.enumerated().map { j, name in
                DriftAnalysis.Column(
                    name: name, verdicts: shared.map { run.reconciled.verdicts[j][pick($0.0, $0.1)].verdict },
                    scores: shared.map { run.reconciled.verdicts[j][pick($0.0, $0.1)].score })
            }
            out.append(
                DriftAnalysis.Column(
                    name: "panel", verdicts: shared.map { run.reconciled.panel[pick($0.0, $0.1)].verdict },
                    scores: shared.map { run.reconciled.panel[pick($0.0, $0.1)].score }))
            return out
        }
        let labels = shared.map { new.items[$0.1].label }
        let units = analysis.compare(
            base: columns(base) { b, _ in b }, new: columns(new) { _, n in n }, labels: labels, pairwise: pairwise)
        var notes: [String] = []
        let onlyBase = Set(base.reconciled.judges).subtracting(new.reconciled.judges).sorted()
        let onlyNew = Set(new.reconciled.judges).subtracting(base.reconciled.judges).sorted()
        if !onlyBase.isEmpty {
            notes.append("judges only in the base run (not compared): \(onlyBase.joined(separator: ", "))")
        }
        if !onlyNew.isEmpty {
            notes.append("judges only in the new run (not compared): \(onlyNew.joined(separator: ", "))")
        }
        if shared.isEmpty { notes.append("the runs share no item: nothing to compare") }
        return DriftReport(
            base: baseDir, new: newDir, alpha: analysis.alpha, resamples: analysis.resamples,
            protocolKind: base.reconciled.kind.rawValue, nShared: shared.count,
            nBaseOnly: base.items.count - shared.count, nNewOnly: new.items.filter { !baseIDs.contains($0.id) }.count,
            units: units, changes: try inputChanges(base: base.config, new: new.config),
            modelVersions: modelVersionChanges(base: base.config, new: new.config),
            significant: units.contains(where: \.significant), notes: notes)
    }

    /// What changed between the runs' recorded inputs: rubric parts (text, prompt template, system prompt, answer
    /// reading), judge settings, the analysis settings, the items file, OpenAI's system fingerprints.
    static func inputChanges(base: RunConfig, new: RunConfig) throws -> [String] {
        var out: [String] = []
        if let b = base.fingerprint, let n = new.fingerprint {
            out += RunFingerprint.changes(recorded: b, current: n)
        } else {
            out.append("a run records no fingerprint (an older judgepanel): rubric and settings cannot be compared")
        }
        let ba = try base.analysis.map { try RunFiles.json($0, what: "analysis").objectValue ?? [:] } ?? [:]
        let na = try new.analysis.map { try RunFiles.json($0, what: "analysis").objectValue ?? [:] } ?? [:]
        for k in Set(ba.keys).union(na.keys).sorted() where ba[k] != na[k] {
            out.append("analysis \(k): \(ba[k]?.compactString ?? "unset") → \(na[k]?.compactString ?? "unset")")
        }
        if let b = base.itemsSHA256, let n = new.itemsSHA256, b != n {
            out.append("the items file's content (SHA-256 \(b.prefix(12))… → \(n.prefix(12))…)")
        }
        let bf = base.run?.systemFingerprints ?? [:]
        let nf = new.run?.systemFingerprints ?? [:]
        for judge in Set(bf.keys).intersection(nf.keys).sorted() {
            let b = Set((bf[judge] ?? [:]).keys)
            let n = Set((nf[judge] ?? [:]).keys)
            if b != n {
                out.append(
                    "judge '\(judge)': OpenAI system_fingerprint \(b.sorted().joined(separator: ", ")) → \(n.sorted().joined(separator: ", "))"
                )
            }
        }
        return out
    }

    /// Judges whose provider reported other model versions in the two runs (run facts `model_versions`).
    static func modelVersionChanges(base: RunConfig, new: RunConfig) -> [DriftReport.ModelVersionChange] {
        let bv = base.run?.modelVersions ?? [:]
        let nv = new.run?.modelVersions ?? [:]
        let requested = Dictionary(
            (new.panel?.judges ?? []).map { j in (j.name, j.model) }, uniquingKeysWith: { a, _ in a })
        func counts(_ v: [String: Int]?) -> [String: Int] { v ?? [:] }
        var out: [DriftReport.ModelVersionChange] = []
        for judge in Set(bv.keys).union(nv.keys).sorted() {
            let b = counts(bv[judge])
            let n = counts(nv[judge])
            guard Set(b.keys) != Set(n.keys) else { continue }
            func list(_ c: [String: Int]) -> String {
                c.isEmpty
                    ? "nothing recorded"
                    : c.sorted { $0.key < $1.key }.map { "\($0.key) (\($0.value) votes)" }.joined(separator: ", ")
            }
            let asked = requested[judge] ?? nil
            var summary =
                "judge '\(judge)'" + (asked.map { " (asks for '\($0)')" } ?? "")
                + ": the provider reported \(list(b)) in the base run, \(list(n)) in the new run"
            if let asked, !b.isEmpty, !n.isEmpty, !b.keys.contains(asked) || !n.keys.contains(asked) {
                summary += " — the alias '\(asked)' resolved to another snapshot"
            }
            out.append(.init(judge: judge, requested: asked, base: b, new: n, summary: summary))
        }
        return out
    }

    /// Writes drift.json, drift.md and drift.html into `dir`.
    package static func write(_ report: DriftReport, to dir: String) throws {
        let run = RunDirectory(path: dir)
        try run.writeJSON("drift.json", report)
        try run.write("drift.md", report.markdown)
        try run.write("drift.html", DriftHTML.render(report))
    }
}
