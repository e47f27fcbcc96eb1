import Foundation
import JudgePanelAggregation
import JudgePanelAnalysis
import JudgePanelCore
import JudgePanelJudging
import JudgePanelProviders
import JudgePanelReports
import JudgeStats

/// Writes and regenerates a run directory's reports (report.json, report.md, report.html) — the latter from the
/// recorded votes alone, with no model call.
package enum RunReports {
    /// The analysis options of a run, as recorded under `analysis` in config.json.
    static func analysisConfig(_ a: MetaAnalysis.Options) -> RunConfig.AnalysisRecord {
        var r = RunConfig.AnalysisRecord()
        r.aggregate = a.aggregate.rawValue
        r.flip = a.flip.rawValue
        r.weights = a.weights
        r.judgeOrder = a.judgeOrder
        r.seed = a.seed
        r.resamples = a.resamples
        r.clusterKey = a.clusterKey
        r.alphaLevel = a.alphaLevel?.rawValue
        r.tieMargin = a.tieMargin
        r.protocol = a.protocolKind?.rawValue
        return r
    }

    /// Reads the `analysis` object of config.json back; nil when the run predates it.
    static func analysisOptions(_ config: RunConfig, file: String) throws -> MetaAnalysis.Options? {
        guard let a = config.analysis else { return nil }
        func bad(_ key: String) -> JudgePanelError { .badInput("analysis.\(key) has an unreadable value", file: file) }
        var o = MetaAnalysis.Options()
        guard let agg = a.aggregate.flatMap(AggregationMethod.init(rawValue:)) else { throw bad("aggregate") }
        guard let flip = a.flip.flatMap(FlipPolicy.init(rawValue:)) else { throw bad("flip") }
        o.aggregate = agg
        o.flip = flip
        guard let weights = a.weights else { throw bad("weights") }
        o.weights = weights
        o.judgeOrder = a.judgeOrder ?? []
        guard let seed = a.seed else { throw bad("seed") }
        o.seed = seed
        guard let resamples = a.resamples else { throw bad("resamples") }
        o.resamples = resamples
        o.clusterKey = a.clusterKey
        if let level = a.alphaLevel {
            guard let l = MeasurementLevel(rawValue: level) else { throw bad("alpha_level") }
            o.alphaLevel = l
        }
        guard let margin = a.tieMargin else { throw bad("tie_margin") }
        o.tieMargin = margin
        if let p = a.protocol {
            guard let k = JudgingProtocol(rawValue: p) else { throw bad("protocol") }
            o.protocolKind = k
        }
        return o
    }

    /// What ``writeScoreRun(_:config:items:votes:)`` wrote.
    struct ScoreFiles {
        package var report: MetaReport
        package var json: JSONValue
    }

    /// Writes verdicts.jsonl, report.json, report.md and report.html of a `score` run from its config.json
    /// (analysis options, run facts) and its votes: the one function both `score` and `report DIR` use, so a
    /// rebuild is byte-identical to what the run wrote.
    /// What a scheduled run (adaptive, cascade) decided: its verdicts per item and the summary it adds to the report.
    struct PolicyOutcome {
        package var verdicts: [Verdict]
        var adjust: (inout MetaReport) -> Void
    }

    /// Where ``writeScoreRun(_:config:source:policy:)`` takes the items from.
    enum AnalysisItems {
        /// Items already held.
        case loaded([Item])
        /// The items file, read once more into the columns the analysis reads (``ItemColumns``), never an `Item` per
        /// item held; `count`, when given, is how many items the run read (a different count: the file changed);
        /// `keep`, when given, keeps only the items it accepts (a shard's).
        case file(path: String, loader: ItemLoader, count: Int?, keep: (@Sendable (Item) -> Bool)? = nil)
    }

    static func writeScoreRun(
        _ dir: RunDirectory, config: RunConfig, items: [Item], policy: PolicyOutcome? = nil
    ) throws -> ScoreFiles {
        try writeScoreRun(dir, config: config, source: .loaded(items), policy: policy)
    }

    /// ``writeScoreRun(_:config:items:policy:)`` with the items from `source`.
    static func writeScoreRun(
        _ dir: RunDirectory, config: RunConfig, source itemsFrom: AnalysisItems, policy: PolicyOutcome? = nil
    ) throws -> ScoreFiles {
        let configPath = dir.url.appendingPathComponent("config.json").path
        guard let options = try analysisOptions(config, file: configPath) else {
            throw JudgePanelError.badInput("no analysis options (written by an older judgepanel)", file: configPath)
        }
        let items: ItemColumns
        switch itemsFrom {
        case .loaded(let list): items = ItemColumns(list, clusterKey: options.clusterKey)
        case .file(let path, let loader, let count, let keep):
            items = try ItemColumns.read(path: path, loader: loader, clusterKey: options.clusterKey, keep: keep)
            if let count, items.count != count { throw ScoreJob.itemsChanged(path) }
        }
        let facts = config.run
        ProcessMemory.releaseFreed()
        // verdicts.jsonl is written as the panel's verdicts are aggregated (a scheduled run writes its policy's).
        let verdictsPath = dir.url.appendingPathComponent("verdicts.jsonl").path
        let verdictsFile =
            policy == nil
            ? try JSONLinesWriter(path: dir.url.appendingPathComponent(".verdicts.jsonl.partial").path) : nil
        let analysed: VotesFileAnalysis
        do {
            analysed = try MetaAnalysis(options: options).analyse(
                items: items, votesPath: dir.votesPath,
                verdicts: verdictsFile.map { file in { try file.append(VerdictsFile.line($0)) } })
        } catch {
            verdictsFile?.discard()
            throw error
        }
        // The votes must be the ones the run recorded (a votes file cut short or swapped after the run, or a run
        // killed while its config.json already named other inputs, is refused rather than reported).
        if let recorded = facts?.votes, recorded != analysed.votes {
            verdictsFile?.discard()
            throw JudgePanelError.badInput(
                "holds \(analysed.votes) votes but config.json records \(recorded) for this run: the votes are not the run's "
                    + "(cut short, edited or from another run); rerun or resume it", file: dir.votesPath)
        }
        var report = analysed.report
        // Run notes (what judges' servers asked for, logprob readings) recorded with the run's facts.
        let runNotes = facts?.notes ?? []
        if !runNotes.isEmpty { report.notes = (report.notes ?? []) + runNotes }
        policy?.adjust(&report)
        // The panel's verdicts in shares (gate paths such as verdicts.share.A, README "CI gates").
        let panelColumn = analysed.columns.panel
        let file = ScoreReportFile(
            report: report, run: facts,
            verdicts: policy.map { p in verdictSummary(p.verdicts.map { ($0.verdict, $0.score) }) }
                ?? verdictSummary(panelColumn.indices.map { (panelColumn.verdict($0), panelColumn.score($0)) }))
        let json: JSONValue
        do {
            json = try file.json(file: dir.url.appendingPathComponent("report.json").path)
        } catch {
            verdictsFile?.discard()
            throw error
        }
        if let verdictsFile {
            try verdictsFile.finish(renamingTo: verdictsPath)
        } else if let policy {
            try dir.writeVerdicts(policy.verdicts)
        }
        try dir.writeJSON("report.json", json)
        let itemsPath = config.items ?? ""
        let rubric = "\(config.rubric?.id ?? "") (\(config.rubric?.protocol ?? ""))"
        let judges = config.panel?.judgeNames ?? []
        let source = config.panel?.source ?? ""
        let panel = "\(source.isEmpty ? "(in code)" : source) — \(judges.joined(separator: ", "))"
        let date = facts?.started ?? ""
        let header =
            [
                "items: \(itemsPath) (\(items.count))", "rubric: \(rubric)", "panel: \(panel)", "date: \(date)",
                String(
                    format: "wall time: %.1f s; votes: %d; errors: %d", facts?.wallSeconds ?? 0,
                    analysed.votes, analysed.errors),
            ]
            + ((facts?.costUnknownCalls).map { n in
                [
                    "cost unknown: \(n) calls (the provider reported no usage, or counts that cannot be a call's); costs shown leave them out"
                ]
            } ?? [])
            + (facts?.stoppedJudges ?? [:]).sorted { $0.key < $1.key }.map {
                "stopped (quota): \($0.key) — \($0.value)"
            }
        try dir.write("report.md", ReportText.markdown(report, title: "judgepanel score report", header: header))
        // The page reads each item's consensus label only: items read as columns get an `Item` with their id and
        // that label, made now, after the analysis.
        let pageItems: [Item]
        switch itemsFrom {
        case .loaded(let list): pageItems = list
        case .file: pageItems = items.ids.indices.map { Item(id: items.ids[$0], label: items.consensus[$0]) }
        }
        var ctx = HTMLReport.Context(
            title: "judgepanel score report", dataset: "\(itemsPath) (\(items.count) items)", rubric: rubric,
            panel: panel,
            cost: analysed.cost, date: date, items: pageItems, analysis: options)
        ctx.reconciled = analysed.reconciled
        try dir.write("report.html", HTMLReport.render(report: report, context: ctx))
        return ScoreFiles(report: report, json: json)
    }

    /// `verdicts` of a score run's report.json: `n` items; `share` of A, B, tie and abstained (each over all n
    /// items) for pairwise verdicts; `mean_score` over the scored items and the abstained share for scores.
    static func verdictSummary(_ verdicts: [(Preference?, Double?)]) -> JSONValue {
        let n = verdicts.count
        func share(_ k: Int) -> JSONValue { n > 0 ? .number(Double(k) / Double(n)) : .null }
        let abstained = verdicts.filter { $0.0 == nil && $0.1 == nil }.count
        let scores = verdicts.compactMap { $0.0 == nil ? $0.1 : nil }
        var o: [String: JSONValue] = ["n": .number(Double(n))]
        if verdicts.contains(where: { $0.0 != nil }) {
            o["share"] = [
                "A": share(verdicts.filter { $0.0 == .a }.count), "B": share(verdicts.filter { $0.0 == .b }.count),
                "tie": share(verdicts.filter { $0.0 == .tie }.count), "abstained": share(abstained),
            ]
        } else {
            o["share"] = ["abstained": share(abstained)]
            o["mean_score"] = scores.isEmpty ? .null : .number(scores.reduce(0, +) / Double(scores.count))
        }
        return .object(o)
    }

    /// What `regenerate` wrote.
    package struct Regenerated: Sendable {
        package var files: [String]
        package var report: MetaReport?
    }

    /// Regenerates report.json, report.md and report.html of a run directory from its votes.jsonl (and the items
    /// file named in config.json, or `itemsPath`). A probe run directory (report.json with `probes`) keeps its
    /// report.json/report.md and gets report.html from them.
    package static func regenerate(dir: String, itemsPath: String? = nil) throws -> Regenerated {
        let run = RunDirectory(path: dir)
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw JudgePanelError.badInput("no such run directory", file: dir)
        }
        let lock = try RunLock.acquire(dir: dir, command: "report")
        defer { lock.release() }
        let existing = try fm.contents(atPath: dir + "/report.json").map { data in
            do { return try JSONValue(jsonData: data) } catch {
                throw JudgePanelError.badInput("not JSON: \(error)", file: dir + "/report.json")
            }
        }
        let config = try RunConfig.read(dir: dir)
        let givenItems = itemsPath
        let itemsPath = itemsPath ?? config?.items
        if let existing, existing["probes"] != nil, itemsPath == nil {
            let ctx = HTMLReport.Context(
                title: "judgepanel probe report", dataset: existing["n_items"].map { "\($0.textValue) items" },
                rubric: existing["rubric"]?.stringValue,
                panel: existing["judges"]?.arrayValue?.map(\.textValue).joined(separator: ", "),
                date: modified(run.votesPath),
                probes: existing)
            try run.write("report.html", HTMLReport.render(report: nil, context: ctx))
            return Regenerated(files: ["report.html"], report: nil)
        }
        if let config, config.analysis != nil, config.run != nil {
            return try rebuildScoreRun(run, config: config, itemsPath: givenItems)
        }
        if let config, config.fingerprint != nil, config.run == nil {
            // config.json is written before a run's first call and again, with the run's facts, when it ends: without
            // facts it names the inputs of a run that did not finish, which may not be those of the votes here.
            throw JudgePanelError.usage(
                "\(dir) holds a run that did not finish (config.json has no run facts: it was stopped or is still running), "
                    + "so its config and votes may disagree: finish it with score --resume (same inputs) before report")
        }
        var options = MetaAnalysis.Options()
        if let config {
            if let f = config.panel?.flip, let flip = FlipPolicy(rawValue: f) { options.flip = flip }
            if let a = config.panel?.aggregate, let agg = AggregationMethod(rawValue: a) { options.aggregate = agg }
            options.judgeOrder = config.panel?.judgeNames ?? []
        }
        guard let itemsPath else {
            throw JudgePanelError.usage("no items file: pass --items (no config.json in \(dir))")
        }
        let items = try ItemLoader().load(path: itemsPath)
        let votes = try VotesFile.load(path: run.votesPath)
        let report = MetaAnalysis(options: options).report(items: items, votes: votes)
        // Keep the run facts of a score run's report.json (they cannot be recomputed from votes).
        var json = try RecordEncoding.value(report, record: "the report", file: dir + "/report.json")
        if case .object(var o) = json, let facts = existing?["run"] {
            o["run"] = facts
            json = .object(o)
        }
        try run.writeJSON("report.json", json)
        try run.write(
            "report.md",
            ReportText.markdown(
                report, title: "judgepanel report", header: ["items: \(itemsPath)", "votes: \(run.votesPath)"]))
        let costs = votes.compactMap(\.costUSD)
        let rubric = config?.rubric.flatMap { r in r.id.map { id in "\(id) (\(r.protocol ?? ""))" } }
        var panel = config?.panel?.judges.map { $0.map(\.name).joined(separator: ", ") }
        if let src = config?.panel?.source, !src.isEmpty, let p = panel { panel = "\(src) — \(p)" }
        let ctx = HTMLReport.Context(
            title: "judgepanel report", dataset: "\(itemsPath) (\(items.count) items)", rubric: rubric, panel: panel,
            cost: costs.isEmpty ? nil : costs.reduce(0, +),
            date: existing?["run"]?["started"]?.stringValue ?? modified(run.votesPath),
            items: items, votes: votes, analysis: options)
        try run.write("report.html", HTMLReport.render(report: report, context: ctx))
        return Regenerated(files: ["report.json", "report.md", "report.html"], report: report)
    }

    /// `report DIR` for a score run: reads the items as the run did (path, `--map`/`--label-map` from config.json,
    /// checked against the recorded hash unless another items file is given) and rewrites every report file.
    static func rebuildScoreRun(_ run: RunDirectory, config: RunConfig, itemsPath override: String?) throws
        -> Regenerated
    {
        let configPath = run.url.appendingPathComponent("config.json").path
        guard let itemsPath = override ?? config.items else {
            throw JudgePanelError.badInput("no items file recorded (pass --items)", file: configPath)
        }
        if override == nil, let recorded = config.itemsSHA256,
            let now = try ScoreJob.fileHash(itemsPath), now != recorded
        {
            throw JudgePanelError.badInput(
                "the items file changed since the run (SHA-256 \(now.prefix(12))…, the run read \(recorded.prefix(12))…); "
                    + "pass --items with the run's items", file: itemsPath)
        }
        let loader = ItemLoader(mapping: config.mapping)
        let files: ScoreFiles
        // A shard's run reads only that shard's items, as the run did.
        let shard = try Shard.recorded(in: config, file: configPath)
        var keep: (@Sendable (Item) -> Bool)?
        if let shard { keep = { item in shard.contains(item.id) } }
        if config.policy != nil {
            // A scheduled run's verdicts and summary are replayed from its votes under the recorded policy, which
            // reads the items (without their texts).
            let items = try loader.loadForAnalysis(path: itemsPath, keep: keep)
            let policy = try ScoreJob.rebuiltPolicy(
                config: config, items: items, votesPath: run.votesPath, configPath: configPath)
            files = try writeScoreRun(run, config: config, source: .loaded(items), policy: policy)
        } else {
            // Only the columns the analysis reads are kept of the items.
            files = try writeScoreRun(
                run, config: config, source: .file(path: itemsPath, loader: loader, count: nil, keep: keep))
        }
        return Regenerated(files: ["verdicts.jsonl", "report.json", "report.md", "report.html"], report: files.report)
    }

    static func modified(_ path: String) -> String? {
        guard let d = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date else {
            return nil
        }
        return ISO8601DateFormatter().string(from: d)
    }
}

extension ScoreJob {
    /// The items for the run's analysis: those held, or for a streamed job the items file read once more into the
    /// analysis's columns (no `Item` per item held).
    var analysisSource: RunReports.AnalysisItems {
        guard let source = itemsSource else { return .loaded(items) }
        return .file(path: itemsPath, loader: source.loader, count: source.count, keep: itemFilter)
    }
}
