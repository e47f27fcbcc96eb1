import Foundation
import JudgePanelAggregation
import JudgePanelCore
import JudgePanelJudging

/// Per-item checklists on disk (`checklists.jsonl`: one `{"item": ID, "questions": [...]}` a line),
/// editable and reusable with `--checklists FILE`.
package enum ChecklistStore {
    package static func load(path: String) throws -> [String: [String]] {
        guard FileManager.default.fileExists(atPath: path) else {
            throw JudgePanelError.badInput("no such file", file: path)
        }
        let reader = try LineReader(path: path)
        var out: [String: [String]] = [:]
        while let (n, line) = try reader.next() {
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            guard let v = try? JSONValue(jsonData: Data(line.utf8)), let id = v["item"]?.textValue, !id.isEmpty,
                let qs = v["questions"]?.arrayValue?.compactMap(\.stringValue), !qs.isEmpty
            else {
                throw JudgePanelError.badInput("expected {\"item\": ID, \"questions\": [\"...\"]}", file: path, line: n)
            }
            out[id] = qs
        }
        return out
    }

    package static func save(_ checklists: [String: [String]], order: [String], to path: String) throws {
        let lines = order.compactMap { id in
            checklists[id].map { qs in
                VotesFile.encodeLine(
                    JSONValue.object(["item": .string(id), "questions": .array(qs.map { .string($0) })]))
            }
        }
        do {
            try Data((lines.joined(separator: "\n") + "\n").utf8).write(
                to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw JudgePanelError.io("cannot write checklists: \(error.localizedDescription)", file: path)
        }
    }
}

extension VotesFile {
    static func encodeLine(_ v: JSONValue) -> String {
        String(decoding: v.data, as: UTF8.self)
    }
}
