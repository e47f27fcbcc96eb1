import Foundation
import JudgePanelAggregation
import JudgePanelAnalysis
import JudgePanelCore

/// Writes a run directory: votes.jsonl, verdicts.jsonl, report.json, report.md (and the resolved config).
/// Files are written to temporary names and renamed, so a failed write leaves no half file.
package struct RunDirectory: Sendable {
    package let url: URL

    package init(path: String) {
        url = URL(fileURLWithPath: path)
    }

    package var journalPath: String { url.appendingPathComponent("journal.jsonl").path }
    package var votesPath: String { url.appendingPathComponent("votes.jsonl").path }

    package func create() throws {
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw JudgePanelError.io("cannot create run directory: \(error.localizedDescription)", file: url.path)
        }
    }

    /// Writes a file atomically.
    package func write(_ name: String, _ text: String) throws {
        let target = url.appendingPathComponent(name)
        do {
            try Data(text.utf8).write(to: target, options: .atomic)
        } catch {
            throw JudgePanelError.io("cannot write: \(error.localizedDescription)", file: target.path)
        }
    }

    func writeVotes(_ votes: [Vote]) throws {
        try write("votes.jsonl", try votes.map(VotesFile.line).joined(separator: "\n") + (votes.isEmpty ? "" : "\n"))
    }

    package func writeVerdicts(_ verdicts: [Verdict]) throws {
        let target = url.appendingPathComponent("verdicts.jsonl").path
        let writer = try JSONLinesWriter(path: url.appendingPathComponent(".verdicts.jsonl.partial").path)
        do {
            for v in verdicts { try writer.append(VerdictsFile.line(v)) }
            try writer.finish(renamingTo: target)
        } catch {
            writer.discard()
            throw error
        }
    }

    package func writeJSON<T: Encodable>(_ name: String, _ value: T) throws {
        let data = try RecordEncoding.data(
            value, record: name, file: url.appendingPathComponent(name).path, pretty: true)
        try write(name, String(decoding: data, as: UTF8.self) + "\n")
    }
}
