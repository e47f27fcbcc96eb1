import Foundation
import Testing

@testable import JudgePanel
@testable import JudgePanelAggregation
@testable import JudgePanelAnalysis
@testable import JudgePanelCore
@testable import JudgePanelJudging
@testable import JudgePanelProviders
@testable import JudgePanelReports

@Suite("The duplicate-id check keeps hashes, never reports a collision as a duplicate")
struct ItemIDCheckTests {
    func write(_ ids: [String]) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("jp-ids-\(UUID().uuidString).jsonl")
            .path
        let lines = ids.map { #"{"id": "\#($0)", "prompt": "p", "response": "r"}"# }
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("every id hashing alike: distinct ids load, a true duplicate is named with its first line")
    func collidingHashes() throws {
        let colliding = ItemLoader(mapping: ItemMapping(), idHash: { _ in 42 })
        let distinct = try write((0..<50).map { "item-\($0)" })
        #expect(try colliding.load(path: distinct).map(\.id) == (0..<50).map { "item-\($0)" })
        let dup = try write(["x", "y", "z", "y", "w"])
        do {
            _ = try colliding.load(path: dup)
            Issue.record("a duplicate id loaded")
        } catch let e as JudgePanelError {
            #expect(e.line == 4)
            #expect(e.description.contains("duplicate id 'y' (first on line 2)"), "\(e.description)")
        }
        // The default hash agrees.
        #expect(throws: JudgePanelError.self) { _ = try ItemLoader().load(path: dup) }
        #expect(try ItemLoader().load(path: distinct).count == 50)
    }
}
