import Foundation
import JudgePanelAggregation
import JudgePanelAnalysis
import JudgePanelCore
import JudgePanelJudging
import JudgePanelProviders
import JudgePanelReports

/// One batch of a run: which calls it holds (global call indices, as ranges), the input file written for it,
/// and — as they come into existence — the uploaded file id and the provider's batch id.
package struct BatchChunk: Sendable {
    package var label: String
    package var judge: String
    package var provider: String
    /// Global call indices (plan order over items × judges × orders × samples), as half-open ranges.
    package var ranges: [Range<Int>]
    package var requests: Int
    package var bytes: Int
    /// The input file, relative to the run directory.
    package var file: String
    package var fileID: String?
    /// When the create request was about to be sent (seconds since 1970): the window in which an
    /// unjournaled batch may have been created.
    var creatingAt: Double?
    package var batchID: String?
    package var collected = false
    var finalState: String?
    /// Error votes in the collected batch's votes file (nil for a chunk collected before this was recorded).
    package var errors: Int?

    package func contains(_ index: Int) -> Bool { ranges.contains { $0.contains(index) } }
}

/// `batches.jsonl` in the run directory: an append-only, fsynced log of every batch event, written the moment
/// each thing exists — the chunk (before upload), the uploaded file id (before the batch is created), the
/// intent to create, the batch id, and collection. `--resume` and `judgepanel batches` read it back.
///
/// Lines: `{"event":"run","run_id"}`, `{"event":"chunk","label","judge","provider","ranges","requests","bytes","file"}`,
/// `{"event":"uploaded","label","file_id"}`, `{"event":"creating","label","at"}`,
/// `{"event":"created","label","batch_id","adopted"?}`, `{"event":"collected","label","state","succeeded","failed","errors"}`,
/// `{"event":"unmapped","label","custom_id","detail"}`.
package final class BatchLedger: @unchecked Sendable {
    package static let fileName = "batches.jsonl"

    package let path: String
    private(set) var runID: String
    package private(set) var chunks: [BatchChunk] = []
    private let lock = NSLock()
    private let handle: FileHandle

    /// Opens (creating) the ledger of a run directory, reading what it already holds.
    package init(dir: RunDirectory) throws {
        try dir.create()
        path = dir.url.appendingPathComponent(Self.fileName).path
        var runID: String?
        var chunks: [BatchChunk] = []
        if let data = FileManager.default.contents(atPath: path) {
            (runID, chunks) = try Self.parse(data, path: path)
        } else if !FileManager.default.createFile(atPath: path, contents: nil) {
            throw JudgePanelError.io("cannot create batch ledger", file: path)
        }
        guard let h = FileHandle(forWritingAtPath: path) else {
            throw JudgePanelError.io("cannot open batch ledger", file: path)
        }
        h.seekToEndOfFile()
        handle = h
        self.chunks = chunks
        self.runID = runID ?? ""
        if runID == nil {
            self.runID =
                "jp" + String(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16)).lowercased()
            try append(["event": "run", "run_id": .string(self.runID)])
        }
    }

    /// Reads an existing ledger without opening it for writing (`judgepanel batches`).
    package static func read(dir: RunDirectory) throws -> (runID: String?, chunks: [BatchChunk]) {
        let path = dir.url.appendingPathComponent(fileName).path
        guard let data = FileManager.default.contents(atPath: path) else {
            throw JudgePanelError.badInput("no batches in this run directory (\(fileName) is missing)", file: path)
        }
        return try parse(data, path: path)
    }

    package static func parse(_ data: Data, path: String) throws -> (String?, [BatchChunk]) {
        var runID: String?
        var chunks: [BatchChunk] = []
        var byLabel: [String: Int] = [:]
        let lines = data.split(separator: 10, omittingEmptySubsequences: false)
        for (n, raw) in lines.enumerated() where !raw.isEmpty {
            let json: JSONValue
            do {
                json = try JSONValue(jsonData: Data(raw))
            } catch {
                // A line cut by a kill is the last one; anything else is damage.
                if n == lines.count - 1 || (n == lines.count - 2 && lines.last?.isEmpty == true) { break }
                throw JudgePanelError.badInput("not JSON: \(error)", file: path, line: n + 1)
            }
            let label = json["label"]?.stringValue ?? ""
            switch json["event"]?.stringValue {
            case "run":
                runID = json["run_id"]?.stringValue
            case "chunk":
                let ranges = (json["ranges"]?.arrayValue ?? []).compactMap { r -> Range<Int>? in
                    guard let a = r[0]?.intValue, let b = r[1]?.intValue, a < b else { return nil }
                    return a..<b
                }
                byLabel[label] = chunks.count
                chunks.append(
                    BatchChunk(
                        label: label, judge: json["judge"]?.stringValue ?? "",
                        provider: json["provider"]?.stringValue ?? "",
                        ranges: ranges, requests: json["requests"]?.intValue ?? 0, bytes: json["bytes"]?.intValue ?? 0,
                        file: json["file"]?.stringValue ?? ""))
            case "uploaded":
                if let i = byLabel[label] { chunks[i].fileID = json["file_id"]?.stringValue }
            case "creating":
                if let i = byLabel[label] { chunks[i].creatingAt = json["at"]?.doubleValue }
            case "created":
                if let i = byLabel[label] { chunks[i].batchID = json["batch_id"]?.stringValue }
            case "collected":
                if let i = byLabel[label] {
                    chunks[i].collected = true
                    chunks[i].finalState = json["state"]?.stringValue
                    chunks[i].errors = json["errors"]?.intValue
                }
            case "unmapped":
                break
            default:
                throw JudgePanelError.badInput("unknown batch ledger event", file: path, line: n + 1)
            }
        }
        return (runID, chunks)
    }

    /// Appends one event and forces it to disk before returning.
    package func append(_ event: JSONValue) throws {
        let data = try event.compactData() + Data([10])
        try lock.withLock {
            do {
                try handle.write(contentsOf: data)
                try handle.synchronize()
            } catch {
                throw JudgePanelError.io("cannot append to the batch ledger: \(error.localizedDescription)", file: path)
            }
        }
    }

    func addChunk(_ chunk: BatchChunk) throws {
        try append([
            "event": "chunk", "label": .string(chunk.label), "judge": .string(chunk.judge),
            "provider": .string(chunk.provider),
            "ranges": .array(chunk.ranges.map { [.number(Double($0.lowerBound)), .number(Double($0.upperBound))] }),
            "requests": .number(Double(chunk.requests)), "bytes": .number(Double(chunk.bytes)),
            "file": .string(chunk.file),
        ])
        lock.withLock { chunks.append(chunk) }
    }

    package func update(_ label: String, event: JSONValue, _ change: (inout BatchChunk) -> Void) throws {
        try append(event)
        lock.withLock {
            if let i = chunks.firstIndex(where: { $0.label == label }) { change(&chunks[i]) }
        }
    }

    package var snapshot: [BatchChunk] { lock.withLock { chunks } }

    package func close() {
        try? handle.close()
    }
}
