import Foundation
import JudgePanelAnalysis
import JudgePanelCore

/// A `score` (or `merge`) run's report.json: the analysis report (``/JudgePanelAnalysis/MetaReport``'s keys at the
/// top level), the run's facts under `run` (``RunFacts``, `null` when the run recorded none) and the panel's verdicts
/// in shares under `verdicts` (gate paths such as `verdicts.share.A`). What the file holds comes from
/// ``json(file:)`` (written by ``/JudgePanel/RunReports``) and is read back by ``read(dir:)``; report.json carries `schema_version` beside the report's
/// keys (README "The run directory"); a file without it was written before it existed and reads as version 1.
package struct ScoreReportFile: Codable, Sendable {
    /// The analysis report.
    package var report: MetaReport
    /// The run's facts, as config.json records them.
    package var run: RunFacts?
    /// `verdicts`: `n`, and `share` of A, B, tie and abstained (pairwise) or `mean_score` (scores).
    package var verdicts: JSONValue

    package init(report: MetaReport, run: RunFacts?, verdicts: JSONValue) {
        self.report = report
        self.run = run
        self.verdicts = verdicts
    }

    /// The file as it is written (keys sorted when printed); throws naming `file` where a value does not encode.
    package func json(file: String? = nil) throws -> JSONValue {
        var json = try RecordEncoding.value(report, record: "the report", file: file)
        if case .object(var o) = json {
            o["run"] = try run?.json ?? .null
            o["verdicts"] = verdicts
            o["schema_version"] = .number(Double(RunConfig.currentSchemaVersion))
            json = .object(o)
        }
        return json
    }

    package init(from decoder: any Decoder) throws {
        report = try MetaReport(from: decoder)
        let c = try decoder.container(keyedBy: RunFileKey.self)
        run = try c.field("run")
        verdicts = try c.field("verdicts") ?? .null
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(try json())
    }

    /// Reads `dir`'s report.json: nil when there is none; a file that is not a score run's report is refused naming
    /// the file (exit 2).
    package static func read(dir: String) throws -> ScoreReportFile? {
        try RunFiles.read(
            ScoreReportFile.self, path: RunFiles.path(dir, "report.json"), current: RunConfig.currentSchemaVersion,
            what: "report.json")
    }
}
