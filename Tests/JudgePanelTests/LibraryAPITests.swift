import Foundation
import JudgePanel
import JudgePanelTesting
import Testing

@Suite("The README's library example")
struct LibraryAPITests {
    @Test("judge one item with a panel and rubric loaded from files, against the fake server")
    func readmeExample() async throws {
        let server = try await startPanelFake(["m": { _ in .text("B is wrong. [[A]]") }])
        let dir = try tempDir("api")
        let panelPath = dir.appendingPathComponent("panel.yaml").path
        try
            "version: 1\njudges:\n  - {name: j, provider: openai, model: m, base_url: \"\(await server.baseURL.absoluteString)/v1\"}\n"
            .write(toFile: panelPath, atomically: true, encoding: .utf8)
        // The README snippet's calls with test options (the snippet as printed runs in DocSnippetTests).
        let panel = try Panel.load(path: panelPath)
        let rubric = try Rubric.load(path: panelTestRoot.appendingPathComponent("rubrics/pairwise-mtbench.yaml").path)
        let runner = PanelRunner(panel: panel, rubric: rubric, options: panelTestOptions)
        let result = try await runner.judge(Item(id: "1", prompt: "2+2?", responseA: "4", responseB: "5"))
        await server.stop()
        // "[[A]]" in both orders: A first, then B first — a flip, reconciled to a tie under flip: tie.
        #expect(result.votes.count == 2)
        #expect(result.votes.map(\.verdict) == [.a, .b])
        #expect(result.verdict.verdict == .tie)
        #expect(result.verdict.flips == ["j"])
    }

    @Test("judge(items:) streams results for an async sequence")
    func streaming() async throws {
        let server = try await startPanelFake(["m": { _ in .text("[[B]]") }])
        let panel = await fakePanel(server, judges: ["m"], swap: false)
        let runner = PanelRunner(panel: panel, rubric: try loadRubric("pairwise-mtbench"), options: panelTestOptions)
        let items = AsyncStream<Item> { c in
            for i in 0..<5 { c.yield(Item(id: "i\(i)", prompt: "q", responseA: "a", responseB: "b")) }
            c.finish()
        }
        var ids: [String] = []
        for try await r in runner.judge(items: items) {
            #expect(r.verdict.verdict == .b)
            ids.append(r.item.id)
        }
        await server.stop()
        #expect(ids.sorted() == ["i0", "i1", "i2", "i3", "i4"])
    }
}
