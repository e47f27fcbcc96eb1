import Foundation
import JudgePanelAggregation
import JudgePanelAnalysis
import JudgePanelCore

extension HTMLReport {
    /// report.html of a probe run (no human-label analysis: the probes, with the run's facts).
    ///
    /// - Throws: ``JudgePanelError`` when the probe report cannot be encoded (a non-finite number).
    package static func probe(_ run: ProbeRun) throws -> String {
        let json = try RecordEncoding.value(run.report, record: "the probe report")
        let costs = run.votes.compactMap(\.costUSD)
        let ctx = HTMLReport.Context(
            title: "judgepanel probe report", dataset: "\(run.items) items", rubric: run.rubric,
            panel: run.judges.joined(separator: ", "), cost: costs.isEmpty ? nil : costs.reduce(0, +),
            date: ISO8601DateFormatter().string(from: Date()), probes: json,
            extra: [("Seed", String(run.seed)), ("Probes", run.probes.map(\.name).joined(separator: ", "))])
        return HTMLReport.render(report: nil, context: ctx)
    }
}
