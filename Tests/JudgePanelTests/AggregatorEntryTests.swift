import Foundation
import JudgePanel
import JudgePanelTesting
import JudgeStats
import Testing

/// Every caller aggregates through `Aggregator.aggregate(items:judges:verdicts:kind:)`; a joint method
/// (Dawid–Skene) must not be silently replaced by the per-item majority anywhere, the stream included.
@Suite("One Aggregator entry point for every method")
struct AggregatorEntryTests {
    /// Each judge's answer per item: m1 and m2 mostly agree, m3 mostly contradicts them, so Dawid–Skene learns
    /// that m3 is anti-informative and overrules the plain majority where m3 is in it (items 3 and 4).
    static let answers: [String: [Preference]] = [
        "m1": [.a, .a, .b, .b, .a, .b, .a, .b],
        "m2": [.a, .a, .b, .a, .b, .b, .a, .b],
        "m3": [.b, .b, .a, .a, .b, .a, .b, .a],
    ]

    static func items() -> [Item] {
        (0..<8).map { Item(id: "i\($0)", prompt: "question-\($0)?", responseA: "a", responseB: "b") }
    }

    static func server() async throws -> FakeProviderServer {
        var handlers: [String: FakeHandler] = [:]
        for (model, prefs) in answers {
            handlers[model] = { request in
                let text = request.promptText
                guard let i = (0..<prefs.count).first(where: { text.contains("question-\($0)?") }) else {
                    return .status(400, body: "{\"error\":{\"message\":\"unknown item\"}}")
                }
                return .text("[[\(prefs[i].rawValue)]]")
            }
        }
        return try await startPanelFake(handlers)
    }

    @Test("dawid-skene through aggregate(items:) differs from per-item majority on this table")
    func jointDiffersFromMajority() {
        let judges = ["m1", "m2", "m3"]
        let table = (0..<8).map { i in judges.map { JudgeVerdict(verdict: Self.answers[$0]![i]) } }
        let ids = (0..<8).map { "i\($0)" }
        let ds = Aggregator(method: .dawidSkene).aggregate(items: ids, judges: judges, verdicts: table, kind: .pairwise)
        let majority = Aggregator(method: .majority).aggregate(
            items: ids, judges: judges, verdicts: table, kind: .pairwise)
        #expect(Aggregator(method: .dawidSkene).isJoint)
        #expect(!Aggregator(method: .majority).isJoint)
        #expect(ds.verdicts.map(\.verdict) != majority.verdicts.map(\.verdict))
        #expect(Set(ds.judgeAccuracy.keys) == Set(judges))
        #expect(majority.judgeAccuracy.isEmpty)
        // The plain majority of items 3 and 4 follows m2 + m3; Dawid–Skene follows m1.
        #expect(majority.verdicts[3].verdict == .a && majority.verdicts[4].verdict == .b)
        #expect(ds.verdicts[3].verdict == .b && ds.verdicts[4].verdict == .a)
    }

    @Test("streaming judge(items:) applies dawid-skene, like run(items:) and the Aggregator on the same verdicts")
    func streamingAppliesDawidSkene() async throws {
        let server = try await Self.server()
        let panel = await fakePanel(server, judges: ["m1", "m2", "m3"], swap: false, aggregate: .dawidSkene)
        let runner = PanelRunner(panel: panel, rubric: try loadRubric("pairwise-mtbench"), options: panelTestOptions)
        let items = Self.items()
        let stream = AsyncStream<Item> { c in
            for item in items { c.yield(item) }
            c.finish()
        }
        var streamed: [ItemResult] = []
        for try await r in runner.judge(items: stream) { streamed.append(r) }
        let batch = try await runner.run(items: items)
        await server.stop()

        #expect(streamed.map(\.item.id) == items.map(\.id))
        let judges = ["m1", "m2", "m3"]
        let table = streamed.map { r in judges.map { r.judgeVerdicts[$0] ?? JudgeVerdict() } }
        let expected = Aggregator(method: .dawidSkene).aggregate(
            items: items.map(\.id), judges: judges, verdicts: table, kind: .pairwise)
        #expect(streamed.map(\.verdict.verdict) == expected.verdicts.map(\.verdict))
        #expect(streamed.map(\.verdict.confidence) == expected.verdicts.map(\.confidence))
        #expect(streamed.map(\.verdict.verdict) == batch.verdicts.map(\.verdict))
        // What the stream gave before: each item's own majority — not what dawid-skene decides here.
        #expect(streamed[3].verdict.verdict == .b && streamed[4].verdict.verdict == .a)
    }
}
