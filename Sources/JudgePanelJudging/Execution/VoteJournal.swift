import Foundation
import JudgePanelCore
import JudgePanelProviders

/// The append-only journal of a run (`journal.jsonl` in the run directory): every finished call is written
/// at once, so a killed run resumes without repeating finished calls.
package actor VoteJournal {
    private let handle: FileHandle
    package nonisolated let path: String
    /// Sees each vote's line (without its newline) once it is written (`serve`'s `vote` notifications).
    private let observer: (@Sendable (String) -> Void)?

    /// Opens (creating if needed) the journal for appending; `observer` sees each line once it is written.
    package init(path: String, observer: (@Sendable (String) -> Void)? = nil) throws {
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw JudgePanelError.io("cannot create journal", file: path)
            }
        }
        guard let h = FileHandle(forWritingAtPath: path) else {
            throw JudgePanelError.io("cannot open journal", file: path)
        }
        h.seekToEndOfFile()
        handle = h
        self.path = path
        self.observer = observer
    }

    /// Appends one vote as a JSON line (one `write` of the whole line).
    ///
    /// - Throws: ``JudgePanelError`` naming the vote when it cannot be encoded, or when the write fails.
    package func append(_ vote: Vote) throws {
        let line = try VotesFile.line(vote)
        do {
            try handle.write(contentsOf: Data((line + "\n").utf8))
        } catch {
            throw JudgePanelError.io("cannot append \(vote.recordName): \(error.localizedDescription)", file: path)
        }
        observer?(line)
    }

    package func close() {
        try? handle.synchronize()
        try? handle.close()
    }

    /// Votes already finished (ok or abstain) in an existing journal, by key; error votes are retried.
    /// A truncated last line (a run killed mid-write) is ignored.
    package static func completed(path: String) throws -> [String: Vote] {
        guard FileManager.default.fileExists(atPath: path) else { return [:] }
        let votes = try VotesFile.load(path: path, tolerateTruncatedTail: true)
        var out: [String: Vote] = [:]
        for v in votes where v.status != .error { out[v.key] = v }
        return out
    }
}
