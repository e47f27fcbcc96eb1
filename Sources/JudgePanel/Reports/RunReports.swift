import Foundation
import JudgeStats

/// Writes and regenerates a run directory's reports (report.json, report.md, report.html) — the latter from the
/// recorded votes alone, with no model call.
public enum RunReports {
    /// report.html of a finished `score` run.
    public static func writeScoreHTML(
        _ dir: RunDirectory, report: MetaReport, items: [Item], votes: [Vote], itemsPath: String, rubric: Rubric, panel: Panel,
        analysis: MetaAnalysis.Options, started: Date
    ) throws {
        let costs = votes.compactMap(\.costUSD)
        let ctx = HTMLReport.Context(
            title: "judgepanel score report", dataset: "\(itemsPath) (\(items.count) items)",
            rubric: "\(rubric.id) (\(rubric.kind.rawValue))",
            panel: "\(panel.source ?? "(in code)") — \(panel.judges.map(\.name).joined(separator: ", "))",
            cost: costs.isEmpty ? nil : costs.reduce(0, +), date: ISO8601DateFormatter().string(from: started), items: items,
            votes: votes, analysis: analysis)
        try dir.write("report.html", HTMLReport.render(report: report, context: ctx))
    }

    /// report.html of a probe run (no human-label analysis: the probes, with the run's facts).
    public static func probeHTML(_ run: ProbeRun) -> String {
        let json = JSONValue(encoding: run.report) ?? .null
        let costs = run.votes.compactMap(\.costUSD)
        let ctx = HTMLReport.Context(
            title: "judgepanel probe report", dataset: "\(run.items) items", rubric: run.rubric,
            panel: run.judges.joined(separator: ", "), cost: costs.isEmpty ? nil : costs.reduce(0, +),
            date: ISO8601DateFormatter().string(from: Date()), probes: json,
            extra: [("Seed", String(run.seed)), ("Probes", run.probes.map(\.name).joined(separator: ", "))])
        return HTMLReport.render(report: nil, context: ctx)
    }

    /// What `regenerate` wrote.
    public struct Regenerated: Sendable {
        public var files: [String]
        public var report: MetaReport?
    }

    /// Regenerates report.json, report.md and report.html of a run directory from its votes.jsonl (and the items
    /// file named in config.json, or `itemsPath`). A probe run directory (report.json with `probes`) keeps its
    /// report.json/report.md and gets report.html from them.
    public static func regenerate(dir: String, itemsPath: String? = nil) throws -> Regenerated {
        let run = RunDirectory(path: dir)
        let fm = FileManager.default
        let existing = fm.contents(atPath: dir + "/report.json").flatMap { try? JSONValue.parse($0) }
        var config: JSONValue?
        if let data = fm.contents(atPath: dir + "/config.json") { config = try? JSONValue.parse(data) }
        let itemsPath = itemsPath ?? config?["items"]?.stringValue
        if let existing, existing["probes"] != nil, itemsPath == nil {
            let ctx = HTMLReport.Context(
                title: "judgepanel probe report", dataset: existing["n_items"].map { "\($0.textValue) items" },
                rubric: existing["rubric"]?.stringValue,
                panel: existing["judges"]?.arrayValue?.map(\.textValue).joined(separator: ", "), date: modified(run.votesPath),
                probes: existing)
            try run.write("report.html", HTMLReport.render(report: nil, context: ctx))
            return Regenerated(files: ["report.html"], report: nil)
        }
        var options = MetaAnalysis.Options()
        if let config {
            if let f = config["panel"]?["flip"]?.stringValue, let flip = FlipPolicy(rawValue: f) { options.flip = flip }
            if let a = config["panel"]?["aggregate"]?.stringValue, let agg = AggregationMethod(rawValue: a) { options.aggregate = agg }
            options.judgeOrder = config["panel"]?["judges"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        }
        guard let itemsPath else { throw JudgePanelError.usage("no items file: pass --items (no config.json in \(dir))") }
        let items = try ItemLoader().load(path: itemsPath)
        let votes = try VotesFile.load(path: run.votesPath)
        let report = MetaAnalysis(options: options).report(items: items, votes: votes)
        // Keep the run facts of a score run's report.json (they cannot be recomputed from votes).
        var json = JSONValue(encoding: report) ?? .object([:])
        if case .object(var o) = json, let facts = existing?["run"] {
            o["run"] = facts
            json = .object(o)
        }
        try run.writeJSON("report.json", json)
        try run.write(
            "report.md", ReportText.markdown(report, title: "judgepanel report", header: ["items: \(itemsPath)", "votes: \(run.votesPath)"]))
        let costs = votes.compactMap(\.costUSD)
        let rubric = config?["rubric"].flatMap { r in r["id"]?.stringValue.map { id in "\(id) (\(r["protocol"]?.textValue ?? ""))" } }
        var panel = config?["panel"]?["judges"]?.arrayValue?.compactMap { $0["name"]?.stringValue }.joined(separator: ", ")
        if let src = config?["panel"]?["source"]?.stringValue, !src.isEmpty, let p = panel { panel = "\(src) — \(p)" }
        let ctx = HTMLReport.Context(
            title: "judgepanel report", dataset: "\(itemsPath) (\(items.count) items)", rubric: rubric, panel: panel,
            cost: costs.isEmpty ? nil : costs.reduce(0, +), date: existing?["run"]?["started"]?.stringValue ?? modified(run.votesPath),
            items: items, votes: votes, analysis: options)
        try run.write("report.html", HTMLReport.render(report: report, context: ctx))
        return Regenerated(files: ["report.json", "report.md", "report.html"], report: report)
    }

    static func modified(_ path: String) -> String? {
        guard let d = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date else { return nil }
        return ISO8601DateFormatter().string(from: d)
    }
}
