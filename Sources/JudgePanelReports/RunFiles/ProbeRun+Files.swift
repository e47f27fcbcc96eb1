import Foundation
import JudgePanelAggregation
import JudgePanelAnalysis
import JudgePanelCore

extension ProbeRun {
    /// Writes report.json, report.md, votes.jsonl, verdicts.jsonl (baseline) and perturbations.jsonl.
    package func write(to dir: String) throws {
        let url = URL(fileURLWithPath: dir)
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw JudgePanelError.io("cannot create run directory: \(error.localizedDescription)", file: dir)
        }
        func put(_ name: String, _ text: String) throws {
            let target = url.appendingPathComponent(name)
            do {
                try Data(text.utf8).write(to: target, options: .atomic)
            } catch {
                throw JudgePanelError.io("cannot write: \(error.localizedDescription)", file: target.path)
            }
        }
        func lines<T: Encodable>(_ xs: [T], _ name: (T) -> String) throws -> String {
            try xs.map { try RecordEncoding.line($0, record: name($0)) + "\n" }.joined()
        }
        let reportData = try RecordEncoding.data(
            report, record: "the probe report", file: dir + "/report.json", pretty: true)
        try put("report.json", String(decoding: reportData, as: UTF8.self) + "\n")
        try put("report.md", markdown)
        try put("report.html", try HTMLReport.probe(self))
        try put("votes.jsonl", try votes.map { try VotesFile.line($0) + "\n" }.joined())
        try put("verdicts.jsonl", try lines(baseline.map(\.panel)) { $0.recordName })
        try put("perturbations.jsonl", try lines(perturbations) { "perturbation of item '\($0.item)' (\($0.probe))" })
    }
}
