import Foundation
import JudgePanelCore
import JudgeStats

/// The per-item test cases of `--junit-items`: each item whose `expect` field (top level, or `meta.expect`) or
/// human label states what the panel should say, checked against the panel's verdict or score.
package enum ItemChecks {
    package typealias Check = (id: String, expected: ItemExpectation, source: String, passed: Bool, got: String)

    /// Each item's expectation, in file order: `expect` first, else the consensus human label.
    package static func expectations(itemsPath: String, loader: ItemLoader) throws -> [(
        id: String, expected: ItemExpectation, source: String
    )] {
        // `expect` is not an item field the loader keeps: read it from the raw lines (ids as the loader reads them).
        var expect: [Int: ItemExpectation] = [:]
        let reader = try LineReader(path: itemsPath)
        while let (number, line) = try reader.next() {
            guard line.contains("\"expect\"") else { continue }
            let value: JSONValue
            do { value = try JSONValue(jsonData: Data(line.utf8)) } catch { continue }  // the loader reports bad lines
            let raw = value["expect"] ?? value["meta"]?["expect"]
            guard let raw else { continue }
            do {
                if let e = try ItemExpectation.parse(raw) { expect[number] = e }
            } catch let f as ItemExpectation.Failure {
                throw JudgePanelError.badInput(f.why, file: itemsPath, line: number)
            }
        }
        let items = try loader.load(path: itemsPath)
        return items.compactMap { item in
            if let e = expect[item.line] { return (item.id, e, "expect") }
            if let label = item.label, let e = ItemExpectation.from(label: label) { return (item.id, e, "human label") }
            return nil
        }
    }

    /// Checks the expectations against the panel's verdicts (by item id); an item without a verdict fails.
    package static func check(
        _ expectations: [(id: String, expected: ItemExpectation, source: String)], verdicts: [String: Verdict]
    ) -> [Check] {
        expectations.map { e in
            let v = verdicts[e.id]
            let (passed, got) =
                v.map { e.expected.check(verdict: $0.verdict, score: $0.score) } ?? (false, "no verdict (not judged)")
            return (e.id, e.expected, e.source, passed, got)
        }
    }

    /// Reads a run directory's verdicts.jsonl into a map by item (variants of probe runs are skipped).
    package static func verdicts(path: String) throws -> [String: Verdict] {
        let reader = try LineReader(path: path)
        let decoder = JSONDecoder()
        var out: [String: Verdict] = [:]
        while let (number, line) = try reader.next() {
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            do {
                let v = try decoder.decode(Verdict.self, from: Data(line.utf8))
                if v.variant == nil { out[v.item] = v }
            } catch {
                throw JudgePanelError.badInput("invalid verdict line", file: path, line: number)
            }
        }
        return out
    }
}
